"""What a table rewards (robbench_plugin.op_effects) on hand-computed cases."""
import numpy as np
import pytest

from robbench_plugin.op_effects import class_cells, effects_r, op_effects, op_effects_of_classes, percentile_ranks
from robbench_plugin.space import OPS, index_to_ops_array, representative_indices


def test_percentile_ranks_by_hand():
    # 0.1 x1, 0.5 x2, 0.9 x1: mid-ranks (0 + 0.5) / 4, (1 + 1) / 4, (3 + 0.5) / 4
    np.testing.assert_allclose(percentile_ranks(np.array([0.5, 0.1, 0.9, 0.5])), [0.5, 0.125, 0.875, 0.5])
    # weights count like copies: 0.1 weighing 3 is three values below 0.9
    np.testing.assert_allclose(percentile_ranks(np.array([0.1, 0.9]), np.array([3.0, 1.0])), [0.375, 0.875])


def test_op_effects_by_hand():
    """A value that is 1 exactly when edge 0 holds nor_conv_3x3, over all 15625 cells: 1/5 of the
    cells, whose mid-rank is 0.8 + 0.1 = 0.9, the others' 0.4; so on edge 0 +0.4 for the
    convolution and -0.1 for every other operation; every other edge's operations are balanced
    over it (each splits the cells with and without it 1:4), so their effects are exactly 0."""
    cells = np.arange(15625)
    conv3 = OPS.index("nor_conv_3x3")
    values = (index_to_ops_array()[cells][:, 0] == conv3).astype(float)
    expected = np.zeros((6, 5))
    expected[0] = -0.1
    expected[0, conv3] = 0.4
    np.testing.assert_allclose(op_effects(values, cells), expected, atol=1e-12)


def test_one_outlying_class_moves_an_effect_by_its_rank_not_its_distance():
    """A class that trains to chance is the lowest value whatever its distance from the rest: making
    it 100 times further away changes no effect."""
    rng = np.random.default_rng(3)
    cells = rng.choice(15625, 300, replace=False)
    values = rng.uniform(0.4, 0.6, 300)
    values[0] = 0.1
    near = op_effects(values, cells)
    values[0] = -40.0
    np.testing.assert_allclose(op_effects(values, cells), near, atol=1e-12)


def test_an_operation_no_cell_has_is_nan():
    from robbench_plugin.space import Arch

    rest = ["nor_conv_3x3"] * 5  # two cells that differ only on the first edge: none, skip_connect
    cells = np.array([Arch.from_ops(["none", *rest]).index, Arch.from_ops(["skip_connect", *rest]).index])
    effects = op_effects(np.array([0.2, 0.6]), cells)
    ops = index_to_ops_array()[cells]
    assert (ops[0, 1:] == ops[1, 1:]).all() and ops[0, 0] != ops[1, 0]
    np.testing.assert_allclose(effects[0, [ops[0, 0], ops[1, 0]]], [-0.25, 0.25])  # mid-ranks 1/4 and 3/4
    assert np.isnan(effects).sum() == 6 * 5 - 2 - 5  # edge 0: two ops seen; edges 1-5: one op each
    np.testing.assert_allclose(effects[1:][np.isfinite(effects[1:])], 0.0, atol=1e-12)


def test_weights_count_like_repeated_cells():
    """A weight of k counts a cell as k copies of it (weighted ranks and means)."""
    rng = np.random.default_rng(0)
    cells = rng.choice(15625, 40, replace=False)
    values = rng.uniform(0.1, 0.9, 40)
    weights = rng.integers(1, 4, 40)
    repeated = op_effects(np.repeat(values, weights), np.repeat(cells, weights))
    np.testing.assert_allclose(op_effects(values, cells, weights.astype(float)), repeated, atol=1e-12)


def test_class_cells_are_every_cell_of_the_classes_each_class_weighing_one():
    rep = representative_indices()
    uids = np.array([rep[5000], rep[0], rep[15624]])  # any order; class of cell 0 = no path to the output
    cells, weights, owner = class_cells(uids)
    assert sorted(cells) == sorted(np.flatnonzero(np.isin(rep, uids)))
    assert (rep[cells] == uids[owner]).all()
    for i in range(len(uids)):
        assert weights[owner == i].sum() == pytest.approx(1.0)
        assert (owner == i).sum() == (rep == uids[i]).sum()
    everything, w, _ = class_cells(np.unique(rep))
    assert len(everything) == 15625 and w.sum() == pytest.approx(6466)


def test_each_class_counts_once_in_what_a_table_rewards():
    """With every class's value spread over its cells, a table that is 1 on one class and 0 on the
    others gives the same effects as that class's cells weighted by 1 / its size against all others;
    counted once, that class is one of 6466: its rank is 1 - 1/12932, the others' 6465/12932, so no
    effect lies outside those minus 0.5."""
    rep = representative_indices()
    uids, sizes = np.unique(rep, return_counts=True)
    big = uids[np.argmax(sizes)]  # the largest class (cells that compute the same thing)
    ours = op_effects_of_classes((uids == big).astype(float), uids)
    by_hand = op_effects((rep == big).astype(float), np.arange(15625), 1.0 / sizes[np.searchsorted(uids, rep)])
    np.testing.assert_allclose(ours, by_hand, atol=1e-12)
    n = len(uids)
    top, rest = 1 - 1 / (2 * n) - 0.5, (n - 1) / (2 * n) - 0.5
    assert np.nanmax(ours) <= top + 1e-12 and np.nanmin(ours) >= rest - 1e-12
    assert np.nanmax(ours) > rest + 1e-6  # the class shows where it has cells
    # the order of the classes does not matter
    perm = np.random.default_rng(1).permutation(len(uids))
    np.testing.assert_allclose(op_effects_of_classes((uids == big).astype(float)[perm], uids[perm]), ours,
                               atol=1e-12)


def test_effects_r_is_pearson_over_the_entries_both_have():
    a = np.arange(30, dtype=float).reshape(6, 5)
    b = 2 * a + 1
    assert effects_r(a, b) == pytest.approx(1.0)
    b[0, 0] = np.nan
    a[0, 0] = 1000.0  # ignored: b lacks it
    assert effects_r(a, b) == pytest.approx(1.0)
    assert effects_r(a, -b) == pytest.approx(-1.0)
