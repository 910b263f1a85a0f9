"""The embedded digits benchmark as shipped: its shape against the build plan, its values against
the costs model and the trainer's recorded layout, and the quality thresholds of the issue."""
import math
from pathlib import Path

import numpy as np
import pytest

from robbench_plugin import Arch, load_benchmark
from robbench_plugin.costs import all_costs
from robbench_plugin.space import NUM_UNIQUE, representative_indices
from robbench_plugin.time_model import op_counts

from .helpers import ROOT


def test_default_is_digits_with_every_class_and_the_planned_seeds(digits):
    assert load_benchmark().table is digits.table  # no arguments: the embedded default
    assert digits.name == "digits" and digits.dataset == "digits"
    assert len(digits.uids) == NUM_UNIQUE == 6466
    assert digits.seeds == ["0", "1", "2", "mean", "std"]
    robust = digits.resolve_metric("robust")
    for seed in ("0", "1", "2"):
        col = digits.query_many(digits.uids, [robust], seed=seed)[robust].to_numpy()
        # seed 0 for all; seeds 1 and 2 for round(10% of 6466) = 647 classes
        assert (~np.isnan(col)).sum() == (6466 if seed == "0" else 647)


def test_representatives_are_the_releases_6466_ids(digits, published_representatives):
    """The classes are NAS-Bench-201's own 6466 representatives (tests/data), independently listed."""
    assert sorted(published_representatives) == digits.uids.tolist()


def test_values_are_fractions_and_curves_have_the_recorded_epochs(digits):
    frame = digits.to_frame(["clean", "robust"])
    values = frame[[digits.resolve_metric("clean"), digits.resolve_metric("robust")]].to_numpy()
    assert np.isfinite(values).all() and (values >= 0).all() and (values <= 1).all()
    # 300 validation images: every seed-0 accuracy is a multiple of 1/300
    seed0 = digits.query_many(digits.uids[:200], ["clean"], seed="0")[digits.resolve_metric("clean")].to_numpy()
    assert np.allclose(seed0 * 300, np.round(seed0 * 300), atol=1e-3)
    curve = digits.curve(Arch.from_string("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+"
                                          "|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"), "robust")
    assert sorted(curve) == [1, 2, 4, 8]
    assert digits.fidelities == list(range(1, 9))


def test_costs_are_those_of_the_8x8_network(digits):
    costs = all_costs("digits", 8, 1)
    got = digits.query_many(digits.uids, ["params", "flops"])
    assert np.array_equal(got["params"].to_numpy(), costs["params"][digits.uids])
    assert np.array_equal(got["flops"].to_numpy(), costs["flops"][digits.uids])


def _recorded_runs(bench):
    """(cell, seconds per epoch) of every run the table holds, read through the query API."""
    cells, seconds = [], []
    for seed in ("0", "1", "2"):
        per_epoch = np.stack([bench.query_many(bench.uids, ["time_s"], seed=seed, fidelity=e)["time_s"].to_numpy()
                              for e in bench.fidelities])
        have = ~np.isnan(per_epoch).any(axis=0)
        cells.append(bench.uids[have])
        seconds.append(per_epoch[:, have].sum(axis=0) / bench.fidelities[-1])
    return np.concatenate(cells), np.concatenate(seconds)


def test_the_clock_is_the_median_regression_of_every_recorded_run(digits):
    from robbench_plugin.time_model import design_matrix

    sm = pytest.importorskip("statsmodels.api")
    model = digits.epoch_time_model
    assert digits.clock == "op-count-model"
    cells, seconds = _recorded_runs(digits)
    assert model.runs == len(cells) > 6466  # every class's seed 0 and the extra seeds
    X = design_matrix(cells)
    residual = seconds - X @ np.asarray(model.coef)
    # at a least-absolute-deviations optimum with a constant, the runs above and below the fit
    # differ by at most the number of coefficients
    assert abs(int((residual > 0).sum()) - int((residual < 0).sum())) <= X.shape[1]
    theirs = sm.QuantReg(seconds, X).fit(q=0.5).params
    assert np.abs(residual).sum() <= np.abs(seconds - X @ theirs).sum() * (1 + 1e-12)
    # every operation costs time; a 3x3 convolution more than a 1x1 one, skip least
    c = dict(zip(["constant", "skip", "c1", "c3", "pool"], model.coef))
    assert 0 < c["skip"] < c["c1"] < c["c3"]


def test_train_time_charges_the_modelled_epochs_of_the_cell_itself(digits):
    uid = int(digits.uids[1234])
    per_epoch = float(digits.epoch_time_model.seconds_per_epoch([uid])[0])
    assert digits.train_time(uid, 8) == pytest.approx(8 * per_epoch, rel=1e-12)
    assert digits.train_time(uid, 4) == pytest.approx(4 * per_epoch, rel=1e-12)
    assert digits.train_time(uid, 8, seed="1") == digits.train_time(uid, 8, seed="0")
    # the recorded seconds stay in the table, and they are not what is charged
    recorded = sum(digits.query(uid, "time_s", seed="0", fidelity=e) for e in range(1, 9))
    assert recorded > 0 and recorded != pytest.approx(digits.train_time(uid, 8), rel=1e-6)
    # a cell of a class is charged its own operations, as its FLOPs are (an edge out of a node no
    # input reaches still runs): this cell computes node 3 = skip(node 0) alone, the class of cell 55
    cell = Arch.from_string("|none~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|none~1|none~2|")
    assert int(representative_indices()[cell.index]) == 55
    assert op_counts([cell.index]).tolist() == [[1, 0, 2, 0]] and op_counts([55]).tolist() == [[3, 0, 0, 1]]
    skip, c3, pool = (digits.epoch_time_model.coef[k] for k in (1, 3, 4))
    assert digits.train_time(cell.index) == pytest.approx(digits.train_time(55) + 8 * (2 * c3 - 2 * skip - pool))
    assert digits.train_time(cell.index) != pytest.approx(digits.train_time(55), rel=1e-3)


def test_quality_thresholds_of_the_shipped_table(digits):
    pytest.importorskip("scipy")
    from robbench_plugin.report import THRESHOLDS, quality_figures

    fig = quality_figures(digits)
    assert fig["robust_p5_p95_span"] >= THRESHOLDS["robust_p5_p95_span_min"]
    assert fig["tau_clean_robust"] <= THRESHOLDS["tau_clean_robust_max"]
    assert fig["seed_noise_ratio"] < THRESHOLDS["seed_noise_ratio_max"]
    assert not math.isnan(fig["tau_clean_robust"])


def test_shipped_surrogate_is_used_without_fitting(digits, monkeypatch):
    pytest.importorskip("lightgbm")
    from scipy.stats import kendalltau

    from robbench_plugin import surrogate as S

    if S.shipped_surrogate_path("digits") is None:
        pytest.skip("no surrogate shipped with this installation")

    def no_fit(*a, **k):
        raise AssertionError("fitted although the package ships this surrogate")

    monkeypatch.setattr(S.SurrogateModel, "fit", no_fit)
    sb = load_benchmark("digits", mode="surrogate")
    robust = digits.resolve_metric("robust")
    pred = sb.query_many(digits.uids, [robust])[robust].to_numpy()
    true = digits.query_many(digits.uids, [robust])[robust].to_numpy()
    assert kendalltau(pred, true)[0] > 0.7  # fitted on all of them: in-sample ranks
    # the surrogate keeps its source's clock, so a comparison on it spends the same seconds
    assert sb.clock == "op-count-model" and sb.epoch_time_model == digits.epoch_time_model
    cells = [0, 55, 5552, 15624]
    assert [sb.train_time(c, 4) for c in cells] == [digits.train_time(c, 4) for c in cells]
    assert sb.query_many(digits.uids[:50], ["time_s"])["time_s"].to_numpy() == \
        pytest.approx(digits.epoch_time_model.seconds_per_epoch(digits.uids[:50]))


def test_package_data_stays_small():
    data = Path(__import__("robbench_plugin").__file__).parent / "_data"
    assert sum(p.stat().st_size for p in data.iterdir()) <= 10 * 1024 * 1024
    assert (data / "digits.parquet").stat().st_size <= 5 * 1024 * 1024


def test_build_archive_in_the_repository_reproduces_the_shipped_table(digits):
    """data/digits-v1.build.tar.xz (checked against its .sha256 on reading) holds the records the
    shipped table was packaged from: the same classes, seeds and epochs, values equal up to the
    shipped table's float32 storage."""
    from robbench_plugin.build_table import table_from_build
    from robbench_plugin.objective import Benchmark

    built = Benchmark(table_from_build(ROOT / "data" / "digits-v1.build.tar.xz", require_complete=True), "digits")
    assert built.uids.tolist() == digits.uids.tolist() and built.seeds == digits.seeds
    assert built.fidelities == digits.fidelities
    for seed in ("0", "1", "2"):
        for f in digits.fidelities:
            a = built.query_many(built.uids, ["clean", "robust"], seed=seed, fidelity=f)
            b = digits.query_many(digits.uids, ["clean", "robust"], seed=seed, fidelity=f)
            assert np.allclose(a.to_numpy(), b.to_numpy(), rtol=0, atol=1e-7, equal_nan=True)
