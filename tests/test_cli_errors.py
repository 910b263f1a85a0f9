"""Every bad command line of tests/data/bad_cli_inputs.txt ends in one error line
``robbench <command>: error: ...`` and exit status 2, with no traceback and nothing written."""
from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from robbench_plugin.cli import main

LINES = [line for line in (Path(__file__).parent / "data" / "bad_cli_inputs.txt").read_text().splitlines()
         if line.strip() and not line.startswith("#")]


def bad_argv(line: str, tmp: Path, release: Path) -> list[str]:
    (tmp / "afile").write_text("not a directory, not a CSV of proxies\x00")
    return [a.format(tmp=tmp, file=tmp / "afile", release=release) for a in shlex.split(line)]


@pytest.mark.parametrize("line", LINES)
def test_bad_command_line_is_one_clean_error(line, tmp_path, fixture_release, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv = bad_argv(line, tmp_path, fixture_release)
    before = sorted(p.name for p in tmp_path.rglob("*"))
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith(f"robbench {argv[0]}: error: "), err
    assert "Traceback" not in err[0]
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # nothing half-written
    words = shlex.split(line)
    for option, value in zip(words, words[1:]):
        if "/proc/forbidden" in value:  # a parent that cannot be created: the line names the option
            assert f"argument {option}:" in err[0], err[0]


def test_an_os_error_about_a_parent_of_a_path_option_names_the_option(tmp_path):
    """A folder above --out that could not be created (the error names the parent, not --out) is
    the user's path error, naming --out; an error about an unrelated path is not."""
    import argparse
    import errno

    from robbench_plugin.cli.common import user_paths
    from robbench_plugin.errors import UserPathError

    args = argparse.Namespace(out=str(tmp_path / "a" / "b" / "c"))
    with pytest.raises(UserPathError, match=r"^--out .*c': No such file or directory"):
        with user_paths(args):
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", str(tmp_path / "a"))
    with pytest.raises(FileNotFoundError):
        with user_paths(args):
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", str(tmp_path / "elsewhere"))


def test_the_list_covers_every_command():
    commands = {shlex.split(line)[0] for line in LINES}
    assert commands >= {"search", "compare", "proxies", "surrogate-eval", "top", "query", "export", "train", "build",
                        "build-status", "download", "report"}


def test_an_internal_bug_shows_its_traceback_and_exit_1(monkeypatch, capsys):
    """A failure that is not a bad input (here a ZeroDivisionError, and a ValueError from inside
    the package, which the old catch-all turned into a one-line exit 2) is not dressed as the
    user's error: the traceback is shown with a line asking to report it, exit status 1."""
    from robbench_plugin.cli import tables

    for exc in (ZeroDivisionError("division by zero"), ValueError("an internal shape mismatch")):
        def broken(args, exc=exc):
            raise exc

        monkeypatch.setattr(tables, "run_query", broken)
        code = main(["query", "1000"])
        err = capsys.readouterr().err
        assert code == 1
        assert "Traceback (most recent call last)" in err and str(exc) in err
        assert err.strip().splitlines()[-1].startswith("robbench query: internal error")
        assert "bug of robbench-plugin" in err


def test_an_os_error_about_a_user_path_names_the_option(tmp_path, monkeypatch, capsys):
    """An OS error about a path the user gave (here writing into --out fails with ENOSPC) is one line
    naming the option and the path, exit 2; the same error about another path is a bug (exit 1)."""
    import errno

    from robbench_plugin.cli import tables

    out = tmp_path / "x.csv"

    def full_disk(args, path=str(out)):
        raise OSError(errno.ENOSPC, "No space left on device", path)

    monkeypatch.setattr(tables, "run_export", full_disk)
    code = main(["export", "--format", "csv", "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert err[0].startswith("robbench export: error: --out") and "No space left on device" in err[0]

    def elsewhere(args):
        raise OSError(errno.EACCES, "Permission denied", "/somewhere/the/package/chose")

    monkeypatch.setattr(tables, "run_export", elsewhere)
    assert main(["export", "--format", "csv", "--out", str(out)]) == 1
    assert "Traceback" in capsys.readouterr().err


def test_output_cut_short_by_its_reader_ends_quietly():
    """`robbench top -n 6466 | head -1`: the reader closes the pipe after one line; the command
    stops with exit status 141 (as a program killed by SIGPIPE) and writes nothing to stderr,
    instead of a traceback calling it a bug."""
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "robbench_plugin.cli", "top", "-n", "6466"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout.readline()  # the header
    proc.stdout.close()  # the reader goes away long before 6466 rows are written
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141 and err == "", err
