"""The NASLib part of ``robbench compare``: what one of its optimizers evaluates in a run."""
from __future__ import annotations

from typing import Any, Sequence

from ...errors import InvalidChoiceError
from ...space import Arch
from .optimizers import evaluated_architectures
from .space import get_dataset_api


# NASLib's defaults (population 100, 10 random initial architectures...) are tuned for budgets of
# hundreds of epochs; these fit the budgets of a comparison (budget 100..300).
COMPARE_SETTINGS = {"re": {"population_size": 30, "sample_size": 10},
                    "bananas": {"num_init": 10, "k": 10, "num_ensemble": 3, "num_candidates": 50,
                                "encoding_type": "path", "acq_fn_type": "its", "acq_fn_optimization": "mutation",
                                "num_arches_to_mutate": 2, "max_mutations": 1},
                    "npenas": {"num_init": 10, "k": 10, "num_ensemble": 3, "num_candidates": 50,
                               "encoding_type": "path", "num_arches_to_mutate": 2, "max_mutations": 1},
                    "ls": {"num_init": 10}}


def naslib_objective(objectives: Sequence[str]) -> str:
    """The single objective NASLib's (single-objective) searchers maximize for ``objectives``:
    the objective itself, or the equal-weight scalarization 0.5 x clean + 0.5 x robust."""
    objs = list(objectives)
    if len(objs) == 1:
        return objs[0]
    if sorted(objs) == ["clean", "robust"]:
        return "scalarized:0.5"
    raise InvalidChoiceError("objectives for NASLib searchers (single-objective; scalarized only for "
                             "clean,robust)", ",".join(objs), ["clean", "robust", "clean,robust"])


def searcher_trace(name: str, bench: Any, objectives: Sequence[str], budget: int, seed: int,
                   table_seed: str = "mean"):
    """What NASLib's optimizer ``name`` evaluates on ``bench`` in one ``robbench compare`` run:
    ``index`` of every architecture it evaluated, in order (``budget`` epochs of NASLib's Trainer,
    one full evaluation each), maximizing :func:`naslib_objective` of ``objectives`` at the table's
    ``table_seed``."""
    import pandas as pd

    api = get_dataset_api(bench, objective=naslib_objective(objectives), seed=table_seed)
    archs = evaluated_architectures(name, api, budget=budget, seed=seed, **COMPARE_SETTINGS.get(name, {}))
    return pd.DataFrame({"index": [Arch.from_string(a).index for a in archs]})
