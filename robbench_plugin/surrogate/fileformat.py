"""The saved surrogate: readable whatever the package version, never a pickle of our classes.

Layout: ``RBSURR3\n``, the header's length (8 bytes, little endian), the JSON header, then the
lzma-compressed members. The header holds everything but the members: format, feature and fit
versions, the training table's sha256, dataset, metrics, fidelities per metric, network size,
backend, ensemble size, time model, source metadata, the fit arguments, and the versions of the
package and the backend that wrote it (informational). Members: LightGBM's own text model
(``Booster.model_to_string``) per member, as a JSON object ``{metric: [model text, ...]}``, without
the per-node statistics of the fit that prediction never reads (:func:`prediction_text`).

Reading a file never runs code it holds: the header is JSON and the members are LightGBM's text
models. Surrogates fitted with the scikit-learn backend (when LightGBM is absent) are neither
written nor read (a scikit-learn model can only be stored as a pickle, which can run code on
loading): they live in memory only. A file that does not match (another format, features or fit
recipe, a scikit-learn pickle of an older version, a corrupt body) is a
:class:`~robbench_plugin.errors.DataFileError` saying to refit;
:func:`robbench_plugin.surrogate.cache.fitted_surrogate` then refits.
"""
from __future__ import annotations

import json
import lzma
from pathlib import Path
from typing import Any

from .._version import __version__
from ..errors import DataFileError, InvalidValueError
from ..fileutil import atomic_write_bytes

FILE_FORMAT = 3
_MAGIC = b"RBSURR3\n"

# Lines of LightGBM's text model that its parser treats as optional (read as zeros when absent:
# ``Tree::Tree(const char*)`` in LightGBM's src/io/tree.cpp) and prediction never reads: each node's
# gain, value, hessian sum and count from the fit, which only gain importances and SHAP contributions
# use (the surrogate uses neither); and ``tree_sizes``, each tree's length in bytes for parsing the
# trees in parallel, which no longer holds once they are gone (without it LightGBM parses them in turn).
FIT_STATISTICS = ("split_gain", "internal_value", "internal_weight", "internal_count", "leaf_weight", "leaf_count",
                  "tree_sizes")


def prediction_text(booster: Any) -> str:
    """LightGBM's text model of ``booster`` without the lines of :data:`FIT_STATISTICS`: it predicts
    bit for bit as ``booster`` does, in about half the bytes once compressed (the Fashion-MNIST
    surrogate's members: 3.09 MB with them, 1.57 MB without)."""
    return "\n".join(line for line in booster.model_to_string().split("\n")
                     if line.split("=", 1)[0] not in FIT_STATISTICS)


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
    if backend != "lightgbm":
        raise InvalidValueError(f"a surrogate with {backend} members cannot be saved: only LightGBM's text models, "
                                "which hold no code, are written (install lightgbm, the 'surrogate' extra)")
    header = {**header, "format": FILE_FORMAT,
              "written_by": {"robbench-plugin": __version__, backend: backend_version(backend)}}
    body = json.dumps({m: [prediction_text(b) for b in ms] for m, ms in members.items()}).encode()
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
    if header.get("backend") != "lightgbm":
        raise DataFileError(f"{path} holds {header.get('backend')!r} models, stored as a pickle (which can run "
                            "code when loaded): not read; refit it with LightGBM")
    try:
        raw = lzma.decompress(body)
    except lzma.LZMAError as exc:
        raise DataFileError(f"{path}: corrupt surrogate body ({exc}): refit it") from exc
    import lightgbm as lgb

    try:
        return header, {m: [lgb.Booster(model_str=t) for t in texts] for m, texts in json.loads(raw).items()}
    except Exception as exc:  # LightGBM raises its own error type for a model it cannot read
        raise DataFileError(f"{path}: LightGBM {lgb.__version__} cannot read these models ({exc}): "
                            "refit it") from exc
