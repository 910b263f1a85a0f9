"""Build a tabular benchmark by training many architectures: parallel, resumable, append-only.

Layout of a build directory::

    manifest.json            recipe, dataset, job list seed; checked on every resume
    shards/<run>.jsonl       one JSON line per finished (uid, seed): a TrainResult dict

Each finished result is appended as one line and flushed to disk at once by the single
writer (the coordinating process), so a SIGKILL at any moment loses at most the runs in
flight. On resume, every complete line of every shard counts as done; a torn trailing line
(a kill during the write) is ignored, and a (uid, seed) already present is never trained or
written again.

The module builds; :mod:`.plan` says what a build trains and reads what it has, :mod:`.parallel`
runs the jobs. Their public names are importable from here too.
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Iterator, Sequence

from ..data_identity import data_key
from ..errors import DataFileError, InvalidValueError, check_choice
from ..fileutil import append_jsonl, atomic_write_json
from .environment import build_environment, environment, lower_simd_hint
from .parallel import BACKENDS, map_jobs
from .plan import EMBEDDED_PLANS, BuildPlan, done_jobs, read_manifest, read_shards  # noqa: F401  (as before)
from .recipe import Recipe


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
                                + "): use another --out directory" + lower_simd_hint(have, wanted))
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
