"""Zero-cost proxies of untrained NB201 networks and their correlation with clean/robust accuracy.

Computed with the package's own model builder on a fixed batch of the training images of the
benchmark's data set (digits ships with scikit-learn; Fashion-MNIST's files are found as the trainer
finds them, see :func:`robbench_plugin.train.data.load_splits`; CIFAR and ImageNet16 from
``data_root``), at initialisation, eval mode, seed-fixed (extra ``train``):

- ``ntk_cond``: condition number of the empirical NTK, Theta = J J^T with J the per-sample
  gradients of the summed logits w.r.t. all parameters (torch.func ``vmap(grad)``); lower is
  better-conditioned, so the correlation is reported for ``-ntk_cond`` as well;
- ``ntk_trace``: trace of Theta (= sum of squared per-sample gradient norms);
- ``grad_norm``: L2 norm of the cross-entropy gradient over all parameters;
- ``snip``: sum |theta * dL/dtheta|;
- ``synflow``: sum |theta * dR/dtheta| with |theta|, an all-ones input and R the summed output;
- ``jacov``: score of the correlation of input Jacobians across the batch (higher is better).

Other frameworks' proxies are computed on the same networks and batch through
``proxy_table(extra_scorers=...)``: ``robbench proxies`` passes NASLib's own ``ZeroCost``
predictor when NASLib is importable (it is not on PyPI, see docs/naslib.md; columns
``naslib_<method>``, see :data:`robbench_plugin.adapters.naslib.ZERO_COST_METHODS`).

The paper (Wu et al., ICLR 2024) reports that NTK-based measures correlate with robust accuracy
after adversarial training; :func:`proxy_correlations` measures that on a benchmark.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd


PROXIES = ("ntk_cond", "ntk_trace", "grad_norm", "snip", "synflow", "jacov")
# (untrained network, images, labels, number of classes) -> {proxy name: score}
Scorer = Callable[[Any, Any, Any, int], Mapping[str, float]]


def _per_sample_grads(model, x):
    import torch
    from torch.func import functional_call, grad, vmap

    params = {k: v.detach() for k, v in model.named_parameters()}
    buffers = {k: v.detach() for k, v in model.named_buffers()}

    def out_sum(p, xi):
        return functional_call(model, (p, buffers), (xi.unsqueeze(0),)).sum()

    g = vmap(grad(out_sum), in_dims=(None, 0))(params, x)
    return torch.cat([t.reshape(len(x), -1) for t in g.values()], dim=1)


def compute_proxies(arch, x, y, num_classes: int, C: int, N: int, seed: int = 0,
                    mean=None, std=None) -> dict[str, float]:
    """All :data:`PROXIES` for one architecture on the batch (x in [0, 1], y labels)."""
    import torch
    import torch.nn.functional as F

    from .train.model import build_model

    torch.manual_seed(seed)
    model = build_model(arch, num_classes, C=C, N=N, in_channels=x.shape[1], mean=mean, std=std).eval()
    out: dict[str, float] = {}
    J = _per_sample_grads(model, x)
    ntk = J @ J.T
    eig = torch.linalg.eigvalsh(ntk.double())
    out["ntk_trace"] = float(eig.sum())
    out["ntk_cond"] = float(eig[-1] / eig[0]) if eig[0] > 0 else float("inf")
    model.zero_grad()
    loss = F.cross_entropy(model(x), y)
    grads = torch.autograd.grad(loss, list(model.parameters()), allow_unused=True)
    pairs = [(p, g) for p, g in zip(model.parameters(), grads) if g is not None]
    with torch.no_grad():
        out["grad_norm"] = float(torch.sqrt(sum((g ** 2).sum() for _, g in pairs))) if pairs else 0.0
        out["snip"] = float(sum((p * g).abs().sum() for p, g in pairs)) if pairs else 0.0
    # synflow: |theta|, all-ones input, double precision
    m2 = build_model(arch, num_classes, C=C, N=N, in_channels=x.shape[1], mean=mean, std=std).double().eval()
    m2.load_state_dict({k: v.double() for k, v in model.state_dict().items()})
    with torch.no_grad():
        for p in m2.parameters():
            p.abs_()
    r = m2(torch.ones((1, *x.shape[1:]), dtype=torch.float64)).sum()
    g2 = torch.autograd.grad(r, list(m2.parameters()), allow_unused=True)
    with torch.no_grad():
        out["synflow"] = float(sum((p * g).abs().sum() for p, g in zip(m2.parameters(), g2) if g is not None))
    # jacov (Mellor et al.): correlations of input Jacobians of the summed output
    xi = x.clone().requires_grad_(True)
    (jx,) = torch.autograd.grad(model(xi).sum(), xi, allow_unused=True)
    if jx is None or not torch.isfinite(jx).all() or float(jx.abs().sum()) == 0.0:
        out["jacov"] = float("nan")
    else:
        jf = jx.reshape(len(x), -1).double()
        corr = torch.corrcoef(jf)
        ev = torch.linalg.eigvalsh(torch.nan_to_num(corr))
        k = 1e-5
        out["jacov"] = float(-torch.sum(torch.log(ev.clamp(min=0) + k) + 1.0 / (ev.clamp(min=0) + k)))
    return out


def proxy_table(bench, n: int = 200, batch: int = 32, seed: int = 0, progress: bool = False,
                extra_scorers: Mapping[str, Scorer] | None = None, data_root: str | None = None) -> pd.DataFrame:
    """Proxies of ``n`` random classes of ``bench`` (with their clean/robust accuracy), on a batch
    of ``batch`` training images of the benchmark's data set (``data_root``: the folder of its
    files where the data set does not ship with a package; a missing data set is an error naming
    where it is looked for).

    ``extra_scorers``: ``{prefix: scorer}``; each scorer gets a freshly built, untrained network
    (seeded like ours), the batch ``(x, y)`` and the number of classes, and returns
    ``{proxy: score}``, stored as ``<prefix>_<proxy>`` (e.g. NASLib's zero-cost predictors from
    :func:`robbench_plugin.adapters.naslib.zero_cost_scores` under the prefix ``naslib``)."""
    import torch

    from .train.data import load_splits

    splits = load_splits(bench.dataset, data_root)
    g = torch.Generator().manual_seed(seed)
    pick = torch.randperm(len(splits.train[0]), generator=g)[:batch]
    x, y = splits.train[0][pick], splits.train[1][pick]
    rng = np.random.default_rng(seed)
    uids = rng.choice(bench.uids, size=min(n, len(bench.uids)), replace=False)
    clean, robust = bench.resolve_metric("clean"), bench.resolve_metric("robust")
    acc = bench.query_many(uids, [clean, robust])
    rows = []
    mean, std = splits.mean_std
    from .train.model import build_model

    C, N = bench.table.meta.C, bench.table.meta.N
    for i, u in enumerate(uids):
        p = compute_proxies(int(u), x, y, splits.num_classes, C, N, seed=seed, mean=mean, std=std)
        for prefix, scorer in (extra_scorers or {}).items():
            torch.manual_seed(seed)
            model = build_model(int(u), splits.num_classes, C=C, N=N, in_channels=x.shape[1], mean=mean, std=std)
            p.update({f"{prefix}_{k}": v for k, v in scorer(model, x, y, splits.num_classes).items()})
        rows.append({"uid": int(u), "clean": acc[clean].iloc[i], "robust": acc[robust].iloc[i], **p})
        if progress and (i + 1) % 25 == 0:
            print(f"{i + 1}/{len(uids)} architectures", flush=True)
    return pd.DataFrame(rows)


def partial_spearman(x, y, z) -> float:
    """Spearman correlation of ``x`` and ``y`` with ``z`` partialled out, in [-1, 1]:
    (r_xy - r_xz r_yz) / sqrt((1 - r_xz^2)(1 - r_yz^2)) on Spearman coefficients. For a proxy,
    robust accuracy and clean accuracy it says whether the proxy knows anything about robust
    accuracy that clean accuracy does not already tell (the two are strongly correlated)."""
    from scipy.stats import spearmanr

    r = spearmanr(np.column_stack([x, y, z]))[0]
    rxy, rxz, ryz = r[0, 1], r[0, 2], r[1, 2]
    den = np.sqrt((1 - rxz ** 2) * (1 - ryz ** 2))
    return float((rxy - rxz * ryz) / den) if den > 0 else float("nan")


def proxy_correlations(df: pd.DataFrame, proxies: Sequence[str] | None = None) -> pd.DataFrame:
    """Spearman and Kendall of each proxy (and of -ntk_cond) with clean and robust accuracy, and
    ``partial``: the Spearman correlation with one target given the other
    (:func:`partial_spearman`); ``proxies`` default: :data:`PROXIES` and every ``naslib_*``
    column of ``df``."""
    from scipy.stats import kendalltau, spearmanr

    if proxies is None:
        proxies = list(PROXIES) + [c for c in df.columns if c.startswith("naslib_")]
    rows = []
    cols = list(proxies) + (["-ntk_cond"] if "ntk_cond" in proxies else [])
    for p in cols:
        vals = -df["ntk_cond"] if p == "-ntk_cond" else df[p]
        ok = np.isfinite(vals.to_numpy(dtype=float))
        for target, other in (("clean", "robust"), ("robust", "clean")):
            rows.append({"proxy": p, "target": target, "n": int(ok.sum()),
                         "spearman": float(spearmanr(vals[ok], df[target][ok])[0]),
                         "kendall": float(kendalltau(vals[ok], df[target][ok])[0]),
                         "partial": partial_spearman(vals[ok], df[target][ok], df[other][ok])})
    return pd.DataFrame(rows)


def plot_correlations(corr: pd.DataFrame, path, title: str = "") -> None:
    """Bar chart of each proxy's Spearman correlation with clean and with robust accuracy (PNG)."""
    from .plotting import pyplot

    plt = pyplot()

    from .fileutil import atomic_write_bytes

    piv = corr.pivot(index="proxy", columns="target", values="spearman").sort_values("robust")
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(piv) + 1.5))
    y = np.arange(len(piv))
    ax.barh(y - 0.2, piv["clean"], height=0.4, label="clean accuracy")
    ax.barh(y + 0.2, piv["robust"], height=0.4, label="robust accuracy")
    ax.set_yticks(y, piv.index)
    ax.axvline(0, c="k", lw=0.6)
    ax.set_xlabel("Spearman correlation")
    ax.legend(fontsize=8)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())
