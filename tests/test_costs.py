import json
from pathlib import Path

import pytest

from robbench_plugin import arch_costs
from robbench_plugin.costs import all_costs

# NAS-Bench-201's own values (tests/data/nb201_reference_costs.json): params M / FLOPs M
REFERENCE = {int(i): v for i, v in json.loads(
    (Path(__file__).parent / "data" / "nb201_reference_costs.json").read_text())["values"].items()}


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
