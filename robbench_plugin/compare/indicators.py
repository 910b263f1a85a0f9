"""Figures of merit of runs, from their full-fidelity results: hypervolume (as a fraction of the true
front's, in max-space with the reference point of :meth:`ProblemSpec.reference_point`: each
objective's worst value over the table), hypervolume regret (1 - that fraction), IGD+, regret at
every point of a budget grid, and the empirical attainment function (EAF) of a searcher's fronts
(moocore)."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from ..problem import ProblemSpec

# attainment levels drawn per searcher: the best quartile, the median, the worst quartile of runs
EAF_PERCENTILES = (25, 50, 75)


def hv_curve(spec: ProblemSpec, run: pd.DataFrame, axis: str, grid: np.ndarray) -> np.ndarray:
    """Hypervolume fraction of the true front reached by full-fidelity results up to each grid
    value of ``axis`` (``evals`` or ``sim_time``)."""
    from ..pareto import hypervolume

    true_hv = spec.true_hypervolume()
    full = run[run["full"]].sort_values(axis, kind="stable")
    vals = full[spec.metrics].to_numpy(dtype=float).reshape(-1, len(spec.metrics)) * spec.signs()
    ref = spec.reference_point()
    # sorted by ``axis``, the results up to a grid value are a prefix: one hypervolume per distinct prefix
    seen = np.searchsorted(full[axis].to_numpy(), np.asarray(grid), side="right")
    by_count = {n: hypervolume(vals[:n], ref) / true_hv for n in np.unique(seen) if n > 0}
    return np.array([by_count[n] if n > 0 else 0.0 for n in seen])


def run_indicators(spec: ProblemSpec, run: pd.DataFrame) -> dict[str, float]:
    """Final figures of one run from its full-fidelity results: ``hv`` (fraction of the true
    front's hypervolume), ``regret`` (1 - hv) and ``igd_plus`` (IGD+ of its front to the true front,
    objectives scaled to [0, 1] between the table's worst and best values)."""
    from ..pareto import igd_plus, pareto_mask

    vals = run[run["full"]][spec.metrics].to_numpy()
    hv = spec.hypervolume(vals) / spec.true_hypervolume() if len(vals) else 0.0
    front = spec.normalized(vals[pareto_mask(vals * spec.signs())]) if len(vals) else np.empty((0, len(spec.metrics)))
    return {"hv": hv, "regret": 1.0 - hv,
            "igd_plus": igd_plus(front, spec.normalized(spec.true_front()[spec.metrics].to_numpy()))}


def regret_curves(spec: ProblemSpec, runs: pd.DataFrame, searchers: Sequence[str], seeds: int, axis: str,
                  grid: np.ndarray) -> dict[str, np.ndarray]:
    """``{searcher: regret array (seeds x grid)}``: 1 - HV fraction reached by each run by each grid
    value of ``axis``."""
    return {s: np.array([1.0 - hv_curve(spec, runs[(runs.searcher == s) & (runs.seed == seed)], axis, grid)
                         for seed in range(seeds)]) for s in searchers}


def final_front(spec: ProblemSpec, run: pd.DataFrame) -> np.ndarray:
    """The non-dominated full-fidelity points of one run (objective values, rows)."""
    from ..pareto import pareto_mask

    pts = run[run["full"]][spec.metrics].to_numpy(dtype=float)
    return pts[pareto_mask(pts * spec.signs())] if len(pts) else pts


def attainment(points: np.ndarray, sets: np.ndarray, maximise: Sequence[bool],
               percentiles: Sequence[float] = EAF_PERCENTILES) -> dict[float, np.ndarray]:
    """``{percentile: points of its attainment surface}``: the empirical attainment function of the
    runs whose points are ``points`` (rows) and run labels ``sets``, at each percentile (a point is
    attained at p% when at least p% of the runs have a point that weakly dominates it); objectives
    maximised where ``maximise`` says. Computed by moocore.eaf (which minimises: maximised
    objectives are negated in and out). Surfaces' points sorted by the first objective."""
    import moocore

    signs = np.where(np.asarray(maximise, dtype=bool), -1.0, 1.0)
    labels = pd.factorize(np.asarray(sets))[0] + 1
    data = moocore.eaf(np.asarray(points, dtype=float) * signs, labels, percentiles=list(percentiles))
    out = {}
    for p in percentiles:
        surface = data[np.isclose(data[:, -1], p)][:, :-1] * signs
        out[p] = surface[np.argsort(surface[:, 0], kind="stable")]
    return out


def attainment_difference(a_points: np.ndarray, a_sets: np.ndarray, b_points: np.ndarray, b_sets: np.ndarray,
                          maximise: Sequence[bool]) -> np.ndarray:
    """EAF difference of two searchers' runs as rectangles (two objectives): rows ``x1, y1, x2, y2,
    d`` where ``d`` = (runs of A attaining the rectangle - runs of B attaining it) / runs per
    searcher, in [-1, 1] (positive: A better there). moocore.eafdiff; both need the same number of
    runs."""
    import moocore

    n_a, n_b = len(np.unique(a_sets)), len(np.unique(b_sets))
    if n_a != n_b:
        from ..errors import InvalidValueError

        raise InvalidValueError(f"EAF differences need the same number of runs on both sides, got {n_a} and {n_b}")
    a = np.column_stack([a_points, pd.factorize(np.asarray(a_sets))[0] + 1])
    b = np.column_stack([b_points, pd.factorize(np.asarray(b_sets))[0] + 1])
    rect = moocore.eafdiff(a, b, maximise=list(maximise), rectangles=True)
    rect[:, -1] = rect[:, -1] / n_a
    return rect
