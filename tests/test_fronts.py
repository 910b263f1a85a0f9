"""One semantics for every consumer: a point is a cell (of all 15625) with its class's accuracies
and its own costs. The true front, the reference point and constraint filtering agree with an
independent brute force over all cells, for every objective combination with a cost."""
from __future__ import annotations

import numpy as np
import pytest

from robbench_plugin.problem import ProblemSpec
from robbench_plugin.space import NUM_ARCHS, representative_indices

COMBOS = [["clean", "params"], ["robust", "params"], ["robust", "flops"], ["clean", "robust", "params"],
          ["clean", "robust", "flops"], ["robust", "params", "flops"]]


def brute_force_front(points: np.ndarray) -> set[tuple]:
    """Non-dominated rows of ``points`` (maximisation), duplicates merged: every point against every
    other, in chunks (no shared code with the package's pareto_mask)."""
    unique = np.unique(points, axis=0)
    keep = np.ones(len(unique), dtype=bool)
    for start in range(0, len(unique), 512):
        block = unique[start:start + 512]
        ge = (unique[None, :, :] >= block[:, None, :]).all(axis=2)
        gt = (unique[None, :, :] > block[:, None, :]).any(axis=2)
        keep[start:start + 512] = ~(ge & gt).any(axis=1)
    return {tuple(p) for p in unique[keep]}


def all_cells(bench, metrics):
    """Every cell's values straight from scalar queries of its own index (class accuracies, own costs)."""
    cols = {m: np.array([bench.query(i, m) for i in range(NUM_ARCHS)]) for m in metrics}
    return np.stack([cols[m] for m in metrics], axis=1)


@pytest.fixture(scope="module")
def cells(digits):
    metrics = ["val_acc", "val_pgd_48.0_acc", "params", "flops"]
    return dict(zip(metrics, all_cells(digits, metrics).T))


@pytest.mark.parametrize("objectives", COMBOS, ids=[",".join(c) for c in COMBOS])
def test_true_front_is_the_brute_force_front_over_all_cells(digits, cells, objectives):
    spec = ProblemSpec(digits, objectives)
    signs = spec.signs()
    pts = np.stack([cells[m] for m in spec.metrics], axis=1)
    want = brute_force_front(pts * signs)
    got = {tuple(p) for p in spec.true_front()[spec.metrics].to_numpy() * signs}
    assert got == want
    # no set of cells, a searcher's included, can exceed the true front's hypervolume
    assert spec.hypervolume(pts) == pytest.approx(spec.true_hypervolume(), rel=1e-12)
    # the reference point is each objective's worst value over all cells (max-space: costs negated)
    ref = spec.reference_point()
    for j, (m, d) in enumerate(zip(spec.metrics, spec.directions)):
        assert ref[j] == (cells[m].min() if d == "maximize" else -cells[m].max())


@pytest.mark.parametrize("objectives, bound_metric, q", [(["clean", "robust"], "params", 0.5),
                                                         (["robust", "params"], "flops", 0.25),
                                                         (["clean", "robust", "flops"], "params", 0.3)])
def test_constrained_front_is_the_brute_force_front_of_feasible_cells(digits, cells, objectives, bound_metric, q):
    bound = float(np.quantile(cells[bound_metric], q))
    spec = ProblemSpec(digits, objectives, constraints={bound_metric: bound})
    feasible = cells[bound_metric] <= bound
    pts = np.stack([cells[m][feasible] for m in spec.metrics], axis=1)
    assert {tuple(p) for p in spec.true_front()[spec.metrics].to_numpy() * spec.signs()} == \
        brute_force_front(pts * spec.signs())
    # feasibility as a searcher sees it (its own cell) agrees with the front's: every front point is feasible
    front = spec.true_front()
    assert (front[bound_metric] <= bound).all()
    assert all(spec.constraint_values(int(i))[bound_metric] <= 0 for i in front["index"])


def test_costs_are_the_cells_own(digits, cells):
    """Isomorphic cells share accuracies, not costs: a class whose members differ in parameters
    reaches the front's frame with each member's own count."""
    rep = representative_indices()
    by_class = {}
    for i in range(NUM_ARCHS):
        by_class.setdefault(int(rep[i]), []).append(i)
    uid, members = next((u, m) for u, m in by_class.items() if len({cells["params"][i] for i in m}) > 1)
    assert len({digits.query(i, "clean") for i in members}) == 1
    frame = ProblemSpec(digits, ["clean", "params"]).points().set_index("index")
    for i in members:
        if i in frame.index:
            assert frame.loc[i, "params"] == cells["params"][i] == digits.query(i, "params")
    assert any(cells["params"][i] != cells["params"][uid] for i in members)


def test_benchmark_pareto_front_agrees_with_the_problem(digits):
    for objectives in (["clean", "robust"], ["robust", "params"]):
        spec = ProblemSpec(digits, objectives)
        a = sorted(map(tuple, digits.pareto_front(objectives)[spec.metrics].to_numpy()))
        b = sorted(map(tuple, spec.true_front()[spec.metrics].to_numpy()))
        assert a == b




def test_scalarized_objective_is_a_core_objective(digits):
    """scalarized:w = w x clean + (1 - w) x robust, maximised, for every consumer of a ProblemSpec
    (here Optuna's problem), checked against the table's own values."""
    optuna = pytest.importorskip("optuna")
    from robbench_plugin.adapters.optuna import RobustNASProblem
    from robbench_plugin.errors import RobBenchError

    spec = ProblemSpec(digits, ["scalarized:0.25"])
    assert spec.metrics == ["scalarized:0.25"] and spec.directions == ["maximize"]
    clean, robust = digits.query(1000, "clean"), digits.query(1000, "robust")
    assert spec.evaluate(1000) == (pytest.approx(0.25 * clean + 0.75 * robust, abs=1e-15),)
    curve = dict(spec.curve(1000))
    assert curve[2] == pytest.approx(0.25 * digits.query(1000, "clean", fidelity=2)
                                     + 0.75 * digits.query(1000, "robust", fidelity=2))
    frame = digits.to_frame(["clean", "robust"])
    best = (0.25 * frame["val_acc"] + 0.75 * frame["val_pgd_48.0_acc"]).max()
    assert spec.true_front()["scalarized:0.25"].max() == pytest.approx(best)
    problem = RobustNASProblem(digits, objectives=["scalarized:0.25"])
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=0))
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study.optimize(problem, n_trials=5)
    for t in study.trials:
        assert t.value == pytest.approx(spec.evaluate(t.user_attrs["index"])[0])
    for bad in ("scalarized:1.5", "scalarized:x"):
        with pytest.raises(RobBenchError, match="scalarization weight"):
            ProblemSpec(digits, [bad])
