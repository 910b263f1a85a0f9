"""Statistics of a comparison: per task, each searcher's final figures with 95% bootstrap intervals
over seeds, two-sided Mann-Whitney tests against random search (Holm-corrected over searchers) at the
final budget and along it, and the smallest budget from which a searcher stays distinguishable from
random search; across tasks, the interquartile mean of the normalized regret with stratified
bootstrap intervals, the mean rank against the budget, and Friedman's test with Nemenyi's post-hoc
test and critical difference on the final ranks (blocks: tasks, as CARP-S and the AutoML
benchmarks rank)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from ..problem import ProblemSpec
from ..stats import (bootstrap_ci, friedman, holm, mean_ranks, nemenyi, nemenyi_cd, rank_test,
                     stratified_iqm_ci)
from .indicators import regret_curves, run_indicators
from .spec import CompareSpec

ALPHA = 0.05
GRID_POINTS = 50  # points of the regret curves drawn along each budget axis
FRACTIONS = np.round(np.linspace(0.05, 1.0, 20), 2)  # budgets (fractions of the full one) of ranks and tests
TEST_FRACTIONS = FRACTIONS[1::2]  # 0.1, 0.2, ..., 1.0: tested against random search


@dataclass
class TaskResult:
    """One task's runs analysed: the grids and per-seed regret curves on both budget axes, each
    run's final indicators and the summary table (one row per searcher)."""

    cspec: CompareSpec
    spec: ProblemSpec
    searchers: list[str]
    seeds: int
    runs: pd.DataFrame
    grid_evals: np.ndarray
    grid_time: np.ndarray
    curves_evals: dict[str, np.ndarray]
    curves_time: dict[str, np.ndarray]
    curves_fractions: dict[str, np.ndarray]  # regret after FRACTIONS x budget evaluations (seeds x fractions)
    finals: dict[str, list[dict]]
    summary: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def label(self) -> str:
        return self.cspec.label


def analyse_task(runs: pd.DataFrame, cspec: CompareSpec, searchers: Sequence[str], seeds: int) -> TaskResult:
    """Analyse one task's runs (see the module doc)."""
    bench = cspec.load()
    spec = ProblemSpec(bench, list(cspec.objectives), seed=cspec.table_seed)
    searchers = list(searchers)
    grid_e = np.linspace(1, cspec.budget, GRID_POINTS)
    grid_t = np.linspace(0, float(runs["sim_time"].max()), GRID_POINTS)
    finals = {s: [run_indicators(spec, runs[(runs.searcher == s) & (runs.seed == seed)]) for seed in range(seeds)]
              for s in searchers}
    result = TaskResult(cspec, spec, searchers, seeds, runs, grid_e, grid_t,
                        regret_curves(spec, runs, searchers, seeds, "evals", grid_e),
                        regret_curves(spec, runs, searchers, seeds, "sim_time", grid_t),
                        regret_curves(spec, runs, searchers, seeds, "evals", FRACTIONS * cspec.budget), finals)
    result.summary = _summary(result)
    return result


def _summary(r: TaskResult) -> pd.DataFrame:
    rows = []
    for s in r.searchers:
        row = {"searcher": s, "seeds": r.seeds}
        for key in ("hv", "regret", "igd_plus"):
            x = [f[key] for f in r.finals[s]]
            lo, hi = bootstrap_ci(x)
            row.update({key: float(np.mean(x)), f"{key}_lo": lo, f"{key}_hi": hi})
        mine = r.runs[r.runs.searcher == s]
        row["distinct_classes"] = float(mine.groupby("seed")["uid"].nunique().mean())
        row["sim_time_h"] = float(mine.groupby("seed")["sim_time"].max().mean() / 3600)
        rows.append(row)
    summary = pd.DataFrame(rows)
    p_final, first = distinguishable(r)
    summary["p_vs_random_holm"] = [p_final.get(s, np.nan) for s in summary.searcher]
    summary["differs_from_budget"] = [first.get(s, (np.nan, ""))[0] for s in summary.searcher]
    summary["differs_how"] = [first.get(s, (np.nan, ""))[1] for s in summary.searcher]
    return summary.sort_values(["regret", "searcher"], kind="stable").reset_index(drop=True)


def regret_at(r: TaskResult, searcher: str, fraction: float) -> np.ndarray:
    """Per-seed regret of ``searcher`` after ``fraction`` (one of :data:`FRACTIONS`) of the budget."""
    return r.curves_fractions[searcher][:, int(np.flatnonzero(np.isclose(FRACTIONS, fraction))[0])]


def distinguishable(r: TaskResult) -> tuple[dict[str, float], dict[str, tuple[float, str]]]:
    """(Holm-corrected p of each searcher vs random search at the full budget; {searcher: (smallest
    budget from which it differs from random search at every tested budget, "better"/"worse")}).
    Tested budgets: :data:`TEST_FRACTIONS` of the full one; at each, two-sided Mann-Whitney tests of
    the per-seed regret against random search's, Holm-corrected over the searchers."""
    others = [s for s in r.searchers if s != "random"]
    if "random" not in r.searchers or not others or r.seeds < 2:
        return {}, {}
    budgets = TEST_FRACTIONS * r.cspec.budget
    p = np.array([holm([rank_test(regret_at(r, s, f), regret_at(r, "random", f)) for s in others])
                  for f in TEST_FRACTIONS])
    final = dict(zip(others, p[-1]))
    first = {}
    for j, s in enumerate(others):
        significant = p[:, j] < ALPHA
        if not significant[-1]:
            continue
        start = len(budgets) - 1
        while start > 0 and significant[start - 1]:
            start -= 1
        f = TEST_FRACTIONS[start]
        better = np.median(regret_at(r, s, f)) < np.median(regret_at(r, "random", f))
        first[s] = (float(budgets[start]), "better" if better else "worse")
    return final, first


@dataclass
class Aggregate:
    """Across tasks: IQM of the final regret with stratified bootstrap intervals, the mean rank
    against the budget fraction, and the final-rank statistics of the critical-difference diagram."""

    tasks: list[str]
    searchers: list[str]
    iqm: pd.DataFrame
    fractions: np.ndarray
    rank_curves: dict[str, np.ndarray]
    final_scores: pd.DataFrame          # tasks x searchers: mean final regret over seeds
    mean_ranks: pd.Series
    friedman_p: float
    nemenyi_p: pd.DataFrame
    cd: float


def aggregate(results: Sequence[TaskResult]) -> Aggregate:
    """Aggregate tasks over the searchers run on every task."""
    searchers = [s for s in results[0].searchers if all(s in r.searchers for r in results)]
    rows = []
    for s in searchers:
        point, lo, hi = stratified_iqm_ci([[f["regret"] for f in r.finals[s]] for r in results])
        rows.append({"searcher": s, "iqm_regret": point, "iqm_lo": lo, "iqm_hi": hi,
                     "mean_regret": float(np.mean([f["regret"] for r in results for f in r.finals[s]]))})
    iqm = pd.DataFrame(rows).sort_values(["iqm_regret", "searcher"], kind="stable").reset_index(drop=True)
    fractions = FRACTIONS
    ranks = {s: np.zeros(len(fractions)) for s in searchers}
    for i, frac in enumerate(fractions):
        blocks = [[regret_at(r, s, frac)[seed] for s in searchers] for r in results for seed in range(r.seeds)]
        for s, v in zip(searchers, mean_ranks(blocks)):
            ranks[s][i] = v
    scores = pd.DataFrame([[np.mean([f["regret"] for f in r.finals[s]]) for s in searchers] for r in results],
                          index=[r.label for r in results], columns=searchers)
    k, n = len(searchers), len(results)
    fp = friedman(scores.to_numpy()) if k >= 3 and n >= 2 else float("nan")
    pairwise = nemenyi(scores.to_numpy(), searchers) if k >= 3 and n >= 2 else pd.DataFrame()
    return Aggregate([r.label for r in results], searchers, iqm, fractions, ranks, scores,
                     pd.Series(mean_ranks(scores.to_numpy()), index=searchers).sort_values(kind="stable"), fp,
                     pairwise, nemenyi_cd(k, n, ALPHA) if k >= 2 else float("nan"))
