"""benchmarks/reproduce_release.py on a synthetic release and synthetic CIFAR-10 files, on the CPU:
it picks stratified classes, trains them with the release recipe at the release's seed, compares
per metric with the release, writes its summary and resumes without training again."""
import json
import pickle
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import reproduce_release  # noqa: E402

# the network and evaluation small enough for a test; everything else is the release recipe
TINY = json.dumps({"epochs": 1, "C": 4, "N": 1, "train_steps": 1})


def _cifar(root: Path) -> None:
    base = root / "cifar-10-batches-py"
    base.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        with open(base / name, "wb") as fh:
            pickle.dump({b"data": rng.integers(0, 256, (16, 3072), dtype=np.uint8),
                         b"labels": rng.integers(0, 10, 16).tolist()}, fh)


def test_stratified_classes_by_hand():
    values = {10: 0.1, 11: 0.5, 12: 0.3, 13: 0.9, 14: 0.7, 15: 0.2}
    picked = reproduce_release.stratified_release_classes(values, 3)
    # bins of the sorted classes: (10, 15), (12, 11), (14, 13): one from each
    assert len(picked) == 3 and {10, 15} & set(picked) and {11, 12} & set(picked) and {13, 14} & set(picked)


def test_compare_by_hand():
    trained = [{"uid": 1, "final": {"m": 0.5}}, {"uid": 2, "final": {"m": 0.2}}, {"uid": 3, "final": {"m": 0.9}}]
    release = {1: {"m": 0.4}, 2: {"m": 0.3}, 3: {"m": 0.6}}
    out = reproduce_release.compare(trained, release, ["m"])["m"]
    assert out["mean_abs_diff"] == pytest.approx((0.1 + 0.1 + 0.3) / 3)
    assert out["kendall_tau"] == pytest.approx(1.0)  # same order: 0.2 < 0.5 < 0.9 and 0.3 < 0.4 < 0.6


def test_smoke_on_synthetic_files(synthetic_release, tmp_path, capsys):
    _cifar(tmp_path / "cifar")
    args = ["--release", str(synthetic_release), "--data-root", str(tmp_path / "cifar"), "--out",
            str(tmp_path / "out"), "--k", "3", "--device", "cpu", "--override", TINY]
    assert reproduce_release.main(args) == 0
    printed = capsys.readouterr().out
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert len(summary["uids"]) == 3 and summary["seed_label"] == "1"
    assert set(summary["metrics"]) == {"val_acc", "val_fgsm_3.0_acc", "val_fgsm_8.0_acc", "val_pgd_3.0_acc",
                                       "val_pgd_8.0_acc"}
    runs = [json.loads(line) for line in (tmp_path / "out" / "runs.jsonl").read_text().splitlines()]
    assert [r["uid"] for r in runs] == summary["uids"] and {r["seed"] for r in runs} == {1}
    from robbench_plugin.loader import load_benchmark

    bench = load_benchmark("nas-robbench-201", dataset="cifar10", data_dir=synthetic_release)
    for m, v in summary["metrics"].items():  # the difference to the release's own values, recomputed
        released = [bench.query(u, m, seed="1") for u in summary["uids"]]
        assert v["mean_abs_diff"] == pytest.approx(np.mean(np.abs(np.array([r["final"][m] for r in runs]) - released)))
        assert m in printed
    assert "s per architecture on cpu (fp32)" in printed
    # stopped and rerun: nothing trained again, the same summary
    assert reproduce_release.main(args) == 0
    assert "3 architectures, 0 to train" in capsys.readouterr().out
    assert json.loads((tmp_path / "out" / "summary.json").read_text()) == summary


def test_bad_arguments(synthetic_release, tmp_path):
    for bad in (["--k", "1"], ["--override", "[1]"], ["--override", '{"epochs": 0}'], ["--seed-label", "mean"]):
        with pytest.raises(SystemExit) as exc:
            reproduce_release.main(["--release", str(synthetic_release), "--data-root", str(tmp_path),
                                    "--out", str(tmp_path / "out"), *bad])
        assert exc.value.code == 2
    assert not (tmp_path / "out").exists()
