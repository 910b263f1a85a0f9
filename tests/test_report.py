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
