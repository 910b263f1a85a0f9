"""Across tasks: each searcher's mean rank (1 = lowest regret) against the budget, as a fraction of
each task's full budget; ranks are taken per (task, seed) and averaged."""
from __future__ import annotations

from pathlib import Path

from . import save


def _get_ranks_info(agg) -> dict:
    return {"tasks": agg.tasks, "fractions": agg.fractions.tolist(),
            "searchers": {s: agg.rank_curves[s].tolist() for s in agg.searchers}}


def plot_ranks(info: dict, stem: str | Path) -> list[Path]:
    from ...plotting import pyplot

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for name, ranks in info["searchers"].items():
        ax.plot(info["fractions"], ranks, marker=".", label=name)
    ax.set_xlabel("budget (fraction of each task's full budget)")
    ax.set_ylabel("mean rank over tasks and seeds (1 = best)")
    ax.invert_yaxis()
    ax.set_title(f"mean rank against the budget, {len(info['tasks'])} task(s)", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return save(fig, stem)
