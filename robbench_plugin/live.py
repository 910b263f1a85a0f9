"""Live evaluation behind the benchmark query surface: train on demand, share every result.

:class:`LiveBenchmark` answers ``query``/``query_many``/``curve``/``train_time``/``to_frame``/
``cell_frame``/``pareto_front`` like a tabular :class:`~robbench_plugin.objective.Benchmark`,
training the architecture's class with the package's trainer the first time it is asked for and
keeping the result in a :class:`~robbench_plugin.store.ResultsStore` (a database shared by every
worker, on one machine or many: see :mod:`robbench_plugin.store`). Each run is trained once: a
worker claims it, others wait for it, a dead worker's run is taken over from its last epoch.

A run's key is the dataset, the recipe's key, the precision actually used (``fp32``/``bf16``),
the device type (``cpu``/``cuda``/``mps``), the class uid and the training seed. CPU training
always uses one torch thread per run (the thread count changes the numbers in the last bits;
parallelism comes from workers), and the caller's thread setting is restored afterwards.

Pruning and lower fidelities save compute: a query at ``fidelity=e`` trains only up to epoch
``e``; an ``on_epoch`` callback that returns False stops training there. Either way the curve so
far and the trainer's checkpoint are stored (``partial``), and asking later for more epochs resumes
from the checkpoint, giving the numbers of one uninterrupted run. Needs the ``train`` extra.
"""
from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Callable, Iterable, Optional, Union

import numpy as np
import pandas as pd

from .costs import DATASET_SPECS, all_costs, arch_costs
from .errors import InvalidChoiceError, InvalidValueError, RobBenchError, check_choice
from . import data_identity
from .metrics import COST_METRICS, MetricArg, metric_direction, resolve_metric_name, seed_label
from .space import Arch, ArchLike, representative_indices
from .store import LeaseLostError, ResultsStore, RunKey, current_node, new_owner
from .table import Table, TableMeta, records_to_frame
from .train.recipe import Recipe, aliases_for_recipe

log = logging.getLogger(__name__)

EpochCallback = Callable[[dict], Optional[bool]]
PRECISIONS = ("auto", "fp32", "bf16")


class LiveBenchmark:
    """Train-on-demand benchmark for one dataset, recipe and training seed.

    ``store``: a :class:`~robbench_plugin.store.ResultsStore`, or what it takes (a SQLAlchemy URL,
    a directory for SQLite, None for ``<ROBBENCH_HOME>/results/live.db``). ``device``:
    ``auto``/``cpu``/``cuda``/``cuda:N``/``mps``; ``precision``: ``auto`` (bf16 on CUDA, fp32
    elsewhere), ``fp32`` or ``bf16``.
    """

    mode = "live"
    complete = False  # only the classes trained so far have values

    def __init__(self, dataset: str = "digits", recipe: Union[Recipe, str] = "quick", seed: int = 0,
                 device: str = "auto", data_root: str | Path | None = None,
                 store: ResultsStore | str | Path | None = None, precision: str = "auto"):
        check_choice("dataset", dataset, list(DATASET_SPECS))
        check_choice("precision", precision, PRECISIONS)
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise InvalidValueError(f"seed must be an integer >= 0, got {seed!r}")
        self.name = "live"
        self.dataset = dataset
        self.recipe = Recipe.preset(recipe) if isinstance(recipe, str) else recipe
        if not isinstance(self.recipe, Recipe):
            raise InvalidValueError(f"recipe must be a preset name or a Recipe, got {recipe!r}")
        self.train_seed = int(seed)
        self.device = device
        self.precision = precision
        self.data_root = data_root
        self.store = store if isinstance(store, ResultsStore) else ResultsStore(store)
        self.aliases = aliases_for_recipe(self.recipe.to_dict())
        self.time_source = "recorded"
        self.clock = "recorded"  # train_time charges the seconds the class's training measured
        self._splits = None
        self._resolved: tuple[str, str] | None = None
        self._data_key: str | None = None

    # --- axes -----------------------------------------------------------------------
    @property
    def datasets(self) -> list[str]:
        return [self.dataset]

    @property
    def metrics(self) -> list[str]:
        return self.recipe.metric_names() + ["train_loss", "train_acc", "time_s", "eval_time_s"] + list(COST_METRICS)

    @property
    def fidelities(self) -> list[int]:
        return list(self.recipe.evaluated_epochs())

    @property
    def seeds(self) -> list[str]:
        return [str(self.train_seed), "mean"]

    def resolve_metric(self, metric: str) -> str:
        metrics = self.metrics
        return resolve_metric_name(metric, metrics, self.aliases, metrics)

    def direction(self, metric: str) -> str:
        return metric_direction(self.resolve_metric(metric))

    def final_fidelity(self, metric: str) -> int | None:
        m = self.resolve_metric(metric)
        return None if m in COST_METRICS else self.recipe.epochs

    @property
    def uids(self) -> np.ndarray:
        """Classes trained to the end so far, increasing."""
        return np.array(sorted({int(r["uid"]) for r in self._done_records()}), dtype=np.int64)

    @property
    def revision(self) -> int:
        """Changes whenever a class is finished (what a cache of derived values is keyed by)."""
        return len(self._done_records())

    # --- run identity -----------------------------------------------------------------
    def _device_and_precision(self) -> tuple[str, str]:
        if self._resolved is None:
            from .train.loop import resolve_precision, select_device

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

        from .train.loop import state_from_bytes, state_to_bytes, train

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
                    from .train import load_splits

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

    def prefetch(self, archs: Iterable[ArchLike], workers: int = 2, backend: str = "local",
                 ray_address: str | None = None, progress: bool = False, until: int | None = None,
                 gpus_per_run: float | None = None) -> int:
        """Train, in parallel, every class of ``archs`` that the store does not hold up to epoch
        ``until`` (default: the last), resuming partial runs; returns how many were trained now.

        ``backend="local"``: ``workers`` processes on this machine; ``"ray"`` (extra
        ``distributed``): tasks on the Ray cluster at ``ray_address`` (a local Ray when None),
        each asking for ``gpus_per_run`` GPUs (see :func:`robbench_plugin.train.builder.map_jobs`).
        Workers claim runs in the store like any other worker, so the store must be reachable by
        all of them (a file every process sees, or a database server).
        """
        from .train.builder import map_jobs

        target = self._check_until(until)
        if not self.store.is_shared:
            raise InvalidValueError("prefetch needs a results store that worker processes can reach; "
                                    f"{self.store.url} is an in-memory database")
        uids = sorted({Arch.parse(a).uid for a in archs})
        todo = []
        for u in uids:
            run = self.store.get(self.run_key(u))
            if run is None or (run.status != "done" and run.epochs_done < target):
                todo.append(u)
        if not todo:
            return 0
        spec = self._spec()
        jobs = [(spec, u, target) for u in todo]
        from tqdm.auto import tqdm

        results = map_jobs(_prefetch_job, jobs, workers=workers, backend=backend, ray_address=ray_address,
                           device=self.device, gpus_per_run=gpus_per_run)
        for _ in tqdm(results, total=len(todo), desc=f"train {self.dataset}", unit="arch", disable=not progress):
            pass
        return len(todo)

    def _spec(self) -> dict:
        return {"dataset": self.dataset, "recipe": self.recipe.to_dict(), "seed": self.train_seed,
                "device": self.device, "precision": self.precision, "store": self.store.__getstate__(),
                "data_root": None if self.data_root is None else str(self.data_root)}

    # --- queries --------------------------------------------------------------------
    def _check_seed(self, seed: str | int) -> None:
        if seed_label(seed) not in self.seeds:
            raise InvalidChoiceError("seed", seed, self.seeds)

    def _metric_list(self, metrics: MetricArg) -> list[str]:
        if metrics is None:
            return self.metrics
        if isinstance(metrics, str):
            return [self.resolve_metric(metrics)]
        names = list(metrics)
        if not names:
            raise InvalidValueError("metrics must not be empty")
        return [self.resolve_metric(m) for m in names]

    def _check_fidelity(self, fidelity: int | None) -> int:
        if fidelity is None:
            return self.recipe.epochs
        if isinstance(fidelity, bool) or fidelity not in self.fidelities:
            raise InvalidChoiceError("fidelity (epoch)", fidelity, self.fidelities)
        return int(fidelity)

    def query(self, arch: ArchLike, metrics: MetricArg = None, seed: str = "mean",
              fidelity: int | None = None) -> Union[float, dict[str, float]]:
        """As :meth:`Benchmark.query`; trains the class up to ``fidelity`` (default: the last
        epoch) if the store holds fewer epochs."""
        self._check_seed(seed)
        names = self._metric_list(metrics)
        epoch = self._check_fidelity(fidelity)
        a = Arch.parse(arch)
        out: dict[str, float] = {}
        need_training = [m for m in names if m not in COST_METRICS]
        if need_training:
            rec = self.result(a, until=epoch)
            row = next((e for e in rec["epochs"] if e["epoch"] == epoch), None)
            for m in need_training:
                if row is None or m not in row:
                    if metrics is None:
                        continue
                    raise RobBenchError(f"{m!r} not recorded at epoch {epoch} for {a.string}")
                out[m] = float(row[m])
        costs = arch_costs(a, self.dataset, C=self.recipe.C, N=self.recipe.N)
        for m in names:
            if m in COST_METRICS:
                out[m] = costs[m]
        return out[names[0]] if isinstance(metrics, str) else {m: out[m] for m in names if m in out}

    def query_many(self, archs: Union[Iterable[ArchLike], np.ndarray], metrics: MetricArg = None,
                   seed: str = "mean", fidelity: int | None = None, missing: str = "nan") -> pd.DataFrame:
        """One row per input arch (in order): ``index``, ``uid`` and one column per metric, each
        class trained (in this process, once) if the store lacks it. ``missing`` is accepted for
        the tabular signature; live mode has no missing values."""
        check_choice("missing", missing, ("nan", "raise"))
        self._check_seed(seed)
        names = self._metric_list(metrics)
        self._check_fidelity(fidelity)
        idx = np.array([Arch.parse(int(a) if isinstance(a, np.integer) else a).index for a in archs], dtype=np.int64)
        by_uid: dict[int, dict] = {}
        for i in idx:
            uid = int(representative_indices()[i])
            if uid not in by_uid:
                by_uid[uid] = self.query(int(i), names, seed=seed, fidelity=fidelity)
        out = {"index": idx, "uid": representative_indices()[idx]}
        costs = all_costs(self.dataset, C=self.recipe.C, N=self.recipe.N) if set(names) & set(COST_METRICS) else {}
        for m in names:
            out[m] = costs[m][idx] if m in COST_METRICS else [by_uid[int(u)].get(m, np.nan) for u in out["uid"]]
        return pd.DataFrame(out)

    def curve(self, arch: ArchLike, metric: str, seed: str = "mean") -> dict[int, float]:
        self._check_seed(seed)
        m = self.resolve_metric(metric)
        if m in COST_METRICS:
            raise InvalidValueError(f"{m!r} is a cost, not a learning-curve metric")
        return {int(e["epoch"]): float(e[m]) for e in self.result(arch)["epochs"] if m in e}

    def follow(self, arch: ArchLike, metrics: list[str], on_values: Callable[[int, dict], bool],
               seed: str = "mean", until: int | None = None) -> bool:
        """Train ``arch``'s class epoch by epoch (stored epochs replayed), calling
        ``on_values(epoch, {metric: value})`` at every epoch where all ``metrics`` are recorded, up
        to ``until`` (default: the last epoch); ``on_values`` returning False stops training there
        (the partial run and its checkpoint are stored). True when it reached ``until``."""
        self._check_seed(seed)
        names = [self.resolve_metric(m) for m in metrics]
        target = self._check_until(until)

        def on_epoch(rec: dict) -> bool:
            if all(m in rec for m in names):
                return on_values(int(rec["epoch"]), {m: float(rec[m]) for m in names}) is not False
            return True

        rec = self.result(arch, on_epoch=on_epoch, until=target)
        return not rec["stopped_early"]

    def train_time(self, arch: ArchLike, fidelity: int | None = None, seed: str = "mean") -> float:
        """Recorded training seconds (``time_s`` summed) up to epoch ``fidelity`` (default: last)."""
        self._check_seed(seed)
        limit = self._check_until(fidelity)
        return float(sum(e["time_s"] for e in self.result(arch, until=limit)["epochs"] if e["epoch"] <= limit))

    def _stored(self):
        """A tabular benchmark of the classes trained to the end so far."""
        from .objective import Benchmark

        recs = self._done_records()
        if not recs:
            raise RobBenchError(f"no finished live runs yet for {self.dataset} with recipe {self.recipe.key()} "
                                f"({self._key_fields()['precision']}, {self._key_fields()['device_type']}) "
                                f"in {self.store}")
        meta = TableMeta(name=f"live-{self.dataset}", source=f"live results in {self.store.url}",
                         aliases=self.aliases, C=self.recipe.C, N=self.recipe.N, recipe=self.recipe.to_dict(),
                         time_source="recorded")
        return Benchmark(Table.from_frame(records_to_frame(recs), meta), self.dataset)

    def table(self) -> Table:
        """The classes trained to the end so far as a table (``time_source="recorded"``)."""
        return self._stored().table

    def _stored_seed(self, seed: str) -> str:
        self._check_seed(seed)
        return str(self.train_seed) if seed_label(seed) == "mean" else seed_label(seed)

    def to_frame(self, metrics: MetricArg = None, seed: str = "mean", fidelity: int | None = None) -> pd.DataFrame:
        """The classes trained so far (live mode has no complete table)."""
        return self._stored().to_frame(metrics, seed=self._stored_seed(seed), fidelity=fidelity)

    def cell_frame(self, metrics: MetricArg = None, seed: str = "mean", fidelity: int | None = None) -> pd.DataFrame:
        """The cells of the classes trained so far, each with its own costs (see
        :meth:`robbench_plugin.objective.Benchmark.cell_frame`)."""
        return self._stored().cell_frame(metrics, seed=self._stored_seed(seed), fidelity=fidelity)

    def pareto_front(self, objectives=("clean", "robust"), seed: str = "mean", fidelity: int | None = None):
        """The non-dominated cells among the classes trained so far."""
        return self._stored().pareto_front(objectives, seed=self._stored_seed(seed), fidelity=fidelity)

    def __repr__(self) -> str:
        return f"<LiveBenchmark dataset={self.dataset!r} recipe={self.recipe.name!r} seed={self.train_seed}>"


_BENCHES: dict[str, LiveBenchmark] = {}


def _prefetch_job(job: tuple) -> dict:
    """Worker side of :meth:`LiveBenchmark.prefetch`: claim and train one class (one benchmark per
    process and spec, so the data split is loaded once)."""
    import json

    spec, uid, until = job
    ident = json.dumps(spec, sort_keys=True)
    bench = _BENCHES.get(ident)
    if bench is None:
        store = ResultsStore(spec["store"]["url"], spec["store"]["lease_s"], spec["store"]["poll_s"])
        bench = LiveBenchmark(spec["dataset"], Recipe.from_dict(spec["recipe"]), seed=spec["seed"],
                              device=spec["device"], data_root=spec["data_root"], store=store,
                              precision=spec["precision"])
        _BENCHES[ident] = bench
    started = time.time()
    rec = bench.result(uid, until=until)
    return {"uid": uid, "epochs": len(rec["epochs"]), "node": current_node(), "seconds": time.time() - started}

