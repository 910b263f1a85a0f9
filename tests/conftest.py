import json
import os
from pathlib import Path

import pytest

# Tests use tiny networks: one thread avoids oversubscription (also in test subprocesses).
os.environ.setdefault("OMP_NUM_THREADS", "1")

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_meta():
    path = SHARED / "nb201_meta.json"
    if not path.is_file():
        pytest.skip(f"shared reference data not found at {path}")
    return json.loads(path.read_text())


@pytest.fixture(scope="session")
def shared_representatives():
    path = SHARED / "nb201_nonisomorphic_ids.txt"
    if not path.is_file():
        pytest.skip(f"shared reference data not found at {path}")
    return [int(x) for x in path.read_text().split()]


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("ROBBENCH_HOME", str(tmp_path_factory.getbasetemp() / "robbench_home"))


@pytest.fixture(scope="session")
def synthetic_release(tmp_path_factory):
    from robbench_plugin.synthetic import make_synthetic_release

    return make_synthetic_release(tmp_path_factory.mktemp("release"))


@pytest.fixture(scope="session")
def release_bench(synthetic_release, tmp_path_factory):
    os.environ.setdefault("ROBBENCH_HOME", str(tmp_path_factory.mktemp("home")))
    from robbench_plugin import load_benchmark

    return load_benchmark("nas-robbench-201", dataset="cifar10", data_dir=synthetic_release)


@pytest.fixture(scope="session")
def digits():
    """The embedded digits benchmark, as ``load_benchmark()`` gives it."""
    from robbench_plugin import load_benchmark

    return load_benchmark("digits")
