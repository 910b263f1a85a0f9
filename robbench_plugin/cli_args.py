"""Validators for the command line's option values (argparse ``type=`` functions and checks).

Each validator either returns the parsed value or raises :class:`argparse.ArgumentTypeError`
with a message that states the valid range; argparse prefixes the option's name, and the
``robbench`` parser prints it as one line ``robbench <command>: error: argument --x: ...`` and
exits 2. Paths are checked without creating anything, so a refused command leaves no trace.
"""
from __future__ import annotations

import argparse
import os
import re
from pathlib import Path
from typing import Callable

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_CONSTRAINT = re.compile(rf"^\s*([A-Za-z_][\w.]*)\s*<=\s*({_NUMBER})\s*$")


def int_at_least(low: int) -> Callable[[str], int]:
    """An integer >= ``low``, written in ASCII digits (with an optional sign) and nothing else: int()
    would also take surrounding whitespace, underscores and other scripts' digits."""
    def parse(text: str) -> int:
        try:
            if not re.fullmatch(r"[-+]?[0-9]+", text):
                raise ValueError(text)
            value = int(text, 10)
        except (TypeError, ValueError):
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer; valid: an integer >= {low}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"{value} is out of range; valid: an integer >= {low}")
        return value

    parse.__name__ = f"integer >= {low}"
    return parse


def fractions(text: str) -> list[float]:
    """Comma-separated fractions, each strictly between 0 and 1 (e.g. ``0.1,0.5``)."""
    out = []
    for item in text.split(","):
        try:
            value = float(item)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{item!r} is not a number; valid: comma-separated fractions in "
                                             "(0, 1), e.g. 0.1,0.5") from None
        if not 0 < value < 1:
            raise argparse.ArgumentTypeError(f"{value} is out of range; valid: fractions in (0, 1)")
        out.append(value)
    return out


def name_list(text: str) -> list[str]:
    """Comma-separated non-empty names (``clean,robust``)."""
    items = [s.strip() for s in text.split(",")]
    if not text.strip() or any(not s for s in items):
        raise argparse.ArgumentTypeError(f"{text!r} has an empty name; valid: comma-separated names, e.g. clean,robust")
    if len(set(items)) != len(items):
        raise argparse.ArgumentTypeError(f"{text!r} names something twice")
    return items


def task_list(text: str) -> list[str]:
    """Semicolon-separated tasks ``benchmark[/dataset]:objective,objective`` (the form of each is
    checked by :func:`robbench_plugin.compare.parse_task`): none empty, none twice."""
    items = [s.strip() for s in text.split(";")]
    if not text.strip() or any(not s for s in items):
        raise argparse.ArgumentTypeError(f"{text!r} has an empty task; valid: tasks separated by ';', each "
                                         "benchmark[/dataset]:objective,objective, e.g. digits:clean,robust")
    if len(set(items)) != len(items):
        raise argparse.ArgumentTypeError(f"{text!r} names a task twice")
    for item in items:
        where, sep, objectives = item.partition(":")
        if not where or not sep or any(not o.strip() for o in objectives.split(",")):
            raise argparse.ArgumentTypeError(f"{item!r} is not a task; valid: benchmark[/dataset]:objective,objective, "
                                             "e.g. digits:clean,robust")
    return items


def constraint(text: str) -> tuple[str, float]:
    """``METRIC<=BOUND`` with a finite number as bound (e.g. ``params<=0.5``)."""
    m = _CONSTRAINT.match(text)
    if m is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not METRIC<=BOUND with a number as bound, e.g. params<=0.5")
    bound = float(m.group(2))
    if bound != bound or bound in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"{text!r}: the bound must be a finite number")
    return m.group(1), bound


def _nearest_existing(path: Path) -> Path:
    path = path.absolute()
    while not path.exists():
        path = path.parent
    return path


def _writable_below(path: Path, text: str) -> None:
    base = _nearest_existing(path)
    if not base.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} cannot be created: {base} is a file, not a directory")
    if not os.access(base, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError(f"{text!r} cannot be created: {base} is not writable")
    # os.access answers for the permission bits only (root passes them everywhere); a folder that
    # refuses new entries all the same (/proc, /sys, a read-only mount) is found by making one
    import tempfile

    try:
        probe = tempfile.mkdtemp(prefix=".robbench-probe-", dir=base)
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} cannot be created: {base} takes no new folder "
                                         f"({exc.strerror or exc})") from None
    os.rmdir(probe)


def out_dir(text: str) -> str:
    """A directory that exists or can be created (nothing is created now)."""
    if not text:
        raise argparse.ArgumentTypeError("an empty path; valid: a directory path")
    path = Path(text).expanduser()
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} exists and is not a directory")
    _writable_below(path, text)
    return str(path)


def out_file(text: str) -> str:
    """A file path that can be written (its directory exists or can be created)."""
    if not text:
        raise argparse.ArgumentTypeError("an empty path; valid: a file path")
    path = Path(text).expanduser()
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a directory; valid: a file path")
    _writable_below(path.parent, text)
    return str(path)


def out_path(text: str) -> str:
    """A file or directory path that can be written (whether it must be a file or a folder is the
    command's to check, e.g. by format)."""
    if not text:
        raise argparse.ArgumentTypeError("an empty path; valid: a file or directory path")
    path = Path(text).expanduser()
    _writable_below(path if path.is_dir() else path.parent, text)
    return str(path)


def in_file(text: str) -> str:
    """A file that exists."""
    if not Path(text).expanduser().is_file():
        raise argparse.ArgumentTypeError(f"{text!r} is not an existing file")
    return str(Path(text).expanduser())


def in_path(text: str) -> str:
    """A file or directory that exists."""
    if not text or not Path(text).expanduser().exists():
        raise argparse.ArgumentTypeError(f"{text!r} does not exist")
    return str(Path(text).expanduser())


def storage_url(text: str) -> str:
    """An SQLAlchemy database URL (``sqlite:///study.db``, ``postgresql://user@host/db``...); for
    SQLite, the database file's folder must exist or be creatable."""
    try:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError
    except ImportError:
        raise argparse.ArgumentTypeError("a storage URL needs SQLAlchemy: pip install 'robbench-plugin[optuna]'") \
            from None

    try:
        url = make_url(text)
    except (ArgumentError, ValueError) as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a database URL ({exc}); valid: e.g. "
                                         "sqlite:///study.db or postgresql://user@host/db") from None
    from sqlalchemy.exc import NoSuchModuleError

    try:
        url.get_dialect()
    except NoSuchModuleError:
        raise argparse.ArgumentTypeError(f"{text!r}: no database driver {url.drivername!r} is installed; valid: e.g. "
                                         "sqlite:///study.db or postgresql://user@host/db (with psycopg)") from None
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        if database in ("", ":memory:"):
            raise argparse.ArgumentTypeError(f"{text!r} is an in-memory database, which other workers cannot share; "
                                             "valid: sqlite:///path/to/file.db")
        _writable_below(Path(database).expanduser().parent, text)
    return text


DEVICE = re.compile(r"^(auto|cpu|mps|cuda(?::\d+)?)$")


def device(text: str) -> str:
    """``auto``, ``cpu``, ``cuda``, ``cuda:N`` or ``mps`` (availability is checked by the command)."""
    if not DEVICE.match(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a device; valid: auto, cpu, cuda, cuda:N, mps")
    return text


def results_store(text: str) -> str:
    """The live results store: a database URL (``sqlite:///live.db``, ``postgresql+psycopg://...``)
    or a directory (SQLite ``live.db`` in it)."""
    if "://" in text:
        return storage_url(text)
    return out_dir(text)


def gpus_per_run(text: str) -> float:
    """GPUs each run asks Ray for: a number in [0, 8] (0.25 = four runs share a GPU)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number; valid: a number of GPUs in [0, 8], "
                                         "e.g. 0.25") from None
    if not 0 <= value <= 8:
        raise argparse.ArgumentTypeError(f"{text!r} is outside [0, 8]; valid: a number of GPUs in [0, 8], e.g. 0.25")
    return value
