"""The query surface of a live benchmark: the table's axes and queries answered by training on
demand, and training many classes ahead of the queries (see :mod:`robbench_plugin.live`)."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Callable, Iterable, Union

import numpy as np
import pandas as pd

from ..costs import DATASET_SPECS, all_costs, arch_costs
from ..errors import InvalidChoiceError, InvalidValueError, RobBenchError, check_choice
from ..metrics import COST_METRICS, MetricArg, metric_direction, resolve_metric_name, seed_label
from ..space import Arch, ArchLike, representative_indices
from ..store import ResultsStore, current_node
from ..table import Table, TableMeta, records_to_frame
from ..train.recipe import Recipe, aliases_for_recipe
from .runs import PRECISIONS, LiveRuns


class LiveBenchmark(LiveRuns):
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
        from ..train.builder import map_jobs

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
        from ..objective import Benchmark

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
