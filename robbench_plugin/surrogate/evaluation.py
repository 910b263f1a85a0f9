"""Held-out rank quality of the surrogate against ridge and k-NN baselines and the table's own
noise ceiling (``robbench surrogate-eval``)."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from ..errors import InvalidValueError
from ..encodings import encode
from ..objective import Benchmark
from ..stats import kendall, spearman
from .model import SurrogateModel


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
    less noisy target on those classes, the mean of the other seeds (all but the first): ``rerun``
    is the first seed scored against it and every model is scored against the same target (scope
    ``final-seed-mean-rerun-classes``), so the rerun and the models are compared like for like.
    """
    import time

    from sklearn.linear_model import Ridge

    from ..encodings import hamming

    names = [bench.resolve_metric(m) for m in metrics]
    rows = []
    uids = bench.uids
    for frac in fractions:
        if not 0 < frac < 1:
            raise InvalidValueError(f"training fraction must be in (0, 1), got {frac}")
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
                                 "n_train": len(tr), "kendall": kendall(per_f[final][ok], truth[final][ok]),
                                 "spearman": spearman(per_f[final][ok], truth[final][ok]),
                                 "predict_ms_per_1k": latency if name == "surrogate" else np.nan})
                    if len(fids) > 1:
                        p = np.concatenate([per_f[f] for f in fids])
                        y = np.concatenate([truth[f] for f in fids])
                        ok = ~np.isnan(y)
                        rows.append({"model": name, "fraction": frac, "split": split, "metric": m,
                                     "scope": "per-epoch", "n_train": len(tr), "kendall": kendall(p[ok], y[ok]),
                                     "spearman": spearman(p[ok], y[ok]), "predict_ms_per_1k": np.nan})
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
            ("final-seed-mean-rerun-classes", runs[:, 0], np.nanmean(runs[:, 1:], axis=1),
             np.nanmean(runs[:, 1:], axis=1))):
        rows.append({**base, "model": "rerun", "scope": scope, "kendall": kendall(rerun, reference),
                     "spearman": spearman(rerun, reference), "predict_ms_per_1k": np.nan})
        for name, pred in final_preds.items():
            rows.append({**base, "model": name, "scope": scope, "kendall": kendall(pred[both], target),
                         "spearman": spearman(pred[both], target), "predict_ms_per_1k": np.nan})
    return rows


def summarize_evaluation(df: pd.DataFrame) -> pd.DataFrame:
    """Mean and std of kendall/spearman over splits, per model, fraction, metric and scope."""
    g = df.groupby(["metric", "scope", "fraction", "model"])
    out = g[["kendall", "spearman"]].agg(["mean", "std"])
    out.columns = [f"{a}_{b}" for a, b in out.columns]
    out["predict_ms_per_1k"] = g["predict_ms_per_1k"].mean()
    return out.reset_index()
