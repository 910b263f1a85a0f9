"""Across tasks: each searcher's interquartile mean of the final normalized regret over all (task,
seed) runs, with its 95% stratified bootstrap interval (tasks as strata)."""
from __future__ import annotations

from pathlib import Path

from . import save


def _get_iqm_info(agg) -> dict:
    rows = agg.iqm.to_dict("records")
    return {"tasks": agg.tasks, "searchers": {r["searcher"]: [r["iqm_regret"], r["iqm_lo"], r["iqm_hi"]]
                                              for r in rows}}


def plot_iqm(info: dict, stem: str | Path) -> list[Path]:
    from ...plotting import pyplot

    plt = pyplot()
    names = list(info["searchers"])
    fig, ax = plt.subplots(figsize=(6.0, 1.2 + 0.35 * len(names)))
    for i, name in enumerate(names):
        point, lo, hi = info["searchers"][name]
        ax.errorbar([point], [i], xerr=[[point - lo], [hi - point]], fmt="o", capsize=3)
    ax.set_yticks(range(len(names)), names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("IQM of the final hypervolume regret (lower is better)")
    ax.set_title(f"over {len(info['tasks'])} task(s); 95% stratified bootstrap intervals", fontsize=9)
    fig.tight_layout()
    return save(fig, stem)
