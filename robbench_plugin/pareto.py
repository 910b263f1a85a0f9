"""Pareto fronts and hypervolume, all objectives to be MAXIMISED (negate minimised ones)."""
from __future__ import annotations

import numpy as np

from .errors import InvalidValueError


def pareto_mask(points: np.ndarray) -> np.ndarray:
    """Boolean mask of the non-dominated rows of ``points`` (n, k), maximisation.

    Exact duplicates of a non-dominated point are all kept.
    """
    pts = np.asarray(points, dtype=float)
    if pts.ndim != 2:
        raise InvalidValueError(f"points must be 2-D (n, k), got shape {pts.shape}")
    n = len(pts)
    mask = np.ones(n, dtype=bool)
    order = np.lexsort(pts.T[::-1] * -1)  # descending by first objective, then next
    for i in order:
        if not mask[i]:
            continue
        dominated = np.all(pts <= pts[i], axis=1) & np.any(pts < pts[i], axis=1)
        mask &= ~dominated
    return mask


def hypervolume(points: np.ndarray, reference: np.ndarray) -> float:
    """Hypervolume dominated by ``points`` (maximisation) above ``reference``.

    Exact for 2 objectives (sweep) and for k >= 3 by recursive slicing (fine for fronts of
    a few hundred points).
    """
    pts = np.asarray(points, dtype=float)
    ref = np.asarray(reference, dtype=float)
    if pts.size == 0:
        return 0.0
    pts = pts[np.all(pts > ref, axis=1)]
    if len(pts) == 0:
        return 0.0
    pts = pts[pareto_mask(pts)]
    k = pts.shape[1]
    if k == 1:
        return float(pts[:, 0].max() - ref[0])
    if k == 2:
        p = pts[np.argsort(-pts[:, 0])]
        hv, best_y = 0.0, ref[1]
        for x, y in p:
            if y > best_y:
                hv += (x - ref[0]) * (y - best_y)
                best_y = y
        return float(hv)
    # slice along the last objective
    order = np.argsort(-pts[:, -1])
    p = pts[order]
    hv = 0.0
    for i in range(len(p)):
        upper = p[i, -1]
        lower = p[i + 1, -1] if i + 1 < len(p) else ref[-1]
        if upper > lower:
            hv += hypervolume(p[: i + 1, :-1], ref[:-1]) * (upper - lower)
    return float(hv)


def igd_plus(points: np.ndarray, reference_front: np.ndarray) -> float:
    """IGD+ of ``points`` to ``reference_front`` (both maximisation; lower is better, 0 when the
    points reach every reference point): the mean over reference points of the distance to the
    nearest point, counting only the coordinates where the point is worse (Ishibuchi et al. 2015).
    Computed by moocore (extra ``report``)."""
    try:
        import moocore
    except ImportError as exc:
        from .errors import MissingExtraError

        raise MissingExtraError("moocore", "report") from exc
    pts = np.asarray(points, dtype=float)
    if pts.size == 0:
        return float("inf")
    return float(moocore.igd_plus(pts, ref=np.asarray(reference_front, dtype=float), maximise=True))
