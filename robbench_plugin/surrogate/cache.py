"""A surrogate is fitted once per (table, arguments) and reused: the package's shipped model, or
``<ROBBENCH_HOME>/surrogates/<key>.rbs``."""
from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from ..embedded import EMBEDDED_BENCHMARKS
from ..errors import DataFileError
from ..objective import Benchmark
from ..paths import home
from .fileformat import FILE_FORMAT, read_header
from .model import FEATURE_VERSION, FIT_VERSION, SurrogateModel, check_header

# the fitted surrogate shipped beside each embedded table (written by scripts/package_embedded.py;
# where the file is absent the surrogate is fitted on first use and cached under ROBBENCH_HOME)
SHIPPED_SURROGATES = {name: spec.surrogate_file for name, spec in EMBEDDED_BENCHMARKS.items()
                      if spec.surrogate_file is not None}


def cache_key(bench: Benchmark, data_sha256: str, fit_kwargs: dict) -> str:
    """Key of a fitted surrogate: the table's sha, dataset, file/feature/fit versions and the fit
    arguments (everything that determines the model; not the package version)."""
    blob = json.dumps({"data": data_sha256, "dataset": bench.dataset, "format": FILE_FORMAT,
                       "features": FEATURE_VERSION, "fit": FIT_VERSION, "fit_kwargs": fit_kwargs},
                      sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def shipped_surrogate_path(name: str) -> Path | None:
    """Path of the fitted surrogate shipped as package data for benchmark ``name``, if any."""
    from importlib import resources

    fname = SHIPPED_SURROGATES.get(name)
    if fname is None:
        return None
    path = resources.files("robbench_plugin").joinpath("_data", fname)
    return Path(str(path)) if path.is_file() else None


def _matching_shipped(bench: Benchmark, sha: str, fit_kw: dict) -> SurrogateModel | None:
    shipped = shipped_surrogate_path(bench.name)
    if shipped is None:
        return None
    try:
        head = read_header(shipped)
        check_header(head, shipped, sha)
        if (head["dataset"], head["fit_kwargs"]) != (bench.dataset, fit_kw):
            return None
        return SurrogateModel.load(shipped, expect_sha256=sha)
    except DataFileError:
        return None  # fitted for another table, format or backend version: fit our own


def fitted_surrogate(bench: Benchmark, refit: bool = False, progress: bool = True, **fit_kw: Any) -> SurrogateModel:
    """The surrogate of ``bench`` fitted with ``fit_kw`` (see :meth:`SurrogateModel.fit`), fitted
    at most once: the package's shipped model when it was fitted on exactly this table with these
    arguments, else ``<ROBBENCH_HOME>/surrogates/<key>.rbs`` (:func:`cache_key`), else fitted now
    and saved there (LightGBM models only: a scikit-learn surrogate stays in memory, see
    :mod:`.fileformat`). A cached file that cannot be used (older format, a corrupt file) is
    refitted and replaced, with a line saying why. ``refit=True`` ignores both."""
    fit_kw = {k: (list(v) if isinstance(v, (tuple, np.ndarray)) else v) for k, v in fit_kw.items()}
    sha = bench.table.sha256()
    if not refit:
        model = _matching_shipped(bench, sha, fit_kw)
        if model is not None:
            return model
    cached = home() / "surrogates" / f"{cache_key(bench, sha, fit_kw)}.rbs"
    if cached.is_file() and not refit:
        try:
            return SurrogateModel.load(cached, expect_sha256=sha)
        except DataFileError as exc:
            print(f"refitting the surrogate: {exc}", file=sys.stderr, flush=True)
    if progress:
        print(f"fitting the surrogate of {bench.name!r} once (cached in {cached})", file=sys.stderr, flush=True)
    model = SurrogateModel.fit(bench, **fit_kw)
    if model.backend == "lightgbm":
        model.save(cached, fit_kwargs=fit_kw)
    return model
