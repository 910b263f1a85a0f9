"""The results store: runs in a database table, claimed, leased, saved and taken over by workers
(see :mod:`robbench_plugin.store`)."""
from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

from ..errors import InvalidValueError, MissingExtraError, RobBenchError
from .engine import _db_now, resolve_url
from .lease import _Heartbeat
from .owners import _owner_gone
from .records import DEFAULT_LEASE_S, DEFAULT_POLL_S, TABLE_NAME, Claim, LeaseLostError, Run, RunKey


class ResultsStore:
    """Live training runs in a database (see the module doc).

    ``store``: a SQLAlchemy URL, a directory or ``.db`` file for SQLite, or None for the default.
    ``lease_s`` > 0: how long a claim holds without a heartbeat; ``poll_s`` > 0: how often a
    waiting worker asks again. The store pickles as its URL (for worker processes).
    """

    def __init__(self, store: str | Path | None = None, lease_s: float = DEFAULT_LEASE_S,
                 poll_s: float = DEFAULT_POLL_S):
        for name, value in (("lease_s", lease_s), ("poll_s", poll_s)):
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not value > 0:
                raise InvalidValueError(f"{name} must be a number of seconds > 0, got {value!r}")
        self.url = resolve_url(store)
        self.lease_s = float(lease_s)
        self.poll_s = float(poll_s)
        self._engine = None
        self._table = None
        self._lock = threading.Lock()

    def __getstate__(self) -> dict:
        return {"url": self.url, "lease_s": self.lease_s, "poll_s": self.poll_s}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["url"], state["lease_s"], state["poll_s"])

    def __repr__(self) -> str:
        return f"<ResultsStore {self._shown_url()}>"

    def _shown_url(self) -> str:
        try:
            from sqlalchemy.engine import make_url

            return make_url(self.url).render_as_string(hide_password=True)
        except Exception:
            return self.url

    @property
    def is_shared(self) -> bool:
        """False for an in-memory SQLite database (other processes cannot reach it)."""
        backend, _, rest = self.url.partition("://")
        return not (backend.startswith("sqlite") and rest.lstrip("/") in ("", ":memory:"))

    # --- connection -------------------------------------------------------------------
    def _connect(self):
        with self._lock:
            if self._engine is not None:
                return self._engine, self._table
            try:
                import sqlalchemy as sa
            except ImportError as exc:
                raise MissingExtraError("sqlalchemy", "train") from exc
            url = sa.engine.make_url(self.url)
            kwargs: dict[str, Any] = {}
            if url.get_backend_name() == "sqlite":
                if url.database and url.database != ":memory:":
                    Path(url.database).parent.mkdir(parents=True, exist_ok=True)
                kwargs["connect_args"] = {"timeout": 60}
                if not url.database or url.database == ":memory:":
                    kwargs["poolclass"] = sa.pool.StaticPool
                    kwargs["connect_args"]["check_same_thread"] = False
            else:
                kwargs["pool_pre_ping"] = True
            try:
                engine = sa.create_engine(url, **kwargs)
            except ImportError as exc:  # the URL's driver is missing
                raise MissingExtraError(str(exc.name or url.drivername), "postgres") from exc
            sqlite_file = url.get_backend_name() == "sqlite" and bool(url.database) and url.database != ":memory:"
            if url.get_backend_name() == "sqlite":
                @sa.event.listens_for(engine, "connect")
                def _pragmas(dbapi_conn, _record):  # wait for other writers instead of failing at once
                    cur = dbapi_conn.cursor()
                    cur.execute("PRAGMA busy_timeout=60000")
                    cur.close()
            md = sa.MetaData()
            table = sa.Table(
                TABLE_NAME, md,
                sa.Column("dataset", sa.String(64), primary_key=True),
                sa.Column("recipe_key", sa.String(64), primary_key=True),
                sa.Column("precision", sa.String(16), primary_key=True),
                sa.Column("device_type", sa.String(16), primary_key=True),
                sa.Column("uid", sa.Integer, primary_key=True, autoincrement=False),
                sa.Column("seed", sa.Integer, primary_key=True, autoincrement=False),
                sa.Column("status", sa.String(16), nullable=False),
                sa.Column("epochs_done", sa.Integer, nullable=False),
                sa.Column("epochs_trained", sa.Integer, nullable=False),
                sa.Column("claims", sa.Integer, nullable=False),
                sa.Column("record", sa.Text, nullable=True),
                sa.Column("checkpoint", sa.LargeBinary, nullable=True),
                sa.Column("owner", sa.String(255), nullable=True),
                sa.Column("lease_until", sa.Float, nullable=True),
                sa.Column("node", sa.String(255), nullable=True),
                sa.Column("version", sa.Integer, nullable=False),
                sa.Column("updated_at", sa.Float, nullable=False),
            )
            self._create(engine, md, sqlite_file)
            self._engine, self._table = engine, table
            return engine, table

    def _create(self, engine, md, sqlite_file: bool, wait_s: float = 60.0) -> None:
        """Create the table if absent (and switch a SQLite file to WAL, which persists in the file).

        Workers opening a new store together race here: a loser's CREATE fails ("already exists",
        a unique violation on PostgreSQL) and SQLite answers "database is locked" without waiting
        when a transaction that read the schema then writes, or while the journal mode changes. Each
        failure is retried after a short random pause until the table exists (``wait_s`` at most)."""
        import random

        import sqlalchemy as sa

        deadline = time.monotonic() + wait_s
        while True:
            try:
                if sqlite_file:  # WAL: readers never block the writer
                    with engine.connect() as conn:
                        if conn.exec_driver_sql("PRAGMA journal_mode").scalar() != "wal":
                            conn.exec_driver_sql("PRAGMA journal_mode=WAL")
                md.create_all(engine, checkfirst=True)
                return
            except sa.exc.DBAPIError as exc:
                try:
                    if sa.inspect(engine).has_table(TABLE_NAME) and not sqlite_file:
                        return
                except sa.exc.DBAPIError:
                    pass
                if time.monotonic() > deadline:
                    raise RobBenchError(f"cannot open the results store {self._shown_url()}: {exc.orig}") from exc
                time.sleep(0.02 + 0.08 * random.random())

    def _row_to_run(self, m) -> Run:
        """A :class:`Run` from a row's mapping (``checkpoint`` may be absent: then None)."""
        key = RunKey(m["dataset"], m["recipe_key"], m["precision"], m["device_type"], int(m["uid"]), int(m["seed"]))
        return Run(key=key, status=m["status"], epochs_done=int(m["epochs_done"]),
                   epochs_trained=int(m["epochs_trained"]), claims=int(m["claims"]),
                   record=json.loads(m["record"]) if m["record"] else None,
                   checkpoint=bytes(m["checkpoint"]) if m.get("checkpoint") is not None else None,
                   owner=m["owner"], lease_until=m["lease_until"], node=m["node"], version=int(m["version"]))

    # --- reading ----------------------------------------------------------------------
    def get(self, key: RunKey) -> Run | None:
        import sqlalchemy as sa

        engine, t = self._connect()
        with engine.connect() as conn:
            row = conn.execute(sa.select(t).where(key.where(t))).first()
        return self._row_to_run(row._mapping) if row is not None else None

    def runs(self, dataset: str | None = None, recipe_key: str | None = None, precision: str | None = None,
             device_type: str | None = None, status: str | None = None, checkpoints: bool = False) -> list[Run]:
        """Stored runs matching the given fields, in key order (checkpoints left out unless asked)."""
        import sqlalchemy as sa

        engine, t = self._connect()
        cols = [c for c in t.c if checkpoints or c.name != "checkpoint"]
        q = sa.select(*cols)
        for name, value in (("dataset", dataset), ("recipe_key", recipe_key), ("precision", precision),
                            ("device_type", device_type), ("status", status)):
            if value is not None:
                q = q.where(t.c[name] == value)
        q = q.order_by(t.c.dataset, t.c.recipe_key, t.c.precision, t.c.device_type, t.c.uid, t.c.seed)
        with engine.connect() as conn:
            rows = conn.execute(q).all()
        return [self._row_to_run(row._mapping) for row in rows]

    # --- claiming ---------------------------------------------------------------------
    def claim(self, key: RunKey, owner: str, epochs: int) -> Claim:
        """Try to own ``key`` to train it up to ``epochs``: ``ready`` when it already holds that
        many epochs (or is done), ``busy`` while another worker's lease is live by the database's
        clock, else ``claimed`` (a new run is created as ``running``; a partial run, or one whose
        lease has run out or whose owner is certainly gone, is taken over with what it holds)."""
        import sqlalchemy as sa

        engine, t = self._connect()
        now = _db_now(engine)
        while True:
            run = self.get(key)
            if run is None:
                try:
                    with engine.begin() as conn:
                        conn.execute(sa.insert(t).values(
                            dataset=key.dataset, recipe_key=key.recipe_key, precision=key.precision,
                            device_type=key.device_type, uid=int(key.uid), seed=int(key.seed), status="running",
                            epochs_done=0, epochs_trained=0, claims=1, record=None, checkpoint=None, owner=owner,
                            lease_until=now + self.lease_s, node=None, version=1, updated_at=now))
                except sa.exc.IntegrityError:
                    continue  # another worker inserted it first: look again
                return Claim("claimed", self.get(key))
            if run.status == "done" or run.epochs_done >= epochs:
                return Claim("ready", run)
            free = sa.or_(t.c.owner.is_(None), t.c.owner == owner, t.c.lease_until.is_(None), t.c.lease_until <= now)
            if run.owner is not None and _owner_gone(run.owner):
                free = sa.or_(free, t.c.owner == run.owner)
            with engine.begin() as conn:
                res = conn.execute(sa.update(t).where(key.where(t), t.c.version == run.version, free).values(
                    owner=owner, lease_until=now + self.lease_s, status="running", claims=t.c.claims + 1,
                    version=t.c.version + 1, updated_at=now))
            if res.rowcount == 1:
                return Claim("claimed", self.get(key))
            after = self.get(key)
            if after is not None and after.version == run.version:
                return Claim("busy", after)  # unchanged and not free: another worker's lease is live
            # someone else changed it in between: look again

    def _owned_update(self, key: RunKey, by: str, **values: Any) -> None:
        """Update the run if ``by`` owns it, else :class:`LeaseLostError`."""
        import sqlalchemy as sa

        engine, t = self._connect()
        values.setdefault("updated_at", _db_now(engine))
        with engine.begin() as conn:
            res = conn.execute(sa.update(t).where(key.where(t), t.c.owner == by).values(
                version=t.c.version + 1, **values))
        if res.rowcount != 1:
            run = self.get(key)
            raise LeaseLostError(f"run {key} is no longer owned by {by} (owner now "
                                 f"{run.owner if run else None}): its lease ran out and another worker took it over")

    def _lease_end(self) -> Any:
        """The end of a lease renewed now: the database's clock plus ``lease_s``."""
        engine, _ = self._connect()
        return _db_now(engine) + self.lease_s

    def heartbeat(self, key: RunKey, owner: str) -> None:
        """Renew the lease (raises :class:`LeaseLostError` if the caller no longer owns the run)."""
        self._owned_update(key, owner, lease_until=self._lease_end())

    def save_progress(self, key: RunKey, owner: str, record: dict, checkpoint: bytes | None, node: str | None,
                      new_epochs: int, done: bool = False) -> None:
        """Save the curve so far and the checkpoint after it, in one update (owner only);
        ``new_epochs``: epochs computed since the last save. ``done``: the curve is complete: the
        run becomes ``done`` in the same update (its checkpoint dropped, the lease given up), so a
        worker killed right after its last epoch leaves a finished run."""
        _, t = self._connect()
        values: dict[str, Any] = dict(record=json.dumps(record), epochs_done=len(record["epochs"]),
                                      epochs_trained=t.c.epochs_trained + int(new_epochs), node=node)
        if done:
            values.update(status="done", checkpoint=None, owner=None, lease_until=None)
        else:
            values.update(checkpoint=checkpoint, lease_until=self._lease_end())
        self._owned_update(key, owner, **values)

    def release(self, key: RunKey, owner: str) -> None:
        """Give a run back as ``partial`` (curve and checkpoint kept) without waiting for the lease."""
        try:
            self._owned_update(key, owner, status="partial", owner=None, lease_until=None)
        except LeaseLostError:
            pass

    def put(self, key: RunKey, record: dict, node: str | None = None) -> bool:
        """Store a finished record trained elsewhere; False (and nothing written) if the run exists."""
        import sqlalchemy as sa

        engine, t = self._connect()
        now = _db_now(engine)
        try:
            with engine.begin() as conn:
                conn.execute(sa.insert(t).values(
                    dataset=key.dataset, recipe_key=key.recipe_key, precision=key.precision,
                    device_type=key.device_type, uid=int(key.uid), seed=int(key.seed), status="done",
                    epochs_done=len(record["epochs"]), epochs_trained=len(record["epochs"]), claims=1,
                    record=json.dumps(record), checkpoint=None, owner=None, lease_until=None, node=node,
                    version=1, updated_at=now))
        except sa.exc.IntegrityError:
            return False
        return True

    def lease(self, key: RunKey, owner: str) -> "_Heartbeat":
        """A context in which a thread renews ``owner``'s lease every ``lease_s / 4`` seconds."""
        return _Heartbeat(self, key, owner)

    def wait_claim(self, key: RunKey, owner: str, epochs: int) -> Claim:
        """:meth:`claim` until it is not ``busy`` (polling every ``poll_s``)."""
        while True:
            c = self.claim(key, owner, epochs)
            if c.state != "busy":
                return c
            time.sleep(self.poll_s)
