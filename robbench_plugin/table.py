"""A columnar benchmark table: uid x dataset x metric x fidelity x seed -> value.

The canonical form is a long pandas DataFrame with columns

    dataset (str), uid (int, a representative NB201 index), metric (str),
    fidelity (int, the epoch after which the value was measured), seed (str label), value (float)

Accuracies are fractions in [0, 1]; ``time_s`` is seconds of training in that epoch.
For lookups the table also keeps, per dataset, a dense float64 array
``values[metric, fidelity, seed, row]`` (NaN where absent) with ``row`` the position of the
uid; seed aggregates ``mean`` and ``std`` (over the seeds present, per entry) are added.
Tables are cached as parquet with their metadata embedded, and written atomically.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from .errors import DataFileError, check_choice
from .fileutil import atomic_path, atomic_write_bytes
from .space import NUM_ARCHS, representative_indices

COLUMNS = ("dataset", "uid", "metric", "fidelity", "seed", "value")
SEED_AGGREGATES = ("mean", "std")
CACHE_FORMAT = 1
_MAGIC = b"RBT1"


@dataclass
class TableMeta:
    """Provenance and conventions of a table.

    - ``aliases``: e.g. ``{"clean": "val_acc", "robust": "val_pgd_8.0_acc"}``.
    - ``C``, ``N``: network size the values were trained with (for the cost columns).
    - ``time_source``: "recorded" (per-epoch wall time in ``time_s``) or "flops-model".
    - ``sha256``: of the source files, by file name.
    """

    name: str
    source: str = ""
    aliases: dict[str, str] = field(default_factory=dict)
    C: int = 16
    N: int = 5
    recipe: dict | None = None
    time_source: str = "flops-model"
    sha256: dict[str, str] = field(default_factory=dict)
    notes: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "TableMeta":
        return cls(**json.loads(text))


@dataclass
class _DatasetBlock:
    uids: np.ndarray  # sorted representative indices present
    metrics: list[str]
    fidelities: list[int]
    raw_seeds: list[str]
    values: np.ndarray  # (metric, fidelity, seed, row): raw seeds then mean, std; NaN where absent

    @classmethod
    def from_real(cls, uids, metrics, fidelities, raw_seeds, real: np.ndarray) -> "_DatasetBlock":
        """From the raw-seed array (metric, fidelity, raw seed, row); adds mean and std
        (ddof=1, NaN under two seeds) over the seeds present at each entry."""
        n = (~np.isnan(real)).sum(axis=2)
        filled = np.where(np.isnan(real), 0.0, real)
        mean = np.divide(filled.sum(axis=2), n, out=np.full(n.shape, np.nan), where=n > 0)
        sq = np.where(np.isnan(real), 0.0, (real - mean[:, :, None]) ** 2).sum(axis=2)
        std = np.divide(sq, n - 1, out=np.full(sq.shape, np.nan), where=n >= 2) ** 0.5
        return cls(uids, metrics, fidelities, raw_seeds, np.concatenate([real, mean[:, :, None], std[:, :, None]], axis=2))

    @property
    def real(self) -> np.ndarray:
        return self.values[:, :, : len(self.raw_seeds)]

    def __post_init__(self) -> None:
        self.row_of_uid = np.full(NUM_ARCHS, -1, dtype=np.int64)
        self.row_of_uid[self.uids] = np.arange(len(self.uids))
        self.seeds = list(self.raw_seeds) + list(SEED_AGGREGATES)
        self.values.setflags(write=False)
        n = ~np.isnan(self.values[:, :, len(self.raw_seeds)])  # mean present <=> any seed present
        self.metric_pos = {m: i for i, m in enumerate(self.metrics)}
        self.fidelity_pos = {f: i for i, f in enumerate(self.fidelities)}
        self.seed_pos = {s: i for i, s in enumerate(self.seeds)}
        present = n.any(axis=2)  # (metric, fidelity)
        self.final_fidelity = {m: (self.fidelities[int(np.flatnonzero(present[i])[-1])] if present[i].any() else None)
                               for i, m in enumerate(self.metrics)}

    def long(self, dataset: str) -> pd.DataFrame:
        m, f, s, r = np.nonzero(~np.isnan(self.real))
        return pd.DataFrame({"dataset": dataset, "uid": self.uids[r], "metric": np.asarray(self.metrics, dtype=object)[m],
                             "fidelity": np.asarray(self.fidelities, dtype=np.int64)[f],
                             "seed": np.asarray(self.raw_seeds, dtype=object)[s], "value": self.real[m, f, s, r]})


class Table:
    """Benchmark values with fast scalar and vectorised lookups.

    Build with :meth:`from_frame` (validating) or load with :meth:`load` (parquet, long) /
    :meth:`load_dense` (the fast binary cache).
    """

    def __init__(self, blocks: dict[str, _DatasetBlock], meta: TableMeta):
        self._blocks = dict(sorted(blocks.items()))
        self.meta = meta
        self._frame: pd.DataFrame | None = None

    # --- construction ---------------------------------------------------------------
    @classmethod
    def from_frame(cls, frame: pd.DataFrame, meta: TableMeta) -> "Table":
        """Validate a long frame (see module doc) and index it."""
        missing = [c for c in COLUMNS if c not in frame.columns]
        if missing:
            raise DataFileError(f"table frame lacks columns {missing}; needs {list(COLUMNS)}")
        if len(frame) == 0:
            raise DataFileError("table frame is empty")
        try:
            f = pd.DataFrame({
                "dataset": frame["dataset"].astype(str),
                "uid": pd.to_numeric(frame["uid"], errors="raise").astype(np.int64),
                "metric": frame["metric"].astype(str),
                "fidelity": pd.to_numeric(frame["fidelity"], errors="raise").astype(np.int64),
                "seed": frame["seed"].astype(str),
                "value": pd.to_numeric(frame["value"], errors="raise").astype(np.float64),
            })
        except (TypeError, ValueError) as exc:
            raise DataFileError(f"table frame has a non-numeric uid, fidelity or value: {exc}") from exc
        uids = f["uid"].to_numpy()
        if uids.min() < 0 or uids.max() >= NUM_ARCHS:
            raise DataFileError(f"uid out of range 0..{NUM_ARCHS - 1}: {int(uids[(uids < 0) | (uids >= NUM_ARCHS)][0])}")
        rep = representative_indices()
        not_rep = uids[rep[uids] != uids]
        if len(not_rep):
            raise DataFileError(f"uid {int(not_rep[0])} is not a class representative (its class is "
                                f"{int(rep[not_rep[0]])}); tables are keyed by representatives")
        if not np.isfinite(f["value"].to_numpy()).all():
            raise DataFileError("table values must be finite numbers")
        bad_seed = sorted(set(f["seed"]) & set(SEED_AGGREGATES))
        if bad_seed:
            raise DataFileError(f"seed label {bad_seed[0]!r} is reserved for aggregates")
        dup = f.duplicated(["dataset", "uid", "metric", "fidelity", "seed"])
        if dup.any():
            raise DataFileError(f"duplicate table entry {f[dup].iloc[0].to_dict()}")
        blocks = {str(ds): cls._block_from_frame(sub) for ds, sub in f.groupby("dataset", sort=True)}
        return cls(blocks, meta)

    @staticmethod
    def _block_from_frame(sub: pd.DataFrame) -> _DatasetBlock:
        uids = np.unique(sub["uid"].to_numpy())
        metrics = sorted(set(sub["metric"]))
        fidelities = sorted(int(x) for x in set(sub["fidelity"]))
        raw_seeds = sorted(set(sub["seed"]), key=lambda s: (len(s), s))
        mi = pd.Categorical(sub["metric"], categories=metrics).codes
        fi = np.searchsorted(fidelities, sub["fidelity"].to_numpy())
        si = pd.Categorical(sub["seed"], categories=raw_seeds).codes
        ri = np.searchsorted(uids, sub["uid"].to_numpy())
        real = np.full((len(metrics), len(fidelities), len(raw_seeds), len(uids)), np.nan)
        real[mi, fi, si, ri] = sub["value"].to_numpy()
        return _DatasetBlock.from_real(uids, metrics, fidelities, raw_seeds, real)

    @classmethod
    def from_dense(cls, dataset: str, uids: np.ndarray, metrics: list[str], fidelities: list[int],
                   raw_seeds: list[str], values: np.ndarray, meta: TableMeta) -> "Table":
        """A one-dataset table from a dense array ``values[metric, fidelity, raw seed, row]`` (NaN
        where absent; ``row`` = position of the uid in the increasing ``uids``)."""
        return cls({dataset: _DatasetBlock.from_real(np.asarray(uids, dtype=np.int64), list(metrics), list(fidelities),
                                                     list(raw_seeds), values)}, meta)

    # --- introspection --------------------------------------------------------------
    @property
    def datasets(self) -> list[str]:
        return list(self._blocks)

    def block(self, dataset: str) -> _DatasetBlock:
        check_choice("dataset", dataset, self._blocks)
        return self._blocks[dataset]

    @property
    def frame(self) -> pd.DataFrame:
        """The long frame (real seeds only), built on first use."""
        if self._frame is None:
            self._frame = pd.concat([b.long(ds) for ds, b in self._blocks.items()], ignore_index=True)
        return self._frame

    def sha256(self) -> str:
        """Content hash of the table: axes and values of every dataset block."""
        h = hashlib.sha256()
        for ds, b in self._blocks.items():
            h.update(json.dumps([ds, b.uids.tolist(), b.metrics, b.fidelities, b.raw_seeds]).encode())
            h.update(np.ascontiguousarray(b.real).tobytes())
        return h.hexdigest()

    # --- persistence ----------------------------------------------------------------
    def save(self, path: str | Path, float32: bool = False) -> Path:
        """Write the long frame as parquet (zstd), metadata embedded; atomic."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        f = self.frame.copy()
        f["uid"] = f["uid"].astype(np.int16)
        f["fidelity"] = f["fidelity"].astype(np.int16)
        for col in ("dataset", "metric", "seed"):
            f[col] = f[col].astype("category")
        if float32:
            f["value"] = f["value"].astype(np.float32)
        table = pa.Table.from_pandas(f, preserve_index=False)
        md = dict(table.schema.metadata or {})
        md[b"robbench.meta"] = self.meta.to_json().encode()
        md[b"robbench.format"] = str(CACHE_FORMAT).encode()
        table = table.replace_schema_metadata(md)
        with atomic_path(path) as tmp:
            pq.write_table(table, tmp, compression="zstd", compression_level=19)
        return path

    @classmethod
    def load(cls, path: str | Path) -> "Table":
        """Read a parquet table written by :meth:`save`."""
        import pyarrow.parquet as pq

        path = Path(path)
        if not path.is_file():
            raise DataFileError(f"no table file at {path}")
        try:
            table = pq.read_table(path)
        except Exception as exc:
            raise DataFileError(f"cannot read table {path}: {exc}") from exc
        md = table.schema.metadata or {}
        if md.get(b"robbench.format") != str(CACHE_FORMAT).encode() or b"robbench.meta" not in md:
            raise DataFileError(f"{path} is not a robbench table of format {CACHE_FORMAT}")
        return cls.from_frame(table.to_pandas(), TableMeta.from_json(md[b"robbench.meta"].decode()))

    def save_dense(self, path: str | Path) -> Path:
        """Write the fast cache: ``RBT1``, a uint64 header length, a JSON header (meta, axes,
        shapes, byte offsets), then the raw little-endian arrays (seed aggregates included).
        Atomic."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        blobs, entries, offset = [], [], 0
        for ds, b in self._blocks.items():
            uids = b.uids.astype("<i2").tobytes()
            vals = np.ascontiguousarray(b.values, dtype="<f8").tobytes()
            entries.append({"dataset": ds, "metrics": b.metrics, "fidelities": b.fidelities, "seeds": b.raw_seeds,
                            "shape": list(b.values.shape), "uids_at": offset, "values_at": offset + len(uids)})
            blobs += [uids, vals]
            offset += len(uids) + len(vals)
        header = json.dumps({"format": CACHE_FORMAT, "meta": self.meta.to_json(), "blocks": entries,
                             "payload": offset}).encode()
        return atomic_write_bytes(path, _MAGIC + len(header).to_bytes(8, "little") + header + b"".join(blobs))

    @classmethod
    def load_dense(cls, path: str | Path) -> "Table":
        """Read a cache written by :meth:`save_dense`; a truncated or foreign file is an error."""
        try:
            data = Path(path).read_bytes()
            if data[:4] != _MAGIC:
                raise DataFileError(f"{path} is not a robbench table cache")
            hlen = int.from_bytes(data[4:12], "little")
            header = json.loads(data[12:12 + hlen])
            payload = memoryview(data)[12 + hlen:]
            if header["format"] != CACHE_FORMAT or len(payload) != header["payload"]:
                raise DataFileError(f"{path}: cache format {header['format']} or size {len(payload)} unexpected")
            blocks = {}
            for e in header["blocks"]:
                shape = tuple(e["shape"])
                n_rows = shape[3]
                uids = np.frombuffer(payload, "<i2", n_rows, e["uids_at"]).astype(np.int64)
                values = np.frombuffer(payload, "<f8", int(np.prod(shape)), e["values_at"]).reshape(shape)
                if shape[:3] != (len(e["metrics"]), len(e["fidelities"]), len(e["seeds"]) + len(SEED_AGGREGATES)):
                    raise DataFileError(f"{path}: array shape {shape} disagrees with its axes")
                blocks[e["dataset"]] = _DatasetBlock(uids, e["metrics"], e["fidelities"], e["seeds"], values)
            return cls(blocks, TableMeta.from_json(header["meta"]))
        except DataFileError:
            raise
        except Exception as exc:
            raise DataFileError(f"cannot read table cache {path}: {exc}") from exc


def records_to_frame(records: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """Long rows from trainer records (:meth:`TrainResult.to_dict`): every numeric field of
    every epoch record becomes a metric at ``fidelity = epoch``; seeds become labels."""
    rows: dict[str, list] = {c: [] for c in COLUMNS}
    for rec in records:
        for ep in rec["epochs"]:
            epoch = int(ep["epoch"])
            for key, value in ep.items():
                if key == "epoch" or not isinstance(value, (int, float)):
                    continue
                rows["dataset"].append(rec["dataset"])
                rows["uid"].append(int(rec["uid"]))
                rows["metric"].append(key)
                rows["fidelity"].append(epoch)
                rows["seed"].append(str(rec["seed"]))
                rows["value"].append(float(value))
    return pd.DataFrame(rows)
