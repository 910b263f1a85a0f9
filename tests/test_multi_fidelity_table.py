"""benchmarks/multi_fidelity.py, which makes README's "does multi-fidelity pay off?" table: its p-values
against scipy's Mann-Whitney test run here on the kept per-seed regrets, README's table as the script
prints it, and the goals and the rule that compares two tables on hand-made cases."""
import numpy as np
import pandas as pd
import pytest
from scipy.stats import mannwhitneyu

from .helpers import ROOT, load_script

KEPT = ROOT / "docs" / "compare-fashion-mnist-mf"


@pytest.fixture(scope="module")
def mf():
    return load_script("benchmarks/multi_fidelity.py")


def test_p_values_are_scipys_on_the_kept_regrets(mf):
    result = mf.analyse(KEPT)
    for task, rows in result["tasks"].items():
        finals = pd.read_csv(KEPT / task / "finals.csv")
        random = finals[finals.searcher == "random"].regret.to_numpy()
        for row in rows:
            mine = finals[finals.searcher == row["searcher"]].regret.to_numpy()
            assert row["seeds"] == len(mine) == 20
            assert row["median"] == np.median(mine) and row["mean"] == pytest.approx(mine.mean(), rel=1e-12)
            if row["searcher"] != "random":
                assert row["p_better"] == mannwhitneyu(mine, random, alternative="less").pvalue
                assert row["p_worse"] == mannwhitneyu(mine, random, alternative="greater").pvalue


def test_holm_adjusts_over_the_three_multi_fidelity_searchers_by_hand(mf):
    """Holm's step-down on the kept robust task, by hand: sorted p(1) <= p(2) <= p(3) become 3 p(1),
    max(that, 2 p(2)), max(that, p(3)); the goal reads the adjusted values."""
    rows = {r["searcher"]: r for r in mf.analyse(KEPT)["tasks"]["robust"]}
    family = sorted(mf.MULTI_FIDELITY["robust"], key=lambda s: rows[s]["p_better"])
    p = [rows[s]["p_better"] for s in family]
    by_hand = [min(1.0, 3 * p[0])]
    by_hand += [max(by_hand[0], min(1.0, 2 * p[1]))]
    by_hand += [max(by_hand[1], p[2])]
    assert [rows[s]["p_better_holm"] for s in family] == pytest.approx(by_hand, rel=1e-12)
    assert family[0] == "syne-tune:asha" and by_hand[0] > mf.ALPHA
    assert "p_better_holm" not in rows["optuna:tpe"] and "p_better_holm" not in rows["syne-tune:bo"]
    goals = mf.analyse(KEPT)["goals"]
    assert goals["robust: a multi-fidelity searcher beats random search (Holm-adjusted p < 0.05)"] is False


def test_readme_quotes_the_table_the_script_prints(mf):
    table = mf.markdown(mf.analyse(KEPT)).split("\n\n")[0]
    assert table.count("\n") == 13  # header, rule, 9 searchers on robust, 3 on clean + robust
    assert table in (ROOT / "README.md").read_text()


def _folder(tmp_path, name, regrets):
    """A multi-fidelity folder whose tasks hold the given per-seed regrets ({task: {searcher: list}})."""
    for task, by_searcher in regrets.items():
        out = tmp_path / name / task
        out.mkdir(parents=True)
        rows = [{"searcher": s, "seed": i, "regret": r} for s, rs in by_searcher.items() for i, r in enumerate(rs)]
        pd.DataFrame(rows).to_csv(out / "finals.csv", index=False)
        pd.DataFrame([{"searcher": s, "regret": np.mean(rs), "regret_lo": min(rs), "regret_hi": max(rs),
                       "distinct_classes": 10.0} for s, rs in by_searcher.items()]).to_csv(out / "summary.csv", index=False)
    return tmp_path / name


def test_goals_and_the_rule_between_two_tables_by_hand(mf, tmp_path):
    high, low = list(np.linspace(0.5, 0.6, 10)), list(np.linspace(0.1, 0.2, 10))  # no overlap with mid
    mid = list(np.linspace(0.3, 0.4, 10))
    old = _folder(tmp_path, "old", {"robust": {"random": mid, "syne-tune:asha": low},
                                    "cleanrobust": {"random": mid, "syne-tune:moasha-ranked": high}})
    new = _folder(tmp_path, "new", {"robust": {"random": mid, "syne-tune:asha": low},
                                    "cleanrobust": {"random": mid, "syne-tune:moasha-ranked": mid,
                                                    "syne-tune:moasha": high}})
    a, b = mf.analyse(new), mf.analyse(old)
    # the clean, robust goal reads moasha-ranked: the shipped MOASHA behind random search does not fail it
    assert list(b["goals"].values()) == [True, False] and list(a["goals"].values()) == [True, True]
    assert mf.compare_tables(a, b)[1] is True and mf.compare_tables(b, a)[1] is False
    assert mf.compare_tables(b, b)[1] is False  # the same table is not better than itself
    # as many goals met: better only with every multi-fidelity searcher's regret lower relative to random's
    lower = _folder(tmp_path, "lower", {"robust": {"random": mid, "syne-tune:asha": [x - 0.05 for x in low]},
                                        "cleanrobust": {"random": mid, "syne-tune:moasha-ranked": [x - 0.01 for x in high]}})
    assert mf.compare_tables(mf.analyse(lower), b)[1] is True
    mixed = _folder(tmp_path, "mixed", {"robust": {"random": mid, "syne-tune:asha": [x - 0.05 for x in low]},
                                        "cleanrobust": {"random": mid, "syne-tune:moasha-ranked": [x + 0.01 for x in high]}})
    assert mf.compare_tables(mf.analyse(mixed), b)[1] is False
    # MOASHA above random search on every seed: U = 100, normal approximation with continuity correction
    # (scipy's for 10 + 10 values): z = (100 - 50 - 0.5) / sqrt(10 * 10 * 21 / 12) = 3.742, p = 9.1e-05
    assert "| clean, robust | syne-tune:moasha-ranked | 0.5500 [0.5000, 0.6000] | 0.5500 | 10 | 0.9999 (worse: p 9.1e-05) |" \
        in mf.markdown(b)


def test_the_robust_goal_is_met_only_after_holm(mf, tmp_path):
    """Three multi-fidelity searchers, two level with random search: ASHA at one-sided p 0.0178
    (11 + 11 regrets, scipy's Mann-Whitney) meets an unadjusted 0.05 but not Holm's 3 x 0.0178 =
    0.053; at p 0.0052 it meets both (0.016)."""
    base = list(np.linspace(0.3, 0.4, 11))
    moasha = {"random": base, "syne-tune:moasha-ranked": base}

    def goal(shift):
        folder = _folder(tmp_path, f"shift{shift}", {
            "robust": {"random": base, "syne-tune:asha": [x - shift for x in base],
                       "syne-tune:hyperband": base, "syne-tune:bohb": base}, "cleanrobust": moasha})
        result = mf.analyse(folder)
        asha = {r["searcher"]: r for r in result["tasks"]["robust"]}["syne-tune:asha"]
        return asha["p_better"], asha["p_better_holm"], list(result["goals"].values())[0]

    p, adjusted, met = goal(0.031)
    assert p == pytest.approx(0.0178, abs=1e-4) and adjusted == pytest.approx(3 * p) and met is False
    p, adjusted, met = goal(0.046)
    assert p == pytest.approx(0.00522, abs=1e-5) and adjusted == pytest.approx(3 * p) and met is True


def test_a_folder_without_both_comparisons_is_refused(mf, tmp_path):
    half = _folder(tmp_path, "half", {"robust": {"random": [0.1, 0.2], "syne-tune:asha": [0.1, 0.3]}})
    with pytest.raises(SystemExit, match="needs the comparisons"):
        mf.analyse(half)
    shipped_only = _folder(tmp_path, "shipped", {"robust": {"random": [0.1, 0.2], "syne-tune:asha": [0.1, 0.3]},
                                                 "cleanrobust": {"random": [0.1, 0.2], "syne-tune:moasha": [0.1, 0.3]}})
    with pytest.raises(SystemExit, match="moasha-ranked is not among the searchers"):
        mf.analyse(shipped_only)
    assert mf.main([str(tmp_path / "nothing")]) == 2
