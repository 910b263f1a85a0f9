"""Analyses of a benchmark: ``surrogate-eval`` (rank quality of the surrogate) and ``proxies``
(zero-cost proxies against clean and robust accuracy)."""
from __future__ import annotations

import argparse
import importlib.util

from .. import cli_args as va
from .common import AddCommand, add_bench_args, bench_of


def register(command: AddCommand) -> None:
    s = command("surrogate-eval", "held-out rank quality of the surrogate vs ridge and k-NN baselines")
    s.add_argument("--fractions", default="0.05,0.1,0.25,0.5", type=va.fractions, metavar="F1[,F2...]",
                   help="training fractions of the classes, each in (0, 1)")
    s.add_argument("--splits", type=va.int_at_least(1), default=3, help="random splits per fraction")
    s.add_argument("--metrics", default="clean,robust", type=va.name_list, metavar="M1[,M2...]",
                   help="metrics to predict")
    s.add_argument("--n-models", type=va.int_at_least(1), default=3, help="ensemble size")
    s.add_argument("--out", default=None, type=va.out_file,
                   help="CSV of every (model, fraction, split, metric, scope) row")
    add_bench_args(s)
    s.set_defaults(func=run_surrogate_eval)

    s = command("proxies", "zero-cost proxies (NTK, synflow, ...) vs clean/robust accuracy")
    s.add_argument("--n", type=va.int_at_least(2), default=200, help="random classes to score")
    s.add_argument("--batch", type=va.int_at_least(1), default=32, help="images in the proxy batch")
    s.add_argument("--out", default=None, type=va.out_file, help="CSV of every class's proxies")
    s.add_argument("--plot", default=None, type=va.out_file, help="PNG of the correlations")
    s.add_argument("--naslib", default=None, action=argparse.BooleanOptionalAction,
                   help="also NASLib's zero-cost predictors (default: when NASLib is importable)")
    s.add_argument("--table", default=None, type=va.in_file,
                   help="correlations of a CSV written earlier with --out, instead of computing proxies")
    s.add_argument("--data-root", default=None, type=va.in_path,
                   help="folder of the data set's image files (not needed for digits; Fashion-MNIST is also found "
                        "in ROBBENCH_HOME and Debian's dataset-fashion-mnist)")
    add_bench_args(s)
    s.set_defaults(func=run_proxies)


def run_surrogate_eval(args: argparse.Namespace) -> int:
    import pandas as pd

    from ..fileutil import atomic_write_bytes
    from ..surrogate import evaluate_surrogate, summarize_evaluation

    bench = bench_of(args)
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


def run_proxies(args: argparse.Namespace) -> int:
    import pandas as pd

    from ..errors import DataFileError
    from ..fileutil import atomic_write_bytes
    from ..proxies import plot_correlations, proxy_correlations, proxy_table

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
        bench = bench_of(args)
        use_naslib = importlib.util.find_spec("naslib") is not None if args.naslib is None else args.naslib
        scorers = {}
        if use_naslib:
            from ..adapters.naslib import zero_cost_scores

            scorers["naslib"] = zero_cost_scores
        df = proxy_table(bench, n=args.n, batch=args.batch, progress=True, extra_scorers=scorers,
                         data_root=args.data_root)
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
