"""Analytic parameter count and FLOPs of the NAS-Bench-201 network, without torch.

The network (NAS-Bench-201's "TinyNetwork"): a 3x3 stem conv (in_channels -> C) + BN;
three stages of N cells at C, 2C, 4C channels, a ResNet basic block with stride 2 between
stages (ReLU-Conv3x3-BN twice, shortcut AvgPool2x2 + Conv1x1); BN + ReLU; global average
pooling; a linear classifier. Cell ops: ``nor_conv_kxk`` = ReLU-Conv(bias-free)-BN(affine),
``skip_connect`` = identity, ``avg_pool_3x3`` and ``none`` have no parameters.

Counting follows NAS-Bench-201: parameters are all trainable tensors, BN affine included,
running statistics excluded, every edge counted (dead ones too); FLOPs are multiply-adds
of conv and linear layers only (pooling, BN and ReLU are not counted), for one image.
Both are reported in millions, as NAS-Bench-201 reports them.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import InvalidValueError, check_choice
from .space import NUM_EDGES, ArchLike, Arch, index_to_ops_array

# op code -> (kernel size) for the convolutions; other ops cost nothing.
_CONV_KERNEL = {2: 1, 3: 3}


@dataclass(frozen=True)
class DatasetSpec:
    """Shape of a dataset as the network sees it."""

    name: str
    num_classes: int
    resolution: int  # input height = width, pixels
    in_channels: int


DATASET_SPECS: dict[str, DatasetSpec] = {
    "cifar10": DatasetSpec("cifar10", 10, 32, 3),
    "cifar100": DatasetSpec("cifar100", 100, 32, 3),
    "imagenet": DatasetSpec("imagenet", 120, 16, 3),  # ImageNet16-120
    "digits": DatasetSpec("digits", 10, 8, 1),  # scikit-learn's 8x8 digits
    "fashion-mnist": DatasetSpec("fashion-mnist", 10, 8, 1),  # Fashion-MNIST, area-averaged from 28x28
}


# the datasets of the NAS-RobBench-201 release (ImageNet is ImageNet16-120)
RELEASE_DATASETS = ("cifar10", "cifar100", "imagenet")


def dataset_spec(dataset: str) -> DatasetSpec:
    check_choice("dataset", dataset, DATASET_SPECS)
    return DATASET_SPECS[dataset]


def _conv(c_in: int, c_out: int, k: int, hw: int) -> tuple[int, int]:
    """(params, flops) of a bias-free conv producing an hw x hw map."""
    p = c_in * c_out * k * k
    return p, p * hw * hw


def _skeleton(num_classes: int, resolution: int, in_channels: int, C: int, N: int) -> tuple[int, int]:
    """(params, flops) of everything but the cells."""
    params, flops = _conv(in_channels, C, 3, resolution)
    params += 2 * C  # stem BN
    hw, c = resolution, C
    for _ in range(2):  # two reduction blocks
        out_hw = (hw + 1) // 2
        for cin, k in ((c, 3), (2 * c, 3)):  # conv_a (stride 2), conv_b
            p, f = _conv(cin, 2 * c, k, out_hw)
            params, flops = params + p + 2 * 2 * c, flops + f
        p, f = _conv(c, 2 * c, 1, out_hw)  # shortcut conv after AvgPool2x2
        params, flops = params + p, flops + f
        hw, c = out_hw, 2 * c
    params += 2 * c  # last BN
    params += c * num_classes + num_classes
    flops += c * num_classes + num_classes
    return params, flops


def _stage_sizes(resolution: int, C: int) -> list[tuple[int, int]]:
    hw, out = resolution, []
    for s in range(3):
        out.append((C * 2**s, hw))
        hw = (hw + 1) // 2
    return out


def _cell_costs_per_op(resolution: int, C: int, N: int) -> tuple[np.ndarray, np.ndarray]:
    """(params, flops) contributed by one edge with op code k, summed over all 3N cells."""
    params = np.zeros(5, dtype=np.int64)
    flops = np.zeros(5, dtype=np.int64)
    for c, hw in _stage_sizes(resolution, C):
        for code, k in _CONV_KERNEL.items():
            p, f = _conv(c, c, k, hw)
            params[code] += N * (p + 2 * c)
            flops[code] += N * f
    return params, flops


def arch_costs(arch: ArchLike, dataset: str = "cifar10", C: int = 16, N: int = 5) -> dict[str, float]:
    """``{"params": M, "flops": M}`` of the network for ``arch`` on ``dataset``.

    ``params`` in millions of parameters, ``flops`` in millions of multiply-adds per image.
    """
    spec = dataset_spec(dataset)
    a = Arch.parse(arch)
    if C < 1 or N < 1:
        raise InvalidValueError(f"C and N must be >= 1, got C={C!r}, N={N!r}")
    sp, sf = _skeleton(spec.num_classes, spec.resolution, spec.in_channels, C, N)
    op_p, op_f = _cell_costs_per_op(spec.resolution, C, N)
    codes = list(a.codes)
    return {"params": (sp + int(op_p[codes].sum())) / 1e6, "flops": (sf + int(op_f[codes].sum())) / 1e6}


def all_costs(dataset: str = "cifar10", C: int = 16, N: int = 5) -> dict[str, np.ndarray]:
    """Vectorised costs of all 15625 cells in NB201 index order (millions, float64)."""
    spec = dataset_spec(dataset)
    sp, sf = _skeleton(spec.num_classes, spec.resolution, spec.in_channels, C, N)
    op_p, op_f = _cell_costs_per_op(spec.resolution, C, N)
    ops = index_to_ops_array().astype(np.int64)
    assert ops.shape[1] == NUM_EDGES
    return {"params": (sp + op_p[ops].sum(axis=1)) / 1e6, "flops": (sf + op_f[ops].sum(axis=1)) / 1e6}
