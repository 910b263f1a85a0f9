"""Surrogate benchmark: gradient-boosted ensembles predicting any metric at any fidelity.

Features: cell encodings (:mod:`robbench_plugin.encodings`: one-hot, path, op counts), the
network's params and FLOPs, and the fidelity (epoch). One ensemble per metric of
``n_models`` LightGBM regressors (scikit-learn's HistGradientBoostingRegressor when LightGBM
is absent) on bootstrap resamples with different seeds; the prediction is the ensemble mean
and its uncertainty the ensemble standard deviation.

:class:`SurrogateBenchmark` is a :class:`~robbench_plugin.objective.Benchmark` over a table of
predictions for all 6466 classes at every fidelity, so every query, Pareto front and adapter
works on it as on a tabular benchmark. With ``noise=True`` each entry is drawn once from
N(mean, std) with a fixed ``noise_seed`` (deterministic); predictions are clipped to [0, 1]
for accuracies.

Extra ``surrogate`` (lightgbm, scikit-learn).
"""
from __future__ import annotations

import json
import lzma
import pickle
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .costs import DATASET_SPECS, all_costs
from .encodings import encode
from .errors import DataFileError, InvalidChoiceError, MissingExtraError, RobBenchError
from .fileutil import atomic_write_bytes
from .objective import COST_METRICS, Benchmark
from .space import NUM_ARCHS, unique_indices
from .table import Table, TableMeta

FEATURE_VERSION = 1
BACKENDS = ("auto", "lightgbm", "sklearn")
_MAGIC = b"RBSURR2\n"


def _version() -> str:
    from . import __version__

    return __version__


def features(indices: np.ndarray, fidelity: np.ndarray, costs: dict[str, np.ndarray]) -> np.ndarray:
    """Feature matrix for (NB201 index, fidelity) pairs; ``costs`` from :func:`all_costs`."""
    idx = np.asarray(indices, dtype=np.int64)
    fid = np.asarray(fidelity, dtype=np.float32).reshape(-1, 1)
    if len(fid) != len(idx):
        raise ValueError(f"indices and fidelity differ in length: {len(idx)} vs {len(fid)}")
    if (idx < 0).any() or (idx >= NUM_ARCHS).any():
        raise ValueError(f"NB201 indices must be in 0..{NUM_ARCHS - 1}")
    if (fid < 0).any():
        raise ValueError(f"fidelity must be >= 0 epochs, got {float(fid.min())}")
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
    """Fitted ensembles per metric. Build with :meth:`fit`."""

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
    time_coef: tuple[float, float] | None = None  # seconds per epoch = a * flops(M) + b
    version: str = field(default_factory=_version)
    feature_version: int = FEATURE_VERSION
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
            raise ValueError(f"n_models must be >= 1, got {n_models}")
        if metrics is None:
            metrics = sorted(set(bench.aliases.values()) & set(bench.metrics)) or \
                [m for m in bench.metrics if m.endswith("_acc") and m != "train_acc"]
        metrics = [bench.resolve_metric(m) for m in metrics]
        bad = [m for m in metrics if m in COST_METRICS]
        if bad:
            raise ValueError(f"costs {bad} are computed exactly; a surrogate predicts table metrics only")
        uids = bench.uids if uids is None else np.asarray(uids, dtype=np.int64)
        missing = np.setdiff1d(uids, bench.uids)
        if len(missing):
            raise ValueError(f"uids not in the table: {missing[:5].tolist()}")
        costs = all_costs(bench.dataset if bench.dataset in DATASET_SPECS else "cifar10", bench.table.meta.C,
                          bench.table.meta.N)
        model = cls(bench.dataset, metrics, list(bench.fidelities), bench.table.meta.C, bench.table.meta.N, backend,
                    bench.table.sha256(), n_models, source_meta={"name": bench.name, "aliases": bench.aliases,
                                                                 "time_source": bench.time_source})
        if "time_s" in bench.metrics:  # a linear model of the recorded epoch time in FLOPs
            t = bench.query_many(uids, ["time_s", "flops"], seed=seed, fidelity=bench.fidelities[-1])
            ok = ~t["time_s"].isna().to_numpy()
            if ok.sum() >= 2:
                a, b = np.polyfit(t["flops"].to_numpy()[ok], t["time_s"].to_numpy()[ok], 1)
                model.time_coef = (float(a), float(b))
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
                raise ValueError(f"metric {m!r} has no values to fit")
            X, y = np.concatenate(xs), np.concatenate(ys)
            ensemble = []
            for k in range(n_models):
                boot = rng.integers(0, len(y), len(y)) if n_models > 1 else np.arange(len(y))
                reg = _make_regressor(backend, random_state * 1000 + k, n_estimators)
                reg.fit(X[boot], y[boot])
                ensemble.append(reg)
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
        costs = all_costs(self.dataset if self.dataset in DATASET_SPECS else "cifar10", self.C, self.N)
        X = features(idx, fid, costs)
        preds = np.stack([m.predict(X) for m in self.models[metric]])
        mean, std = preds.mean(0), preds.std(0)
        if metric.endswith("_acc"):
            mean = np.clip(mean, 0.0, 1.0)
        return mean, std

    # --- persistence ----------------------------------------------------------------
    def save(self, path: str | Path, fit_kwargs: dict | None = None) -> Path:
        """Write an lzma-compressed pickle behind a JSON header (package and feature versions,
        training-data sha, metrics, backend, and the ``fit_kwargs`` it was fitted with); atomic."""
        header = {"version": self.version, "feature_version": self.feature_version, "data_sha256": self.data_sha256,
                  "dataset": self.dataset, "metrics": self.metrics, "backend": self.backend,
                  "fit_kwargs": fit_kwargs or {}}
        head = json.dumps(header, sort_keys=True).encode()
        payload = lzma.compress(pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL), preset=6)
        return atomic_write_bytes(path, _MAGIC + len(head).to_bytes(8, "little") + head + payload)

    @staticmethod
    def read_header(path: str | Path) -> dict:
        """The JSON header of a saved surrogate (cheap: the models are not read)."""
        with open(path, "rb") as fh:
            return _parse_header(fh.read(len(_MAGIC) + 8), fh.read, path)[0]

    @classmethod
    def load(cls, path: str | Path, expect_sha256: str | None = None) -> "SurrogateModel":
        """Load; the package version, feature version and (if given) the training data's sha
        must match, else :class:`DataFileError`."""
        data = Path(path).read_bytes()
        header, start = _parse_header(data[:len(_MAGIC) + 8], lambda n: data[len(_MAGIC) + 8:len(_MAGIC) + 8 + n],
                                      path)
        if header["version"] != _version() or header["feature_version"] != FEATURE_VERSION:
            raise DataFileError(f"{path} was fitted with robbench-plugin {header['version']} (features "
                                f"v{header['feature_version']}); this is {_version()} (v{FEATURE_VERSION}): refit it")
        if expect_sha256 is not None and header["data_sha256"] != expect_sha256:
            raise DataFileError(f"{path} was fitted on data {header['data_sha256'][:12]}..., not on this table "
                                f"({expect_sha256[:12]}...): refit it")
        return pickle.loads(lzma.decompress(data[start:]))


def _parse_header(prefix: bytes, read, path) -> tuple[dict, int]:
    """(header, offset of the payload) from the file's first bytes; ``read(n)`` gives the next n."""
    if prefix[:len(_MAGIC)] != _MAGIC:
        raise DataFileError(f"{path} is not a robbench surrogate file")
    n = int.from_bytes(prefix[len(_MAGIC):], "little")
    return json.loads(read(n)), len(_MAGIC) + 8 + n


# --- fitted once, then reused -----------------------------------------------------------
SHIPPED_SURROGATES = {"digits": "digits-surrogate.rbs"}


def _cache_key(bench: Benchmark, data_sha256: str, fit_kwargs: dict) -> str:
    import hashlib

    blob = json.dumps({"data": data_sha256, "dataset": bench.dataset, "version": _version(),
                       "features": FEATURE_VERSION, "fit": fit_kwargs}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def shipped_surrogate_path(name: str) -> Path | None:
    """Path of the fitted surrogate shipped as package data for benchmark ``name``, if any."""
    from importlib import resources

    fname = SHIPPED_SURROGATES.get(name)
    if fname is None:
        return None
    path = resources.files("robbench_plugin").joinpath("_data", fname)
    return Path(str(path)) if path.is_file() else None


def fitted_surrogate(bench: Benchmark, refit: bool = False, progress: bool = True, **fit_kw: Any) -> SurrogateModel:
    """The surrogate of ``bench`` fitted with ``fit_kw`` (see :meth:`SurrogateModel.fit`), fitted
    at most once: the package's shipped model when it was fitted on exactly this table with these
    arguments, else ``<ROBBENCH_HOME>/surrogates/<key>.rbs`` (key = data sha, dataset, package
    version and arguments), else fitted now and saved there. ``refit=True`` ignores both."""
    from .paths import home

    fit_kw = {k: (list(v) if isinstance(v, (tuple, np.ndarray)) else v) for k, v in fit_kw.items()}
    sha = bench.table.sha256()
    if not refit:
        shipped = shipped_surrogate_path(bench.name)
        if shipped is not None:
            head = SurrogateModel.read_header(shipped)
            if (head["data_sha256"], head["dataset"], head["fit_kwargs"]) == (sha, bench.dataset, fit_kw) \
                    and head["version"] == _version():
                return SurrogateModel.load(shipped, expect_sha256=sha)
    cached = home() / "surrogates" / f"{_cache_key(bench, sha, fit_kw)}.rbs"
    if cached.is_file() and not refit:
        return SurrogateModel.load(cached, expect_sha256=sha)
    if progress:
        print(f"fitting the surrogate of {bench.name!r} once (cached in {cached})", file=sys.stderr, flush=True)
    model = SurrogateModel.fit(bench, **fit_kw)
    model.save(cached, fit_kwargs=fit_kw)
    return model


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
        from .table import _DatasetBlock

        metrics = list(model.metrics)
        if model.time_coef is not None:  # modelled epoch time, so simulators get a runtime
            flops = all_costs(model.dataset if model.dataset in DATASET_SPECS else "cifar10", model.C, model.N)["flops"]
            t = np.maximum(model.time_coef[0] * flops[uids] + model.time_coef[1], 1e-3)
            values = np.concatenate([values, np.broadcast_to(t, (1, len(model.fidelities), 1, len(uids)))], axis=0)
            self._std = np.concatenate([self._std, np.zeros((1, len(model.fidelities), len(uids)))], axis=0)
            metrics.append("time_s")
        block = _DatasetBlock.from_real(uids, metrics, list(model.fidelities), ["0"], values)
        meta = TableMeta(name=name or f"{model.source_meta.get('name', 'surrogate')}-surrogate",
                         source=f"surrogate ({model.backend}, {model.n_models} models) of data "
                                f"{model.data_sha256[:12]}", aliases=dict(model.source_meta.get("aliases", {})),
                         C=model.C, N=model.N,
                         time_source="surrogate-time-model" if model.time_coef is not None else "flops-model")
        meta.aliases = {k: v for k, v in meta.aliases.items() if v in model.metrics}
        super().__init__(Table({model.dataset: block}, meta), model.dataset)

    @classmethod
    def from_benchmark(cls, bench: Benchmark, noise: bool = False, noise_seed: int = 0, refit: bool = False,
                       **fit_kw: Any) -> "SurrogateBenchmark":
        """The surrogate benchmark of ``bench`` (fitted once, see :func:`fitted_surrogate`)."""
        return cls(fitted_surrogate(bench, refit=refit, **fit_kw), noise=noise, noise_seed=noise_seed,
                   name=f"{bench.name}")

    def uncertainty(self, arch, metric: str, fidelity: int | None = None) -> float:
        """Ensemble standard deviation of the prediction for ``arch``."""
        from .objective import arch_index

        m = self.resolve_metric(metric)
        b = self._block
        f = self._fidelity_pos(m, fidelity)
        return float(self._std[b.metric_pos[m], f, self._row(arch_index(arch))])

    def train_time(self, arch, fidelity: int | None = None, seed: str = "mean") -> float:
        """Simulated seconds to reach ``fidelity``: the linear FLOPs model of the source's recorded
        epoch times, or the release's FLOPs model when the source has no timings."""
        from .objective import arch_index, release_epoch_seconds

        epochs = fidelity if fidelity is not None else self.fidelities[-1]
        flops = float(self._costs["flops"][arch_index(arch)])
        if self.model.time_coef is not None:
            return float(epochs * max(self.model.time_coef[0] * flops + self.model.time_coef[1], 1e-3))
        if self.dataset not in ("cifar10", "cifar100", "imagenet"):
            raise RobBenchError(f"no timing model for dataset {self.dataset!r}")
        return float(epochs * release_epoch_seconds(self.dataset, flops))


# --- evaluation -----------------------------------------------------------------------
def _kendall(a: np.ndarray, b: np.ndarray) -> float:
    from scipy.stats import kendalltau

    return float(kendalltau(a, b)[0])


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    from scipy.stats import spearmanr

    return float(spearmanr(a, b)[0])


def evaluate_surrogate(bench: Benchmark, fractions: Sequence[float] = (0.05, 0.1, 0.25, 0.5), splits: int = 3,
                       metrics: Sequence[str] = ("clean", "robust"), n_models: int = 3, knn_k: int = 5,
                       progress: bool = False) -> pd.DataFrame:
    """Held-out rank correlation of the surrogate and two baselines fitted in the same run.

    For each fraction and split: train on that fraction of the classes, test on the rest.
    Rows: model (surrogate | ridge | knn-edit), fraction, split, metric, scope (``final`` =
    the last fidelity; ``per-epoch`` = all (class, epoch) pairs pooled), kendall, spearman,
    and predict_ms_per_1k (latency to predict 1000 archs at one fidelity).

    When the table has two or more seeds, a noise ceiling in the same run: on the held-out classes
    that have both of the first two seeds, ``model="rerun"`` is the Kendall tau between those two
    seeds (how well one training run ranks another run of the same classes), next to every model
    scored against the first seed on the same classes (scope ``final-rerun-classes``); and, as a
    less noisy target on those classes, every model against the mean of all their seeds with
    ``rerun`` = the first seed against the mean of the other seeds (scope
    ``final-seed-mean-rerun-classes``).
    """
    import time

    from sklearn.linear_model import Ridge

    from .encodings import hamming

    names = [bench.resolve_metric(m) for m in metrics]
    rows = []
    uids = bench.uids
    for frac in fractions:
        if not 0 < frac < 1:
            raise ValueError(f"training fraction must be in (0, 1), got {frac}")
        for split in range(splits):
            rng = np.random.default_rng(1000 * split + int(frac * 1000))
            perm = rng.permutation(uids)
            n_tr = max(int(round(frac * len(uids))), 10)
            tr, te = perm[:n_tr], perm[n_tr:]
            model = SurrogateModel.fit(bench, names, uids=tr, n_models=n_models, random_state=split)
            for m in names:
                fids = model.metric_fidelities[m]
                truth = {f: bench.query_many(te, [m], fidelity=f)[m].to_numpy() for f in fids}
                train_y = {f: bench.query_many(tr, [m], fidelity=f)[m].to_numpy() for f in fids}
                preds: dict[str, dict[int, np.ndarray]] = {"surrogate": {}, "ridge": {}, "knn-edit": {}}
                t = time.perf_counter()
                for f in fids:
                    preds["surrogate"][f] = model.predict(te, m, f)[0]
                latency = (time.perf_counter() - t) / (len(te) * len(fids)) * 1e6
                Xtr, Xte = encode(tr), encode(te)
                d = hamming(te, tr)
                near = np.argsort(d, axis=1, kind="stable")[:, :knn_k]
                for f in fids:
                    ok = ~np.isnan(train_y[f])
                    preds["ridge"][f] = Ridge(alpha=1.0).fit(Xtr[ok], train_y[f][ok]).predict(Xte)
                    ytr = np.where(ok, train_y[f], np.nanmean(train_y[f]))
                    preds["knn-edit"][f] = ytr[near].mean(1)
                rows += _rerun_rows(bench, m, fids[-1], te, {k: v[fids[-1]] for k, v in preds.items()},
                                    dict(fraction=frac, split=split, metric=m, n_train=len(tr)))
                for name, per_f in preds.items():
                    final = fids[-1]
                    ok = ~np.isnan(truth[final])
                    rows.append({"model": name, "fraction": frac, "split": split, "metric": m, "scope": "final",
                                 "n_train": len(tr), "kendall": _kendall(per_f[final][ok], truth[final][ok]),
                                 "spearman": _spearman(per_f[final][ok], truth[final][ok]),
                                 "predict_ms_per_1k": latency if name == "surrogate" else np.nan})
                    if len(fids) > 1:
                        p = np.concatenate([per_f[f] for f in fids])
                        y = np.concatenate([truth[f] for f in fids])
                        ok = ~np.isnan(y)
                        rows.append({"model": name, "fraction": frac, "split": split, "metric": m,
                                     "scope": "per-epoch", "n_train": len(tr), "kendall": _kendall(p[ok], y[ok]),
                                     "spearman": _spearman(p[ok], y[ok]), "predict_ms_per_1k": np.nan})
            if progress:
                print(f"fraction {frac:.2f} split {split}: done", flush=True)
    return pd.DataFrame(rows)


def _rerun_rows(bench: Benchmark, metric: str, fidelity: int, test_uids: np.ndarray,
                final_preds: dict[str, np.ndarray], base: dict) -> list[dict]:
    """Noise-ceiling rows of :func:`evaluate_surrogate` (none when fewer than two seeds)."""
    labels = [s for s in bench.seeds if s not in ("mean", "std")]
    if len(labels) < 2:
        return []
    a = bench.query_many(test_uids, [metric], seed=labels[0], fidelity=fidelity)[metric].to_numpy()
    b = bench.query_many(test_uids, [metric], seed=labels[1], fidelity=fidelity)[metric].to_numpy()
    both = ~np.isnan(a) & ~np.isnan(b)
    if both.sum() < 10:
        return []
    # a less noisy target on the same classes: the mean of all their seeds; "rerun" there is one
    # seed against the mean of the others
    runs = np.column_stack([a, b] + [bench.query_many(test_uids, [metric], seed=s, fidelity=fidelity)[metric]
                                     .to_numpy() for s in labels[2:]])[both]
    rows = []
    # (scope, a rerun, what it is scored against, what the models are scored against)
    for scope, rerun, reference, target in (
            ("final-rerun-classes", runs[:, 1], runs[:, 0], runs[:, 0]),
            ("final-seed-mean-rerun-classes", runs[:, 0], np.nanmean(runs[:, 1:], axis=1), np.nanmean(runs, axis=1))):
        rows.append({**base, "model": "rerun", "scope": scope, "kendall": _kendall(rerun, reference),
                     "spearman": _spearman(rerun, reference), "predict_ms_per_1k": np.nan})
        for name, pred in final_preds.items():
            rows.append({**base, "model": name, "scope": scope, "kendall": _kendall(pred[both], target),
                         "spearman": _spearman(pred[both], target), "predict_ms_per_1k": np.nan})
    return rows


def summarize_evaluation(df: pd.DataFrame) -> pd.DataFrame:
    """Mean and std of kendall/spearman over splits, per model, fraction, metric and scope."""
    g = df.groupby(["metric", "scope", "fraction", "model"])
    out = g[["kendall", "spearman"]].agg(["mean", "std"])
    out.columns = [f"{a}_{b}" for a, b in out.columns]
    out["predict_ms_per_1k"] = g["predict_ms_per_1k"].mean()
    return out.reset_index()
