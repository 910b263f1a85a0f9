"""``robbench search``: an Optuna study on a benchmark, measured against its true front and
random search at the same budget."""
from __future__ import annotations

import argparse

from .. import cli_args as va
from ..errors import InvalidValueError
from .common import AddCommand, add_bench_args


def register(command: AddCommand) -> None:
    from ..adapters import OPTUNA_SAMPLERS
    from ..train.recipe import PRESETS

    s = command("search", "run an Optuna study on a benchmark and compare with its true front")
    s.add_argument("--objectives", default="clean,robust", type=va.name_list, metavar="M1[,M2...]",
                   help="comma-separated metrics/aliases")
    s.add_argument("--sampler", default="tpe", choices=OPTUNA_SAMPLERS,
                   help="Optuna sampler (TPE: lowest regret of Optuna's in docs/compare.md)")
    s.add_argument("--trials", type=va.int_at_least(1), default=200, help="trials of the study")
    s.add_argument("--sampler-seed", type=va.int_at_least(0), default=0, help="seed of the sampler")
    s.add_argument("--out", default="robbench-search", type=va.out_dir, help="output directory")
    s.add_argument("--mode", default="tabular", choices=["tabular", "surrogate", "live"],
                   help="answer from the table, a surrogate or live training")
    s.add_argument("--constraint", action="append", type=va.constraint, metavar="METRIC<=BOUND",
                   help="e.g. params<=0.5 (repeatable)")
    s.add_argument("--storage", default=None, type=va.storage_url,
                   help="Optuna storage URL (sqlite:///x.db) to share or resume a study")
    s.add_argument("--study-name", default=None, help="name of the study in --storage")
    s.add_argument("--recipe", default=None, choices=sorted(PRESETS),
                   help="live mode: training recipe (default: the benchmark's own)")
    s.add_argument("--store", default=None, type=va.results_store, metavar="URL|DIR",
                   help="live mode: results store shared by workers, a database URL or a directory "
                        "(default <ROBBENCH_HOME>/results/live.db)")
    s.add_argument("--device", default="auto", type=va.device, help="live mode: auto|cpu|cuda|cuda:N|mps")
    add_bench_args(s)
    s.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    from ..search import run_search

    constraints = dict(args.constraint or [])
    live = {}
    if args.mode == "live":
        from ..train import select_device

        select_device(args.device)
        live = {"store": args.store, "device": args.device, **({"recipe": args.recipe} if args.recipe else {})}
    else:
        given = [f"--{k}" for k in ("recipe", "store") if getattr(args, k) is not None]
        if given or args.device != "auto":
            raise InvalidValueError(f"{', '.join(given) or '--device'} only apply with --mode live")
    s = run_search(args.benchmark, args.objectives, args.sampler, args.trials, args.out,
                   seed=args.sampler_seed, table_seed=args.table_seed,
                   dataset=args.dataset, data_dir=args.data_dir, storage=args.storage, study_name=args.study_name,
                   constraints=constraints or None, mode=args.mode, **live)
    front = pd.read_csv(f"{args.out}/front.csv")
    cols = ["arch", *s["objectives"]] + (["params"] if "params" not in s["objectives"] else [])
    written = f"wrote {args.out}/trials.csv, front.csv, summary.json" + (", pareto.png" if len(s["objectives"]) > 1
                                                                          else "")
    with pd.option_context("display.width", 200, "display.max_colwidth", 90):
        print(f"{s['sampler']} on {s['benchmark']}/{s['dataset']}: {s['trials']} trials "
              f"({s['unique_classes']} classes) in {s['seconds']:.1f} s")
        reference = "the table's true front" if s["complete"] else "the front of the classes trained so far"
        print(f"found Pareto front ({s['front_size']} archs; {reference} has {s['true_front_size']}):")
        print(front[cols].to_string(index=False))
    if not s["complete"]:
        print(f"live mode: the reference front is the front of the {s['classes_known']} classes trained so far, "
              f"not of the whole space; hypervolume {s['hypervolume']:.4f} vs {s['true_hypervolume']:.4f} "
              f"(ratio {s['hypervolume_ratio']:.4f}); no random-search baseline (it would train more classes)")
        print(written)
        return 0
    print(f"hypervolume {s['hypervolume']:.4f} vs true front {s['true_hypervolume']:.4f}: ratio "
          f"{s['hypervolume_ratio']:.4f}, regret {s['regret']:.4f} (reference: each objective's worst value over "
          f"the table, {s['reference_point_max_space']} in max-space)")
    verdict = "better than" if s["regret"] < s["random_search_regret"] else "not better than"
    print(f"random search, same {s['trials']} trials and seed: ratio {s['random_search_hypervolume_ratio']:.4f}, "
          f"regret {s['random_search_regret']:.4f} -> {s['sampler']} is {verdict} random search here "
          f"(one seed; robbench compare measures over seeds)")
    print(written)
    return 0
