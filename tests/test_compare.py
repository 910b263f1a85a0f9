import pandas as pd
import pytest

pytest.importorskip("optuna")
pytest.importorskip("matplotlib")

from robbench_plugin.compare import CompareSpec, available, compare  # noqa: E402


def test_compare_runs_resumes_and_reports(tmp_path, synthetic_release, monkeypatch):
    import robbench_plugin.compare as C

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
    assert (summary.final_hv > 0).all() and (summary.final_hv <= 1 + 1e-9).all()
    assert ((summary["regret"] - (1 - summary["final_hv"])).abs() < 1e-12).all()
    for name in ("summary.md", "curves.png", "fronts.png", "summary.csv"):
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
    runs = tmp_path / "c" / "runs"
    for seed in range(2):
        (runs / f"naslib_re__{seed}.csv").write_bytes((runs / f"random__{seed}.csv").read_bytes()
                                                      .replace(b"random,", b"naslib:re,"))
    lines.clear()
    summary2 = compare(searchers, 2, cspec, tmp_path / "c", workers=1, log=lines.append)
    assert any(line.startswith("using the finished runs of naslib:re") for line in lines)
    hv = summary2.set_index("searcher")["final_hv"]
    assert hv["naslib:re"] == pytest.approx(hv["random"])


def test_unknown_searcher():
    with pytest.raises(ValueError, match="searcher"):
        available("optuna:cmaes2")
