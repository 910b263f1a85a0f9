"""Live mode with many workers: what is trained, what is lost, what pruning saves.

1. Optuna, 4 worker processes on one study (RDB storage) and one results store, live mode on digits
   with the ``tiny`` recipe, the objective robust accuracy with its curve reported; with the median
   pruner and without (same sampler seeds). Reports trials in the study (lost, duplicated), classes,
   classes with an epoch computed more than once, epochs trained, wall time. On SQLite and on a
   PostgreSQL server started for the run (tests/pg.py).
2. The PostgreSQL study again, with one worker SIGKILLed while it trains: Optuna's heartbeat marks
   its trial failed and ``RetryFailedTrialCallback`` enqueues it again; the retried trial asks for
   the same class, and the store hands it over from the killed worker's last epoch. Reports that
   class's run (epochs stored when killed, claims, epochs computed) and the study's trial states.
3. Syne Tune ASHA on live trials (LocalBackend, 2 workers, the ``quick`` recipe: 3 epochs):
   epochs trained vs trials x epochs.
4. Ray: a two-node cluster on this machine (``ray start --head`` + ``ray start``), a live prefetch
   of 12 classes: runs per node.

    python benchmarks/bench_live_workers.py [--trials 40] [--out live-workers.json]
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from robbench_plugin.store import ResultsStore  # noqa: E402
from robbench_plugin.train.recipe import Recipe  # noqa: E402

WORKERS = 4


def store_figures(store: str, epochs: int) -> dict:
    runs = ResultsStore(store).runs()
    return {"classes": len(runs), "classes_with_an_epoch_computed_twice": sum(r.epochs_trained > r.epochs_done
                                                                             for r in runs),
            "classes_finished": sum(r.status == "done" for r in runs),
            "epochs_trained": sum(r.epochs_trained for r in runs), "epochs_if_all_finished": len(runs) * epochs}


def _optuna_worker(storage_url: str, study: str, trials: int, seed: int, pruner: str, store: str,
                   heartbeat: bool) -> None:
    import optuna

    from robbench_plugin.adapters.optuna import RobustNASProblem, make_pruner, make_sampler

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    storage = optuna.storages.RDBStorage(
        storage_url, heartbeat_interval=1 if heartbeat else None, grace_period=5 if heartbeat else None,
        failed_trial_callback=optuna.storages.RetryFailedTrialCallback(max_retry=1) if heartbeat else None)
    problem = RobustNASProblem("digits", mode="live", recipe="tiny", store=store, device="cpu",
                               objectives="robust", report_curve=True)
    s = optuna.load_study(study_name=study, storage=storage, sampler=make_sampler("tpe", seed=seed),
                          pruner=make_pruner(pruner))
    s.optimize(problem, n_trials=trials)


def optuna_study(storage_url: str, store: str, trials: int, pruner: str, kill_one: bool = False) -> dict:
    """4 workers with exact shares of ``trials``; returns the figures."""
    import optuna

    name = f"live-{pruner}-{'kill' if kill_one else 'plain'}"
    optuna.create_study(study_name=name, storage=storage_url, direction="maximize")
    ctx = mp.get_context("spawn")
    shares = [trials // WORKERS + (i < trials % WORKERS) for i in range(WORKERS)]
    t0 = time.time()
    procs = [ctx.Process(target=_optuna_worker, args=(storage_url, name, n, seed, pruner, store, kill_one))
             for seed, n in enumerate(shares)]
    for p in procs:
        p.start()
    killed = None
    if kill_one:
        killed = kill_while_training(procs[0].pid, store)
    for p in procs:
        p.join()
    out = {"pruner": pruner, "wall_s": round(time.time() - t0, 1)}
    study = optuna.load_study(study_name=name, storage=storage_url)
    states = Counter(t.state.name for t in study.trials)
    numbers = sorted(t.number for t in study.trials)
    out.update({"trials": len(study.trials), "trial_states": dict(states),
                "trial_numbers_unique": len(set(numbers)) == len(numbers)})
    out.update(store_figures(store, Recipe.preset("tiny").epochs))
    if killed is not None:
        from robbench_plugin.live import LiveBenchmark

        bench = LiveBenchmark("digits", "tiny", device="cpu", store=store)
        if ResultsStore(store).get(killed["key"]).status != "done":  # no worker asked for it again: ask now
            bench.result(killed["key"].uid)
        after = ResultsStore(store).get(killed["key"])
        out["killed_worker"] = {"uid": killed["key"].uid, "epochs_stored_when_killed": killed["epochs_done"],
                                "after": {"status": after.status, "epochs_done": after.epochs_done,
                                          "epochs_computed": after.epochs_trained, "claims": after.claims},
                                "retried_trials": sum("failed_trial" in t.system_attrs for t in study.trials)}
    return out


def kill_while_training(pid: int, store: str, timeout: float = 600) -> dict:
    """SIGKILL process ``pid`` once it owns a run with at least one stored epoch; returns that run."""
    s = ResultsStore(store)
    deadline = time.time() + timeout
    while time.time() < deadline:
        for run in s.runs():
            if run.owner and run.owner.split("/")[1] == str(pid) and run.epochs_done >= 1 and run.status == "running":
                os.kill(pid, signal.SIGKILL)
                return {"key": run.key, "epochs_done": run.epochs_done}
        time.sleep(0.05)
    raise RuntimeError("the worker never trained a class past its first epoch")


def syne_tune_asha(tmp: Path, trials: int) -> dict:
    from robbench_plugin.adapters.syne_tune_live import run_live

    store = str(tmp / "st-store")
    t0 = time.time()
    df = run_live("asha", recipe="quick", trials=trials, workers=2, store=store, out_dir=tmp / "st")
    epochs = Recipe.preset("quick").epochs
    out = {"trials": len(df), "wall_s": round(time.time() - t0, 1), "max_epochs": epochs,
           "trials_x_max_epochs": len(df) * epochs, "trial_statuses": dict(Counter(df["status"]))}
    out.update(store_figures(store, epochs))
    return out


def ray_two_nodes(tmp: Path) -> dict:
    import ray

    from robbench_plugin.live import LiveBenchmark

    cli = str(Path(sys.executable).with_name("ray"))
    env = {**os.environ, "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0", "OMP_NUM_THREADS": "1"}
    port = 6391
    common = ["--num-cpus=1", "--num-gpus=0", "--disable-usage-stats", "--node-ip-address=127.0.0.1"]
    subprocess.run([cli, "start", "--head", f"--port={port}", "--include-dashboard=false", *common], check=True,
                   capture_output=True, env=env)
    try:
        subprocess.run([cli, "start", f"--address=127.0.0.1:{port}", *common], check=True, capture_output=True,
                       env=env)
        ray.init(address=f"127.0.0.1:{port}", log_to_driver=False)
        bench = LiveBenchmark("digits", "tiny", device="cpu", store=tmp / "ray-store")
        uids = [0, 1, 10, 100, 1000, 1462, 2000, 3000, 4000, 5000, 6000, 7000]
        t0 = time.time()
        bench.prefetch(uids, backend="ray")
        runs = bench.store.runs()
        return {"classes": len(runs), "nodes_in_cluster": sum(n["Alive"] for n in ray.nodes()),
                "runs_per_node": dict(Counter(r.node for r in runs)), "wall_s": round(time.time() - t0, 1)}
    finally:
        ray.shutdown()
        subprocess.run([cli, "stop", "--force"], capture_output=True, env=env)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=40)
    ap.add_argument("--st-trials", type=int, default=16)
    ap.add_argument("--out", default=None, help="also write the figures as JSON here")
    args = ap.parse_args()
    from tests.pg import new_database, temporary_postgres

    results: dict = {}
    with tempfile.TemporaryDirectory(prefix="robbench-live-bench-") as tmp_s:
        tmp = Path(tmp_s)
        for pruner in ("none", "median"):
            d = tmp / f"sqlite-{pruner}"
            d.mkdir()
            results[f"optuna_sqlite_{pruner}"] = optuna_study(f"sqlite:///{d / 'study.db'}", str(d / "store"),
                                                              args.trials, pruner)
            print(json.dumps(results[f"optuna_sqlite_{pruner}"]), flush=True)
        with temporary_postgres() as (host, port):
            for pruner in ("none", "median"):
                url = new_database(host, port)
                results[f"optuna_postgresql_{pruner}"] = optuna_study(url, url, args.trials, pruner)
                print(json.dumps(results[f"optuna_postgresql_{pruner}"]), flush=True)
            url = new_database(host, port)
            results["optuna_postgresql_sigkill"] = optuna_study(url, url, args.trials, "median", kill_one=True)
            print(json.dumps(results["optuna_postgresql_sigkill"]), flush=True)
        results["syne_tune_asha"] = syne_tune_asha(tmp, args.st_trials)
        print(json.dumps(results["syne_tune_asha"]), flush=True)
        results["ray_two_nodes"] = ray_two_nodes(tmp)
        print(json.dumps(results["ray_two_nodes"]), flush=True)
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
