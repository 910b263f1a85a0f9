"""Live evaluation behind the same query surface: train on demand, cache every result.

:class:`LiveBenchmark` answers ``query``/``curve``/``train_time`` like a tabular
:class:`~robbench_plugin.objective.Benchmark`, training the architecture's class
representative with the package's trainer the first time it is asked for, and storing the
result in a :class:`ResultsStore` (append-only JSON lines, one file per dataset and recipe),
so asking again for the same class, dataset, recipe and seed returns the stored result.
Needs the ``train`` extra.
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable, Optional, Union

from .costs import DATASET_SPECS, arch_costs
from .errors import InvalidChoiceError, RobBenchError
from .fileutil import append_jsonl, read_jsonl
from .objective import COST_METRICS, metric_direction, resolve_metric_name, seed_label
from .paths import results_dir
from .space import Arch, ArchLike
from .table import Table, TableMeta, records_to_frame
from .train.recipe import Recipe, aliases_for_recipe


class ResultsStore:
    """Trainer results keyed by (uid, dataset, recipe key, seed) in ``<dir>/<dataset>-<key>.jsonl``."""

    def __init__(self, directory: str | Path | None = None):
        self.directory = Path(directory) if directory is not None else results_dir()
        self._lock = threading.Lock()

    def path(self, dataset: str, recipe: Recipe) -> Path:
        return self.directory / f"{dataset}-{recipe.key()}.jsonl"

    def records(self, dataset: str, recipe: Recipe) -> list[dict]:
        return list(read_jsonl(self.path(dataset, recipe)))

    def get(self, uid: int, dataset: str, recipe: Recipe, seed: int) -> dict | None:
        for rec in self.records(dataset, recipe):
            if int(rec["uid"]) == uid and int(rec["seed"]) == seed and not rec.get("stopped_early"):
                return rec
        return None

    def put(self, record: dict, recipe: Recipe) -> None:
        with self._lock:
            append_jsonl(self.path(record["dataset"], recipe), record)

    def table(self, dataset: str, recipe: Recipe) -> Table:
        """Everything stored for this dataset and recipe as a table (``time_source="recorded"``)."""
        recs = [r for r in self.records(dataset, recipe) if not r.get("stopped_early")]
        if not recs:
            raise RobBenchError(f"no stored results for {dataset} with recipe {recipe.key()} in {self.directory}")
        meta = TableMeta(name=f"live-{dataset}", source=f"live results in {self.directory}",
                         aliases=aliases_for_recipe(recipe.to_dict()), C=recipe.C, N=recipe.N,
                         recipe=recipe.to_dict(), time_source="recorded")
        return Table.from_frame(records_to_frame(recs), meta)


class LiveBenchmark:
    """Train-on-demand benchmark for one dataset, recipe and training seed."""

    mode = "live"

    def __init__(self, dataset: str = "digits", recipe: Union[Recipe, str] = "quick", seed: int = 0,
                 device: str = "auto", data_root: str | Path | None = None, store: ResultsStore | None = None):
        if dataset not in DATASET_SPECS:
            raise InvalidChoiceError("dataset", dataset, list(DATASET_SPECS))
        self.name = "live"
        self.dataset = dataset
        self.recipe = Recipe.preset(recipe) if isinstance(recipe, str) else recipe
        self.train_seed = int(seed)
        self.device = device
        self.data_root = data_root
        self.store = store or ResultsStore()
        self.aliases = aliases_for_recipe(self.recipe.to_dict())
        self._splits = None
        self.time_source = "recorded"

    # axes
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

    # training
    def result(self, arch: ArchLike, on_epoch: Optional[Callable[[dict], Optional[bool]]] = None) -> dict:
        """The stored result of ``arch``'s class, training it first if absent. ``on_epoch``
        sees every epoch record (replayed from the store when cached); returning False stops
        (a stopped run is not stored as complete)."""
        a = Arch.parse(arch)
        rec = self.store.get(a.uid, self.dataset, self.recipe, self.train_seed)
        if rec is not None:
            if on_epoch is not None:
                for ep in rec["epochs"]:
                    if on_epoch(dict(ep)) is False:
                        break
            return rec
        from .train import load_splits, train

        if self._splits is None:
            self._splits = load_splits(self.dataset, self.data_root)
        result = train(a.uid, self.dataset, self.recipe, seed=self.train_seed, device=self.device,
                       splits=self._splits, callback=on_epoch)
        rec = result.to_dict()
        rec.pop("recipe")
        if not result.stopped_early:
            self.store.put(rec, self.recipe)
        return rec

    def prefetch(self, archs, workers: int = 2, backend: str = "local", ray_address: str | None = None,
                 progress: bool = False) -> int:
        """Train, in parallel, every class of ``archs`` that the store does not hold yet, and store
        the results; returns how many classes were trained now. Queries on these archs are then
        answered from the store.

        ``backend="local"``: ``workers`` processes on this machine; ``"ray"`` (extra
        ``distributed``): the Ray cluster at ``ray_address`` (a local Ray when None). Use it to
        evaluate a batch of proposals at once (e.g. one generation of an evolutionary searcher, or
        a batch of Optuna trials from ``study.ask()``).
        """
        from .train.builder import train_many

        uids = sorted({Arch.parse(a).uid for a in archs})
        todo = [(u, self.train_seed) for u in uids
                if self.store.get(u, self.dataset, self.recipe, self.train_seed) is None]
        if not todo:
            return 0
        results = train_many(todo, self.dataset, self.recipe, workers=workers, backend=backend, device=self.device,
                             data_root=None if self.data_root is None else str(self.data_root),
                             ray_address=ray_address)
        from tqdm.auto import tqdm

        for rec in tqdm(results, total=len(todo), desc=f"train {self.dataset}", unit="arch", disable=not progress):
            self.store.put(rec, self.recipe)
        return len(todo)

    def _check_seed(self, seed: str | int) -> None:
        if seed_label(seed) not in self.seeds:
            raise InvalidChoiceError("seed", seed, self.seeds)

    def query(self, arch: ArchLike, metrics: Union[str, list, None] = None, seed: str = "mean",
              fidelity: int | None = None) -> Union[float, dict[str, float]]:
        self._check_seed(seed)
        names = self.metrics if metrics is None else [metrics] if isinstance(metrics, str) else list(metrics)
        names = [self.resolve_metric(m) for m in names]
        if fidelity is not None and fidelity not in self.fidelities:
            raise InvalidChoiceError("fidelity (epoch)", fidelity, self.fidelities)
        a = Arch.parse(arch)
        out: dict[str, float] = {}
        need_training = [m for m in names if m not in COST_METRICS]
        if need_training:
            rec = self.result(a)
            epoch = fidelity if fidelity is not None else self.recipe.epochs
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
        return out[names[0]] if isinstance(metrics, str) else out

    def curve(self, arch: ArchLike, metric: str, seed: str = "mean") -> dict[int, float]:
        self._check_seed(seed)
        m = self.resolve_metric(metric)
        return {int(e["epoch"]): float(e[m]) for e in self.result(arch)["epochs"] if m in e}

    def train_time(self, arch: ArchLike, fidelity: int | None = None, seed: str = "mean") -> float:
        self._check_seed(seed)
        limit = fidelity if fidelity is not None else self.recipe.epochs
        return float(sum(e["time_s"] for e in self.result(arch)["epochs"] if e["epoch"] <= limit))

    def _stored(self):
        """A tabular benchmark of the classes trained so far."""
        from .objective import Benchmark

        return Benchmark(self.store.table(self.dataset, self.recipe), self.dataset)

    def to_frame(self, metrics=None, seed: str = "mean", fidelity: int | None = None):
        """The classes trained so far (live mode has no complete table)."""
        return self._stored().to_frame(metrics, seed=str(self.train_seed) if seed == "mean" else seed,
                                       fidelity=fidelity)

    def cell_frame(self, metrics=None, seed: str = "mean", fidelity: int | None = None):
        """The cells of the classes trained so far, each with its own costs (see
        :meth:`robbench_plugin.objective.Benchmark.cell_frame`)."""
        return self._stored().cell_frame(metrics, seed=str(self.train_seed) if seed == "mean" else seed,
                                         fidelity=fidelity)

    def __repr__(self) -> str:
        return f"<LiveBenchmark dataset={self.dataset!r} recipe={self.recipe.name!r} seed={self.train_seed}>"

