"""The results store of live training: one row per training run, shared by every worker.

A run is keyed by everything that changes its numbers: dataset, recipe key
(:meth:`~robbench_plugin.train.recipe.Recipe.key`), numeric precision (``fp32``/``bf16``),
device type (``cpu``/``cuda``/``mps``), class uid and training seed. The store lives in a
database reached through a SQLAlchemy URL, as Optuna's storage does: by default SQLite (WAL
journal) at ``<ROBBENCH_HOME>/results/live.db``; ``postgresql+psycopg://...`` (extra
``postgres``) or ``mysql+pymysql://...`` when workers run on several machines; it may be the
database of the Optuna study (the tables are named ``robbench_*``).

Each run is trained once across all workers:

- a worker **claims** a run before training it: it becomes the run's owner with a **lease**
  (``lease_s`` seconds, renewed by a heartbeat thread while it trains); every other worker
  asking for that run waits and polls;
- after every epoch the owner saves the curve so far **and** the checkpoint in one update
  (``status="running"``); an update by a worker that is no longer the owner is refused
  (:class:`LeaseLostError`), so a run never holds two workers' epochs;
- a finished run is ``done`` (its checkpoint dropped); a run stopped before its last epoch (a
  pruned trial, a query at a lower fidelity) is ``partial``, curve and checkpoint kept, and a
  later request for more epochs resumes from the checkpoint;
- a worker that dies (SIGKILL, a lost machine) stops renewing: once the lease has run out, another
  worker takes the run over and resumes from the last saved epoch. Sooner only when it is certain
  that the owner was a process that no longer exists: same boot of the same kernel (boot id) and
  same pid namespace as the worker asking, and no process with the owner's pid there. Two
  containers or machines that share a host name (but not a pid namespace) never take each
  other's live runs.

A worker's identity is a random token (:func:`new_owner`); where the process can be located, its
boot id, pid namespace and pid follow the token (``token@boot/pidns/pid``), for that shortcut
only. Leases are timed by the **database's clock**: ``lease_until`` is written as the database's
now plus ``lease_s``, and a takeover is an update whose condition compares ``lease_until`` with
the database's now, so the workers' own clocks never decide (they may disagree by any amount).
Claims are compare-and-set updates on a ``version`` column, each statement its own transaction, so
they are atomic on SQLite, PostgreSQL and MySQL alike.

The heartbeat logs every failure to renew (logger ``robbench_plugin.store``) and keeps trying; once
the lease is found lost (another worker owns the run), the worker stops training that run at its
next epoch with :class:`LeaseLostError` and waits for the new owner's result.
"""
from __future__ import annotations

import json
import logging
import os
import socket
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import InvalidValueError, MissingExtraError, RobBenchError
from .paths import results_dir

STATUSES = ("running", "partial", "done")
DEFAULT_LEASE_S = 120.0
DEFAULT_POLL_S = 0.5
TABLE_NAME = "robbench_live_runs"
log = logging.getLogger(__name__)


class LeaseLostError(RobBenchError):
    """The worker's lease on a run ran out and another worker took the run over."""


@dataclass(frozen=True)
class RunKey:
    """What determines a training run's numbers (see the module doc)."""

    dataset: str
    recipe_key: str
    precision: str
    device_type: str
    uid: int
    seed: int

    def where(self, table) -> Any:
        from sqlalchemy import and_

        c = table.c
        return and_(c.dataset == self.dataset, c.recipe_key == self.recipe_key, c.precision == self.precision,
                    c.device_type == self.device_type, c.uid == int(self.uid), c.seed == int(self.seed))


@dataclass
class Run:
    """A stored run. ``record``: the trainer's record (``epochs`` = the curve so far, one dict per
    epoch, accuracies as fractions); ``checkpoint``: the trainer state after the last saved epoch
    (bytes, None once done); ``epochs_trained``: epochs computed and saved over all claims (more
    than ``epochs_done`` only if some were computed twice); ``claims``: how many times a worker
    claimed it; ``node``: the worker that saved last."""

    key: RunKey
    status: str
    epochs_done: int
    epochs_trained: int
    claims: int
    record: dict | None
    checkpoint: bytes | None
    owner: str | None
    lease_until: float | None
    node: str | None
    version: int


@dataclass(frozen=True)
class Claim:
    """Outcome of :meth:`ResultsStore.claim`: ``ready`` (the run holds the epochs asked for),
    ``busy`` (another worker holds a live lease) or ``claimed`` (the caller owns it now)."""

    state: str
    run: Run | None


def _process_locator() -> str | None:
    """``boot_id/pid namespace/pid`` of this process, or None where the system does not say (not
    Linux): what makes "this pid no longer exists" a fact and not a guess."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        pidns = os.readlink("/proc/self/ns/pid")
    except OSError:
        return None
    return f"{boot}/{pidns}/{os.getpid()}" if boot and pidns else None


def new_owner() -> str:
    """A worker identity: a random token, followed by ``@<boot id>/<pid namespace>/<pid>`` where the
    process can be located (see :func:`_owner_gone`)."""
    token = uuid.uuid4().hex
    where = _process_locator()
    return f"{token}@{where}" if where else token


def current_node() -> str:
    """The machine a run is trained on: the Ray node id inside a Ray worker, else the host name."""
    ray = sys.modules.get("ray")
    if ray is not None:
        try:
            if ray.is_initialized():
                return f"ray:{ray.get_runtime_context().get_node_id()}"
        except Exception:  # not a Ray worker after all
            pass
    return socket.gethostname()


def _owner_gone(owner: str) -> bool:
    """True only when ``owner`` certainly was a process that no longer exists: it ran in the same
    boot of the kernel and the same pid namespace as this process, and its pid is free here. Any
    other owner (another machine or container, an older identity form) is waited for until its
    lease runs out."""
    _, at, where = owner.partition("@")
    mine = _process_locator()
    if not at or mine is None:
        return False
    boot, _, rest = where.partition("/")
    pidns, _, pid = rest.rpartition("/")
    my_boot, _, my_rest = mine.partition("/")
    my_pidns = my_rest.rpartition("/")[0]
    if boot != my_boot or pidns != my_pidns or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


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


class _Heartbeat:
    """Renews a lease from a thread every ``lease_s / 4`` seconds. A failed renewal is logged and
    tried again at the next beat; a lost lease (another worker owns the run) is logged, ends the
    thread and sets :attr:`lost`, which :meth:`check` turns into :class:`LeaseLostError`."""

    def __init__(self, store: ResultsStore, key: RunKey, owner: str):
        self.store, self.key, self.owner = store, key, owner
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.lost = False
        self.failures = 0

    def _beat(self) -> None:
        while not self._stop.wait(self.store.lease_s / 4):
            try:
                self.store.heartbeat(self.key, self.owner)
            except LeaseLostError as exc:
                self.lost = True
                log.error("lease lost: %s; this worker stops training the run at its next epoch", exc)
                return
            except Exception as exc:  # e.g. the database unreachable for a while: try again at the next beat
                self.failures += 1
                log.warning("could not renew the lease on run %s (attempt failed: %s: %s); retrying in %.1f s",
                            self.key, type(exc).__name__, str(exc).splitlines()[0] if str(exc) else "",
                            self.store.lease_s / 4)

    def check(self) -> None:
        """Raise :class:`LeaseLostError` if the lease was found lost."""
        if self.lost:
            raise LeaseLostError(f"the lease on run {self.key} was lost (another worker owns it now): stopped "
                                 "training it here")

    def __enter__(self) -> "_Heartbeat":
        self._thread = threading.Thread(target=self._beat, name="robbench-lease", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
