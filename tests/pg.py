"""A throwaway PostgreSQL server for tests and benchmarks: a temporary data directory, trust
authentication for user ``robbench``, loopback only, a free port; stopped and removed afterwards.
PostgreSQL's tools refuse to run as root, so as root they run as the ``postgres`` user."""
from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from typing import Iterator


def server_tools() -> tuple[str, str] | None:
    """``(initdb, pg_ctl)``: on PATH, or where Debian's packages keep them; None if absent."""
    found = []
    for name in ("initdb", "pg_ctl"):
        path = shutil.which(name) or (sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")) or [None])[-1]
        if path is None:
            return None
        found.append(path)
    return found[0], found[1]


@contextlib.contextmanager
def temporary_postgres() -> Iterator[tuple[str, int]]:
    """Start a server; yields ``(host, port)``."""
    tools = server_tools()
    if tools is None:
        raise RuntimeError("PostgreSQL server tools (initdb, pg_ctl) are not installed")
    initdb, pg_ctl = tools
    prefix: list[str] = []
    root = tempfile.mkdtemp(prefix="robbench-pg-")
    if os.geteuid() == 0:
        prefix = ["runuser", "-u", "postgres", "--"]
        shutil.chown(root, "postgres")
    data = os.path.join(root, "data")
    subprocess.run(prefix + [initdb, "-D", data, "-A", "trust", "-U", "robbench"], check=True, capture_output=True)
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


def new_database(host: str, port: int) -> str:
    """Create an empty database on the server; returns its SQLAlchemy URL (driver psycopg)."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(host=host, port=port, user="robbench", dbname="postgres", autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return f"postgresql+psycopg://robbench@{host}:{port}/{name}"
