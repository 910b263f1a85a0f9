"""Simulated Syne Tune runs on the robust blackbox: multi-fidelity single objective (ASHA,
Hyperband, BOHB on robust error) and multi-objective (MOASHA, MO regularized evolution, MO random
on clean and robust error; ``moasha-ranked`` is MOASHA with the non-dominated sort as ranks, which
its default priority does not return: docs/syne-tune.md). Simulated time comes from the table's
recorded epoch times.

    python examples/syne_tune_simulated.py [--trials 200]
"""
from __future__ import annotations

import argparse
import logging

from robbench_plugin import DEFAULT_BENCHMARK
from robbench_plugin.adapters.syne_tune import (METRIC_ROBUST_ERROR, METRIC_VALID_ERROR, MULTI_OBJECTIVE,
                                                load_blackbox, make_scheduler, simulate)


def main(benchmark=DEFAULT_BENCHMARK, schedulers=("asha", "hyperband", "bohb", "moasha", "moasha-ranked", "morea",
                                                   "morandom"),
         trials=200, **load_kw):
    logging.getLogger("syne_tune").setLevel(logging.ERROR)  # a summary line per scheduler, no chatter
    bb = load_blackbox(benchmark, **load_kw)
    out = {}
    for name in schedulers:
        metrics = [METRIC_VALID_ERROR, METRIC_ROBUST_ERROR] if name in MULTI_OBJECTIVE else [METRIC_ROBUST_ERROR]
        df = simulate(bb, make_scheduler(name, bb, metrics=metrics, seed=0), n_workers=4, max_num_trials=trials)
        done = df.dropna(subset=[METRIC_ROBUST_ERROR])
        best = done[METRIC_ROBUST_ERROR].astype(float).min()
        print(f"{name:>13}: {df['trial_id'].nunique()} trials, simulated time {df['st_tuner_time'].max():.0f} s, "
              f"best robust error {best:.4f}")
        out[name] = df
    return out


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--benchmark", default=DEFAULT_BENCHMARK)
    ap.add_argument("--data-dir", default=None)
    a = ap.parse_args()
    main(a.benchmark, trials=a.trials, **({"data_dir": a.data_dir} if a.data_dir else {}))
