"""A table that lacks classes (a build stopped part-way) answers queries for the classes it has,
and a search or a comparison over the whole space on it is refused before any work, with one
line naming what to do; it is not `complete`, while the shipped tables and a surrogate are."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from robbench_plugin.build_table import opened_build, table_from_build
from robbench_plugin.errors import InvalidValueError
from robbench_plugin.objective import Benchmark
from robbench_plugin.problem import ProblemSpec

DIGITS_BUILD = Path(__file__).resolve().parents[1] / "data" / "digits-v1.build.tar.xz"


@pytest.fixture(scope="module")
def partial_build(tmp_path_factory):
    """The shipped digits build cut to its first 120 runs: a build stopped part-way."""
    out = tmp_path_factory.mktemp("partial") / "build"
    (out / "shards").mkdir(parents=True)
    with opened_build(DIGITS_BUILD) as src:
        shutil.copy(src / "manifest.json", out / "manifest.json")
        lines = []
        for shard in sorted((src / "shards").glob("*.jsonl")):
            lines += shard.read_text().splitlines()
    (out / "shards" / "part.jsonl").write_text("\n".join(lines[:120]) + "\n")
    return out


def test_a_partial_build_is_not_complete_and_answers_the_classes_it_has(partial_build, digits):
    bench = Benchmark(table_from_build(partial_build), "digits", name="build")
    records = [json.loads(line) for line in (partial_build / "shards" / "part.jsonl").read_text().splitlines()]
    uids = {r["uid"] for r in records}
    assert len(bench.uids) == len(uids) < 6466 and set(bench.uids.tolist()) == uids
    assert not bench.complete and digits.complete
    first = records[0]
    assert bench.query(first["uid"], "robust", seed=str(first["seed"])) == first["epochs"][-1]["val_pgd_48.0_acc"]


def test_a_problem_over_the_space_of_a_partial_table_is_refused(partial_build, digits):
    bench = Benchmark(table_from_build(partial_build), "digits", name="build")
    with pytest.raises(InvalidValueError, match=rf"has values for {len(bench.uids)} of the 6466 classes.*surrogate"):
        ProblemSpec(bench, objectives=["clean", "robust"])
    assert ProblemSpec(digits, objectives=["clean", "robust"]).metrics  # the whole table: fine


@pytest.mark.parametrize("command", [["search", "--trials", "5"], ["compare", "--budget", "5", "--n-seeds", "1",
                                                                     "--searchers", "random", "--workers", "1"]])
def test_search_and_compare_refuse_a_partial_build_before_writing(partial_build, tmp_path, command):
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "robbench_plugin.cli", *command, "--benchmark", "build",
                           "--data-dir", str(partial_build), "--out", str(out)], capture_output=True, text=True,
                          timeout=300)
    err = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(err) == 1, proc.stderr
    assert err[0].startswith(f"robbench {command[0]}: error: ") and "of the 6466 classes" in err[0]
    assert "--mode surrogate" in err[0] and not out.exists()


def test_syne_tune_grid_of_a_partial_build_is_refused_before_any_work(partial_build):
    from robbench_plugin.grid import benchmark_grid

    bench = Benchmark(table_from_build(partial_build), "digits", name="build")
    with pytest.raises(InvalidValueError, match="a grid of every cell"):
        benchmark_grid(bench)
