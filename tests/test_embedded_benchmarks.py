"""What every embedded benchmark ships with, checked on each (digits and Fashion-MNIST): the
simulated clock against a second regression of the table's own recorded times, the time charged
for a cell, the quality thresholds of its report, and the shipped surrogate."""
import math
from pathlib import Path

import numpy as np
import pytest

from robbench_plugin import Arch, load_benchmark
from robbench_plugin.embedded import distinct_tables
from robbench_plugin.loader import EMBEDDED, embedded_available
from robbench_plugin.space import representative_indices
from robbench_plugin.time_model import op_counts


@pytest.fixture(scope="module", params=sorted(n for n in distinct_tables() if embedded_available(n)))
def bench(request):
    """Each embedded table in the package, as ``load_benchmark(name)`` gives it (once per table file: a
    second name for a table, and which names are still being built, are checked in
    test_embedded_registry.py)."""
    return load_benchmark(request.param)


def _recorded_runs(bench):
    """(cell, seconds per epoch) of every run the table holds, read through the query API."""
    cells, seconds = [], []
    for seed in [s for s in bench.seeds if s not in ("mean", "std")]:
        per_epoch = np.stack([bench.query_many(bench.uids, ["time_s"], seed=seed, fidelity=e)["time_s"].to_numpy()
                              for e in bench.fidelities])
        have = ~np.isnan(per_epoch).any(axis=0)
        cells.append(bench.uids[have])
        seconds.append(per_epoch[:, have].sum(axis=0) / bench.fidelities[-1])
    return np.concatenate(cells), np.concatenate(seconds)


def test_the_clock_is_the_median_regression_of_every_recorded_run(bench):
    from robbench_plugin.time_model import design_matrix

    sm = pytest.importorskip("statsmodels.api")
    model = bench.epoch_time_model
    assert bench.clock == "op-count-model"
    cells, seconds = _recorded_runs(bench)
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


def test_train_time_charges_the_modelled_epochs_of_the_cell_itself(bench):
    uid = int(bench.uids[1234])
    per_epoch = float(bench.epoch_time_model.seconds_per_epoch([uid])[0])
    last = bench.fidelities[-1]
    assert bench.train_time(uid, last) == pytest.approx(last * per_epoch, rel=1e-12)
    assert bench.train_time(uid, 4) == pytest.approx(4 * per_epoch, rel=1e-12)
    assert bench.train_time(uid, last, seed="1") == bench.train_time(uid, last, seed="0")
    # the recorded seconds stay in the table, and they are not what is charged
    recorded = sum(bench.query(uid, "time_s", seed="0", fidelity=e) for e in bench.fidelities)
    assert recorded > 0 and recorded != pytest.approx(bench.train_time(uid, last), rel=1e-6)
    # a cell of a class is charged its own operations, as its FLOPs are (an edge out of a node no
    # input reaches still runs): this cell computes node 3 = skip(node 0) alone, the class of cell 55
    cell = Arch.from_string("|none~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|none~1|none~2|")
    assert int(representative_indices()[cell.index]) == 55
    assert op_counts([cell.index]).tolist() == [[1, 0, 2, 0]] and op_counts([55]).tolist() == [[3, 0, 0, 1]]
    skip, c3, pool = (bench.epoch_time_model.coef[k] for k in (1, 3, 4))
    assert bench.train_time(cell.index) == pytest.approx(bench.train_time(55) + last * (2 * c3 - 2 * skip - pool))
    assert bench.train_time(cell.index) != pytest.approx(bench.train_time(55), rel=1e-3)


def test_quality_thresholds_of_the_shipped_table(bench):
    pytest.importorskip("scipy")
    from robbench_plugin.report import THRESHOLDS, quality_figures

    fig = quality_figures(bench)
    assert fig["robust_p5_p95_span"] >= THRESHOLDS["robust_p5_p95_span_min"]
    assert fig["tau_clean_robust"] <= THRESHOLDS["tau_clean_robust_max"]
    assert fig["seed_noise_ratio"] < THRESHOLDS["seed_noise_ratio_max"]
    assert not math.isnan(fig["tau_clean_robust"])


def test_shipped_surrogate_is_used_without_fitting(bench, monkeypatch):
    pytest.importorskip("lightgbm")
    from scipy.stats import kendalltau

    from robbench_plugin import surrogate as S

    assert S.shipped_surrogate_path(bench.name) is not None, "the package ships this surrogate"

    def no_fit(*a, **k):
        raise AssertionError("fitted although the package ships this surrogate")

    monkeypatch.setattr(S.SurrogateModel, "fit", no_fit)
    sb = load_benchmark(bench.name, mode="surrogate")
    robust = bench.resolve_metric("robust")
    pred = sb.query_many(bench.uids, [robust])[robust].to_numpy()
    true = bench.query_many(bench.uids, [robust])[robust].to_numpy()
    assert kendalltau(pred, true)[0] > 0.7  # fitted on all of them: in-sample ranks
    # the surrogate keeps its source's clock, so a comparison on it spends the same seconds. The table
    # fits its clock when it is loaded (a median regression): on another CPU than the one that packaged
    # the surrogate, its coefficients differ in their last bits (seen: 3e-15 relative on an AVX2 CPU)
    ours, source = sb.epoch_time_model, bench.epoch_time_model
    assert sb.clock == "op-count-model" and (ours.floor, ours.runs) == (source.floor, source.runs)
    assert ours.coef == pytest.approx(source.coef, rel=1e-12, abs=0)
    cells = [0, 55, 5552, 15624]
    assert [sb.train_time(c, 4) for c in cells] == pytest.approx([bench.train_time(c, 4) for c in cells], rel=1e-12)
    assert sb.query_many(bench.uids[:50], ["time_s"])["time_s"].to_numpy() == \
        pytest.approx(bench.epoch_time_model.seconds_per_epoch(bench.uids[:50]))


def test_package_data_stays_small():
    data = Path(__import__("robbench_plugin").__file__).parent / "_data"
    assert sum(p.stat().st_size for p in data.iterdir()) <= 10 * 1024 * 1024
    for fname in {EMBEDDED[n] for n in EMBEDDED if embedded_available(n)}:  # the tables
        assert (data / fname).stat().st_size <= 3 * 1024 * 1024
