"""Optuna adapter overhead: TPE, 1000 trials, our tabular objective vs a constant objective.

overhead = (time with our objective - time with a constant objective) / time with our objective,
both studies in the same process with the same sampler, seed and search space.

    python benchmarks/bench_optuna.py                       # embedded digits benchmark
    python benchmarks/bench_optuna.py --synthetic           # synthetic release of full size
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time

import optuna

from robbench_plugin.adapters.optuna import RobustNASProblem, make_sampler
from robbench_plugin.problem import EDGE_NAMES
from robbench_plugin.space import OPS


def timed(objective, directions, trials):
    study = optuna.create_study(directions=directions, sampler=make_sampler("tpe", seed=0))
    t = time.perf_counter()
    study.optimize(objective, n_trials=trials)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=1000)
    ap.add_argument("--synthetic", action="store_true")
    a = ap.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    kw = {}
    if a.synthetic:
        from robbench_plugin.synthetic import make_synthetic_release

        tmp = tempfile.mkdtemp()
        os.environ["ROBBENCH_HOME"] = tmp
        kw = {"benchmark": "nas-robbench-201", "data_dir": make_synthetic_release(tmp + "/rel")}
    problem = RobustNASProblem(objectives="robust", **kw)

    def constant(trial):
        for name in EDGE_NAMES:
            trial.suggest_categorical(name, OPS)
        return 0.5

    t_const = timed(constant, ["maximize"], a.trials)
    t_ours = timed(problem, ["maximize"], a.trials)
    print(f"TPE {a.trials} trials on {problem.benchmark.name}: constant objective {t_const:.2f} s, "
          f"ours {t_ours:.2f} s; overhead {(t_ours - t_const) / t_ours * 100:.1f}% (goal <= 5%)")


if __name__ == "__main__":
    main()
