"""A real two-node Ray cluster on this machine (``ray start --head`` and a second ``ray start``):
the table builder's runs and live prefetches land on both nodes, and each run records its node."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("torch")
ray = pytest.importorskip("ray")

from robbench_plugin.train.builder import BuildPlan, build, read_shards  # noqa: E402
from robbench_plugin.train.recipe import Recipe  # noqa: E402

RECIPE = Recipe.preset("tiny").replace(epochs=1, name="tiny1")
pytestmark = pytest.mark.slow  # the CI tier: a Ray cluster of two nodes takes a minute


@pytest.fixture(scope="module")
def two_nodes(tmp_path_factory):
    """The address of a Ray cluster of two nodes (one CPU each) started for this module. Token
    authentication is off (``RAY_AUTH_MODE=disabled``): the driver in this process imported Ray
    before the fixture could hand it a token, and the cluster listens on this machine only."""
    cli = str(Path(sys.executable).with_name("ray"))
    if ray.is_initialized():
        ray.shutdown()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"127.0.0.1:{port}"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}
    common = ["--num-cpus=1", "--num-gpus=0", "--disable-usage-stats"]
    subprocess.run([cli, "start", "--head", f"--port={port}", "--node-ip-address=127.0.0.1",
                    "--include-dashboard=false", *common], check=True, capture_output=True, env=env)
    try:
        subprocess.run([cli, "start", f"--address={address}", "--node-ip-address=127.0.0.1", *common], check=True,
                       capture_output=True, env=env)
        ray.init(address=address, log_to_driver=False)
        deadline = time.time() + 60
        while sum(n["Alive"] for n in ray.nodes()) < 2 and time.time() < deadline:
            time.sleep(0.5)
        assert sum(n["Alive"] for n in ray.nodes()) == 2
        yield address
    finally:
        ray.shutdown()
        subprocess.run([cli, "stop", "--force"], capture_output=True, env=env)


def node_ids() -> set[str]:
    return {f"ray:{n['NodeID']}" for n in ray.nodes() if n["Alive"]}


def test_build_runs_land_on_both_nodes(tmp_path, two_nodes):
    plan = BuildPlan(dataset="digits", recipe=RECIPE, uids=(0, 1, 10, 1000, 1462, 3000), extra_fraction=0.0)
    assert build(tmp_path / "b", plan, workers=2, backend="ray", ray_address=two_nodes, progress=False) == 6
    records = list(read_shards(tmp_path / "b"))
    nodes = [r["node"] for r in records]
    assert set(nodes) == node_ids()  # both nodes ran some, and each run says where it ran


def test_live_prefetch_lands_on_both_nodes(tmp_path, two_nodes):
    from robbench_plugin.live import LiveBenchmark

    bench = LiveBenchmark("digits", RECIPE, device="cpu", store=tmp_path / "store")
    assert bench.prefetch([0, 1, 10, 1000, 1462, 3000], backend="ray", ray_address=two_nodes) == 6
    runs = bench.store.runs()
    assert len(runs) == 6 and all(r.status == "done" and r.epochs_trained == 1 for r in runs)
    assert {r.node for r in runs} == node_ids()
