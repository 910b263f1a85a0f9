"""``load_benchmark``: every kind of benchmark by name and mode.

The loader sits above the benchmark kinds it returns (tabular :class:`~robbench_plugin.objective.Benchmark`,
:class:`~robbench_plugin.surrogate.SurrogateBenchmark`, :class:`~robbench_plugin.live.LiveBenchmark`),
so none of them imports it and the import graph stays a tree.
"""
from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path

from .embedded import DEFAULT_BENCHMARK, EMBEDDED_BENCHMARKS
from .errors import DataFileError, InvalidValueError, check_choice
from .objective import Benchmark
from .table import Table

# the benchmarks that ship inside the package, by name: their table files in robbench_plugin/_data
# (robbench_plugin.embedded says what each is)
EMBEDDED = {name: spec.table_file for name, spec in EMBEDDED_BENCHMARKS.items()}
BENCHMARKS = (*EMBEDDED, "nas-robbench-201")
MODES = ("tabular", "surrogate", "live")


def embedded_available(name: str) -> bool:
    """Whether this installation carries the embedded benchmark ``name`` (see :data:`EMBEDDED`)."""
    check_choice("embedded benchmark", name, EMBEDDED)
    return resources.files(__package__).joinpath("_data", EMBEDDED[name]).is_file()


def load_embedded_table(name: str) -> Table:
    """The table of the embedded benchmark ``name`` (package data), read once per process (names
    that share a table file share one read)."""
    spec = EMBEDDED_BENCHMARKS.get(name)
    if not embedded_available(name):  # checks the name first
        raise DataFileError(
            f"the embedded {name} benchmark is not in this installation yet (its table is built with "
            f"`robbench build {spec.dataset} --recipe {spec.recipe}`); use load_benchmark('build', "
            f"data_dir=<a build directory or archive, such as the repository's data/{spec.build}>) meanwhile, "
            "or another benchmark")
    return _load_table_file(spec.table_file)


@functools.lru_cache(maxsize=4)
def _load_table_file(fname: str) -> Table:
    with resources.as_file(resources.files(__package__).joinpath("_data", fname)) as p:
        return Table.load(p)


def forget_loaded_tables() -> None:
    """Drop the embedded tables read so far, so that the next load reads the files again (after
    ``scripts/package_embedded.py`` replaced one)."""
    _load_table_file.cache_clear()


def load_benchmark(name: str = DEFAULT_BENCHMARK, dataset: str | None = None, mode: str = "tabular",
                   data_dir: str | Path | None = None, **kwargs) -> Benchmark:
    """Load a benchmark by name.

    - ``fashion-mnist`` (the default): the embedded benchmark of all 6466 classes at two seeds on 8x8
      Fashion-MNIST, its current version; ``fashion-mnist-v1`` pins version 1 (the same table today);
      ``fashion-mnist-v2`` is being built (its table is not in the package yet; ``mode="live"`` trains it).
    - ``digits``: the embedded benchmark of all 6466 classes on scikit-learn's digits (tests, tiny demos).
    - ``nas-robbench-201``: the release, from ``data_dir`` (default ``<ROBBENCH_HOME>/nas-robbench-201``);
      ``dataset`` in cifar10 (default), cifar100, imagenet.
    - ``build``: a table from a build directory of ``robbench build`` (``data_dir``), complete or not.
    :data:`robbench_plugin.embedded.EMBEDDED_BENCHMARKS` lists the embedded names with their recipes.
    ``mode``: ``tabular``; ``surrogate`` (extra ``surrogate``) answers from a fitted surrogate;
    ``live`` trains on demand (extra ``train``; ``recipe=`` a preset or Recipe, default the
    benchmark's own: the embedded benchmark's recipe or ``release``), results cached under
    ``<ROBBENCH_HOME>/results``.
    """
    check_choice("mode", mode, MODES)
    if mode == "live":
        check_choice("benchmark", name, BENCHMARKS)
        spec = EMBEDDED_BENCHMARKS.get(name)
        recipe = kwargs.pop("recipe", spec.recipe if spec else "release")
        ds = dataset or (spec.dataset if spec else "cifar10")
        return load_live(ds, recipe, data_root=data_dir, **kwargs)
    check_choice("benchmark", name, BENCHMARKS + ("build",))
    if name in EMBEDDED:
        table = load_embedded_table(name)
    elif name == "nas-robbench-201":
        from .release import load_release

        table = load_release(data_dir, **{k: kwargs.pop(k) for k in ("cache", "verify") if k in kwargs})
    else:
        if data_dir is None:
            raise InvalidValueError("load_benchmark('build') needs data_dir=<build directory>")
        from .build_table import table_from_build

        table = table_from_build(data_dir)
    if dataset is None:
        dataset = table.datasets[0] if name != "nas-robbench-201" else "cifar10"
    check_choice("dataset", dataset, table.datasets)
    bench = Benchmark(table, dataset, name=name)
    if mode == "tabular":
        if kwargs:
            raise TypeError(f"unexpected arguments for a tabular benchmark: {sorted(kwargs)}")
        return bench
    from .surrogate import SurrogateBenchmark

    return SurrogateBenchmark.from_benchmark(bench, **kwargs)


def load_live(dataset: str = "digits", recipe: object = "quick", **kwargs):
    """A :class:`~robbench_plugin.live.LiveBenchmark` (extra ``train``): trains on demand."""
    from .live import LiveBenchmark

    return LiveBenchmark(dataset, recipe, **kwargs)
