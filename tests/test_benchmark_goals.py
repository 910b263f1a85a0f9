"""The goal figures of benchmarks/benchmark_goals.py (quoted in README) on hand-computed cases, and
the rule that decides the embedded default."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def goals():
    spec = importlib.util.spec_from_file_location("benchmark_goals", ROOT / "benchmarks" / "benchmark_goals.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_anchor_is_nb201_cifar10_in_index_order(goals):
    acc = goals.anchor_accuracy()
    assert acc.shape == (15625,)
    # NAS-Bench-201's best CIFAR-10 test accuracy after 200 epochs is 94.37% (its paper, Table 5)
    assert acc.max() == pytest.approx(0.9437, abs=1e-4)
    assert 0.0 <= acc.min() <= 0.11  # cells with no path to the output train to chance


def test_top_spread_by_hand(goals):
    values = np.arange(101, dtype=float)  # max 100, median 50, 99th percentile 99
    assert goals.top_spread(values) == {"top_gap_p99": pytest.approx(1 / 50), "cells_at_max": 1}
    values[-3:] = 100.0  # three share the maximum; p99 = 100 - 0 -> gap 0
    assert goals.top_spread(values) == {"top_gap_p99": pytest.approx(0.0), "cells_at_max": 3}


def _g(p=None, tau=None):
    g = {"benchmark": "x"}
    if p is not None:
        g["separation"] = {"p_tpe_better": p}
    if tau is not None:
        g["seed_tau_robust"] = tau
    return g


def test_the_default_switches_only_when_both_figures_are_better(goals):
    digits = _g(p=0.049, tau=0.595)
    assert goals.beats(_g(p=0.001, tau=0.70), digits)["beats"] is True
    assert goals.beats(_g(p=0.001, tau=0.50), digits)["beats"] is False   # separates, less stable
    assert goals.beats(_g(p=0.20, tau=0.70), digits)["beats"] is False    # stable, does not separate
    # smaller than the old p but not significant: no
    assert goals.beats(_g(p=0.04, tau=0.70), _g(p=0.30, tau=0.5))["separation_better"] is True
    assert goals.beats(_g(p=0.06, tau=0.70), _g(p=0.30, tau=0.5))["separation_better"] is False
    # a partial table (no separation yet) or one seed (no seed tau): no verdict
    partial = goals.beats(_g(tau=0.70), digits)
    assert partial["separation_better"] is None and partial["seed_tau_better"] is True and partial["beats"] is None
    assert goals.beats(_g(p=0.001), digits)["beats"] is None


def test_op_effects_by_hand(goals):
    """A value that is 1 exactly when edge 0 holds nor_conv_3x3, over all 15625 cells: 1/5 of the
    cells, so mean 0.2, std 0.4 and z-scores 2 and -0.5; every other edge's operations are balanced
    over it (each splits the cells with and without it 1:4), so their effects are exactly 0."""
    from robbench_plugin.space import OPS, index_to_ops_array

    cells = np.arange(15625)
    conv3 = OPS.index("nor_conv_3x3")
    values = (index_to_ops_array()[cells][:, 0] == conv3).astype(float)
    effects = goals.op_effects(values, cells)
    expected = np.zeros((6, 5))
    expected[0] = -0.5
    expected[0, conv3] = 2.0
    np.testing.assert_allclose(effects, expected, atol=1e-12)


def test_op_effect_weights_count_like_repeated_cells(goals):
    """A weight of k counts a cell as k copies of it (weighted z-scores and means)."""
    rng = np.random.default_rng(0)
    cells = rng.choice(15625, 40, replace=False)
    values = rng.uniform(0.1, 0.9, 40)
    weights = rng.integers(1, 4, 40)
    repeated = goals.op_effects(np.repeat(values, weights), np.repeat(cells, weights))
    np.testing.assert_allclose(goals.op_effects(values, cells, weights.astype(float)), repeated, atol=1e-12)


def test_each_class_counts_once_in_what_a_table_rewards(goals):
    """With every class's value spread over its cells, a table that is 1 on one class and 0 on the
    others gives the same effects as that class's cells weighted by 1 / its size against all others."""
    from robbench_plugin.space import representative_indices

    rep = representative_indices()
    uids, sizes = np.unique(rep, return_counts=True)
    big = uids[np.argmax(sizes)]  # the largest class (cells that compute the same thing)
    values = (uids == big).astype(float)
    ours, _ = goals.op_effects_of_classes(values, uids)
    cells = np.arange(15625)
    by_hand = goals.op_effects((rep == big).astype(float), cells, 1.0 / sizes[np.searchsorted(uids, rep)])
    np.testing.assert_allclose(ours, by_hand, atol=1e-12)
    # counted once, the one class is one of 6466: its z-score is sqrt(6465), the others' -1/sqrt(6465)
    z_big, z_other = np.sqrt(len(uids) - 1), -1 / np.sqrt(len(uids) - 1)
    assert np.nanmax(ours) <= z_big + 1e-9 and np.nanmin(ours) >= z_other - 1e-9
