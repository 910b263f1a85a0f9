"""Syne Tune adapter overhead: wall time of a 1000-trial simulated MOASHA run on our blackbox vs
the same scheduler on a same-shape BlackboxTabular built directly with Syne Tune's API from
random numbers (same hyperparameters, fidelities, objectives and time columns), same process.

    python benchmarks/bench_syne_tune.py                   # embedded digits
    python benchmarks/bench_syne_tune.py --synthetic       # multi-fidelity synthetic table
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from robbench_plugin.adapters.syne_tune import (METRIC_ROBUST_ERROR, METRIC_VALID_ERROR, load_blackbox,
                                                make_scheduler, simulate)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=1000)
    ap.add_argument("--synthetic", action="store_true")
    a = ap.parse_args()
    logging.getLogger("syne_tune").setLevel(logging.ERROR)
    os.environ.setdefault("SYNETUNE_FOLDER", tempfile.mkdtemp())
    if a.synthetic:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from tests.helpers import curves_bench

        bench = curves_bench()
    else:
        bench = "digits"
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
    metrics = [METRIC_VALID_ERROR, METRIC_ROBUST_ERROR]
    times = {}
    for label, bb in (("same-shape random blackbox", theirs), ("robbench blackbox", ours)):
        t = time.perf_counter()
        simulate(bb, make_scheduler("moasha", bb, metrics=metrics, seed=0), n_workers=4, max_num_trials=a.trials)
        times[label] = time.perf_counter() - t
        print(f"{label}: {times[label]:.2f} s for {a.trials} MOASHA trials")
    ratio = times["robbench blackbox"] / times["same-shape random blackbox"]
    print(f"ratio {ratio:.2f}x (goal <= 1x)")


if __name__ == "__main__":
    main()
