"""The simulated clock of tables with recorded times: median regression and the op-count model."""
from __future__ import annotations

import numpy as np
import pytest

from robbench_plugin.errors import InvalidValueError
from robbench_plugin.space import NUM_ARCHS, Arch
from robbench_plugin.time_model import (COEFFICIENT_NAMES, EpochTimeModel, design_matrix, median_regression,
                                        op_counts)


def _loss(X, y, beta):
    return float(np.abs(y - X @ beta).sum())


def _heavy_tailed_case(seed: int, n: int):
    rng = np.random.default_rng(seed)
    X = design_matrix(rng.integers(0, NUM_ARCHS, n))
    y = X @ np.array([0.3, 0.01, 0.05, 0.1, 0.02]) + 0.01 * rng.standard_cauchy(n)
    return X, y


def test_op_counts_of_a_hand_written_cell():
    cell = Arch.from_string("|nor_conv_3x3~0|+|skip_connect~0|none~1|+|nor_conv_3x3~0|avg_pool_3x3~1|nor_conv_1x1~2|")
    assert op_counts([cell.index]).tolist() == [[1, 1, 2, 1]]  # skip, 1x1, 3x3, pool; none is not counted
    assert design_matrix([cell.index]).tolist() == [[1, 1, 1, 2, 1]]


def test_a_constant_alone_is_the_sample_median():
    y = np.array([5.0, 1.0, 100.0, 2.0, 3.0])
    assert median_regression(np.ones((5, 1)), y).tolist() == [3.0]


def test_one_indicator_gives_each_group_its_median():
    # groups a (indicator 0) and b (indicator 1): beta = (median a, median b - median a)
    a, b = [1.0, 2.0, 9.0], [10.0, 11.0, 50.0, 12.0, 13.0]
    X = np.array([[1, 0]] * 3 + [[1, 1]] * 5, dtype=float)
    beta = median_regression(X, np.array(a + b))
    assert beta == pytest.approx([2.0, 10.0], abs=1e-12)


def test_exact_data_is_recovered():
    X = design_matrix(np.arange(0, NUM_ARCHS, 97))
    truth = np.array([0.2, 0.01, 0.04, 0.09, 0.03])
    assert median_regression(X, X @ truth) == pytest.approx(truth, abs=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_loss_is_the_linear_programme_optimum(seed):
    from scipy.optimize import linprog

    X, y = _heavy_tailed_case(seed, 300)
    n, p = X.shape
    # min sum(u + v) subject to X beta + u - v = y, u, v >= 0: least absolute deviations as an LP
    lp = linprog(np.r_[np.zeros(p), np.ones(2 * n)], A_eq=np.hstack([X, np.eye(n), -np.eye(n)]), b_eq=y,
                 bounds=[(None, None)] * p + [(0, None)] * (2 * n), method="highs")
    assert lp.status == 0
    # exact up to rounding: the vertex the reweighting converges to is the optimum itself
    assert _loss(X, y, median_regression(X, y)) <= lp.fun * (1 + 1e-12)


def test_no_worse_than_statsmodels_quantile_regression():
    sm = pytest.importorskip("statsmodels.api")
    X, y = _heavy_tailed_case(7, 2000)
    theirs = sm.QuantReg(y, X).fit(q=0.5).params
    ours = median_regression(X, y)
    assert _loss(X, y, ours) <= _loss(X, y, theirs) * (1 + 1e-12)
    assert ours == pytest.approx(theirs, abs=1e-3)


def test_median_regression_rejects_what_it_cannot_fit():
    with pytest.raises(InvalidValueError, match="linearly independent"):
        median_regression(np.ones((4, 2)), np.arange(4.0))
    with pytest.raises(InvalidValueError, match="at least 2 rows"):
        median_regression(np.ones((1, 2)), np.ones(1))
    with pytest.raises(InvalidValueError, match="finite"):
        median_regression(np.ones((3, 1)), np.array([1.0, np.nan, 2.0]))


def test_runs_slowed_by_load_do_not_move_the_model():
    rng = np.random.default_rng(3)
    cells = rng.integers(0, NUM_ARCHS, 2000)
    truth = np.array([0.15, 0.01, 0.06, 0.08, 0.07])
    seconds = design_matrix(cells) @ truth * rng.uniform(0.97, 1.03, len(cells))
    slowed = rng.random(len(cells)) < 0.1
    seconds[slowed] *= 30.0  # a tenth of the runs shared the machine
    model = EpochTimeModel.fit(cells, seconds)
    assert np.asarray(model.coef) == pytest.approx(truth, rel=0.05, abs=0.003)
    # least squares on the same runs is pulled far off: the test tells the two apart
    ols = np.linalg.lstsq(design_matrix(cells), seconds, rcond=None)[0]
    assert abs(ols[0] - truth[0]) > 0.5


def test_the_floor_is_the_fastest_recorded_epoch_and_the_model_round_trips():
    cells = np.arange(0, NUM_ARCHS, 50)
    seconds = 0.1 + 0.05 * op_counts(cells)[:, 2]
    model = EpochTimeModel.fit(cells, seconds)
    assert model.floor == pytest.approx(0.1)
    assert model.runs == len(cells)
    assert model.seconds_per_epoch(cells) == pytest.approx(seconds, abs=1e-12)
    assert EpochTimeModel.from_dict(model.as_dict()) == model
    assert list(model.as_dict())[:5] == list(COEFFICIENT_NAMES)
    # a line past zero is replaced by the floor; a positive prediction below it is kept
    line = EpochTimeModel((-0.1, 0.0, 0.0, 0.2, 0.0), 0.25, 1)
    no_conv, one_conv = Arch.from_string("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|").index, \
        Arch.from_string("|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|").index
    assert line.seconds_per_epoch([no_conv, one_conv]) == pytest.approx([0.25, 0.1])


def test_fit_rejects_bad_recorded_times():
    cells = np.arange(20)
    with pytest.raises(InvalidValueError, match="positive"):
        EpochTimeModel.fit(cells, np.r_[np.ones(19), 0.0])
    with pytest.raises(InvalidValueError, match="at least one"):
        EpochTimeModel.fit(cells[:0], np.ones(0))
    with pytest.raises(InvalidValueError, match="20 cells but 3"):
        EpochTimeModel.fit(cells, np.ones(3))
    with pytest.raises(InvalidValueError, match="needs"):
        EpochTimeModel.from_dict({"constant": 1.0})


def test_cells_of_one_kind_are_charged_their_median():
    cells = np.zeros(12, dtype=np.int64)  # the all-none cell, twelve runs
    seconds = np.arange(1.0, 13.0)
    model = EpochTimeModel.fit(cells, seconds)
    assert model.coef == (6.5, 0.0, 0.0, 0.0, 0.0)


def test_a_small_build_is_charged_its_median_run():
    # nine runs of distinct cells cannot fit five coefficients twice over: the median run
    cells = np.arange(0, 9 * 1700, 1700)
    seconds = np.array([0.9, 0.2, 0.5, 0.4, 0.3, 0.8, 0.6, 0.1, 0.7])
    model = EpochTimeModel.fit(cells, seconds)
    assert model.coef == (0.5, 0.0, 0.0, 0.0, 0.0) and model.floor == 0.1
    assert model.seconds_per_epoch(cells).tolist() == [0.5] * 9
