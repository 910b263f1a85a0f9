"""Maximise robust accuracy with multivariate TPE.

    python examples/optuna_single_objective.py [--trials 100] [--benchmark NAME]
"""
from __future__ import annotations

import argparse

import optuna

from robbench_plugin import DEFAULT_BENCHMARK
from robbench_plugin.adapters.optuna import RobustNASProblem, make_sampler


def main(benchmark=DEFAULT_BENCHMARK, trials: int = 100, **load_kw):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    problem = RobustNASProblem(benchmark, objectives="robust", **load_kw)
    study = optuna.create_study(direction="maximize", sampler=make_sampler("tpe", seed=0))
    study.optimize(problem, n_trials=trials)
    print(f"best robust accuracy {study.best_value:.4f}: {study.best_trial.user_attrs['arch']}")
    return study


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=100)
    ap.add_argument("--benchmark", default=DEFAULT_BENCHMARK)
    ap.add_argument("--data-dir", default=None)
    a = ap.parse_args()
    main(a.benchmark, a.trials, **({"data_dir": a.data_dir} if a.data_dir else {}))
