"""The embedded Fashion-MNIST benchmark as shipped: its shape against the build plan, its values
against the raw records of the build archive it was packaged from (read here without the packaging
code) and its costs against the costs model (what it shares with digits is in
test_embedded_benchmarks.py)."""
import json
import tarfile

import numpy as np
import pytest

from robbench_plugin import load_benchmark
from robbench_plugin.costs import all_costs
from robbench_plugin.space import NUM_UNIQUE

from .helpers import ROOT

ARCHIVE = ROOT / "data" / "fashion-mnist-v1.build.tar.xz"


@pytest.fixture(scope="module")
def fmnist():
    """Version 1 by its versioned name: the table packaged from ARCHIVE."""
    return load_benchmark("fashion-mnist-v1")


def _archive_records() -> list[dict]:
    """Every run record of the archive, read straight from its JSON-lines shards."""
    records = []
    with tarfile.open(ARCHIVE, "r:xz") as tf:
        for member in tf.getmembers():
            if member.isfile() and member.name.endswith(".jsonl"):
                records += [json.loads(line) for line in tf.extractfile(member).read().splitlines() if line.strip()]
    return records


def test_it_is_the_default_with_every_class_at_both_planned_seeds(fmnist, published_representatives):
    assert load_benchmark().table is fmnist.table  # no arguments: the embedded default, today version 1
    assert fmnist.name == "fashion-mnist-v1" and fmnist.dataset == "fashion-mnist"
    assert sorted(published_representatives) == fmnist.uids.tolist() and len(fmnist.uids) == NUM_UNIQUE
    assert fmnist.seeds == ["0", "1", "mean", "std"]
    robust = fmnist.resolve_metric("robust")
    for seed in ("0", "1"):  # the plan: seed 1 for every class (extra fraction 1.0)
        col = fmnist.query_many(fmnist.uids, [robust], seed=seed)[robust].to_numpy()
        assert not np.isnan(col).any()
    assert fmnist.fidelities == list(range(1, 7))  # evaluated after every one of the 6 epochs


def test_values_are_the_archives_records(fmnist):
    """Each class's final clean and robust accuracy of each seed is the archive's record of that run
    (float32 storage), and an epoch-1 value is a multiple of 1/1000 (the 1000-image evaluation subset),
    a final one of 1/5000 (the whole validation split)."""
    records = _archive_records()
    clean, robust = fmnist.resolve_metric("clean"), fmnist.resolve_metric("robust")
    assert robust == "val_pgd_8.0_acc"
    by_run = {(r["uid"], str(r["seed"])): r for r in records}
    assert len(by_run) == len(records) == 2 * NUM_UNIQUE  # one record per class and seed
    for seed in ("0", "1"):
        got = fmnist.query_many(fmnist.uids, [clean, robust], seed=seed)
        last = [by_run[(int(u), seed)]["epochs"][-1] for u in fmnist.uids]
        for metric in (clean, robust):
            want = np.array([e[metric] for e in last], dtype=np.float32)
            assert np.array_equal(got[metric].to_numpy().astype(np.float32), want)
            assert np.allclose(want.astype(np.float64) * 5000, np.round(want.astype(np.float64) * 5000), atol=2e-3)
    first = fmnist.query_many(fmnist.uids[:500], [robust], seed="0", fidelity=1)[robust].to_numpy()
    assert np.allclose(first * 1000, np.round(first * 1000), atol=1e-3)
    assert not np.allclose(first * 500, np.round(first * 500), atol=1e-3)  # not a coarser grid


def test_costs_are_those_of_the_8x8_three_cells_per_stage_network(fmnist):
    costs = all_costs("fashion-mnist", 8, 3)
    got = fmnist.query_many(fmnist.uids, ["params", "flops"])
    assert np.array_equal(got["params"].to_numpy(), costs["params"][fmnist.uids])
    assert np.array_equal(got["flops"].to_numpy(), costs["flops"][fmnist.uids])
