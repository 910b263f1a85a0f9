"""The release's simulated training time: no timings were published with NAS-RobBench-201, so a
run's time is modelled from its FLOPs (:func:`release_epoch_seconds`, in GPU seconds).

Seconds per epoch = ``RELEASE_S_PER_MFLOP_IMAGE`` x FLOPs (M) x training images +
``RELEASE_OVERHEAD_S``, calibrated so that the release's total (about 107k GPU hours for 6466
archs x 3 datasets x 3 seeds x 50 epochs, the upper bound the paper states) is matched by the
mean architecture.
"""
from __future__ import annotations

from .costs import RELEASE_DATASETS
from .errors import InvalidValueError, check_choice

# training images per epoch of each release dataset
RELEASE_TRAIN_IMAGES = dict(zip(RELEASE_DATASETS, (50000, 50000, 151700)))


def release_epoch_seconds(dataset: str, flops_m: float, runs_per_class: float = 3.0) -> float:
    """Modelled GPU seconds of one release training epoch (PGD-7 AT) for a net of ``flops_m``.

    Linear in FLOPs x training images, plus a fixed per-epoch overhead, calibrated so that the
    mean architecture reproduces the release's stated ~107k GPU hours if that total was spent on
    6466 archs x 3 datasets x 3 seeds x 50 epochs (``benchmarks/calibrate_release_time.py``).
    The release guarantees only seed "1" ("up to 3 seeds"): with ``runs_per_class`` training runs
    per class and dataset on average in the loaded release (:attr:`Benchmark.runs_per_class`), the
    same total over fewer runs makes each run longer by ``3 / runs_per_class``. The assumption:
    the stated total covers exactly the runs the release holds.
    """
    check_choice("dataset", dataset, RELEASE_TRAIN_IMAGES)
    if not runs_per_class > 0:
        raise InvalidValueError(f"runs_per_class must be > 0, got {runs_per_class!r}")
    base = RELEASE_OVERHEAD_S + RELEASE_S_PER_MFLOP_IMAGE * flops_m * RELEASE_TRAIN_IMAGES[dataset]
    return base * RELEASE_CALIBRATION_RUNS / runs_per_class


# Calibration constants (see release_epoch_seconds): overhead 10 s per epoch.
RELEASE_OVERHEAD_S = 10.0
RELEASE_S_PER_MFLOP_IMAGE = 4.12e-5  # benchmarks/calibrate_release_time.py
RELEASE_CALIBRATION_RUNS = 3.0  # seeds per class and dataset the calibration assumes
