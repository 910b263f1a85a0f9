"""Every example runs with a tiny budget (skipped when its framework is absent)."""
import pytest

from .helpers import ROOT
from .helpers import load_example as load


@pytest.fixture(scope="module")
def bench(digits):
    return digits  # the embedded default (conftest)


def test_examples_are_all_covered():
    covered = {"optuna_single_objective", "optuna_multiobjective_constrained", "optuna_pruning", "optuna_live",
               "optuna_parallel_workers",  # runs in test_optuna_scaleout
               "syne_tune_live", "syne_tune_train_script", "syne_tune_simulated",
               "naslib_regularized_evolution"}
    assert {p.stem for p in (ROOT / "examples").glob("*.py")} <= covered


def test_optuna_single_objective(bench):
    pytest.importorskip("optuna")
    study = load("optuna_single_objective").main(bench, trials=30)
    assert study.best_value == bench.query(study.best_trial.user_attrs["index"], "robust")


def test_optuna_multiobjective_constrained(bench):
    pytest.importorskip("optuna")
    study, problem = load("optuna_multiobjective_constrained").main(bench, trials=40)
    bound = problem.spec.constraint_metrics["params"]
    assert all(t.user_attrs["metrics"]["params"] <= bound for t in study.best_trials)


def test_optuna_pruning(bench):
    optuna = pytest.importorskip("optuna")
    study = load("optuna_pruning").main(bench, trials=60)
    assert any(t.state == optuna.trial.TrialState.PRUNED for t in study.trials)
    # it repeats: Hyperband's brackets come from the study's name, which the example sets
    again = load("optuna_pruning").main(bench, trials=60)
    assert [(t.params, t.state, t.intermediate_values) for t in again.trials] == \
        [(t.params, t.state, t.intermediate_values) for t in study.trials]


def test_optuna_live(tmp_path):
    pytest.importorskip("optuna")
    pytest.importorskip("torch")
    study = load("optuna_live").main(trials=3, recipe="tiny", store_dir=str(tmp_path))
    assert len(study.trials) == 3
    # the results store now answers for the trained classes without training again
    from robbench_plugin.live import LiveBenchmark, ResultsStore

    store = ResultsStore(tmp_path)
    b = LiveBenchmark("digits", "tiny", store=store)
    done = [t for t in study.trials if t.state.name == "COMPLETE"]
    n_stored = len(store.runs(status="done"))
    assert n_stored == len({t.user_attrs["uid"] for t in done})
    for t in done:
        assert b.query(t.user_attrs["index"], "robust") == t.value
    assert len(store.runs(status="done")) == n_stored  # answered from the store, nothing retrained
    assert sum(r.epochs_trained for r in store.runs()) == sum(r.epochs_done for r in store.runs())


def test_syne_tune_live(tmp_path, monkeypatch):
    """The example's trials report the stored training results, and each class is trained once."""
    pytest.importorskip("syne_tune")
    pytest.importorskip("torch")
    monkeypatch.setenv("SYNETUNE_FOLDER", str(tmp_path / "st"))
    df = load("syne_tune_live").main(trials=3, workers=2, recipe="tiny", store=str(tmp_path / "store"),
                                     max_wallclock_time=300)
    reported = df.dropna(subset=["metric_robust_error"])
    assert len(reported) >= 3
    from robbench_plugin.live import LiveBenchmark
    from robbench_plugin.problem import arch_from_params

    bench = LiveBenchmark("digits", "tiny", store=str(tmp_path / "store"), device="cpu")
    for row in reported.itertuples():
        arch = arch_from_params({f"hp_x{i}": getattr(row, f"hp_x{i}") for i in range(6)},
                                names=[f"hp_x{i}" for i in range(6)])
        run = bench.store.get(bench.run_key(arch))
        epoch = [e for e in run.record["epochs"] if e["epoch"] == row.epoch][0]
        assert row.metric_robust_error == pytest.approx(1 - epoch["val_pgd_48.0_acc"])
    runs = bench.store.runs()
    assert sum(r.epochs_trained for r in runs) == sum(r.epochs_done for r in runs)  # no epoch trained twice


def test_syne_tune_simulated(bench, tmp_path, monkeypatch):
    pytest.importorskip("syne_tune")
    monkeypatch.setenv("SYNETUNE_FOLDER", str(tmp_path / "st"))
    out = load("syne_tune_simulated").main(bench, schedulers=("asha", "moasha"), trials=30)
    assert set(out) == {"asha", "moasha"}


@pytest.mark.naslib
def test_naslib_regularized_evolution(bench):
    import importlib.util

    if importlib.util.find_spec("naslib") is None:
        pytest.skip("NASLib not on PYTHONPATH (not on PyPI; see docs/naslib.md)")
    opt, trainer = load("naslib_regularized_evolution").main(bench, epochs=20)
    best = opt.get_final_architecture().arch_string()
    # the incumbent is the best robust accuracy among the architectures NASLib evaluated
    assert max(m.accuracy for m in opt.history) == pytest.approx(100 * bench.query(best, "robust"))
