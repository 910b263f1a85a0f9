"""Syne Tune's own single-objective schedulers in ``robbench compare`` (``syne-tune:asha`` ...): each
name builds the class Syne Tune ships in ``syne_tune.optimizer.baselines`` (not a copy), runs on
the digits blackbox as a comparison runs it, and repeats exactly; the multi-fidelity ones stop
trials early and spend no more simulated training time than the budget's."""
import inspect

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("syne_tune")

import syne_tune.optimizer.baselines as baselines  # noqa: E402

from robbench_plugin.adapters.syne_tune import load_blackbox, make_scheduler  # noqa: E402
from robbench_plugin.adapters.syne_tune.compare import MULTI_FIDELITY_COMPARE  # noqa: E402
from robbench_plugin.compare.runs import run_one  # noqa: E402
from robbench_plugin.compare.spec import SEARCHERS, SINGLE_OBJECTIVE, CompareSpec  # noqa: E402
from robbench_plugin.space import NUM_ARCHS  # noqa: E402

SHIPPED = {"asha": "ASHA", "hyperband": "ASHA", "bohb": "BOHB", "asha-bore": "ASHABORE", "asha-cqr": "ASHACQR",
           "random": "RandomSearch", "bo": "TPE", "rea": "REA", "bore": "BORE", "cqr": "CQR"}


def test_every_single_objective_searcher_is_offered():
    syne_tune = {s for s in SINGLE_OBJECTIVE if s.startswith("syne-tune:")}
    assert syne_tune == {f"syne-tune:{n}" for n in SHIPPED} and set(SINGLE_OBJECTIVE) <= set(SEARCHERS)


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_the_scheduler_is_syne_tunes_own_class(name):
    bb = load_blackbox("digits")
    scheduler = make_scheduler(name, bb, seed=3)
    assert type(scheduler) is getattr(baselines, SHIPPED[name])
    assert type(scheduler).__module__.startswith("syne_tune.")
    if name in ("asha", "hyperband"):  # Hyperband is Syne Tune's ASHA with 3 brackets; up to digits' level 4
        assert scheduler.max_t == 4 and len(scheduler.brackets) == (3 if name == "hyperband" else 1)
    if name in ("asha", "hyperband", "bohb", "asha-bore", "asha-cqr"):  # at Syne Tune's own default
        cls = getattr(baselines, SHIPPED[name])
        assert scheduler.reduction_factor == inspect.signature(cls).parameters["reduction_factor"].default == 3


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_runs_in_a_comparison_and_repeats(name):
    cspec = CompareSpec(benchmark="digits", objectives=("robust",), budget=8)
    bench = cspec.load()
    first = run_one(f"syne-tune:{name}", 1, cspec, bench=bench)
    again = run_one(f"syne-tune:{name}", 1, cspec, bench=bench)
    pd.testing.assert_frame_equal(first, again)  # the same seed: the same evaluations, in the same order
    assert len(first) and first["full"].any()
    if name in MULTI_FIDELITY_COMPARE:  # equal simulated training time: at most the budget's
        budget_time = cspec.budget * float(np.mean([bench.train_time(i) for i in range(NUM_ARCHS)]))
        assert first["sim_time"].iloc[-1] <= budget_time * (1 + 1e-9)
        assert (~first["full"]).any()  # some trials stopped before the last fidelity
    else:  # every trial trained to the last fidelity, the budget in full evaluations
        assert first["evals"].iloc[-1] <= cspec.budget + 1e-9
        assert first["full"].sum() == round(first["evals"].iloc[-1])
