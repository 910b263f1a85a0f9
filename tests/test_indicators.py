"""The comparison's statistics against independent facts: hand-computed cases, a second
implementation (moocore's hypervolume for ours), textbook examples."""
from __future__ import annotations

import numpy as np
import pytest

from robbench_plugin.pareto import hypervolume, igd_plus
from robbench_plugin.stats import bootstrap_ci, holm, rank_test

moocore = pytest.importorskip("moocore")


def test_igd_plus_hand_computed():
    # maximisation; reference front (2, 1) and (1, 2); one point (1, 1): it is worse by 1 in one
    # coordinate against each reference point, so IGD+ = mean(1, 1) = 1
    assert igd_plus(np.array([[1.0, 1.0]]), np.array([[2.0, 1.0], [1.0, 2.0]])) == pytest.approx(1.0)
    # reaching the reference front exactly gives 0; dominating it, too (only shortfalls count)
    assert igd_plus(np.array([[2.0, 1.0], [1.0, 2.0]]), np.array([[2.0, 1.0], [1.0, 2.0]])) == 0.0
    assert igd_plus(np.array([[3.0, 3.0]]), np.array([[2.0, 1.0], [1.0, 2.0]])) == 0.0
    # (1.5, 1.5) vs (2, 1): shortfall (0.5, 0) -> 0.5; vs (1, 2): (0, 0.5) -> 0.5
    assert igd_plus(np.array([[1.5, 1.5]]), np.array([[2.0, 1.0], [1.0, 2.0]])) == pytest.approx(0.5)


@pytest.mark.parametrize("k", [2, 3])
def test_our_hypervolume_equals_moocores(k):
    rng = np.random.default_rng(k)
    for _ in range(20):
        pts = rng.random((rng.integers(1, 40), k))
        ref = np.full(k, -0.1)
        assert hypervolume(pts, ref) == pytest.approx(moocore.hypervolume(pts, ref=ref, maximise=True), rel=1e-10)


def test_holm_textbook_example():
    # Holm (1979) step-down: sorted p 0.01, 0.02, 0.03, 0.04 with m = 4 -> 0.04, 0.06, 0.06, 0.06
    assert holm([0.03, 0.01, 0.04, 0.02]) == pytest.approx([0.06, 0.04, 0.06, 0.06])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])


def test_bootstrap_interval_covers_the_mean_and_narrows_with_more_seeds():
    rng = np.random.default_rng(0)
    small, large = rng.normal(0, 1, 5), rng.normal(0, 1, 200)
    lo, hi = bootstrap_ci(small)
    assert lo < small.mean() < hi
    lo2, hi2 = bootstrap_ci(large)
    assert hi2 - lo2 < (hi - lo) and lo2 < large.mean() < hi2
    assert bootstrap_ci(small) == bootstrap_ci(small)  # seeded
    # the usual normal-theory interval of the mean of 200 draws: about 2 x 1.96 / sqrt(200) wide
    assert hi2 - lo2 == pytest.approx(2 * 1.96 * large.std(ddof=1) / np.sqrt(200), rel=0.1)


def test_rank_test_separates_shifted_samples():
    a, b = np.arange(10.0), np.arange(10.0) + 20
    assert rank_test(a, b) < 0.001
    assert rank_test(a, a) == pytest.approx(1.0)
    assert rank_test([0.0] * 5, [0.0] * 5) == 1.0
