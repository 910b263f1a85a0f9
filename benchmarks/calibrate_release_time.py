"""Calibrate the release's simulated-time model (robbench_plugin.objective.release_epoch_seconds).

The release published no timings. The paper states about 107k GPU hours for the whole
release; reading that as 6466 archs x 3 datasets x 3 seeds x 50 epochs of PGD-7 adversarial
training, and modelling one epoch as OVERHEAD + k * FLOPs(M) * train images, this prints the
k for which the mean architecture reproduces the total (overhead fixed at 10 s per epoch).

    python benchmarks/calibrate_release_time.py
"""
from robbench_plugin.costs import all_costs
from robbench_plugin.release_time import RELEASE_TRAIN_IMAGES
from robbench_plugin.space import unique_indices

TOTAL_S = 107_000 * 3600
RUNS_PER_ARCH_DATASET = 3 * 50  # seeds x epochs
OVERHEAD = 10.0

uids = unique_indices()
work = 0.0  # sum over archs and datasets of flops(M) * images
for ds, images in RELEASE_TRAIN_IMAGES.items():
    work += all_costs(ds)["flops"][uids].sum() * images
epochs_total = len(uids) * len(RELEASE_TRAIN_IMAGES) * RUNS_PER_ARCH_DATASET
k = (TOTAL_S - OVERHEAD * epochs_total) / (work * RUNS_PER_ARCH_DATASET)
print(f"epochs in total: {epochs_total}; seconds per MFLOP-image k = {k:.4e}")
