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

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np

from ..errors import DataFileError, InvalidValueError, check_choice
from ..fileutil import append_jsonl, atomic_write_json, read_jsonl
from ..space import unique_indices
from .recipe import Recipe

BACKENDS = ("local", "ray")


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

    def jobs(self) -> list[tuple[int, int]]:
        uids = np.asarray(self.uids if self.uids is not None else unique_indices(), dtype=np.int64)
        jobs = [(int(u), 0) for u in uids]
        n_extra = int(round(self.extra_fraction * len(uids)))
        if n_extra and self.extra_seeds:
            rng = np.random.default_rng(self.plan_seed)
            chosen = np.sort(rng.choice(uids, size=n_extra, replace=False))
            jobs += [(int(u), s) for s in self.extra_seeds for u in chosen]
        return jobs

    def to_dict(self) -> dict:
        return {"dataset": self.dataset, "recipe": self.recipe.to_dict(), "recipe_key": self.recipe.key(),
                "uids": None if self.uids is None else list(self.uids), "extra_fraction": self.extra_fraction,
                "extra_seeds": list(self.extra_seeds), "plan_seed": self.plan_seed}


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


def _write_manifest(out_dir: Path, plan: BuildPlan) -> None:
    """Write the plan as ``manifest.json``, or check that an existing build has the same whole plan
    (dataset, recipe, uids, extra seeds and fraction, plan seed): resuming another plan into the
    same directory would mix two benchmarks."""
    wanted = plan.to_dict()
    if (out_dir / "manifest.json").is_file():
        have = read_manifest(out_dir)
        differ = sorted(k for k in wanted if k != "recipe" and have.get(k) != wanted[k])
        if differ:
            raise DataFileError(f"{out_dir} holds a build of another plan (differs in {', '.join(differ)}: "
                                + "; ".join(f"{k} {have.get(k)!r} there, {wanted[k]!r} now" for k in differ[:3])
                                + "): use another --out directory")
        return
    atomic_write_json(out_dir / "manifest.json", wanted)


# --- workers --------------------------------------------------------------------------
_SPLITS = None


def _init_worker(dataset: str, data_root: str | None, threads: int) -> None:
    global _SPLITS
    import torch

    torch.set_num_threads(threads)
    from .data import load_splits

    _SPLITS = load_splits(dataset, data_root)


def _run_job(job: tuple[int, int], dataset: str, recipe_dict: dict, device: str) -> dict:
    from .loop import train

    uid, seed = job
    result = train(uid, dataset, Recipe.from_dict(recipe_dict), seed=seed, device=device, splits=_SPLITS)
    record = result.to_dict()
    record.pop("recipe")  # the manifest holds it; records keep recipe_key
    return record


def _local_results(jobs: Sequence[tuple[int, int]], dataset: str, recipe: Recipe, workers: int, device: str,
                   data_root: str | None) -> Iterable[dict]:
    import functools
    import multiprocessing as mp

    fn = functools.partial(_run_job, dataset=dataset, recipe_dict=recipe.to_dict(), device=device)
    if workers <= 1:
        _init_worker(dataset, data_root, 1)
        for job in jobs:
            yield fn(job)
        return
    ctx = mp.get_context("spawn")
    with ctx.Pool(workers, initializer=_init_worker, initargs=(dataset, data_root, 1)) as pool:
        yield from pool.imap_unordered(fn, jobs, chunksize=1)


def _ray_results(jobs: Sequence[tuple[int, int]], dataset: str, recipe: Recipe, workers: int, device: str,
                 data_root: str | None, address: str | None) -> Iterable[dict]:
    try:
        import ray
    except ImportError as exc:
        from ..errors import MissingExtraError

        raise MissingExtraError("ray", "distributed") from exc
    if not ray.is_initialized():
        ray.init(address=address, num_cpus=None if address else workers, include_dashboard=False,
                 log_to_driver=False)
    recipe_dict = recipe.to_dict()

    @ray.remote(num_cpus=1)
    def remote_job(job):
        if _SPLITS is None:
            _init_worker(dataset, data_root, 1)
        return _run_job(job, dataset, recipe_dict, device)

    pending = [remote_job.remote(j) for j in jobs]
    while pending:
        ready, pending = ray.wait(pending, num_returns=1)
        yield ray.get(ready[0])


def train_many(jobs: Sequence[tuple[int, int]], dataset: str, recipe: Recipe, workers: int = 2,
               backend: str = "local", device: str = "cpu", data_root: str | None = None,
               ray_address: str | None = None) -> Iterator[dict]:
    """Train ``(uid, seed)`` jobs in parallel and yield each result record (``TrainResult.to_dict()``
    without the recipe) as it finishes, in completion order.

    ``backend="local"``: ``workers`` spawned processes of one thread each; ``"ray"`` (extra
    ``distributed``): one task per job on the Ray cluster at ``ray_address`` (a local Ray with
    ``workers`` CPUs when None). Used by the table builder and by
    :meth:`robbench_plugin.live.LiveBenchmark.prefetch`.
    """
    check_choice("backend", backend, BACKENDS)
    if workers < 1:
        raise InvalidValueError(f"workers must be >= 1, got {workers!r}")
    if backend == "ray":
        return iter(_ray_results(jobs, dataset, recipe, workers, device, data_root, ray_address))
    return iter(_local_results(jobs, dataset, recipe, workers, device, data_root))


def build(out_dir: str | Path, plan: BuildPlan | None = None, workers: int = 2, backend: str = "local",
          device: str = "cpu", data_root: str | None = None, ray_address: str | None = None,
          limit: int | None = None, progress: bool = True) -> int:
    """Train every job of ``plan`` not yet in ``out_dir``; returns how many were trained now.

    ``limit`` caps the number of jobs started in this call (for tests and partial runs).
    """
    check_choice("backend", backend, BACKENDS)
    if workers < 1:
        raise InvalidValueError(f"workers must be >= 1, got {workers!r}")
    plan = plan or BuildPlan()
    out = Path(out_dir)
    (out / "shards").mkdir(parents=True, exist_ok=True)
    _write_manifest(out, plan)
    all_jobs = plan.jobs()
    done = done_jobs(out)
    todo = [j for j in all_jobs if j not in done]
    if limit is not None:
        todo = todo[:limit]
    if not todo:
        return 0
    shard = out / "shards" / f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}.jsonl"
    results = train_many(todo, plan.dataset, plan.recipe, workers, backend, device, data_root, ray_address)
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
