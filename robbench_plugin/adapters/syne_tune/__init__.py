"""Syne Tune adapter: the robust benchmark as a ``BlackboxTabular`` and simulated runs on it.

    from robbench_plugin.adapters.syne_tune import load_blackbox
    bb = load_blackbox("digits")   # also "nas-robbench-201" with dataset=..., data_dir=...

Conventions follow Syne Tune's own ``nasbench201`` blackbox, so swapping clean NAS-Bench-201 for
the robust benchmark is a change of name: hyperparameters ``hp_x0``..``hp_x5`` (the six edges in
NB201 string order) as ``choice`` over the op names; objectives ``metric_valid_error`` (1 - clean
accuracy), ``metric_robust_error`` (1 - robust accuracy), every accuracy of the table as
``metric_<name>``, ``metric_params``, ``metric_flops``, ``metric_runtime`` (seconds of this resource
step) and ``metric_elapsed_time`` (cumulative). All 15625 cells are rows (isomorphic cells repeat
their class's values).

Fidelity: where the table records the accuracies after every epoch 1..n (Fashion-MNIST, builds with
``eval_epochs="all"``), ``hp_epoch`` = the epoch, as in Syne Tune's ``nasbench201``; otherwise
``hp_level`` = 1, 2, ..., one level per epoch at which the table records them, and
``metric_epochs`` says which epoch a level is (digits: levels 1-4 are epochs 1, 2, 4, 8; the
release: level 1 is epoch 50). ``fidelity_attr(bb)`` names the one a blackbox has. The blackbox
holds exactly the recorded fidelities, on the dense axis ``1..num_fidelities`` that Syne Tune's
simulated backend and its blackbox checks expect, so every rung a multi-fidelity scheduler chooses
is an evaluation the table has, and ``metric_runtime`` of a fidelity is the training time of all
epochs since the previous one.

The blackbox is written with Syne Tune's ``serialize`` into ``<ROBBENCH_HOME>/cache/syne_tune``
(keyed by the table's content hash) and read back with ``deserialize``; no network is used.
Its metadata (``bb.robbench_metadata``) says where simulated time comes from (``time_source``):
``op-count-model`` (digits, builds and their surrogates: ``Benchmark.clock``, a median regression
of the recorded epoch seconds on the cell's operations, the same for every seed), ``recorded``
per-epoch wall time (live results) or ``flops-model`` (the release, see
:func:`robbench_plugin.release_time.release_epoch_seconds`).

Surrogate mode (``mode="surrogate"``) builds the blackbox from the package's own surrogate
(:mod:`robbench_plugin.surrogate`), not Syne Tune's ``add_surrogate``: every cell is then a
prediction at every recorded fidelity.

The adapter is a package, one concept per module: :mod:`.environment` (Syne Tune's GPU probe and
output folder), :mod:`.blackbox` (the conversion), :mod:`.simulation` (schedulers and simulated
runs), :mod:`.compare` (its part of ``robbench compare``). Its public names are all here.
"""
from __future__ import annotations

from .blackbox import (CACHE_FORMAT, CONFIG_KEYS, EPOCH_ATTR, LEVEL_ATTR, METRIC_ELAPSED_TIME, METRIC_EPOCHS,
                       METRIC_ROBUST_ERROR, METRIC_TIME_THIS_RESOURCE, METRIC_VALID_ERROR, TIME_ATTR, blackbox_from_grid,
                       epochs_of_levels, fidelity_attr, load_blackbox)
from .compare import COMPARE_METRICS, MULTI_FIDELITY_COMPARE, searcher_trace
from .environment import output_folder
from .simulation import MULTI_OBJECTIVE, SCHEDULERS, make_scheduler, shortest_epoch_time, simulate

__all__ = ["CACHE_FORMAT", "COMPARE_METRICS", "CONFIG_KEYS", "EPOCH_ATTR", "LEVEL_ATTR", "METRIC_ELAPSED_TIME",
           "METRIC_EPOCHS",
           "METRIC_ROBUST_ERROR", "METRIC_TIME_THIS_RESOURCE", "METRIC_VALID_ERROR", "MULTI_FIDELITY_COMPARE",
           "MULTI_OBJECTIVE", "SCHEDULERS", "TIME_ATTR", "blackbox_from_grid", "epochs_of_levels", "fidelity_attr",
           "load_blackbox",
           "make_scheduler", "output_folder", "searcher_trace", "shortest_epoch_time", "simulate"]
