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
  scored are held out.

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
from robbench_plugin.report import recorded_seconds  # noqa: E402
from robbench_plugin.stats import kendall  # noqa: E402
from robbench_plugin.time_model import COEFFICIENT_NAMES, EpochTimeModel  # noqa: E402


def time_noise(bench) -> dict:
    if bench.time_source != "recorded":
        raise SystemExit(f"{bench.name}: its times are not recorded ({bench.time_source})")
    labels = [s for s in bench.seeds if s not in ("mean", "std")]
    if len(labels) < 2:
        raise SystemExit(f"{bench.name}: one seed only; nothing to hold out")
    uids = bench.uids
    first, second = recorded_seconds(bench, uids, labels[0]), recorded_seconds(bench, uids, labels[1])
    both = ~np.isnan(first) & ~np.isnan(second)
    single = ~np.isnan(first) & np.isnan(second)
    if single.sum() < 50:
        raise SystemExit(f"{bench.name}: {single.sum()} classes with one seed; too few to fit on")
    epochs = bench.fidelities[-1]
    fit = EpochTimeModel.fit(uids[single], first[single] / epochs)
    model = fit.seconds_per_epoch(uids) * epochs
    return {"benchmark": f"{bench.name}/{bench.dataset}", "classes_two_seeds": int(both.sum()),
            "classes_fitted_on": int(single.sum()),
            "seconds_per_epoch": dict(zip(COEFFICIENT_NAMES, np.round(fit.coef, 4).tolist())),
            "tau_own_first_seed_vs_second": kendall(first[both], second[both]),
            "tau_op_count_model_vs_second": kendall(model[both], second[both]),
            "ratio_first_second_p5_p95": np.percentile(first[both] / second[both], [5, 95]).round(3).tolist()}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--benchmark", default="digits", help="digits, fashion-mnist or build")
    ap.add_argument("--data-dir", default=None, help="a build directory or archive for --benchmark build")
    args = ap.parse_args(argv)
    print(json.dumps(time_noise(load_benchmark(args.benchmark, data_dir=args.data_dir)), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
