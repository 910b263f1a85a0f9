import json
import shutil

import numpy as np
import pytest

from robbench_plugin import Arch, load_benchmark

from robbench_plugin.errors import DataFileError, RobBenchError
from robbench_plugin.release import DATA_FILE, load_release


def test_all_uids_metrics_and_seed_labels_present(release_bench, synthetic_release):
    raw = json.loads((synthetic_release / DATA_FILE).read_text())
    assert len(release_bench.uids) == 6466
    assert set(release_bench.metrics) >= {"val_acc", "val_fgsm_3.0_acc", "val_fgsm_8.0_acc", "val_pgd_3.0_acc",
                                          "val_pgd_8.0_acc"}
    labels = {s for per_uid in raw["cifar10"].values() for per_seed in per_uid.values() for s in per_seed}
    assert set(release_bench.seeds) == labels | {"mean", "std"}
    assert release_bench.fidelities == [50]


def test_mean_and_std_over_present_seeds_match_hand_computation(release_bench, synthetic_release):
    raw = json.loads((synthetic_release / DATA_FILE).read_text())["cifar10"]
    multi = [u for u, m in raw.items() if len(m["val_acc"]) > 1][:5]
    single = [u for u, m in raw.items() if len(m["val_acc"]) == 1][:5]
    for u in multi + single:
        vals = list(raw[u]["val_pgd_8.0_acc"].values())
        assert release_bench.query(int(u), "robust", seed="mean") == pytest.approx(sum(vals) / len(vals), abs=1e-12)
        std = release_bench.query(int(u), "robust", seed="std")
        if len(vals) > 1:
            assert std == pytest.approx(np.std(vals, ddof=1), abs=1e-12)
        else:
            assert np.isnan(std)


def test_isomorphic_forms_answer_for_their_class(release_bench):
    # 1651 (all none) belongs to class 10
    assert release_bench.query(1651, "clean") == release_bench.query(10, "clean")
    s = Arch.from_index(1651).string
    assert release_bench.query(s, "clean") == release_bench.query(Arch.from_index(10), "clean")


def test_query_many_equals_scalar_queries(release_bench):
    archs = [a.index for a in Arch.sample(300, rng=0)]
    df = release_bench.query_many(archs, ["clean", "robust", "params"])
    assert list(df["index"]) == archs
    for i, row in zip(archs[:50], df.itertuples()):
        assert row.val_acc == release_bench.query(i, "clean")
    assert np.array_equal(df["val_pgd_8.0_acc"].to_numpy(), np.array([release_bench.query(i, "robust") for i in archs]))
    assert np.allclose(df["params"], [release_bench.query(i, "params") for i in archs])


def test_datasets_and_aliases(synthetic_release):
    for ds in ("cifar10", "cifar100", "imagenet"):
        b = load_benchmark("nas-robbench-201", dataset=ds, data_dir=synthetic_release)
        assert b.resolve_metric("clean") == "val_acc" and b.resolve_metric("robust") == "val_pgd_8.0_acc"
        assert b.query(1462, "params") == pytest.approx({"cifar10": 1.531546, "cifar100": 1.537396,
                                                         "imagenet": 1.538696}[ds])


def test_cache_is_reused_then_rebuilt_when_stale_or_corrupt(synthetic_release, tmp_path):
    src = tmp_path / "rel"
    shutil.copytree(synthetic_release, src)
    cache = tmp_path / "cache.rbt"
    t1 = load_release(src, cache=cache)
    mtime = cache.stat().st_mtime_ns
    t2 = load_release(src, cache=cache)
    assert cache.stat().st_mtime_ns == mtime  # reused
    assert t1.sha256() == t2.sha256()
    # corrupt the cache: detected and rebuilt
    cache.write_bytes(b"garbage")
    t3 = load_release(src, cache=cache)
    assert t3.sha256() == t1.sha256()
    # change the source: stale cache detected (sha mismatch) and rebuilt with the new value
    raw = json.loads((src / DATA_FILE).read_text())
    raw["cifar10"]["1000"]["val_acc"]["1"] = 0.123
    (src / DATA_FILE).write_text(json.dumps(raw))
    t4 = load_release(src, cache=cache)
    from robbench_plugin.objective import Benchmark

    assert Benchmark(t4, "cifar10").query(1000, "clean", seed="1") == 0.123
    assert t4.meta.sha256[DATA_FILE] != t1.meta.sha256[DATA_FILE]


def test_missing_release_explains_how_to_get_it(tmp_path):
    with pytest.raises(DataFileError, match="robbench download"):
        load_benchmark("nas-robbench-201", data_dir=tmp_path)


def test_pareto_front_is_non_dominated_and_complete(release_bench):
    front = release_bench.pareto_front(("clean", "robust"))
    full = release_bench.to_frame(["clean", "robust"])
    pts = full[["val_acc", "val_pgd_8.0_acc"]].to_numpy()
    fpts = front[["val_acc", "val_pgd_8.0_acc"]].to_numpy()
    # brute force: a point is on the front iff nothing dominates it
    dominated = [(np.all(pts >= p, axis=1) & np.any(pts > p, axis=1)).any() for p in pts]
    assert len(front) == (~np.array(dominated)).sum()
    for p in fpts:
        assert not (np.all(pts >= p, axis=1) & np.any(pts > p, axis=1)).any()


def test_reader_on_a_hand_written_release_file(fixture_release):
    """Values read back equal the ones written by hand; seed aggregates equal hand computation."""
    b = load_benchmark("nas-robbench-201", dataset="cifar10", data_dir=fixture_release)
    assert b.uids.tolist() == [0, 10, 1000, 1462] and b.fidelities == [50]
    assert b.seeds == ["1", "2", "3", "mean", "std"]
    # the reference reader's values (res["cifar10"]["1000"][metric]["1"])
    assert b.query(1000, "val_fgsm_3.0_acc", seed="1") == 0.6729999780654907
    assert b.query(1000, "val_pgd_3.0_acc", seed="1") == 0.6680999994277954
    assert b.query(1000, "robust", seed="1") == 0.4410000145435333  # robust = PGD at 8/255
    assert b.query(1462, "clean", seed="mean") == pytest.approx((0.8 + 0.81 + 0.84) / 3, abs=1e-15)
    assert b.query(1462, "robust", seed="std") == pytest.approx(0.02, abs=1e-12)  # (0.46, 0.48, 0.50), ddof=1
    assert b.query(1000, "clean", seed="mean") == 0.7904999852180481  # one seed: the mean is that seed
    assert np.isnan(b.query(1000, "clean", seed="std"))
    assert b.query(1651, "clean", seed="1") == 0.1  # the all-none cell answers for its class (10)
    with pytest.raises(RobBenchError, match="has no entry"):
        b.query(1, "clean")  # a class the file does not hold
    c100 = load_benchmark("nas-robbench-201", dataset="cifar100", data_dir=fixture_release)
    assert c100.uids.tolist() == [1000] and c100.query(1000, "robust", seed="1") == 0.19
    imagenet = load_benchmark("nas-robbench-201", dataset="imagenet", data_dir=fixture_release)
    assert imagenet.query(1000, "val_fgsm_8.0_acc", seed="1") == 0.09


def test_simulated_time_follows_the_runs_the_release_holds(fixture_release, synthetic_release):
    """The stated ~107k GPU hours cover the runs the loaded release holds: the hand-written file
    has 4 cifar10 classes with 1, 1, 1 and 3 seeds and one class with one seed in each other
    dataset, so (6/4 + 1 + 1) / 3 runs per class, and each epoch takes 3 / that as long as the
    three-seeds calibration says."""
    from robbench_plugin import arch_costs
    from robbench_plugin.release_time import RELEASE_OVERHEAD_S, RELEASE_S_PER_MFLOP_IMAGE

    b = load_benchmark("nas-robbench-201", dataset="cifar10", data_dir=fixture_release)
    runs = (6 / 4 + 1 + 1) / 3
    assert b.runs_per_class == pytest.approx(runs)
    epoch = RELEASE_OVERHEAD_S + RELEASE_S_PER_MFLOP_IMAGE * arch_costs(1000, "cifar10")["flops"] * 50000
    assert b.train_time(1000) == pytest.approx(50 * epoch * 3 / runs)
    raw = json.loads((synthetic_release / DATA_FILE).read_text())
    per_ds = [np.mean([len(m["val_acc"]) for m in raw[ds].values()]) for ds in raw]
    assert load_benchmark("nas-robbench-201", data_dir=synthetic_release).runs_per_class == pytest.approx(
        np.mean(per_ds))
