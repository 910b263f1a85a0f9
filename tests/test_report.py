import numpy as np
import pandas as pd
import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("scipy")
from scipy.stats import kendalltau  # noqa: E402

from robbench_plugin.objective import Benchmark  # noqa: E402
from robbench_plugin.report import quality_figures, write_report  # noqa: E402
from robbench_plugin.space import unique_indices  # noqa: E402
from robbench_plugin.table import Table, TableMeta  # noqa: E402


def _bench():
    rng = np.random.default_rng(0)
    uids = unique_indices()[:400]
    clean = rng.uniform(0.7, 0.99, len(uids))
    robust = 0.5 * clean + rng.uniform(0, 0.3, len(uids)) - 0.2
    rows = []
    for u, c, r in zip(uids, clean, robust):
        for e, frac in ((1, 0.5), (2, 1.0)):
            rows += [("digits", u, "val_acc", e, "0", c * frac), ("digits", u, "val_pgd_48.0_acc", e, "0", r * frac)]
    for u, r in zip(uids[:40], robust[:40]):  # a second seed for 10%: +-0.01 -> std 0.01414 per class
        rows += [("digits", u, "val_acc", 2, "1", 0.9), ("digits", u, "val_pgd_48.0_acc", 2, "1", r + 0.02)]
    df = pd.DataFrame(rows, columns=["dataset", "uid", "metric", "fidelity", "seed", "value"])
    meta = TableMeta(name="t", aliases={"clean": "val_acc", "robust": "val_pgd_48.0_acc"}, C=8, N=1)
    return Benchmark(Table.from_frame(df, meta), "digits"), clean, robust


def test_figures_against_hand_computation(tmp_path):
    bench, clean, robust = _bench()
    q = quality_figures(bench)
    mean_r = robust.copy()
    mean_r[:40] += 0.01  # seed mean of r and r + 0.02
    mean_c = clean.copy()
    mean_c[:40] = (clean[:40] + 0.9) / 2
    assert q["classes"] == 400
    assert q["tau_clean_robust"] == pytest.approx(kendalltau(mean_c, mean_r)[0])
    assert q["robust_p5_p95_span"] == pytest.approx(np.percentile(mean_r, 95) - np.percentile(mean_r, 5))
    assert q["median_seed_std"] == pytest.approx(0.02 / np.sqrt(2))
    assert q["seed_classes"] == 40
    # epoch 1 is exactly half of epoch 2 for seed "0", so the early/final tau over the mean is high
    assert q["tau_epoch_vs_final"][1]["robust"] > 0.9
    assert q["checks"]["seed_noise_ratio"] == (q["median_seed_std"] / np.std(mean_r, ddof=1) < 1 / 3)
    # what the table rewards: the op effects of the seed means, every class once (tested by hand in
    # test_op_effects.py)
    from robbench_plugin.op_effects import op_effects_of_classes

    uids = unique_indices()[:400]
    np.testing.assert_allclose(q["op_effects_robust"], op_effects_of_classes(mean_r, uids), atol=1e-12)
    np.testing.assert_allclose(q["op_effects_clean"], op_effects_of_classes(mean_c, uids), atol=1e-12)
    out = write_report(bench, tmp_path)
    text = (tmp_path / "report.md").read_text()
    row = text.split("| 0->1 | ")[1].split("\n")[0]
    assert row.split(" | ")[0] == f"{q['op_effects_robust'][0][0]:+.2f} ({q['op_effects_clean'][0][0]:+.2f})"
    for name in ("report.md", "distributions.png", "clean_vs_robust.png", "op_frequency_top5.png", "op_effects.png"):
        assert (tmp_path / name).stat().st_size > 500
    assert "Kendall tau(clean, robust)" in (tmp_path / "report.md").read_text()
    assert out["checks"] == q["checks"]


def test_recorded_time_figures_by_hand():
    """Seed 1 trains every class in exactly twice seed 0's seconds, which grow with FLOPs: the
    seconds repeat in rank between seeds (tau 1, ratio 0.5 everywhere) and follow FLOPs (tau 1)."""
    from robbench_plugin.costs import all_costs
    from robbench_plugin.report import recorded_time_figures

    uids = unique_indices()
    flops = all_costs("digits", C=8, N=1)["flops"][uids]
    keep = np.unique(flops, return_index=True)[1]  # distinct FLOPs, so the ranks are strict
    uids, flops = uids[keep], flops[keep]
    rows = []
    for u, f in zip(uids, flops):
        for seed, scale in (("0", 1.0), ("1", 2.0)):
            rows += [("digits", u, "val_acc", 1, seed, 0.8), ("digits", u, "val_pgd_48.0_acc", 1, seed, 0.4),
                     ("digits", u, "time_s", 1, seed, scale * (0.1 + f))]
    df = pd.DataFrame(rows, columns=["dataset", "uid", "metric", "fidelity", "seed", "value"])
    meta = TableMeta(name="t", aliases={"clean": "val_acc", "robust": "val_pgd_48.0_acc"}, C=8, N=1,
                     time_source="recorded")
    bench = Benchmark(Table.from_frame(df, meta), "digits")
    q = recorded_time_figures(bench, bench.uids)
    assert q["time_seed_classes"] == len(uids) == 28  # the distinct FLOPs of the N=1 network
    assert q["time_tau_seeds"] == pytest.approx(1.0) and q["time_tau_flops"] == pytest.approx(1.0)
    assert q["time_seed_ratio_p5_p95"] == pytest.approx([0.5, 0.5])
    # the same table with its times reversed between seeds for half the classes: tau drops
    flip = df["metric"].eq("time_s") & df["uid"].isin(uids[::2]) & df["seed"].eq("1")
    df.loc[flip, "value"] = 2 * (0.1 + flops.max()) - df.loc[flip, "value"]
    q2 = recorded_time_figures(Benchmark(Table.from_frame(df, meta), "digits"), bench.uids)
    assert q2["time_tau_seeds"] < 0.9
    # a table whose times are not recorded (the release's FLOPs model, a surrogate) has none
    meta_model = TableMeta(name="t", aliases=meta.aliases, C=8, N=1, time_source="flops-model")
    assert recorded_time_figures(Benchmark(Table.from_frame(df, meta_model), "digits"), bench.uids) == {}


def test_the_held_out_clock_model_by_hand():
    """Every class's seconds are an exact linear function of its op counts, except that the first
    seed of the classes with two seeds is shuffled among them (load). The model fitted on the
    one-seed classes recovers the function, so it ranks the second seed perfectly (tau 1), while
    the shuffled first seed does not; the clock is fitted on every run, shuffled ones included."""
    from robbench_plugin.report import recorded_time_figures
    from robbench_plugin.time_model import design_matrix

    uids = unique_indices()
    truth = design_matrix(uids) @ np.array([0.1, 0.0123, 0.0517, 0.0831, 0.0709])  # no ties across op counts
    two = np.zeros(len(uids), dtype=bool)
    two[::10] = True  # 647 classes with two seeds
    first = truth.copy()
    first[two] = np.random.default_rng(0).permutation(truth[two])
    rows = [("digits", u, m, 1, "0", v) for u, t in zip(uids, first)
            for m, v in (("val_acc", 0.8), ("val_pgd_48.0_acc", 0.4), ("time_s", t))]
    rows += [("digits", u, m, 1, "1", v) for u, t in zip(uids[two], truth[two])
             for m, v in (("val_acc", 0.8), ("val_pgd_48.0_acc", 0.4), ("time_s", t))]
    df = pd.DataFrame(rows, columns=["dataset", "uid", "metric", "fidelity", "seed", "value"])
    meta = TableMeta(name="t", aliases={"clean": "val_acc", "robust": "val_pgd_48.0_acc"}, C=8, N=1,
                     time_source="recorded")
    bench = Benchmark(Table.from_frame(df, meta), "digits")
    q = recorded_time_figures(bench, bench.uids)
    assert q["time_seed_classes"] == two.sum() == 647 and q["time_model_classes"] == len(uids) - 647
    assert q["time_tau_model_seeds"] == pytest.approx(1.0)
    assert abs(q["time_tau_seeds"]) < 0.1
    assert q["clock"]["runs"] == len(uids) + 647
    assert q["clock"]["nor_conv_3x3"] == pytest.approx(0.0831, abs=1e-6)  # the median ignores the shuffled tenth
