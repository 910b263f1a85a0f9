"""Syne Tune's multi-objective schedulers read their priority as one rank per trial; their default
priority returns the sorted order instead (robbench_plugin/adapters/syne_tune/priority.py). Pinned
here on hand-computed cases: the defect of the Syne Tune the package pins, the ranks of
``RankedNonDominatedPriority`` (and its fronts against moocore's non-dominated ranks), and the
decisions of Syne Tune's own MOASHA and MO-REA with each priority."""
import numpy as np
import pytest

pytest.importorskip("syne_tune")

from syne_tune.backend.trial_status import Trial  # noqa: E402
from syne_tune.optimizer.scheduler import SchedulerDecision  # noqa: E402
from syne_tune.optimizer.schedulers.multiobjective.moasha import MOASHA  # noqa: E402
from syne_tune.optimizer.schedulers.multiobjective.multiobjective_priority import NonDominatedPriority  # noqa: E402

from robbench_plugin.adapters.syne_tune import (METRIC_ROBUST_ERROR, METRIC_VALID_ERROR, fidelity_attr,  # noqa: E402
                                                load_blackbox, make_scheduler)
from robbench_plugin.adapters.syne_tune.priority import RankedNonDominatedPriority  # noqa: E402
from robbench_plugin.adapters.syne_tune_live import make_live_scheduler  # noqa: E402

# four rows on the diagonal: four fronts of one row each; lower is better
DIAGONAL = np.array([[0.3, 0.3], [0.1, 0.1], [0.5, 0.5], [0.2, 0.2]])
# rows 0, 1 and 3 form the first front, row 2 (dominated by row 0) the second. Within the first
# front the epsilon-net starts at the lowest first objective (row 1), then takes the row farthest
# from it (row 3: distance 1.41, row 0: 0.71), then row 0
TWO_FRONTS = np.array([[0.5, 0.5], [0.0, 1.0], [0.6, 0.6], [1.0, 0.0]])


def test_syne_tunes_default_priority_returns_the_order_not_each_rows_rank():
    """If this fails, the pinned Syne Tune returns ranks now: its MOASHA and MO-REA then decide as
    the ``-ranked`` ones do, and docs/syne-tune.md and the priority module must say so."""
    assert NonDominatedPriority()(DIAGONAL).tolist() == [1, 3, 0, 2]  # the rows, best first
    # the first front's rows are not even in the epsilon-net's order (1, 3, 0): nondominated_sort reads
    # compute_epsilon_net's ranks (2, 0, 1 for rows 0, 1, 3) as an order
    assert NonDominatedPriority()(TWO_FRONTS).tolist() == [3, 0, 1, 2]


def test_ranked_priority_is_each_rows_place_in_the_sort():
    assert RankedNonDominatedPriority()(DIAGONAL).tolist() == [2, 0, 3, 1]
    assert RankedNonDominatedPriority()(TWO_FRONTS).tolist() == [2, 0, 3, 1]
    # rows already in sorted order: the order and the ranks coincide (the only case where the default is right)
    ordered = DIAGONAL[np.argsort(DIAGONAL[:, 0])]
    assert RankedNonDominatedPriority()(ordered).tolist() == NonDominatedPriority()(ordered).tolist() == [0, 1, 2, 3]


@pytest.mark.parametrize("seed", range(5))
def test_ranked_priority_orders_the_fronts_as_moocore_ranks_them(seed):
    import moocore

    rng = np.random.default_rng(seed)
    z = rng.normal(size=60)
    rows = np.c_[z + 0.4 * rng.normal(size=60), z + 0.4 * rng.normal(size=60)]
    place = RankedNonDominatedPriority()(rows)
    assert sorted(place.tolist()) == list(range(60))
    level = moocore.pareto_rank(rows)  # an independent non-dominated sort: 0 for the first front
    assert len(set(level)) > 5
    # every row of a better front comes before every row of a worse one
    assert all(place[level == k].max() < place[level == k + 1].min() for k in range(level.max()))


def _rung_decisions(scheduler, time_attr, values):
    """Each trial reports ``values[i]`` (both errors) at the first rung, in order; the decisions."""
    out = []
    for i, v in enumerate(values):
        trial = Trial(trial_id=i, config={}, creation_time=None)
        scheduler.on_trial_add(trial=trial)
        result = {time_attr: 1, METRIC_VALID_ERROR: v, METRIC_ROBUST_ERROR: v}
        out.append(scheduler.on_trial_result(trial, result))
    return out


@pytest.fixture(scope="module")
def digits_bb():
    return load_blackbox("digits")


def test_moasha_ranked_keeps_the_top_third_of_its_rung(digits_bb):
    """Syne Tune's MOASHA (reduction factor 3) keeps a trial whose errors are in the top third of
    those its rung has seen. Trials 0-2 report 1, 2, 9; trial 3 reports 0.5, the best so far;
    trial 4 reports 3 to a rung of 9, 1, 2 (a fresh scheduler), the third of four."""
    metrics = [METRIC_VALID_ERROR, METRIC_ROBUST_ERROR]
    attr = fidelity_attr(digits_bb)
    go, stop = SchedulerDecision.CONTINUE, SchedulerDecision.STOP
    for name in ("moasha", "moasha-ranked"):
        assert type(make_scheduler(name, digits_bb, metrics=metrics)) is MOASHA  # Syne Tune's own class
    ranked = make_scheduler("moasha-ranked", digits_bb, metrics=metrics)
    assert _rung_decisions(ranked, attr, [1, 2, 9, 0.5]) == [go, stop, stop, go]
    ranked = make_scheduler("moasha-ranked", digits_bb, metrics=metrics)
    assert _rung_decisions(ranked, attr, [9, 1, 2, 3]) == [go, go, go, stop]
    # the default priority: the new best trial stopped (the rung's worst is its third row: 2/4 > 1/3),
    # a trial behind two of three kept (the rung's worst is its first row: 0/4)
    shipped = make_scheduler("moasha", digits_bb, metrics=metrics)
    assert _rung_decisions(shipped, attr, [1, 2, 9, 0.5]) == [go, stop, stop, stop]
    shipped = make_scheduler("moasha", digits_bb, metrics=metrics)
    assert _rung_decisions(shipped, attr, [9, 1, 2, 3]) == [go, go, go, go]


def test_live_moasha_ranked_is_syne_tunes_moasha_with_the_ranked_priority():
    space = {"epochs": 8, "x": 1}
    live = make_live_scheduler("moasha-ranked", space)
    assert type(live) is MOASHA and isinstance(live.multiobjective_priority, RankedNonDominatedPriority)
    assert type(make_live_scheduler("moasha", space).multiobjective_priority) is NonDominatedPriority


def test_morea_ranked_scores_each_member_by_its_place(digits_bb):
    """MO-REA picks a parent as the lowest score among sampled members: with the ranked priority a
    member's score is its place in the sort; with the default, the index of the member at its place."""
    metrics = [METRIC_VALID_ERROR, METRIC_ROBUST_ERROR]
    scores = {}
    for name in ("morea", "morea-ranked"):
        searcher = make_scheduler(name, digits_bb, metrics=metrics).searcher
        assert type(searcher).__module__.startswith("syne_tune.")
        for i, row in enumerate(TWO_FRONTS):
            searcher.on_trial_complete(i, {}, row.tolist())
        scores[name] = [int(member.score) for member in searcher.population]
    assert scores == {"morea-ranked": [2, 0, 3, 1], "morea": [3, 0, 1, 2]}


@pytest.mark.parametrize("name", ["syne-tune:moasha-ranked", "syne-tune:morea-ranked"])
def test_runs_in_a_comparison_and_repeats(name):
    import pandas as pd

    from robbench_plugin.compare.runs import run_one
    from robbench_plugin.compare.spec import CompareSpec
    from robbench_plugin.space import NUM_ARCHS

    cspec = CompareSpec(benchmark="digits", objectives=("clean", "robust"), budget=8)
    bench = cspec.load()
    first = run_one(name, 1, cspec, bench=bench)
    pd.testing.assert_frame_equal(first, run_one(name, 1, cspec, bench=bench))
    assert len(first) and first["full"].any()
    if name == "syne-tune:moasha-ranked":  # multi-fidelity: at most the budget's simulated training time
        budget_time = cspec.budget * float(np.mean([bench.train_time(i) for i in range(NUM_ARCHS)]))
        assert first["sim_time"].iloc[-1] <= budget_time * (1 + 1e-9) and (~first["full"]).any()
    else:
        assert first["full"].sum() == round(first["evals"].iloc[-1]) <= cspec.budget
