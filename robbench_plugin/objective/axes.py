"""A tabular benchmark's axes: its data sets, metrics (and aliases), fidelities, seeds and classes,
and how a name given by the user resolves to them (see :mod:`robbench_plugin.objective`)."""
from __future__ import annotations


import numpy as np
import pandas as pd

from ..costs import all_costs
from ..errors import InvalidArchError, InvalidChoiceError, InvalidValueError
from ..metrics import COST_METRICS, MetricArg, metric_direction, resolve_metric_name, seed_label
from ..space import representative_indices
from ..table import Table


class BenchmarkAxes:
    """The axes part of :class:`~robbench_plugin.objective.Benchmark`: what it is made from and
    how metric, seed and fidelity names resolve."""

    mode = "tabular"

    def __init__(self, table: Table, dataset: str, name: str | None = None):
        self.table = table
        self.name = name or table.meta.name
        self.dataset = dataset
        self._block = table.block(dataset)
        self.aliases = dict(table.meta.aliases)
        self._costs = all_costs(dataset, C=table.meta.C, N=table.meta.N)
        self._rep = representative_indices()
        # scalar fast path: (metric as given, seed, fidelity as given) -> list of 15625 floats
        self._columns: dict[tuple, list[float]] = {}

    # --- axes -----------------------------------------------------------------------
    @property
    def datasets(self) -> list[str]:
        return self.table.datasets

    @property
    def metrics(self) -> list[str]:
        """Table metrics, then cost metrics (aliases are accepted too, see :attr:`aliases`)."""
        return list(self._block.metrics) + list(COST_METRICS)

    @property
    def fidelities(self) -> list[int]:
        return list(self._block.fidelities)

    @property
    def seeds(self) -> list[str]:
        """Seed labels present, then the aggregates ``mean`` and ``std``."""
        return list(self._block.seeds)

    @property
    def uids(self) -> np.ndarray:
        """Representative indices that have values, increasing."""
        return self._block.uids

    @property
    def time_source(self) -> str:
        return self.table.meta.time_source

    def resolve_metric(self, metric: str) -> str:
        """Canonical metric name of ``metric`` (aliases resolved); error lists the choices."""
        if metric in COST_METRICS:
            return metric
        return resolve_metric_name(metric, self._block.metric_pos, self.aliases, self.metrics)

    def direction(self, metric: str) -> str:
        return metric_direction(self.resolve_metric(metric))

    def final_fidelity(self, metric: str) -> int | None:
        return self._block.final_fidelity.get(self.resolve_metric(metric))

    def _metric_list(self, metrics: MetricArg) -> list[str]:
        if metrics is None:
            return self.metrics
        if isinstance(metrics, str):
            return [self.resolve_metric(metrics)]
        if not isinstance(metrics, (list, tuple, np.ndarray, pd.Index)):
            self.resolve_metric(metrics)  # not a name nor a list of names: the error lists the choices
        metrics = list(metrics)
        if not metrics:
            raise InvalidValueError("metrics must not be empty")
        return [self.resolve_metric(m) for m in metrics]

    def _seed_pos(self, seed: str | int) -> int:
        seed = seed_label(seed)
        pos = self._block.seed_pos.get(seed) if isinstance(seed, str) else None
        if pos is None:
            raise InvalidChoiceError("seed", seed, self.seeds)
        return pos

    def _fidelity_pos(self, metric: str, fidelity: int | None) -> int:
        if fidelity is None:
            fidelity = self._block.final_fidelity[metric]
        pos = (self._block.fidelity_pos.get(int(fidelity))
               if isinstance(fidelity, (int, np.integer)) and not isinstance(fidelity, bool) else None)
        if pos is None:
            raise InvalidChoiceError("fidelity (epoch)", fidelity, self.fidelities)
        return pos

    def _row(self, index: int) -> int:
        uid = int(self._rep[index])
        row = int(self._block.row_of_uid[uid])
        if row < 0:
            raise InvalidArchError(f"arch {index} (class uid {uid}) has no entry in benchmark {self.name!r} "
                                   f"dataset {self.dataset!r} ({len(self.uids)} classes present)")
        return row
