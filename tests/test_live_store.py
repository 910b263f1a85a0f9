"""The live results store: one training per run across processes, takeover of a killed worker's
run from its checkpoint, partial runs and pruning, run keys, on SQLite and on a real PostgreSQL.

The independent fact behind most checks is the trainer run straight through in this process
(:func:`robbench_plugin.train.train`): whatever the interleaving of workers, kills and resumes,
the stored curve must equal it (times excepted) and no epoch may be computed twice.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("sqlalchemy")

from robbench_plugin.live import LiveBenchmark  # noqa: E402
from robbench_plugin.space import Arch  # noqa: E402
from robbench_plugin.store import LeaseLostError, ResultsStore, RunKey  # noqa: E402
from robbench_plugin.train import Recipe, train  # noqa: E402

RECIPE = Recipe.preset("tiny").replace(epochs=3, name="tiny3")
UIDS = (0, 1, 10)  # three classes (uid 1 and 10 are representatives of other classes than 0)


def untimed(epochs: list[dict]) -> list[dict]:
    return [{k: v for k, v in e.items() if not k.endswith("time_s")} for e in epochs]


@pytest.fixture(scope="module")
def straight():
    """uid -> the epochs of one uninterrupted run in this process (one thread, as live runs use)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return {u: untimed(train(u, "digits", RECIPE, seed=0, device="cpu").epochs) for u in UIDS}
    finally:
        torch.set_num_threads(threads)


WORKER = textwrap.dedent("""
    import json, sys, time
    from robbench_plugin.live import LiveBenchmark
    from robbench_plugin.store import ResultsStore
    from robbench_plugin.train import Recipe
    url, recipe, uids, lease_s, pause, out = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3]), \\
        float(sys.argv[4]), float(sys.argv[5]), sys.argv[6]
    bench = LiveBenchmark("digits", Recipe.from_dict(recipe), device="cpu", store=ResultsStore(url, lease_s=lease_s,
                          poll_s=0.2))
    def slow(rec):
        print("epoch", rec["epoch"], flush=True)
        time.sleep(pause)
    values = {u: bench.result(u, on_epoch=slow)["epochs"] for u in uids}
    with open(out, "w") as fh:
        json.dump(values, fh)
""")


def start_worker(url: str, uids, tmp_path, name: str, lease_s: float = 60.0, pause: float = 0.0):
    out = tmp_path / f"{name}.json"
    proc = subprocess.Popen([sys.executable, "-c", WORKER, url, json.dumps(RECIPE.to_dict()), json.dumps(list(uids)),
                             str(lease_s), str(pause), str(out)], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    return proc, out


def check_once_and_equal(store: ResultsStore, straight: dict) -> None:
    runs = {r.key.uid: r for r in store.runs(checkpoints=True)}
    assert sorted(runs) == sorted(straight)  # one row per class: no duplicates, nothing lost
    for uid, run in runs.items():
        assert run.status == "done" and run.checkpoint is None
        assert run.epochs_done == RECIPE.epochs
        assert run.epochs_trained == RECIPE.epochs, f"uid {uid}: an epoch was computed twice"
        assert untimed(run.record["epochs"]) == straight[uid]


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'live.db'}"
    return request.getfixturevalue("postgres_url")


def test_three_processes_asking_for_the_same_classes_train_each_once(store_url, tmp_path, straight):
    """Three worker processes ask for the same three classes at once, in the same order (each
    epoch takes at least 0.3 s, so they overlap): each class is trained by one of them, the others
    wait and get the same values."""
    procs = [start_worker(store_url, UIDS, tmp_path, f"w{i}", pause=0.3) for i in range(3)]
    for proc, _ in procs:
        assert proc.wait(timeout=300) == 0
    store = ResultsStore(store_url)
    check_once_and_equal(store, straight)
    for _, out in procs:  # every worker saw the stored values
        got = json.loads(out.read_text())
        assert {int(u): untimed(e) for u, e in got.items()} == straight
    bench = LiveBenchmark("digits", RECIPE, device="cpu", store=store)
    assert sorted(bench.to_frame()["uid"]) == sorted(UIDS)  # the shared store reads as a table


def test_a_sigkilled_worker_is_taken_over_from_its_checkpoint(store_url, tmp_path, straight):
    """A worker is killed (SIGKILL) after its first epoch is stored; another worker asking for the
    class takes it over and resumes from the checkpoint: the curve equals one uninterrupted run and
    no stored epoch is computed again."""
    proc, _ = start_worker(store_url, [10], tmp_path, "victim", lease_s=60.0, pause=30.0)
    assert proc.stdout.readline().split() == ["epoch", "1"]  # epoch 1 saved (saving precedes the callback)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    store = ResultsStore(store_url, lease_s=60.0, poll_s=0.2)
    run = store.get(LiveBenchmark("digits", RECIPE, device="cpu", store=store).run_key(10))
    assert run.status == "running" and run.epochs_done == 1 and run.checkpoint is not None
    bench = LiveBenchmark("digits", RECIPE, device="cpu", store=store)
    started = time.time()
    rec = bench.result(10)
    assert time.time() - started < 30  # the dead owner's lease (60 s) was not waited out
    assert untimed(rec["epochs"]) == straight[10]
    run = store.get(bench.run_key(10))
    assert (run.status, run.epochs_done, run.epochs_trained, run.claims) == ("done", 3, 3, 2)


def test_an_expired_lease_of_another_machine_is_taken_over(tmp_path):
    """Leases of workers on other machines (whose processes this machine cannot see) hold until
    they run out; then the run is claimed by another worker, and the old owner can no longer save."""
    store = ResultsStore(tmp_path, lease_s=0.5)
    key = RunKey("digits", RECIPE.key(), "fp32", "cpu", 10, 0)
    far = "another-machine/12345/abcd"
    assert store.claim(key, far, 3).state == "claimed"
    assert store.claim(key, "here/1/x", 3).state == "busy"
    time.sleep(0.6)
    assert store.claim(key, "here/1/x", 3).state == "claimed"
    with pytest.raises(LeaseLostError):
        store.save_progress(key, far, {"epochs": [{"epoch": 1}]}, b"", "n", new_epochs=1)
    assert store.get(key).epochs_done == 0


def test_stopping_early_stores_a_partial_run_and_more_epochs_resume_it(tmp_path, straight):
    """A query at epoch 1 trains one epoch; a pruning callback then stops at epoch 2 (partial, with
    checkpoint); the final query resumes: the numbers of one uninterrupted run, each epoch once."""
    bench = LiveBenchmark("digits", RECIPE, device="cpu", store=tmp_path)
    assert bench.query(1, "val_acc", fidelity=1) == straight[1][0]["val_acc"]
    key = bench.run_key(1)
    assert (bench.store.get(key).status, bench.store.get(key).epochs_done) == ("partial", 1)
    seen = []
    rec = bench.result(1, on_epoch=lambda e: seen.append(e["epoch"]) or e["epoch"] < 2)
    assert seen == [1, 2] and rec["stopped_early"] and len(rec["epochs"]) == 2
    run = bench.store.get(key)
    assert (run.status, run.epochs_done, run.epochs_trained) == ("partial", 2, 2) and run.checkpoint
    # a stored (partial or finished) class still honours the pruner: the record stops where it says
    again = bench.result(1, on_epoch=lambda e: e["epoch"] < 1)
    assert again["stopped_early"] and len(again["epochs"]) == 1
    assert bench.query(1, "robust") == straight[1][-1]["val_pgd_48.0_acc"]
    run = bench.store.get(key)
    assert (run.status, run.epochs_done, run.epochs_trained, run.checkpoint) == ("done", 3, 3, None)
    assert untimed(run.record["epochs"]) == straight[1]
    pruned = bench.result(1, on_epoch=lambda e: False)  # a finished class replayed to a pruner
    assert pruned["stopped_early"] and len(pruned["epochs"]) == 1


def test_runs_are_keyed_by_precision_and_the_callers_threads_are_restored(tmp_path):
    store = ResultsStore(tmp_path)
    fp32 = LiveBenchmark("digits", RECIPE.replace(epochs=1), device="cpu", store=store)
    bf16 = LiveBenchmark("digits", RECIPE.replace(epochs=1), device="cpu", store=store, precision="bf16")
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        a, b = fp32.query(0, "val_acc"), bf16.query(0, "val_acc")
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(threads)
    keys = sorted((r.key.precision, r.key.device_type) for r in store.runs())
    assert keys == [("bf16", "cpu"), ("fp32", "cpu")]  # two runs, not one answer for both
    assert fp32.run_key(0) != bf16.run_key(0)
    assert {r.key.precision: r.record["precision"] for r in store.runs()} == {"bf16": "bf16", "fp32": "fp32"}
    del a, b


def test_bad_store_settings_are_clear_errors(tmp_path):
    from robbench_plugin.errors import InvalidChoiceError, InvalidValueError

    with pytest.raises(InvalidValueError, match="lease_s"):
        ResultsStore(tmp_path, lease_s=0)
    with pytest.raises(InvalidChoiceError, match="precision"):
        LiveBenchmark("digits", "tiny", store=tmp_path, precision="fp16")
    bench = LiveBenchmark("digits", "tiny", store="sqlite://", device="cpu")
    with pytest.raises(InvalidValueError, match="in-memory"):
        bench.prefetch([0, 1], workers=2)
    with pytest.raises(InvalidValueError, match="epochs to train"):
        bench.result(0, until=9)


def test_the_heartbeat_keeps_a_claim_longer_than_its_lease(tmp_path):
    """While a worker trains, its heartbeat thread renews the lease, so an epoch longer than the
    lease is not taken over; without the heartbeat the same wait loses the run."""
    store = ResultsStore(tmp_path, lease_s=0.4)
    key = RunKey("digits", RECIPE.key(), "fp32", "cpu", 10, 0)
    other = "another-machine/1/y"
    assert store.claim(key, "here/1/x", 3).state == "claimed"
    with store.lease(key, "here/1/x") as beat:
        time.sleep(1.2)
        assert store.claim(key, other, 3).state == "busy" and not beat.lost
    time.sleep(0.5)
    assert store.claim(key, other, 3).state == "claimed"


def _open_store(url: str) -> int:
    return len(ResultsStore(url).runs())


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_workers_opening_a_new_store_at_once_all_succeed(tmp_path, backend, request):
    """Workers that start together race to create the store's table; every one must open it. Two
    failures this caught on SQLite: "table already exists" (11 of 15 rounds of 6 processes before the
    first fix) and, under load in CI, "database is locked" (SQLite does not wait when a transaction
    that read the schema then writes, or while the journal mode changes); both are retried now."""
    import multiprocessing as mp

    with mp.get_context("spawn").Pool(6) as pool:
        for i in range(5):
            url = (f"sqlite:///{tmp_path / f'r{i}.db'}" if backend == "sqlite"
                   else request.getfixturevalue("postgres_url") if i == 0 else _fresh_pg(request))
            assert pool.map(_open_store, [url] * 6, chunksize=1) == [0] * 6


def _fresh_pg(request) -> str:
    from .pg import new_database

    return new_database(*request.getfixturevalue("postgres_server"))


# --- leases decided by the lease itself -----------------------------------------------------------
HOLDER = textwrap.dedent("""
    import sys, time
    from robbench_plugin.store import ResultsStore, RunKey, new_owner
    url, hold = sys.argv[1], float(sys.argv[2])
    store = ResultsStore(url, lease_s=1.0)
    key = RunKey("digits", "k", "fp32", "cpu", 10, 0)
    owner = new_owner()
    assert store.claim(key, owner, 3).state == "claimed"
    with store.lease(key, owner) as beat:
        print("claimed", owner, flush=True)
        time.sleep(hold)
    print("lost" if beat.lost else "held", flush=True)
""")


def test_a_live_worker_in_another_pid_namespace_with_the_same_hostname_keeps_its_run(tmp_path):
    """A worker in its own pid namespace (as in a container sharing the host name) claims a run and
    renews its lease; its pid (77777, set through the namespace's ns_last_pid) does not exist in
    this namespace. A worker here must see the run as busy for as long as the lease is renewed, not
    take it over because "host matches and the pid is gone" (what host+pid identities did)."""
    import shutil

    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root and util-linux's unshare to make a pid namespace")
    url = f"sqlite:///{tmp_path / 'live.db'}"
    script = tmp_path / "holder.py"
    script.write_text(HOLDER)
    proc = subprocess.Popen(["unshare", "--pid", "--fork", "--mount-proc", "sh", "-c",
                             f"echo 77776 > /proc/sys/kernel/ns_last_pid && {sys.executable} {script} {url} 4; true"],
                            stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": os.getcwd()})
    words = proc.stdout.readline().split()
    assert words[0] == "claimed", words
    with pytest.raises(ProcessLookupError):
        os.kill(77777, 0)  # no such process here
    store = ResultsStore(url, lease_s=1.0)
    key = RunKey("digits", "k", "fp32", "cpu", 10, 0)
    end = time.time() + 2.5  # more than two leases, all renewed by the holder's heartbeat
    while time.time() < end:
        assert store.claim(key, "other-worker", 3).state == "busy"
        time.sleep(0.1)
    assert proc.stdout.readline().strip() == "held" and proc.wait(timeout=30) == 0
    assert "77777" in words[1]  # the holder had that pid (in its own namespace)
    time.sleep(1.1)  # the holder stopped renewing: its lease runs out
    assert store.claim(key, "other-worker", 3).state == "claimed"


def test_only_a_process_certainly_gone_is_taken_over_before_its_lease_ends(tmp_path):
    """The shortcut needs the same boot and pid namespace: an owner of another namespace (or
    another machine, or an identity without a locator) is waited for even when its pid is free
    here; an owner of this namespace whose pid is free is taken over at once."""
    from robbench_plugin.store import _process_locator, new_owner

    here = _process_locator()
    assert here is not None  # Linux: boot id and pid namespace are readable
    boot, pidns = here.split("/")[0], here.split("/", 1)[1].rpartition("/")[0]
    dead = 4194000  # above any pid in use here
    with pytest.raises(ProcessLookupError):
        os.kill(dead, 0)
    store = ResultsStore(tmp_path, lease_s=60.0)
    owners = {"other namespace": f"a@{boot}/pid:[1]/{dead}", "other boot": f"b@0000-boot/{pidns}/{dead}",
              "no locator": "c", "old form": f"host/{dead}/x"}
    for uid, (what, owner) in enumerate(owners.items()):
        key = RunKey("digits", "k", "fp32", "cpu", uid, 0)
        assert store.claim(key, owner, 3).state == "claimed"
        assert store.claim(key, new_owner(), 3).state == "busy", what
    key = RunKey("digits", "k", "fp32", "cpu", 99, 0)
    assert store.claim(key, f"d@{boot}/{pidns}/{dead}", 3).state == "claimed"
    assert store.claim(key, new_owner(), 3).state == "claimed"  # certainly gone: taken over at once
    assert new_owner() != new_owner() and new_owner().endswith(f"/{os.getpid()}")


@pytest.mark.parametrize("skew_s", [3600.0, -3600.0])
def test_worker_clocks_do_not_decide_leases(store_url, monkeypatch, skew_s):
    """A worker whose clock is an hour ahead must not see a live lease as expired, and one whose
    clock is an hour behind must not write a lease that has already expired: leases are timed by
    the database's clock."""
    import robbench_plugin.store as store_module

    store = ResultsStore(store_url, lease_s=30.0)
    key = RunKey("digits", "k", "fp32", "cpu", 10, int(skew_s > 0))
    real = time.time
    monkeypatch.setattr(store_module.time, "time", lambda: real() + skew_s)
    assert store.claim(key, "skewed-owner", 3).state == "claimed"
    assert store.claim(key, "other", 3).state == "busy"
    store.heartbeat(key, "skewed-owner")
    monkeypatch.setattr(store_module.time, "time", real)
    assert store.claim(key, "other", 3).state == "busy"
    run = store.get(key)
    assert abs(run.lease_until - (real() + 30.0)) < 5.0  # the database's now + lease_s


def test_a_database_outage_during_heartbeats_is_logged_and_a_lost_lease_stops_training(tmp_path, monkeypatch,
                                                                                     caplog):
    """Heartbeats that fail (the database unreachable) are logged and retried; the lease survives an
    outage shorter than the lease. When the outage outlasts the lease and another worker takes the
    run, the heartbeat finds the lease lost and the trainer stops at its next epoch with a clear
    message, saving nothing more."""
    import logging

    import sqlalchemy as sa

    caplog.set_level(logging.WARNING, logger="robbench_plugin.store")
    store = ResultsStore(tmp_path, lease_s=0.8)
    key = RunKey("digits", "k", "fp32", "cpu", 10, 0)
    real = ResultsStore.heartbeat
    outage = {"until": time.time() + 0.5}

    def flaky(self, k, owner):
        if time.time() < outage["until"]:
            raise sa.exc.OperationalError("UPDATE ...", {}, Exception("could not connect to server"))
        return real(self, k, owner)

    monkeypatch.setattr(ResultsStore, "heartbeat", flaky)
    assert store.claim(key, "me", 3).state == "claimed"
    with store.lease(key, "me") as beat:
        time.sleep(1.2)  # the outage (0.5 s) is shorter than the lease (0.8 s): renewed after it
        assert beat.failures >= 1 and not beat.lost
        assert store.claim(key, "other", 3).state == "busy"
    assert any("could not renew the lease" in r.getMessage() for r in caplog.records)

    # an outage longer than the lease: another worker takes over; the trainer must stop
    bench = LiveBenchmark("digits", RECIPE, device="cpu", store=ResultsStore(tmp_path / "b", lease_s=0.4))
    run_key = bench.run_key(0)
    outage["until"] = time.time() + 1e9  # every heartbeat fails from now on
    claim = bench.store.claim(run_key, "trainer", 3)
    slept = []
    import robbench_plugin.train.loop as loop

    original_train = loop.train

    def train_then_steal(*args, **kwargs):
        time.sleep(0.6)  # the lease (0.4 s) runs out while no heartbeat gets through
        assert bench.store.claim(run_key, "thief", 3).state == "claimed"
        outage["until"] = 0  # the database is back: the next heartbeat finds the lease lost
        time.sleep(0.3)
        slept.append(True)
        return original_train(*args, **kwargs)

    monkeypatch.setattr(loop, "train", train_then_steal)
    with pytest.raises(LeaseLostError, match="stopped training it here"):
        bench._train_claimed(Arch.parse(0), run_key, "trainer", claim.run, 3, None)
    assert slept and bench.store.get(run_key).owner == "thief" and bench.store.get(run_key).epochs_done == 0
