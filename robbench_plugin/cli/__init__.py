"""The ``robbench`` command line: info, download, query, top, export, search, compare, report,
surrogate-eval, proxies, train, build, build-status.

Each command's parser sits beside its handler in a module of this package (:mod:`.info`,
:mod:`.tables`, :mod:`.search`, :mod:`.compare`, :mod:`.analyses`, :mod:`.training`); this module
assembles them. Every option value is checked before any work starts (see
:mod:`robbench_plugin.cli_args`).

Outcomes: 0 on success (``--help`` and ``--version`` too). A bad input — an option value, a file
that is not what it should be, a path the user gave that cannot be read or written — is one line
``robbench <command>: error: ...`` naming it, exit status 2, nothing written: the package's own
errors (:class:`~robbench_plugin.errors.RobBenchError`) and an unreachable database named by a
storage URL. Output cut short by its reader (``robbench top | head -3``) ends quietly with exit
status 141, as a program killed by SIGPIPE. Anything else is a bug of the package: its traceback is
shown, then a line asking to report it, exit status 1.
"""
from __future__ import annotations

import argparse
import sys
import traceback
import warnings
from typing import Sequence

from ..errors import RobBenchError
from ..framework_noise import quiet_framework_warnings
from . import analyses, compare, info, search, tables, training
from .common import Help, Parser, user_paths

COMMAND_MODULES = (info, tables, search, analyses, compare, training)


def make_parser() -> argparse.ArgumentParser:
    """The whole command line: every command module registers its commands."""
    from .._version import __version__

    p = Parser(prog="robbench", description="NAS-RobBench-201 for Optuna, Syne Tune and NASLib.", formatter_class=Help)
    p.add_argument("--version", action="version", version=f"robbench-plugin {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help, description=help, formatter_class=Help)

    for module in COMMAND_MODULES:
        module.register(command)
    return p


def _fail(command: str, message: str) -> int:
    print(f"robbench {command}: error: {message}", file=sys.stderr)
    return 2


def _is_unreachable_database(exc: BaseException) -> bool:
    """A database that a storage URL names and that cannot be reached (SQLAlchemy's operational and
    interface errors): the user's to fix, like a path."""
    if type(exc).__module__.split(".")[0] != "sqlalchemy":
        return False
    import sqlalchemy.exc as sa_exc

    return isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.ArgumentError,
                            sa_exc.NoSuchModuleError))


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command and return its exit status (see the module doc)."""
    try:
        args = make_parser().parse_args(argv)
    except SystemExit as exc:  # argparse: a bad option value (2), or --help/--version (0)
        return int(exc.code or 0)
    try:
        with user_paths(args), warnings.catch_warnings():
            quiet_framework_warnings()
            return int(args.func(args) or 0)
    except RobBenchError as exc:
        return _fail(args.command, str(exc))
    except KeyboardInterrupt:
        print(f"robbench {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader of our output went away (`robbench top | head -3`): stop quietly, as a program
        # killed by SIGPIPE does; stdout goes to devnull so that flushing it at exit cannot fail again
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except Exception as exc:
        if _is_unreachable_database(exc):
            return _fail(args.command, f"storage: {str(exc).splitlines()[0]}")
        traceback.print_exc()
        print(f"robbench {args.command}: internal error ({type(exc).__name__}): this is a bug of robbench-plugin; "
              "please report it to the project's issue tracker with the traceback above", file=sys.stderr)
        return 1

