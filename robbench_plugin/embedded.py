"""The benchmarks that ship inside the package: one entry per name :func:`~robbench_plugin.load_benchmark`
takes, each naming its table file, the dataset and recipe it was built with, and its shipped surrogate.

A versioned name (``fashion-mnist-v1``) always means the same table; the plain name
(``fashion-mnist``) is the current version of that benchmark, so code that must not change under an
upgrade pins the versioned name. Two names may share one table file.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EmbeddedBenchmark:
    """One embedded benchmark.

    ``table_file`` and ``surrogate_file`` are file names in ``robbench_plugin/_data``
    (``surrogate_file`` None: the surrogate is fitted on first use and cached under ROBBENCH_HOME);
    ``dataset`` is the dataset its table holds and live mode trains on; ``recipe`` the preset of
    :class:`~robbench_plugin.train.Recipe` that built it (live mode's default); ``build`` the build
    archive in the repository's ``data/`` it was packaged from (``scripts/package_embedded.py``);
    ``summary`` one line on what it is (``robbench info`` shows it).
    """

    name: str
    table_file: str
    dataset: str
    recipe: str
    surrogate_file: str | None
    build: str
    summary: str


_FASHION_MNIST_V1 = dict(table_file="fashion-mnist.parquet", dataset="fashion-mnist", recipe="fashion-mnist",
                         surrogate_file="fashion-mnist-surrogate.rbs", build="fashion-mnist-v1.build.tar.xz",
                         summary="all 6466 classes at two seeds on 8x8 Fashion-MNIST, 6 epochs of "
                                 "OneCycle FGSM adversarial training (docs/fashion-mnist-report)")

EMBEDDED_BENCHMARKS: dict[str, EmbeddedBenchmark] = {
    "digits": EmbeddedBenchmark(
        "digits", "digits.parquet", "digits", "digits", "digits-surrogate.rbs", "digits-v1.build.tar.xz",
        "all 6466 classes on scikit-learn's 8x8 digits, for tests and tiny demos (docs/digits-report)"),
    "fashion-mnist": EmbeddedBenchmark("fashion-mnist", **_FASHION_MNIST_V1),
    "fashion-mnist-v1": EmbeddedBenchmark("fashion-mnist-v1", **_FASHION_MNIST_V1),
    # being built (data/fashion-mnist-v2.build.tar.xz grows with it): not in the package until complete
    "fashion-mnist-v2": EmbeddedBenchmark(
        "fashion-mnist-v2", "fashion-mnist-v2.parquet", "fashion-mnist", "fashion-mnist-v2",
        "fashion-mnist-v2-surrogate.rbs", "fashion-mnist-v2.build.tar.xz",
        "v1's protocol with NAS-Bench-201's cosine schedule, so that early epochs rank the final ones "
        "(docs/design-study.md); its table is being built"),
}
DEFAULT_BENCHMARK = "fashion-mnist"


def distinct_tables() -> dict[str, EmbeddedBenchmark]:
    """One embedded benchmark per table file (the first name listed for it): what tests of the
    shipped files iterate over, so that a second name for a table does not check it twice."""
    out: dict[str, EmbeddedBenchmark] = {}
    for spec in EMBEDDED_BENCHMARKS.values():
        out.setdefault(spec.table_file, spec)
    return {spec.name: spec for spec in out.values()}
