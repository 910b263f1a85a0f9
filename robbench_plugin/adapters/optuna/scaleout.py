"""Optuna studies on several processes: batched ask/tell over a live benchmark's parallel training,
and worker processes that share one study's storage."""
from __future__ import annotations

from typing import Any

import optuna

from ...errors import InvalidValueError, check_choice
from .problem import RobustNASProblem
from .samplers import PRUNERS, make_pruner, make_sampler


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
