"""How much of a table's recorded training seconds is the class's cost, and how much the machine's load?

    python benchmarks/time_noise.py --benchmark fashion-mnist
    python benchmarks/time_noise.py --benchmark digits
    python benchmarks/time_noise.py --benchmark build --data-dir data/fashion-mnist-v1.build.tar.xz

A simulated-time axis (Syne Tune's simulator, ``robbench compare``'s time axis and MOASHA's time
budget) charges each class the seconds its build recorded. Over the classes with two seeds, this
compares two estimates of a class's cost against its second seed's seconds (Kendall tau):

- ``own first seed``: the seconds the class's first seed recorded (what the table charges now);
- ``op-count model``: the benchmark's clock (``robbench_plugin.time_model.EpochTimeModel``, a
  median regression of the seconds per epoch on the number of each operation in the cell plus a
  constant), here fitted on the first seed of the classes that have only one seed, so the classes
  scored are held out (``robbench report`` shows the same figures). Where every class has two
  seeds (Fashion-MNIST), it is fitted on the first seed of a random half of the classes (seeded)
  and both estimates are scored on the other half.

If the model ranks a class's second run better than the class's own first run does, the recorded
seconds are mostly load, and a model of them is the better clock (what ``Benchmark.clock`` is for
a table with recorded times). Needs a table with recorded times and some classes with two seeds.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from robbench_plugin import DEFAULT_BENCHMARK, load_benchmark  # noqa: E402
from robbench_plugin.report import recorded_time_figures  # noqa: E402
from robbench_plugin.stats import kendall  # noqa: E402
from robbench_plugin.time_model import EpochTimeModel  # noqa: E402


def time_noise(bench) -> dict:
    """The figures of :func:`robbench_plugin.report.recorded_time_figures` this question needs."""
    if bench.time_source != "recorded":
        raise SystemExit(f"{bench.name}: its times are not recorded ({bench.time_source})")
    q = recorded_time_figures(bench, bench.uids)
    if "time_tau_model_seeds" not in q and q.get("time_seed_classes", 0) >= 4:
        q.update(_half_split(bench))
    if "time_tau_model_seeds" not in q:
        raise SystemExit(f"{bench.name}: needs classes with two seeds")
    return {"benchmark": f"{bench.name}/{bench.dataset}", "classes_two_seeds": q["time_seed_classes"],
            "classes_fitted_on": q["time_model_classes"],
            "clock_seconds_per_epoch": {k: round(v, 4) for k, v in q["clock"].items() if k != "runs"},
            "tau_own_first_seed_vs_second": q["time_tau_seeds"],
            "tau_op_count_model_vs_second": q["time_tau_model_seeds"],
            "ratio_first_second_p5_p95": np.round(q["time_seed_ratio_p5_p95"], 3).tolist()}


def _half_split(bench, seed: int = 0) -> dict:
    """The held-out comparison where every class has two seeds: the op-count model fitted on the
    first seed of a random half of the classes (``seed`` of NumPy's default generator), both
    estimates scored against the second seed on the other half."""
    labels = [s for s in bench.seeds if s not in ("mean", "std")]
    uids = np.asarray(bench.uids)
    a, b = bench.recorded_seconds(uids, labels[0]), bench.recorded_seconds(uids, labels[1])
    both = np.flatnonzero(~np.isnan(a) & ~np.isnan(b))
    order = np.random.default_rng(seed).permutation(both)
    fit, held = np.sort(order[: len(order) // 2]), np.sort(order[len(order) // 2:])
    model = EpochTimeModel.fit(uids[fit], a[fit] / bench.fidelities[-1])
    return {"time_model_classes": int(len(fit)), "time_seed_classes": int(len(held)),
            "time_tau_seeds": kendall(a[held], b[held]),
            "time_tau_model_seeds": kendall(model.seconds_per_epoch(uids[held]), b[held]),
            "time_seed_ratio_p5_p95": np.percentile(a[held] / b[held], [5, 95]).tolist()}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--benchmark", default=DEFAULT_BENCHMARK, help="fashion-mnist, digits or build")
    ap.add_argument("--data-dir", default=None, help="a build directory or archive for --benchmark build")
    args = ap.parse_args(argv)
    print(json.dumps(time_noise(load_benchmark(args.benchmark, data_dir=args.data_dir)), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
