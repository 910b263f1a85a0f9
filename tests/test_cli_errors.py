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


def test_the_list_covers_every_command():
    commands = {shlex.split(line)[0] for line in LINES}
    assert commands >= {"search", "compare", "proxies", "surrogate-eval", "top", "query", "export", "train", "build",
                        "download", "report"}
