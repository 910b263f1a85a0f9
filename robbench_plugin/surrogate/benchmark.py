"""The surrogate benchmark: a :class:`~robbench_plugin.objective.Benchmark` over predictions."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..costs import RELEASE_DATASETS, all_costs
from ..errors import RobBenchError
from ..objective import Benchmark, arch_index
from ..release_time import release_epoch_seconds
from ..space import unique_indices
from ..table import Table, TableMeta
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
        if model.time_coef is not None:  # modelled epoch time, so simulators get a runtime
            flops = all_costs(model.dataset, model.C, model.N)["flops"]
            t = np.maximum(model.time_coef[0] * flops[uids] + model.time_coef[1], 1e-3)
            values = np.concatenate([values, np.broadcast_to(t, (1, len(model.fidelities), 1, len(uids)))], axis=0)
            self._std = np.concatenate([self._std, np.zeros((1, len(model.fidelities), len(uids)))], axis=0)
            metrics.append("time_s")
        meta = TableMeta(name=name or f"{model.source_meta.get('name', 'surrogate')}-surrogate",
                         source=f"surrogate ({model.backend}, {model.n_models} models) of data "
                                f"{model.data_sha256[:12]}", aliases=dict(model.source_meta.get("aliases", {})),
                         C=model.C, N=model.N,
                         time_source="surrogate-time-model" if model.time_coef is not None else "flops-model")
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

    def train_time(self, arch, fidelity: int | None = None, seed: str = "mean") -> float:
        """Simulated seconds to reach ``fidelity``: the linear FLOPs model of the source's recorded
        epoch times, or the release's FLOPs model when the source has no timings."""
        epochs = fidelity if fidelity is not None else self.fidelities[-1]
        flops = float(self._costs["flops"][arch_index(arch)])
        if self.model.time_coef is not None:
            return float(epochs * max(self.model.time_coef[0] * flops + self.model.time_coef[1], 1e-3))
        if self.dataset not in RELEASE_DATASETS:
            raise RobBenchError(f"no timing model for dataset {self.dataset!r}")
        return float(epochs * release_epoch_seconds(self.dataset, flops, self.runs_per_class))

    @property
    def runs_per_class(self) -> float:
        """The source table's training runs per class (the predictions have one "seed")."""
        return float(self.model.source_meta.get("runs_per_class", 3.0))
