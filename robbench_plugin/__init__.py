"""robbench-plugin: NAS-RobBench-201 (adversarially trained NAS-Bench-201) as a benchmark for
Optuna, Syne Tune and NASLib.

``import robbench_plugin`` loads numpy and pandas only; torch, optuna, syne_tune, naslib and
lightgbm are imported by the modules that need them.
"""
from __future__ import annotations

from .costs import DATASET_SPECS, arch_costs
from .errors import DataFileError, InvalidArchError, InvalidChoiceError, MissingExtraError, RobBenchError
from ._version import __version__
from .loader import BENCHMARKS, DEFAULT_BENCHMARK, MODES, load_benchmark
from .metrics import metric_direction
from .objective import Benchmark
from .space import EDGES, NUM_ARCHS, NUM_UNIQUE, OPS, Arch


__all__ = ["Arch", "BENCHMARKS", "Benchmark", "DATASET_SPECS", "DEFAULT_BENCHMARK", "DataFileError", "EDGES",
           "InvalidArchError", "InvalidChoiceError", "MODES", "MissingExtraError", "NUM_ARCHS", "NUM_UNIQUE", "OPS",
           "RobBenchError", "__version__", "arch_costs", "load_benchmark", "metric_direction"]
