"""The surrogate benchmark: a :class:`~robbench_plugin.objective.Benchmark` over predictions."""
from __future__ import annotations

import functools
from typing import Any

import numpy as np

from ..objective import Benchmark, arch_index
from ..space import unique_indices
from ..table import Table, TableMeta
from ..time_model import EpochTimeModel
from .cache import fitted_surrogate
from .model import SurrogateModel


class SurrogateBenchmark(Benchmark):
    """A Benchmark over the surrogate's predictions for all 6466 classes."""

    mode = "surrogate"

    def __init__(self, model: SurrogateModel, noise: bool = False, noise_seed: int = 0, name: str | None = None):
        self.model = model
        self.noise, self.noise_seed = noise, noise_seed
        uids = unique_indices().astype(np.int64)
        rng = np.random.default_rng(noise_seed)
        values = np.full((len(model.metrics), len(model.fidelities), 1, len(uids)), np.nan)
        self._std = np.zeros_like(values[:, :, 0])
        for i, m in enumerate(model.metrics):
            for j, f in enumerate(model.fidelities):
                if f not in model.metric_fidelities[m]:
                    continue  # predict only where the source recorded this metric
                mean, std = model.predict(uids, m, f)
                if noise:
                    mean = mean + std * rng.standard_normal(len(uids))
                    if m.endswith("_acc"):
                        mean = np.clip(mean, 0.0, 1.0)
                values[i, j, 0] = mean
                self._std[i, j] = std
        metrics = list(model.metrics)
        if model.time_model is not None:  # the source's modelled epoch time, so simulators get a runtime
            t = EpochTimeModel.from_dict(model.time_model).seconds_per_epoch(uids)
            values = np.concatenate([values, np.broadcast_to(t, (1, len(model.fidelities), 1, len(uids)))], axis=0)
            self._std = np.concatenate([self._std, np.zeros((1, len(model.fidelities), len(uids)))], axis=0)
            metrics.append("time_s")
        meta = TableMeta(name=name or f"{model.source_meta.get('name', 'surrogate')}-surrogate",
                         source=f"surrogate ({model.backend}, {model.n_models} models) of data "
                                f"{model.data_sha256[:12]}", aliases=dict(model.source_meta.get("aliases", {})),
                         C=model.C, N=model.N,
                         time_source="surrogate-time-model" if model.time_model is not None else "flops-model")
        meta.aliases = {k: v for k, v in meta.aliases.items() if v in model.metrics}
        super().__init__(Table.from_dense(model.dataset, uids, metrics, list(model.fidelities), ["0"], values, meta),
                         model.dataset)

    @classmethod
    def from_benchmark(cls, bench: Benchmark, noise: bool = False, noise_seed: int = 0, refit: bool = False,
                       **fit_kw: Any) -> "SurrogateBenchmark":
        """The surrogate benchmark of ``bench`` (fitted once, see :func:`fitted_surrogate`)."""
        return cls(fitted_surrogate(bench, refit=refit, **fit_kw), noise=noise, noise_seed=noise_seed,
                   name=f"{bench.name}")

    def uncertainty(self, arch, metric: str, fidelity: int | None = None) -> float:
        """Ensemble standard deviation of the prediction for ``arch``."""
        m = self.resolve_metric(metric)
        b = self._block
        f = self._fidelity_pos(m, fidelity)
        return float(self._std[b.metric_pos[m], f, self._row(arch_index(arch))])

    @functools.cached_property
    def epoch_time_model(self) -> EpochTimeModel | None:
        """The source table's epoch-time model, which the surrogate carries as its clock (None
        when the source recorded no times: then the release's FLOPs model, as for the release)."""
        return EpochTimeModel.from_dict(self.model.time_model) if self.model.time_model is not None else None

    @property
    def runs_per_class(self) -> float:
        """The source table's training runs per class (the predictions have one "seed")."""
        return float(self.model.source_meta.get("runs_per_class", 3.0))
