"""Optuna's multi-fidelity searchers in ``robbench compare`` (``optuna:tpe-median``, ``-sha``,
``-hyperband``): TPE with the pruner Optuna ships, at Optuna's defaults, on one objective, at equal
simulated training time. Checked against a study written here with Optuna's own API alone, and for
the budget, the stopped trials and exact repeats."""
import numpy as np
import optuna
import pandas as pd
import pytest

from robbench_plugin.adapters.optuna.compare import PRUNED, study_name
from robbench_plugin.compare.runs import run_one
from robbench_plugin.compare.spec import SEARCHERS, SINGLE_OBJECTIVE, CompareSpec
from robbench_plugin.errors import InvalidValueError
from robbench_plugin.problem import EDGE_NAMES
from robbench_plugin.space import NUM_ARCHS, OPS, Arch

NAMES = sorted(f"optuna:{n}" for n in PRUNED)


@pytest.fixture(scope="module")
def task():
    cspec = CompareSpec(benchmark="digits", objectives=("robust",), budget=12)
    return cspec, cspec.load()


def test_offered_for_one_objective_only():
    assert set(NAMES) <= set(SEARCHERS) and set(NAMES) <= set(SINGLE_OBJECTIVE)
    assert {"optuna:tpe", "optuna:nsga2"}.isdisjoint(SINGLE_OBJECTIVE)
    assert all(isinstance(getattr(optuna.pruners, cls)(), optuna.pruners.BasePruner) for cls in PRUNED.values())


def _by_hand(bench, pruner, budget: int, seed: int, name: str) -> list[tuple[int, int]]:
    """The same run with Optuna's API alone: TPE (multivariate, as make_sampler builds it) and
    ``pruner``; each trial reports robust accuracy after every epoch before the last and stops where
    the pruner says; trials run until their simulated training time reaches ``budget`` full
    evaluations of the average cell; the study named ``name`` (Hyperband's brackets hash it).
    Returns (NB201 index, epoch reached) per trial in the budget."""
    metric = bench.resolve_metric("robust")
    final = bench.fidelities[-1]
    recorded = sorted(set(bench.table.frame.query("metric == @metric").fidelity.unique()))  # digits: 1, 2, 4, 8
    spent = []

    def objective(trial):
        arch = Arch.from_ops([trial.suggest_categorical(e, list(OPS)) for e in EDGE_NAMES])
        trial.set_user_attr("index", arch.index)
        for epoch in [e for e in recorded if e < final]:
            trial.report(bench.query(arch, metric, fidelity=epoch), step=epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return bench.query(arch, metric)

    def epoch_of(t):
        return final if t.state == optuna.trial.TrialState.COMPLETE else max(t.intermediate_values)

    limit = budget * float(np.mean([bench.train_time(i) for i in range(NUM_ARCHS)]))

    def stop(study, t):
        spent.append(bench.train_time(t.user_attrs["index"], epoch_of(t)))
        if sum(spent) >= limit:
            study.stop()

    study = optuna.create_study(direction="maximize", pruner=pruner, study_name=name,
                                sampler=optuna.samplers.TPESampler(seed=seed, multivariate=True))
    study.optimize(objective, callbacks=[stop])
    kept = np.cumsum(spent) <= limit * (1 + 1e-9)
    return [(t.user_attrs["index"], epoch_of(t)) for t, k in zip(study.trials, kept) if k]


@pytest.mark.parametrize("name", NAMES)
def test_is_optunas_own_study_and_repeats(name, task):
    cspec, bench = task
    first = run_one(name, 2, cspec, bench=bench)
    pd.testing.assert_frame_equal(first, run_one(name, 2, cspec, bench=bench))  # same seed, same run
    pruner = getattr(optuna.pruners, PRUNED[name.split(":")[1]])()
    by_hand = _by_hand(bench, pruner, cspec.budget, 2, study_name(name.split(":")[1], 2))
    assert list(zip(first["index"], first["fidelity"])) == by_hand
    # equal simulated training time: within the budget's, and some trials stopped before the end
    assert first["sim_time"].iloc[-1] <= cspec.budget * bench.mean_train_time() * (1 + 1e-9)
    assert (~first["full"]).any() and first["full"].any()
    # the values are the table's at the epoch each trial reached
    metric = bench.resolve_metric("robust")
    row = first[~first["full"]].iloc[0]
    assert row[metric] == bench.query(int(row["index"]), metric, fidelity=int(row["fidelity"]))


def test_mean_train_time_is_the_average_cell_to_the_last_epoch(task):
    """Against the clock's own parts: the last epoch times the mean of the cells' seconds per epoch
    (the same figure summed in another order), strictly between the cheapest and dearest cell."""
    _, bench = task
    assert bench.mean_train_time() == pytest.approx(
        bench.fidelities[-1] * float(np.mean(bench.cell_epoch_seconds)), rel=1e-12)
    times = [bench.train_time(i) for i in range(NUM_ARCHS)]
    assert min(times) < bench.mean_train_time() < max(times)


def test_several_objectives_or_one_fidelity_are_refused(task, release_bench):
    from robbench_plugin.adapters.optuna.compare import searcher_trace

    _, bench = task
    with pytest.raises(InvalidValueError, match="single-objective"):
        searcher_trace("tpe-median", bench, ["clean", "robust"], 10, 0)
    assert len(release_bench.fidelities) == 1  # the release: epoch 50 only
    with pytest.raises(InvalidValueError, match="learning curves"):
        searcher_trace("tpe-median", release_bench, ["robust"], 10, 0)
