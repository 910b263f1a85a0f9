"""The final fronts of seed 0 of every searcher against the task's true front (two objectives)."""
from __future__ import annotations

from pathlib import Path

from ..indicators import final_front
from . import save


def _get_fronts_info(result) -> dict:
    """``{"objectives", "true": [[x, y], ...], "searchers": {name: [[x, y], ...]}}`` (seed 0, sorted)."""
    spec = result.spec
    true = spec.true_front()[spec.metrics].to_numpy(dtype=float)
    fronts = {}
    for s in result.searchers:
        run = result.runs[(result.runs.searcher == s) & (result.runs.seed == 0)]
        fronts[s] = sorted(final_front(spec, run).tolist())
    return {"task": result.label, "objectives": list(spec.metrics), "true": sorted(true.tolist()), "searchers": fronts}


def plot_fronts(info: dict, stem: str | Path) -> list[Path]:
    from ...plotting import pyplot

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.0, 4.6))
    true = info["true"]
    ax.plot([p[0] for p in true], [p[1] for p in true], "k.-", label="true front")
    for name, pts in info["searchers"].items():
        ax.scatter([p[0] for p in pts], [p[1] for p in pts], s=14, label=name)
    ax.set_xlabel(info["objectives"][0])
    ax.set_ylabel(info["objectives"][1])
    ax.set_title(f"{info['task']}: final fronts (seed 0) vs the true front", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return save(fig, stem)
