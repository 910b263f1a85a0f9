"""``robbench compare``: searchers of Optuna, Syne Tune and NASLib at equal budget."""
from __future__ import annotations

import argparse

from .. import cli_args as va
from ..errors import InvalidValueError, RobBenchError
from .common import AddCommand, add_bench_args, check_table_seed


def register(command: AddCommand) -> None:
    s = command("compare", "compare searchers of Optuna, Syne Tune and NASLib at equal budget")
    s.add_argument("--searchers", type=va.name_list,
                   default="random,optuna:tpe,optuna:nsga2,syne-tune:moasha,syne-tune:morea,naslib:re,naslib:ls",
                   metavar="S1[,S2...]", help="comma-separated framework:name (a framework that is not installed "
                   "is skipped with a line saying so)")
    s.add_argument("--objectives", default="clean,robust", type=va.name_list, metavar="M1[,M2...]",
                   help="comma-separated metrics/aliases")
    s.add_argument("--budget", type=va.int_at_least(1), default=200, help="full evaluations per run")
    s.add_argument("--n-seeds", type=va.int_at_least(1), default=5,
                   help="runs per searcher, with searcher seeds 0..N-1")
    s.add_argument("--workers", type=va.int_at_least(1), default=2, help="parallel processes")
    s.add_argument("--mode", default="tabular", choices=["tabular", "surrogate"],
                   help="answer from the table or a surrogate")
    s.add_argument("--tasks", default=None, type=va.task_list, metavar="T1;T2...",
                   help="several tasks, each benchmark[/dataset]:objective,objective (e.g. "
                        "'digits:clean,robust;digits:robust,params'), run with the same searchers, budget and seeds, "
                        "each in <out>/tasks/<task>, and compared across tasks; replaces --benchmark, --dataset and "
                        "--objectives")
    s.add_argument("--out", default="robbench-compare", type=va.out_dir, help="output directory")
    add_bench_args(s)
    s.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    from ..compare import SEARCHERS, CompareSpec, compare, compare_tasks, parse_task
    from ..compare.spec import SINGLE_OBJECTIVE

    for s in args.searchers:
        if s not in SEARCHERS:
            raise InvalidValueError(f"--searchers: unknown searcher {s!r}; valid: {', '.join(SEARCHERS)}")
    base = CompareSpec(args.benchmark, args.dataset, args.data_dir, args.mode, tuple(args.objectives), args.budget,
                       table_seed=args.table_seed)
    tasks = [parse_task(t, base) for t in args.tasks] if args.tasks else [base]
    for task in tasks:  # every task's data, table seed and objectives before any work
        try:
            bench = task.load()
        except RobBenchError as exc:
            raise type(exc)(f"task {task.label}: {exc}") from exc
        check_table_seed(bench, args)
        for o in task.objectives:
            bench.resolve_metric(o)
        single = [s for s in args.searchers if s in SINGLE_OBJECTIVE]
        if single and len(task.objectives) > 1:
            raise InvalidValueError(f"--searchers: {single[0]} optimises one objective; task {task.label} has "
                                    f"{len(task.objectives)} (give one, e.g. --objectives robust)")
    with pd.option_context("display.width", 200, "display.float_format", "{:.4f}".format):
        if args.tasks:
            agg, _ = compare_tasks(tasks, args.searchers, args.n_seeds, args.out, workers=args.workers)
            print(agg.iqm.assign(mean_final_rank=[agg.mean_ranks[s] for s in agg.iqm.searcher]).to_string(index=False))
        else:
            print(compare(args.searchers, args.n_seeds, base, args.out, workers=args.workers).to_string(index=False))
    print(f"wrote {args.out}/report.html, summary.md, summary.tex, summary.csv and the figures (PNG, PDF)")
    return 0
