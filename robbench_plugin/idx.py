"""Reader of the IDX format (LeCun's MNIST files, also Fashion-MNIST's), plain or gzipped.

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of dimensions d),
then d big-endian 32-bit sizes, then the values in C order. Type codes: 0x08 unsigned byte,
0x09 signed byte, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64 (big-endian). A file whose
name ends in ``.gz`` is gunzipped first. Nothing in a file is executed: it is read as numbers.
"""
from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

from .errors import DataFileError

_TYPES = {0x08: np.dtype("u1"), 0x09: np.dtype("i1"), 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
          0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def parse_idx(data: bytes, name: str = "IDX data") -> np.ndarray:
    """The array held by the IDX bytes ``data`` (``name`` appears in errors)."""
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _TYPES:
        raise DataFileError(f"{name} is not an IDX file (bad magic number {data[:4].hex() or 'empty'})")
    dtype, ndim = _TYPES[data[2]], data[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(data) < header:
        raise DataFileError(f"{name}: IDX header of {ndim} dimensions is truncated or empty")
    shape = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        raise DataFileError(f"{name}: IDX header says shape {shape} ({expected} bytes) but the file has "
                            f"{len(data)} bytes: truncated or not an IDX file")
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def read_idx(path: str | Path) -> np.ndarray:
    """The array in the IDX file at ``path`` (gunzipped first when the name ends in ``.gz``)."""
    path = Path(path)
    if not path.is_file():
        raise DataFileError(f"missing data file {path}")
    try:
        raw = path.read_bytes()
        data = gzip.decompress(raw) if path.name.endswith(".gz") else raw
    except (OSError, EOFError, zlib.error) as exc:
        raise DataFileError(f"cannot read {path}: {exc}") from exc
    return parse_idx(data, str(path))
