"""Where on the front a searcher is better than random search: the difference of their empirical
attainment functions (two objectives), as rectangles coloured by (runs of the searcher attaining the
region - runs of random search attaining it) / runs: blue where the searcher attains more often, red
where random search does."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..indicators import attainment_difference
from . import save
from .eaf import searcher_points


def _get_eaf_diff_info(result, baseline: str = "random") -> dict:
    """``{"objectives", "baseline", "limits", "searchers": {name: [[x1, y1, x2, y2, d], ...]}}``: the
    difference d in [-1, 1] of each rectangle, whose corners are clipped to ``limits`` (the range of
    all searchers' final points, padded by 5%; moocore leaves the outer rectangles open)."""
    spec = result.spec
    maximise = [d == "maximize" for d in spec.directions]
    allpts = np.vstack([searcher_points(result, s)[0] for s in result.searchers])
    span = np.where(np.ptp(allpts, axis=0) > 0, np.ptp(allpts, axis=0), 1.0)
    lo, hi = allpts.min(axis=0) - 0.05 * span, allpts.max(axis=0) + 0.05 * span
    base = searcher_points(result, baseline)
    out = {}
    for s in result.searchers:
        if s == baseline:
            continue
        rect = attainment_difference(*searcher_points(result, s), *base, maximise)
        rect[:, [0, 2]] = np.clip(rect[:, [0, 2]], lo[0], hi[0])
        rect[:, [1, 3]] = np.clip(rect[:, [1, 3]], lo[1], hi[1])
        out[s] = rect.tolist()
    return {"task": result.label, "objectives": list(spec.metrics), "baseline": baseline, "maximise": maximise,
            "limits": [lo.tolist(), hi.tolist()], "searchers": out}


def plot_eaf_diff(info: dict, stem: str | Path) -> list[Path]:
    from matplotlib.patches import Rectangle

    from ...plotting import pyplot

    plt = pyplot()
    n = max(len(info["searchers"]), 1)
    cols = min(n, 3)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.6 * rows), squeeze=False, sharex=True, sharey=True)
    lo, hi = info["limits"]
    cmap = plt.get_cmap("RdBu")
    for ax, (name, rects) in zip(axes.ravel(), info["searchers"].items()):
        for xa, ya, xb, yb, d in rects:
            ax.add_patch(Rectangle((min(xa, xb), min(ya, yb)), abs(xb - xa), abs(yb - ya), lw=0,
                                   color=cmap(0.5 + 0.5 * d)))
        ax.set_xlim(lo[0], hi[0])
        ax.set_ylim(lo[1], hi[1])
        ax.set_title(f"{name} - {info['baseline']}", fontsize=9)
        ax.set_xlabel(info["objectives"][0], fontsize=8)
        ax.set_ylabel(info["objectives"][1], fontsize=8)
    for ax in axes.ravel()[len(info["searchers"]):]:
        ax.axis("off")
    sm = plt.cm.ScalarMappable(cmap=cmap, norm=plt.Normalize(-1, 1))
    fig.colorbar(sm, ax=axes.ravel().tolist(), shrink=0.8, label="attainment difference (searcher - baseline)")
    fig.suptitle(f"{info['task']}: EAF differences against {info['baseline']}", fontsize=9)
    return save(fig, stem)
