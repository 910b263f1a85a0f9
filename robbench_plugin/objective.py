"""One query surface over every benchmark the package holds.

``load_benchmark(name, dataset=..., mode=...)`` returns a :class:`Benchmark`. Queries accept
any of the 15625 cell forms (Arch, NB201 index, NB201 string, six ops) and answer for the
cell's isomorphism class. Metric names are the table's (``val_acc``, ``val_pgd_8.0_acc``...),
the aliases ``clean`` and ``robust``, and the costs ``params`` (millions) and ``flops``
(millions of multiply-adds per image). Accuracies are fractions in [0, 1].
Seeds are the table's labels (strings) or the aggregates ``mean`` and ``std``; fidelities
are epochs, ``None`` meaning the final one recorded for the metric.
"""
from __future__ import annotations

import functools
from typing import Iterable, Sequence, Union

import numpy as np
import pandas as pd

from .costs import RELEASE_DATASETS, all_costs
from .errors import InvalidArchError, InvalidChoiceError, InvalidValueError, RobBenchError, check_choice
from .metrics import COST_METRICS, MetricArg, metric_direction, resolve_metric_name, seed_label
from .release_time import release_epoch_seconds
from .space import NUM_ARCHS, NUM_UNIQUE, Arch, ArchLike, index_to_ops_array, ops_to_string, representative_indices
from .table import Table
from .time_model import EpochTimeModel


@functools.lru_cache(maxsize=1 << 16)
def _index_of_string(text: str) -> int:
    return Arch.from_string(text).index


def arch_index(arch: ArchLike) -> int:
    """NB201 index of any accepted arch form (fast path for ints and strings)."""
    if isinstance(arch, (int, np.integer)) and not isinstance(arch, (bool, np.bool_)):
        if not 0 <= arch < NUM_ARCHS:
            raise InvalidArchError(f"NB201 index {arch!r} out of range; valid: 0..{NUM_ARCHS - 1}")
        return int(arch)
    if isinstance(arch, str):
        return _index_of_string(arch)
    return Arch.parse(arch).index


class Benchmark:
    """Tabular benchmark for one dataset of a :class:`~robbench_plugin.table.Table`."""

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

    # --- queries --------------------------------------------------------------------
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

    @property
    def complete(self) -> bool:
        """Whether every class of the space (all 6466) has values, so that any cell can be asked
        for; a partial build is not complete (a live benchmark grows instead)."""
        return len(self.uids) == NUM_UNIQUE

    def require_complete(self, what: str) -> None:
        """Raise an error naming ``what`` (e.g. "a search") when the benchmark is not
        :attr:`complete`: a search over the whole space would ask for classes it lacks."""
        if not self.complete:
            raise InvalidValueError(
                f"benchmark {self.name!r} (dataset {self.dataset!r}) has values for {len(self.uids)} of the "
                f"{NUM_UNIQUE} classes, and {what} may ask for any of them: finish its build (`robbench build` "
                "resumes it), or answer from a surrogate fitted on the classes it has (mode 'surrogate', "
                "--mode surrogate)")

    @property
    def revision(self) -> int:
        """Changes whenever the benchmark's values change (never for a table; a live benchmark
        grows): what caches of derived values are keyed by."""
        return 0

    @functools.cached_property
    def epoch_time_model(self) -> EpochTimeModel | None:
        """For a table with recorded epoch times (``time_source == "recorded"``): the model of a
        cell's seconds per epoch from its operations (:class:`~robbench_plugin.time_model.EpochTimeModel`),
        fitted on every run the table holds (its seconds over all epochs / the last epoch), which
        is the simulated clock (:attr:`clock`). None for other tables."""
        if self.time_source != "recorded" or "time_s" not in self._block.metric_pos:
            return None
        uids, per_epoch = [], []
        for seed in self.seeds:
            if seed in ("mean", "std"):
                continue
            seconds = self.recorded_seconds(self.uids, seed)
            ran = ~np.isnan(seconds)
            uids.append(self.uids[ran])
            per_epoch.append(seconds[ran] / self.fidelities[-1])
        return EpochTimeModel.fit(np.concatenate(uids), np.concatenate(per_epoch))

    def recorded_seconds(self, uids: np.ndarray, seed: str) -> np.ndarray:
        """For a table with recorded epoch times (``time_s``): the training seconds of the classes
        ``uids`` at ``seed`` (a seed label, or ``"mean"``), summed over every epoch; NaN where the class
        lacks that seed or an epoch's time."""
        return np.sum([self.query_many(uids, ["time_s"], seed=seed, fidelity=f)["time_s"].to_numpy()
                       for f in self.fidelities], axis=0)

    @functools.cached_property
    def cell_epoch_seconds(self) -> np.ndarray:
        """Simulated seconds of one epoch of each of the 15625 cells (its own operations)."""
        model = self.epoch_time_model
        if model is not None:
            return model.seconds_per_epoch(np.arange(NUM_ARCHS))
        if self.dataset not in RELEASE_DATASETS:
            return np.full(NUM_ARCHS, np.nan)
        return np.array([release_epoch_seconds(self.dataset, float(f), self.runs_per_class)
                         for f in self._costs["flops"]])

    @property
    def clock(self) -> str:
        """What simulated training seconds are: ``"op-count-model"`` (a table with recorded
        times: :attr:`epoch_time_model`, so the clock charges a cell's cost, not the load its
        build ran under; the recorded seconds stay queryable as ``time_s``) or ``"flops-model"``
        (the release: :func:`release_epoch_seconds`)."""
        return "op-count-model" if self.epoch_time_model is not None else "flops-model"

    def train_time(self, arch: ArchLike, fidelity: int | None = None, seed: str = "mean") -> float:
        """Simulated seconds of training ``arch``'s cell up to epoch ``fidelity`` (default: the
        last): that many epochs at the cell's seconds per epoch under :attr:`clock` (the same for
        every seed; ``seed`` is accepted for the interface's sake)."""
        index = arch_index(arch)
        epochs = fidelity if fidelity is not None else self.fidelities[-1]
        if self.epoch_time_model is not None and epochs not in self._block.fidelity_pos:
            raise InvalidChoiceError("fidelity (epoch)", epochs, self.fidelities)
        seconds = float(self.cell_epoch_seconds[index])
        if np.isnan(seconds):
            raise RobBenchError(f"{self.name}: no timing model for dataset {self.dataset!r} (its table records "
                                "no times)")
        return float(epochs * seconds)

    @functools.cached_property
    def runs_per_class(self) -> float:
        """Training runs (seed labels with a value) per class and dataset, on average over every
        dataset of the table: 3.0 for a release with three seeds everywhere, 1.0 with seed "1"
        alone. The release's simulated time (:func:`release_epoch_seconds`) depends on it."""
        counts = []
        for ds in self.table.datasets:
            b = self.table.block(ds)
            real = b.real[:, -1]  # (metric, raw seed, row) at the last fidelity
            counts.append((~np.isnan(real)).any(axis=0).sum(axis=0).mean())
        return float(np.mean(counts))

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
        from .pareto import pareto_mask

        names = [self.resolve_metric(o) for o in objectives]
        df = self.cell_frame(names, seed=seed, fidelity=fidelity).dropna(subset=names)
        df = df.drop_duplicates(subset=names)
        signs = np.array([1.0 if metric_direction(n) == "maximize" else -1.0 for n in names])
        mask = pareto_mask(df[names].to_numpy() * signs)
        return df[mask].sort_values(names[0], ascending=signs[0] < 0).reset_index(drop=True)

    def __repr__(self) -> str:
        return (f"<Benchmark {self.name!r} dataset={self.dataset!r} mode={self.mode!r} classes={len(self.uids)} "
                f"metrics={len(self._block.metrics)} fidelities={self.fidelities} seeds={self.seeds}>")
