"""Live evaluation: the NAS-Bench-201 network, attacks, recipes and the adversarial trainer.

Needs the ``train`` extra (torch): ``pip install 'robbench-plugin[train]'``.
"""
from __future__ import annotations

try:
    import torch  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the extra
    from ..errors import MissingExtraError

    raise MissingExtraError("torch", "train") from exc

from .attacks import accuracy, autoattack, fgsm, pgd
from .data import DATASETS, Splits, load_splits
from .loop import TrainResult, evaluate, select_device, train
from .model import build_model, count_parameters
from .recipe import PRESETS, AttackSpec, Recipe

__all__ = ["AttackSpec", "DATASETS", "PRESETS", "Recipe", "Splits", "TrainResult", "accuracy", "autoattack",
           "build_model", "count_parameters", "evaluate", "fgsm", "load_splits", "pgd", "select_device", "train"]
