import logging

import numpy as np
import pytest

pytest.importorskip("syne_tune")
pytest.importorskip("fastparquet")

from robbench_plugin.adapters.syne_tune import (CONFIG_KEYS, METRIC_ELAPSED_TIME, METRIC_ROBUST_ERROR,  # noqa: E402
                                                METRIC_VALID_ERROR, epochs_of_levels, load_blackbox, make_scheduler,
                                                simulate)
from robbench_plugin.errors import RobBenchError  # noqa: E402
from robbench_plugin import load_benchmark  # noqa: E402
from robbench_plugin.release_time import release_epoch_seconds  # noqa: E402
from robbench_plugin.space import Arch  # noqa: E402

from .helpers import curves_bench  # noqa: E402

logging.getLogger("syne_tune").setLevel(logging.ERROR)


@pytest.fixture(scope="module")
def bench():
    return curves_bench()


@pytest.fixture(scope="module")
def bb(bench, tmp_path_factory):
    import os

    os.environ["SYNETUNE_FOLDER"] = str(tmp_path_factory.mktemp("st"))
    return load_blackbox(bench)


def _config(arch):
    return dict(zip(CONFIG_KEYS, Arch.parse(arch).ops))


def test_blackbox_follows_nasbench201_conventions(bb):
    assert list(bb.configuration_space) == list(CONFIG_KEYS)
    assert list(bb.fidelity_space) == ["hp_level"]
    assert list(bb.fidelity_values) == [1, 2, 3, 4]  # the table's evaluations, at epochs 1, 2, 4, 8
    assert epochs_of_levels(bb) == {1: 1, 2: 2, 3: 4, 4: 8}
    for name in (METRIC_VALID_ERROR, METRIC_ROBUST_ERROR, "metric_params", "metric_flops", "metric_runtime",
                 METRIC_ELAPSED_TIME):
        assert name in bb.objectives_names
    assert len(bb.hyperparameters) == 15625
    assert bb.robbench_metadata["time_source"] == "op-count-model"


def test_blackbox_values_equal_the_table(bb, bench):
    for index in (0, 1000, 1462, 1651, 15624):
        for level, f in ((1, 1), (2, 2), (3, 4), (4, 8)):
            res = bb.objective_function(_config(index), fidelity={"hp_level": level}, seed=0)
            assert res["metric_epochs"] == f
            assert res[METRIC_VALID_ERROR] == pytest.approx(1 - bench.query(index, "clean", fidelity=f), abs=1e-6)
            assert res[METRIC_ROBUST_ERROR] == pytest.approx(1 - bench.query(index, "robust", fidelity=f), abs=1e-6)
            assert res[METRIC_ELAPSED_TIME] == pytest.approx(bench.train_time(index, f), rel=1e-5)
            assert res["metric_params"] == pytest.approx(bench.query(index, "params"), rel=1e-6)


def test_cache_roundtrip(bb, bench):
    again = load_blackbox(bench)  # from the serialized cache
    assert np.allclose(again.objectives_evaluations, bb.objectives_evaluations)
    assert again.objectives_names == bb.objectives_names


def test_asha_simulation_stops_early_and_reports_table_values(bb, bench):
    df = simulate(bb, make_scheduler("asha", bb, seed=0), n_workers=4, max_num_trials=60)
    import pandas as pd

    df = df.assign(metric_robust_error=pd.to_numeric(df[METRIC_ROBUST_ERROR], errors="coerce"),
                   metric_elapsed_time=pd.to_numeric(df[METRIC_ELAPSED_TIME], errors="coerce")).dropna(
        subset=[METRIC_ROBUST_ERROR])  # every reported result
    assert len(df) >= 40
    last = df.groupby("trial_id")["hp_level"].max()
    assert (last < 4).mean() > 0.5  # most trials stopped before the last level
    epoch = epochs_of_levels(bb)
    for row in df.sample(40, random_state=0).itertuples():
        arch = Arch.from_ops([getattr(row, k) for k in CONFIG_KEYS])
        e = epoch[row.hp_level]
        assert row.metric_robust_error == pytest.approx(1 - bench.query(arch, "robust", fidelity=e), abs=1e-6)
        # simulated time advanced by exactly the tabulated epoch times of this trial
        assert getattr(row, METRIC_ELAPSED_TIME) == pytest.approx(bench.train_time(arch, e), rel=1e-4)
    # the simulated clock at a trial's last report is at least the time that trial trained
    assert (df["st_tuner_time"] >= df[METRIC_ELAPSED_TIME] - 1e-6).all()


def test_training_time_budget_is_spent_on_training(bb, bench):
    """A stopping scheduler under ``max_training_time`` trains for (almost) exactly that long:
    trials stopped after one short epoch must not each cost Syne Tune's 5 s poll interval."""
    import pandas as pd

    budget = 60 * float(np.mean([bench.train_time(i) for i in range(0, 15625, 97)]))
    # (simulations are deterministic: with scheduler seed 1 MOASHA stops most trials at its first rung here)
    df = simulate(bb, make_scheduler("moasha", bb, metrics=[METRIC_VALID_ERROR, METRIC_ROBUST_ERROR], seed=1),
                  n_workers=1, max_training_time=budget)
    runtime = pd.to_numeric(df["metric_runtime"], errors="coerce")
    longest_trial = max(bench.train_time(i) for i in range(0, 15625, 97))
    assert budget <= runtime.sum() <= budget + longest_trial
    assert (df.groupby("trial_id")["hp_level"].max() < 4).sum() >= 5  # trials stopped early
    # one worker: the clock is the training time plus the poll waits (a tenth of an epoch) and compute
    assert df["st_tuner_time"].max() < 1.5 * runtime.sum()
    with pytest.raises(ValueError, match="max_training_time"):
        simulate(bb, make_scheduler("random", bb), max_training_time=0)


def test_grace_period_and_reduction_factor_set_the_rungs(bb):
    """Rungs are levels the table holds: by default (Syne Tune's grace period 1, reduction factor 3)
    levels 1 and 3, i.e. epochs 1 and 4 (recorded), never at an epoch the table lacks; grace period 3
    (epoch 4) stops no trial before epoch 4; reduction factor 2 puts the rungs at levels 1 and 2."""
    def last_levels(**kw):
        df = simulate(bb, make_scheduler("moasha", bb, metrics=[METRIC_VALID_ERROR, METRIC_ROBUST_ERROR], seed=1,
                                         **kw), n_workers=1, max_num_trials=60)
        return df.groupby("trial_id")["hp_level"].max().sort_index().iloc[:-1]  # the tuner stops the last one

    default, later, rf2 = last_levels(), last_levels(grace_period=3), last_levels(reduction_factor=2)
    assert set(default) == {1, 3, 4}  # rungs at levels 1 and 3 (epochs 1 and 4)
    assert default.equals(last_levels(grace_period=1, reduction_factor=3))  # Syne Tune's defaults, named
    assert len(later) >= 50 and set(later) <= {3, 4}  # with grace period level 3 none stops before epoch 4
    assert set(rf2) == {1, 2, 4} and (rf2 < 3).sum() >= 3  # stopped at the rungs 1 and 2, or complete
    with pytest.raises(ValueError, match="grace_period"):
        make_scheduler("asha", bb, grace_period=5)
    with pytest.raises(ValueError, match="reduction_factor"):
        make_scheduler("asha", bb, reduction_factor=1)


@pytest.mark.parametrize("name", ["moasha", "moasha-ranked", "morea", "morea-ranked", "morandom"])
def test_multi_objective_schedulers_run(bb, name):
    df = simulate(bb, make_scheduler(name, bb, metrics=[METRIC_VALID_ERROR, METRIC_ROBUST_ERROR], seed=0),
                  n_workers=2, max_num_trials=20)
    assert df["trial_id"].nunique() >= 10
    import pandas as pd

    done = pd.to_numeric(df[METRIC_ROBUST_ERROR], errors="coerce").dropna()
    assert len(done) >= 8 and done.between(0, 1).all()


@pytest.mark.parametrize("name", ["hyperband", "bohb", "random", "bo", "rea"])
def test_single_objective_schedulers_run(bb, name):
    df = simulate(bb, make_scheduler(name, bb, seed=1), n_workers=2, max_num_trials=15)
    assert df["trial_id"].nunique() >= 10


def test_release_blackbox_uses_flops_time_model(synthetic_release):
    bb = load_blackbox("nas-robbench-201", dataset="cifar10", data_dir=str(synthetic_release))
    assert list(bb.fidelity_values) == [1] and epochs_of_levels(bb) == {1: 50}
    assert bb.robbench_metadata["time_source"] == "flops-model"
    from robbench_plugin import arch_costs

    res = bb.objective_function(_config(1000), fidelity={"hp_level": 1}, seed=0)
    runs = load_benchmark("nas-robbench-201", dataset="cifar10", data_dir=str(synthetic_release)).runs_per_class
    assert res[METRIC_ELAPSED_TIME] == pytest.approx(
        50 * release_epoch_seconds("cifar10", arch_costs(1000)["flops"], runs), rel=1e-5)


def test_bad_inputs(bb):
    with pytest.raises(ValueError, match="scheduler"):
        make_scheduler("hyperopt", bb)
    for not_offered in ("ehvi", "mosurrogate"):  # they do not run on the pinned Syne Tune: not offered
        with pytest.raises(ValueError, match="valid: 'asha'"):
            make_scheduler(not_offered, bb)
    with pytest.raises(ValueError, match="metric"):
        make_scheduler("asha", bb, metrics=["metric_accuracy"])
    with pytest.raises(ValueError, match="at least one"):
        simulate(bb, make_scheduler("random", bb))
    with pytest.raises(ValueError, match="tuner_sleep_time"):
        simulate(bb, make_scheduler("random", bb), max_num_trials=2, tuner_sleep_time=0)
    with pytest.raises(ValueError, match="mode"):
        load_blackbox("digits", mode="live")
    # one seed in this blackbox: seed 1 is the package's error naming the valid positions, not an AssertionError
    with pytest.raises(RobBenchError, match=r"seed .*valid: 0"):
        simulate(bb, make_scheduler("random", bb), max_num_trials=2, seed=1)


SIMULATE_IN_A_FRESH_PROCESS = """
import logging
logging.getLogger("syne_tune").setLevel(logging.ERROR)
from robbench_plugin.adapters.syne_tune import (METRIC_ROBUST_ERROR, METRIC_VALID_ERROR, load_blackbox,
                                                make_scheduler, simulate)
from tests.helpers import curves_bench
bb = load_blackbox(curves_bench())
df = simulate(bb, make_scheduler({name!r}, bb, metrics=[METRIC_VALID_ERROR, METRIC_ROBUST_ERROR], seed=2),
              n_workers={workers}, max_num_trials=40)
print(len(df))
print(df.astype(str).to_csv(index=False))
"""


@pytest.mark.slow
@pytest.mark.parametrize("name, workers", [("moasha", 2), ("moasha-ranked", 2), ("morea-ranked", 2), ("morea", 2),
                                           ("asha", 1)])
def test_simulation_repeats_exactly(name, workers):
    """The same blackbox, scheduler seed and limits give the same frame, row for row, in two fresh
    processes whose hash seeds and global generator states differ (Syne Tune's clock would count the
    scheduler's real compute time, and its searchers draw from the global generators besides their
    own: both are handled by simulate, not by the process the runs share)."""
    from .helpers import run_fresh

    code = SIMULATE_IN_A_FRESH_PROCESS.format(name=name, workers=workers)
    a, b = run_fresh(code, hash_seed=1, rng_seed=1), run_fresh(code, hash_seed=2, rng_seed=7)
    assert int(a.split()[0]) > 40
    assert a == b


@pytest.fixture(scope="module")
def digits_bb():
    return load_blackbox("digits")


# (limits of one simulation) -> the limit that binds; "big" values never bind
LIMIT_CASES = {
    "simulated time": ({"max_wallclock_time": 20.0}, "time"),
    "simulated time + a training time that does not bind": ({"max_wallclock_time": 20.0, "max_training_time": 1e9},
                                                            "time"),
    "simulated time + trials that do not bind": ({"max_wallclock_time": 20.0, "max_num_trials": 10**6}, "time"),
    "training time": ({"max_training_time": 30.0}, "training"),
    "training time + a simulated time that does not bind": ({"max_training_time": 30.0, "max_wallclock_time": 1e9},
                                                            "training"),
    "training time + evaluations that do not bind": ({"max_training_time": 30.0, "max_num_evaluations": 10**6},
                                                     "training"),
    "trials + simulated time and training time that do not bind": (
        {"max_num_trials": 12, "max_wallclock_time": 1e9, "max_training_time": 1e9}, "trials"),
    "simulated time binding before the training time": ({"max_wallclock_time": 10.0, "max_training_time": 30.0},
                                                         "time"),
    "training time binding before the simulated time": ({"max_wallclock_time": 40.0, "max_training_time": 30.0},
                                                        "training"),
}


@pytest.mark.parametrize("case", list(LIMIT_CASES))
def test_every_limit_is_on_the_simulated_clock(digits_bb, case):
    """Each limit of simulate, alone or with others, stops the run on the simulated clock: a
    simulated-time limit W when the simulator's clock passes W (a result past W is the one that
    stops it; the run takes far less real time than W when results are cheap), a training-time
    limit T when the reported training time reaches T, a trial limit at that many trials; and a
    limit that does not bind changes nothing (the same frame as the binding limit alone)."""
    import time

    limits, binding = LIMIT_CASES[case]

    def run(**kw):
        return simulate(digits_bb, make_scheduler("asha", digits_bb, seed=0), n_workers=2, **kw)

    started = time.perf_counter()
    df = run(**limits)
    seconds = time.perf_counter() - started
    clock, spent = df["st_tuner_time"].to_numpy(), df["metric_runtime"].astype(float).to_numpy()
    order = np.argsort(clock, kind="stable")
    if binding == "time":
        w = limits["max_wallclock_time"]
        assert clock.max() > w and (clock > w).sum() <= 2  # stopped by the first results past W (2 workers)
        assert spent.sum() < limits.get("max_training_time", np.inf)
        alone = run(max_wallclock_time=w)
        assert seconds < w / 2, "the simulated-time limit was waited out in real time"
    elif binding == "training":
        t = limits["max_training_time"]
        cumulative = np.cumsum(spent[order])
        assert cumulative[-1] >= t and cumulative[-2] < t  # the last result is the one that reached T
        assert clock.max() <= limits.get("max_wallclock_time", np.inf)
        alone = run(max_training_time=t)
    else:
        # Syne Tune stops once one trial past the limit has started (it may not have reported yet)
        assert limits["max_num_trials"] <= df["trial_id"].nunique() <= limits["max_num_trials"] + 1
        alone = run(max_num_trials=limits["max_num_trials"])
    assert len(df) == len(alone) and (df["trial_id"].to_numpy() == alone["trial_id"].to_numpy()).all()
    assert np.allclose(clock, alone["st_tuner_time"].to_numpy())


def test_simulate_leaves_the_callers_global_generators_as_they_were(digits_bb):
    """A seeded script must not drift with the number of simulate calls: Python's and NumPy's global
    generator states are the same before and after (the scheduler is made before the first state is
    taken, so only simulate is measured)."""
    import random

    random.seed(5)
    np.random.seed(5)
    scheduler = make_scheduler("moasha", digits_bb, metrics=[METRIC_VALID_ERROR, METRIC_ROBUST_ERROR], seed=3)
    py_state, np_state = random.getstate(), np.random.get_state()
    simulate(digits_bb, scheduler, n_workers=2, max_num_trials=10)
    assert random.getstate() == py_state
    after = np.random.get_state()
    assert after[0] == np_state[0] and (after[1] == np_state[1]).all() and after[2:] == np_state[2:]


def test_a_table_with_every_epoch_uses_syne_tunes_hp_epoch(tmp_path_factory):
    """Accuracies after every epoch 1..4 (like Fashion-MNIST's 1..6): the fidelity is ``hp_epoch`` =
    the epoch, as in Syne Tune's nasbench201 blackbox, and MOASHA's rungs are epochs (reduction
    factor 3: epochs 1 and 3), each reporting the table's value at that epoch."""
    import os

    import pandas as pd

    from robbench_plugin.adapters.syne_tune import EPOCH_ATTR, fidelity_attr

    os.environ["SYNETUNE_FOLDER"] = str(tmp_path_factory.mktemp("st-epoch"))
    bench = curves_bench(epochs=(1, 2, 3, 4))
    bb = load_blackbox(bench, cache=False)
    assert list(bb.fidelity_space) == [EPOCH_ATTR] == [fidelity_attr(bb)] and list(bb.fidelity_values) == [1, 2, 3, 4]
    assert epochs_of_levels(bb) == {1: 1, 2: 2, 3: 3, 4: 4}
    df = simulate(bb, make_scheduler("moasha", bb, metrics=[METRIC_VALID_ERROR, METRIC_ROBUST_ERROR], seed=1,
                                     reduction_factor=3), n_workers=1, max_num_trials=60)
    last = df.groupby("trial_id")[EPOCH_ATTR].max().sort_index().iloc[:-1]
    assert set(last) == {1, 3, 4}
    df = df.assign(err=pd.to_numeric(df[METRIC_ROBUST_ERROR], errors="coerce")).dropna(subset=["err"])
    for row in df.sample(20, random_state=0).itertuples():
        arch = Arch.from_ops([getattr(row, k) for k in CONFIG_KEYS])
        assert row.err == pytest.approx(1 - bench.query(arch, "robust", fidelity=int(getattr(row, EPOCH_ATTR))),
                                        abs=1e-6)


def test_compare_trace_of_moasha_on_an_every_epoch_table_is_in_epochs():
    """robbench compare's Syne Tune part on a table with every epoch: the trace's epochs are the
    hp_epoch values MOASHA reported, each step trains the epochs since the trial's previous
    report, and the training time stays within the budget of 20 average full evaluations."""
    from robbench_plugin.adapters.syne_tune import searcher_trace

    bench = curves_bench(epochs=(1, 2, 3, 4))
    trace = searcher_trace("moasha", bench, ["clean", "robust"], budget=20, seed=0)
    assert set(trace["epoch"]) <= {1, 2, 3, 4} and (trace["epochs_trained"] >= 1).all()
    for row in trace.sample(10, random_state=0).itertuples():
        done = row.epoch - row.epochs_trained
        assert row.runtime == pytest.approx(bench.train_time(int(row.index), row.epoch)
                                            - (bench.train_time(int(row.index), done) if done else 0.0), rel=1e-4)
    budget_time = 20 * float(np.mean([bench.train_time(i) for i in range(15625)]))
    assert trace["runtime"].sum() <= budget_time * (1 + 1e-9)
    assert (trace["epoch"] < 4).any()  # MOASHA stopped some trials early
