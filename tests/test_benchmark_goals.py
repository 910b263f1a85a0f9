"""The goal figures of benchmarks/benchmark_goals.py (quoted in README) on hand-computed cases, and
the rule that decides the embedded default."""
import numpy as np
import pytest

from .helpers import load_script


@pytest.fixture(scope="module")
def goals():
    return load_script("benchmarks/benchmark_goals.py")


def test_anchor_is_nb201_cifar10_in_index_order(goals):
    acc = goals.anchor_accuracy()
    assert acc.shape == (15625,)
    # NAS-Bench-201's best CIFAR-10 test accuracy after 200 epochs is 94.37% (its paper, Table 5)
    assert acc.max() == pytest.approx(0.9437, abs=1e-4)
    assert 0.0 <= acc.min() <= 0.11  # cells with no path to the output train to chance


def test_top_spread_by_hand(goals):
    values = np.arange(101, dtype=float)  # max 100, median 50, 99th percentile 99
    assert goals.top_spread(values) == {"top_gap_p99": pytest.approx(1 / 50), "cells_at_max": 1}
    values[-3:] = 100.0  # three share the maximum; p99 = 100 - 0 -> gap 0
    assert goals.top_spread(values) == {"top_gap_p99": pytest.approx(0.0), "cells_at_max": 3}


def _g(p=None, tau=None):
    g = {"benchmark": "x"}
    if p is not None:
        g["separation"] = {"p_tpe_better": p}
    if tau is not None:
        g["seed_tau_robust"] = tau
    return g


def test_the_default_switches_only_when_both_figures_are_better(goals):
    digits = _g(p=0.049, tau=0.595)
    assert goals.beats(_g(p=0.001, tau=0.70), digits)["beats"] is True
    assert goals.beats(_g(p=0.001, tau=0.50), digits)["beats"] is False   # separates, less stable
    assert goals.beats(_g(p=0.20, tau=0.70), digits)["beats"] is False    # stable, does not separate
    # smaller than the old p but not significant: no
    assert goals.beats(_g(p=0.04, tau=0.70), _g(p=0.30, tau=0.5))["separation_better"] is True
    assert goals.beats(_g(p=0.06, tau=0.70), _g(p=0.30, tau=0.5))["separation_better"] is False
    # a partial table (no separation yet) or one seed (no seed tau): no verdict
    partial = goals.beats(_g(tau=0.70), digits)
    assert partial["separation_better"] is None and partial["seed_tau_better"] is True and partial["beats"] is None
    assert goals.beats(_g(p=0.001), digits)["beats"] is None


def _t(tau, se, p=0.01):
    return {**_g(p=p, tau=tau), "seed_tau_robust_se": se}


def test_no_worse_by_hand(goals):
    """The rule for a new version: separation still significant, seed tau not significantly lower.
    z = (0.670 - 0.675) / hypot(0.003, 0.004) = -0.005 / 0.005 = -1.0 (no worse); 0.664: -2.2 (worse)."""
    old = _t(0.675, 0.004, p=0.024)
    v = goals.no_worse(_t(0.670, 0.003), old)
    assert v["seed_tau_z"] == pytest.approx(-1.0, rel=1e-12) and v["seed_tau_no_worse"] is True and v["no_worse"] is True
    v = goals.no_worse(_t(0.664, 0.003), old)
    assert v["seed_tau_z"] == pytest.approx(-2.2, rel=1e-12) and v["seed_tau_no_worse"] is False and v["no_worse"] is False
    # just either side of the one-sided 5% point, 1.6449 standard errors of the difference below
    edge = 0.675 - 0.005 * 1.6448536269514722
    assert goals.no_worse(_t(edge + 1e-6, 0.003), old)["seed_tau_no_worse"] is True
    assert goals.no_worse(_t(edge - 1e-6, 0.003), old)["seed_tau_no_worse"] is False
    # higher is never worse; a p that loses significance is, whatever the old p was
    assert goals.no_worse(_t(0.70, 0.003, p=0.049), old)["no_worse"] is True
    assert goals.no_worse(_t(0.70, 0.003, p=0.051), _t(0.675, 0.004, p=0.2))["separation_no_worse"] is False
    # a table without a standard error (an old --out) or without separation: no verdict
    assert goals.no_worse(_t(0.70, 0.003), _g(p=0.024, tau=0.675))["no_worse"] is None
    assert goals.no_worse(_g(tau=0.70), old)["separation_no_worse"] is None


def test_kendall_se_is_a_paired_bootstrap(goals):
    """Against two independent facts: under independence, Kendall's asymptotic null variance
    2 (2n + 5) / (9 n (n - 1)); with a strong dependence, a second bootstrap written here that
    resamples pairs (an unpaired resampling would give tau near 0 and a standard error near the null's)."""
    from scipy.stats import kendalltau

    rng = np.random.default_rng(3)
    n = 400
    a, b = rng.random(n), rng.random(n)
    null_se = np.sqrt(2 * (2 * n + 5) / (9 * n * (n - 1)))  # 0.0335
    assert goals.kendall_se(a, b) == pytest.approx(null_se, rel=0.1)
    b = a + 0.1 * rng.random(n)  # tau about 0.87
    mine = [kendalltau(a[i], b[i])[0] for i in (rng.integers(0, n, n) for _ in range(1000))]
    se = goals.kendall_se(a, b)
    assert se == pytest.approx(np.std(mine, ddof=1), rel=0.1) and se < null_se / 3


def test_the_anchor_figures_stand_beside_the_verdict(goals):
    """A table that ranks less like CIFAR-10 still beats the old one on the two deciding figures;
    the anchor pairs say so, and a table without them (the anchor itself) says None."""
    new = {**_g(p=0.001, tau=0.80), "tau_cifar10_robust": 0.37, "tau_cifar10_clean": 0.42, "op_effects_r_cifar10": 0.5}
    old = {**_g(p=0.049, tau=0.595), "tau_cifar10_robust": 0.48, "tau_cifar10_clean": 0.40, "op_effects_r_cifar10": 0.8}
    v = goals.beats(new, old)
    assert v["beats"] is True
    assert v["tau_cifar10_robust"] == [0.37, 0.48] and v["tau_cifar10_robust_better"] is False
    assert v["tau_cifar10_clean_better"] is True and v["op_effects_r_cifar10_better"] is False
    assert goals.beats(_g(p=0.001, tau=0.8), old)["tau_cifar10_clean_better"] is None


def test_the_anchors_op_effects_use_the_tables_cells_and_weights(goals):
    """CIFAR-10's side of the comparison is CIFAR-10's own accuracy of every cell of the table's
    classes (not the class representative's), each cell weighted by 1 / its class's size."""
    from robbench_plugin.op_effects import op_effects, op_effects_of_classes
    from robbench_plugin.space import representative_indices

    rep = representative_indices()
    uids, sizes = np.unique(rep, return_counts=True)
    cif = goals.anchor_accuracy()
    values = np.random.default_rng(0).uniform(size=len(uids))
    ours, anchor = goals.op_effects_with_anchor(values, uids)
    np.testing.assert_allclose(ours, op_effects_of_classes(values, uids), atol=1e-12)
    weights = 1.0 / sizes[np.searchsorted(uids, rep)]
    np.testing.assert_allclose(anchor, op_effects(cif, np.arange(15625), weights), atol=1e-12)
    # on a part of the classes, only their cells count
    part = uids[::7]
    _, anchor_part = goals.op_effects_with_anchor(values[::7], part)
    mine = np.isin(rep, part)
    np.testing.assert_allclose(anchor_part, op_effects(cif[mine], np.flatnonzero(mine), weights[mine]), atol=1e-12)


def test_tau_by_epoch_on_chosen_classes_and_one_seed_by_hand(goals):
    """tau of robust accuracy after each evaluated epoch with the final one, on a subset of classes and
    one seed's runs, against scipy's Kendall tau on values read one class at a time."""
    from scipy.stats import kendalltau

    from robbench_plugin import load_benchmark

    bench = load_benchmark("digits")  # evaluated after epochs 1, 2, 4 and 8
    rob = bench.resolve_metric("robust")
    uids = sorted(bench.to_frame([rob])["uid"].to_numpy()[::97].tolist())  # 67 classes
    out = goals.table_goals(bench, seeds=1, classes=uids, seed="0")
    assert out["classes"] == len(uids) and out["seed"] == "0"
    final = [bench.query(u, rob, seed="0") for u in uids]
    for epoch in (1, 2, 4):
        early = [bench.query(u, rob, seed="0", fidelity=epoch) for u in uids]
        assert out["tau_by_epoch_robust"][epoch] == pytest.approx(kendalltau(early, final).statistic, abs=1e-12)
    assert (out["early_epoch"], out["half_epoch"], out["final_epoch"]) == (2, 4, 8)
    assert out["tau_early_final_robust"] == out["tau_by_epoch_robust"][2]
    assert "seed_tau_robust" not in out and "separation" not in out  # one seed, a subset: not measured
    # seed 1 was trained for 10% of digits' classes: only those of the subset count
    with_seed_1 = [u for u in uids if not np.isnan(bench.query_many([u], [rob], seed="1")[rob].iloc[0])]
    assert 0 < len(with_seed_1) < len(uids)
    assert goals.table_goals(bench, seeds=1, classes=uids, seed="1")["classes"] == len(with_seed_1)


def test_top_kept_by_hand(goals):
    final = np.arange(30.0)  # the top 10%: 27, 28, 29 (at or above the 0.9 quantile, 26.1)
    assert goals.top_kept(final, final) == 1.0  # an early value that ranks like the final one keeps them all
    assert goals.top_kept(final[::-1], final) == 0.0  # reversed: all three fall below the 2/3 quantile (19.33)
    early = final.copy()
    early[[27, 3]] = early[[3, 27]]  # one of the three swapped down to the bottom: 2 of 3 kept
    assert goals.top_kept(early, final) == pytest.approx(2 / 3)
    assert goals.top_kept(early, final, keep=0.95) == 1.0  # a rung keeping nearly everything keeps it too
