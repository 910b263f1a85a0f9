"""Build a tabular benchmark by training many architectures: parallel, resumable, append-only.

Layout of a build directory::

    manifest.json            recipe, dataset, job list seed; checked on every resume
    shards/<run>.jsonl       one JSON line per finished (uid, seed): a TrainResult dict

Each finished result is appended as one line and flushed to disk at once by the single
writer (the coordinating process), so a SIGKILL at any moment loses at most the runs in
flight. On resume, every complete line of every shard counts as done; a torn trailing line
(a kill during the write) is ignored, and a (uid, seed) already present is never trained or
written again.
"""
from __future__ import annotations

import functools
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from ..data_identity import data_key
from ..errors import DataFileError, InvalidValueError, check_choice
from ..fileutil import append_jsonl, atomic_write_json, read_jsonl
from ..space import unique_indices
from .recipe import Recipe

BACKENDS = ("local", "ray")

# the seeds of the embedded benchmarks' builds: seed 0 for every class, ``extra_seeds`` for a random
# ``extra_fraction`` of them (digits v1: seeds 1 and 2 for 10% of the classes; Fashion-MNIST: seed 1
# for every class, trained after seed 0 of all of them)
EMBEDDED_PLANS = {"digits": {"extra_fraction": 0.1, "extra_seeds": (1, 2)},
                  "fashion-mnist": {"extra_fraction": 1.0, "extra_seeds": (1,), "shuffled": True}}


@dataclass(frozen=True)
class BuildPlan:
    """What to train: every representative uid at ``seed 0``, plus ``extra_seeds`` for a random
    ``extra_fraction`` of uids (chosen with ``plan_seed``)."""

    dataset: str = "digits"
    recipe: Recipe = Recipe.preset("digits")
    uids: tuple[int, ...] | None = None  # None = all 6466 representatives
    extra_fraction: float = 0.1
    extra_seeds: tuple[int, ...] = (1, 2)
    plan_seed: int = 0
    shuffled: bool = False

    def jobs(self) -> list[tuple[int, int]]:
        """Every (uid, seed) to train, in training order: seed 0 of every uid, then the extra seeds.
        ``shuffled``: each seed's uids in a random order (``plan_seed``), so that any prefix of a
        build (one stopped early) is a uniform random sample of the classes."""
        uids = np.asarray(self.uids if self.uids is not None else unique_indices(), dtype=np.int64)
        rng = np.random.default_rng(self.plan_seed)
        n_extra = int(round(self.extra_fraction * len(uids)))
        chosen = np.sort(rng.choice(uids, size=n_extra, replace=False)) if n_extra and self.extra_seeds else []
        if self.shuffled:
            order = np.random.default_rng([self.plan_seed, 1])
            uids, chosen = order.permutation(uids), order.permutation(chosen)
        jobs = [(int(u), 0) for u in uids]
        jobs += [(int(u), s) for s in self.extra_seeds for u in chosen]
        return jobs

    @classmethod
    def for_dataset(cls, dataset: str, recipe: Recipe | None = None) -> "BuildPlan":
        """The plan of the embedded benchmark of ``dataset`` (:data:`EMBEDDED_PLANS`), with its own
        recipe preset unless ``recipe`` is given; any other dataset: every class once, seed 0."""
        settings = EMBEDDED_PLANS.get(dataset, {"extra_fraction": 0.0, "extra_seeds": ()})
        return cls(dataset=dataset, recipe=recipe if recipe is not None else Recipe.preset(dataset), **settings)

    @classmethod
    def from_manifest(cls, manifest: dict) -> "BuildPlan":
        """The plan a build's ``manifest.json`` records (:func:`read_manifest`)."""
        return cls(dataset=manifest["dataset"], recipe=Recipe.from_dict(manifest["recipe"]),
                   uids=None if manifest["uids"] is None else tuple(manifest["uids"]),
                   extra_fraction=manifest["extra_fraction"], extra_seeds=tuple(manifest["extra_seeds"]),
                   plan_seed=manifest["plan_seed"], shuffled=manifest.get("shuffled", False))

    def to_dict(self) -> dict:
        key = data_key(self.dataset)
        return {"dataset": self.dataset, **({"data_key": key} if key != self.dataset else {}),
                "recipe": self.recipe.to_dict(), "recipe_key": self.recipe.key(),
                "uids": None if self.uids is None else list(self.uids), "extra_fraction": self.extra_fraction,
                "extra_seeds": list(self.extra_seeds), "plan_seed": self.plan_seed,
                **({"shuffled": True} if self.shuffled else {})}  # absent when off: older manifests match


def read_shards(out_dir: str | Path) -> Iterator[dict]:
    """Every complete result line of every shard (torn trailing lines skipped)."""
    shard_dir = Path(out_dir) / "shards"
    if not shard_dir.is_dir():
        return
    for path in sorted(shard_dir.glob("*.jsonl")):
        yield from read_jsonl(path)


def done_jobs(out_dir: str | Path) -> set[tuple[int, int]]:
    return {(int(r["uid"]), int(r["seed"])) for r in read_shards(out_dir)}


def read_manifest(build_dir: str | Path) -> dict:
    """The ``manifest.json`` of a build directory; a missing or unreadable one is an error naming it."""
    path = Path(build_dir) / "manifest.json"
    if not path.is_file():
        raise DataFileError(f"{build_dir} is not a build directory (no manifest.json)")
    try:
        manifest = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise DataFileError(f"{path} is not valid JSON ({exc}); delete the build directory or restore the file") \
            from exc
    if not isinstance(manifest, dict) or "recipe" not in manifest or "dataset" not in manifest:
        raise DataFileError(f"{path} is not a build manifest (needs 'dataset' and 'recipe')")
    return manifest


def cpu_model() -> str:
    """The CPU this process runs on: its vendor and model name as the kernel reports them
    (``/proc/cpuinfo``; elsewhere :func:`platform.processor`), e.g. ``"AuthenticAMD AMD EPYC"``."""
    import platform

    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or platform.machine()
    fields = {}
    for line in info.splitlines():
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    return " ".join(v for v in (fields.get("vendor_id"), fields.get("model name")) if v) or platform.machine()


# what a build's manifest pins for every record (resuming under other values is refused); the rest
# of ``environment()`` (the CPU) is recorded per run
BUILD_ENVIRONMENT_KEYS = ("torch", "cpu_capability")


def environment() -> dict:
    """What decides a CPU run's last bits besides its recipe, seed and data: the torch version, the
    SIMD level its kernels use (``torch.backends.cpu.get_cpu_capability``) and the CPU
    (:func:`cpu_model`). Kernels choose their code paths by CPU, so the same torch at the same SIMD
    level gives other last bits on another CPU model, and training grows them (seven Fashion-MNIST
    classes retrained on another CPU than the one that built them end up 0.010 apart in robust
    accuracy after 6 epochs at the median, 0.027 at most). Every record of a build carries the
    environment it was trained in, so it can be reproduced bit for bit there; a build's manifest
    pins the torch version and SIMD level (:data:`BUILD_ENVIRONMENT_KEYS`) and refuses to be
    resumed under others, while its runs may come from several CPUs (a long build outlives a
    machine)."""
    return dict(_environment())


@functools.lru_cache(maxsize=1)
def _environment() -> tuple[tuple[str, str], ...]:
    import torch

    return (("torch", torch.__version__), ("cpu_capability", torch.backends.cpu.get_cpu_capability()),
            ("cpu", cpu_model()))


def build_environment() -> dict:
    """The part of :func:`environment` a build's manifest pins (:data:`BUILD_ENVIRONMENT_KEYS`)."""
    return {k: environment()[k] for k in BUILD_ENVIRONMENT_KEYS}


def _write_manifest(out_dir: Path, plan: BuildPlan, run_identity: dict | None = None) -> None:
    """Write the plan as ``manifest.json``, or check that an existing build has the same whole plan
    (dataset, recipe, uids, extra seeds and fraction, plan seed) and trains with the same
    ``run_identity`` (precision, device type, environment): resuming another plan into the same
    directory would mix two benchmarks. A manifest written before the identity was recorded counts
    as fp32 on cpu, in an unrecorded environment (not checked); one written before the data key
    of a release dataset was recorded (``data_key``, which split of the user's files) is not checked
    for it either."""
    wanted = {**plan.to_dict(), **(run_identity or {})}
    if wanted.get("data_key") == wanted["dataset"]:
        wanted.pop("data_key")  # a dataset whose name is its key (digits): not recorded, as before
    if (out_dir / "manifest.json").is_file():
        have = read_manifest(out_dir)
        for recorded_later in ("environment", "data_key"):
            if recorded_later not in have:
                wanted.pop(recorded_later, None)
        have = {**{"precision": "fp32", "device_type": "cpu"}, **have}
        differ = sorted(k for k in wanted if k != "recipe" and have.get(k) != wanted[k])
        if differ:
            raise DataFileError(f"{out_dir} holds a build of another plan (differs in {', '.join(differ)}: "
                                + "; ".join(f"{k} {have.get(k)!r} there, {wanted[k]!r} now" for k in differ[:3])
                                + "): use another --out directory")
        return
    atomic_write_json(out_dir / "manifest.json", wanted)


# --- workers --------------------------------------------------------------------------
_SPLITS: dict = {}


def _splits(dataset: str, data_root: str | None, data_split: str):
    """The data split, loaded once per worker process."""
    key = (dataset, data_root, data_split)
    if key not in _SPLITS:
        from .data import load_splits

        _SPLITS[key] = load_splits(dataset, data_root, data_split)
    return _SPLITS[key]


def _run_job(job: tuple[int, int], dataset: str, recipe_dict: dict, device: str, data_root: str | None) -> dict:
    from ..store import current_node
    from .loop import train

    uid, seed = job
    recipe = Recipe.from_dict(recipe_dict)
    result = train(uid, dataset, recipe, seed=seed, device=device,
                   splits=_splits(dataset, data_root, recipe.data_split))
    record = result.to_dict()
    record.pop("recipe")  # the manifest holds it; records keep recipe_key
    record["node"] = current_node()
    if result.device == "cpu":
        record["environment"] = environment()
    return record


def _set_one_thread() -> None:
    import torch

    torch.set_num_threads(1)


def map_jobs(fn: Callable[[Any], Any], jobs: Sequence[Any], workers: int = 2, backend: str = "local",
             ray_address: str | None = None, device: str = "cpu", gpus_per_run: float | None = None) -> Iterator[Any]:
    """``fn(job)`` for every job, in parallel, yielding results in completion order.

    ``backend="local"``: ``workers`` spawned processes of one torch thread each (``workers=1``:
    in this process, its torch thread setting restored afterwards). ``"ray"`` (extra
    ``distributed``): one task per job on the Ray cluster at ``ray_address`` (a local Ray with
    ``workers`` CPUs when None; tasks are spread over the cluster's nodes). Each task
    asks for one CPU and, on CUDA (``device`` cuda/cuda:N, or auto on a cluster with GPUs),
    ``gpus_per_run`` GPUs (default 0.25: four small NB201 networks share a GPU).
    """
    check_choice("backend", backend, BACKENDS)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InvalidValueError(f"workers must be an integer >= 1, got {workers!r}")
    if gpus_per_run is not None and not (isinstance(gpus_per_run, (int, float)) and 0 <= gpus_per_run <= 8):
        raise InvalidValueError(f"gpus_per_run must be a number in [0, 8], got {gpus_per_run!r}")
    if backend == "ray":
        return _ray_map(fn, jobs, workers, ray_address, device, gpus_per_run)
    return _local_map(fn, jobs, workers)


def _local_map(fn: Callable[[Any], Any], jobs: Sequence[Any], workers: int) -> Iterator[Any]:
    import multiprocessing as mp

    if workers <= 1:
        import torch

        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            for job in jobs:
                yield fn(job)
        finally:
            torch.set_num_threads(threads)
        return
    ctx = mp.get_context("spawn")
    with ctx.Pool(workers, initializer=_set_one_thread) as pool:
        yield from pool.imap_unordered(fn, jobs, chunksize=1)


def _ray_map(fn: Callable[[Any], Any], jobs: Sequence[Any], workers: int, address: str | None, device: str,
             gpus_per_run: float | None) -> Iterator[Any]:
    try:
        import ray
    except ImportError as exc:
        from ..errors import MissingExtraError

        raise MissingExtraError("ray", "distributed") from exc
    if not ray.is_initialized():
        ray.init(address=address, num_cpus=None if address else workers, include_dashboard=False,
                 log_to_driver=False)
    cuda = str(device).startswith("cuda") or (device == "auto" and ray.cluster_resources().get("GPU", 0) > 0)
    gpus = (0.25 if gpus_per_run is None else float(gpus_per_run)) if cuda else 0.0

    @ray.remote(num_cpus=1, num_gpus=gpus, scheduling_strategy="SPREAD")
    def remote_job(job):
        _set_one_thread()
        return fn(job)

    pending = [remote_job.remote(j) for j in jobs]
    while pending:
        ready, pending = ray.wait(pending, num_returns=1)
        yield ray.get(ready[0])


def train_many(jobs: Sequence[tuple[int, int]], dataset: str, recipe: Recipe, workers: int = 2,
               backend: str = "local", device: str = "cpu", data_root: str | None = None,
               ray_address: str | None = None, gpus_per_run: float | None = None) -> Iterator[dict]:
    """Train ``(uid, seed)`` jobs in parallel (see :func:`map_jobs`) and yield each result record
    (``TrainResult.to_dict()`` without the recipe, plus ``node``: where it ran) as it finishes, in
    completion order. Used by the table builder."""
    import functools

    fn = functools.partial(_run_job, dataset=dataset, recipe_dict=recipe.to_dict(), device=device,
                           data_root=data_root)
    return map_jobs(fn, jobs, workers=workers, backend=backend, ray_address=ray_address, device=device,
                    gpus_per_run=gpus_per_run)


def build(out_dir: str | Path, plan: BuildPlan | None = None, workers: int = 2, backend: str = "local",
          device: str = "cpu", data_root: str | None = None, ray_address: str | None = None,
          limit: int | None = None, progress: bool = True, gpus_per_run: float | None = None) -> int:
    """Train every job of ``plan`` not yet in ``out_dir``; returns how many were trained now.

    ``limit`` caps the number of jobs started in this call (for tests and partial runs).
    """
    check_choice("backend", backend, BACKENDS)
    if workers < 1:
        raise InvalidValueError(f"workers must be >= 1, got {workers!r}")
    plan = plan or BuildPlan()
    from .loop import resolve_precision, select_device

    device_type = select_device(device).type
    out = Path(out_dir)
    (out / "shards").mkdir(parents=True, exist_ok=True)
    _write_manifest(out, plan, {"precision": resolve_precision("auto", device_type), "device_type": device_type,
                                "data_key": data_key(plan.dataset, data_root, plan.recipe.data_split),
                                **({"environment": build_environment()} if device_type == "cpu" else {})})
    all_jobs = plan.jobs()
    done = done_jobs(out)
    todo = [j for j in all_jobs if j not in done]
    if limit is not None:
        todo = todo[:limit]
    if not todo:
        return 0
    shard = out / "shards" / f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}.jsonl"
    results = train_many(todo, plan.dataset, plan.recipe, workers, backend, device, data_root, ray_address,
                         gpus_per_run)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(all_jobs), initial=len(all_jobs) - len(todo) if limit is None else len(done),
                   desc=f"build {plan.dataset}", unit="arch", smoothing=0.05)
    n = 0
    try:
        for rec in results:
            key = (int(rec["uid"]), int(rec["seed"]))
            if key in done:
                continue
            append_jsonl(shard, rec)
            done.add(key)
            n += 1
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return n


def build_status(out_dir: str | Path, plan: BuildPlan | None = None) -> dict:
    plan = plan or BuildPlan()
    jobs = plan.jobs()
    done = done_jobs(out_dir) & set(jobs)
    return {"total": len(jobs), "done": len(done), "complete": len(done) == len(jobs)}
