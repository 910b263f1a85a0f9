"""``robbench compare``: the same objectives and budget for searchers of several frameworks, on one
task or several, reported the way the field reports comparisons.

Searchers are named ``framework:name`` (see :data:`SEARCHERS`); a framework that is not installed
is skipped with a line saying so, unless all its runs are already in the folder (so NASLib, which
needs its own environment, can run there into the same output directory). Every (searcher, seed) run
is written to ``<task folder>/runs/<searcher>__<seed>.csv`` atomically with its identity, skipped
when re-running (resumable), checked against the folder's identity and the run schema before it is
summarized (:mod:`.runs`); runs go to parallel processes.

Budget: ``budget`` full evaluations. Full-fidelity searchers (Syne Tune's included, by trials) get
``budget`` evaluations; a multi-fidelity searcher (Syne Tune's ASHA, Hyperband, BOHB, ASHA-BORE,
ASHA-CQR and MOASHA) gets the simulated time that ``budget``
evaluations of the average architecture (over all 15625, as random search draws them) take, so it
may look at many more classes, each for fewer epochs: Syne Tune's simulator stops when the summed
training time of its trials reaches that, and rows past it are dropped (the clock waits a tenth of
the shortest epoch between polls, not Syne Tune's 5 s default, which on sub-second epochs would spend
most of the budget waiting). Each run's rows carry ``evals`` (full-evaluation equivalents: epochs
trained so far / final epoch) and ``sim_time`` (cumulative tabulated training seconds, one worker),
so runs are compared on both axes.

NASLib's searchers are single-objective: they maximize the one objective, or 0.5 x clean + 0.5 x
robust for ``clean,robust`` (:func:`robbench_plugin.adapters.naslib.naslib_objective`); every
architecture they evaluate counts towards the hypervolume like any other searcher's.

Figures of merit (:mod:`.indicators`) use only full-fidelity results, in max-space with the
reference point of :meth:`ProblemSpec.reference_point` (each objective's worst value over the
table); regret = 1 - HV / the true front's HV. Statistics (:mod:`.analysis`): per task, bootstrap
intervals, Holm-corrected rank tests against random search along the budget, EAFs; across tasks, the
interquartile mean with stratified bootstrap intervals, mean ranks against the budget and a
critical-difference diagram. Output (:mod:`.output`): tables as Markdown, CSV and LaTeX, figures as
PNG and PDF with their data in ``figures.json``, and ``report.html``. Every searcher sees the
comparison's table seed, and a run repeats exactly.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import pandas as pd

from ..errors import RobBenchError
from ..fileutil import atomic_write_bytes, atomic_write_json
from .analysis import Aggregate, TaskResult, aggregate, analyse_task
from .indicators import hv_curve, run_indicators
from .output import write_aggregate, write_report, write_task
from .runs import random_trace, read_run, run_all, run_one, run_path, write_run
from .spec import SEARCHERS, CompareSpec, available, parse_task

__all__ = ["SEARCHERS", "Aggregate", "CompareSpec", "TaskResult", "aggregate", "analyse_task", "available",
           "compare", "compare_tasks", "hv_curve", "parse_task", "random_trace", "read_run", "run_indicators",
           "run_one", "run_path", "write_run"]


def compare(searchers: Sequence[str], seeds: int, cspec: CompareSpec, out: str | Path, workers: int = 2,
            log: Callable[[str], None] = print) -> pd.DataFrame:
    """Run (or resume) every searcher x seed of one task into ``out``; write its evaluations,
    tables, figures and ``report.html``; return the summary (one row per searcher)."""
    out = Path(out)
    runs, usable = run_all(searchers, seeds, cspec, out, workers, log)
    atomic_write_bytes(out / "evaluations.csv", runs.to_csv(index=False).encode())
    result = analyse_task(runs, cspec, usable, seeds)
    drawn = write_task(result, out)
    write_report(out, [result], [out], [drawn])
    return result.summary


def compare_tasks(tasks: Sequence[CompareSpec], searchers: Sequence[str], seeds: int, out: str | Path,
                  workers: int = 2, log: Callable[[str], None] = print) -> tuple[Aggregate, list[TaskResult]]:
    """Run every task (each in its own identity-checked folder ``<out>/tasks/<task slug>``) with the
    same searchers and seeds, then aggregate over tasks into ``out`` (tables, figures,
    ``report.html``). Every task is loaded before anything runs: one whose data is absent is an
    error naming it."""
    out = Path(out)
    if len({t.slug for t in tasks}) != len(tasks):
        raise RobBenchError("--tasks: a task is given twice")
    for t in tasks:
        try:
            t.load()
        except RobBenchError as exc:
            raise type(exc)(f"task {t.label}: {exc}") from exc
    results, folders, drawn = [], [], []
    for t in tasks:
        folder = out / "tasks" / t.slug
        log(f"task {t.label}")
        runs, usable = run_all(searchers, seeds, t, folder, workers, log)
        atomic_write_bytes(folder / "evaluations.csv", runs.to_csv(index=False).encode())
        results.append(analyse_task(runs, t, usable, seeds))
        folders.append(folder)
        drawn.append(write_task(results[-1], folder))
    atomic_write_json(out / "tasks.json", {"tasks": [t.label for t in tasks], "searchers": list(searchers),
                                            "seeds": seeds})
    agg = aggregate(results)
    agg_drawn = write_aggregate(agg, out)
    write_report(out, results, folders, drawn, agg, agg_drawn)
    return agg, results
