"""One query surface over every benchmark the package holds.

``load_benchmark(name, dataset=..., mode=...)`` returns a :class:`Benchmark`. Queries accept
any of the 15625 cell forms (Arch, NB201 index, NB201 string, six ops) and answer for the
cell's isomorphism class. Metric names are the table's (``val_acc``, ``val_pgd_8.0_acc``...),
the aliases ``clean`` and ``robust``, and the costs ``params`` (millions) and ``flops``
(millions of multiply-adds per image). Accuracies are fractions in [0, 1].
Seeds are the table's labels (strings) or the aggregates ``mean`` and ``std``; fidelities
are epochs, ``None`` meaning the final one recorded for the metric.

The package, one concept per module: :mod:`.cells` (a cell's index from any form), :mod:`.axes`
(data sets, metrics, fidelities, seeds, classes), :mod:`.queries` (values of cells and curves),
:mod:`.clock` (completeness and the simulated training time), :mod:`.benchmark` (:class:`Benchmark`,
with its frames and Pareto front).
"""
from __future__ import annotations

from .benchmark import Benchmark
from .cells import _index_of_string, arch_index  # noqa: F401  (private name kept where it was)

__all__ = ["Benchmark", "arch_index"]
