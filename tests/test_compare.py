import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("optuna")
pytest.importorskip("matplotlib")

from robbench_plugin.compare import CompareSpec, available, compare  # noqa: E402
from robbench_plugin.space import Arch  # noqa: E402


def test_compare_runs_resumes_and_reports(tmp_path, synthetic_release, monkeypatch):
    import robbench_plugin.compare.spec as C

    # NASLib counts as not installed here, also in the NASLib environment
    monkeypatch.setitem(C.FRAMEWORK_PACKAGE, "naslib", "naslib_not_installed_in_this_test")
    searchers = ["random", "optuna:tpe", "naslib:re"]
    if available("syne-tune:morea")[0]:
        searchers.append("syne-tune:morea")
    cspec = CompareSpec("nas-robbench-201", "cifar10", str(synthetic_release), budget=25)
    lines = []
    summary = compare(searchers, 2, cspec, tmp_path / "c", workers=1, log=lines.append)
    assert any(line.startswith("skipping naslib:re") for line in lines)
    ev = pd.read_csv(tmp_path / "c" / "evaluations.csv")
    assert set(ev.searcher) == set(searchers) - {"naslib:re"}
    for (s, seed), r in ev.groupby(["searcher", "seed"]):
        assert r["evals"].max() <= 25 + 1e-9
        assert r["sim_time"].is_monotonic_increasing
    assert (summary.hv > 0).all() and (summary.hv <= 1 + 1e-9).all()
    assert ((summary["regret"] - (1 - summary["hv"])).abs() < 1e-12).all()
    assert ((summary.regret_lo <= summary.regret) & (summary.regret <= summary.regret_hi)).all()
    for name in ("summary.md", "regret_evals.png", "regret_time.pdf", "summary.csv", "summary.tex", "report.html"):
        assert (tmp_path / "c" / name).is_file()
    # values in the CSV are the table's
    from robbench_plugin import load_benchmark

    b = load_benchmark("nas-robbench-201", dataset="cifar10", data_dir=synthetic_release)
    row = ev.iloc[7]
    assert row["val_pgd_8.0_acc"] == pytest.approx(b.query(int(row["index"]), "robust"))
    # resumable: nothing to do the second time
    lines.clear()
    compare(searchers, 2, cspec, tmp_path / "c", workers=1, log=lines.append)
    assert any("0 runs to do" in line for line in lines)
    # finished runs of a framework that is not installed here (made elsewhere) are summarized
    from robbench_plugin.compare import read_run, run_path, write_run

    identity = json.loads((tmp_path / "c" / "comparison.json").read_text())
    for seed in range(2):
        rows = read_run(run_path(tmp_path / "c", "random", seed), identity, "random", seed)
        write_run(run_path(tmp_path / "c", "naslib:re", seed), rows.assign(searcher="naslib:re"), identity)
    lines.clear()
    summary2 = compare(searchers, 2, cspec, tmp_path / "c", workers=1, log=lines.append)
    assert any(line.startswith("using the finished runs of naslib:re") for line in lines)
    hv = summary2.set_index("searcher")["hv"]
    assert hv["naslib:re"] == pytest.approx(hv["random"])


def test_unknown_searcher():
    with pytest.raises(ValueError, match="searcher"):
        available("optuna:cmaes2")


COMPARE_IN_A_FRESH_PROCESS = """
from robbench_plugin.compare import CompareSpec, compare
compare({searchers!r}, 2, CompareSpec("digits", budget=15), {out!r}, workers=1, log=lambda line: None)
"""


@pytest.mark.slow
def test_same_comparison_twice_gives_identical_files(tmp_path):
    """Every searcher, Syne Tune's included, repeats exactly: the run files, evaluations.csv and
    summary.csv of the same comparison are byte-identical when made in two fresh processes whose
    hash seeds and global generator states differ."""
    pytest.importorskip("syne_tune")
    from .helpers import run_fresh

    searchers = ["random", "optuna:tpe", "optuna:nsga2", "syne-tune:moasha", "syne-tune:morea",
                 "syne-tune:moasha-ranked", "syne-tune:morea-ranked"]
    for name, seed in (("a", 1), ("b", 2)):
        run_fresh(COMPARE_IN_A_FRESH_PROCESS.format(searchers=searchers, out=str(tmp_path / name)),
                  hash_seed=seed, rng_seed=3 * seed)
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a" / "runs").glob("*.csv"))
    assert len(files) == 14
    for rel in files + [Path("evaluations.csv"), Path("summary.csv")]:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel


def test_compare_leaves_the_callers_global_generators_as_they_were(tmp_path):
    """Running a comparison in this process (workers=1) changes neither Python's nor NumPy's global
    generator state."""
    pytest.importorskip("syne_tune")
    import random

    random.seed(9)
    np.random.seed(9)
    py_state, np_state = random.getstate(), np.random.get_state()
    compare(["random", "optuna:tpe", "syne-tune:morea"], 1, CompareSpec("digits", budget=10), tmp_path / "c",
            workers=1, log=lambda line: None)
    assert random.getstate() == py_state
    after = np.random.get_state()
    assert (after[1] == np_state[1]).all() and after[2:] == np_state[2:]


def test_a_changed_setting_never_reuses_runs(tmp_path, capsys):
    """Runs are tied to the comparison's identity: another budget, objectives or table seed into the
    same folder is refused with a message (CLI: one error line, exit 2); the same settings resume."""
    from robbench_plugin.cli import main

    out = str(tmp_path / "c")
    base = ["compare", "--searchers", "random", "--n-seeds", "1", "--workers", "1", "--out", out]
    assert main(base + ["--budget", "10"]) == 0
    capsys.readouterr()
    for changed in (["--budget", "50"], ["--budget", "10", "--objectives", "clean,params"],
                    ["--budget", "10", "--table-seed", "0"]):
        assert main(base + changed) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "holds runs of another comparison" in err[0], err
    assert main(base + ["--budget", "10"]) == 0
    assert "0 runs to do" in capsys.readouterr().out


def test_runs_on_another_clock_are_not_reused(tmp_path, capsys):
    """A folder made when the simulated clock was another (here: the recorded seconds, as before
    the op-count model) holds runs whose ``sim_time`` this comparison would not reproduce: refused."""
    from robbench_plugin.cli import main

    out = tmp_path / "c"
    args = ["compare", "--searchers", "random", "--n-seeds", "1", "--workers", "1", "--budget", "10",
            "--out", str(out)]
    assert main(args) == 0
    identity = json.loads((out / "comparison.json").read_text())
    assert identity["clock"] == "op-count-model"
    (out / "comparison.json").write_text(json.dumps({**identity, "clock": "recorded"}))
    capsys.readouterr()
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert "holds runs of another comparison" in err and "clock" in err


def test_one_table_seed_for_every_searcher(tmp_path):
    """The values every searcher is scored on and searches on, Syne Tune's included, are those of
    the comparison's table seed ("mean" by default: for the 647 digits classes with three seeds it
    differs from seed "0", which Syne Tune's blackbox used to hold alone)."""
    pytest.importorskip("syne_tune")
    from robbench_plugin import load_benchmark
    from robbench_plugin.adapters.syne_tune import load_blackbox

    bench = load_benchmark("digits")
    bb = load_blackbox(bench, seeds=["mean"])
    assert bb.robbench_metadata["seeds"] == ["mean"]
    multi = int(bench.uids[~np.isnan(bench.query_many(bench.uids, ["robust"], seed="1")["val_pgd_48.0_acc"])][0])
    config = dict(zip([f"hp_x{i}" for i in range(6)], Arch.from_index(multi).ops))
    mean, seed0 = bench.query(multi, "robust", seed="mean", fidelity=8), bench.query(multi, "robust", seed="0", fidelity=8)
    assert mean != seed0
    assert bb.objective_function(config, {"hp_level": 4})["metric_robust_error"] == pytest.approx(1 - mean, abs=1e-6)
    compare(["random", "syne-tune:morea"], 1, CompareSpec("digits", budget=12), tmp_path / "m", workers=1,
            log=lambda line: None)
    ev = pd.read_csv(tmp_path / "m" / "evaluations.csv")
    for epoch, rows in ev.groupby("fidelity"):
        q = bench.query_many(rows["index"].to_numpy(), ["robust"], seed="mean", fidelity=int(epoch))
        assert np.allclose(rows["val_pgd_48.0_acc"].to_numpy(), q["val_pgd_48.0_acc"].to_numpy(), rtol=0, atol=1e-12)
    assert "table seed 'mean' (the mean over each class's training seeds)" in (tmp_path / "m" / "summary.md").read_text()


@pytest.mark.parametrize("objectives,searcher", [(("clean", "robust"), "random"),
                                                 (("robust", "params"), "optuna:tpe")])
def test_hv_curve_is_the_hypervolume_of_the_results_by_each_grid_value(objectives, searcher):
    """hv_curve against its definition, point by point: the hypervolume of the full-fidelity results
    whose ``evals`` (or simulated time) is at most the grid value, over the true front's."""
    from robbench_plugin.compare.indicators import hv_curve
    from robbench_plugin.compare.runs import run_one
    from robbench_plugin.problem import ProblemSpec

    cspec = CompareSpec(benchmark="digits", objectives=objectives, budget=25)
    run = run_one(searcher, 3, cspec)
    spec = ProblemSpec(cspec.load(), list(objectives), seed=cspec.table_seed)
    full = run[run["full"]]
    for axis in ("evals", "sim_time"):
        top = float(full[axis].max())
        grid = np.concatenate([[full[axis].min() - 1], np.linspace(0, top, 17), full[axis].to_numpy()[:5], [top + 1]])
        want = [spec.hypervolume(full[full[axis] <= g][spec.metrics].to_numpy()) / spec.true_hypervolume()
                if (full[axis] <= g).any() else 0.0 for g in grid]
        got = hv_curve(spec, run, axis, grid)
        assert got.tolist() == want and got[0] == 0.0 and 0 < got[-1] <= 1
