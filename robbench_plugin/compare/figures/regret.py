"""Regret against the budget (full-evaluation equivalents or simulated training time) of each
searcher on one task: the mean over seeds with its 95% bootstrap band."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ...stats import bootstrap_ci
from . import FLOOR, save

AXES = {"evals": "full-evaluation equivalents", "sim_time": "simulated training time (s)"}


def _get_regret_info(result, axis: str) -> dict:
    """``{"axis", "label", "grid", "searchers": {name: {"mean", "lo", "hi"}}}`` for ``axis`` (``evals``
    or ``sim_time``): hypervolume regret after each grid value, mean over seeds and the percentile
    bootstrap interval of that mean (95%)."""
    grid = result.grid_evals if axis == "evals" else result.grid_time
    curves = result.curves_evals if axis == "evals" else result.curves_time
    out = {}
    for s in result.searchers:
        c = curves[s]
        bands = [bootstrap_ci(c[:, i], resamples=2_000) for i in range(c.shape[1])]
        out[s] = {"mean": c.mean(axis=0).tolist(), "lo": [b[0] for b in bands], "hi": [b[1] for b in bands]}
    return {"axis": axis, "label": AXES[axis], "task": result.label, "grid": np.asarray(grid).tolist(),
            "searchers": out}


def plot_regret(info: dict, stem: str | Path) -> list[Path]:
    from ...plotting import pyplot

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for name, c in info["searchers"].items():
        line, = ax.plot(info["grid"], np.maximum(c["mean"], FLOOR), label=name)
        ax.fill_between(info["grid"], np.maximum(c["lo"], FLOOR), np.maximum(c["hi"], FLOOR), alpha=0.15,
                        color=line.get_color())
    ax.set_yscale("log")
    ax.set_xlabel(info["label"])
    ax.set_ylabel("hypervolume regret (1 - HV / true HV)")
    ax.set_title(f"{info['task']}: mean over seeds, 95% bootstrap band", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return save(fig, stem)
