"""The embedded digits benchmark as shipped: its shape against the build plan, its values against
the costs model and against its build archive (the tests it shares with every embedded benchmark
are in test_embedded_benchmarks.py)."""
import numpy as np

from robbench_plugin import Arch, load_benchmark
from robbench_plugin.costs import all_costs
from robbench_plugin.space import NUM_UNIQUE

from .helpers import ROOT


def test_digits_has_every_class_and_the_planned_seeds(digits):
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
