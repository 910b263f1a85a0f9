"""The surrogate model: features of (cell, epoch), ensembles fitted per metric, predictions.

A fitted LightGBM member is kept as LightGBM's own ``Booster`` (saved as its text model, see
:mod:`.fileformat`); a scikit-learn member (when LightGBM is absent) as the estimator.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..costs import all_costs
from ..encodings import encode
from ..errors import DataFileError, InvalidChoiceError, InvalidValueError, MissingExtraError
from ..metrics import COST_METRICS
from ..objective import Benchmark
from ..space import NUM_ARCHS
from .fileformat import read_file, read_header, write_file

BACKENDS = ("auto", "lightgbm", "sklearn")
# bump FEATURE_VERSION when :func:`features` changes, FIT_VERSION when :meth:`SurrogateModel.fit`
# would fit a different model from the same data and arguments: saved models of another version
# are refitted, never reused
FEATURE_VERSION = 1
FIT_VERSION = 2  # 2: the source's op-count epoch-time model (was a FLOPs line)


def features(indices: np.ndarray, fidelity: np.ndarray, costs: dict[str, np.ndarray]) -> np.ndarray:
    """Feature matrix for (NB201 index, fidelity) pairs; ``costs`` from :func:`all_costs`."""
    idx = np.asarray(indices, dtype=np.int64)
    fid = np.asarray(fidelity, dtype=np.float32).reshape(-1, 1)
    if len(fid) != len(idx):
        raise InvalidValueError(f"indices and fidelity differ in length: {len(idx)} vs {len(fid)}")
    if (idx < 0).any() or (idx >= NUM_ARCHS).any():
        raise InvalidValueError(f"NB201 indices must be in 0..{NUM_ARCHS - 1}")
    if (fid < 0).any():
        raise InvalidValueError(f"fidelity must be >= 0 epochs, got {float(fid.min())}")
    extra = np.stack([costs["params"][idx], costs["flops"][idx]], axis=1).astype(np.float32)
    return np.concatenate([encode(idx), extra, np.log2(fid + 1.0), fid], axis=1)


def _make_regressor(backend: str, seed: int, n_estimators: int = 400):
    if backend == "lightgbm":
        import lightgbm as lgb

        return lgb.LGBMRegressor(n_estimators=n_estimators, learning_rate=0.05, num_leaves=31, min_child_samples=10,
                                 subsample=0.8, subsample_freq=1, colsample_bytree=0.8, random_state=seed,
                                 n_jobs=1, verbose=-1)
    from sklearn.ensemble import HistGradientBoostingRegressor

    return HistGradientBoostingRegressor(max_iter=n_estimators, learning_rate=0.05, random_state=seed)


def resolve_backend(backend: str = "auto") -> str:
    if backend not in BACKENDS:
        raise InvalidChoiceError("surrogate backend", backend, BACKENDS)
    if backend in ("auto", "lightgbm"):
        try:
            import lightgbm  # noqa: F401

            return "lightgbm"
        except ImportError:
            if backend == "lightgbm":
                raise MissingExtraError("lightgbm", "surrogate") from None
    try:
        import sklearn  # noqa: F401
    except ImportError:
        raise MissingExtraError("scikit-learn", "surrogate") from None
    return "sklearn"


@dataclass
class SurrogateModel:
    """Fitted ensembles per metric. Build with :meth:`fit`; ``fidelities`` are epochs,
    ``time_model``: the source table's epoch-time model
    (:meth:`~robbench_plugin.time_model.EpochTimeModel.as_dict`), the surrogate's clock; None
    when the source records no times."""

    dataset: str
    metrics: list[str]
    fidelities: list[int]
    C: int
    N: int
    backend: str
    data_sha256: str
    n_models: int
    models: dict[str, list[Any]] = field(default_factory=dict)
    metric_fidelities: dict[str, list[int]] = field(default_factory=dict)
    time_model: dict | None = None
    feature_version: int = FEATURE_VERSION
    fit_version: int = FIT_VERSION
    source_meta: dict = field(default_factory=dict)

    @classmethod
    def fit(cls, bench: Benchmark, metrics: Sequence[str] | None = None, uids: np.ndarray | None = None,
            seed: str = "mean", n_models: int = 5, backend: str = "auto", random_state: int = 0,
            n_estimators: int = 400) -> "SurrogateModel":
        """Fit on ``bench``'s values (``seed`` label or mean) at every recorded fidelity, over
        ``uids`` (default all classes present). ``metrics`` default: those behind the benchmark's
        aliases (clean and robust accuracy), else every accuracy metric.
        ``n_estimators``: boosting rounds per ensemble member."""
        backend = resolve_backend(backend)
        if n_models < 1:
            raise InvalidValueError(f"n_models must be >= 1, got {n_models}")
        if metrics is None:
            metrics = sorted(set(bench.aliases.values()) & set(bench.metrics)) or \
                [m for m in bench.metrics if m.endswith("_acc") and m != "train_acc"]
        metrics = [bench.resolve_metric(m) for m in metrics]
        bad = [m for m in metrics if m in COST_METRICS]
        if bad:
            raise InvalidValueError(f"costs {bad} are computed exactly; a surrogate predicts table metrics only")
        uids = bench.uids if uids is None else np.asarray(uids, dtype=np.int64)
        missing = np.setdiff1d(uids, bench.uids)
        if len(missing):
            raise InvalidValueError(f"uids not in the table: {missing[:5].tolist()}")
        costs = all_costs(bench.dataset, bench.table.meta.C, bench.table.meta.N)
        model = cls(bench.dataset, metrics, list(bench.fidelities), bench.table.meta.C, bench.table.meta.N, backend,
                    bench.table.sha256(), n_models, source_meta={"name": bench.name, "aliases": bench.aliases,
                                                                 "runs_per_class": bench.runs_per_class,
                                                                 "time_source": bench.time_source})
        time_model = getattr(bench, "epoch_time_model", None)  # the source's clock, carried over
        model.time_model = time_model.as_dict() if time_model is not None else None
        rng = np.random.default_rng(random_state)
        for m in metrics:
            xs, ys = [], []
            for f in bench.fidelities:
                col = bench.query_many(uids, [m], seed=seed, fidelity=f)[m].to_numpy()
                ok = ~np.isnan(col)
                if ok.any():
                    xs.append(features(uids[ok], np.full(ok.sum(), f), costs))
                    ys.append(col[ok])
                    model.metric_fidelities.setdefault(m, []).append(int(f))
            if not xs:
                raise InvalidValueError(f"metric {m!r} has no values to fit")
            X, y = np.concatenate(xs), np.concatenate(ys)
            ensemble = []
            for k in range(n_models):
                boot = rng.integers(0, len(y), len(y)) if n_models > 1 else np.arange(len(y))
                reg = _make_regressor(backend, random_state * 1000 + k, n_estimators)
                reg.fit(X[boot], y[boot])
                ensemble.append(reg.booster_ if backend == "lightgbm" else reg)  # LightGBM: its own Booster
            model.models[m] = ensemble
        return model

    def predict(self, indices: np.ndarray, metric: str, fidelity: int | np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
        """(mean, std) predictions for NB201 ``indices`` at ``fidelity`` (default the last)."""
        if metric not in self.models:
            raise InvalidChoiceError("surrogate metric", metric, list(self.models))
        idx = np.asarray(indices, dtype=np.int64).ravel()
        fid = np.full(len(idx), self.fidelities[-1] if fidelity is None else 0, dtype=np.float32)
        if fidelity is not None:
            fid[:] = fidelity
        costs = all_costs(self.dataset, self.C, self.N)
        X = features(idx, fid, costs)
        preds = np.stack([m.predict(X) for m in self.models[metric]])
        mean, std = preds.mean(0), preds.std(0)
        if metric.endswith("_acc"):
            mean = np.clip(mean, 0.0, 1.0)
        return mean, std

    # --- persistence (the file: :mod:`.fileformat`) -------------------------------------
    def save(self, path: str | Path, fit_kwargs: dict | None = None) -> Path:
        """Write the model (atomic); ``fit_kwargs`` it was fitted with go into the header."""
        header = {"feature_version": self.feature_version, "fit_version": self.fit_version,
                  "fit_kwargs": fit_kwargs or {}, **{k: getattr(self, k) for k in _HEADER_FIELDS}}
        return write_file(path, header, self.models)

    @staticmethod
    def read_header(path: str | Path) -> dict:
        """The JSON header of a saved surrogate (cheap: the models are not read)."""
        return read_header(path)

    @classmethod
    def load(cls, path: str | Path, expect_sha256: str | None = None) -> "SurrogateModel":
        """Load a saved model; a file of another format, feature or fit version, of another
        training table (``expect_sha256``) or unreadable by the installed LightGBM/scikit-learn is
        a :class:`~robbench_plugin.errors.DataFileError` that says to refit."""
        check_header(read_header(path), path, expect_sha256)
        header, members = read_file(path)
        model = cls(**{k: header[k] for k in _HEADER_FIELDS})
        model.models = members
        return model


_HEADER_FIELDS = ("dataset", "metrics", "fidelities", "C", "N", "backend", "data_sha256", "n_models",
                  "metric_fidelities", "time_model", "source_meta")


def check_header(header: dict, path: str | Path, expect_sha256: str | None = None) -> None:
    """DataFileError (saying to refit) unless the saved model's features and fit recipe are this
    package's and, when given, its training table has ``expect_sha256``."""
    versions = (header.get("feature_version"), header.get("fit_version"))
    if versions != (FEATURE_VERSION, FIT_VERSION):
        raise DataFileError(f"{path} has feature/fit versions {versions}; this package fits "
                            f"{(FEATURE_VERSION, FIT_VERSION)}: refit it")
    if expect_sha256 is not None and header["data_sha256"] != expect_sha256:
        raise DataFileError(f"{path} was fitted on data {header['data_sha256'][:12]}..., not on this table "
                            f"({expect_sha256[:12]}...): refit it")
