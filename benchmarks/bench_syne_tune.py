"""Syne Tune adapter overhead: wall time of a 1000-trial simulated MOASHA run on our blackbox vs
the same scheduler on a same-shape BlackboxTabular built directly with Syne Tune's API from
random numbers (same hyperparameters, fidelities, objectives and time columns), same process,
the same tuner poll interval (``--sleep`` simulated seconds) for both, median of ``--repeats``
alternating runs. Against random numbers the scheduler sees different values, so it stops
different trials and its own work differs (MOASHA's non-dominated sort is slower on the table's
tied accuracies, multiples of 1/300, than on distinct random floats); the time per reported
result is printed beside the wall time. A third blackbox holds our values, built directly with
Syne Tune's API. Syne Tune's simulator adds the real time the scheduler computes to the
simulated clock, so two runs make the same decisions only when their compute times agree; the
adapter's own work inside a simulation, the blackbox lookup, is therefore also timed directly
(``objective_function`` on 5000 random queries, ours vs the plain blackbox of the same values).

    python benchmarks/bench_syne_tune.py                   # the embedded default (Fashion-MNIST)
    python benchmarks/bench_syne_tune.py --benchmark digits  # another embedded benchmark
    python benchmarks/bench_syne_tune.py --synthetic       # multi-fidelity synthetic table
"""
from __future__ import annotations

import argparse
import contextlib
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from robbench_plugin.adapters.syne_tune import (METRIC_ROBUST_ERROR, METRIC_VALID_ERROR, fidelity_attr,
                                                load_blackbox, make_scheduler, simulate)
from robbench_plugin.loader import DEFAULT_BENCHMARK, EMBEDDED


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=1000)
    ap.add_argument("--synthetic", action="store_true")
    ap.add_argument("--benchmark", default=DEFAULT_BENCHMARK, choices=sorted(EMBEDDED), help="an embedded benchmark")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--workers", type=int, default=1,
                    help="simulated workers (with more than 1 the order of results, hence the decisions, "
                         "depends on real compute time)")
    ap.add_argument("--sleep", type=float, default=0.1, help="tuner poll interval, simulated s")
    a = ap.parse_args()
    logging.getLogger("syne_tune").setLevel(logging.ERROR)
    os.environ.setdefault("SYNETUNE_FOLDER", tempfile.mkdtemp())
    if a.synthetic:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from tests.helpers import curves_bench

        bench = curves_bench()
    else:
        bench = a.benchmark
    ours = load_blackbox(bench)
    from syne_tune.blackbox_repository.blackbox_tabular import BlackboxTabular

    rng = np.random.default_rng(0)
    ev = ours.objectives_evaluations
    fake = rng.uniform(0.1, 0.9, size=ev.shape).astype(np.float32)
    fake[..., -2] = rng.uniform(0.5, 2.0, size=ev.shape[:-1])  # runtime
    fake[..., -1] = np.cumsum(fake[..., -2], axis=2)  # elapsed
    theirs = BlackboxTabular(hyperparameters=ours.hyperparameters, configuration_space=ours.configuration_space,
                             fidelity_space=ours.fidelity_space, objectives_evaluations=fake,
                             fidelity_values=ours.fidelity_values, objectives_names=ours.objectives_names)
    # the same values in a BlackboxTabular built directly with Syne Tune's API (plain pandas
    # columns): the scheduler sees what it sees on ours (its decisions still differ between runs,
    # since the simulator's clock includes real compute time)
    same = BlackboxTabular(hyperparameters=pd.DataFrame({c: ours.hyperparameters[c].astype(object).to_numpy()
                                                         for c in ours.hyperparameters.columns}),
                           configuration_space=ours.configuration_space, fidelity_space=ours.fidelity_space,
                           objectives_evaluations=np.array(ev), fidelity_values=ours.fidelity_values,
                           objectives_names=ours.objectives_names)
    metrics = [METRIC_VALID_ERROR, METRIC_ROBUST_ERROR]
    # the adapter's own work inside a simulation is the blackbox lookup: time it directly
    rng_q = np.random.default_rng(1)
    queries = [(dict(ours.hyperparameters.iloc[int(i)]), {fidelity_attr(ours): int(f)})
               for i, f in zip(rng_q.integers(0, len(ours.hyperparameters), 5000),
                               rng_q.choice(list(ours.fidelity_values), 5000))]
    lookup = {}
    for label, bb in (("same values, plain Syne Tune blackbox", same), ("robbench blackbox", ours)):
        t = time.perf_counter()
        for config, fidelity in queries:
            bb.objective_function(config, fidelity=fidelity, seed=0)
        lookup[label] = (time.perf_counter() - t) / len(queries)
        print(f"{label}: {lookup[label] * 1e6:.0f} us per objective_function call")
    print(f"lookup ratio {lookup['robbench blackbox'] / lookup['same values, plain Syne Tune blackbox']:.2f}x")
    times: dict[str, list[float]] = {}
    results: dict[str, int] = {}
    for _ in range(a.repeats):
        for label, bb in (("same-shape random blackbox", theirs), ("same values, plain Syne Tune blackbox", same),
                          ("robbench blackbox", ours)):
            t = time.perf_counter()
            with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
                df = simulate(bb, make_scheduler("moasha", bb, metrics=metrics, seed=0), n_workers=a.workers,
                              max_num_trials=a.trials, tuner_sleep_time=a.sleep)
            times.setdefault(label, []).append(time.perf_counter() - t)
            results[label] = len(df)
    med = {k: statistics.median(v) for k, v in times.items()}
    for label, t in med.items():
        print(f"{label}: {t:.2f} s for {a.trials} MOASHA trials ({results[label]} results, "
              f"{t / results[label] * 1e3:.2f} ms per result), median of {a.repeats}")
    ratio = med["robbench blackbox"] / med["same-shape random blackbox"]
    same_ratio = med["robbench blackbox"] / med["same values, plain Syne Tune blackbox"]
    print(f"ratio vs random blackbox {ratio:.2f}x, vs the same values {same_ratio:.2f}x (goal <= 1x)")


if __name__ == "__main__":
    main()
