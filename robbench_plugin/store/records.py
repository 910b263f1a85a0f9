"""What the results store holds: a run's key, the stored run, the outcome of a claim, the statuses,
the lease's defaults and the error of a lost lease (see :mod:`robbench_plugin.store`)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import RobBenchError

STATUSES = ("running", "partial", "done")
DEFAULT_LEASE_S = 120.0
DEFAULT_POLL_S = 0.5
TABLE_NAME = "robbench_live_runs"


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

