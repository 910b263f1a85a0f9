"""The heartbeat that keeps a worker's lease on a run while it trains (see :mod:`robbench_plugin.store`)."""
from __future__ import annotations

import logging
import threading
from typing import Any

from .records import LeaseLostError, RunKey

log = logging.getLogger("robbench_plugin.store")  # one logger for the store (docs/live.md)


class _Heartbeat:
    """Renews a lease from a thread every ``lease_s / 4`` seconds. A failed renewal is logged and
    tried again at the next beat; a lost lease (another worker owns the run) is logged, ends the
    thread and sets :attr:`lost`, which :meth:`check` turns into :class:`LeaseLostError`.
    ``store``: the :class:`~robbench_plugin.store.ResultsStore` that holds the run."""

    def __init__(self, store: Any, key: RunKey, owner: str):
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
