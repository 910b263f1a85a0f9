"""The tabular benchmark: its axes, queries and clock together, and its tables of classes and cells
(see :mod:`robbench_plugin.objective`)."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from ..metrics import MetricArg, metric_direction
from ..space import NUM_ARCHS, index_to_ops_array, ops_to_string
from .axes import BenchmarkAxes
from .clock import BenchmarkClock
from .queries import BenchmarkQueries


class Benchmark(BenchmarkAxes, BenchmarkQueries, BenchmarkClock):
    """Tabular benchmark for one dataset of a :class:`~robbench_plugin.table.Table`."""

    def to_frame(self, metrics: MetricArg = None, seed: str = "mean", fidelity: int | None = None) -> pd.DataFrame:
        """One row per class present: ``uid``, ``arch`` (string) and the metrics."""
        df = self.query_many(self.uids, metrics, seed=seed, fidelity=fidelity).drop(columns=["index"])
        df.insert(1, "arch", [ops_to_string(o) for o in index_to_ops_array()[df["uid"].to_numpy()]])
        return df

    def cell_frame(self, metrics: MetricArg = None, seed: str = "mean", fidelity: int | None = None) -> pd.DataFrame:
        """One row per cell of the 15625 whose class has values: ``index``, ``uid``, ``arch`` and the
        metrics, each cell with its class's accuracies and its own costs (a dead edge still has
        parameters), in index order. This is what a point of the search space is."""
        df = self.query_many(np.arange(NUM_ARCHS), metrics, seed=seed, fidelity=fidelity)
        df = df[self._block.row_of_uid[df["uid"].to_numpy()] >= 0]
        df.insert(2, "arch", [ops_to_string(o) for o in index_to_ops_array()[df["index"].to_numpy()]])
        return df.reset_index(drop=True)

    def pareto_front(self, objectives: Sequence[str] = ("clean", "robust"), seed: str = "mean",
                     fidelity: int | None = None) -> pd.DataFrame:
        """The non-dominated points under ``objectives`` (each in its direction), over all cells
        (:meth:`cell_frame`), one row per distinct point (the lowest index that has it)."""
        from ..pareto import pareto_mask

        names = [self.resolve_metric(o) for o in objectives]
        df = self.cell_frame(names, seed=seed, fidelity=fidelity).dropna(subset=names)
        df = df.drop_duplicates(subset=names)
        signs = np.array([1.0 if metric_direction(n) == "maximize" else -1.0 for n in names])
        mask = pareto_mask(df[names].to_numpy() * signs)
        return df[mask].sort_values(names[0], ascending=signs[0] < 0).reset_index(drop=True)

    def __repr__(self) -> str:
        return (f"<Benchmark {self.name!r} dataset={self.dataset!r} mode={self.mode!r} classes={len(self.uids)} "
                f"metrics={len(self._block.metrics)} fidelities={self.fidelities} seeds={self.seeds}>")
