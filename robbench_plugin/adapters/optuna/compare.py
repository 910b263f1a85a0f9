"""The Optuna part of ``robbench compare``: what one of its searchers evaluates in a run.

Two kinds of searcher:

- a sampler alone (``tpe``, ``nsga2``, ... of :func:`~robbench_plugin.adapters.optuna.make_sampler`):
  ``budget`` trials, each trained to the last epoch;
- TPE with one of Optuna's own pruners at Optuna's defaults (:data:`PRUNED`): Optuna's way of
  multi-fidelity search. Each trial reports the objective after every recorded epoch before the last
  (``trial.report``) and stops where the pruner says; the run gets the simulated training time that
  ``budget`` full evaluations of the average cell take (:meth:`~robbench_plugin.objective.Benchmark.mean_train_time`),
  as Syne Tune's multi-fidelity schedulers do. Optuna prunes single-objective studies only.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import optuna
import pandas as pd

from ...errors import InvalidValueError
from .problem import RobustNASProblem
from .samplers import make_sampler

# compare's name -> Optuna pruner class (in optuna.pruners), built with Optuna's defaults: MedianPruner
# is what optuna.create_study uses when no pruner is given; HyperbandPruner is the one Optuna's
# tutorial "Efficient Optimization Algorithms" recommends with TPESampler (from its benchmarks)
PRUNED = {"tpe-median": "MedianPruner", "tpe-sha": "SuccessiveHalvingPruner", "tpe-hyperband": "HyperbandPruner"}


def study_name(name: str, seed: int) -> str:
    """The study's name in a run of pruned searcher ``name`` with ``seed``. It is part of what
    determines the run: Optuna's HyperbandPruner puts each trial in a bracket by a hash of the study
    name and trial number (an unnamed study gets a random name, and its runs do not repeat)."""
    return f"robbench-compare-optuna-{name}-{seed}"


def searcher_trace(name: str, bench: Any, objectives: Sequence[str], budget: int, seed: int,
                   table_seed: str = "mean") -> pd.DataFrame:
    """What Optuna's searcher ``name`` evaluates on ``bench`` in one ``robbench compare`` run, in
    order, on the table's ``table_seed``: ``index`` of every completed trial for a sampler alone;
    for a pruned searcher (:data:`PRUNED`) every trial, pruned or not, with ``epoch`` (the epoch it
    reached), ``epochs_trained`` and ``runtime`` (simulated seconds of training to that epoch)."""
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    if name not in PRUNED:
        problem = RobustNASProblem(bench, objectives=list(objectives), seed=table_seed)
        study = optuna.create_study(directions=problem.directions, sampler=make_sampler(name, seed=seed))
        study.optimize(problem, n_trials=budget)
        return pd.DataFrame({"index": [t.user_attrs["index"] for t in study.trials if t.state.name == "COMPLETE"]})
    if len(objectives) != 1:
        raise InvalidValueError(f"optuna:{name} prunes, and Optuna prunes single-objective studies only; the task "
                                f"has {len(objectives)} objectives")
    problem = RobustNASProblem(bench, objectives=list(objectives), seed=table_seed, report_curve=True)
    if not problem.spec.has_curves:
        raise InvalidValueError(f"optuna:{name} needs a benchmark with learning curves; {bench.name!r} has one fidelity")
    final = bench.final_fidelity(problem.spec.metrics[0])
    budget_time = budget * bench.mean_train_time()
    indices: list[int] = []
    epochs: list[int] = []
    spent: list[float] = []  # simulated seconds of each trial, in order

    def stop_at_budget(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        epoch = final if trial.state == optuna.trial.TrialState.COMPLETE else max(trial.intermediate_values)
        indices.append(trial.user_attrs["index"])
        epochs.append(epoch)
        spent.append(bench.train_time(indices[-1], epoch))
        if sum(spent) >= budget_time:
            study.stop()

    study = optuna.create_study(directions=problem.directions, sampler=make_sampler("tpe", seed=seed),
                                pruner=getattr(optuna.pruners, PRUNED[name])(), study_name=study_name(name, seed))
    study.optimize(problem, callbacks=[stop_at_budget])
    trace = pd.DataFrame({"index": indices, "epoch": np.array(epochs, dtype=np.int64),
                          "epochs_trained": np.array(epochs, dtype=np.int64), "runtime": spent})
    return trace[np.cumsum(spent) <= budget_time * (1 + 1e-9)].reset_index(drop=True)
