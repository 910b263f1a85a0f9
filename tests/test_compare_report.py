"""Comparisons reported the way the field reports them, each statistic against an independent
computation: the critical-difference statistics by hand for 3 searchers x 4 tasks, the IQM by hand
and its stratified bootstrap against a second resampler, EAFs against moocore's own documented
examples, the smallest distinguishable budget on a hand-made case, the LaTeX table's form; and the
whole report: run files checked against their folder, a rerun in a fresh process byte-identical,
report.html opened in a real browser with every figure loaded."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("moocore")
pytest.importorskip("scikit_posthocs")
pytest.importorskip("optuna")

from robbench_plugin.compare import CompareSpec, compare, compare_tasks, parse_task, read_run, run_path, write_run  # noqa: E402
from robbench_plugin.errors import DataFileError, RobBenchError  # noqa: E402
from robbench_plugin.stats import friedman, iqm, mean_ranks, nemenyi_cd, stratified_iqm_ci  # noqa: E402

from .helpers import run_fresh  # noqa: E402


# --- statistics against hand computations ---------------------------------------------------------------
SCORES = np.array([[0.10, 0.20, 0.30],   # task 1: A best, C worst
                   [0.15, 0.10, 0.35],   # task 2: B best
                   [0.20, 0.30, 0.25],   # task 3: A best, B worst
                   [0.05, 0.20, 0.40]])  # task 4: A best


def test_critical_difference_statistics_by_hand():
    # ranks per task (1 = lowest regret): (1,2,3), (2,1,3), (1,3,2), (1,2,3) -> mean ranks 1.25, 2.0, 2.75
    assert mean_ranks(SCORES).tolist() == [1.25, 2.0, 2.75]
    # Friedman: chi2 = 12 N / (k (k+1)) * sum(R_j^2) - 3 N (k+1) = 12*4/12 * (1.5625+4+7.5625) - 3*4*4 = 4.5
    from scipy.stats import chi2

    assert friedman(SCORES) == pytest.approx(chi2.sf(4.5, df=2), rel=1e-9)
    # Nemenyi critical difference (Demsar 2006, table 5): q_0.05 for k = 3 is 2.343 -> CD = 2.343 * sqrt(3*4/(6*4))
    assert nemenyi_cd(3, 4) == pytest.approx(2.343 * np.sqrt(12 / 24), abs=1e-3)
    # the aggregate over real tasks reports the same ranks as these functions of its scores
    from robbench_plugin.compare.analysis import Aggregate  # noqa: F401  (structure checked below)


def test_iqm_by_hand_and_the_stratified_bootstrap_against_a_second_resampler():
    assert iqm(np.arange(1.0, 9.0)) == pytest.approx(4.5)  # 1..8: trim 2 from each end -> mean(3, 4, 5, 6)
    assert iqm([5.0, 1.0, 100.0, 2.0]) == pytest.approx(3.5)  # the middle two of 1, 2, 5, 100
    rng = np.random.default_rng(3)
    groups = [rng.normal(0.1, 0.02, 10), rng.normal(0.3, 0.05, 10), np.full(10, 0.2)]
    point, lo, hi = stratified_iqm_ci(groups, resamples=4000)
    assert point == pytest.approx(iqm(np.concatenate(groups)))
    # second resampler: each task's runs resampled on their own with replacement (numpy, another stream)
    r2 = np.random.default_rng(99)
    boots = [iqm(np.concatenate([g[r2.integers(0, len(g), len(g))] for g in groups])) for _ in range(4000)]
    assert lo == pytest.approx(np.percentile(boots, 2.5), abs=0.004)
    assert hi == pytest.approx(np.percentile(boots, 97.5), abs=0.004)
    # a resampler that mixed the tasks (not stratified) gives a clearly wider interval here
    pooled = np.concatenate(groups)
    mixed = [iqm(pooled[r2.integers(0, len(pooled), len(pooled))]) for _ in range(4000)]
    assert np.percentile(mixed, 97.5) - np.percentile(mixed, 2.5) > 1.2 * (hi - lo)
    # resampled all at once, the interval is the one scipy gives resample by resample, to the last bit
    from scipy.stats import bootstrap

    one_by_one = bootstrap(groups, lambda *r: iqm(np.concatenate(r)), paired=False, vectorized=False,
                           n_resamples=500, method="percentile", rng=np.random.default_rng(5)).confidence_interval
    assert stratified_iqm_ci(groups, resamples=500, seed=5)[1:] == (one_by_one.low, one_by_one.high)


# moocore's documented example (moocore.eaf docstring, dataset input1.dat): the 0% and 100% surfaces
EAF_0 = [[0.17470556, 8.89066343], [0.20816431, 4.62275469], [0.22997367, 1.11772205], [0.58799475, 0.73891181],
         [1.54506255, 0.38303122], [8.57911868, 0.35169752]]
EAF_100 = [[1.13096306, 9.72645436], [2.71891214, 8.84691923], [3.34035397, 7.49376946], [4.43498452, 6.94327481],
           [4.96525837, 6.20957074], [7.92511295, 3.92669598]]


def test_attainment_surfaces_against_moocores_documented_example():
    import moocore

    from robbench_plugin.compare.indicators import attainment

    x = moocore.get_dataset("input1.dat")
    got = attainment(x[:, :2], x[:, 2], [False, False], percentiles=[0, 100])
    assert np.allclose(got[0], EAF_0, atol=1e-8) and np.allclose(got[100], EAF_100, atol=1e-8)
    # the same runs with both objectives negated and maximised give the negated surfaces
    neg = attainment(-x[:, :2], x[:, 2], [True, True], percentiles=[0, 100])
    assert np.allclose(sorted((-neg[0]).tolist()), EAF_0, atol=1e-8)
    assert np.allclose(sorted((-neg[100]).tolist()), EAF_100, atol=1e-8)


def test_attainment_difference_against_moocores_documented_example():
    from robbench_plugin.compare.indicators import attainment_difference

    # moocore.eafdiff docstring: A1 and A2, two runs each; rectangles and (runs of A1 - runs of A2)
    a1 = np.array([[3, 2, 1], [2, 3, 1], [2.5, 1, 2], [1, 2, 2], [1, 2, 3]], dtype=float)
    a2 = np.array([[4, 2.5, 1], [3, 3, 1], [2.5, 3.5, 1], [3, 3, 2], [2.5, 3.5, 2], [2, 1, 3]], dtype=float)
    expected = [[2, 1, 2.5, 2, -1], [1, 2, 2, np.inf, 2], [2.5, 1, np.inf, 2, 0], [2, 2, 3, 3, 1],
                [2, 3.5, 2.5, np.inf, 2], [2, 3, 3, 3.5, 2], [3, 2.5, 4, 3, 2], [3, 2, np.inf, 2.5, 2],
                [4, 2.5, np.inf, 3, 1]]
    got = attainment_difference(a1[:, :2], a1[:, 2], a2[:, :2], a2[:, 2], [False, False])
    want = np.array(expected)
    want[:, 4] /= 3  # three runs a side: the difference as a fraction of runs
    assert np.array_equal(got[:, :4], want[:, :4]) and np.allclose(got[:, 4], want[:, 4])


def test_the_smallest_distinguishable_budget_on_a_hand_made_case():
    from robbench_plugin.compare.analysis import FRACTIONS, TaskResult, distinguishable

    seeds = 6
    good = np.where(FRACTIONS >= 0.5, 0.0, 0.5) + 0.01 * np.arange(seeds)[:, None]   # reaches 0 at half the budget
    bad = np.full((seeds, len(FRACTIONS)), 0.9) + 0.01 * np.arange(seeds)[:, None]   # always worse than random
    random = np.full((seeds, len(FRACTIONS)), 0.5) + 0.001 * np.arange(seeds)[:, None]
    r = TaskResult(CompareSpec(budget=200), None, ["random", "good", "bad"], seeds, pd.DataFrame(), np.array([]),
                   np.array([]), {}, {}, {"random": random, "good": good, "bad": bad}, {})
    final, first = distinguishable(r)
    # 6 vs 6, fully separated: exact two-sided Mann-Whitney p = 2 / C(12, 6) = 0.00216; Holm over 2: 0.0043
    assert final["good"] == pytest.approx(2 * 2 / 924, rel=1e-6) and final["bad"] == pytest.approx(2 * 2 / 924)
    assert first == {"good": (100.0, "better"), "bad": (20.0, "worse")}  # 0.5 x 200; 0.1 x 200


def test_latex_table_is_booktabs_with_escapes():
    from robbench_plugin.compare.tables import latex

    text = latex([["searcher", "regret"], ["optuna:tpe_x", "0.1 [0.0, 0.2]"]], "50% & more", "tab:x")
    assert text.splitlines() == [r"\begin{table}[t]", r"\centering", r"\caption{50\% \& more}", r"\label{tab:x}",
                                 r"\begin{tabular}{lr}", r"\toprule", r"searcher & regret \\", r"\midrule",
                                 r"optuna:tpe\_x & 0.1 [0.0, 0.2] \\", r"\bottomrule", r"\end{tabular}",
                                 r"\end{table}"]


# --- run files are checked against their folder -----------------------------------------------------------
def test_run_files_are_checked_against_the_folder_and_the_schema(tmp_path):
    cspec = CompareSpec("digits", budget=8)
    out = tmp_path / "c"
    compare(["random"], 2, cspec, out, workers=1, log=lambda line: None)
    identity = json.loads((out / "comparison.json").read_text())
    path = run_path(out, "random", 0)
    good = path.read_bytes()
    rows = read_run(path, identity, "random", 0)
    assert len(rows) == 8
    cases = {
        "another comparison": lambda: write_run(path, rows, {**identity, "budget": 50}),
        "no identity line": lambda: path.write_bytes(good.split(b"\n", 1)[1]),
        "another run": lambda: write_run(path, rows.assign(seed=1), identity),
        "a damaged row": lambda: path.write_bytes(good.replace(b",True,", b",maybe,", 1)),
        "an index out of range": lambda: write_run(path, rows.assign(index=rows["index"] + 20000), identity),
        "a missing column": lambda: write_run(path, rows.drop(columns=["sim_time"]), identity),
        "a truncated file": lambda: path.write_bytes(good[: good.index(b"\n") + 1]),
    }
    for what, damage in cases.items():
        damage()
        with pytest.raises(DataFileError, match=str(path.name)):
            read_run(path, identity, "random", 0)
        with pytest.raises(DataFileError):
            compare(["random"], 2, cspec, out, workers=1, log=lambda line: None)
        path.write_bytes(good)
    compare(["random"], 2, cspec, out, workers=1, log=lambda line: None)


def test_an_empty_run_is_an_error(monkeypatch):
    import robbench_plugin.compare.runs as runs

    monkeypatch.setattr(runs, "random_trace", lambda budget, seed: pd.DataFrame({"index": []}))
    with pytest.raises(RobBenchError, match="evaluated nothing within the budget of 5"):
        runs.run_one("random", 0, CompareSpec("digits", budget=5))


def test_a_task_without_its_data_is_named_before_anything_runs(tmp_path):
    base = CompareSpec(budget=5)
    tasks = [parse_task("digits:clean,robust", base), parse_task("nas-robbench-201/cifar100:clean,robust", base)]
    with pytest.raises(RobBenchError, match=r"task nas-robbench-201/cifar100:clean,robust: .*release not found"):
        compare_tasks(tasks, ["random"], 1, tmp_path / "t", workers=1, log=lambda line: None)
    assert not (tmp_path / "t").exists()
    with pytest.raises(RobBenchError, match="not a task"):
        parse_task("digits", base)


# --- the whole report --------------------------------------------------------------------------------------
TASKS = ["digits:clean,robust", "digits:robust,params", "digits:clean,robust,flops"]
REPORT_IN_A_FRESH_PROCESS = """
from robbench_plugin.compare import CompareSpec, compare_tasks, parse_task
base = CompareSpec(budget=15)
compare_tasks([parse_task(t, base) for t in {tasks!r}], ["random", "optuna:tpe", "optuna:nsga2"], 3, {out!r},
              workers=1, log=lambda line: None)
"""


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """A three-task comparison made in this process."""
    out = tmp_path_factory.mktemp("report")
    base = CompareSpec(budget=15)
    compare_tasks([parse_task(t, base) for t in TASKS], ["random", "optuna:tpe", "optuna:nsga2"], 3, out, workers=1,
                  log=lambda line: None)
    return out


@pytest.mark.slow
def test_a_rerun_gives_the_same_bytes(tmp_path):
    """The same three-task comparison made twice, in fresh processes with different hash seeds and
    global generator states: every table, figure data file and report.html byte for byte."""
    for name, seed in (("a", 1), ("b", 2)):
        run_fresh(REPORT_IN_A_FRESH_PROCESS.format(tasks=TASKS, out=str(tmp_path / name)), hash_seed=seed,
                  rng_seed=seed)
    a, b = tmp_path / "a", tmp_path / "b"
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file() and p.suffix in (".json", ".md", ".tex",
                                                                                           ".csv", ".html"))
    assert len([f for f in files if f.name == "figures.json"]) == 4  # three tasks and the aggregate
    for rel in files:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel


def test_the_aggregate_is_the_tasks_numbers(report):
    a = report
    finals = {t.replace(":", "__").replace(",", "_"): pd.read_csv(a / "tasks" / t.replace(":", "__").replace(",", "_")
                                                                  / "finals.csv") for t in TASKS}
    scores = pd.DataFrame({slug: f.groupby("searcher")["regret"].mean() for slug, f in finals.items()}).T
    figures = json.loads((a / "figures.json").read_text())
    searchers = list(figures["cd"]["mean_ranks"])
    assert figures["cd"]["mean_ranks"] == pytest.approx(dict(zip(scores.columns, mean_ranks(scores.to_numpy()))))
    assert figures["cd"]["cd"] == pytest.approx(nemenyi_cd(3, 3))
    pooled = {s: np.concatenate([f[f.searcher == s]["regret"].to_numpy() for f in finals.values()]) for s in searchers}
    for s, (point, lo, hi) in figures["iqm"]["searchers"].items():
        assert point == pytest.approx(iqm(pooled[s])) and lo <= point <= hi


def test_report_html_opens_in_a_browser_with_every_figure(report, tmp_path):
    a = report
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    page = (a / "report.html").read_text()
    expected = page.count("<img ")
    assert expected == 3 + 5 + 5 + 2  # aggregate (iqm, ranks, cd); two 2-objective tasks; one 3-objective task
    probe = ("<script>window.addEventListener('load',function(){var n=0,im=document.images;for(var i=0;i<im.length;"
             "i++){if(im[i].complete&&im[i].naturalWidth>0)n++;}document.title='loaded '+n+' of '+im.length;});"
             "</script>")
    copy = tmp_path / "probe.html"
    copy.write_text(page.replace("</body>", probe + "</body>"))
    dom = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=10000",
                          "--dump-dom", copy.as_uri()], capture_output=True, text=True, timeout=180).stdout
    assert f"<title>loaded {expected} of {expected}</title>" in dom
    for name in ("Identity", "Over 3 tasks", "Task digits:clean,robust", "table sha256"):
        assert name in dom


def test_the_figures_data_are_the_runs_numbers(report):
    """figures.json of a task against a second computation from its evaluations: the final regret
    curve point is the mean over seeds of 1 - HV / true HV with moocore's hypervolume, and the median
    attainment surface of random search holds exactly the points that half its runs weakly dominate."""
    import moocore

    from robbench_plugin import load_benchmark
    from robbench_plugin.problem import ProblemSpec

    folder = report / "tasks" / "digits__clean_robust"
    figures = json.loads((folder / "figures.json").read_text())
    ev = pd.read_csv(folder / "evaluations.csv")
    spec = ProblemSpec(load_benchmark("digits"), ["clean", "robust"])
    names = list(spec.metrics)
    ref = spec.reference_point()  # max-space
    true_hv = moocore.hypervolume(spec.true_front()[names].to_numpy(), ref=ref, maximise=True)
    for searcher, curve in figures["regret_evals"]["searchers"].items():
        regrets = []
        for seed, run in ev[(ev.searcher == searcher) & ev.full].groupby("seed"):
            regrets.append(1 - moocore.hypervolume(run[names].to_numpy(), ref=ref, maximise=True) / true_hv)
        assert curve["mean"][-1] == pytest.approx(np.mean(regrets), abs=1e-9)
        assert curve["lo"][-1] <= curve["mean"][-1] <= curve["hi"][-1]
    median = np.array(figures["eaf"]["searchers"]["random"]["50"])
    runs = [run[names].to_numpy() for _, run in ev[(ev.searcher == "random") & ev.full].groupby("seed")]
    for point in median:  # each point of the 50% surface is attained (weakly dominated) by >= half the runs
        attained = sum(bool(((r >= point - 1e-12).all(axis=1)).any()) for r in runs)
        assert attained >= len(runs) / 2
