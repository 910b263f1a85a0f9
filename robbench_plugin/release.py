"""Reader of the NAS-RobBench-201 release (``meta.json`` + ``NAS-RobBench-201_all.json``).

Release format: ``{dataset: {uid: {metric: {seed_label: value}}}}`` with datasets
``cifar10``, ``cifar100``, ``imagenet`` (ImageNet16-120), uids the representative NB201
indices as strings, metrics such as ``val_acc``, ``val_fgsm_3.0_acc``, ``val_pgd_8.0_acc``
(eps in /255 units), values fractions in [0, 1] and whatever seed labels are present.
The release has one fidelity: the final epoch (50) of its recipe.

The first load converts to a dense binary cache (see :mod:`robbench_plugin.table`); later loads
read the cache. A sidecar records the source files' size, mtime and sha256 and the cache's
own size, mtime and sha256: a source whose stamp changed is re-hashed and, on a sha mismatch,
re-converted; a cache that is unreadable, truncated or changed is rebuilt; ``verify=True``
re-hashes sources and cache on every load.
"""
from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import pandas as pd

from .costs import RELEASE_DATASETS
from .errors import DataFileError
from .fileutil import atomic_write_json, sha256_file
from .paths import cache_dir, release_dir
from .space import NUM_ARCHS, Arch, representative_indices
from .table import Table, TableMeta

META_FILE = "meta.json"
DATA_FILE = "NAS-RobBench-201_all.json"
RELEASE_FILES = (META_FILE, DATA_FILE)
RELEASE_FIDELITY = 50
RELEASE_ALIASES = {"clean": "val_acc", "robust": "val_pgd_8.0_acc"}
GDRIVE_FOLDER = "https://drive.google.com/drive/folders/1Hhv2R1EfpnQOAyClX09mj7rj1Zbbbj0G"


def _missing_message(data_dir: Path, missing: list[str]) -> str:
    return (f"NAS-RobBench-201 release not found: missing {', '.join(missing)} in {data_dir}. "
            f"Run `robbench download` (needs access to Google Drive), or `robbench download --from PATH|URL` "
            f"for a local copy or mirror, or place {' and '.join(RELEASE_FILES)} from {GDRIVE_FOLDER} "
            f"into {data_dir} by hand.")


def check_meta(meta: dict) -> None:
    """Verify a ``meta.json`` against the package's NB201 index order and isomorphism classes."""
    ids = meta.get("ids") if isinstance(meta, dict) else None
    if not isinstance(ids, dict) or len(ids) != NUM_ARCHS:
        raise DataFileError(f"{META_FILE}: 'ids' must map all {NUM_ARCHS} NB201 indices; "
                            f"got {type(ids).__name__} of size {len(ids) if isinstance(ids, dict) else 'n/a'}")
    rep = representative_indices()
    for i in range(NUM_ARCHS):
        entry = ids.get(str(i))
        if not isinstance(entry, dict) or "nb201-string" not in entry or "isomorph" not in entry:
            raise DataFileError(f"{META_FILE}: entry {i} missing or lacks 'nb201-string'/'isomorph': {entry!r}")
        try:
            arch = Arch.from_string(entry["nb201-string"])
        except ValueError as exc:
            raise DataFileError(f"{META_FILE}: entry {i}: {exc}") from exc
        if arch.index != i or str(entry["isomorph"]) != str(rep[i]):
            raise DataFileError(f"{META_FILE}: entry {i} ({entry}) disagrees with NAS-Bench-201's index order "
                                f"or isomorphism classes (expected isomorph {int(rep[i])})")


def parse_release(data: dict) -> pd.DataFrame:
    """Long frame (see :mod:`robbench_plugin.table`) from the parsed release JSON; strict."""
    if not isinstance(data, dict) or not data:
        raise DataFileError(f"{DATA_FILE}: top level must be a non-empty object {{dataset: ...}}")
    unknown = sorted(set(data) - set(RELEASE_DATASETS))
    if unknown:
        raise DataFileError(f"{DATA_FILE}: unknown dataset key {unknown[0]!r}; valid: {', '.join(RELEASE_DATASETS)}")
    rep = representative_indices()
    ds_col, uid_col, metric_col, seed_col, value_col = [], [], [], [], []
    for ds, per_uid in data.items():
        if not isinstance(per_uid, dict):
            raise DataFileError(f"{DATA_FILE}: [{ds!r}] must be an object of uids")
        for uid_s, per_metric in per_uid.items():
            if not uid_s.isdigit() or not 0 <= int(uid_s) < NUM_ARCHS:
                raise DataFileError(f"{DATA_FILE}: [{ds!r}] has key {uid_s!r}, not an NB201 index 0..{NUM_ARCHS - 1}")
            uid = int(uid_s)
            if rep[uid] != uid:
                raise DataFileError(f"{DATA_FILE}: [{ds!r}][{uid_s!r}] is not a class representative "
                                    f"(its representative is {int(rep[uid])})")
            if not isinstance(per_metric, dict):
                raise DataFileError(f"{DATA_FILE}: [{ds!r}][{uid_s!r}] must be an object of metrics")
            for metric, per_seed in per_metric.items():
                if not isinstance(per_seed, dict):
                    raise DataFileError(f"{DATA_FILE}: [{ds!r}][{uid_s!r}][{metric!r}] must be an object of seeds")
                for seed, value in per_seed.items():
                    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                            or not 0.0 <= value <= 1.0:
                        raise DataFileError(f"{DATA_FILE}: [{ds!r}][{uid_s!r}][{metric!r}][{seed!r}] = {value!r} "
                                            f"is not a fraction in [0, 1]")
                    ds_col.append(ds)
                    uid_col.append(uid)
                    metric_col.append(metric)
                    seed_col.append(seed)
                    value_col.append(float(value))
    if not value_col:
        raise DataFileError(f"{DATA_FILE}: holds no values")
    return pd.DataFrame({"dataset": ds_col, "uid": uid_col, "metric": metric_col,
                         "fidelity": RELEASE_FIDELITY, "seed": seed_col, "value": value_col})


def _read_json(path: Path) -> dict:
    try:
        with path.open("rb") as fh:
            return json.load(fh)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataFileError(f"{path} is not valid JSON (truncated or corrupt?): {exc}") from exc


def convert_release(data_dir: str | Path) -> Table:
    """Parse and validate the release files in ``data_dir`` into a :class:`Table` (no cache)."""
    data_dir = Path(data_dir)
    missing = [f for f in RELEASE_FILES if not (data_dir / f).is_file()]
    if missing:
        raise DataFileError(_missing_message(data_dir, missing))
    check_meta(_read_json(data_dir / META_FILE))
    frame = parse_release(_read_json(data_dir / DATA_FILE))
    meta = TableMeta(name="nas-robbench-201", source=f"NAS-RobBench-201 release in {data_dir}",
                     aliases=dict(RELEASE_ALIASES), C=16, N=5, time_source="flops-model",
                     sha256={f: sha256_file(data_dir / f) for f in RELEASE_FILES},
                     notes="Wu et al., ICLR 2024; one fidelity (epoch 50); eps in /255 units")
    return Table.from_frame(frame, meta)


def _stamp(path: Path) -> dict:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def load_release(data_dir: str | Path | None = None, cache: str | Path | None = None, verify: bool = False) -> Table:
    """The release as a :class:`Table`, through the parquet cache.

    ``data_dir`` defaults to ``<ROBBENCH_HOME>/nas-robbench-201``; ``cache`` to a file under
    ``<ROBBENCH_HOME>/cache`` keyed by the data directory. ``verify`` re-hashes the sources
    even when their size and mtime are unchanged.
    """
    data_dir = Path(data_dir) if data_dir is not None else release_dir()
    missing = [f for f in RELEASE_FILES if not (data_dir / f).is_file()]
    if missing:
        raise DataFileError(_missing_message(data_dir, missing))
    if cache is None:
        key = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:16]
        cache = cache_dir() / f"nas-robbench-201-{key}.rbt"
    cache = Path(cache)
    sidecar = cache.with_name(cache.name + ".json")
    stamps = {f: _stamp(data_dir / f) for f in RELEASE_FILES}
    if cache.is_file() and sidecar.is_file():
        try:
            info = json.loads(sidecar.read_text())
            fresh = all(info["sources"][f]["stamp"] == stamps[f] for f in RELEASE_FILES)
            if verify or not fresh:
                fresh = all(info["sources"][f]["sha256"] == sha256_file(data_dir / f) for f in RELEASE_FILES)
            intact = info["cache"]["stamp"] == _stamp(cache)
            if verify:
                intact = intact and info["cache"]["sha256"] == sha256_file(cache)
            if fresh and intact:
                return Table.load_dense(cache)
        except (KeyError, TypeError, ValueError, DataFileError):
            pass  # corrupt or stale: rebuild below
    table = convert_release(data_dir)
    table.save_dense(cache)
    atomic_write_json(sidecar, {
        "sources": {f: {"stamp": stamps[f], "sha256": table.meta.sha256[f]} for f in RELEASE_FILES},
        "cache": {"stamp": _stamp(cache), "sha256": sha256_file(cache)}})
    return table
