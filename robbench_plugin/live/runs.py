"""The training side of a live benchmark: a run's identity in the results store, and claiming,
training (or waiting for) and replaying a class's run (see :mod:`robbench_plugin.live`)."""
from __future__ import annotations

import logging
from typing import Callable, Optional

import numpy as np

from ..costs import arch_costs
from ..errors import InvalidValueError
from .. import data_identity
from ..space import Arch, ArchLike
from ..store import LeaseLostError, RunKey, current_node, new_owner

log = logging.getLogger("robbench_plugin.live")

EpochCallback = Callable[[dict], Optional[bool]]
PRECISIONS = ("auto", "fp32", "bf16")


class LiveRuns:
    """What :class:`~robbench_plugin.live.LiveBenchmark` does with training runs; it sets
    ``dataset``, ``recipe``, ``train_seed``, ``device``, ``precision``, ``data_root``, ``store``,
    ``_splits``, ``_resolved`` and ``_data_key``."""

    # --- run identity -----------------------------------------------------------------
    def _device_and_precision(self) -> tuple[str, str]:
        if self._resolved is None:
            from ..train.loop import resolve_precision, select_device

            dev = select_device(self.device)
            self._resolved = (dev.type, resolve_precision(self.precision, dev.type))
        return self._resolved

    @property
    def data_key(self) -> str:
        """What keys this benchmark's results by data (:func:`~robbench_plugin.data_identity.data_key`
        of the dataset under ``data_root``), read once."""
        if self._data_key is None:
            self._data_key = data_identity.data_key(self.dataset, self.data_root, self.recipe.data_split)
        return self._data_key

    def run_key(self, arch: ArchLike) -> RunKey:
        """The store's key of ``arch``'s class under this benchmark's settings."""
        device_type, precision = self._device_and_precision()
        return RunKey(self.data_key, self.recipe.key(), precision, device_type, Arch.parse(arch).uid,
                      self.train_seed)

    def _key_fields(self) -> dict:
        device_type, precision = self._device_and_precision()
        return {"dataset": self.data_key, "recipe_key": self.recipe.key(), "precision": precision,
                "device_type": device_type}

    def _done_records(self) -> list[dict]:
        return [r.record for r in self.store.runs(status="done", **self._key_fields())
                if r.record is not None and int(r.key.seed) == self.train_seed]

    def _check_until(self, until: int | None) -> int:
        if until is None:
            return self.recipe.epochs
        if isinstance(until, bool) or not isinstance(until, (int, np.integer)) or not 1 <= until <= self.recipe.epochs:
            raise InvalidValueError(f"epochs to train must be in 1..{self.recipe.epochs}, got {until!r}")
        return int(until)

    # --- training ---------------------------------------------------------------------
    def result(self, arch: ArchLike, on_epoch: EpochCallback | None = None, until: int | None = None,
               owner: str | None = None) -> dict:
        """The record of ``arch``'s class trained up to epoch ``until`` (default: the recipe's last),
        training (or resuming) it first if the store holds fewer epochs.

        ``on_epoch`` sees every epoch record in order (stored ones replayed, then new ones);
        returning False stops there: the record then ends at that epoch and has
        ``stopped_early=True`` (what a pruned trial gets), and the run stays in the store as
        ``partial`` with its checkpoint. ``owner``: the worker identity to claim with (default a new
        one per call; a restarted worker that passes its old identity resumes at once).
        """
        a = Arch.parse(arch)
        target = self._check_until(until)
        key = self.run_key(a)
        owner = owner or new_owner()
        while True:
            claim = self.store.wait_claim(key, owner, target)
            if claim.state == "ready":
                return self._replay(claim.run.record, target, on_epoch)
            try:
                return self._train_claimed(a, key, owner, claim.run, target, on_epoch)
            except LeaseLostError as exc:  # another worker has the run now: wait for its result
                log.warning("%s; waiting for the worker that owns it now", exc)
                continue

    def _replay(self, record: dict, target: int, on_epoch: EpochCallback | None) -> dict:
        out = dict(record)
        epochs = [e for e in record["epochs"] if e["epoch"] <= target]
        out["stopped_early"] = False
        if on_epoch is not None:
            for i, ep in enumerate(epochs):
                if on_epoch(dict(ep)) is False:
                    epochs = epochs[:i + 1]
                    out["stopped_early"] = epochs[-1]["epoch"] < target
                    break
        out["epochs"] = epochs
        return out

    def _train_claimed(self, a: Arch, key: RunKey, owner: str, run, target: int,
                       on_epoch: EpochCallback | None) -> dict:
        import torch

        from ..train.loop import state_from_bytes, state_to_bytes, train

        state = state_from_bytes(run.checkpoint) if run.checkpoint is not None else None
        stored = list(state["epochs"]) if state is not None else []
        saved = [len(stored)]  # epochs in the store; the last one's save marks the run done
        with self.store.lease(key, owner) as heartbeat:
            try:
                for i, ep in enumerate(stored):  # replay what the store holds, then train on
                    if on_epoch is not None and on_epoch(dict(ep)) is False:
                        rec = self._record(a, stored[:i + 1])
                        rec["stopped_early"] = stored[i]["epoch"] < target
                        return rec
                if self._splits is None:
                    from ..train import load_splits

                    self._splits = load_splits(self.dataset, self.data_root, self.recipe.data_split)
                node = current_node()

                def save_state(st: dict) -> None:
                    heartbeat.check()  # a lost lease stops training here, before this epoch is offered
                    done = len(st["epochs"]) == self.recipe.epochs
                    self.store.save_progress(key, owner, self._record(a, st["epochs"]),
                                             None if done else state_to_bytes(st), node,
                                             new_epochs=len(st["epochs"]) - saved[0], done=done)
                    saved[0] = len(st["epochs"])

                threads = torch.get_num_threads()
                device_type, _ = self._device_and_precision()
                if device_type == "cpu":
                    torch.set_num_threads(1)
                try:
                    result = train(a.uid, self.dataset, self.recipe, seed=self.train_seed, device=self.device,
                                   splits=self._splits, callback=on_epoch, precision=self.precision,
                                   initial_state=state, save_state=save_state, until=target)
                finally:
                    torch.set_num_threads(threads)
                rec = self._record(a, result.epochs)
                rec["stopped_early"] = len(result.epochs) < target
                return rec
            finally:
                if saved[0] < self.recipe.epochs:
                    self.store.release(key, owner)  # partial: free for the next worker at once

    def _record(self, a: Arch, epochs: list[dict]) -> dict:
        device_type, precision = self._device_and_precision()
        costs = arch_costs(a, self.dataset, C=self.recipe.C, N=self.recipe.N)
        return {"arch": a.string, "uid": a.uid, "dataset": self.dataset, "recipe_key": self.recipe.key(),
                "seed": self.train_seed, "device": device_type, "precision": precision,
                "epochs": [dict(e) for e in epochs], "params": costs["params"], "flops": costs["flops"]}
