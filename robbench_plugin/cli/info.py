"""``robbench info`` (the package, benchmarks and extras) and ``robbench download`` (the release)."""
from __future__ import annotations

import argparse
import importlib.util

from .. import cli_args as va
from .common import AddCommand

# what `robbench info` reports: (label, importable module names (any one), extra)
EXTRAS = (("torch", ("torch",), "train"), ("scikit-learn", ("sklearn",), "train"), ("optuna", ("optuna",), "optuna"),
          ("optunahub", ("optunahub",), "optuna"), ("syne-tune", ("syne_tune",), "syne-tune"),
          ("lightgbm", ("lightgbm",), "surrogate"), ("autoattack", ("pyautoattack", "autoattack"), "autoattack"),
          ("ray", ("ray",), "distributed"), ("matplotlib", ("matplotlib",), "report"))


def register(command: AddCommand) -> None:
    s = command("info", "package, benchmarks and extras available")
    s.set_defaults(func=run_info)

    s = command("download", "fetch the NAS-RobBench-201 release or Fashion-MNIST into ROBBENCH_HOME (checked "
                            "before it lands, resumable)")
    s.add_argument("what", nargs="?", default="nas-robbench-201", choices=["nas-robbench-201", "fashion-mnist"],
                   help="the release (from Google Drive) or Fashion-MNIST's four IDX files (from the official site)")
    s.add_argument("--from", default=None, metavar="PATH|URL",
                   help="local copy or mirror instead of the default source")
    s.add_argument("--dest", default=None, type=va.out_dir,
                   help="target directory (default <ROBBENCH_HOME>/nas-robbench-201 or <ROBBENCH_HOME>/fashion-mnist)")
    s.add_argument("--force", action="store_true",
                   help="fetch again even if a valid copy is present (an invalid copy is always replaced)")
    s.set_defaults(func=run_download)


def run_info(args: argparse.Namespace) -> int:
    from .._version import __version__
    from ..embedded import DEFAULT_BENCHMARK, EMBEDDED_BENCHMARKS
    from ..loader import embedded_available
    from ..paths import home, release_dir
    from ..release import RELEASE_FILES
    from ..space import NUM_ARCHS, NUM_UNIQUE

    print(f"robbench-plugin {__version__}")
    print(f"search space: NAS-Bench-201, {NUM_ARCHS} cells, {NUM_UNIQUE} isomorphism classes")
    print(f"home: {home()} (set ROBBENCH_HOME to move it)")
    print("benchmarks:")
    for name, spec in EMBEDDED_BENCHMARKS.items():
        default = " (the default)" if name == DEFAULT_BENCHMARK else ""
        state = "installed" if embedded_available(name) else "not built in this installation"
        print(f"  {name:<17} embedded: {state}{default}; recipe {spec.recipe}, table {spec.table_file}")
        print(f"  {'':<17} {spec.summary}")
    rd = release_dir()
    have = all((rd / f).is_file() for f in RELEASE_FILES)
    print(f"  nas-robbench-201  release files in {rd}: {'present' if have else 'absent (robbench download)'}")
    print("extras:")
    for label, modules, extra in EXTRAS:
        ok = any(importlib.util.find_spec(m) is not None for m in modules)
        print(f"  {label:<12} {'yes' if ok else 'no '}  (extra '{extra}')")
    return 0


def run_download(args: argparse.Namespace) -> int:
    from ..download import download_release

    bars: dict = {}

    def progress(name: str, done: int, total: int | None) -> None:
        from tqdm.auto import tqdm

        if name not in bars:
            bars[name] = tqdm(total=total, unit="B", unit_scale=True, desc=name)
        bars[name].n = done
        bars[name].refresh()

    if args.what == "fashion-mnist":
        from ..fashion_mnist import download

        sums = download(args.dest, source=getattr(args, "from"), progress=progress)
    else:
        sums = download_release(args.dest, source=getattr(args, "from"), force=args.force, progress=progress)
    for bar in bars.values():
        bar.close()
    for name, sha in sums.items():
        print(f"{sha}  {name}")
    return 0
