"""Optuna's samplers and pruners by the short names the package's commands take."""
from __future__ import annotations

import optuna

from ...errors import check_choice
from .. import OPTUNA_SAMPLERS

SAMPLERS = OPTUNA_SAMPLERS
# short name -> class in optuna.samplers, built with the seed alone (TPE is built multivariate)
_SAMPLER_CLASSES = {"nsga2": "NSGAIISampler", "nsga3": "NSGAIIISampler", "gp": "GPSampler", "random": "RandomSampler",
                    "bruteforce": "BruteForceSampler", "cmaes": "CmaEsSampler", "qmc": "QMCSampler"}


def make_sampler(name: str, seed: int | None = None) -> "optuna.samplers.BaseSampler":
    """An Optuna sampler by short name (see :data:`SAMPLERS`); TPE is multivariate. Samplers that
    handle constraints (TPE, NSGA-II/III, GP) read the ones :class:`RobustNASProblem` sets on each
    trial with ``trial.set_constraint`` (Optuna >= 5.0)."""
    check_choice("sampler", name, SAMPLERS)
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed, multivariate=True)
    return getattr(optuna.samplers, _SAMPLER_CLASSES[name])(seed=seed)


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
