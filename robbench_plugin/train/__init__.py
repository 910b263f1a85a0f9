"""Live evaluation: the NAS-Bench-201 network, attacks, recipes, the adversarial trainer and
the table builder.

Torch (extra ``train``: ``pip install 'robbench-plugin[train]'``) is imported on first use of
a name that needs it; recipes (:mod:`.recipe`) and reading builds work without it.
"""
from __future__ import annotations

import importlib
from typing import Any

from .recipe import PRESETS, AttackSpec, Recipe

_LAZY = {
    "accuracy": "attacks", "autoattack": "attacks", "fgsm": "attacks", "pgd": "attacks",
    "DATASETS": "data", "Splits": "data", "load_splits": "data",
    "TrainResult": "loop", "evaluate": "loop", "select_device": "loop", "train": "loop",
    "build_model": "model", "count_parameters": "model",
}

__all__ = ["AttackSpec", "PRESETS", "Recipe", *sorted(_LAZY)]


def require_torch() -> None:
    try:
        import torch  # noqa: F401
    except ImportError as exc:
        from ..errors import MissingExtraError

        raise MissingExtraError("torch", "train") from exc


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        require_torch()
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
