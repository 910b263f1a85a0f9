"""Empirical attainment surfaces of each searcher on one task (two objectives): the median and the
25% / 75% surfaces of its runs' final fronts (the best and the worst quartile of runs), with the
task's true front."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..indicators import EAF_PERCENTILES, attainment, final_front
from . import save


def searcher_points(result, searcher: str) -> tuple[np.ndarray, np.ndarray]:
    """(points, run labels) of the final fronts of every seed of ``searcher``."""
    pts, sets = [], []
    for seed in range(result.seeds):
        front = final_front(result.spec, result.runs[(result.runs.searcher == searcher) & (result.runs.seed == seed)])
        pts.append(front)
        sets += [seed] * len(front)
    return np.vstack(pts), np.asarray(sets)


def _get_eaf_info(result) -> dict:
    """``{"objectives", "percentiles", "true", "searchers": {name: {percentile: [[x, y], ...]}}}``."""
    spec = result.spec
    maximise = [d == "maximize" for d in spec.directions]
    surfaces = {}
    for s in result.searchers:
        pts, sets = searcher_points(result, s)
        surfaces[s] = {str(p): v.tolist() for p, v in attainment(pts, sets, maximise).items()}
    return {"task": result.label, "objectives": list(spec.metrics), "maximise": maximise,
            "percentiles": list(EAF_PERCENTILES), "true": sorted(spec.true_front()[spec.metrics].to_numpy().tolist()),
            "searchers": surfaces}


def staircase(points, maximise) -> tuple[list, list]:
    """x, y of the attainment surface through ``points`` drawn as the staircase it is."""
    pts = sorted(points, reverse=maximise[0])
    xs, ys = [], []
    for i, (x, y) in enumerate(pts):
        if i:
            xs.append(x)
            ys.append(pts[i - 1][1])
        xs.append(x)
        ys.append(y)
    return xs, ys


def plot_eaf(info: dict, stem: str | Path) -> list[Path]:
    from ...plotting import pyplot

    plt = pyplot()
    n = len(info["searchers"])
    cols = min(n, 3)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.6 * rows), squeeze=False, sharex=True, sharey=True)
    styles = {"25": ("tab:green", ":"), "50": ("tab:blue", "-"), "75": ("tab:red", "--")}
    for ax, (name, surfaces) in zip(axes.ravel(), info["searchers"].items()):
        ax.plot(*zip(*info["true"]), "k.", ms=3, label="true front")
        for p, pts in surfaces.items():
            if pts:
                color, ls = styles.get(p, ("gray", "-"))
                ax.plot(*staircase(pts, info["maximise"]), color=color, ls=ls, label=f"{p}% attainment")
        ax.set_title(name, fontsize=9)
        ax.set_xlabel(info["objectives"][0], fontsize=8)
        ax.set_ylabel(info["objectives"][1], fontsize=8)
    for ax in axes.ravel()[n:]:
        ax.axis("off")
    axes.ravel()[0].legend(fontsize=6)
    fig.suptitle(f"{info['task']}: empirical attainment surfaces of the final fronts over seeds", fontsize=9)
    fig.tight_layout()
    return save(fig, stem)
