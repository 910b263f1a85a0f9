import pytest

from robbench_plugin import arch_costs
from robbench_plugin.costs import all_costs

# NAS-Bench-201's own values (shared/docs/nas-robbench-201.md): params M / FLOPs M
REFERENCE = {
    1462: {"cifar10": (1.531546, 220.11969), "cifar100": (1.537396, 220.12554), "imagenet": (1.538696, 55.03756)},
    1651: {"cifar10": (0.073306, 7.78305), "cifar100": (0.079156, 7.7889), "imagenet": (0.080456, 1.9534)},
    1000: {"cifar10": (0.587386, 82.49409), "cifar100": (0.593236, 82.49994), "imagenet": (0.594536, 20.63116)},
}


@pytest.mark.parametrize("index", sorted(REFERENCE))
@pytest.mark.parametrize("dataset", ["cifar10", "cifar100", "imagenet"])
def test_reference_costs(index, dataset):
    c = arch_costs(index, dataset)
    params, flops = REFERENCE[index][dataset]
    assert c["params"] == pytest.approx(params, abs=1e-9)
    assert c["flops"] == pytest.approx(flops, abs=1e-9)


def test_cifar10_param_range_and_vectorised_agrees():
    c = all_costs("cifar10")
    assert c["params"].min() == pytest.approx(0.073306) and c["params"].max() == pytest.approx(1.531546)
    for i in (0, 1, 777, 15624):
        assert c["params"][i] == pytest.approx(arch_costs(i)["params"])
        assert c["flops"][i] == pytest.approx(arch_costs(i)["flops"])


def test_bad_dataset():
    with pytest.raises(ValueError, match="unknown dataset 'cifar1'.*cifar10"):
        arch_costs(0, "cifar1")
