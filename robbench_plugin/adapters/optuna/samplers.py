"""Optuna's samplers and pruners by the short names the package's commands take."""
from __future__ import annotations

import optuna

from ...errors import check_choice
from .. import OPTUNA_SAMPLERS

SAMPLERS = OPTUNA_SAMPLERS


def make_sampler(name: str, seed: int | None = None) -> "optuna.samplers.BaseSampler":
    """An Optuna sampler by short name (see :data:`SAMPLERS`); TPE is multivariate. Samplers that
    handle constraints (TPE, NSGA-II/III, GP) read the ones :class:`RobustNASProblem` sets on each
    trial with ``trial.set_constraint`` (Optuna >= 5.0)."""
    check_choice("sampler", name, SAMPLERS)
    s = optuna.samplers
    if name == "tpe":
        return s.TPESampler(seed=seed, multivariate=True)
    if name == "nsga2":
        return s.NSGAIISampler(seed=seed)
    if name == "nsga3":
        return s.NSGAIIISampler(seed=seed)
    if name == "gp":
        return s.GPSampler(seed=seed)
    if name == "bruteforce":
        return s.BruteForceSampler(seed=seed)
    if name == "cmaes":
        return s.CmaEsSampler(seed=seed)
    if name == "qmc":
        return s.QMCSampler(seed=seed)
    return s.RandomSampler(seed=seed)


PRUNERS = ("none", "median", "successive-halving", "hyperband")


def make_pruner(name: str) -> "optuna.pruners.BasePruner":
    """An Optuna pruner by short name (:data:`PRUNERS`); ``none`` never prunes. Pruning needs
    trials that report a curve (:class:`RobustNASProblem` with ``report_curve=True``)."""
    check_choice("pruner", name, PRUNERS)
    p = optuna.pruners
    if name == "median":
        return p.MedianPruner(n_startup_trials=2, n_warmup_steps=0)
    if name == "successive-halving":
        return p.SuccessiveHalvingPruner()
    if name == "hyperband":
        return p.HyperbandPruner()
    return p.NopPruner()
