"""Optuna adapter: the robust benchmark as an OptunaHub problem and a study objective.

    import optuna
    from robbench_plugin.adapters.optuna import RobustNASProblem
    problem = RobustNASProblem(benchmark="fashion-mnist", objectives=["clean", "robust"])
    study = optuna.create_study(directions=problem.directions, sampler=optuna.samplers.NSGAIISampler(seed=0))
    study.optimize(problem, n_trials=200)

Every trial stores ``arch`` (NB201 string), ``index``, ``uid`` and all metrics of the class as
user attributes. With one objective that has a learning curve, intermediate values are
reported per epoch (``trial.report``) and pruned trials raise ``optuna.TrialPruned``:
replayed from the table in tabular mode, from the trainer's epoch callback in live mode.

Repeats: isomorphic cells are one class, so a study that proposes a cell of a class it has
already seen gets the same values back. In tabular mode this costs nothing; in live mode the
results store caches each trained class, so a repeat is never re-trained. Samplers still count
a repeat as a trial; :func:`count_unique` reports how many distinct classes a study evaluated.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence, Union

try:
    import optuna
except ImportError as exc:  # pragma: no cover - depends on the extra
    from ..errors import MissingExtraError

    raise MissingExtraError("optuna", "optuna") from exc
try:
    from optunahub.benchmarks import BaseProblem
except ImportError as exc:  # pragma: no cover - depends on the extra
    from ..errors import MissingExtraError

    raise MissingExtraError("optunahub", "optuna") from exc

import pandas as pd

from ..errors import InvalidChoiceError, InvalidValueError, check_choice
from . import OPTUNA_SAMPLERS
from ..loader import DEFAULT_BENCHMARK, MODES, load_benchmark
from ..problem import EDGE_NAMES, ProblemSpec, arch_from_params
from ..space import OPS, Arch

SAMPLERS = OPTUNA_SAMPLERS


def make_sampler(name: str, seed: int | None = None) -> "optuna.samplers.BaseSampler":
    """An Optuna sampler by short name (see :data:`SAMPLERS`); TPE is multivariate. Samplers that
    handle constraints (TPE, NSGA-II/III, GP) read the ones :class:`RobustNASProblem` sets on each
    trial with ``trial.set_constraint`` (Optuna >= 5.0)."""
    check_choice("sampler", name, SAMPLERS)
    s = optuna.samplers
    if name == "tpe":
        return s.TPESampler(seed=seed, multivariate=True)
    if name == "nsga2":
        return s.NSGAIISampler(seed=seed)
    if name == "nsga3":
        return s.NSGAIIISampler(seed=seed)
    if name == "gp":
        return s.GPSampler(seed=seed)
    if name == "bruteforce":
        return s.BruteForceSampler(seed=seed)
    if name == "cmaes":
        return s.CmaEsSampler(seed=seed)
    if name == "qmc":
        return s.QMCSampler(seed=seed)
    return s.RandomSampler(seed=seed)


PRUNERS = ("none", "median", "successive-halving", "hyperband")


def make_pruner(name: str) -> "optuna.pruners.BasePruner":
    """An Optuna pruner by short name (:data:`PRUNERS`); ``none`` never prunes. Pruning needs
    trials that report a curve (:class:`RobustNASProblem` with ``report_curve=True``)."""
    check_choice("pruner", name, PRUNERS)
    p = optuna.pruners
    if name == "median":
        return p.MedianPruner(n_startup_trials=2, n_warmup_steps=0)
    if name == "successive-halving":
        return p.SuccessiveHalvingPruner()
    if name == "hyperband":
        return p.HyperbandPruner()
    return p.NopPruner()


class RobustNASProblem(BaseProblem):
    """NAS-RobBench-201 as an OptunaHub benchmark problem.

    Args:
        benchmark: a name (``digits``, ``nas-robbench-201``, ``build``) or a benchmark object.
        dataset: dataset of the benchmark (release: cifar10|cifar100|imagenet).
        objectives: metrics or aliases (``clean``, ``robust``, ``params``, ``flops``, any table
            metric), each in its natural direction.
        mode: ``tabular`` | ``surrogate`` | ``live`` (ignored when ``benchmark`` is an object).
        seed: seed label or ``mean`` for the objective values.
        constraints: ``{metric: upper bound}``, e.g. ``{"params": 0.5}``; set on each trial with
            ``trial.set_constraint`` (Optuna >= 5.0), where Optuna's samplers read them.
        report_curve: report per-epoch values (``trial.report``) so that a pruner can stop a trial
            (single objective only). Off by default: with reports, Optuna's default pruner prunes
            most trials of a plain study.
        load_kwargs: passed to :func:`~robbench_plugin.load_benchmark` (``data_dir``, ``recipe``...).
    """

    def __init__(self, benchmark: Any = DEFAULT_BENCHMARK, dataset: str | None = None,
                 objectives: Union[str, Sequence[str]] = ("clean", "robust"), mode: str = "tabular",
                 seed: str = "mean", constraints: Mapping[str, float] | None = None, fidelity: int | None = None,
                 report_curve: bool = False, **load_kwargs: Any):
        check_choice("mode", mode, MODES)
        if isinstance(benchmark, str):
            benchmark = load_benchmark(benchmark, dataset=dataset, mode=mode, **load_kwargs)
        self.benchmark = benchmark
        if seed == "mean" and "mean" not in benchmark.seeds:
            raise InvalidChoiceError("seed", seed, benchmark.seeds)
        self.spec = ProblemSpec(benchmark, objectives, dict(constraints or {}), seed=seed, fidelity=fidelity)
        self.report_curve = report_curve

    # --- OptunaHub interface --------------------------------------------------------
    @property
    def search_space(self) -> dict[str, optuna.distributions.BaseDistribution]:
        """Six categorical edges over the op names, named ``edge_<to>_<from>``."""
        return {name: optuna.distributions.CategoricalDistribution(OPS) for name in EDGE_NAMES}

    @property
    def directions(self) -> list[optuna.study.StudyDirection]:
        d = optuna.study.StudyDirection
        return [d.MAXIMIZE if x == "maximize" else d.MINIMIZE for x in self.spec.directions]

    @property
    def metric_names(self) -> list[str]:
        """Canonical metric name of each objective, in order."""
        return list(self.spec.metrics)

    def evaluate(self, params: dict[str, Any]) -> Union[float, tuple[float, ...]]:
        values = self.spec.evaluate(arch_from_params(params))
        return values[0] if len(values) == 1 else values

    def evaluate_constraints(self, params: dict[str, Any]) -> dict[str, float]:
        return self.spec.constraint_values(arch_from_params(params))

    # --- study objective ------------------------------------------------------------
    @staticmethod
    def suggest_arch(trial: optuna.Trial) -> Arch:
        """The architecture of the trial's six edge suggestions (suggesting again returns the same)."""
        return arch_from_params({name: trial.suggest_categorical(name, OPS) for name in EDGE_NAMES})

    @property
    def prunes(self) -> bool:
        """True when trials report intermediate values (``report_curve`` with one objective)."""
        return self.report_curve and len(self.spec.metrics) == 1

    def __call__(self, trial: optuna.Trial) -> Union[float, tuple[float, ...]]:
        return self._evaluate_trial(trial, report=self.prunes)

    def _evaluate_trial(self, trial: optuna.Trial, report: bool) -> Union[float, tuple[float, ...]]:
        arch = self.suggest_arch(trial)
        trial.set_user_attr("arch", arch.string)
        trial.set_user_attr("index", arch.index)
        trial.set_user_attr("uid", arch.uid)
        cons = self.spec.constraint_values(arch)
        if cons:
            trial.set_user_attr("constraints", cons)
            for key, value in cons.items():
                trial.set_constraint(key, value)
        if report:
            self._report(trial, arch)
        values = self.spec.evaluate(arch)
        trial.set_user_attr("metrics", self.spec.all_metrics(arch))
        return values[0] if len(values) == 1 else values

    def _report(self, trial: optuna.Trial, arch: Arch) -> None:
        """Report the objective's curve before the final epoch; prune where the pruner says (on a
        live benchmark training stops there, the partial run and its checkpoint are stored)."""
        def on_value(epoch: int, value: float) -> bool:
            trial.report(value, step=epoch)
            return not trial.should_prune()

        if not self.spec.follow(arch, on_value):
            raise optuna.TrialPruned()


def count_unique(study: optuna.Study) -> int:
    """Distinct isomorphism classes among a study's completed trials."""
    return len({t.user_attrs.get("uid") for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE})


# --- scale-out --------------------------------------------------------------------------
def optimize_batched(problem: RobustNASProblem, study: optuna.Study, n_trials: int, batch_size: int = 4,
                     workers: int = 2, backend: str = "local", ray_address: str | None = None) -> optuna.Study:
    """Ask/tell in batches: ask ``batch_size`` trials, train their new classes in parallel
    (live mode: :meth:`~robbench_plugin.live.LiveBenchmark.prefetch` on ``workers`` local
    processes or a Ray cluster with ``backend="ray"``), then evaluate and tell each trial.

    With pruning (``problem.report_curve``, one objective) the batch advances epoch by epoch:
    every class of the batch is trained up to the next recorded epoch, each trial reports its value
    there and asks the pruner; pruned trials are told as pruned and their training stops there
    (the partial run and its checkpoint stay in the store), the others resume from their
    checkpoints to the next epoch. On a tabular or surrogate benchmark nothing is trained and this
    equals ``study.optimize(problem, n_trials)`` with batched proposals."""
    if isinstance(n_trials, bool) or not isinstance(n_trials, int) or n_trials < 1 \
            or isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise InvalidValueError(f"n_trials and batch_size must be integers >= 1, got {n_trials!r}, {batch_size!r}")
    bench = problem.benchmark
    prefetch = getattr(bench, "prefetch", None)
    done = 0
    while done < n_trials:
        trials = [study.ask() for _ in range(min(batch_size, n_trials - done))]
        active = [(t, problem.suggest_arch(t)) for t in trials]
        if problem.prunes:
            for epoch in problem.spec.report_epochs():
                if prefetch is not None:
                    prefetch([a for _, a in active], workers=workers, backend=backend, ray_address=ray_address,
                             until=epoch)
                survivors = []
                for t, a in active:
                    t.report(problem.spec.evaluate(a, fidelity=epoch)[0], step=epoch)
                    if t.should_prune():
                        study.tell(t, state=optuna.trial.TrialState.PRUNED)
                    else:
                        survivors.append((t, a))
                active = survivors
        if prefetch is not None and active:
            prefetch([a for _, a in active], workers=workers, backend=backend, ray_address=ray_address)
        for t, _ in active:
            study.tell(t, problem._evaluate_trial(t, report=False))  # answered from the results store
        done += len(trials)
    return study


def make_storage(spec: str | None):
    """Storage from a short spec: ``journal:PATH`` (a journal file shared by processes), an
    RDB URL (``sqlite:///x.db``, ``postgresql://...``), or None (in memory)."""
    if spec is None or not spec.startswith("journal:"):
        return spec
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    return JournalStorage(JournalFileBackend(spec.split(":", 1)[1]))


def _parallel_worker(storage: str, name: str, trials: int, sampler: str, seed: int, pruner: str,
                     problem_kw: dict) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    problem = RobustNASProblem(**problem_kw)
    study = optuna.load_study(study_name=name, storage=make_storage(storage), sampler=make_sampler(sampler, seed=seed),
                              pruner=make_pruner(pruner))
    study.optimize(problem, n_trials=trials)


def optimize_parallel(storage: str, workers: int, trials: int, study_name: str = "robbench", sampler: str = "tpe",
                      pruner: str = "none", **problem_kw: Any) -> optuna.Study:
    """Run ``workers`` processes on one study in ``storage`` until it holds ``trials`` trials.

    Each worker has its own sampler seed (0..workers-1) and an exact share of the trials the study
    still lacks (``MaxTrialsCallback`` can overshoot when two workers start a trial at once), so
    the study ends with exactly ``trials`` trials, also when it is run again on the same storage
    (a finished study gets no more; an interrupted one is completed). ``pruner``: see
    :func:`make_pruner`. ``problem_kw`` go to :class:`RobustNASProblem`; in live mode
    (``mode="live"``, ``store=`` a URL or directory every worker reaches) the workers share the
    results store, so a class proposed by several workers is trained once.
    """
    import multiprocessing as mp

    if workers < 1 or trials < 1:
        raise InvalidValueError(f"workers and trials must be >= 1, got {workers}, {trials}")
    check_choice("pruner", pruner, PRUNERS)
    directions = RobustNASProblem(**problem_kw).directions
    study = optuna.create_study(study_name=study_name, storage=make_storage(storage), directions=directions,
                                load_if_exists=True)
    have = len(study.trials)
    if have > trials:
        raise InvalidValueError(f"study {study_name!r} in {storage} already holds {have} trials, more than {trials}")
    remaining = trials - have
    ctx = mp.get_context("spawn")
    shares = [remaining // workers + (1 if i < remaining % workers else 0) for i in range(workers)]
    procs = [ctx.Process(target=_parallel_worker, args=(storage, study_name, share, sampler, seed, pruner, problem_kw))
             for seed, share in enumerate(shares) if share > 0]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    bad = [p.exitcode for p in procs if p.exitcode != 0]
    if bad:
        raise RuntimeError(f"{len(bad)} worker(s) failed with exit codes {bad}")
    return optuna.load_study(study_name=study_name, storage=make_storage(storage))


def searcher_trace(name: str, bench: Any, objectives: Sequence[str], budget: int, seed: int,
                   table_seed: str = "mean") -> pd.DataFrame:
    """What Optuna's sampler ``name`` evaluates on ``bench`` in one ``robbench compare`` run:
    ``index`` of every completed trial, in order (``budget`` trials, final fidelity, the table's
    ``table_seed``)."""
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    problem = RobustNASProblem(bench, objectives=list(objectives), seed=table_seed)
    study = optuna.create_study(directions=problem.directions, sampler=make_sampler(name, seed=seed))
    study.optimize(problem, n_trials=budget)
    return pd.DataFrame({"index": [t.user_attrs["index"] for t in study.trials if t.state.name == "COMPLETE"]})
