"""Simulated runs on a blackbox: Syne Tune's schedulers by short name (:func:`make_scheduler`) and
its simulator made deterministic and limited in simulated time (:func:`simulate`)."""
from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

from .environment import output_folder

from syne_tune import StoppingCriterion  # noqa: E402
from syne_tune.blackbox_repository.blackbox_tabular import BlackboxTabular  # noqa: E402
from syne_tune.constants import ST_TUNER_TIME  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from ...errors import InvalidChoiceError, InvalidValueError, check_choice  # noqa: E402
from .blackbox import (CONFIG_KEYS, METRIC_ELAPSED_TIME, METRIC_ROBUST_ERROR, METRIC_TIME_THIS_RESOURCE,  # noqa: E402
                       fidelity_attr)

# Offered: what runs on the pinned Syne Tune (0.16) with the package's extras. Not offered: BOTorch
# and EHVI (they need botorch, which the extras do not install; with botorch 0.18 EHVI's acquisition
# fails on a float/double mismatch inside botorch) and MultiObjectiveMultiSurrogateSearcher (Syne
# Tune 0.16 cannot import it). Syne Tune 0.16 ships no DEHB.
# ``moasha-ranked`` and ``morea-ranked``: Syne Tune's MOASHA and MO-REA given the non-dominated sort
# as one rank per trial, which their default priority does not return (see :mod:`.priority`).
SCHEDULERS = ("asha", "hyperband", "bohb", "asha-bore", "asha-cqr", "moasha", "moasha-ranked", "morea",
              "morea-ranked", "morandom", "random", "bo", "rea", "bore", "cqr")
# on the fidelity axis (the others evaluate every trial at the last fidelity)
MULTI_FIDELITY = ("asha", "hyperband", "bohb", "asha-bore", "asha-cqr", "moasha", "moasha-ranked")
MULTI_OBJECTIVE = ("moasha", "moasha-ranked", "morea", "morea-ranked", "morandom")


def make_scheduler(name: str, blackbox: BlackboxTabular, metrics: Sequence[str] = (METRIC_ROBUST_ERROR,),
                   seed: int = 0, max_t: int | None = None, grace_period: int | None = None,
                   reduction_factor: float = 3) -> Any:
    """A Syne Tune scheduler by short name, on ``blackbox``'s configuration space.

    Single objective (first of ``metrics``, minimised), each Syne Tune's own class of
    ``syne_tune.optimizer.baselines``: multi-fidelity ``asha`` (ASHA), ``hyperband`` (ASHA with 3
    brackets), ``bohb`` (BOHB), ``asha-bore`` (ASHABORE), ``asha-cqr`` (ASHACQR); at the last
    fidelity ``random`` (RandomSearch), ``bo`` (TPE), ``rea`` (REA), ``bore`` (BORE), ``cqr`` (CQR).
    Multi-objective (all ``metrics``, minimised):
    ``moasha``, ``morea`` (MultiObjectiveRegularizedEvolution), ``morandom``; ``moasha-ranked`` and
    ``morea-ranked`` are the same two classes with ``multiobjective_priority``
    :class:`~.priority.RankedNonDominatedPriority` (their default priority returns the sorted order
    where they read one rank per trial: see :mod:`.priority`).
    Multi-fidelity schedulers run on the blackbox's fidelity attribute (``hp_epoch`` where the table
    records every epoch, else ``hp_level``: the table's recorded evaluations, see the module doc), so
    every rung ``grace_period * reduction_factor**k`` is a fidelity the table holds; ``grace_period``
    is the first rung (default 1; on digits level 1 = epoch 1 barely ranks the final accuracy, so 2
    or 3 = epochs 2 or 4 may suit it better); ``max_t`` the last. ``grace_period`` 1 and
    ``reduction_factor`` 3 are Syne Tune's own defaults: on Fashion-MNIST's epochs 1-6, rungs at
    epochs 1 and 3.
    """
    from syne_tune.optimizer import baselines as B

    from .priority import priority_argument

    check_choice("scheduler", name, SCHEDULERS)
    cs = dict(blackbox.configuration_space)
    levels = [int(f) for f in blackbox.fidelity_values]
    if max_t is not None and max_t not in levels:
        raise InvalidChoiceError("max_t (a level)", max_t, levels)
    max_t = int(max_t or max(levels))
    attr = fidelity_attr(blackbox)
    cs[attr] = max_t
    metrics = list(metrics)
    for m in metrics:
        if m not in blackbox.objectives_names:
            raise InvalidChoiceError("metric", m, blackbox.objectives_names)
    rungs = [f for f in levels if f <= max_t]
    grace = 1 if grace_period is None else grace_period
    if grace not in rungs:
        raise InvalidChoiceError("grace_period (a level)", grace_period, rungs)
    if not reduction_factor > 1:
        raise InvalidValueError(f"reduction_factor must be > 1, got {reduction_factor!r}")
    if name in ("asha", "hyperband"):
        return B.ASHA(cs, metric=metrics[0], time_attr=attr, max_t=max_t, grace_period=grace,
                      reduction_factor=reduction_factor, brackets=3 if name == "hyperband" else 1, random_seed=seed)
    if name == "bohb":
        return B.BOHB(cs, metric=metrics[0], time_attr=attr, max_t=max_t, grace_period=grace,
                      reduction_factor=reduction_factor, random_seed=seed)
    if name in ("asha-bore", "asha-cqr"):
        cls = B.ASHABORE if name == "asha-bore" else B.ASHACQR
        return cls(cs, metric=metrics[0], time_attr=attr, max_t=max_t, grace_period=grace,
                   reduction_factor=reduction_factor, random_seed=seed)
    if name in ("bore", "cqr"):
        cls = B.BORE if name == "bore" else B.CQR
        return cls(cs, metric=metrics[0], random_seed=seed)
    if name == "random":
        return B.RandomSearch(cs, metrics=metrics[:1], random_seed=seed)
    if name == "bo":
        return B.TPE(cs, metric=metrics[0], random_seed=seed)
    if name == "rea":
        return B.REA(cs, metric=metrics[0], random_seed=seed)
    if name in ("moasha", "moasha-ranked"):
        from syne_tune.optimizer.schedulers.multiobjective.moasha import MOASHA

        return MOASHA(cs, metrics=metrics, time_attr=attr, max_t=max_t, grace_period=grace,
                      reduction_factor=reduction_factor, random_seed=seed, **priority_argument(name))
    from syne_tune.optimizer.schedulers.single_fidelity_scheduler import SingleFidelityScheduler

    if name == "morandom":
        # baselines.RandomSearch hands a single-objective searcher over (syne-tune 0.16); the
        # factory's "random_search" picks the multi-objective one when metrics > 1
        return SingleFidelityScheduler(cs, metrics=metrics, do_minimize=True, searcher="random_search",
                                       random_seed=seed)
    from syne_tune.optimizer.schedulers.multiobjective.multi_objective_regularized_evolution import (
        MultiObjectiveRegularizedEvolution)

    searcher = MultiObjectiveRegularizedEvolution(cs, random_seed=seed, **priority_argument(name))  # morea(-ranked)
    return SingleFidelityScheduler(cs, metrics=metrics, do_minimize=True, searcher=searcher, random_seed=seed)


def simulate(blackbox: BlackboxTabular, scheduler: Any, n_workers: int = 4, max_wallclock_time: float | None = None,
             max_num_trials: int | None = None, max_num_evaluations: int | None = None,
             max_training_time: float | None = None, seed: int = 0, tuner_name: str | None = None,
             tuner_sleep_time: float | None = None, out_dir: str | Path | None = None,
             verbose: bool = False) -> pd.DataFrame:
    """Run ``scheduler`` in Syne Tune's simulator (``UserBlackboxBackend`` + ``SimulatorCallback``)
    on ``blackbox``; returns every reported result (one row per trial and fidelity, with
    ``st_tuner_time`` the simulator's clock). Stops at whichever limit comes first.

    ``max_wallclock_time`` (s) limits the simulator's clock; ``max_training_time`` (s) limits the
    training time the workers spent (the sum of ``metric_runtime`` over every reported result),
    so the budget does not depend on the worker count or on how long the tuner waits between
    results.

    The run is deterministic: the same blackbox, scheduler seed and arguments give the same frame.
    Two things in Syne Tune 0.16 would otherwise make two runs of one seed differ: its simulator
    adds the real time the scheduler spends computing to the simulated clock (here the clock moves
    only by the table's training times and ``tuner_sleep_time``), and its searchers draw from the
    global ``random``/``numpy.random`` generators besides their own (here both are seeded from the
    scheduler's ``random_seed`` for the run and restored afterwards).

    ``tuner_sleep_time`` (simulated s) is how far the clock moves each time the tuner waits for a
    result. Syne Tune's default (5 s) suits benchmarks whose epochs take minutes; on a table whose
    epochs take fractions of a second it would make every trial, even one stopped after its first
    epoch, cost at least 5 s. The default here is a tenth of the shortest epoch in the blackbox.

    ``out_dir``: where Syne Tune writes the tuner's folder (default: a temporary directory removed
    afterwards; never ``~/syne-tune``). ``verbose``: let the tuner print its banner and a line per
    trial event (off: the results come back as the frame).
    """
    from syne_tune import Tuner
    from syne_tune.backend.simulator_backend.simulator_callback import SimulatorCallback

    limits = (max_wallclock_time, max_num_trials, max_num_evaluations, max_training_time)
    if all(v is None for v in limits):
        raise InvalidValueError("give at least one of max_wallclock_time, max_num_trials, max_num_evaluations, "
                         "max_training_time")
    seed_labels = getattr(blackbox, "robbench_metadata", {}).get("seeds") or list(range(blackbox.num_seeds))
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < blackbox.num_seeds:
        raise InvalidChoiceError(f"seed (the blackbox's seed position; its {blackbox.num_seeds} seed(s) are the "
                                 f"table's labels {seed_labels})", seed, list(range(blackbox.num_seeds)))
    if tuner_sleep_time is None:
        tuner_sleep_time = shortest_epoch_time(blackbox) / 10
    if not tuner_sleep_time > 0:
        raise InvalidValueError(f"tuner_sleep_time must be > 0 simulated seconds, got {tuner_sleep_time!r}")
    stop = SimulatedStoppingCriterion(max_simulated_time=max_wallclock_time, max_num_trials_started=max_num_trials,
                                      max_num_evaluations=max_num_evaluations, max_training_time=max_training_time)
    callback = SimulatorCallback()
    with output_folder(out_dir), _seeded_global_rngs(getattr(scheduler, "random_seed", None) or 0), \
            contextlib.ExitStack() as quiet:
        if not verbose:
            quiet.enter_context(contextlib.redirect_stdout(quiet.enter_context(open(os.devnull, "w"))))
        # inside the seeded block: the backend draws a random name when it is made
        backend = _deterministic_backend(blackbox, seed, tuner_sleep_time)
        tuner = Tuner(trial_backend=backend, scheduler=scheduler, stop_criterion=stop, n_workers=n_workers,
                      sleep_time=0, callbacks=[callback], results_update_interval=1e9,
                      print_update_interval=1e9, save_tuner=False, tuner_name=tuner_name,
                      metadata={"robbench": getattr(blackbox, "robbench_metadata", {})})
        tuner.run()
    results = callback.dataframe()
    configs = tuner.tuning_status.get_dataframe()[["trial_id", *CONFIG_KEYS]].drop_duplicates("trial_id")
    return results.drop(columns=[c for c in CONFIG_KEYS if c in results.columns]).merge(configs, on="trial_id")


@contextlib.contextmanager
def _seeded_global_rngs(seed: int) -> Iterator[None]:
    """Seed Python's and NumPy's global generators for the block, then restore their states."""
    import random

    py_state, np_state = random.getstate(), np.random.get_state()
    random.seed(seed)
    np.random.seed(seed % 2**32)
    try:
        yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)


def _deterministic_backend(blackbox: BlackboxTabular, seed: int, tuner_sleep_time: float) -> Any:
    """Syne Tune's ``UserBlackboxBackend`` whose simulated clock ignores real compute time."""
    from syne_tune.backend.simulator_backend.time_keeper import SimulatedTimeKeeper
    from syne_tune.blackbox_repository.simulated_tabular_backend import UserBlackboxBackend

    class SimulatedOnlyTimeKeeper(SimulatedTimeKeeper):
        """Simulated time that never counts the real time spent between backend calls (the
        scheduler's computing), which makes a simulation repeat exactly."""

        def real_time_since_last_recent_exit(self) -> float:
            return 0.0

    backend = UserBlackboxBackend(blackbox=blackbox, elapsed_time_attr=METRIC_ELAPSED_TIME, seed=seed,
                                  tuner_sleep_time=tuner_sleep_time)
    backend._time_keeper = SimulatedOnlyTimeKeeper()  # the backend reads its clock from this attribute
    return backend


def shortest_epoch_time(blackbox: BlackboxTabular) -> float:
    """The smallest positive ``metric_runtime`` (s) in ``blackbox``'s table (1.0 if it has none)."""
    i = list(blackbox.objectives_names).index(METRIC_TIME_THIS_RESOURCE)
    runtimes = np.asarray(blackbox.objectives_evaluations[..., i], dtype=float)
    positive = runtimes[np.isfinite(runtimes) & (runtimes > 0)]
    return float(positive.min()) if positive.size else 1.0


@dataclass
class SimulatedStoppingCriterion(StoppingCriterion):
    """Syne Tune's stopping criterion with every time limit on the simulated clock: stop once the
    simulator's clock passes ``max_simulated_time`` (s), once the training time the workers spent
    (the tuner's running sum of ``metric_runtime`` over every result, s) reaches
    ``max_training_time``, or at any of the base criterion's limits, whichever comes first.

    The base's ``max_wallclock_time`` (real time) stays unset: Syne Tune's ``SimulatorCallback``
    rewrites only a plain ``StoppingCriterion``'s wallclock limit into simulated time, so a limit
    kept there by a wrapper would be checked against real time. Here the simulated-time limit is
    the same check the callback would make (the largest ``st_tuner_time`` reported), made by this
    criterion itself."""

    max_simulated_time: float | None = None
    max_training_time: float | None = None

    def __post_init__(self) -> None:
        for name in ("max_simulated_time", "max_training_time"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, (int, float)) and not isinstance(value, bool)
                                          and value > 0):
                raise InvalidValueError(f"{name.replace('simulated', 'wallclock')} must be > 0 seconds, got {value!r}")
        if self.max_wallclock_time is not None:
            raise InvalidValueError("give max_simulated_time, not max_wallclock_time (real time) for a simulation")

    def __call__(self, status: Any) -> bool:
        stats = status.overall_metric_statistics
        if self.max_simulated_time is not None and stats.count > 0 and \
                stats.max_metrics.get(ST_TUNER_TIME, 0.0) > self.max_simulated_time:
            return True
        if self.max_training_time is not None and \
                stats.sum_metrics.get(METRIC_TIME_THIS_RESOURCE, 0.0) >= self.max_training_time:
            return True
        return super().__call__(status)
