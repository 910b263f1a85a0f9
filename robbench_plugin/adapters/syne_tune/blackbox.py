"""The robust benchmark as Syne Tune's ``BlackboxTabular`` (see :mod:`robbench_plugin.adapters.syne_tune`
for the conventions: hyperparameters, objectives, the fidelity axis ``hp_epoch`` or ``hp_level``),
cached with Syne Tune's own ``serialize``/``deserialize`` under ``<ROBBENCH_HOME>/cache/syne_tune``."""
from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any, Sequence, Union

from . import environment  # noqa: F401  (Syne Tune present, its GPU probe answered)

from syne_tune.blackbox_repository.blackbox_tabular import BlackboxTabular, deserialize, serialize  # noqa: E402
from syne_tune.config_space import choice, randint  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from ...errors import check_choice  # noqa: E402
from ...grid import BenchmarkGrid, benchmark_grid  # noqa: E402
from ...loader import DEFAULT_BENCHMARK, MODES, load_benchmark  # noqa: E402
from ...paths import cache_dir  # noqa: E402
from ...space import OPS  # noqa: E402

CONFIG_KEYS = tuple(f"hp_x{i}" for i in range(6))
EPOCH_ATTR = "hp_epoch"  # Syne Tune's nasbench201 convention: tables with every epoch 1..n
LEVEL_ATTR = "hp_level"  # tables with some epochs only (digits: 1, 2, 4, 8; the release: 50)
TIME_ATTR = LEVEL_ATTR  # the name of earlier versions, for every table
METRIC_EPOCHS = "metric_epochs"
METRIC_VALID_ERROR = "metric_valid_error"
METRIC_ROBUST_ERROR = "metric_robust_error"
METRIC_TIME_THIS_RESOURCE = "metric_runtime"
METRIC_ELAPSED_TIME = "metric_elapsed_time"
CACHE_FORMAT = 4  # 2: fidelity axis hp_level, metric_epochs; 3: hp_epoch where every epoch is recorded;
# 4: recorded tables charge the op-count model of their times (Benchmark.clock)


def blackbox_from_grid(grid: BenchmarkGrid) -> BlackboxTabular:
    """Wrap a :class:`~robbench_plugin.grid.BenchmarkGrid` as Syne Tune's BlackboxTabular."""
    names = grid.op_names()
    hyperparameters = pd.DataFrame(names, columns=list(CONFIG_KEYS))
    configuration_space = {k: choice(list(OPS)) for k in CONFIG_KEYS}
    levels = np.arange(1, len(grid.fidelities) + 1)
    attr = EPOCH_ATTR if np.array_equal(np.asarray(grid.fidelities), levels) else LEVEL_ATTR
    fidelity_space = {attr: randint(lower=1, upper=len(levels))}
    return BlackboxTabular(hyperparameters=hyperparameters, configuration_space=configuration_space,
                           fidelity_space=fidelity_space, objectives_evaluations=grid.values,
                           fidelity_values=levels, objectives_names=[f"metric_{o}" for o in grid.objectives])


def fidelity_attr(blackbox: BlackboxTabular) -> str:
    """The fidelity attribute of a blackbox of this module: ``hp_epoch`` (:data:`EPOCH_ATTR`) when
    its table records every epoch from 1, else ``hp_level`` (:data:`LEVEL_ATTR`)."""
    return blackbox.fidelity_name()


def epochs_of_levels(blackbox: BlackboxTabular) -> dict[int, int]:
    """``{fidelity value: epoch}`` of a blackbox of this module (the identity for ``hp_epoch``)."""
    return dict(zip((int(v) for v in blackbox.fidelity_values), blackbox.robbench_metadata["fidelities"]))


def repository_metadata(blackbox: BlackboxTabular) -> dict:
    """The keys Syne Tune's blackbox repository reads from a blackbox's ``metadata.json`` (its
    ``conversion_scripts.scripts`` names them; its ``nasbench201`` import writes the same): the
    elapsed-time metric, the default metric (here robust error) and the fidelity attribute."""
    from syne_tune.blackbox_repository.conversion_scripts.scripts import default_metric, metric_elapsed_time, time_attr

    return {metric_elapsed_time: METRIC_ELAPSED_TIME, default_metric: METRIC_ROBUST_ERROR,
            time_attr: fidelity_attr(blackbox)}


def _bench(name: Any, dataset: str | None, mode: str, data_dir: str | None, **kw: Any):
    check_choice("mode", mode, [m for m in MODES if m != "live"])
    return name if not isinstance(name, str) else load_benchmark(name, dataset=dataset, mode=mode,
                                                                   data_dir=data_dir, **kw)


def load_blackbox(name: Any = DEFAULT_BENCHMARK, dataset: str | None = None, mode: str = "tabular",
                  data_dir: str | None = None, seeds: Union[str, Sequence[str]] = "complete", cache: bool = True,
                  **load_kw: Any) -> BlackboxTabular:
    """The benchmark as a Syne Tune ``BlackboxTabular`` (from the local cache when present).

    ``name``: ``fashion-mnist`` (the default), ``digits``, ``nas-robbench-201``, ``build`` or a benchmark
    object; ``seeds``: see :func:`robbench_plugin.grid.benchmark_grid`.
    """
    bench = _bench(name, dataset, mode, data_dir, **load_kw)
    seed_key = seeds if isinstance(seeds, str) else ",".join(seeds)
    key = (f"{bench.name}-{bench.dataset}-{getattr(bench, 'mode', 'tabular')}-{seed_key}-{bench.table.sha256()[:16]}"
           f"-v{CACHE_FORMAT}")
    path = cache_dir() / "syne_tune" / key
    if cache and (path / "robbench.json").is_file():
        try:
            bb = deserialize(str(path))[bench.dataset]
            bb.robbench_metadata = json.loads((path / "robbench.json").read_text())
            if bb.robbench_metadata.get("format") == CACHE_FORMAT:
                return bb
        except Exception:  # corrupt cache: rebuild below
            shutil.rmtree(path, ignore_errors=True)
    grid = benchmark_grid(bench, seeds=seeds)
    bb = blackbox_from_grid(grid)
    meta = {"format": CACHE_FORMAT, "benchmark": bench.name, "dataset": bench.dataset,
            "mode": getattr(bench, "mode", "tabular"), "seeds": grid.seeds, "time_source": grid.time_source,
            "table_sha256": bench.table.sha256(), "fidelities": grid.fidelities.tolist(),
            "clean_metric": bench.resolve_metric("clean"), "robust_metric": bench.resolve_metric("robust")}
    bb.robbench_metadata = meta
    if cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=".tmp-"))
        serialize({bench.dataset: bb}, str(tmp), metadata={"robbench": meta, **repository_metadata(bb)})
        (tmp / "robbench.json").write_text(json.dumps(meta))
        try:
            tmp.rename(path)
        except OSError:  # another process won the race: use theirs
            shutil.rmtree(tmp, ignore_errors=True)
    return bb
