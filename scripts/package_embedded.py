"""Turn a finished build into the package data of an embedded benchmark.

    python scripts/package_embedded.py [--benchmark fashion-mnist] [--build data/<archive>.build.tar.xz]
                                       [--report docs/<benchmark>-report] [--dry-run]

``--benchmark`` is one of the embedded benchmarks (``robbench_plugin.embedded.EMBEDDED_BENCHMARKS``;
default the package's default, fashion-mnist); ``--build`` is a build archive (checked against its
``.sha256``) or a build directory, by default the archive the benchmark's entry names.

Refuses (exit 1, one line on stderr, nothing written) unless the build is complete, the table file is <= 3 MB, it loads back as
``load_benchmark(<benchmark>)`` with the same values as the build, and the quality thresholds of
``robbench_plugin.report.THRESHOLDS`` hold; then writes the report (markdown + plots) and fits
the default surrogate, shipped beside the table when it is <= 5 MB.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT / "robbench_plugin" / "_data"
MAX_BYTES = 3 * 1024 * 1024  # the table
MAX_SURROGATE_BYTES = 5 * 1024 * 1024


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    from robbench_plugin.embedded import DEFAULT_BENCHMARK, EMBEDDED_BENCHMARKS
    from robbench_plugin.loader import EMBEDDED

    ap.add_argument("--benchmark", default=DEFAULT_BENCHMARK, choices=sorted(EMBEDDED))
    ap.add_argument("--build", default=None, help="default: the benchmark's build archive in data/ "
                    "(robbench_plugin.embedded names it)")
    ap.add_argument("--report", default=None, help="default: docs/<benchmark>-report")
    ap.add_argument("--dry-run", action="store_true",
                    help="check an unfinished build: write to a temporary file, not the package")
    args = ap.parse_args(argv)
    name = args.benchmark
    spec = EMBEDDED_BENCHMARKS[name]
    build = args.build or str(ROOT / "data" / spec.build)
    report = args.report or str(ROOT / "docs" / f"{name}-report")

    import tempfile

    from robbench_plugin.build_table import table_from_build
    from robbench_plugin.loader import forget_loaded_tables, load_benchmark
    from robbench_plugin.objective import Benchmark
    from robbench_plugin.report import write_report
    from robbench_plugin.table import Table

    from robbench_plugin.errors import DataFileError

    try:
        table = table_from_build(build, require_complete=not args.dry_run, name=spec.dataset)
    except DataFileError as exc:  # unfinished, or not a build
        print(f"package_embedded: {exc}", file=sys.stderr)
        return 1
    target = Path(tempfile.mkdtemp()) / EMBEDDED[name] if args.dry_run else DATA / EMBEDDED[name]
    table.save(target, float32=True)
    size = target.stat().st_size
    print(f"wrote {target} ({size / 1e6:.2f} MB)")
    if size > MAX_BYTES:
        target.unlink()
        print(f"too large: {size} > {MAX_BYTES} bytes; removed", file=sys.stderr)
        return 1
    forget_loaded_tables()
    shipped = Benchmark(Table.load(target), spec.dataset, name=name) if args.dry_run else load_benchmark(name)
    built = Benchmark(table, spec.dataset)
    metrics = ["clean", "robust", "params", "flops"]
    a, b = shipped.to_frame(metrics), built.to_frame(metrics)
    worst = float(np.nanmax(np.abs(a[b.columns[-len(metrics):]].to_numpy() - b[b.columns[-len(metrics):]].to_numpy())))
    print(f"{len(a)} classes; largest difference to the build after float32 storage: {worst:.2e}")
    if (len(a) != 6466 and not args.dry_run) or worst > 1e-6:
        print("the shipped table does not reproduce the build", file=sys.stderr)
        return 1
    figures = write_report(shipped, report)
    for key in ("robust_p5_p95_span", "tau_clean_robust", "seed_noise_ratio", "conv_into_output_top5",
                "conv_into_output_all"):
        print(f"{key}: {figures[key]:.4f}")
    failed = [k for k, ok in figures["checks"].items() if not ok]
    if failed:
        print(f"quality thresholds not met: {failed}", file=sys.stderr)
        return 1
    print(f"all thresholds met; report in {report}")
    if args.dry_run:
        return 0
    return ship_surrogate(shipped, name)


def ship_surrogate(bench, name: str) -> int:
    """Fit the default surrogate (``load_benchmark(name, mode="surrogate")``) on the shipped
    table and ship it too when it is <= 5 MB (``SHIPPED_SURROGATES`` names its file)."""
    import time

    from robbench_plugin.surrogate import SHIPPED_SURROGATES, SurrogateModel

    if name not in SHIPPED_SURROGATES:
        print(f"no shipped surrogate file is named for {name} (surrogate.cache.SHIPPED_SURROGATES)")
        return 0
    target = DATA / SHIPPED_SURROGATES[name]
    t = time.perf_counter()
    model = SurrogateModel.fit(bench)
    model.save(target, fit_kwargs={})
    size = target.stat().st_size
    print(f"surrogate of {model.metrics} fitted in {time.perf_counter() - t:.0f} s: {target} ({size / 1e6:.2f} MB)")
    if size > MAX_SURROGATE_BYTES:
        target.unlink()
        print("surrogate too large to ship; removed (it is fitted once on first use instead)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
