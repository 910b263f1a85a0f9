import warnings

import numpy as np
import pytest

optuna = pytest.importorskip("optuna")
pytest.importorskip("optunahub")

from robbench_plugin.adapters.optuna import RobustNASProblem, count_unique, make_sampler  # noqa: E402
from robbench_plugin.problem import arch_from_params  # noqa: E402
from robbench_plugin.space import Arch  # noqa: E402

from .helpers import curves_bench  # noqa: E402

optuna.logging.set_verbosity(optuna.logging.WARNING)


@pytest.fixture(scope="module")
def bench():
    return curves_bench()


def _check_against_table(study, problem, bench):
    """Every reported value equals the table's; the study front lies on or below the true front."""
    metrics = problem.metric_names
    for t in study.trials:
        if t.state != optuna.trial.TrialState.COMPLETE:
            continue
        a = arch_from_params(t.params)
        assert t.user_attrs["uid"] == a.uid
        expect = [bench.query(a, m) for m in metrics]
        got = t.values
        assert got == pytest.approx(expect, abs=0)
    spec = problem.spec
    true_front = spec.true_front()[metrics].to_numpy() * spec.signs()
    for t in study.best_trials:
        p = np.asarray(t.values) * spec.signs()
        # no point of the study beats the true front
        assert not (np.all(p >= true_front, axis=1) & np.any(p > true_front, axis=1)).any()
    hv = spec.hypervolume([t.values for t in study.best_trials])
    assert 0 < hv <= spec.true_hypervolume() + 1e-12
    return hv / spec.true_hypervolume()


@pytest.mark.parametrize("sampler", ["tpe", "nsga2", "nsga3", "gp", "random", "bruteforce"])
def test_each_sampler_on_clean_robust(digits, sampler):
    """Each sampler on the embedded benchmark: values equal the table's, front within the true one."""
    problem = RobustNASProblem(digits, objectives=["clean", "robust"])
    study = optuna.create_study(directions=problem.directions, sampler=make_sampler(sampler, seed=0))
    study.optimize(problem, n_trials=40 if sampler == "gp" else 80)
    ratio = _check_against_table(study, problem, digits)
    assert ratio > 0.5, ratio


def test_nsga2_beats_random_at_equal_budget(bench):
    """Over the same three seeds NSGA-II's mean hypervolume ratio is clearly above random search's
    (measured over 8 seeds: 0.83 vs 0.74; random's seed-to-seed std is about 0.05)."""
    ratios = {}
    for name in ("nsga2", "random"):
        rs = []
        for seed in range(3):
            problem = RobustNASProblem(bench, objectives=["clean", "robust"])
            study = optuna.create_study(directions=problem.directions, sampler=make_sampler(name, seed=seed))
            study.optimize(problem, n_trials=200)
            rs.append(_check_against_table(study, problem, bench))
        ratios[name] = np.mean(rs)
    assert ratios["nsga2"] - ratios["random"] > 0.05, ratios


def test_single_objective_tpe_finds_a_top_arch(bench):
    """After 150 trials TPE's median best (seeds 0-2) is among the 6 most robust of 6466 classes.
    Those 6 classes hold 6 of the 15625 cells (0.0384%), so a random search of 150 trials reaches
    them with probability 0.056, and its median of three with probability 0.009."""
    all_robust = bench.to_frame(["robust"])["val_pgd_48.0_acc"].to_numpy()
    ranks = []
    for seed in range(3):
        problem = RobustNASProblem(bench, objectives="robust")
        study = optuna.create_study(direction="maximize", sampler=make_sampler("tpe", seed=seed))
        study.optimize(problem, n_trials=150)
        assert study.best_value == bench.query(study.best_trial.user_attrs["index"], "robust")
        ranks.append(int((all_robust > study.best_value).sum()))
    assert sorted(ranks)[1] <= 5, ranks


def test_constraints_set_on_trials_and_respected_by_front(bench):
    bound = float(np.median(bench.to_frame(["params"])["params"]))
    problem = RobustNASProblem(bench, objectives=["clean", "robust"], constraints={"params": bound})
    study = optuna.create_study(directions=problem.directions, sampler=make_sampler("nsga2", seed=0))
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)  # no deprecated Optuna call on the way
        study.optimize(problem, n_trials=80)
    for t in study.trials:
        p = bench.query(t.user_attrs["index"], "params")
        assert t.user_attrs["constraints"]["params"] == pytest.approx(p - bound)
        assert t.constraints == {"params": pytest.approx(p - bound)}  # stored once, as Optuna's own
    assert all(bench.query(t.user_attrs["index"], "params") <= bound for t in study.best_trials)
    assert (problem.spec.true_front()["params"] <= bound).all()


def test_params_as_third_objective_minimised(bench):
    problem = RobustNASProblem(bench, objectives=["clean", "robust", "params"])
    assert [d.name for d in problem.directions] == ["MAXIMIZE", "MAXIMIZE", "MINIMIZE"]
    study = optuna.create_study(directions=problem.directions, sampler=make_sampler("nsga2", seed=1))
    study.optimize(problem, n_trials=60)
    _check_against_table(study, problem, bench)


def test_default_study_reports_nothing_and_prunes_nothing(bench):
    """A default single-objective study (TPE, Optuna's default MedianPruner) on the default problem:
    no per-epoch reports unless asked for, so no trial is pruned; with reports, the same pruner prunes."""
    def study_of(**kw):
        study = optuna.create_study(direction="maximize", sampler=make_sampler("tpe", seed=0))
        study.optimize(RobustNASProblem(bench, objectives="robust", **kw), n_trials=40)
        return study

    plain = study_of()
    assert all(t.state == optuna.trial.TrialState.COMPLETE and not t.intermediate_values for t in plain.trials)
    reporting = study_of(report_curve=True)
    assert sum(t.state == optuna.trial.TrialState.PRUNED for t in reporting.trials) > 10


def test_pruning_replays_the_curve(bench):
    problem = RobustNASProblem(bench, objectives="robust", report_curve=True)
    study = optuna.create_study(direction="maximize", sampler=make_sampler("random", seed=0),
                                pruner=optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=0))
    study.optimize(problem, n_trials=60)
    pruned = [t for t in study.trials if t.state == optuna.trial.TrialState.PRUNED]
    assert pruned, "the median pruner should stop some trials"
    for t in study.trials[:20]:
        curve = bench.curve(t.params and arch_from_params(t.params), "robust")
        for step, value in t.intermediate_values.items():
            assert value == curve[step]
        assert max(t.intermediate_values, default=0) < 8  # the final epoch is the objective, not a report


def test_user_attrs_and_isomorphic_repeats(bench):
    problem = RobustNASProblem(bench, objectives=["clean", "robust"])
    study = optuna.create_study(directions=problem.directions)
    a, b = Arch.from_index(1651), Arch.from_index(10)  # one class
    for arch in (a, b):
        study.enqueue_trial(dict(zip(problem.search_space, arch.ops)))
    study.optimize(problem, n_trials=2)
    t0, t1 = study.trials
    assert t0.values == t1.values and t0.user_attrs["uid"] == t1.user_attrs["uid"] == 10
    assert t0.user_attrs["arch"] == a.string and set(t0.user_attrs["metrics"]) >= {"val_acc", "params"}
    assert count_unique(study) == 1


def test_optunahub_interface_evaluate(bench):
    problem = RobustNASProblem(bench, objectives=["robust"])
    params = dict(zip(problem.search_space, Arch.from_index(1000).ops))
    assert problem.evaluate(params) == bench.query(1000, "robust")
    assert set(problem.search_space) == {"edge_1_0", "edge_2_0", "edge_2_1", "edge_3_0", "edge_3_1", "edge_3_2"}


def test_bad_inputs(bench):
    with pytest.raises(ValueError, match="sampler"):
        make_sampler("cmaes2")
    with pytest.raises(ValueError, match="metric"):
        RobustNASProblem(bench, objectives=["clen"])
    with pytest.raises(ValueError, match="mode"):
        RobustNASProblem("digits", mode="fast")
    with pytest.raises(ValueError, match="repeat"):
        RobustNASProblem(bench, objectives=["clean", "val_acc"])


def test_optimize_batched_live_trains_each_new_class_once(tmp_path):
    """Batched ask/tell on a live benchmark: every batch's new classes are trained by parallel
    worker processes, and every trial's values are the stored training results."""
    pytest.importorskip("torch")
    from robbench_plugin.adapters.optuna import optimize_batched
    from robbench_plugin.live import LiveBenchmark, ResultsStore
    from robbench_plugin.train.recipe import Recipe

    recipe = Recipe.preset("tiny").replace(epochs=1)
    bench = LiveBenchmark("digits", recipe, store=ResultsStore(tmp_path), device="cpu")
    problem = RobustNASProblem(bench, objectives=["clean", "robust"])
    study = optuna.create_study(directions=problem.directions, sampler=make_sampler("random", seed=0))
    optimize_batched(problem, study, n_trials=4, batch_size=2, workers=2)
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(complete) == 4
    stored = {r.key.uid: r.record["epochs"][-1] for r in bench.store.runs(status="done")}
    assert set(stored) == {t.user_attrs["uid"] for t in complete}  # one record per class, no retraining
    for t in complete:
        final = stored[t.user_attrs["uid"]]
        assert t.values == [final["val_acc"], final[bench.resolve_metric("robust")]]
