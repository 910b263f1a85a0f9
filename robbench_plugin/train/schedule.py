"""Learning-rate schedules of a recipe, stepped once per optimizer step (per batch).

- ``onecycle``: torch's ``OneCycleLR`` with its defaults (warm-up over the first 30% of the steps
  unless ``lr_warmup`` says otherwise, cosine annealing, momentum cycled between 0.85 and 0.95), peak
  ``lr_max``: the schedule of NAS-RobBench-201's reference code.
- ``cosine``: ``lr_max * (1 + cos(pi * t)) / 2`` over the steps after the warm-up (t from 0 to 1),
  momentum fixed at the recipe's.
- ``multistep``: ``lr_max`` times ``lr_gamma`` for every milestone passed; a milestone ``m`` (a
  fraction of training) takes effect from epoch ``int(m * epochs) + 1`` on (1-based), as torch's
  ``MultiStepLR`` stepped per epoch with milestones ``int(m * epochs)`` (the reference code's
  ``step`` option: milestones 0.5 and 0.75, gamma 0.1).
- ``constant``: ``lr_max``, with ``lr_final_decay`` > 0 a linear decay to zero over that last
  fraction of the steps.

A warm-up of ``lr_warmup`` (a fraction of all steps, W = round(lr_warmup * steps)) rises linearly to
the peak: step s < W (0-based) uses (s + 1) / W of ``lr_max``; the schedule proper then runs over the
other steps from its start (for cosine, t = (s - W) / (steps - W)). Only :func:`make_scheduler`
needs torch; :func:`lr_factor` is plain arithmetic (the tests compare it with torch's schedulers).
"""
from __future__ import annotations

import math
from typing import Any

# ``recipe`` below is a :class:`~robbench_plugin.train.recipe.Recipe` (which imports this module)
Recipe = Any

LR_SCHEDULES = ("onecycle", "cosine", "multistep", "constant")


def warmup_steps(recipe: Recipe, total_steps: int) -> int:
    """Steps of linear warm-up of a ``cosine``, ``multistep`` or ``constant`` schedule."""
    return int(round((recipe.lr_warmup or 0.0) * total_steps))


def lr_factor(recipe: Recipe, step: int, steps_per_epoch: int) -> float:
    """The learning rate of optimizer step ``step`` (0-based) as a fraction of ``recipe.lr_max``,
    for the ``cosine``, ``multistep`` and ``constant`` schedules."""
    total = recipe.epochs * steps_per_epoch
    warm = warmup_steps(recipe, total)
    if recipe.lr_schedule == "cosine":
        t = (step - warm) / max(total - warm, 1)
        value = 0.5 * (1.0 + math.cos(math.pi * min(max(t, 0.0), 1.0)))
    elif recipe.lr_schedule == "multistep":
        epoch = step // steps_per_epoch  # 0-based
        value = recipe.lr_gamma ** sum(epoch >= int(m * recipe.epochs) for m in recipe.lr_milestones)
    elif recipe.lr_schedule == "constant":
        decay = int(round(recipe.lr_final_decay * total))
        value = 1.0 if step < total - decay else (total - step) / decay
    else:
        raise ValueError(f"lr_factor does not compute the {recipe.lr_schedule!r} schedule (torch's OneCycleLR does)")
    if step < warm:
        value *= (step + 1) / warm
    return value


def make_scheduler(optimizer: Any, recipe: Recipe, steps_per_epoch: int):
    """The torch scheduler of ``recipe``'s schedule for ``optimizer``, stepped once per batch."""
    import torch

    if recipe.lr_schedule == "onecycle":
        extra = {} if recipe.lr_warmup is None else {"pct_start": recipe.lr_warmup}
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=recipe.lr_max, epochs=recipe.epochs,
                                                   steps_per_epoch=steps_per_epoch, **extra)
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: lr_factor(recipe, step, steps_per_epoch))
