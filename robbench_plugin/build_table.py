"""Turn a build of ``robbench build`` into a :class:`~robbench_plugin.table.Table`.

A build is a directory (``manifest.json`` + ``shards/*.jsonl``) or the same packed into one
checksummed archive (:func:`pack_build`: ``<name>.tar.xz`` and ``<name>.tar.xz.sha256`` in
``sha256sum`` format), which is how finished builds are kept in the repository.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import tarfile
import tempfile
from pathlib import Path
from typing import Iterator

from .errors import DataFileError
from .fileutil import atomic_write_bytes, sha256_file
from .table import Table, TableMeta, records_to_frame
from .train.recipe import aliases_for_recipe

ARCHIVE_SUFFIX = ".tar.xz"


def pack_build(build_dir: str | Path, archive: str | Path) -> str:
    """Pack ``build_dir`` into ``archive`` (``.tar.xz``, members sorted, times and owners zeroed,
    so the same build always gives the same bytes) and write ``<archive>.sha256``; returns the
    sha256. Both files are written atomically.

    A shard is packed up to its last complete line: a build that is running (or was killed while it
    wrote) packs the runs it has finished, the same bytes as if the line in flight had not begun."""
    build_dir, archive = Path(build_dir), Path(archive)
    if not (build_dir / "manifest.json").is_file():
        raise DataFileError(f"{build_dir} is not a build directory (no manifest.json)")
    if not archive.name.endswith(ARCHIVE_SUFFIX):
        raise DataFileError(f"archive name {archive.name!r} must end in {ARCHIVE_SUFFIX}")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:xz", preset=9, format=tarfile.PAX_FORMAT) as tf:
        for path in sorted(p for p in build_dir.rglob("*") if p.is_file()):
            content = path.read_bytes()
            if path.suffix == ".jsonl":
                content = content[:content.rfind(b"\n") + 1]  # complete lines only
            info = tarfile.TarInfo(path.relative_to(build_dir).as_posix())
            info.size, info.mode = len(content), 0o644
            tf.addfile(info, io.BytesIO(content))
    data = buf.getvalue()
    sha = hashlib.sha256(data).hexdigest()
    atomic_write_bytes(archive, data)
    atomic_write_bytes(archive.with_name(archive.name + ".sha256"), f"{sha}  {archive.name}\n".encode())
    return sha


@contextlib.contextmanager
def opened_build(path: str | Path) -> Iterator[Path]:
    """The build directory at ``path``, or a temporary unpacked copy of the archive at ``path``
    after checking it against ``<path>.sha256`` (a mismatch or a missing checksum is an error)."""
    path = Path(path)
    if path.is_dir():
        yield path
        return
    if not path.is_file() or not path.name.endswith(ARCHIVE_SUFFIX):
        raise DataFileError(f"{path} is neither a build directory nor a build archive (*{ARCHIVE_SUFFIX})")
    sums = path.with_name(path.name + ".sha256")
    if not sums.is_file():
        raise DataFileError(f"build archive {path} has no checksum file {sums.name}")
    expected = sums.read_text().split()[0] if sums.read_text().split() else ""
    actual = sha256_file(path)
    if actual != expected:
        raise DataFileError(f"build archive {path} does not match {sums.name} (sha256 {actual[:12]}... vs "
                            f"{expected[:12]}...): a truncated or altered copy")
    with tempfile.TemporaryDirectory(prefix="robbench-build-") as tmp:
        try:
            with tarfile.open(path, "r:xz") as tf:
                tf.extractall(tmp, filter="data")
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise DataFileError(f"cannot unpack build archive {path}: {exc}") from exc
        yield Path(tmp)


def unpack_build(archive: str | Path, out_dir: str | Path, plan=None) -> int:
    """Seed the build directory ``out_dir`` from a build archive (after its checksum check), so that
    :func:`~robbench_plugin.train.builder.build` goes on from the runs the archive holds (a build
    kept in a repository, resumed on a new machine). Writes the archive's manifest where ``out_dir``
    has none, and each shard of the archive that ``out_dir`` lacks; a shard of the same name there
    is the one a build has appended to since, and is kept. Refused before anything is written where
    the archive holds a build of another plan than ``plan`` (a
    :class:`~robbench_plugin.train.builder.BuildPlan`), was built under another torch version or
    SIMD level than this one, or ``out_dir`` holds a build with another manifest. Returns how many
    shards were written."""
    from .train.builder import BuildPlan, read_manifest
    from .train.environment import build_environment, lower_simd_hint

    out = Path(out_dir)
    with opened_build(archive) as folder:
        if not folder.joinpath("manifest.json").is_file():
            raise DataFileError(f"build archive {archive} has no manifest.json")
        manifest = read_manifest(folder)
        if plan is not None and BuildPlan.from_manifest(manifest).to_dict() != plan.to_dict():
            raise DataFileError(f"--from: {archive} holds a build of another plan (dataset "
                                f"{manifest['dataset']}, recipe {manifest.get('recipe_key')}) than this one "
                                f"(dataset {plan.dataset}, recipe {plan.recipe.key()})")
        if "environment" in manifest and manifest["environment"] != build_environment():
            raise DataFileError(f"--from: {archive} was built under {manifest['environment']}, this machine runs "
                                f"{build_environment()}: resume it there"
                                + lower_simd_hint(manifest, {"environment": build_environment()}))
        if (out / "manifest.json").is_file() and read_manifest(out) != manifest:
            raise DataFileError(f"--from: {out} holds a build with another manifest than {archive}: use another --out")
        shards = sorted(folder.joinpath("shards").glob("*.jsonl"))
        missing = [s for s in shards if not (out / "shards" / s.name).exists()]
        (out / "shards").mkdir(parents=True, exist_ok=True)
        for shard in missing:
            atomic_write_bytes(out / "shards" / shard.name, shard.read_bytes())
        if not (out / "manifest.json").is_file():  # last: a directory with a manifest is a build
            atomic_write_bytes(out / "manifest.json", folder.joinpath("manifest.json").read_bytes())
    return len(missing)


STALL_FACTOR = 20.0  # an epoch this many times slower than that epoch's median: the process was stopped
TIME_FIELDS = ("time_s", "eval_time_s")


def unstall_records(records: list[dict]) -> tuple[list[dict], int, float]:
    """Trainer records with every stalled epoch time set to its median: a time field (``time_s``,
    ``eval_time_s``) over :data:`STALL_FACTOR` times the median of that field at that epoch over
    ``records``. Times are wall time, so an epoch during which the process was stopped (a paused
    build, a suspended machine) measures the pause, not the training. Returns (the records, copied
    where changed; how many runs had such an epoch; the seconds left out)."""
    import numpy as np

    by_epoch: dict[tuple[str, int], list[float]] = {}
    for rec in records:
        for ep in rec["epochs"]:
            for field in TIME_FIELDS:
                if field in ep:
                    by_epoch.setdefault((field, int(ep["epoch"])), []).append(float(ep[field]))
    median = {key: float(np.median(values)) for key, values in by_epoch.items()}
    out, changed, removed = [], 0, 0.0
    for rec in records:
        epochs = []
        for ep in rec["epochs"]:
            stalled = {f: median[(f, int(ep["epoch"]))] for f in TIME_FIELDS
                       if f in ep and float(ep[f]) > STALL_FACTOR * median[(f, int(ep["epoch"]))]}
            removed += sum(float(ep[f]) - m for f, m in stalled.items())
            epochs.append({**ep, **stalled} if stalled else ep)
        hit = any(a is not b for a, b in zip(epochs, rec["epochs"]))
        out.append({**rec, "epochs": epochs} if hit else rec)
        changed += hit
    return out, changed, removed


def build_progress(build: str | Path) -> dict:
    """How far a build (directory or archive) is, and what its finished runs took.

    Returns ``dataset``, ``recipe_key``, ``total``/``done`` runs of its plan and ``complete``;
    ``seeds``: per training seed, ``[done, planned]`` runs; ``train_s`` and ``eval_s``: the seconds
    its finished runs measured for training and for evaluation, summed over their epochs (each run
    trains in its own process on one thread, so these are core-seconds while nothing else shares
    the cores, more when something does; process start-up and data loading are not counted), every
    stalled epoch at its median (:func:`unstall_records`; ``stalled_runs`` runs had one,
    ``stalled_s`` seconds are left out); ``median_run_s``: the median of a run's training plus
    evaluation seconds (NaN when none), the pace that sharing the cores for a while does not move;
    ``remaining_s``: that median times the runs still to do, the core-seconds left at that pace;
    ``runs_until_seed``: per training seed, the runs still to do up to the plan's last run of that
    seed (a build trains in plan order: seed 0 of every class first), i.e. until it is complete;
    ``cpus``: how many finished runs each CPU trained (``environment["cpu"]`` of a record, with the
    CPU's own SIMD level and the one torch was held at where they differ, e.g. ``"... (AVX512 CPU
    held at AVX2)"``; ``"not recorded"`` for runs from before records named their CPU, or trained off
    the CPU).
    """
    import numpy as np

    from .train.builder import BuildPlan, read_manifest, read_shards

    with opened_build(build) as build_dir:
        manifest = read_manifest(build_dir)
        jobs = BuildPlan.from_manifest(manifest).jobs()
        planned = set(jobs)
        done: dict[tuple[int, int], dict] = {}
        for rec in read_shards(build_dir):
            key = (int(rec["uid"]), int(rec["seed"]))
            if key in planned and key not in done:
                done[key] = rec
    records, stalled_runs, stalled_s = unstall_records(list(done.values()))
    train = np.array([sum(float(e.get("time_s", 0.0)) for e in r["epochs"]) for r in records])
    evaluation = np.array([sum(float(e.get("eval_time_s", 0.0)) for e in r["epochs"]) for r in records])
    seeds: dict[int, list[int]] = {}
    for _, seed in jobs:
        seeds.setdefault(seed, [0, 0])[1] += 1
    for _, seed in done:
        seeds[seed][0] += 1
    cpus: dict[str, int] = {}
    for rec in done.values():
        env = rec.get("environment", {})
        cpu = env.get("cpu", "not recorded")
        if "native_cpu_capability" in env:  # torch held below the CPU's own level (train.environment)
            cpu += f" ({env['native_cpu_capability']} CPU held at {env['cpu_capability']})"
        cpus[cpu] = cpus.get(cpu, 0) + 1
    median = float(np.median(train + evaluation)) if done else float("nan")
    until: dict[int, int] = {}
    left = 0
    for job in jobs:
        left += job not in done
        until[job[1]] = left  # the last job of each seed in plan order sets it
    return {"dataset": manifest["dataset"], "recipe_key": manifest.get("recipe_key"), "total": len(jobs),
            "done": len(done), "complete": len(done) == len(jobs), "seeds": seeds, "train_s": float(train.sum()),
            "eval_s": float(evaluation.sum()), "median_run_s": median,
            "remaining_s": median * (len(jobs) - len(done)) if done else float("nan"),
            "stalled_runs": stalled_runs, "stalled_s": stalled_s, "runs_until_seed": until,
            "cpus": dict(sorted(cpus.items()))}


def table_from_build(build: str | Path, require_complete: bool = False, name: str | None = None) -> Table:
    """All finished results of a build (directory or archive) as a table (``time_source="recorded"``).

    With ``require_complete`` an unfinished build is an error.
    """
    with opened_build(build) as build_dir:
        return _table_from_build_dir(build_dir, require_complete, name, label=str(build))


def _table_from_build_dir(build_dir: Path, require_complete: bool, name: str | None, label: str | None = None) -> Table:
    """The table of the build unpacked in ``build_dir``; errors name ``label`` (the directory or
    archive the caller was given), else ``build_dir``."""
    from .train.builder import BuildPlan, read_manifest, read_shards

    label = label or str(build_dir)
    manifest = read_manifest(build_dir)
    records, _, _ = unstall_records(list(read_shards(build_dir)))
    if not records:
        raise DataFileError(f"build {label} has no finished results yet")
    if require_complete:
        plan = BuildPlan.from_manifest(manifest)
        missing = set(plan.jobs()) - {(int(r["uid"]), int(r["seed"])) for r in records}
        if missing:
            raise DataFileError(f"build {label} is incomplete: {len(missing)} of {len(plan.jobs())} runs missing "
                                f"(robbench build-status {label})")
    recipe = manifest["recipe"]
    meta = TableMeta(name=name or manifest["dataset"], source=f"robbench build of {manifest['dataset']}",
                     aliases=aliases_for_recipe(recipe), C=recipe["C"], N=recipe["N"], recipe=recipe,
                     time_source="recorded", notes="fidelity = epoch; time_s = training seconds of that epoch (an "
                     "epoch over 20x that epoch's median over the build, a stopped process, at the median)")
    return Table.from_frame(records_to_frame(records), meta)
