"""The saved surrogate: readable whatever the package version, never a pickle of our classes.

Layout: ``RBSURR3\n``, the header's length (8 bytes, little endian), the JSON header, then the
lzma-compressed members. The header holds everything but the members: format, feature and fit
versions, the training table's sha256, dataset, metrics, fidelities per metric, network size,
backend, ensemble size, time model, source metadata, the fit arguments, and the versions of the
package and the backend that wrote it (informational). Members: LightGBM's own text model
(``Booster.model_to_string``) per member, as a JSON object ``{metric: [model text, ...]}``;
scikit-learn members (only when LightGBM was absent at fit time) are a pickle that is read only by
the scikit-learn version that wrote it.

A file that does not match (another format, features or fit recipe; a scikit-learn pickle from
another version; a corrupt body) is a :class:`~robbench_plugin.errors.DataFileError` saying to
refit; :func:`robbench_plugin.surrogate.cache.fitted_surrogate` then refits.
"""
from __future__ import annotations

import json
import lzma
import pickle
from pathlib import Path
from typing import Any

from .._version import __version__
from ..errors import DataFileError
from ..fileutil import atomic_write_bytes

FILE_FORMAT = 3
_MAGIC = b"RBSURR3\n"


def backend_version(backend: str) -> str:
    """Installed version of ``backend`` (``lightgbm`` or ``sklearn``)."""
    if backend == "lightgbm":
        import lightgbm

        return lightgbm.__version__
    import sklearn

    return sklearn.__version__


def write_file(path: str | Path, header: dict, members: dict[str, list[Any]]) -> Path:
    """Write ``header`` (JSON-able; ``backend`` names the members' kind) and the members
    ``{metric: [Booster or estimator, ...]}`` to ``path`` atomically."""
    backend = header["backend"]
    header = {**header, "format": FILE_FORMAT,
              "written_by": {"robbench-plugin": __version__, backend: backend_version(backend)}}
    if backend == "lightgbm":
        body = json.dumps({m: [b.model_to_string() for b in ms] for m, ms in members.items()}).encode()
    else:
        body = pickle.dumps(members, protocol=pickle.HIGHEST_PROTOCOL)
    head = json.dumps(header, sort_keys=True).encode()
    return atomic_write_bytes(path, _MAGIC + len(head).to_bytes(8, "little") + head + lzma.compress(body, preset=6))


def _split(data: bytes, path: str | Path) -> tuple[dict, bytes]:
    if data[:len(_MAGIC)] != _MAGIC:
        older = data[:6] == b"RBSURR"
        raise DataFileError(f"{path} is " + ("a surrogate file of an older format: refit it" if older
                                             else "not a robbench surrogate file"))
    n = int.from_bytes(data[len(_MAGIC):len(_MAGIC) + 8], "little")
    try:
        header = json.loads(data[len(_MAGIC) + 8:len(_MAGIC) + 8 + n])
    except ValueError as exc:
        raise DataFileError(f"{path}: corrupt surrogate header ({exc}): refit it") from exc
    if header.get("format") != FILE_FORMAT:
        raise DataFileError(f"{path} has file format {header.get('format')!r}; this package reads "
                            f"{FILE_FORMAT}: refit it")
    return header, data[len(_MAGIC) + 8 + n:]


def read_header(path: str | Path) -> dict:
    """The JSON header of a saved surrogate (the members are not read)."""
    with open(path, "rb") as fh:
        prefix = fh.read(len(_MAGIC) + 8)
        n = int.from_bytes(prefix[len(_MAGIC):], "little") if prefix[:len(_MAGIC)] == _MAGIC else 0
        return _split(prefix + fh.read(n), path)[0]


def read_file(path: str | Path) -> tuple[dict, dict[str, list[Any]]]:
    """(header, members) of the file at ``path``; members as written (LightGBM Boosters)."""
    header, body = _split(Path(path).read_bytes(), path)
    try:
        raw = lzma.decompress(body)
    except lzma.LZMAError as exc:
        raise DataFileError(f"{path}: corrupt surrogate body ({exc}): refit it") from exc
    if header["backend"] == "lightgbm":
        import lightgbm as lgb

        try:
            return header, {m: [lgb.Booster(model_str=t) for t in texts] for m, texts in json.loads(raw).items()}
        except Exception as exc:  # LightGBM raises its own error type for a model it cannot read
            raise DataFileError(f"{path}: LightGBM {lgb.__version__} cannot read these models ({exc}): "
                                "refit it") from exc
    written, here = header["written_by"].get("sklearn"), backend_version("sklearn")
    if written != here:
        raise DataFileError(f"{path} holds scikit-learn {written} models; installed is {here}: refit it")
    return header, pickle.loads(raw)
