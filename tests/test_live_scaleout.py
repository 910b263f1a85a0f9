"""Live mode the way HPO is run: several Optuna workers on one study and one results store,
pruning that stops training, batched ask/tell, Syne Tune's LocalBackend with two workers.

Facts checked: the study's trial numbers (none lost or duplicated), the store's one row per class
and its count of epochs computed (none twice), every completed trial's value against the stored
final record, and pruned trials' runs ending before the last epoch.
"""
from __future__ import annotations

import pytest

pytest.importorskip("torch")
optuna = pytest.importorskip("optuna")

from robbench_plugin.live import LiveBenchmark  # noqa: E402
from robbench_plugin.store import ResultsStore  # noqa: E402
from robbench_plugin.train import Recipe  # noqa: E402

RECIPE = Recipe.preset("tiny").replace(epochs=4, name="tiny4")


def check_store(store: ResultsStore) -> dict:
    """One row per class; no epoch computed twice. Returns uid -> run."""
    runs = store.runs()
    uids = [r.key.uid for r in runs]
    assert len(uids) == len(set(uids))
    for r in runs:
        assert r.epochs_trained == r.epochs_done, f"uid {r.key.uid}: {r.epochs_trained} epochs computed for " \
                                                  f"{r.epochs_done} stored"
    return {r.key.uid: r for r in runs}


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_four_optuna_workers_in_live_mode_share_one_store(tmp_path, backend, request):
    from robbench_plugin.adapters.optuna import optimize_parallel

    store = str(tmp_path / "store") if backend == "sqlite" else request.getfixturevalue("postgres_url")
    storage = f"sqlite:///{tmp_path / 'study.db'}" if backend == "sqlite" else store
    study = optimize_parallel(storage, workers=4, trials=12, sampler="random", pruner="median",
                              benchmark="digits", mode="live", recipe=RECIPE, store=store, device="cpu",
                              objectives="robust", report_curve=True)
    assert sorted(t.number for t in study.trials) == list(range(12))  # none lost, none duplicated
    states = {t.state for t in study.trials}
    assert states <= {optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED}
    runs = check_store(ResultsStore(store))
    assert set(runs) == {_uid(t) for t in study.trials}  # every proposed class, and only those
    for t in study.trials:
        run = runs[_uid(t)]
        if t.state == optuna.trial.TrialState.COMPLETE:
            assert run.status == "done"
            assert t.value == run.record["epochs"][-1]["val_pgd_48.0_acc"]
    pruned = [t for t in study.trials if t.state == optuna.trial.TrialState.PRUNED]
    for t in pruned:  # its class stopped where the pruner said, unless another trial took it further
        last = max(t.intermediate_values)
        assert runs[_uid(t)].epochs_done >= last


def _uid(trial) -> int:
    from robbench_plugin.problem import arch_from_params

    return arch_from_params(trial.params).uid


@pytest.mark.slow
def test_pruning_in_batched_ask_tell_stops_training(tmp_path):
    """optimize_batched with a pruner advances the batch epoch by epoch: pruned trials' classes stop
    there, the others resume from their checkpoints; the same study without a pruner trains
    every class to the end."""
    from robbench_plugin.adapters.optuna import RobustNASProblem, make_pruner, make_sampler, optimize_batched

    epochs = {}
    for pruner in ("none", "median"):
        bench = LiveBenchmark("digits", RECIPE, device="cpu", store=tmp_path / pruner)
        problem = RobustNASProblem(bench, objectives="robust", report_curve=True)
        study = optuna.create_study(direction="maximize", sampler=make_sampler("random", seed=3),
                                    pruner=make_pruner(pruner))
        optimize_batched(problem, study, n_trials=8, batch_size=4, workers=1)  # parallel: test_optuna_adapter
        runs = check_store(bench.store)
        epochs[pruner] = sum(r.epochs_trained for r in runs.values())
        complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
        pruned = [t for t in study.trials if t.state == optuna.trial.TrialState.PRUNED]
        assert len(complete) + len(pruned) == 8
        for t in complete:
            assert t.value == runs[_uid(t)].record["epochs"][-1]["val_pgd_48.0_acc"]
        if pruner == "none":
            assert not pruned and epochs["none"] == RECIPE.epochs * len(runs)
        else:
            assert pruned, "the median pruner pruned nothing in 8 trials"
            for t in pruned:
                assert runs[_uid(t)].epochs_done == max(t.intermediate_values) < RECIPE.epochs
    assert epochs["median"] < epochs["none"]


@pytest.mark.slow
def test_syne_tune_asha_with_two_local_workers_stops_training(tmp_path, monkeypatch):
    """Syne Tune's ASHA on live trials (LocalBackend, 2 workers, the packaged entry point): stopped
    trials train no further epoch, no class is trained twice, and each trial's reported error is
    the stored record's."""
    pytest.importorskip("syne_tune")
    from robbench_plugin.adapters.syne_tune_live import run_live
    from robbench_plugin.problem import arch_from_params

    monkeypatch.setenv("SYNETUNE_FOLDER", str(tmp_path / "st"))
    store = str(tmp_path / "store")
    df = run_live("asha", recipe=RECIPE, trials=8, workers=2, store=store, max_wallclock_time=300)
    runs = check_store(ResultsStore(store))
    assert len(df) >= 8
    trained = sum(r.epochs_trained for r in runs.values())
    assert trained < len(df) * RECIPE.epochs  # ASHA stopped some trials before the last epoch
    keys = [f"hp_x{i}" for i in range(6)]
    for row in df.itertuples():
        uid = arch_from_params({k: getattr(row, k) for k in keys}, names=keys).uid
        rec = {e["epoch"]: e for e in runs[uid].record["epochs"]}
        assert runs[uid].epochs_done >= row.epoch
        assert row.metric_robust_error == pytest.approx(1 - rec[row.epoch]["val_pgd_48.0_acc"])


def test_syne_tune_entry_point_pauses_and_resumes_through_its_checkpoint_dir(tmp_path):
    """The packaged entry point as a pause-and-resume scheduler uses it: run to epoch 2, then again
    with the same ``st_checkpoint_dir`` to epoch 4. The second run resumes from the stored
    checkpoint (no epoch computed twice), reports only epochs 3 and 4, and its values are those of
    one uninterrupted run."""
    pytest.importorskip("syne_tune")
    import json
    import subprocess
    import sys

    import torch
    from syne_tune.report import retrieve

    from robbench_plugin.adapters.syne_tune_live import ENTRY_POINT
    from robbench_plugin.train import train

    recipe_file = tmp_path / "recipe.json"
    recipe_file.write_text(json.dumps(RECIPE.to_dict()))
    ops = {"hp_x0": "nor_conv_3x3", "hp_x1": "skip_connect", "hp_x2": "none", "hp_x3": "avg_pool_3x3",
           "hp_x4": "nor_conv_1x1", "hp_x5": "nor_conv_3x3"}
    store = tmp_path / "store"

    def run(epochs: int) -> list[dict]:
        args = [f"--{k}={v}" for k, v in ops.items()] + [
            f"--epochs={epochs}", f"--recipe={recipe_file}", f"--store={store}", "--device=cpu",
            f"--st_checkpoint_dir={tmp_path / 'ckpt'}"]
        out = subprocess.run([sys.executable, str(ENTRY_POINT), *args], capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr[-2000:]
        return retrieve(out.stdout.splitlines())

    first, second = run(2), run(4)
    assert [r["epoch"] for r in first] == [1, 2] and [r["epoch"] for r in second] == [3, 4]
    from robbench_plugin.problem import arch_from_params

    arch = arch_from_params(ops, names=list(ops))
    runs = check_store(ResultsStore(store))
    assert (runs[arch.uid].epochs_done, runs[arch.uid].epochs_trained) == (4, 4)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # live CPU runs use one thread
    try:
        straight = train(arch, "digits", RECIPE, seed=0, device="cpu").epochs
    finally:
        torch.set_num_threads(threads)
    assert [r["metric_robust_acc"] for r in first + second] == [e["val_pgd_48.0_acc"] for e in straight]
