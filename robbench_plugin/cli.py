"""The ``robbench`` command line: info, download, query, top, export, search, compare, report,
surrogate-eval, proxies, train, build.

Every option value is checked before any work starts (see :mod:`robbench_plugin.cli_args`); a bad
one is one line ``robbench <command>: error: ...`` naming the option and its valid values, and exit
status 2, with nothing written.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from typing import NoReturn, Sequence

from . import cli_args as va
from .costs import DATASET_SPECS
from .errors import InvalidValueError, RobBenchError

# what `robbench info` reports: (label, importable module names (any one), extra)
EXTRAS = (("torch", ("torch",), "train"), ("scikit-learn", ("sklearn",), "train"), ("optuna", ("optuna",), "optuna"),
          ("optunahub", ("optunahub",), "optuna"), ("syne-tune", ("syne_tune",), "syne-tune"),
          ("lightgbm", ("lightgbm",), "surrogate"), ("autoattack", ("pyautoattack", "autoattack"), "autoattack"),
          ("ray", ("ray",), "distributed"), ("matplotlib", ("matplotlib",), "report"))


def _parse_arch(text: str):
    """CLI form of an arch: an NB201 index (digits only) or an NB201 string."""
    return int(text) if text.isdigit() else text


def _bench(args: argparse.Namespace):
    from .loader import load_benchmark

    name = getattr(args, "name", None) or args.benchmark
    return load_benchmark(name, dataset=args.dataset, data_dir=args.data_dir)


def _check_table_seed(bench, args: argparse.Namespace) -> None:
    """--table-seed against the benchmark's seed labels (before any work)."""
    if args.table_seed not in bench.seeds:
        raise InvalidValueError(f"--table-seed {args.table_seed!r} is not a seed of {bench.name}/{bench.dataset}; "
                         f"valid: {', '.join(bench.seeds)}")


def _cmd_info(args: argparse.Namespace) -> int:
    from ._version import __version__
    from .loader import embedded_digits_available
    from .paths import home, release_dir
    from .release import RELEASE_FILES
    from .space import NUM_ARCHS, NUM_UNIQUE

    print(f"robbench-plugin {__version__}")
    print(f"search space: NAS-Bench-201, {NUM_ARCHS} cells, {NUM_UNIQUE} isomorphism classes")
    print(f"home: {home()} (set ROBBENCH_HOME to move it)")
    print("benchmarks:")
    print(f"  digits            embedded: {'installed' if embedded_digits_available() else 'not built in this installation'}")
    rd = release_dir()
    have = all((rd / f).is_file() for f in RELEASE_FILES)
    print(f"  nas-robbench-201  release files in {rd}: {'present' if have else 'absent (robbench download)'}")
    print("extras:")
    for label, modules, extra in EXTRAS:
        ok = any(importlib.util.find_spec(m) is not None for m in modules)
        print(f"  {label:<12} {'yes' if ok else 'no '}  (extra '{extra}')")
    return 0


def _cmd_download(args: argparse.Namespace) -> int:
    from .download import download_release

    bars: dict = {}

    def progress(name: str, done: int, total: int | None) -> None:
        from tqdm.auto import tqdm

        if name not in bars:
            bars[name] = tqdm(total=total, unit="B", unit_scale=True, desc=name)
        bars[name].n = done
        bars[name].refresh()

    sums = download_release(args.dest, source=getattr(args, "from"), force=args.force, progress=progress)
    for bar in bars.values():
        bar.close()
    for name, sha in sums.items():
        print(f"{sha}  {name}")
    return 0


def _cmd_query(args: argparse.Namespace) -> int:
    bench = _bench(args)
    _check_table_seed(bench, args)
    metrics = args.metric or None
    values = bench.query(_parse_arch(args.arch), metrics, seed=args.table_seed, fidelity=args.fidelity)
    if not isinstance(values, dict):
        values = {metrics[0]: values}
    from .space import Arch

    a = Arch.parse(_parse_arch(args.arch))
    print(json.dumps({"arch": a.string, "index": a.index, "uid": a.uid, **values}, indent=1))
    return 0


def _cmd_top(args: argparse.Namespace) -> int:
    import pandas as pd

    bench = _bench(args)
    _check_table_seed(bench, args)
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.max_colwidth", 90):
        if args.pareto:
            objectives = args.pareto
            front = bench.pareto_front(objectives, seed=args.table_seed)
            cols = ["uid", "arch"] + [bench.resolve_metric(o) for o in objectives]
            print(f"Pareto front of {bench.name}/{bench.dataset} over {objectives}: {len(front)} classes")
            print(front[cols].to_string(index=False))
            return 0
        metric = bench.resolve_metric(args.by)
        df = bench.to_frame([metric, "params"], seed=args.table_seed).dropna(subset=[metric])
        df = df.sort_values(metric, ascending=bench.direction(metric) == "minimize").head(args.n)
        print(df.to_string(index=False))
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from .fileutil import atomic_path

    bench = _bench(args)
    _check_table_seed(bench, args)
    if args.long:
        df = bench.table.frame
        df = df[df["dataset"] == bench.dataset]
    else:
        df = bench.to_frame(seed=args.table_seed)
    with atomic_path(args.out) as tmp:
        if args.format == "csv":
            df.to_csv(tmp, index=False)
        else:
            df.to_parquet(tmp, index=False)
    print(f"wrote {len(df)} rows to {args.out}")
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    from .space import Arch
    from .train import Recipe, select_device, train

    Arch.parse(_parse_arch(args.arch))  # the architecture, the recipe and the device before any work
    recipe = Recipe.preset(args.recipe)
    if args.epochs is not None:
        recipe = recipe.replace(epochs=args.epochs)
    select_device(args.device)
    result = train(_parse_arch(args.arch), args.dataset, recipe, seed=args.seed, device=args.device,
                   data_root=args.data_root, checkpoint_dir=args.checkpoint_dir, resume=args.resume, progress=True,
                   precision=args.precision)
    print(json.dumps({"arch": result.arch, "uid": result.uid, "device": result.device, "params_M": result.params,
                      "flops_M": result.flops, **{k: v for k, v in result.final.items() if k.startswith("val_")}},
                     indent=1))
    return 0


def _cmd_search(args: argparse.Namespace) -> int:
    import pandas as pd

    from .search import run_search

    constraints = dict(args.constraint or [])
    live = {}
    if args.mode == "live":
        from .train import select_device

        select_device(args.device)
        live = {"store": args.store, "device": args.device, **({"recipe": args.recipe} if args.recipe else {})}
    else:
        given = [f"--{k}" for k in ("recipe", "store") if getattr(args, k) is not None]
        if given or args.device != "auto":
            return _fail("search", f"{', '.join(given) or '--device'} only apply with --mode live")
    s = run_search(args.benchmark, args.objectives, args.sampler, args.trials, args.out,
                   seed=args.sampler_seed, table_seed=args.table_seed,
                   dataset=args.dataset, data_dir=args.data_dir, storage=args.storage, study_name=args.study_name,
                   constraints=constraints or None, mode=args.mode, **live)
    front = pd.read_csv(f"{args.out}/front.csv")
    cols = ["arch", *s["objectives"]] + (["params"] if "params" not in s["objectives"] else [])
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
        print(f"wrote {args.out}/trials.csv, front.csv, summary.json" + (", pareto.png" if len(s["objectives"]) > 1
                                                                        else ""))
        return 0
    print(f"hypervolume {s['hypervolume']:.4f} vs true front {s['true_hypervolume']:.4f}: ratio "
          f"{s['hypervolume_ratio']:.4f}, regret {s['regret']:.4f} (reference: each objective's worst value over "
          f"the table, {s['reference_point_max_space']} in max-space)")
    verdict = "better than" if s["regret"] < s["random_search_regret"] else "not better than"
    print(f"random search, same {s['trials']} trials and seed: ratio {s['random_search_hypervolume_ratio']:.4f}, "
          f"regret {s['random_search_regret']:.4f} -> {s['sampler']} is {verdict} random search here "
          f"(one seed; robbench compare measures over seeds)")
    print(f"wrote {args.out}/trials.csv, front.csv, summary.json" + (", pareto.png" if len(s["objectives"]) > 1 else ""))
    return 0


def _cmd_surrogate_eval(args: argparse.Namespace) -> int:
    import pandas as pd

    from .surrogate import evaluate_surrogate, summarize_evaluation

    from .fileutil import atomic_write_bytes

    bench = _bench(args)
    for m in args.metrics:
        bench.resolve_metric(m)
    df = evaluate_surrogate(bench, args.fractions, splits=args.splits, metrics=args.metrics,
                            n_models=args.n_models, progress=True)
    summary = summarize_evaluation(df)
    if args.out:
        atomic_write_bytes(args.out, df.to_csv(index=False).encode())
    cols = ["metric", "scope", "fraction", "model", "kendall_mean", "kendall_std", "spearman_mean",
            "predict_ms_per_1k"]
    with pd.option_context("display.width", 200, "display.max_rows", 500, "display.float_format", "{:.3f}".format):
        print(summary[cols].to_string(index=False))
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from .report import write_report

    bench = _bench(args)
    q = write_report(bench, args.out)
    print(f"{bench.name}/{bench.dataset}: {q['classes']} classes")
    print(f"  robust p5..p95 {q['robust_p5']:.3f}..{q['robust_p95']:.3f} (span {q['robust_p5_p95_span']:.3f})")
    print(f"  Kendall tau(clean, robust) {q['tau_clean_robust']:.3f}")
    print(f"  seed std / inter-class std {q['seed_noise_ratio']:.3f} over {q['seed_classes']} classes with >= 2 seeds")
    print(f"  conv into output: top 5% {q['conv_into_output_top5']:.3f} vs all {q['conv_into_output_all']:.3f}")
    print(f"  checks: {q['checks']}")
    print(f"wrote {args.out}/report.md and plots")
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    import pandas as pd

    from .compare import CompareSpec, compare

    from .compare import SEARCHERS

    for s in args.searchers:
        if s not in SEARCHERS:
            raise InvalidValueError(f"--searchers: unknown searcher {s!r}; valid: {', '.join(SEARCHERS)}")
    cspec = CompareSpec(args.benchmark, args.dataset, args.data_dir, args.mode, tuple(args.objectives), args.budget,
                        table_seed=args.table_seed)
    bench = cspec.load()
    _check_table_seed(bench, args)
    for o in args.objectives:
        bench.resolve_metric(o)
    summary = compare(args.searchers, args.n_seeds, cspec, args.out, workers=args.workers)
    with pd.option_context("display.width", 200, "display.float_format", "{:.4f}".format):
        print(summary.to_string(index=False))
    print(f"wrote {args.out}/evaluations.csv, summary.md, summary.csv, curves.png")
    return 0


def _cmd_proxies(args: argparse.Namespace) -> int:
    import pandas as pd

    from .errors import DataFileError
    from .fileutil import atomic_write_bytes
    from .proxies import plot_correlations, proxy_correlations, proxy_table

    if args.table:
        try:
            df = pd.read_csv(args.table)
        except (ValueError, UnicodeDecodeError) as exc:
            raise DataFileError(f"--table {args.table!r} is not a CSV written by robbench proxies --out ({exc})") \
                from exc
        missing = [c for c in ("clean", "robust") if c not in df.columns]
        if missing:
            raise DataFileError(f"--table {args.table!r} lacks the columns {missing}; give a CSV written by "
                                "robbench proxies --out")
        source = f"{len(df)} classes of {args.table}"
    else:
        bench = _bench(args)
        use_naslib = importlib.util.find_spec("naslib") is not None if args.naslib is None else args.naslib
        scorers = {}
        if use_naslib:
            from .adapters.naslib import zero_cost_scores

            scorers["naslib"] = zero_cost_scores
        df = proxy_table(bench, n=args.n, batch=args.batch, progress=True, extra_scorers=scorers)
        source = f"{len(df)} classes of {bench.name}/{bench.dataset}"
    corr = proxy_correlations(df)
    if args.out:
        atomic_write_bytes(args.out, df.to_csv(index=False).encode())
    if args.plot:
        plot_correlations(corr, args.plot, title=f"zero-cost proxies vs accuracy, {source}")
        print(f"wrote {args.plot}")
    with pd.option_context("display.width", 200, "display.float_format", "{:.3f}".format):
        print(corr.pivot(index="proxy", columns="target", values=["spearman", "kendall", "partial"]).to_string())
    print("partial: Spearman with one accuracy given the other")
    return 0


def _cmd_build(args: argparse.Namespace) -> int:
    from .train.builder import BuildPlan, build, build_status
    from .train.recipe import Recipe

    from .train import select_device

    plan = BuildPlan(dataset=args.dataset, recipe=Recipe.preset(args.recipe or args.dataset))
    select_device(args.device)
    n = build(args.out, plan, workers=args.workers, backend=args.backend, device=args.device,
              data_root=args.data_root, ray_address=args.ray_address, limit=args.limit, gpus_per_run=args.gpus_per_run)
    st = build_status(args.out, plan)
    print(f"trained {n} now; {st['done']}/{st['total']} done in {args.out}" + (" (complete)" if st["complete"] else ""))
    return 0


class _Parser(argparse.ArgumentParser):
    """An argparse parser whose errors are one line ``<prog>: error: <message>`` and exit 2 (the
    usage stays in ``--help``)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


class _HELP(argparse.ArgumentDefaultsHelpFormatter):
    """Help that shows each option's default, where it has one."""

    def _get_help_string(self, action: argparse.Action) -> str:
        if action.default in (None, False) or action.default is argparse.SUPPRESS:
            return action.help or ""
        return super()._get_help_string(action)


def _add_bench_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--benchmark", default="digits", choices=["digits", "nas-robbench-201", "build"],
                   help="embedded digits, the downloaded release, or a build of robbench build")
    p.add_argument("--dataset", default=None, choices=list(DATASET_SPECS),
                   help="dataset of the benchmark (default: digits for digits, cifar10 for nas-robbench-201)")
    p.add_argument("--data-dir", default=None, type=va.in_path,
                   help="release files (nas-robbench-201; default <ROBBENCH_HOME>/nas-robbench-201) or a build "
                        "directory or archive (build)")
    p.add_argument("--table-seed", default="mean",
                   help="the table's training-seed label whose values are used, or mean|std over the seeds")


def make_parser() -> argparse.ArgumentParser:
    from ._version import __version__
    from .adapters import OPTUNA_SAMPLERS
    from .train.recipe import PRESETS

    p = _Parser(prog="robbench", description="NAS-RobBench-201 for Optuna, Syne Tune and NASLib.", formatter_class=_HELP)
    p.add_argument("--version", action="version", version=f"robbench-plugin {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help, description=help, formatter_class=_HELP)

    s = command("info", "package, benchmarks and extras available")
    s.set_defaults(func=_cmd_info)

    s = command("download", "fetch the NAS-RobBench-201 release into the cache (validated before it lands)")
    s.add_argument("--from", default=None, metavar="PATH|URL", help="local copy or mirror instead of Google Drive")
    s.add_argument("--dest", default=None, type=va.out_dir,
                   help="target directory (default <ROBBENCH_HOME>/nas-robbench-201)")
    s.add_argument("--force", action="store_true",
                   help="fetch again even if a valid copy is present (an invalid copy is always replaced)")
    s.set_defaults(func=_cmd_download)

    s = command("query", "values of one architecture")
    s.add_argument("arch", help="NB201 index (0..15624) or NB201 string")
    s.add_argument("--metric", action="append", help="metric or alias (repeatable); default all")
    s.add_argument("--fidelity", type=va.int_at_least(0), default=None, help="epoch (default: the final one)")
    _add_bench_args(s)
    s.set_defaults(func=_cmd_query)

    s = command("top", "best architectures by a metric, or the Pareto front")
    s.add_argument("--by", default="robust", help="metric or alias to rank by")
    s.add_argument("-n", type=va.int_at_least(1), default=10, help="how many rows")
    s.add_argument("--pareto", default=None, type=va.name_list, metavar="M1,M2[,...]",
                   help="list the Pareto front over these metrics instead")
    _add_bench_args(s)
    s.set_defaults(func=_cmd_top)

    s = command("export", "write the benchmark as CSV or parquet")
    s.add_argument("--format", choices=["csv", "parquet"], required=True, help="file format")
    s.add_argument("--out", required=True, type=va.out_file, help="file to write")
    s.add_argument("--long", action="store_true", help="long format (every metric, fidelity and seed)")
    _add_bench_args(s)
    s.set_defaults(func=_cmd_export)

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
    _add_bench_args(s)
    s.set_defaults(func=_cmd_search)

    s = command("surrogate-eval", "held-out rank quality of the surrogate vs ridge and k-NN baselines")
    s.add_argument("--fractions", default="0.05,0.1,0.25,0.5", type=va.fractions, metavar="F1[,F2...]",
                   help="training fractions of the classes, each in (0, 1)")
    s.add_argument("--splits", type=va.int_at_least(1), default=3, help="random splits per fraction")
    s.add_argument("--metrics", default="clean,robust", type=va.name_list, metavar="M1[,M2...]",
                   help="metrics to predict")
    s.add_argument("--n-models", type=va.int_at_least(1), default=3, help="ensemble size")
    s.add_argument("--out", default=None, type=va.out_file,
                   help="CSV of every (model, fraction, split, metric, scope) row")
    _add_bench_args(s)
    s.set_defaults(func=_cmd_surrogate_eval)

    s = command("report", "quality report of a benchmark table (markdown + plots)")
    s.add_argument("name", nargs="?", default=None, choices=["digits", "nas-robbench-201", "build"],
                   help="benchmark name (same as --benchmark)")
    s.add_argument("--out", default="robbench-report", type=va.out_dir, help="output directory")
    _add_bench_args(s)
    s.set_defaults(func=_cmd_report)

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
    s.add_argument("--out", default="robbench-compare", type=va.out_dir, help="output directory")
    _add_bench_args(s)
    s.set_defaults(func=_cmd_compare)

    s = command("proxies", "zero-cost proxies (NTK, synflow, ...) vs clean/robust accuracy")
    s.add_argument("--n", type=va.int_at_least(2), default=200, help="random classes to score")
    s.add_argument("--batch", type=va.int_at_least(1), default=32, help="images in the proxy batch")
    s.add_argument("--out", default=None, type=va.out_file, help="CSV of every class's proxies")
    s.add_argument("--plot", default=None, type=va.out_file, help="PNG of the correlations")
    s.add_argument("--naslib", default=None, action=argparse.BooleanOptionalAction,
                   help="also NASLib's zero-cost predictors (default: when NASLib is importable)")
    s.add_argument("--table", default=None, type=va.in_file,
                   help="correlations of a CSV written earlier with --out, instead of computing proxies")
    _add_bench_args(s)
    s.set_defaults(func=_cmd_proxies)

    s = command("train", "adversarially train one architecture (extra 'train')")
    s.add_argument("--arch", required=True, help="NB201 index (0..15624) or NB201 string")
    s.add_argument("--dataset", default="digits", choices=list(DATASET_SPECS), help="dataset to train on")
    s.add_argument("--recipe", default="quick", choices=sorted(PRESETS), help="recipe preset")
    s.add_argument("--epochs", type=va.int_at_least(1), default=None, help="override the recipe's epochs")
    s.add_argument("--seed", type=va.int_at_least(0), default=0, help="training seed")
    s.add_argument("--device", default="auto", type=va.device, help="auto|cpu|cuda|cuda:N|mps")
    s.add_argument("--data-root", default=None, type=va.in_path,
                   help="folder with the dataset files (not needed for digits)")
    s.add_argument("--checkpoint-dir", default=None, type=va.out_dir, help="keep a checkpoint per epoch here")
    s.add_argument("--resume", action="store_true", help="continue from the checkpoint in --checkpoint-dir")
    s.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16"],
                   help="auto = bf16 autocast on CUDA, fp32 elsewhere; bf16 is ~2x faster on CPUs with AVX512-BF16")
    s.set_defaults(func=_cmd_train)

    s = command("build", "train every architecture into a resumable build directory")
    s.add_argument("dataset", choices=["digits"], help="dataset to build a benchmark on")
    s.add_argument("--out", required=True, type=va.out_dir, help="build directory (resumable)")
    s.add_argument("--recipe", default=None, choices=sorted(PRESETS), help="recipe preset (default: the dataset's)")
    s.add_argument("--workers", type=va.int_at_least(1), default=2, help="parallel training processes")
    s.add_argument("--backend", choices=["local", "ray"], default="local", help="local processes or a Ray cluster")
    s.add_argument("--ray-address", default=None, help="Ray cluster address (default: a local Ray)")
    s.add_argument("--device", default="cpu", type=va.device, help="auto|cpu|cuda|cuda:N|mps")
    s.add_argument("--data-root", default=None, type=va.in_path, help="folder with the dataset files")
    s.add_argument("--limit", type=va.int_at_least(1), default=None, help="train at most this many jobs now")
    s.add_argument("--gpus-per-run", type=va.gpus_per_run, default=None,
                   help="Ray on CUDA: GPUs per run (default 0.25: four small networks share a GPU)")
    s.set_defaults(func=_cmd_build)
    return p


def _fail(command: str, message: str) -> int:
    print(f"robbench {command}: error: {message}", file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; 0 on success (``--help`` and ``--version`` too), 2 with one error line for any
    bad input or unusable file."""
    try:
        args = make_parser().parse_args(argv)
    except SystemExit as exc:  # argparse: a bad option value (2), or --help/--version (0)
        return int(exc.code or 0)
    try:
        return int(args.func(args) or 0)
    except (RobBenchError, ValueError, OSError) as exc:
        return _fail(args.command, str(exc))
    except Exception as exc:  # a database the storage URL names that cannot be reached, and its kin
        if type(exc).__module__.split(".")[0] == "sqlalchemy":
            return _fail(args.command, f"storage: {str(exc).splitlines()[0]}")
        raise


if __name__ == "__main__":
    sys.exit(main())
