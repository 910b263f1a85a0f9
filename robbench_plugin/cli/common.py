"""What every command of the ``robbench`` command line shares: the parser class whose errors are one
line, the help that shows defaults, the benchmark options, and turning OS errors about the paths a
user gave into the package's error naming the option."""
from __future__ import annotations

import argparse
import contextlib
from pathlib import Path
from typing import Callable, Iterator, NoReturn

from .. import cli_args as va
from ..costs import DATASET_SPECS
from ..errors import InvalidValueError, UserPathError


class Parser(argparse.ArgumentParser):
    """An argparse parser whose errors are one line ``<prog>: error: <message>`` and exit 2 (the
    usage stays in ``--help``)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


class Help(argparse.ArgumentDefaultsHelpFormatter):
    """Help that shows each option's default, where it has one."""

    def _get_help_string(self, action: argparse.Action) -> str:
        if action.default in (None, False) or action.default is argparse.SUPPRESS:
            return action.help or ""
        return super()._get_help_string(action)


# command(name, help) -> the sub-parser of a new command (see robbench_plugin.cli.make_parser)
AddCommand = Callable[[str, str], argparse.ArgumentParser]


def add_bench_args(p: argparse.ArgumentParser) -> None:
    """--benchmark, --dataset, --data-dir and --table-seed: which benchmark a command reads."""
    from ..loader import BENCHMARKS, DEFAULT_BENCHMARK

    p.add_argument("--benchmark", default=DEFAULT_BENCHMARK, choices=[*BENCHMARKS, "build"],
                   help="an embedded benchmark, the downloaded release, or a build of robbench build")
    p.add_argument("--dataset", default=None, choices=list(DATASET_SPECS),
                   help="dataset of the benchmark (default: an embedded benchmark's own, cifar10 for nas-robbench-201)")
    p.add_argument("--data-dir", default=None, type=va.in_path,
                   help="release files (nas-robbench-201; default <ROBBENCH_HOME>/nas-robbench-201) or a build "
                        "directory or archive (build)")
    p.add_argument("--table-seed", default="mean",
                   help="the table's training-seed label whose values are used, or mean|std over the seeds")


def parse_arch(text: str):
    """CLI form of an arch: an NB201 index (digits only) or an NB201 string."""
    return int(text) if text.isdigit() else text


def bench_of(args: argparse.Namespace):
    """The benchmark the command's options name."""
    from ..loader import load_benchmark

    name = getattr(args, "name", None) or args.benchmark
    return load_benchmark(name, dataset=args.dataset, data_dir=args.data_dir)


def check_table_seed(bench, args: argparse.Namespace) -> None:
    """--table-seed against the benchmark's seed labels (before any work)."""
    if args.table_seed not in bench.seeds:
        raise InvalidValueError(f"--table-seed {args.table_seed!r} is not a seed of {bench.name}/{bench.dataset}; "
                                f"valid: {', '.join(bench.seeds)}")


# the options whose values are paths the user gave (an OS error about one of them is the user's to fix)
PATH_OPTIONS = ("out", "data_dir", "data_root", "dest", "table", "plot", "checkpoint_dir", "store", "from")


@contextlib.contextmanager
def user_paths(args: argparse.Namespace) -> Iterator[None]:
    """Turn an OS error about a path of one of the command's path options (:data:`PATH_OPTIONS`): the
    path itself, one under it, or a parent of it that could not be created, into a
    :class:`UserPathError` naming the option; any other OS error passes unchanged."""
    given = {}
    for name in PATH_OPTIONS:
        value = getattr(args, name, None)
        if isinstance(value, (str, Path)) and "://" not in str(value):
            given[name] = Path(value).expanduser().absolute()
    try:
        yield
    except OSError as exc:
        for filename in (exc.filename, getattr(exc, "filename2", None)):
            if filename is None:
                continue
            path = Path(str(filename)).expanduser().absolute()
            for name, root in given.items():
                if path == root or root in path.parents or path in root.parents:
                    option = "--" + name.replace("_", "-")
                    raise UserPathError(f"{option} {str(getattr(args, name))!r}: {exc.strerror or exc} "
                                        f"({path})") from exc
        raise
