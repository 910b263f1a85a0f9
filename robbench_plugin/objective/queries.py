"""A tabular benchmark's queries: one cell, many cells, a learning curve, a curve followed epoch by
epoch (see :mod:`robbench_plugin.objective`)."""
from __future__ import annotations

from typing import Iterable, Sequence, Union

import numpy as np
import pandas as pd

from ..errors import InvalidArchError, InvalidChoiceError, InvalidValueError, RobBenchError, check_choice
from ..metrics import COST_METRICS, MetricArg, seed_label
from ..space import NUM_ARCHS, ArchLike
from .cells import arch_index


class BenchmarkQueries:
    """The queries of :class:`~robbench_plugin.objective.Benchmark` (the axes are
    :class:`~robbench_plugin.objective.axes.BenchmarkAxes`')."""

    def _value(self, metric: str, index: int, seed: str, fidelity: int | None) -> float:
        if metric in COST_METRICS:
            return float(self._costs[metric][index])
        b = self._block
        value = b.values[b.metric_pos[metric], self._fidelity_pos(metric, fidelity), self._seed_pos(seed), self._row(index)]
        if value != value and seed != "std":  # NaN
            raise RobBenchError(f"no value of {metric!r} for arch {index} at seed {seed!r}, fidelity {fidelity!r} "
                                f"in benchmark {self.name!r}/{self.dataset!r}")
        return float(value)

    def query(self, arch: ArchLike, metrics: MetricArg = None, seed: str = "mean",
              fidelity: int | None = None) -> Union[float, dict[str, float]]:
        """Value(s) for one arch: a float for one metric name, else ``{metric: value}``.

        A ``std`` query over fewer than two seeds gives NaN; any other missing value is an error.
        ``seed``: a label (``"0"``), its integer (``0``), or ``mean``/``std`` over the seeds.
        """
        seed = seed_label(seed)
        if type(metrics) is str and type(arch) is int and 0 <= arch < NUM_ARCHS:
            col = self._columns.get((metrics, seed, fidelity))
            if col is not None:
                value = col[arch]
                if value == value or seed == "std":
                    return value
        index = arch_index(arch)
        if isinstance(metrics, str):
            metric = self.resolve_metric(metrics)
            value = self._value(metric, index, seed, fidelity)
            self._remember_column(metrics, metric, seed, fidelity)
            return value
        self._row(index)  # an arch whose class has no entry is an error, whatever the metrics
        out = {}
        for m in self._metric_list(metrics):
            if m not in COST_METRICS and fidelity is not None and fidelity not in self._block.fidelity_pos:
                self._fidelity_pos(m, fidelity)  # raises with the choices
            try:
                out[m] = self._value(m, index, seed, fidelity)
            except InvalidChoiceError:
                raise
            except RobBenchError:
                if metrics is not None:
                    raise
                # metrics=None: skip metrics not recorded at this fidelity (e.g. robust at an odd epoch)
        return out

    def _remember_column(self, given: str, metric: str, seed: str, fidelity: int | None) -> None:
        key = (given, seed, fidelity)
        if key in self._columns or len(self._columns) > 256:
            return
        if metric in COST_METRICS:
            self._columns[key] = self._costs[metric].tolist()
            return
        b = self._block
        col = b.values[b.metric_pos[metric], self._fidelity_pos(metric, fidelity), self._seed_pos(seed)]
        rows = b.row_of_uid[self._rep]
        self._columns[key] = np.where(rows < 0, np.nan, col[np.where(rows < 0, 0, rows)]).tolist()

    def indices_of(self, archs: Union[Iterable[ArchLike], np.ndarray]) -> np.ndarray:
        """NB201 indices of many archs (integer arrays are taken as indices, validated)."""
        if isinstance(archs, np.ndarray) and np.issubdtype(archs.dtype, np.integer):
            bad = archs[(archs < 0) | (archs >= NUM_ARCHS)]
            if len(bad):
                raise InvalidArchError(f"NB201 index {int(bad[0])} out of range; valid: 0..{NUM_ARCHS - 1}")
            return archs.astype(np.int64)
        return np.fromiter((arch_index(a) for a in archs), dtype=np.int64)

    def query_many(self, archs: Union[Iterable[ArchLike], np.ndarray], metrics: MetricArg = None, seed: str = "mean",
                   fidelity: int | None = None, missing: str = "nan") -> pd.DataFrame:
        """One row per input arch (in order): ``index``, ``uid`` and one column per metric.

        Values absent from the table are NaN (``missing="nan"``) or an error (``"raise"``).
        """
        check_choice("missing", missing, ("nan", "raise"))
        seed = seed_label(seed)
        idx = self.indices_of(archs)
        uids = self._rep[idx]
        rows = self._block.row_of_uid[uids]
        if missing == "raise" and (rows < 0).any():
            self._row(int(idx[rows < 0][0]))
        out = {"index": idx, "uid": uids}
        s = self._seed_pos(seed)
        b = self._block
        safe_rows = np.where(rows < 0, 0, rows)
        for m in self._metric_list(metrics):
            if m in COST_METRICS:
                out[m] = self._costs[m][idx]
                continue
            if fidelity is not None and fidelity not in b.fidelity_pos:
                self._fidelity_pos(m, fidelity)
            if fidelity is not None or b.final_fidelity[m] is not None:
                f = b.fidelity_pos.get(fidelity if fidelity is not None else b.final_fidelity[m])
            else:
                f = None
            col = np.full(len(idx), np.nan) if f is None else b.values[b.metric_pos[m], f, s][safe_rows]
            col = np.where(rows < 0, np.nan, col)
            if missing == "raise" and seed != "std" and np.isnan(col).any():
                bad = int(idx[np.isnan(col)][0])
                raise RobBenchError(f"no value of {m!r} for arch {bad} at seed {seed!r}, fidelity {fidelity!r}")
            out[m] = col
        return pd.DataFrame(out)

    def curve(self, arch: ArchLike, metric: str, seed: str = "mean") -> dict[int, float]:
        """``{epoch: value}`` over the fidelities where ``metric`` is recorded for ``arch``."""
        seed = seed_label(seed)
        m = self.resolve_metric(metric)
        if m in COST_METRICS:
            raise InvalidValueError(f"{m!r} is a cost, not a learning-curve metric")
        b = self._block
        row = self._row(arch_index(arch))
        vals = b.values[b.metric_pos[m], :, self._seed_pos(seed), row]
        return {f: float(v) for f, v in zip(b.fidelities, vals) if v == v}

    def follow(self, arch: ArchLike, metrics: Sequence[str], on_values, seed: str = "mean",
               until: int | None = None) -> bool:
        """Walk ``arch``'s learning curve epoch by epoch, calling ``on_values(epoch, {metric: value})``
        at every fidelity up to ``until`` (default: the last) where all ``metrics`` have a value;
        ``on_values`` returning False stops the walk. True when it reached ``until``. On a table
        this replays recorded values; a live benchmark trains as it goes and stops training where
        the walk stops (what pruners use in every mode alike)."""
        names = [self.resolve_metric(m) for m in metrics]
        curves = [self.curve(arch, m, seed=seed) for m in names]
        limit = until if until is not None else self.fidelities[-1]
        if limit not in self._block.fidelity_pos:
            raise InvalidChoiceError("fidelity (epoch)", limit, self.fidelities)
        for epoch in self.fidelities:
            if epoch > limit:
                break
            if all(epoch in c for c in curves):
                if on_values(epoch, {m: c[epoch] for m, c in zip(names, curves)}) is False:
                    return epoch >= limit
        return True
