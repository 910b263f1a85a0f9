"""The main job over seeds (robbench search): its runs are robbench compare's, its figures are the
runs' own (checked against compare's final indicators and hand-computed statistics), the verdict
says what the p-values support, the output repeats byte for byte."""
import json

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("optuna")

from robbench_plugin import search_seeds  # noqa: E402
from robbench_plugin.cli import main  # noqa: E402
from robbench_plugin.stats import median_ci  # noqa: E402


def test_median_interval_is_the_order_statistics():
    # 10 values: [x(2), x(9)] (binomial coverage 1 - 2 * P(Bin(10, 1/2) <= 1) = 97.9%); 5 values: none at 95%
    x = np.array([7, 1, 9, 3, 10, 2, 8, 4, 6, 5], dtype=float)
    assert median_ci(x) == (2.0, 9.0)
    assert all(np.isnan(median_ci(x[:5])))


def test_verdict_follows_the_adjusted_p_values():
    info = {"seeds": list(range(20)), "trials": 200, "searchers": {
        "optuna:tpe": {"p_vs_random_holm": 0.004}, "optuna:nsga2": {"p_vs_random_holm": 0.2}, "random": {}}}
    line = search_seeds.verdict(info)
    assert line.startswith("over 20 seeds of 200 trials: ")
    assert "optuna:tpe finds better fronts than random search (p = 0.004)" in line
    assert "optuna:nsga2 is not distinguishable from random search (p = 0.2)" in line


def test_search_over_seeds_writes_compares_figures(tmp_path, capsys):
    out = tmp_path / "s"
    assert main(["search", "--trials", "30", "--seeds", "6", "--benchmark", "digits", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    seeds = pd.read_csv(out / "seeds.csv")
    assert sorted(seeds.searcher.unique()) == ["optuna:nsga2", "optuna:tpe", "random"]
    assert len(seeds) == 3 * 6 and sorted(seeds.seed.unique()) == list(range(6))
    # each final regret is what robbench compare's own indicator gives for that run
    from robbench_plugin.compare.indicators import run_indicators
    from robbench_plugin.compare.runs import run_one
    from robbench_plugin.compare.spec import CompareSpec
    from robbench_plugin.problem import ProblemSpec

    cspec = CompareSpec(benchmark="digits", budget=30)
    spec = ProblemSpec(cspec.load(), list(cspec.objectives), seed="mean")
    for searcher, seed in (("optuna:tpe", 4), ("random", 0), ("optuna:nsga2", 5)):
        expected = run_indicators(spec, run_one(searcher, seed, cspec))["regret"]
        got = seeds[(seeds.searcher == searcher) & (seeds.seed == seed)].regret.item()
        assert got == pytest.approx(expected, abs=1e-12)
    over = json.loads((out / "summary.json").read_text())["over_seeds"]
    from scipy.stats import mannwhitneyu

    for searcher, v in over["searchers"].items():
        finals = seeds[seeds.searcher == searcher].regret.to_numpy()
        assert v["median_regret"] == pytest.approx(np.median(finals))
        if searcher != "random":  # raw one-sided p, as scipy computes it
            rand = seeds[seeds.searcher == "random"].regret.to_numpy()
            assert v["p_vs_random"] == pytest.approx(mannwhitneyu(finals, rand, alternative="less").pvalue)
    assert over["verdict"] in printed and (out / "regret.png").stat().st_size > 1000
    # the same command again: the same numbers, byte for byte
    again = tmp_path / "again"
    assert main(["search", "--trials", "30", "--seeds", "6", "--benchmark", "digits", "--out", str(again)]) == 0
    assert (again / "seeds.csv").read_bytes() == (out / "seeds.csv").read_bytes()


def test_regret_curve_info_on_planted_runs():
    """Planted runs on digits: "a" evaluates the true front's classes (regret 0 once all are in),
    "random" evaluates one cell again and again: its regret is 1 - the area its point dominates
    (above the reference point, by hand) / the true front's hypervolume."""
    from robbench_plugin.loader import load_benchmark
    from robbench_plugin.problem import ProblemSpec

    spec = ProblemSpec(load_benchmark("digits"), ["clean", "robust"])
    front = spec.true_front()[spec.metrics].to_numpy()
    point = spec.table_frame()[spec.metrics].to_numpy()[0]
    trials = 10
    rows = []
    for seed in (3, 4):
        planted_front = [front[min(k, len(front) - 1)] for k in range(trials)]
        rows += [{"searcher": "a", "seed": seed, "evals": k + 1, "full": True, **dict(zip(spec.metrics, v))}
                 for k, v in enumerate(planted_front)]
        rows += [{"searcher": "random", "seed": seed, "evals": k + 1, "full": True,
                  **dict(zip(spec.metrics, point))} for k in range(trials)]
    info = search_seeds._get_regret_info(spec, pd.DataFrame(rows), ["a", "random"], [3, 4], trials)
    ref = spec.reference_point()  # max-space: both objectives are accuracies to maximise
    by_hand = 1 - (point[0] - ref[0]) * (point[1] - ref[1]) / spec.true_hypervolume()
    assert list(info["searchers"]["a"]["finals"]) == pytest.approx([0.0, 0.0], abs=1e-12)
    assert list(info["searchers"]["random"]["finals"]) == pytest.approx([by_hand, by_hand])
    assert info["searchers"]["random"]["median_curve"] == pytest.approx(np.full(len(info["grid"]), by_hand))
    assert info["grid"][0] == 1 and info["grid"][-1] == trials
    assert info["searchers"]["a"]["p_vs_random"] < 0.5  # lower in both seeds
