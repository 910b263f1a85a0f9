"""The main job's answer over seeds: does the sampler beat random search on this benchmark?

``robbench search`` runs its sampler, a second Optuna sampler and random search for several seeds
each at the same number of trials, as ``robbench compare`` runs them (:func:`~robbench_plugin.compare.
runs.run_one`: the same searchers, traces and regret), in this process. One figure per module part,
as Optuna's ``visualization`` does: :func:`_get_regret_info` computes what is shown (regret after
every trial: median and quartiles over seeds; the final regret's median with an order-statistics
interval; each sampler against random search, one-sided Mann-Whitney, Holm-adjusted) and
:func:`plot_regret` draws it; :func:`verdict` says in one line what that sample size supports.

Regret is 1 - the hypervolume of the front found so far / the true front's (reference point: each
objective's worst value over the table), a fraction in [0, 1]; lower is better.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd


BASELINE = "random"
ALPHA = 0.05


def seeded_runs(cspec, searchers: Sequence[str], seeds: Sequence[int]) -> tuple[pd.DataFrame, object]:
    """Every (searcher, seed) run of ``cspec`` (a :class:`~robbench_plugin.compare.spec.CompareSpec`)
    as ``robbench compare`` evaluates it; returns the runs' rows and the benchmark."""
    from .compare.runs import run_one

    bench = cspec.load()
    runs = pd.concat([run_one(s, int(seed), cspec, bench=bench) for s in searchers for seed in seeds],
                     ignore_index=True)
    return runs, bench


def _get_regret_info(spec, runs: pd.DataFrame, searchers: Sequence[str], seeds: Sequence[int],
                     trials: int) -> dict:
    """What the regret picture and the verdict show: per searcher the regret after every trial
    (at up to 50 trial counts from 1 to ``trials``) as median and quartiles over seeds, the final regret of each seed, its median and a
    95% interval of the median (nan with too few seeds), and for every searcher but random search
    the one-sided Mann-Whitney p-value that its final regrets are lower than random search's,
    Holm-adjusted over the searchers compared."""
    from .compare.indicators import regret_curves
    from .stats import holm, median_ci, rank_test

    # at most 50 points of the budget (every hypervolume costs), always the last trial
    grid = np.unique(np.linspace(1, trials, min(trials, 50)).round().astype(int))
    by_seed = runs.assign(seed=runs["seed"].map({s: i for i, s in enumerate(seeds)}))
    curves = regret_curves(spec, by_seed, searchers, len(seeds), "evals", grid)
    info: dict = {"trials": trials, "seeds": [int(s) for s in seeds], "grid": grid, "searchers": {}}
    for s in searchers:
        c = curves[s]
        finals = c[:, -1]
        low, high = median_ci(finals)
        info["searchers"][s] = {"median_curve": np.median(c, axis=0), "q25_curve": np.percentile(c, 25, axis=0),
                                "q75_curve": np.percentile(c, 75, axis=0), "finals": finals,
                                "median": float(np.median(finals)), "ci": (low, high)}
    others = [s for s in searchers if s != BASELINE]
    if BASELINE in info["searchers"] and others:
        raw = [rank_test(info["searchers"][s]["finals"], info["searchers"][BASELINE]["finals"], alternative="less")
               for s in others]
        for s, p, adj in zip(others, raw, holm(raw)):
            info["searchers"][s]["p_vs_random"] = p
            info["searchers"][s]["p_vs_random_holm"] = adj
    return info


def verdict(info: dict) -> str:
    """One line on each sampler against random search that holds at this number of seeds."""
    n = len(info["seeds"])
    parts = []
    for s, v in info["searchers"].items():
        if "p_vs_random_holm" not in v:
            continue
        p = v["p_vs_random_holm"]
        if p < ALPHA:
            parts.append(f"{s} finds better fronts than random search (p = {p:.3g})")
        else:
            parts.append(f"{s} is not distinguishable from random search (p = {p:.2g})")
    return (f"over {n} seeds of {info['trials']} trials: " + "; ".join(parts) +
            f" (one-sided Mann-Whitney on final regret, Holm-adjusted, alpha {ALPHA})")


def plot_regret(info: dict, path: str | Path, title: str) -> Path:
    """Regret against trials: each searcher's median over seeds, its quartiles shaded."""
    from .plotting import pyplot, save_figure

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4.2), dpi=120)
    for s, v in info["searchers"].items():
        (line,) = ax.plot(info["grid"], v["median_curve"], lw=1.5, label=f"{s} (median {v['median']:.4f})")
        ax.fill_between(info["grid"], v["q25_curve"], v["q75_curve"], color=line.get_color(), alpha=0.15, lw=0)
    ax.set_yscale("log")
    ax.set_xlabel("trials")
    ax.set_ylabel("regret: 1 - HV / true front's HV (median, quartiles)")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, loc="upper right")
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    return save_figure(fig, path)


def seeds_frame(info: dict) -> pd.DataFrame:
    """One row per (searcher, seed): its final regret (``seeds.csv``)."""
    return pd.DataFrame([{"searcher": s, "seed": seed, "regret": float(r)} for s, v in info["searchers"].items()
                         for seed, r in zip(info["seeds"], v["finals"])])


def summary_of(info: dict) -> dict:
    """The figures of ``info`` as plain values (``summary.json``'s ``over_seeds``)."""
    out = {"seeds": info["seeds"], "trials": info["trials"], "verdict": verdict(info), "searchers": {}}
    for s, v in info["searchers"].items():
        out["searchers"][s] = {"median_regret": v["median"], "median_regret_ci95": list(v["ci"]),
                               **{k: v[k] for k in ("p_vs_random", "p_vs_random_holm") if k in v}}
    return out
