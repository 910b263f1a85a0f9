"""The NAS-Bench-201 network ("TinyNetwork") for any cell, written with plain torch.

Inputs are images in [0, 1]; normalisation is the model's first layer, so attacks work in
pixel space. Parameter counts equal :func:`robbench_plugin.costs.arch_costs` (tested on all
15625 cells).
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from ..errors import InvalidValueError
from ..space import EDGES, ArchLike, Arch


class Normalize(nn.Module):
    """(x - mean) / std per channel, with fixed buffers."""

    def __init__(self, mean: Sequence[float], std: Sequence[float]):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


class ReLUConvBN(nn.Sequential):
    def __init__(self, c_in: int, c_out: int, k: int, stride: int = 1):
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, k, stride=stride, padding=k // 2, bias=False),
            nn.BatchNorm2d(c_out, affine=True, track_running_stats=True),
        )


def make_op(name: str, channels: int) -> nn.Module:
    """A cell operation at stride 1 with equal in/out channels (``none`` is never built)."""
    if name == "skip_connect":
        return nn.Identity()
    if name == "nor_conv_1x1":
        return ReLUConvBN(channels, channels, 1)
    if name == "nor_conv_3x3":
        return ReLUConvBN(channels, channels, 3)
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    raise InvalidValueError(f"cannot build op {name!r}")


class Cell(nn.Module):
    """One NB201 cell: node_j = sum_i op_ji(node_i); output node 3.

    ``none`` edges contribute exact zeros and are skipped; nodes that do not feed the
    output are not computed (same output and gradients as computing them).
    """

    def __init__(self, arch: Arch, channels: int):
        super().__init__()
        self.edges = nn.ModuleDict()
        self.plan: list[tuple[int, list[tuple[str, int]]]] = []
        for (to, src), op in zip(EDGES, arch.ops):
            if op != "none":
                self.edges[f"{to}<-{src}"] = make_op(op, channels)
        needed = {3}
        for to in (3, 2, 1):
            if to in needed:
                needed.update(src for (t, src), op in zip(EDGES, arch.ops) if t == to and op != "none")
        for to in (1, 2, 3):
            if to in needed:
                inputs = [(f"{t}<-{src}", src) for (t, src), op in zip(EDGES, arch.ops) if t == to and op != "none"]
                self.plan.append((to, inputs))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes: dict[int, torch.Tensor] = {0: x}
        for to, inputs in self.plan:
            out = None
            for key, src in inputs:
                y = self.edges[key](nodes[src])
                out = y if out is None else out + y
            nodes[to] = torch.zeros_like(x) if out is None else out
        return nodes[3]


class ResNetBasicBlock(nn.Module):
    """NB201's reduction block: stride-2 basic block with an AvgPool + 1x1 conv shortcut."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, stride=2)
        self.conv_b = ReLUConvBN(c_out, c_out, 3)
        self.downsample = nn.Sequential(nn.AvgPool2d(2, 2), nn.Conv2d(c_in, c_out, 1, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.downsample(x) + self.conv_b(self.conv_a(x))


class NB201Network(nn.Module):
    """Stem -> N cells -> reduction -> N cells -> reduction -> N cells -> BN-ReLU-GAP-Linear."""

    def __init__(self, arch: ArchLike, num_classes: int = 10, C: int = 16, N: int = 5, in_channels: int = 3,
                 mean: Sequence[float] | None = None, std: Sequence[float] | None = None):
        super().__init__()
        if C < 1 or N < 1 or num_classes < 1 or in_channels < 1:
            raise InvalidValueError(f"C, N, num_classes, in_channels must be >= 1; got {C}, {N}, {num_classes}, {in_channels}")
        self.arch = Arch.parse(arch)
        mean = [0.0] * in_channels if mean is None else list(mean)
        std = [1.0] * in_channels if std is None else list(std)
        if len(mean) != in_channels or len(std) != in_channels:
            raise InvalidValueError(f"mean/std need {in_channels} entries, got {mean!r} / {std!r}")
        self.normalize = Normalize(mean, std)
        self.stem = nn.Sequential(nn.Conv2d(in_channels, C, 3, padding=1, bias=False), nn.BatchNorm2d(C))
        layers: list[nn.Module] = []
        c = C
        for stage in range(3):
            if stage > 0:
                layers.append(ResNetBasicBlock(c, 2 * c))
                c *= 2
            layers.extend(Cell(self.arch, c) for _ in range(N))
        self.cells = nn.Sequential(*layers)
        self.lastact = nn.Sequential(nn.BatchNorm2d(c), nn.ReLU(inplace=True))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c, num_classes)
        # Edges that are built but dead still own parameters, as in NB201: add them so the
        # parameter count equals NAS-Bench-201's for every cell.
        self._dead = nn.ModuleList()
        for cell in self.cells:
            if isinstance(cell, Cell):
                live = {k for _, inputs in cell.plan for k, _ in inputs}
                for key in list(cell.edges.keys()):
                    if key not in live:
                        self._dead.append(cell.edges.pop(key))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.cells(self.stem(self.normalize(x)))
        return self.classifier(self.pool(self.lastact(x)).flatten(1))


def build_model(arch: ArchLike, num_classes: int = 10, C: int = 16, N: int = 5, in_channels: int = 3,
                mean: Sequence[float] | None = None, std: Sequence[float] | None = None) -> NB201Network:
    """The NAS-Bench-201 network for ``arch``; inputs in [0, 1], normalised inside."""
    return NB201Network(arch, num_classes=num_classes, C=C, N=N, in_channels=in_channels, mean=mean, std=std)


def count_parameters(model: nn.Module) -> int:
    """Trainable parameters, BN affine included, running statistics excluded (NB201's count)."""
    return sum(p.numel() for p in model.parameters())
