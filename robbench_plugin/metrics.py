"""Names of a benchmark's metrics and seeds: cost metrics, directions, aliases, table seed labels
and the scalarized objective ``scalarized:w`` (w x clean + (1 - w) x robust accuracy).

Accuracies (names ending in ``_acc``) are fractions in [0, 1] and maximised; costs (``params`` in
millions, ``flops`` in millions of multiply-adds per image) are minimised.
"""
from __future__ import annotations

from typing import Sequence, Union

import numpy as np

from .errors import InvalidChoiceError, InvalidValueError

COST_METRICS = ("params", "flops")
MetricArg = Union[str, Sequence[str], None]

def seed_label(seed: object) -> object:
    """The table's label of a training seed given as a label (``"0"``, ``"mean"``) or an integer
    (``0``); anything else is returned as is, for the caller's error to name it."""
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, (bool, np.bool_)):
        return str(int(seed))
    return seed


SCALARIZED = "scalarized:"


def scalarization_weight(objective: object) -> float | None:
    """``w`` of the objective ``scalarized:w`` (w x clean + (1 - w) x robust accuracy, a fraction
    in [0, 1], maximised); None for any other name; an error for a weight outside [0, 1]."""
    if not (isinstance(objective, str) and objective.startswith(SCALARIZED)):
        return None
    text = objective[len(SCALARIZED):]
    try:
        w = float(text)
    except ValueError:
        raise InvalidValueError(f"{objective!r}: the scalarization weight must be a number in [0, 1], "
                                "e.g. scalarized:0.5") from None
    if not 0.0 <= w <= 1.0:
        raise InvalidValueError(f"{objective!r}: the scalarization weight must be in [0, 1], got {w}")
    return w


def scalarize(w: float, clean, robust):
    """w x clean + (1 - w) x robust accuracy (numbers or arrays of fractions)."""
    return w * clean + (1 - w) * robust


def metric_direction(metric: str) -> str:
    """``maximize`` for accuracies (names ending in ``_acc``) and scalarized accuracies,
    ``minimize`` otherwise."""
    return "maximize" if metric.endswith("_acc") or metric.startswith(SCALARIZED) else "minimize"


def resolve_metric_name(metric: object, known, aliases: dict[str, str], choices: list[str]) -> str:
    """``metric`` if it is a known name, its target if it is an alias; else an error listing
    the aliases and ``choices``."""
    if isinstance(metric, str):
        if metric in known:
            return metric
        if metric in aliases:
            return aliases[metric]
    raise InvalidChoiceError("metric", metric, list(aliases) + list(choices))
