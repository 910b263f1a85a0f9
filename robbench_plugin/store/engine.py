"""Where the results store's database is (a URL from what the user gives) and its clock, which
times every lease (see :mod:`robbench_plugin.store`)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import RobBenchError
from ..paths import results_dir


def _db_now(engine) -> Any:
    """The database's clock as an SQL expression: seconds since the epoch (a float)."""
    import sqlalchemy as sa

    backend = engine.dialect.name
    if backend == "sqlite":
        return sa.literal_column("((julianday('now') - 2440587.5) * 86400.0)")
    if backend == "postgresql":
        return sa.literal_column("extract(epoch from clock_timestamp())").cast(sa.Float)
    if backend in ("mysql", "mariadb"):
        return sa.literal_column("UNIX_TIMESTAMP(NOW(6))").cast(sa.Float)
    raise RobBenchError(f"the results store has no clock for the {backend} database; use SQLite, PostgreSQL or "
                        "MySQL")


def resolve_url(store: str | Path | None) -> str:
    """A SQLAlchemy URL from a URL (kept), a directory (``<dir>/live.db``), a ``.db`` file, or
    None (``<ROBBENCH_HOME>/results/live.db``)."""
    if store is None:
        return f"sqlite:///{results_dir() / 'live.db'}"
    text = str(store)
    if "://" in text:
        return text
    path = Path(text).expanduser()
    if path.suffix not in (".db", ".sqlite", ".sqlite3"):
        path = path / "live.db"
    return f"sqlite:///{path.resolve()}"
