import importlib.util

import pytest

optuna = pytest.importorskip("optuna")
optunahub = pytest.importorskip("optunahub")

from .helpers import ROOT, load_example  # noqa: E402


@pytest.mark.parametrize("kind", ["journal", "sqlite"])
def test_four_workers_share_a_storage_without_loss_or_duplicates(tmp_path, kind):
    ex = load_example("optuna_parallel_workers")
    spec = f"journal:{tmp_path / 'j.log'}" if kind == "journal" else f"sqlite:///{tmp_path / 's.db'}"
    study = ex.main(["--storage", spec, "--workers", "4", "--trials", "60"])  # the embedded digits benchmark
    numbers = [t.number for t in study.trials]
    assert len(study.trials) == 60
    assert sorted(numbers) == list(range(60))  # none lost, none duplicated
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)


def test_optunahub_local_package_loads_and_runs(synthetic_release):
    mod = optunahub.load_local_module("benchmarks/nas_robbench_201", registry_root=str(ROOT / "adapters" / "optunahub"))
    problem = mod.Problem(benchmark="nas-robbench-201", data_dir=str(synthetic_release), objectives=["clean", "robust"])
    assert isinstance(problem, optunahub.benchmarks.BaseProblem)
    study = optuna.create_study(directions=problem.directions, sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(problem, n_trials=10)
    assert len(study.trials) == 10
    # the package's example, loaded from the local registry copy, runs as written
    spec = importlib.util.spec_from_file_location(
        "hub_example", ROOT / "adapters/optunahub/benchmarks/nas_robbench_201/example.py")
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    hub_study = example.main(local_registry=str(ROOT / "adapters" / "optunahub"), n_trials=12)
    assert len(hub_study.trials) == 12 and hub_study.best_trials
    readme = (ROOT / "adapters/optunahub/benchmarks/nas_robbench_201/README.md").read_text()
    front = readme.split("---")[1]
    for field in ("author:", "title:", "description:", "tags:", "optuna_versions:", "license:"):
        assert field in front


def test_search_command_reports_front_and_plot(synthetic_release, tmp_path, capsys):
    import json

    from robbench_plugin.cli import main

    out = tmp_path / "s"
    rc = main(["search", "--trials", "80", "--seeds", "6", "--out", str(out), "--sampler", "nsga2"])  # README's main job, smaller
    assert rc == 0
    s = json.loads((out / "summary.json").read_text())
    assert s["trials"] == 80 and 0 < s["hypervolume_ratio"] <= 1
    assert (out / "pareto.png").stat().st_size > 10_000
    text = capsys.readouterr().out
    assert "hypervolume" in text and "found Pareto front" in text
    rc = main(["search", "--benchmark", "nas-robbench-201", "--data-dir", str(synthetic_release), "--trials", "30",
               "--out", str(tmp_path / "c"), "--objectives", "robust,params", "--constraint", "params<=0.6"])
    assert rc == 0
    import pandas as pd

    assert (pd.read_csv(tmp_path / "c" / "front.csv")["params"] <= 0.6).all()
    assert main(["search", "--constraint", "params<0.6", "--benchmark", "nas-robbench-201",
                 "--data-dir", str(synthetic_release), "--out", str(tmp_path / "d")]) == 2
