"""A tabular benchmark's completeness and its simulated clock: the training seconds it charges for a
cell and fidelity, from recorded times or a model of them (see :mod:`robbench_plugin.objective`)."""
from __future__ import annotations

import functools

import numpy as np

from ..costs import RELEASE_DATASETS
from ..errors import InvalidChoiceError, InvalidValueError, RobBenchError
from ..release_time import release_epoch_seconds
from ..space import NUM_ARCHS, NUM_UNIQUE, ArchLike
from ..time_model import EpochTimeModel
from .cells import arch_index


class BenchmarkClock:
    """Completeness and training time of :class:`~robbench_plugin.objective.Benchmark`."""

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

    def mean_train_time(self) -> float:
        """Simulated seconds of training the average cell to the last epoch, over all 15625 cells
        (as random search draws them): what one full evaluation is worth when searchers are compared
        at equal simulated training time (a budget of B evaluations is B times this)."""
        return float(np.mean([self.train_time(i) for i in range(NUM_ARCHS)]))

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
