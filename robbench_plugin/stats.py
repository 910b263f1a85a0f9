"""Statistics of the reports: rank correlations, bootstrap intervals, rank tests with Holm's
correction (scipy, extras ``report``/``surrogate``)."""
from __future__ import annotations

import numpy as np


def kendall(a: np.ndarray, b: np.ndarray) -> float:
    """Kendall's tau-b of two equally long samples, in [-1, 1] (NaN when either is constant)."""
    from scipy.stats import kendalltau

    return float(kendalltau(a, b)[0])


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation of two equally long samples, in [-1, 1]."""
    from scipy.stats import spearmanr

    return float(spearmanr(a, b)[0])


def bootstrap_ci(values, level: float = 0.95, resamples: int = 10_000, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``values`` (e.g. one figure per seed), at
    ``level``; seeded, so the same values give the same interval. One value: (value, value)."""
    x = np.asarray(values, dtype=float)
    if len(x) == 0:
        raise ValueError("bootstrap_ci needs at least one value")
    if len(x) == 1:
        return float(x[0]), float(x[0])
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, len(x), (resamples, len(x)))].mean(axis=1)
    a = (1 - level) / 2
    return float(np.quantile(means, a)), float(np.quantile(means, 1 - a))


def rank_test(a, b) -> float:
    """Two-sided Mann-Whitney U p-value that ``a`` and ``b`` (e.g. per-seed figures of two
    searchers) come from the same distribution (1.0 when every value is the same)."""
    from scipy.stats import mannwhitneyu

    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if np.all(np.concatenate([a, b]) == a[0]):
        return 1.0
    return float(mannwhitneyu(a, b, alternative="two-sided").pvalue)


def holm(pvalues) -> list[float]:
    """Holm's step-down adjusted p-values (family-wise error control), in the input order."""
    p = np.asarray(pvalues, dtype=float)
    order = np.argsort(p, kind="stable")
    adjusted = np.empty_like(p)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(p) - rank) * p[i]))
        adjusted[i] = running
    return adjusted.tolist()
