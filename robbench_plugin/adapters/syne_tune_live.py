"""Syne Tune on live training: real trials with Syne Tune's LocalBackend and any of its schedulers.

    from robbench_plugin.adapters.syne_tune_live import run_live
    df = run_live("asha", recipe="digits", trials=16, workers=2)

Each trial runs the packaged entry point (:data:`ENTRY_POINT`,
:mod:`robbench_plugin.adapters.entry.syne_tune_trial`), which trains the trial's cell through
:class:`~robbench_plugin.live.LiveBenchmark`: every trained epoch lands in the shared results
store, so a class is trained once across trials and workers; a trial restarted with more epochs
(or a later trial of the same class) resumes from the stored checkpoint; and a trial that a
scheduler stops is killed by the backend and trains no further epoch. Resource attribute ``epoch``
(the recipe's evaluated epochs); ``epochs`` in the configuration is the epoch a trial runs to;
metrics as in the package's blackbox: ``metric_robust_error``, ``metric_valid_error``... (see the
entry point).
"""
from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path
from typing import Any, Union

try:
    from syne_tune import StoppingCriterion, Tuner
    from syne_tune.backend import LocalBackend
    from syne_tune.config_space import choice
except ImportError as exc:  # pragma: no cover - depends on the extra
    from ..errors import MissingExtraError

    raise MissingExtraError("syne-tune", "syne-tune") from exc

import pandas as pd

from ..errors import InvalidValueError, check_choice
from ..space import OPS
from ..store import ResultsStore
from ..train.recipe import PRESETS, Recipe
from .entry import syne_tune_trial
from .syne_tune.environment import output_folder

ENTRY_POINT = Path(syne_tune_trial.__file__)
RESOURCE_ATTR = "epoch"
MAX_RESOURCE_ATTR = "epochs"
LIVE_SCHEDULERS = ("asha", "hyperband", "moasha", "moasha-ranked", "random")
METRIC = "metric_robust_error"


def live_config_space(recipe: Union[Recipe, str] = "tiny", dataset: str = "digits", store: Any = None,
                      seed: int = 0, device: str = "auto", precision: str = "auto", lease_s: float | None = None,
                      recipe_file: str | Path | None = None) -> dict[str, Any]:
    """The configuration space of live trials: ``hp_x0``..``hp_x5`` (the six edges) as choices of
    the op names, and constants the entry point reads. A Recipe that is not a preset is written to
    ``recipe_file`` (JSON) and passed by path. ``store``: what :class:`ResultsStore` takes; it must
    be reachable by the trial processes (not an in-memory database)."""
    rstore = store if isinstance(store, ResultsStore) else ResultsStore(store)
    if not rstore.is_shared:
        raise InvalidValueError(f"live trials run in separate processes: the store {rstore.url} must be a file "
                                "or a database server, not in memory")
    if isinstance(recipe, str):
        recipe_obj = Recipe.preset(recipe)
        recipe_arg = recipe
    else:
        recipe_obj = recipe
        if recipe.name in PRESETS and PRESETS[recipe.name] == recipe:
            recipe_arg = recipe.name
        else:
            if recipe_file is None:
                raise InvalidValueError("a recipe that is not a preset needs recipe_file (where it is written)")
            Path(recipe_file).parent.mkdir(parents=True, exist_ok=True)
            Path(recipe_file).write_text(json.dumps(recipe.to_dict()))
            recipe_arg = str(recipe_file)
    for name, value in (("store", rstore.url), ("recipe", recipe_arg)):
        if " " in value:  # LocalBackend passes arguments split at spaces
            raise InvalidValueError(f"{name} {value!r} contains a space, which Syne Tune's LocalBackend cannot pass")
    space: dict[str, Any] = {f"hp_x{i}": choice(list(OPS)) for i in range(6)}
    space.update({MAX_RESOURCE_ATTR: recipe_obj.epochs, "recipe": recipe_arg, "dataset": dataset, "seed": int(seed),
                  "store": rstore.url, "device": device, "precision": precision,
                  "lease_s": float(lease_s if lease_s is not None else rstore.lease_s)})
    return space


def make_live_scheduler(name: str, config_space: dict[str, Any], seed: int = 0, grace_period: int = 1,
                        reduction_factor: float = 2) -> Any:
    """A Syne Tune scheduler for live trials: ``asha``, ``hyperband`` (ASHA with 3 brackets),
    ``moasha`` (robust and clean error), ``moasha-ranked`` (the same with the non-dominated sort as one rank
    per trial, which MOASHA's default priority does not return: see
    :mod:`robbench_plugin.adapters.syne_tune.priority`), ``random``. Multi-fidelity ones stop trials on ``epoch``
    (rungs ``grace_period * reduction_factor**k`` up to the configuration's ``epochs``; choose them
    among the recipe's evaluated epochs, where trials report: the default reduction factor is 2, not
    Syne Tune's 3, so that every rung is an evaluated epoch of the digits recipe, which evaluates
    after epochs 1, 2, 4 and 8)."""
    from syne_tune.optimizer import baselines as B

    check_choice("scheduler", name, LIVE_SCHEDULERS)
    max_t = int(config_space[MAX_RESOURCE_ATTR])
    if isinstance(grace_period, bool) or not isinstance(grace_period, int) or not 1 <= grace_period <= max_t:
        raise InvalidValueError(f"grace_period must be an epoch in 1..{max_t}, got {grace_period!r}")
    if not reduction_factor > 1:
        raise InvalidValueError(f"reduction_factor must be > 1, got {reduction_factor!r}")
    if name in ("asha", "hyperband"):
        return B.ASHA(config_space, metric=METRIC, time_attr=RESOURCE_ATTR, max_t=max_t, grace_period=grace_period,
                      reduction_factor=reduction_factor, brackets=3 if name == "hyperband" else 1,
                      random_seed=seed)
    if name in ("moasha", "moasha-ranked"):
        from syne_tune.optimizer.schedulers.multiobjective.moasha import MOASHA

        from .syne_tune.priority import priority_argument

        return MOASHA(config_space, metrics=[METRIC, "metric_valid_error"], time_attr=RESOURCE_ATTR, max_t=max_t,
                      grace_period=grace_period, reduction_factor=reduction_factor, random_seed=seed, **priority_argument(name))
    return B.RandomSearch(config_space, metrics=[METRIC], random_seed=seed)


def run_live(scheduler: str = "asha", recipe: Union[Recipe, str] = "tiny", trials: int = 8, workers: int = 2,
             dataset: str = "digits", store: Any = None, seed: int = 0, device: str = "auto",
             max_wallclock_time: float = 3600, out_dir: str | Path | None = None, grace_period: int = 1,
             reduction_factor: float = 2, lease_s: float | None = None) -> pd.DataFrame:
    """Run ``trials`` live trials with Syne Tune's LocalBackend on ``workers`` workers; returns the
    tuning status frame (one row per trial: its configuration, status and last reported metrics).
    ``out_dir``: Syne Tune's tuner folder (default: a temporary one, removed at the end)."""
    for name, value in (("trials", trials), ("workers", workers)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidValueError(f"{name} must be an integer >= 1, got {value!r}")
    logging.getLogger("syne_tune").setLevel(logging.WARNING)
    with output_folder(out_dir), tempfile.TemporaryDirectory(prefix="robbench-recipe-") as tmp:
        space = live_config_space(recipe, dataset, store, seed=seed, device=device, lease_s=lease_s,
                                  recipe_file=Path(tmp) / "recipe.json")
        sched = make_live_scheduler(scheduler, space, seed=seed, grace_period=grace_period,
                                    reduction_factor=reduction_factor)
        tuner = Tuner(trial_backend=LocalBackend(entry_point=str(ENTRY_POINT)), scheduler=sched,
                      stop_criterion=StoppingCriterion(max_num_trials_started=trials,
                                                       max_wallclock_time=max_wallclock_time),
                      n_workers=workers, sleep_time=0.5, save_tuner=False,
                      wait_trial_completion_when_stopping=True, print_update_interval=1e9,
                      tuner_name="robbench-live")
        tuner.run()
        return tuner.tuning_status.get_dataframe()
