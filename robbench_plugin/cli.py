"""The ``robbench`` command line."""
from __future__ import annotations

import argparse
import sys
from typing import Sequence


def _cmd_build(args: argparse.Namespace) -> int:
    from .train.builder import BuildPlan, build, build_status
    from .train.recipe import Recipe

    plan = BuildPlan(dataset=args.dataset, recipe=Recipe.preset(args.recipe or args.dataset))
    out = args.out
    n = build(out, plan, workers=args.workers, backend=args.backend, device=args.device,
              data_root=args.data_root, ray_address=args.ray_address, limit=args.limit)
    st = build_status(out, plan)
    print(f"trained {n} now; {st['done']}/{st['total']} done in {out}" + (" (complete)" if st["complete"] else ""))
    return 0


def make_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="robbench", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    b = sub.add_parser("build", help="train every architecture into a resumable build directory")
    b.add_argument("dataset", choices=["digits"], help="dataset to build a benchmark on")
    b.add_argument("--out", required=True, help="build directory (resumable)")
    b.add_argument("--recipe", default=None, help="recipe preset (default: the dataset's)")
    b.add_argument("--workers", type=int, default=2)
    b.add_argument("--backend", choices=["local", "ray"], default="local")
    b.add_argument("--ray-address", default=None)
    b.add_argument("--device", default="cpu")
    b.add_argument("--data-root", default=None)
    b.add_argument("--limit", type=int, default=None, help="train at most this many jobs now")
    b.set_defaults(func=_cmd_build)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
