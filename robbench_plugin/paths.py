"""Where the package keeps downloads and caches.

``ROBBENCH_HOME`` (environment) overrides the platform default (platformdirs' user data dir
for "robbench"). Layout: ``<home>/nas-robbench-201/`` for the release files,
``<home>/cache/`` for converted tables, ``<home>/results/`` for live results.
"""
from __future__ import annotations

import os
from pathlib import Path


def home() -> Path:
    env = os.environ.get("ROBBENCH_HOME")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("robbench", appauthor=False))


def release_dir() -> Path:
    return home() / "nas-robbench-201"


def cache_dir() -> Path:
    return home() / "cache"


def results_dir() -> Path:
    return home() / "results"
