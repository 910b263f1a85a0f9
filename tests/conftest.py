import gzip
import json
import os
from pathlib import Path

import pytest

# Tests use tiny networks: one thread avoids oversubscription (also in test subprocesses).
os.environ.setdefault("OMP_NUM_THREADS", "1")

# reference facts kept with the tests (tests/data/README.md), so the claim tests run in a clean clone
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def release_meta():
    """The release's meta.json (NAS-Bench-201's index order and isomorphism classes)."""
    with gzip.open(DATA / "nb201_meta.json.gz", "rt") as fh:
        return json.load(fh)


@pytest.fixture(scope="session")
def published_representatives():
    """The 6466 representative indices published with the NAS-RobBench-201 reference code."""
    return [int(x) for x in (DATA / "nb201_nonisomorphic_ids.txt").read_text().split()]


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("ROBBENCH_HOME", str(tmp_path_factory.getbasetemp() / "robbench_home"))


@pytest.fixture(scope="session")
def fixture_release(tmp_path_factory, release_meta):
    """A release directory: the hand-written release file of tests/data (not written by the package)
    with the release's own meta.json beside it."""
    import shutil

    d = tmp_path_factory.mktemp("fixture-release")
    (d / "meta.json").write_text(json.dumps(release_meta))
    shutil.copyfile(DATA / "release-fixture" / "NAS-RobBench-201_all.json", d / "NAS-RobBench-201_all.json")
    return d


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


# --- PostgreSQL: a real server on a temporary directory and a loopback port, for the results store ---
def _postgres_bin(name: str) -> str | None:
    import glob
    import shutil

    found = shutil.which(name)
    if found:
        return found
    debian = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))  # Debian's packages keep them here
    return debian[-1] if debian else None


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory):
    """``(host, port)`` of a PostgreSQL server started for the test session (user ``robbench``,
    trust authentication, loopback only) and stopped afterwards. Its tools refuse to run as root,
    so as root they run as the ``postgres`` user. Skipped where PostgreSQL is not installed
    (``.ci/run`` installs Debian's package)."""
    import shutil
    import socket
    import subprocess
    import tempfile

    pytest.importorskip("psycopg")
    initdb, pg_ctl = _postgres_bin("initdb"), _postgres_bin("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.skip("PostgreSQL server tools (initdb, pg_ctl) are not installed")
    prefix = []
    root = tempfile.mkdtemp(prefix="robbench-pg-")
    if os.geteuid() == 0:
        prefix = ["runuser", "-u", "postgres", "--"]
        shutil.chown(root, "postgres")
    data = os.path.join(root, "data")
    subprocess.run(prefix + [initdb, "-D", data, "-A", "trust", "-U", "robbench"], check=True,
                   capture_output=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    subprocess.run(prefix + [pg_ctl, "-D", data, "-l", os.path.join(root, "log"), "-o",
                             f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c max_connections=200",
                             "-w", "start"], check=True, capture_output=True)
    try:
        yield "127.0.0.1", port
    finally:
        subprocess.run(prefix + [pg_ctl, "-D", data, "-m", "immediate", "-w", "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server):
    """A SQLAlchemy URL of a new, empty database on the session's PostgreSQL server."""
    import uuid

    import psycopg

    host, port = postgres_server
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(host=host, port=port, user="robbench", dbname="postgres", autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return f"postgresql+psycopg://robbench@{host}:{port}/{name}"
