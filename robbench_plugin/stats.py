"""Statistics of the reports, each from a well-kept library: rank correlations and the Mann-Whitney,
Friedman and bootstrap procedures (scipy), Holm's correction (statsmodels), the Nemenyi post-hoc test
(scikit-posthocs). Extras ``report``/``surrogate``.

Conventions: a bootstrap interval is the percentile interval at ``level`` from ``resamples``
resamples drawn with ``seed`` (the same values always give the same interval); the interquartile
mean (IQM) is the mean of the middle 50% of the values (25% trimmed from each end), the aggregate
Agarwal et al. (2021) recommend over tasks; a stratified bootstrap resamples the runs of each task
separately (scipy's bootstrap of one sample per task), as they do.
"""
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
    from scipy.stats import bootstrap

    x = np.asarray(values, dtype=float)
    if len(x) == 0:
        raise ValueError("bootstrap_ci needs at least one value")
    if len(x) == 1 or np.all(x == x[0]):
        return float(x[0]), float(x[0])
    res = bootstrap((x,), np.mean, confidence_level=level, n_resamples=resamples, method="percentile",
                    rng=np.random.default_rng(seed))
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def iqm(values) -> float:
    """Interquartile mean: the mean of the values left after trimming 25% from each end."""
    from scipy.stats import trim_mean

    return float(trim_mean(np.asarray(values, dtype=float).ravel(), 0.25))


def stratified_iqm_ci(groups, level: float = 0.95, resamples: int = 5_000, seed: int = 0) -> tuple[float, float, float]:
    """(IQM, low, high) of the values of all ``groups`` (one array per task, e.g. the per-seed
    regrets on that task), with a percentile interval from a stratified bootstrap: each group is
    resampled on its own, with replacement, to its own size."""
    from scipy.stats import bootstrap, trim_mean

    samples = [np.asarray(g, dtype=float).ravel() for g in groups]
    point = iqm(np.concatenate(samples))
    if all(len(g) < 2 or np.all(g == g[0]) for g in samples):
        return point, point, point

    def iqm_of_resamples(*resampled, axis=-1):  # every resample at once: one row per resample
        return trim_mean(np.concatenate(resampled, axis=axis), 0.25, axis=axis)

    res = bootstrap(samples, iqm_of_resamples, paired=False, vectorized=True, confidence_level=level,
                    n_resamples=resamples, method="percentile", rng=np.random.default_rng(seed))
    return point, float(res.confidence_interval.low), float(res.confidence_interval.high)


def mean_ranks(scores) -> np.ndarray:
    """Average rank of each column of ``scores`` (blocks x treatments; lower score = better = rank 1,
    ties get their average rank)."""
    from scipy.stats import rankdata

    return rankdata(np.asarray(scores, dtype=float), axis=1).mean(axis=0)


def friedman(scores) -> float:
    """p-value of Friedman's test that the treatments (columns of ``scores``, blocks x treatments,
    at least 3) rank alike across blocks (1.0 when every block ties all treatments)."""
    from scipy.stats import friedmanchisquare

    x = np.asarray(scores, dtype=float)
    if np.all(x == x[:, :1]):
        return 1.0
    return float(friedmanchisquare(*x.T).pvalue)


def nemenyi(scores, names):
    """Pairwise p-values of the Nemenyi post-hoc test after Friedman's (scikit-posthocs), as a
    square frame indexed by ``names``."""
    import pandas as pd
    import scikit_posthocs

    frame = pd.DataFrame(np.asarray(scores, dtype=float), columns=list(names))
    return scikit_posthocs.posthoc_nemenyi_friedman(frame)


def nemenyi_cd(k: int, blocks: int, alpha: float = 0.05) -> float:
    """Critical difference of average ranks for the Nemenyi test (Demsar 2006): q_alpha / sqrt(2) x
    sqrt(k (k + 1) / (6 N)), q_alpha the studentized range quantile for k treatments (scipy)."""
    from scipy.stats import studentized_range

    q = studentized_range.ppf(1 - alpha, k, np.inf) / np.sqrt(2)
    return float(q * np.sqrt(k * (k + 1) / (6.0 * blocks)))


def rank_test(a, b, alternative: str = "two-sided") -> float:
    """Mann-Whitney U p-value that ``a`` and ``b`` (e.g. per-seed figures of two searchers) come from
    the same distribution, against ``alternative``: ``two-sided``, or ``less`` (``a`` tends to be
    smaller, e.g. one searcher's regrets against random search's) or ``greater``; 1.0 when every
    value is the same."""
    from scipy.stats import mannwhitneyu

    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if np.all(np.concatenate([a, b]) == a[0]):
        return 1.0
    return float(mannwhitneyu(a, b, alternative=alternative).pvalue)


def median_ci(values, level: float = 0.95) -> tuple[float, float]:
    """Distribution-free interval of the median from order statistics (scipy's ``quantile_test``):
    for 10 values [x(2), x(9)] (coverage 97.9%); (nan, nan) when there are too few values for
    ``level`` (fewer than 6 at 95%)."""
    from scipy.stats import quantile_test

    x = np.asarray(values, dtype=float)
    ci = quantile_test(x, q=float(np.median(x)), p=0.5).confidence_interval(level)
    return float(ci.low), float(ci.high)


def holm(pvalues) -> list[float]:
    """Holm's step-down adjusted p-values (family-wise error control), in the input order
    (statsmodels' ``multipletests``)."""
    from statsmodels.stats.multitest import multipletests

    p = np.asarray(pvalues, dtype=float)
    if len(p) == 0:
        return []
    return [float(v) for v in multipletests(p, method="holm")[1]]
