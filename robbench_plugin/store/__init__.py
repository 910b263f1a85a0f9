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

The package, one concept per module: :mod:`.records` (keys, runs, claims), :mod:`.owners` (worker
identity), :mod:`.engine` (the database's URL and clock), :mod:`.database` (:class:`ResultsStore`),
:mod:`.lease` (the heartbeat). Its public names are all here.
"""
from __future__ import annotations

import time  # noqa: F401  (the store's clock: tests move robbench_plugin.store.time.time)

from .database import ResultsStore
from .engine import _db_now, resolve_url  # noqa: F401  (private names kept where they were)
from .lease import _Heartbeat  # noqa: F401
from .owners import _owner_gone, _process_locator, current_node, new_owner  # noqa: F401
from .records import DEFAULT_LEASE_S, DEFAULT_POLL_S, STATUSES, TABLE_NAME, Claim, LeaseLostError, Run, RunKey

__all__ = ["DEFAULT_LEASE_S", "DEFAULT_POLL_S", "STATUSES", "TABLE_NAME", "Claim", "LeaseLostError", "ResultsStore",
           "Run", "RunKey", "current_node", "new_owner", "resolve_url"]
