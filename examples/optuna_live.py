"""Live mode: every new architecture class is adversarially trained on digits (CPU is fine);
repeats come from the results store. Pruning works on the trainer's per-epoch callback.

    python examples/optuna_live.py [--trials 6] [--recipe quick]
"""
from __future__ import annotations

import argparse

import optuna

from robbench_plugin.adapters.optuna import RobustNASProblem, count_unique, make_sampler


def main(trials: int = 6, recipe: str = "quick", store_dir: str | None = None):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    from robbench_plugin.live import LiveBenchmark, ResultsStore

    bench = LiveBenchmark("digits", recipe, seed=0, device="auto",
                          store=ResultsStore(store_dir) if store_dir else None)
    problem = RobustNASProblem(bench, objectives="robust", report_curve=True)
    study = optuna.create_study(direction="maximize", sampler=make_sampler("random", seed=0),
                                pruner=optuna.pruners.MedianPruner(n_startup_trials=2))
    study.optimize(problem, n_trials=trials)
    print(f"{len(study.trials)} trials, {count_unique(study)} classes trained; best robust "
          f"{study.best_value:.3f}: {study.best_trial.user_attrs['arch']}")
    return study


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=6)
    ap.add_argument("--recipe", default="quick")
    a = ap.parse_args()
    main(a.trials, a.recipe)
