"""Live evaluation behind the benchmark query surface: train on demand, share every result.

:class:`LiveBenchmark` answers ``query``/``query_many``/``curve``/``train_time``/``to_frame``/
``cell_frame``/``pareto_front`` like a tabular :class:`~robbench_plugin.objective.Benchmark`,
training the architecture's class with the package's trainer the first time it is asked for and
keeping the result in a :class:`~robbench_plugin.store.ResultsStore` (a database shared by every
worker, on one machine or many: see :mod:`robbench_plugin.store`). Each run is trained once: a
worker claims it, others wait for it, a dead worker's run is taken over from its last epoch.

A run's key is the dataset, the recipe's key, the precision actually used (``fp32``/``bf16``),
the device type (``cpu``/``cuda``/``mps``), the class uid and the training seed. CPU training
always uses one torch thread per run (the thread count changes the numbers in the last bits;
parallelism comes from workers), and the caller's thread setting is restored afterwards.

Pruning and lower fidelities save compute: a query at ``fidelity=e`` trains only up to epoch
``e``; an ``on_epoch`` callback that returns False stops training there. Either way the curve so
far and the trainer's checkpoint are stored (``partial``), and asking later for more epochs resumes
from the checkpoint, giving the numbers of one uninterrupted run. Needs the ``train`` extra.

The package, one concept per module: :mod:`.runs` (a run's identity, claims, training and replay)
and :mod:`.benchmark` (:class:`LiveBenchmark`: the query surface and prefetching). Its public names
are all here.
"""
from __future__ import annotations

from ..store import ResultsStore
from .benchmark import LiveBenchmark
from .runs import PRECISIONS, EpochCallback, LiveRuns

__all__ = ["PRECISIONS", "EpochCallback", "LiveBenchmark", "LiveRuns", "ResultsStore"]
