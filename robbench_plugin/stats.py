"""Rank statistics used by the reports (scipy, extras ``report``/``surrogate``)."""
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
