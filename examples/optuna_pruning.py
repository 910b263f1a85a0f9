"""Prune on learning curves: per-epoch robust accuracy is reported, Hyperband stops poor archs.

Needs a benchmark with epochs (an embedded benchmark, or a build directory).

    python examples/optuna_pruning.py [--trials 200]
"""
from __future__ import annotations

import argparse

import optuna

from robbench_plugin import DEFAULT_BENCHMARK
from robbench_plugin.adapters.optuna import RobustNASProblem, make_sampler


def main(benchmark=DEFAULT_BENCHMARK, trials: int = 200, **load_kw):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    problem = RobustNASProblem(benchmark, objectives="robust", report_curve=True, **load_kw)
    if not problem.spec.has_curves:
        raise SystemExit(f"{problem.benchmark.name} has one fidelity; pruning needs learning curves")
    # HyperbandPruner puts trials in brackets by a hash of the study's name: a named study repeats
    study = optuna.create_study(direction="maximize", sampler=make_sampler("tpe", seed=0), study_name="pruning",
                                pruner=optuna.pruners.HyperbandPruner(min_resource=1, max_resource=8))
    study.optimize(problem, n_trials=trials)
    states = [t.state for t in study.trials]
    epochs = sum(max(t.intermediate_values, default=0) if t.state == optuna.trial.TrialState.PRUNED
                 else problem.benchmark.fidelities[-1] for t in study.trials)
    full = len(study.trials) * problem.benchmark.fidelities[-1]
    print(f"{states.count(optuna.trial.TrialState.PRUNED)} of {len(states)} trials pruned; "
          f"{epochs} of {full} epochs trained; best robust {study.best_value:.4f}")
    return study


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--benchmark", default=DEFAULT_BENCHMARK)
    ap.add_argument("--data-dir", default=None)
    a = ap.parse_args()
    main(a.benchmark, a.trials, **({"data_dir": a.data_dir} if a.data_dir else {}))
