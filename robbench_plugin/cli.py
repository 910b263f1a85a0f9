"""The ``robbench`` command line: info, download, query, top, export, train, build."""
from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from typing import Sequence

from .errors import RobBenchError

EXTRAS = {"torch": "train", "sklearn": "train", "optuna": "optuna", "optunahub": "optuna",
          "syne_tune": "syne-tune", "lightgbm": "surrogate", "autoattack": "autoattack", "ray": "distributed",
          "matplotlib": "report"}


def _parse_arch(text: str):
    """CLI form of an arch: an NB201 index (digits only) or an NB201 string."""
    return int(text) if text.isdigit() else text


def _bench(args: argparse.Namespace):
    from .objective import load_benchmark

    name = getattr(args, "name", None) or args.benchmark
    return load_benchmark(name, dataset=args.dataset, data_dir=args.data_dir)


def _cmd_info(args: argparse.Namespace) -> int:
    from . import __version__
    from .objective import embedded_digits_available
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
    for mod, extra in EXTRAS.items():
        ok = importlib.util.find_spec(mod) is not None
        print(f"  {mod:<11} {'yes' if ok else 'no '}  (extra '{extra}')")
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
    metrics = args.metric or None
    values = bench.query(_parse_arch(args.arch), metrics, seed=args.seed, fidelity=args.fidelity)
    if not isinstance(values, dict):
        values = {metrics[0]: values}
    from .space import Arch

    a = Arch.parse(_parse_arch(args.arch))
    print(json.dumps({"arch": a.string, "index": a.index, "uid": a.uid, **values}, indent=1))
    return 0


def _cmd_top(args: argparse.Namespace) -> int:
    import pandas as pd

    bench = _bench(args)
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.max_colwidth", 90):
        if args.pareto:
            objectives = args.pareto.split(",")
            front = bench.pareto_front(objectives, seed=args.seed)
            cols = ["uid", "arch"] + [bench.resolve_metric(o) for o in objectives]
            print(f"Pareto front of {bench.name}/{bench.dataset} over {objectives}: {len(front)} classes")
            print(front[cols].to_string(index=False))
            return 0
        metric = bench.resolve_metric(args.by)
        df = bench.to_frame([metric, "params"], seed=args.seed).dropna(subset=[metric])
        df = df.sort_values(metric, ascending=bench.direction(metric) == "minimize").head(args.n)
        print(df.to_string(index=False))
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    bench = _bench(args)
    if args.long:
        df = bench.table.frame
        df = df[df["dataset"] == bench.dataset]
    else:
        df = bench.to_frame(seed=args.seed)
    if args.format == "csv":
        df.to_csv(args.out, index=False)
    else:
        df.to_parquet(args.out, index=False)
    print(f"wrote {len(df)} rows to {args.out}")
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    from .train import Recipe, train

    recipe = Recipe.preset(args.recipe)
    if args.epochs is not None:
        recipe = recipe.replace(epochs=args.epochs)
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

    constraints = {}
    for item in args.constraint or []:
        key, sep, bound = item.partition("<=")
        if not sep:
            raise ValueError(f"constraint {item!r} must look like METRIC<=BOUND, e.g. params<=0.5")
        constraints[key.strip()] = float(bound)
    s = run_search(args.benchmark, args.objectives.split(","), args.sampler, args.trials, args.out,
                   seed=args.sampler_seed, table_seed=args.seed,
                   dataset=args.dataset, data_dir=args.data_dir, storage=args.storage, study_name=args.study_name,
                   constraints=constraints or None, mode=args.mode)
    front = pd.read_csv(f"{args.out}/front.csv")
    cols = ["arch", *s["objectives"]] + (["params"] if "params" not in s["objectives"] else [])
    with pd.option_context("display.width", 200, "display.max_colwidth", 90):
        print(f"{s['sampler']} on {s['benchmark']}/{s['dataset']}: {s['trials']} trials "
              f"({s['unique_classes']} classes) in {s['seconds']:.1f} s")
        print(f"found Pareto front ({s['front_size']} archs; the table's true front has {s['true_front_size']}):")
        print(front[cols].to_string(index=False))
    print(f"hypervolume {s['hypervolume']:.4f} vs true front {s['true_hypervolume']:.4f} "
          f"(ratio {s['hypervolume_ratio']:.3f}; reference point {s['reference_point_max_space']} in max-space)")
    print(f"wrote {args.out}/trials.csv, front.csv, summary.json" + (", pareto.png" if len(s["objectives"]) > 1 else ""))
    return 0


def _cmd_surrogate_eval(args: argparse.Namespace) -> int:
    import pandas as pd

    from .surrogate import evaluate_surrogate, summarize_evaluation

    bench = _bench(args)
    fractions = [float(x) for x in args.fractions.split(",")]
    df = evaluate_surrogate(bench, fractions, splits=args.splits, metrics=args.metrics.split(","),
                            n_models=args.n_models, progress=True)
    summary = summarize_evaluation(df)
    if args.out:
        df.to_csv(args.out, index=False)
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

    cspec = CompareSpec(args.benchmark, args.dataset, args.data_dir, args.mode, tuple(args.objectives.split(",")),
                        args.budget)
    summary = compare(args.searchers.split(","), args.seeds, cspec, args.out, workers=args.workers)
    with pd.option_context("display.width", 200, "display.float_format", "{:.4f}".format):
        print(summary.to_string(index=False))
    print(f"wrote {args.out}/evaluations.csv, summary.md, summary.csv, curves.png, fronts.png")
    return 0


def _cmd_proxies(args: argparse.Namespace) -> int:
    import pandas as pd

    from .errors import DataFileError
    from .fileutil import atomic_write_bytes
    from .proxies import plot_correlations, proxy_correlations, proxy_table

    if args.table:
        df = pd.read_csv(args.table)
        missing = [c for c in ("clean", "robust") if c not in df.columns]
        if missing:
            raise DataFileError(f"--table {args.table!r} lacks the columns {missing}; give a CSV written by "
                                "robbench proxies --out")
        source = f"{len(df)} classes of {args.table}"
    else:
        bench = _bench(args)
        df = proxy_table(bench, n=args.n, batch=args.batch, progress=True, naslib=args.naslib)
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

    plan = BuildPlan(dataset=args.dataset, recipe=Recipe.preset(args.recipe or args.dataset))
    n = build(args.out, plan, workers=args.workers, backend=args.backend, device=args.device,
              data_root=args.data_root, ray_address=args.ray_address, limit=args.limit)
    st = build_status(args.out, plan)
    print(f"trained {n} now; {st['done']}/{st['total']} done in {args.out}" + (" (complete)" if st["complete"] else ""))
    return 0


def _add_bench_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--benchmark", default="digits", choices=["digits", "nas-robbench-201", "build"])
    p.add_argument("--dataset", default=None, help="dataset of the benchmark (release: cifar10|cifar100|imagenet)")
    p.add_argument("--data-dir", default=None, help="release files (nas-robbench-201) or build directory (build)")
    p.add_argument("--seed", default="mean", help="seed label, or mean|std (default mean)")


def make_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="robbench", description="NAS-RobBench-201 for Optuna, Syne Tune and NASLib.")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("info", help="package, benchmarks and extras available")
    s.set_defaults(func=_cmd_info)

    s = sub.add_parser("download", help="fetch the NAS-RobBench-201 release into the cache")
    s.add_argument("--from", default=None, metavar="PATH|URL", help="local copy or mirror instead of Google Drive")
    s.add_argument("--dest", default=None, help="target directory (default <ROBBENCH_HOME>/nas-robbench-201)")
    s.add_argument("--force", action="store_true", help="fetch again even if present")
    s.set_defaults(func=_cmd_download)

    s = sub.add_parser("query", help="values of one architecture")
    s.add_argument("arch", help="NB201 index or NB201 string")
    s.add_argument("--metric", action="append", help="metric or alias (repeatable); default all")
    s.add_argument("--fidelity", type=int, default=None, help="epoch (default: final)")
    _add_bench_args(s)
    s.set_defaults(func=_cmd_query)

    s = sub.add_parser("top", help="best architectures by a metric, or the Pareto front")
    s.add_argument("--by", default="robust", help="metric or alias to rank by (default robust)")
    s.add_argument("-n", type=int, default=10)
    s.add_argument("--pareto", default=None, metavar="M1,M2[,...]", help="list the Pareto front over these metrics")
    _add_bench_args(s)
    s.set_defaults(func=_cmd_top)

    s = sub.add_parser("export", help="write the benchmark as CSV or parquet")
    s.add_argument("--format", choices=["csv", "parquet"], required=True)
    s.add_argument("--out", required=True)
    s.add_argument("--long", action="store_true", help="long format (every metric, fidelity and seed)")
    _add_bench_args(s)
    s.set_defaults(func=_cmd_export)

    s = sub.add_parser("search", help="run an Optuna study on a benchmark and compare with its true front")
    s.add_argument("--objectives", default="clean,robust", help="comma-separated metrics/aliases")
    s.add_argument("--sampler", default="nsga2", help="tpe|nsga2|nsga3|gp|random|bruteforce|cmaes|qmc")
    s.add_argument("--trials", type=int, default=200)
    s.add_argument("--sampler-seed", type=int, default=0)
    s.add_argument("--out", default="robbench-search", help="output directory")
    s.add_argument("--mode", default="tabular", choices=["tabular", "surrogate", "live"])
    s.add_argument("--constraint", action="append", metavar="METRIC<=BOUND", help="e.g. params<=0.5 (repeatable)")
    s.add_argument("--storage", default=None, help="Optuna storage URL (sqlite:///x.db) to share or resume")
    s.add_argument("--study-name", default=None)
    _add_bench_args(s)
    s.set_defaults(func=_cmd_search)

    s = sub.add_parser("surrogate-eval", help="held-out rank quality of the surrogate vs ridge and k-NN baselines")
    s.add_argument("--fractions", default="0.05,0.1,0.25,0.5", help="training fractions of the classes")
    s.add_argument("--splits", type=int, default=3, help="random splits per fraction")
    s.add_argument("--metrics", default="clean,robust")
    s.add_argument("--n-models", type=int, default=3, help="ensemble size")
    s.add_argument("--out", default=None, help="CSV of every (model, fraction, split, metric, scope) row")
    _add_bench_args(s)
    s.set_defaults(func=_cmd_surrogate_eval)

    s = sub.add_parser("report", help="quality report of a benchmark table (markdown + plots)")
    s.add_argument("name", nargs="?", default=None, help="benchmark name (same as --benchmark)")
    s.add_argument("--out", default="robbench-report")
    _add_bench_args(s)
    s.set_defaults(func=_cmd_report)

    s = sub.add_parser("compare", help="compare searchers of Optuna, Syne Tune and NASLib at equal budget")
    s.add_argument("--searchers", default="random,optuna:tpe,optuna:nsga2,syne-tune:moasha,syne-tune:morea,"
                   "naslib:re,naslib:ls", help="comma-separated framework:name (a framework that is not installed "
                   "is skipped with a line saying so)")
    s.add_argument("--objectives", default="clean,robust")
    s.add_argument("--budget", type=int, default=200, help="full evaluations per run")
    s.add_argument("--seeds", type=int, default=5)
    s.add_argument("--workers", type=int, default=2, help="parallel processes")
    s.add_argument("--mode", default="tabular", choices=["tabular", "surrogate"])
    s.add_argument("--out", default="robbench-compare")
    _add_bench_args(s)
    s.set_defaults(func=_cmd_compare)

    s = sub.add_parser("proxies", help="zero-cost proxies (NTK, synflow, ...) vs clean/robust accuracy")
    s.add_argument("--n", type=int, default=200, help="random classes to score")
    s.add_argument("--batch", type=int, default=32, help="images in the proxy batch")
    s.add_argument("--out", default=None, help="CSV of every class's proxies")
    s.add_argument("--plot", default=None, help="PNG of the correlations")
    s.add_argument("--naslib", default=None, action=argparse.BooleanOptionalAction,
                   help="also NASLib's zero-cost predictors (default: when NASLib is importable)")
    s.add_argument("--table", default=None,
                   help="correlations of a CSV written earlier with --out, instead of computing proxies")
    _add_bench_args(s)
    s.set_defaults(func=_cmd_proxies)

    s = sub.add_parser("train", help="adversarially train one architecture (extra 'train')")
    s.add_argument("--arch", required=True, help="NB201 index or string")
    s.add_argument("--dataset", default="digits", choices=["digits", "cifar10", "cifar100", "imagenet"])
    s.add_argument("--recipe", default="quick", help="preset: release|digits|quick|tiny")
    s.add_argument("--epochs", type=int, default=None)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--device", default="auto", help="auto|cpu|cuda|cuda:N|mps")
    s.add_argument("--data-root", default=None, help="folder with the dataset files (not needed for digits)")
    s.add_argument("--checkpoint-dir", default=None)
    s.add_argument("--resume", action="store_true")
    s.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16"],
                   help="auto = bf16 autocast on CUDA, fp32 elsewhere; bf16 is ~2x faster on CPUs with AVX512-BF16")
    s.set_defaults(func=_cmd_train)

    s = sub.add_parser("build", help="train every architecture into a resumable build directory")
    s.add_argument("dataset", choices=["digits"], help="dataset to build a benchmark on")
    s.add_argument("--out", required=True, help="build directory (resumable)")
    s.add_argument("--recipe", default=None, help="recipe preset (default: the dataset's)")
    s.add_argument("--workers", type=int, default=2)
    s.add_argument("--backend", choices=["local", "ray"], default="local")
    s.add_argument("--ray-address", default=None)
    s.add_argument("--device", default="cpu")
    s.add_argument("--data-root", default=None)
    s.add_argument("--limit", type=int, default=None, help="train at most this many jobs now")
    s.set_defaults(func=_cmd_build)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (RobBenchError, ValueError) as exc:
        print(f"robbench {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
