import numpy as np
import pytest

torch = pytest.importorskip("torch")

from robbench_plugin.costs import all_costs, arch_costs  # noqa: E402
from robbench_plugin.space import NUM_ARCHS, Arch  # noqa: E402
from robbench_plugin.train import build_model, count_parameters  # noqa: E402

SPECS = {"cifar10": (10, 3), "cifar100": (100, 3), "imagenet": (120, 3)}


def _count(index, dataset, C=16, N=5):
    classes, ch = SPECS[dataset]
    with torch.device("meta"):
        return count_parameters(build_model(index, classes, C=C, N=N, in_channels=ch))


def test_reference_counts_match_nb201():
    assert _count(1462, "cifar10") == 1531546
    assert _count(1651, "cifar10") == 73306
    assert _count(1000, "cifar100") == 593236
    assert _count(1000, "imagenet") == 594536


def test_random_cells_match_analytic_count_n1():
    # 500 random cells at N=1 here; every cell at N=5 for all three datasets is the slow test
    rng = np.random.default_rng(1)
    for index in rng.choice(NUM_ARCHS, 500, replace=False):
        assert _count(int(index), "cifar10", C=16, N=1) == round(arch_costs(int(index), "cifar10", C=16, N=1)["params"] * 1e6)


def test_random_cells_all_datasets_n5():
    rng = np.random.default_rng(0)
    for index in rng.choice(NUM_ARCHS, 40, replace=False):
        for ds in SPECS:
            assert _count(int(index), ds) == round(arch_costs(int(index), ds)["params"] * 1e6)


def _counts_all_datasets(indices) -> list[dict]:
    """For each cell: the torch model's parameter count on each dataset. The three datasets share
    everything but the classifier (3 input channels each), so the model is built once per cell and
    each dataset's classifier is a torch Linear of its own size in place of the built one."""
    torch.set_num_threads(1)
    out = []
    for index in indices:
        with torch.device("meta"):
            model = build_model(int(index), 10, C=16, N=5, in_channels=3)
            body = count_parameters(model) - count_parameters(model.classifier)
            out.append({ds: body + count_parameters(torch.nn.Linear(model.classifier.in_features, classes))
                        for ds, (classes, _) in SPECS.items()})
    return out


@pytest.mark.slow
def test_all_15625_cells_all_datasets_n5():
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    expected = {ds: np.round(all_costs(ds)["params"] * 1e6).astype(int) for ds in SPECS}
    chunks = np.array_split(np.arange(NUM_ARCHS), 16)
    with ProcessPoolExecutor(2, mp_context=mp.get_context("spawn")) as pool:
        counts = [c for part in pool.map(_counts_all_datasets, chunks) for c in part]
    assert len(counts) == NUM_ARCHS
    for index, c in enumerate(counts):
        for ds in SPECS:
            assert c[ds] == expected[ds][index], (ds, index)


def test_forward_shapes_and_dead_cells():
    x = torch.rand(4, 1, 8, 8)
    for index in (1462, 1651, 1000):
        m = build_model(index, 10, C=4, N=1, in_channels=1)
        assert m(x).shape == (4, 10)
    # all-none cell: the output does not depend on the input
    m = build_model(1651, 10, C=4, N=1, in_channels=1).eval()
    assert torch.allclose(m(x), m(torch.rand(4, 1, 8, 8)))


def test_dead_branch_skipping_keeps_the_function():
    # Cells of one class compute the same function for equal weights; we check that the
    # skipped dead edges do not change outputs by comparing with the dead edge's op set
    # to none (same class, and the live parameters are copied across).
    a = Arch.from_ops(["nor_conv_3x3", "none", "none", "nor_conv_1x1", "none", "none"])  # node1 dead
    b = Arch.from_ops(["none", "none", "none", "nor_conv_1x1", "none", "none"])
    assert a == b
    torch.manual_seed(0)
    ma = build_model(a, 10, C=4, N=1, in_channels=1).eval()
    mb = build_model(b, 10, C=4, N=1, in_channels=1).eval()
    live = {k: v for k, v in ma.state_dict().items() if not k.startswith("_dead")}
    mb.load_state_dict(live)
    x = torch.rand(3, 1, 8, 8)
    assert torch.allclose(ma(x), mb(x))
