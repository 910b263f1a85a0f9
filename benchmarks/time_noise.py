"""How much of a table's recorded training seconds is the class's cost, and how much the machine's load?

    python benchmarks/time_noise.py --benchmark digits
    python benchmarks/time_noise.py --benchmark build --data-dir data/fashion-mnist-v1.build.tar.xz

A simulated-time axis (Syne Tune's simulator, ``robbench compare``'s time axis and MOASHA's time
budget) charges each class the seconds its build recorded. Over the classes with two seeds, this
compares two estimates of a class's cost against its second seed's seconds (Kendall tau):

- ``own first seed``: the seconds the class's first seed recorded (what the table charges now);
- ``op-count model``: the benchmark's clock (``robbench_plugin.time_model.EpochTimeModel``, a
  median regression of the seconds per epoch on the number of each operation in the cell plus a
  constant), here fitted on the first seed of the classes that have only one seed, so the classes
  scored are held out (``robbench report`` shows the same figures).

If the model ranks a class's second run better than the class's own first run does, the recorded
seconds are mostly load, and a model of them is the better clock (what ``Benchmark.clock`` is for
a table with recorded times). Needs a table with recorded times and some classes with two seeds
and some with one.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from robbench_plugin import load_benchmark  # noqa: E402
from robbench_plugin.report import recorded_time_figures  # noqa: E402


def time_noise(bench) -> dict:
    """The figures of :func:`robbench_plugin.report.recorded_time_figures` this question needs."""
    if bench.time_source != "recorded":
        raise SystemExit(f"{bench.name}: its times are not recorded ({bench.time_source})")
    q = recorded_time_figures(bench, bench.uids)
    if "time_tau_model_seeds" not in q:
        raise SystemExit(f"{bench.name}: needs classes with two seeds and classes with one")
    return {"benchmark": f"{bench.name}/{bench.dataset}", "classes_two_seeds": q["time_seed_classes"],
            "classes_fitted_on": q["time_model_classes"],
            "clock_seconds_per_epoch": {k: round(v, 4) for k, v in q["clock"].items() if k != "runs"},
            "tau_own_first_seed_vs_second": q["time_tau_seeds"],
            "tau_op_count_model_vs_second": q["time_tau_model_seeds"],
            "ratio_first_second_p5_p95": np.round(q["time_seed_ratio_p5_p95"], 3).tolist()}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--benchmark", default="digits", help="digits, fashion-mnist or build")
    ap.add_argument("--data-dir", default=None, help="a build directory or archive for --benchmark build")
    args = ap.parse_args(argv)
    print(json.dumps(time_noise(load_benchmark(args.benchmark, data_dir=args.data_dir)), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
