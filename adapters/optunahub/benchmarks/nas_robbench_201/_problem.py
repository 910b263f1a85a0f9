"""NAS-RobBench-201 (robust NAS-Bench-201) as an OptunaHub benchmark problem.

The problem wraps the ``robbench-plugin`` library from PyPI: the benchmark tables, the query
surface and the Optuna translation live there; this module fixes the registry's signature.
"""

from __future__ import annotations

from typing import Any
from typing import Mapping
from typing import Sequence

from robbench_plugin import DEFAULT_BENCHMARK
from robbench_plugin.adapters.optuna import RobustNASProblem


class Problem(RobustNASProblem):
    """Six categorical edges of a NAS-Bench-201 cell; objectives such as clean and robust accuracy.

    Args:
        benchmark: ``fashion-mnist`` (the default) or ``digits`` (both embedded, offline),
            ``nas-robbench-201`` (the release, give ``data_dir=``) or ``build`` (a build of
            ``robbench build``, give ``data_dir=``).
        dataset: dataset of the benchmark (release: ``cifar10``, ``cifar100``, ``imagenet``).
        objectives: ``clean``, ``robust``, ``params``, ``flops`` or any metric of the table; each
            in its natural direction (accuracies maximised, costs minimised).
        mode: ``tabular``, ``surrogate`` or ``live`` (trains on demand).
        seed: training-seed label of the table, or ``mean`` over the seeds.
        constraints: ``{metric: upper bound}``, set on each trial with ``trial.set_constraint``.
        report_curve: report per-epoch values for pruners (single objective; off by default).
        load_kwargs: passed to ``robbench_plugin.load_benchmark`` (``data_dir``, ``recipe``...).
    """

    def __init__(
        self,
        benchmark: str = DEFAULT_BENCHMARK,
        dataset: str | None = None,
        objectives: Sequence[str] = ("clean", "robust"),
        mode: str = "tabular",
        seed: str = "mean",
        constraints: Mapping[str, float] | None = None,
        report_curve: bool = False,
        **load_kwargs: Any,
    ) -> None:
        super().__init__(
            benchmark=benchmark,
            dataset=dataset,
            objectives=objectives,
            mode=mode,
            seed=seed,
            constraints=constraints,
            report_curve=report_curve,
            **load_kwargs,
        )
