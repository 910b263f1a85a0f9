"""Commands that read a benchmark's table: ``query``, ``top``, ``export`` and ``report``."""
from __future__ import annotations

import argparse
import json

from .. import cli_args as va
from .common import AddCommand, add_bench_args, bench_of, check_table_seed, parse_arch


def register(command: AddCommand) -> None:
    s = command("query", "values of one architecture")
    s.add_argument("arch", help="NB201 index (0..15624) or NB201 string")
    s.add_argument("--metric", action="append", help="metric or alias (repeatable); default all")
    s.add_argument("--fidelity", type=va.int_at_least(0), default=None, help="epoch (default: the final one)")
    add_bench_args(s)
    s.set_defaults(func=run_query)

    s = command("top", "best architectures by a metric, or the Pareto front")
    s.add_argument("--by", default="robust", help="metric or alias to rank by")
    s.add_argument("-n", type=va.int_at_least(1), default=10, help="how many rows")
    s.add_argument("--pareto", default=None, type=va.name_list, metavar="M1,M2[,...]",
                   help="list the Pareto front over these metrics instead")
    add_bench_args(s)
    s.set_defaults(func=run_top)

    s = command("export", "write the benchmark as CSV, parquet, or a blackbox of Syne Tune's repository")
    s.add_argument("--format", choices=["csv", "parquet", "syne-tune"], required=True,
                   help="file format; syne-tune: a folder in Syne Tune's blackbox-repository layout "
                        "(its serialize: one task per data set, every training seed; docs/syne-tune.md)")
    s.add_argument("--out", required=True, type=va.out_path,
                   help="file to write (csv, parquet), or a new or empty folder (syne-tune)")
    s.add_argument("--long", action="store_true", help="long format (every metric, fidelity and seed)")
    add_bench_args(s)
    s.set_defaults(func=run_export)

    s = command("report", "quality report of a benchmark table (markdown + plots)")
    from ..loader import BENCHMARKS

    s.add_argument("name", nargs="?", default=None, choices=[*BENCHMARKS, "build"],
                   help="benchmark name (same as --benchmark)")
    s.add_argument("--out", default="robbench-report", type=va.out_dir, help="output directory")
    add_bench_args(s)
    s.set_defaults(func=run_report)


def run_query(args: argparse.Namespace) -> int:
    from ..space import Arch

    bench = bench_of(args)
    check_table_seed(bench, args)
    metrics = args.metric or None
    values = bench.query(parse_arch(args.arch), metrics, seed=args.table_seed, fidelity=args.fidelity)
    if not isinstance(values, dict):
        values = {metrics[0]: values}
    a = Arch.parse(parse_arch(args.arch))
    print(json.dumps({"arch": a.string, "index": a.index, "uid": a.uid, **values}, indent=1))
    return 0


def run_top(args: argparse.Namespace) -> int:
    import pandas as pd

    bench = bench_of(args)
    check_table_seed(bench, args)
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


def run_export(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..errors import InvalidValueError
    from ..fileutil import atomic_path

    out = Path(args.out)
    if args.format == "syne-tune":
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise InvalidValueError(f"--out {args.out!r} exists and is not an empty folder; valid with --format "
                                    "syne-tune: a new or empty folder")
        given = [o for o, on in (("--long", args.long), ("--table-seed", args.table_seed != "mean")) if on]
        if given:
            raise InvalidValueError(f"{given[0]} does not apply to --format syne-tune (the blackbox holds every "
                                    "fidelity and every training seed)")
        return _export_syne_tune(args)
    if out.is_dir():
        raise InvalidValueError(f"--out {args.out!r} is a directory; valid with --format {args.format}: a file path")
    bench = bench_of(args)
    check_table_seed(bench, args)
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


def _export_syne_tune(args: argparse.Namespace) -> int:
    from ..errors import MissingExtraError

    bench = bench_of(args)
    bench.require_complete("a Syne Tune blackbox (every configuration is a row)")
    try:
        from ..adapters.syne_tune.export import export_blackboxes, read_exported
    except ImportError as exc:
        raise MissingExtraError("syne_tune", "syne-tune") from exc
    datasets = [args.dataset] if args.dataset else None
    out = export_blackboxes(bench if datasets is None and len(bench.datasets) == 1 else args.benchmark, args.out,
                            data_dir=args.data_dir, datasets=datasets)
    bbs = read_exported(out)
    shapes = ", ".join(f"{t} {tuple(bb.objectives_evaluations.shape)}" for t, bb in bbs.items())
    print(f"wrote Syne Tune blackbox {out} (tasks x configurations x seeds x fidelities x objectives: {shapes}); "
          "read it with syne_tune.blackbox_repository.blackbox_tabular.deserialize")
    return 0


def run_report(args: argparse.Namespace) -> int:
    from ..report import write_report

    bench = bench_of(args)
    q = write_report(bench, args.out)
    print(f"{bench.name}/{bench.dataset}: {q['classes']} classes")
    print(f"  robust p5..p95 {q['robust_p5']:.3f}..{q['robust_p95']:.3f} (span {q['robust_p5_p95_span']:.3f})")
    print(f"  Kendall tau(clean, robust) {q['tau_clean_robust']:.3f}")
    print(f"  seed std / inter-class std {q['seed_noise_ratio']:.3f} over {q['seed_classes']} classes with >= 2 seeds")
    print(f"  conv into output: top 5% {q['conv_into_output_top5']:.3f} vs all {q['conv_into_output_all']:.3f}")
    if "time_tau_seeds" in q:
        print(f"  recorded training seconds: tau between seeds {q['time_tau_seeds']:.3f}, with FLOPs "
              f"{q['time_tau_flops']:.3f}"
              + (f"; the clock's op-count model, held out, with the second seed {q['time_tau_model_seeds']:.3f}"
                 if "time_tau_model_seeds" in q else ""))
    elif "time_tau_flops" in q:
        print(f"  recorded training seconds: tau with FLOPs {q['time_tau_flops']:.3f}")
    print(f"  checks: {q['checks']}")
    print(f"wrote {args.out}/report.md and plots")
    return 0
