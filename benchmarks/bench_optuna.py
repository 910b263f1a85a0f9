"""Optuna adapter overhead: TPE, 1000 trials, our tabular objective against two baselines.

Two figures, each the median of ``--repeats`` alternating runs in one process (same sampler,
seed and search space):

* ``vs constant``: (time with our objective - time with a constant objective) / time with our
  objective. The two studies follow different trajectories (a constant objective gives TPE
  only ties), so this mixes the adapter's cost with the sampler's.
* ``vs lookup``: the baseline is a minimal objective written against a numpy array holding the
  same values (and, with ``--report-curve``, reporting the same per-epoch values), so both
  studies make identical decisions and the difference is what the adapter's code costs
  (parameter parsing, the table query, the user attributes it records).

With ``--report-curve`` every trial reports its robust accuracy per epoch and asks the pruner
(Optuna's default ``MedianPruner``); that work is Optuna's and is in both studies of ``vs
lookup`` but only in ours for ``vs constant``.

    python benchmarks/bench_optuna.py                       # the embedded default (Fashion-MNIST)
    python benchmarks/bench_optuna.py --benchmark digits    # another embedded benchmark
    python benchmarks/bench_optuna.py --report-curve        # with per-epoch reports and pruning
    python benchmarks/bench_optuna.py --synthetic           # synthetic release of full size
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

import numpy as np
import optuna

from robbench_plugin.adapters.optuna import RobustNASProblem, make_sampler
from robbench_plugin.loader import DEFAULT_BENCHMARK, EMBEDDED
from robbench_plugin.problem import EDGE_NAMES
from robbench_plugin.space import NUM_ARCHS, OPS, Arch


def timed(objective, trials: int) -> float:
    study = optuna.create_study(directions=["maximize"], sampler=make_sampler("tpe", seed=0))
    t = time.perf_counter()
    study.optimize(objective, n_trials=trials)
    return time.perf_counter() - t


def lookup_objective(problem: RobustNASProblem, report_curve: bool):
    """The same values as ``problem`` from plain arrays: the least any adapter has to do."""
    final = np.array([problem.spec.evaluate(i)[0] for i in range(NUM_ARCHS)])
    curves = [problem.spec.curve(i)[:-1] for i in range(NUM_ARCHS)] if report_curve else None
    index_of = {Arch.from_index(i).ops: i for i in range(NUM_ARCHS)}  # edge ops in EDGE_NAMES order -> index

    def objective(trial):
        index = index_of[tuple(trial.suggest_categorical(n, OPS) for n in EDGE_NAMES)]
        if curves is not None:
            for epoch, value in curves[index]:
                trial.report(value, step=epoch)
                if trial.should_prune():
                    raise optuna.TrialPruned()
        return float(final[index])

    return objective


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--report-curve", action="store_true", help="report per-epoch values (pruning)")
    ap.add_argument("--synthetic", action="store_true")
    ap.add_argument("--benchmark", default=DEFAULT_BENCHMARK, choices=sorted(EMBEDDED), help="an embedded benchmark")
    a = ap.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    kw = {"benchmark": a.benchmark}
    if a.synthetic:
        from robbench_plugin.synthetic import make_synthetic_release

        tmp = tempfile.mkdtemp()
        os.environ["ROBBENCH_HOME"] = tmp
        kw = {"benchmark": "nas-robbench-201", "data_dir": make_synthetic_release(tmp + "/rel")}
    problem = RobustNASProblem(objectives="robust", report_curve=a.report_curve, **kw)

    def constant(trial):
        for name in EDGE_NAMES:
            trial.suggest_categorical(name, OPS)
        return 0.5

    lookup = lookup_objective(problem, a.report_curve)
    times = {"constant": [], "lookup": [], "ours": []}
    for _ in range(a.repeats):
        for name, objective in (("constant", constant), ("lookup", lookup), ("ours", problem)):
            times[name].append(timed(objective, a.trials))
    med = {k: statistics.median(v) for k, v in times.items()}
    what = "with per-epoch reports" if a.report_curve else "final values only"
    print(f"TPE {a.trials} trials on {problem.benchmark.name} ({what}), median of {a.repeats}: "
          f"constant {med['constant']:.2f} s, lookup {med['lookup']:.2f} s, ours {med['ours']:.2f} s")
    print(f"overhead vs constant {(med['ours'] - med['constant']) / med['ours'] * 100:.1f}%, "
          f"vs lookup {(med['ours'] - med['lookup']) / med['ours'] * 100:.1f}% (goal <= 5%)")


if __name__ == "__main__":
    main()
