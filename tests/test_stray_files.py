"""Nothing is written outside ``--out`` and ROBBENCH_HOME: every CLI command and every example runs
in a subprocess whose HOME and working directory are empty temporary folders, and both must still
be empty afterwards (Syne Tune's ``~/syne-tune`` and ``std.out``, journal logs, plots...)."""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .helpers import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    any(importlib.util.find_spec(m) is None for m in ("optuna", "syne_tune", "torch", "lightgbm", "matplotlib")),
    reason="needs the extras of README's test install")]


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def _run(argv: list[str], home: Path, cwd: Path, rb_home: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("SYNETUNE_FOLDER", "MPLCONFIGDIR", "XDG_CACHE_HOME",
                                                             "XDG_CONFIG_HOME", "XDG_DATA_HOME")}
    env.update(HOME=str(home), ROBBENCH_HOME=str(rb_home), OMP_NUM_THREADS="1", PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def _example(name: str, call: str) -> list[str]:
    code = (f"import importlib.util; spec = importlib.util.spec_from_file_location('ex', {str(ROOT / 'examples' / name)!r}); "
            f"mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod); mod.main({call})")
    return [sys.executable, "-c", code]


def test_commands_and_examples_write_only_under_out_and_robbench_home(tmp_path, synthetic_release):
    home, cwd, rb_home, out = (tmp_path / n for n in ("home", "cwd", "robbench_home", "out"))
    for d in (home, cwd, rb_home, out):
        d.mkdir()
    rb = [sys.executable, "-m", "robbench_plugin.cli"]
    runs = {
        "info": rb + ["info"],
        "version": rb + ["--version"],
        "query": rb + ["query", "1000"],
        "top": rb + ["top", "-n", "3"],
        "pareto": rb + ["top", "--pareto", "clean,robust"],
        "export": rb + ["export", "--format", "parquet", "--out", str(out / "x.parquet")],
        "search": rb + ["search", "--trials", "10", "--out", str(out / "search")],
        "search-surrogate": rb + ["search", "--trials", "5", "--mode", "surrogate", "--out", str(out / "ss")],
        "compare": rb + ["compare", "--searchers", "random,optuna:tpe,syne-tune:moasha,syne-tune:morea",
                         "--budget", "5", "--n-seeds", "1", "--workers", "1", "--out", str(out / "compare")],
        "report": rb + ["report", "--out", str(out / "report")],
        "surrogate-eval": rb + ["surrogate-eval", "--fractions", "0.5", "--splits", "1", "--n-models", "1",
                                "--metrics", "robust", "--out", str(out / "se.csv")],
        "proxies": rb + ["proxies", "--n", "3", "--batch", "4", "--no-naslib", "--out", str(out / "p.csv"),
                         "--plot", str(out / "p.png")],
        "train": rb + ["train", "--arch", "1000", "--recipe", "tiny", "--epochs", "1", "--device", "cpu"],
        "build": rb + ["build", "digits", "--recipe", "tiny", "--limit", "1", "--workers", "1",
                       "--out", str(out / "build")],
        "build-status": rb + ["build-status", str(out / "build")],
        "download": rb + ["download", "--from", str(synthetic_release)],
        "example optuna_single_objective": _example("optuna_single_objective.py", "trials=5"),
        "example optuna_multiobjective_constrained": _example("optuna_multiobjective_constrained.py", "trials=5"),
        "example optuna_pruning": _example("optuna_pruning.py", "trials=10"),
        "example optuna_parallel_workers": _example("optuna_parallel_workers.py", "['--workers', '2', '--trials', '6']"),
        "example optuna_live": _example("optuna_live.py", "trials=1, recipe='tiny'"),
        "example syne_tune_simulated": _example("syne_tune_simulated.py", "schedulers=('asha', 'moasha'), trials=5"),
        "example syne_tune_live": _example("syne_tune_live.py", "trials=1, workers=1, recipe='tiny', "
                                                                "max_wallclock_time=300"),
    }
    failed = {}
    for name, argv in runs.items():
        proc = _run(argv, home, cwd, rb_home)
        if proc.returncode != 0:
            failed[name] = proc.stderr[-2000:]
        assert _files(cwd) == [], f"{name} wrote into the working directory: {_files(cwd)}"
        assert _files(home) == [], f"{name} wrote into HOME: {_files(home)}"
    assert failed == {}
    # and what they were asked to write is there
    assert (out / "search" / "summary.json").is_file() and (out / "compare" / "summary.md").is_file()
    assert (rb_home / "nas-robbench-201" / "checksums.json").is_file()
