"""``robbench search``: an Optuna study on a benchmark, measured against its true front and
random search at the same budget."""
from __future__ import annotations

import argparse

from .. import cli_args as va
from ..errors import InvalidValueError
from .common import AddCommand, add_bench_args

DEFAULT_SEEDS = 20


def register(command: AddCommand) -> None:
    from ..adapters import OPTUNA_SAMPLERS
    from ..train.recipe import PRESETS

    s = command("search", "run an Optuna study on a benchmark and compare with its true front")
    s.add_argument("--objectives", default="clean,robust", type=va.name_list, metavar="M1[,M2...]",
                   help="comma-separated metrics/aliases")
    s.add_argument("--sampler", default="tpe", choices=OPTUNA_SAMPLERS,
                   help="Optuna sampler (TPE: lowest regret of Optuna's in docs/compare.md)")
    s.add_argument("--trials", type=va.int_at_least(1), default=200, help="trials of the study")
    s.add_argument("--sampler-seed", type=va.int_at_least(0), default=0,
                   help="seed of the sampler's study written out; the seeds measured start here")
    s.add_argument("--seeds", type=va.int_at_least(1), default=None,
                   help=f"seeds of the sampler, TPE, NSGA-II and random search measured against the true front "
                        f"(default {DEFAULT_SEEDS}; 1 with --mode live, --storage or --constraint, which run one study)")
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
    single = [o for o, on in (("--mode live", args.mode == "live"), ("--storage", args.storage is not None),
                              ("--constraint", bool(constraints))) if on]
    if single and args.seeds not in (None, 1):
        raise InvalidValueError(f"--seeds {args.seeds}: {single[0]} runs one study; valid: --seeds 1")
    seeds = 1 if single else (args.seeds or DEFAULT_SEEDS)
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
          f"the table, {[float(f'{v:.6g}') for v in s['reference_point_max_space']]} in max-space)")
    if seeds == 1:
        print(f"random search, same {s['trials']} trials and seed: ratio {s['random_search_hypervolume_ratio']:.4f}, "
              f"regret {s['random_search_regret']:.4f} (one seed: it says nothing on which is better; "
              f"--seeds N measures over seeds)")
        print(written)
        return 0
    over = _over_seeds(args, s, seeds)
    print(f"over {seeds} seeds ({args.sampler_seed}..{args.sampler_seed + seeds - 1}) of {s['trials']} trials each, "
          f"final regret (lower is better):")
    for name, v in over["searchers"].items():
        low, high = v["median_regret_ci95"]
        ci = f"[{low:.4f}, {high:.4f}]" if low == low else "(too few seeds for a 95% interval)"
        p = f"   p vs random {v['p_vs_random_holm']:.3g}" if "p_vs_random_holm" in v else ""
        print(f"  {name:<14} median {v['median_regret']:.4f}  95% CI of the median {ci}{p}")
    print(f"verdict {over['verdict']}")
    print(written + ", seeds.csv, regret.png")
    return 0


def _over_seeds(args: argparse.Namespace, s: dict, seeds: int) -> dict:
    """The sampler, TPE, NSGA-II and random search over ``seeds`` seeds (search_seeds); writes
    seeds.csv and regret.png and adds the figures to summary.json."""
    from pathlib import Path

    from .. import search_seeds
    from ..compare.spec import CompareSpec
    from ..fileutil import atomic_write_bytes, atomic_write_json
    from ..problem import ProblemSpec

    names = list(dict.fromkeys([f"optuna:{args.sampler}", "optuna:tpe", "optuna:nsga2", "random"]))
    cspec = CompareSpec(benchmark=args.benchmark, dataset=args.dataset, data_dir=args.data_dir, mode=args.mode,
                        objectives=tuple(s["objectives"]), budget=s["trials"], table_seed=args.table_seed)
    which = range(args.sampler_seed, args.sampler_seed + seeds)
    runs, bench = search_seeds.seeded_runs(cspec, names, which)
    spec = ProblemSpec(bench, list(cspec.objectives), seed=cspec.table_seed)
    info = search_seeds._get_regret_info(spec, runs, names, list(which), s["trials"])
    out = Path(args.out)
    atomic_write_bytes(out / "seeds.csv", search_seeds.seeds_frame(info).to_csv(index=False).encode())
    search_seeds.plot_regret(info, out / "regret.png", f"{s['benchmark']}/{s['dataset']}: "
                             f"{', '.join(s['objectives'])}, {seeds} seeds of {s['trials']} trials")
    over = search_seeds.summary_of(info)
    atomic_write_json(out / "summary.json", {**s, "over_seeds": over})  # s: what run_search wrote there
    return over
