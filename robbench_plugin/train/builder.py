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

import functools
import os
import time
from pathlib import Path
from typing import Iterator, Sequence

from ..data_identity import data_key
from ..errors import DataFileError, InvalidValueError, check_choice
from ..fileutil import append_jsonl, atomic_write_json
from .parallel import BACKENDS, map_jobs
from .plan import EMBEDDED_PLANS, BuildPlan, done_jobs, read_manifest, read_shards  # noqa: F401  (as before)
from .recipe import Recipe


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
    machine).

    Where ``ATEN_CPU_CAPABILITY`` holds torch below the CPU's own level (to go on with a build made at
    a lower one), ``native_cpu_capability`` records the level torch picks without it: one CPU model
    name covers CPUs with and without AVX512 (virtual machines report e.g. ``AMD EPYC`` for
    both), and libraries outside torch's own kernels (oneDNN's convolutions) still choose their code
    by the CPU, so a run held at AVX2 on an AVX512 CPU is not one trained on an AVX2 CPU. The key is
    absent where the levels agree, as in records written before it existed."""
    return dict(_environment())


@functools.lru_cache(maxsize=1)
def _environment() -> tuple[tuple[str, str], ...]:
    import torch

    level = torch.backends.cpu.get_cpu_capability()
    env = (("torch", torch.__version__), ("cpu_capability", level), ("cpu", cpu_model()))
    native = native_cpu_capability() if os.environ.get("ATEN_CPU_CAPABILITY") else level
    return env + ((("native_cpu_capability", native),) if native != level else ())


def native_cpu_capability() -> str:
    """The SIMD level torch picks on this CPU without ``ATEN_CPU_CAPABILITY`` (torch reads the
    variable once, when it starts: asked of a fresh interpreter without it, about a second)."""
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "ATEN_CPU_CAPABILITY"}
    return subprocess.run([sys.executable, "-c", "import torch; print(torch.backends.cpu.get_cpu_capability())"],
                          env=env, capture_output=True, text=True, check=True).stdout.strip()


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
                                + "): use another --out directory" + _lower_simd_hint(have, wanted))
        return
    atomic_write_json(out_dir / "manifest.json", wanted)


# torch's SIMD levels on x86, lowest first: ATEN_CPU_CAPABILITY=<level in lower case> makes torch use
# a lower level's kernels than the CPU has (it cannot raise it)
SIMD_LEVELS = ("DEFAULT", "AVX2", "AVX512")


def _lower_simd_hint(have: dict, wanted: dict) -> str:
    """How to go on with a build made at a lower SIMD level than this machine's, or ''."""
    built = (have.get("environment") or {}).get("cpu_capability")
    here = (wanted.get("environment") or {}).get("cpu_capability")
    if built in SIMD_LEVELS and here in SIMD_LEVELS and SIMD_LEVELS.index(built) < SIMD_LEVELS.index(here) \
            and have["environment"].get("torch") == wanted["environment"].get("torch"):
        return f"; or go on at the build's level: ATEN_CPU_CAPABILITY={built.lower()} robbench build ..."
    return ""


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
