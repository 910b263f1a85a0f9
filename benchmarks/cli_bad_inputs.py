"""How many bad command lines (tests/data/bad_cli_inputs.txt) end cleanly: exit status 2, exactly one
line on stderr starting ``robbench <command>: error:``, no traceback, nothing new in the working
directory. Each runs in a subprocess, so another source tree can be measured too.

    python benchmarks/cli_bad_inputs.py                       # this checkout
    python benchmarks/cli_bad_inputs.py --src OLD_TREE --old-names   # e.g. a git worktree of an older commit

``--old-names`` maps the options renamed since (--n-seeds -> --seeds, --table-seed -> --seed).
"""
from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--src", default=str(ROOT), help="source tree whose robbench_plugin runs")
    ap.add_argument("--old-names", action="store_true")
    ap.add_argument("--release", default=None, help="a release directory for the lines that name {release}")
    ap.add_argument("--timeout", type=float, default=60, help="seconds before a command counts as doing work")
    a = ap.parse_args()
    lines = [x for x in (ROOT / "tests" / "data" / "bad_cli_inputs.txt").read_text().splitlines()
             if x.strip() and not x.startswith("#")]
    clean = 0
    for line in lines:
        with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryDirectory() as home:
            tmp_path = Path(tmp)
            (tmp_path / "afile").write_text("not a directory, not a CSV of proxies\x00")
            argv = [x.format(tmp=tmp, file=tmp_path / "afile", release=a.release or tmp) for x in shlex.split(line)]
            if a.old_names:
                argv = [{"--n-seeds": "--seeds", "--table-seed": "--seed"}.get(x, x) for x in argv]
            before = sorted(p.name for p in tmp_path.rglob("*"))
            env = {**os.environ, "PYTHONPATH": a.src, "ROBBENCH_HOME": home, "HOME": home}
            try:
                proc = subprocess.run([sys.executable, "-m", "robbench_plugin.cli", *argv], cwd=tmp, env=env,
                                      capture_output=True, text=True, timeout=a.timeout)
            except subprocess.TimeoutExpired:  # it went on to do the work
                print(f"NOT CLEAN: {line}  (still running after {a.timeout:.0f} s)", flush=True)
                continue
            err = proc.stderr.strip().splitlines()
            ok = (proc.returncode == 2 and len(err) == 1 and err[0].startswith(f"robbench {argv[0]}: error:")
                  and sorted(p.name for p in tmp_path.rglob("*")) == before)
            clean += ok
            if not ok:
                print(f"NOT CLEAN: {line}  (exit {proc.returncode}; {err[-1][:150] if err else 'no stderr'})",
                      flush=True)
    print(f"{clean} of {len(lines)} bad command lines end in one clean error line")
    return 0


if __name__ == "__main__":
    sys.exit(main())
