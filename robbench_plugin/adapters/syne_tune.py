"""Syne Tune adapter: the robust benchmark as a ``BlackboxTabular`` and simulated runs on it.

    from robbench_plugin.adapters.syne_tune import load_blackbox
    bb = load_blackbox("digits")   # also "nas-robbench-201" with dataset=..., data_dir=...

Conventions follow Syne Tune's own ``nasbench201`` blackbox, so swapping clean NAS-Bench-201 for
the robust benchmark is a change of name: hyperparameters ``hp_x0``..``hp_x5`` (the six edges in
NB201 string order) as ``choice`` over the op names; objectives ``metric_valid_error`` (1 - clean
accuracy), ``metric_robust_error`` (1 - robust accuracy), every accuracy of the table as
``metric_<name>``, ``metric_params``, ``metric_flops``, ``metric_runtime`` (seconds of this resource
step) and ``metric_elapsed_time`` (cumulative). All 15625 cells are rows (isomorphic cells repeat
their class's values).

Fidelity: ``hp_level`` = 1, 2, ..., one level per epoch at which the table records the accuracies,
and ``metric_epochs`` says which epoch a level is (digits: levels 1-4 are epochs 1, 2, 4, 8; the
release: level 1 is epoch 50). The blackbox holds exactly those fidelities, on the dense axis
``1..num_fidelities`` that Syne Tune's simulated backend and its blackbox checks expect, so every
rung a multi-fidelity scheduler chooses is an evaluation the table has, and ``metric_runtime`` of a
level is the training time of all epochs since the previous level.

The blackbox is written with Syne Tune's ``serialize`` into ``<ROBBENCH_HOME>/cache/syne_tune``
(keyed by the table's content hash) and read back with ``deserialize``; no network is used.
Its metadata (``bb.robbench_metadata``) says where simulated time comes from: ``recorded``
per-epoch wall time (digits, live results), ``flops-model`` (the release, see
:func:`robbench_plugin.objective.release_epoch_seconds`) or ``surrogate-time-model``.

Surrogate mode (``mode="surrogate"``) builds the blackbox from the package's own surrogate
(:mod:`robbench_plugin.surrogate`), not Syne Tune's ``add_surrogate``: every cell is then a
prediction at every recorded fidelity.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterator, Sequence, Union

try:
    import syne_tune  # noqa: F401
    from syne_tune.blackbox_repository.blackbox_tabular import BlackboxTabular, deserialize, serialize
    from syne_tune.config_space import choice, randint
except ImportError as exc:  # pragma: no cover - depends on the extra
    from ..errors import MissingExtraError

    raise MissingExtraError("syne-tune", "syne-tune") from exc

import numpy as np
import pandas as pd

from ..errors import InvalidChoiceError, InvalidValueError, check_choice
from ..grid import BenchmarkGrid, benchmark_grid
from ..loader import MODES, load_benchmark
from ..paths import cache_dir
from ..space import OPS

def _probe_gpus_quietly() -> None:
    """Answer Syne Tune's GPU probe before it runs: its ``get_num_gpus`` writes ``std.out`` into the
    working directory (running ``nvidia-smi``); we count the GPUs the same way without a file and
    hand the count to its cache, so no Syne Tune backend leaves a file where the user stands."""
    import subprocess

    import syne_tune.num_gpu as num_gpu

    if getattr(num_gpu, "_num_gpus", 0) is not None or shutil.which("nvidia-smi") is None:
        if getattr(num_gpu, "_num_gpus", 0) is None:
            num_gpu._num_gpus = 0
        return
    try:
        out = subprocess.run(["nvidia-smi", "--list-gpus"], capture_output=True, text=True, timeout=10)
        num_gpu._num_gpus = len(out.stdout.splitlines()) if out.returncode == 0 else 0
    except (OSError, subprocess.TimeoutExpired):
        num_gpu._num_gpus = 0


_probe_gpus_quietly()


@contextlib.contextmanager
def output_folder(path: str | Path | None = None) -> Iterator[Path]:
    """Where Syne Tune writes its tuner folders for the block (it reads ``SYNETUNE_FOLDER``, by
    default ``~/syne-tune``): ``path``, or a temporary directory removed afterwards (simulated runs
    return everything as a frame). The variable is restored after the block."""
    old = os.environ.get("SYNETUNE_FOLDER")
    with contextlib.ExitStack() as stack:
        folder = Path(path) if path is not None else Path(stack.enter_context(
            tempfile.TemporaryDirectory(prefix="robbench-syne-tune-")))
        folder.mkdir(parents=True, exist_ok=True)
        os.environ["SYNETUNE_FOLDER"] = str(folder)
        try:
            yield folder
        finally:
            if old is None:
                os.environ.pop("SYNETUNE_FOLDER", None)
            else:
                os.environ["SYNETUNE_FOLDER"] = old


CONFIG_KEYS = tuple(f"hp_x{i}" for i in range(6))
TIME_ATTR = "hp_level"
METRIC_EPOCHS = "metric_epochs"
METRIC_VALID_ERROR = "metric_valid_error"
METRIC_ROBUST_ERROR = "metric_robust_error"
METRIC_TIME_THIS_RESOURCE = "metric_runtime"
METRIC_ELAPSED_TIME = "metric_elapsed_time"
CACHE_FORMAT = 2  # 2: fidelity axis hp_level, metric_epochs


def blackbox_from_grid(grid: BenchmarkGrid) -> BlackboxTabular:
    """Wrap a :class:`~robbench_plugin.grid.BenchmarkGrid` as Syne Tune's BlackboxTabular."""
    names = grid.op_names()
    hyperparameters = pd.DataFrame(names, columns=list(CONFIG_KEYS))
    configuration_space = {k: choice(list(OPS)) for k in CONFIG_KEYS}
    levels = np.arange(1, len(grid.fidelities) + 1)
    fidelity_space = {TIME_ATTR: randint(lower=1, upper=len(levels))}
    return BlackboxTabular(hyperparameters=hyperparameters, configuration_space=configuration_space,
                           fidelity_space=fidelity_space, objectives_evaluations=grid.values,
                           fidelity_values=levels, objectives_names=[f"metric_{o}" for o in grid.objectives])


def epochs_of_levels(blackbox: BlackboxTabular) -> dict[int, int]:
    """``{level: epoch}`` of a blackbox of this module (its ``hp_level`` values)."""
    return dict(zip((int(v) for v in blackbox.fidelity_values), blackbox.robbench_metadata["fidelities"]))


def _bench(name: Any, dataset: str | None, mode: str, data_dir: str | None, **kw: Any):
    check_choice("mode", mode, [m for m in MODES if m != "live"])
    return name if not isinstance(name, str) else load_benchmark(name, dataset=dataset, mode=mode,
                                                                   data_dir=data_dir, **kw)


def load_blackbox(name: Any = "digits", dataset: str | None = None, mode: str = "tabular",
                  data_dir: str | None = None, seeds: Union[str, Sequence[str]] = "complete", cache: bool = True,
                  **load_kw: Any) -> BlackboxTabular:
    """The benchmark as a Syne Tune ``BlackboxTabular`` (from the local cache when present).

    ``name``: ``digits``, ``nas-robbench-201``, ``build`` or a benchmark object; ``seeds``:
    see :func:`robbench_plugin.grid.benchmark_grid`.
    """
    bench = _bench(name, dataset, mode, data_dir, **load_kw)
    seed_key = seeds if isinstance(seeds, str) else ",".join(seeds)
    key = (f"{bench.name}-{bench.dataset}-{getattr(bench, 'mode', 'tabular')}-{seed_key}-{bench.table.sha256()[:16]}"
           f"-v{CACHE_FORMAT}")
    path = cache_dir() / "syne_tune" / key
    if cache and (path / "robbench.json").is_file():
        try:
            bb = deserialize(str(path))[bench.dataset]
            bb.robbench_metadata = json.loads((path / "robbench.json").read_text())
            if bb.robbench_metadata.get("format") == CACHE_FORMAT:
                return bb
        except Exception:  # corrupt cache: rebuild below
            shutil.rmtree(path, ignore_errors=True)
    grid = benchmark_grid(bench, seeds=seeds)
    bb = blackbox_from_grid(grid)
    meta = {"format": CACHE_FORMAT, "benchmark": bench.name, "dataset": bench.dataset,
            "mode": getattr(bench, "mode", "tabular"), "seeds": grid.seeds, "time_source": grid.time_source,
            "table_sha256": bench.table.sha256(), "fidelities": grid.fidelities.tolist(),
            "clean_metric": bench.resolve_metric("clean"), "robust_metric": bench.resolve_metric("robust")}
    bb.robbench_metadata = meta
    if cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=".tmp-"))
        serialize({bench.dataset: bb}, str(tmp), metadata={"robbench": meta, "time_attr": TIME_ATTR,
                                                            "metric_elapsed_time": METRIC_ELAPSED_TIME,
                                                            "default_metric": METRIC_ROBUST_ERROR})
        (tmp / "robbench.json").write_text(json.dumps(meta))
        try:
            tmp.rename(path)
        except OSError:  # another process won the race: use theirs
            shutil.rmtree(tmp, ignore_errors=True)
    return bb


# --- simulated runs ------------------------------------------------------------------------
# Offered: what runs on the pinned Syne Tune (0.16). Not offered: EHVI (with botorch 0.18 its
# acquisition fails on a float/double mismatch inside botorch) and MultiObjectiveMultiSurrogateSearcher
# (Syne Tune 0.16 cannot import it).
SCHEDULERS = ("asha", "hyperband", "bohb", "moasha", "morea", "morandom", "random", "bo",
              "rea")
MULTI_OBJECTIVE = ("moasha", "morea", "morandom")


def make_scheduler(name: str, blackbox: BlackboxTabular, metrics: Sequence[str] = (METRIC_ROBUST_ERROR,),
                   seed: int = 0, max_t: int | None = None, grace_period: int | None = None,
                   reduction_factor: float = 2) -> Any:
    """A Syne Tune scheduler by short name, on ``blackbox``'s configuration space.

    Single objective (first of ``metrics``, minimised): ``asha``, ``hyperband`` (ASHA with
    brackets), ``bohb``, ``random``, ``bo`` (TPE), ``rea``. Multi-objective (all ``metrics``,
    minimised): ``moasha``, ``morea`` (MultiObjectiveRegularizedEvolution), ``morandom``.
    Multi-fidelity schedulers run on ``hp_level`` (the table's recorded evaluations, see the module
    doc), so every rung ``grace_period * reduction_factor**k`` is a level the table holds;
    ``grace_period`` is the first rung, a level (default 1; on digits level 1 = epoch 1 barely ranks
    the final accuracy, so 2 or 3 = epochs 2 or 4 may suit it better); ``max_t`` the last level.
    """
    from syne_tune.optimizer import baselines as B

    check_choice("scheduler", name, SCHEDULERS)
    cs = dict(blackbox.configuration_space)
    levels = [int(f) for f in blackbox.fidelity_values]
    if max_t is not None and max_t not in levels:
        raise InvalidChoiceError("max_t (a level)", max_t, levels)
    max_t = int(max_t or max(levels))
    cs[TIME_ATTR] = max_t
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
        return B.ASHA(cs, metric=metrics[0], time_attr=TIME_ATTR, max_t=max_t, grace_period=grace,
                      reduction_factor=reduction_factor, brackets=3 if name == "hyperband" else 1, random_seed=seed)
    if name == "bohb":
        return B.BOHB(cs, metric=metrics[0], time_attr=TIME_ATTR, max_t=max_t, grace_period=grace,
                      reduction_factor=reduction_factor, random_seed=seed)
    if name == "random":
        return B.RandomSearch(cs, metrics=metrics[:1], random_seed=seed)
    if name == "bo":
        return B.TPE(cs, metric=metrics[0], random_seed=seed)
    if name == "rea":
        return B.REA(cs, metric=metrics[0], random_seed=seed)
    if name == "moasha":
        from syne_tune.optimizer.schedulers.multiobjective.moasha import MOASHA

        return MOASHA(cs, metrics=metrics, time_attr=TIME_ATTR, max_t=max_t, grace_period=grace,
                      reduction_factor=reduction_factor, random_seed=seed)
    from syne_tune.optimizer.schedulers.single_fidelity_scheduler import SingleFidelityScheduler

    if name == "morandom":
        # baselines.RandomSearch hands a single-objective searcher over (syne-tune 0.16); the
        # factory's "random_search" picks the multi-objective one when metrics > 1
        return SingleFidelityScheduler(cs, metrics=metrics, do_minimize=True, searcher="random_search",
                                       random_seed=seed)
    from syne_tune.optimizer.schedulers.multiobjective.multi_objective_regularized_evolution import (
        MultiObjectiveRegularizedEvolution)

    searcher = MultiObjectiveRegularizedEvolution(cs, random_seed=seed)  # morea
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
    from syne_tune import StoppingCriterion, Tuner
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
    backend = _deterministic_backend(blackbox, seed, tuner_sleep_time)
    stop = StoppingCriterion(max_wallclock_time=max_wallclock_time, max_num_trials_started=max_num_trials,
                             max_num_evaluations=max_num_evaluations)
    if max_training_time is not None:
        stop = _TrainingTimeLimit(stop, max_training_time)
    callback = SimulatorCallback()
    with output_folder(out_dir), _seeded_global_rngs(getattr(scheduler, "random_seed", None) or 0), \
            contextlib.ExitStack() as quiet:
        if not verbose:
            quiet.enter_context(contextlib.redirect_stdout(quiet.enter_context(open(os.devnull, "w"))))
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


class _TrainingTimeLimit:
    """Stopping criterion: ``inner`` or the training time reported so far >= ``limit`` s (the
    tuner's running sum of every result's ``metric_runtime``, so each check costs O(1))."""

    def __init__(self, inner: Any, limit: float):
        if not limit > 0:
            raise InvalidValueError(f"max_training_time must be > 0 seconds, got {limit!r}")
        self.inner, self.limit = inner, float(limit)

    def __call__(self, status: Any) -> bool:
        spent = status.overall_metric_statistics.sum_metrics.get(METRIC_TIME_THIS_RESOURCE, 0.0)
        return spent >= self.limit or self.inner(status)


# --- robbench compare ---------------------------------------------------------------------------
# objectives of a comparison -> the blackbox's metric Syne Tune minimises
COMPARE_METRICS = {"clean": METRIC_VALID_ERROR, "robust": METRIC_ROBUST_ERROR, "params": "metric_params",
                   "flops": "metric_flops"}
# budgeted in simulated training time; the other Syne Tune searchers in trials (one more is started
# because the tuner stops the trial it started last; the rows are cut at ``budget`` evaluations)
MULTI_FIDELITY_COMPARE = ("moasha",)


def searcher_trace(name: str, bench: Any, objectives: Sequence[str], budget: int, seed: int,
                   table_seed: str = "mean") -> pd.DataFrame:
    """What Syne Tune's ``name`` evaluates on ``bench`` in one ``robbench compare`` run, in order
    of the simulator's clock: ``index``, ``epoch``, ``epochs_trained`` and ``runtime`` (s). The
    blackbox holds the table's ``table_seed`` (a label, or ``mean`` over each class's seeds), as
    every searcher of the comparison sees it.

    Multi-fidelity searchers (:data:`MULTI_FIDELITY_COMPARE`) get the training time that
    ``budget`` full evaluations of the average architecture (over all 15625, as random search
    draws them) take; the others ``budget`` trials."""
    import logging

    from ..problem import arch_from_params
    from ..space import NUM_ARCHS

    logging.getLogger("syne_tune").setLevel(logging.ERROR)
    missing = [o for o in objectives if o not in COMPARE_METRICS]
    if missing:
        raise InvalidChoiceError("objective for Syne Tune searchers", missing[0], list(COMPARE_METRICS))
    bb = load_blackbox(bench, seeds=[table_seed])
    metrics = [COMPARE_METRICS[o] for o in objectives]
    budget_time = budget * float(np.mean([bench.train_time(i) for i in range(NUM_ARCHS)]))
    multi_fidelity = name in MULTI_FIDELITY_COMPARE
    df = simulate(bb, make_scheduler(name, bb, metrics=metrics, seed=seed), n_workers=1, seed=0,
                  **({"max_training_time": budget_time} if multi_fidelity else {"max_num_trials": budget + 1}))
    df = df.dropna(subset=[metrics[0]]).sort_values("st_tuner_time", kind="stable")
    idx = np.array([arch_from_params(dict(zip(CONFIG_KEYS, r)), names=CONFIG_KEYS).index
                    for r in df[list(CONFIG_KEYS)].itertuples(index=False)], dtype=np.int64)
    epoch_of = {0: 0, **epochs_of_levels(bb)}
    levels = df[TIME_ATTR].astype(int).to_numpy()
    epochs = np.array([epoch_of[int(v)] for v in levels])
    prev_epoch = np.array([epoch_of[int(v) - 1] for v in levels])
    runtime = df[METRIC_TIME_THIS_RESOURCE].astype(float).to_numpy()
    trace = pd.DataFrame({"index": idx, "epoch": epochs, "epochs_trained": epochs - prev_epoch, "runtime": runtime})
    if multi_fidelity:
        keep = np.cumsum(runtime) <= budget_time * (1 + 1e-9)
    else:
        keep = np.cumsum(trace["epochs_trained"].to_numpy()) / max(epoch_of.values()) <= budget + 1e-9
    return trace[keep].reset_index(drop=True)
