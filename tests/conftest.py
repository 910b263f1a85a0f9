import gzip
import importlib.util
import json
import os
from pathlib import Path

import pytest

# Tests use tiny networks: one thread avoids oversubscription (also in test subprocesses).
os.environ.setdefault("OMP_NUM_THREADS", "1")

# reference facts kept with the tests (tests/data/README.md), so the claim tests run in a clean clone
DATA = Path(__file__).resolve().parent / "data"

# NASLib is not on PyPI: its tests (marker ``naslib``) run in the NASLib environment (docs/naslib.md).
# Elsewhere they are not collected or deselected, with a line saying so, never skipped.
NASLIB = importlib.util.find_spec("naslib") is not None
collect_ignore = [] if NASLIB else ["test_naslib_adapter.py"]
IN_CI = os.environ.get("CI", "").lower() == "true"


def pytest_collection_modifyitems(config, items):
    if NASLIB:
        return
    naslib = [item for item in items if item.get_closest_marker("naslib") is not None]
    if naslib:
        config.hook.pytest_deselected(items=naslib)
        items[:] = [item for item in items if item.get_closest_marker("naslib") is None]


def pytest_report_header(config):
    lines = [] if NASLIB else ["NASLib tests: not here (NASLib is not importable); they run in the NASLib "
                               "environment, docs/naslib.md"]
    if IN_CI:
        lines.append("CI=true: a skipped test is a failure (CI installs everything the tests need)")
    return lines


def _skip_reason(report) -> str:
    longrepr = report.longrepr
    return longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI (CI=true) a skip, for whatever reason, is a failure: CI installs every extra, the
    PostgreSQL server, Debian's data and chromium, so a skip there means a check did not run."""
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI: {_skip_reason(report)} (CI must run every test; install what it needs)"


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    """The same for a whole module skipped while collecting it (``importorskip`` at module level)."""
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped:
        report.outcome = "failed"
        report.longrepr = f"skipped in CI: {_skip_reason(report)} (CI must run every test; install what it needs)"


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
    """The embedded digits benchmark, as ``load_benchmark("digits")`` gives it."""
    from robbench_plugin import load_benchmark

    return load_benchmark("digits")


# --- PostgreSQL: a real server on a temporary directory and a loopback port, for the results store ---
@pytest.fixture(scope="session")
def postgres_server():
    """``(host, port)`` of a PostgreSQL server started for the test session (tests/pg.py) and
    stopped afterwards. Skipped where PostgreSQL is not installed (``.ci/run`` installs Debian's
    package)."""
    pytest.importorskip("psycopg")
    from .pg import server_tools, temporary_postgres

    if server_tools() is None:
        pytest.skip("PostgreSQL server tools (initdb, pg_ctl) are not installed")
    with temporary_postgres() as address:
        yield address


@pytest.fixture
def postgres_url(postgres_server):
    """A SQLAlchemy URL of a new, empty database on the session's PostgreSQL server."""
    from .pg import new_database

    return new_database(*postgres_server)
