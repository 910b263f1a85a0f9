"""Surrogate benchmark: gradient-boosted ensembles predicting any metric at any fidelity.

Features: cell encodings (:mod:`robbench_plugin.encodings`: one-hot, path, op counts), the
network's params and FLOPs, and the fidelity (epoch). One ensemble per metric of
``n_models`` LightGBM regressors (scikit-learn's HistGradientBoostingRegressor when LightGBM
is absent) on bootstrap resamples with different seeds; the prediction is the ensemble mean
and its uncertainty the ensemble standard deviation.

:class:`SurrogateBenchmark` is a :class:`~robbench_plugin.objective.Benchmark` over a table of
predictions for all 6466 classes at every fidelity, so every query, Pareto front and adapter
works on it as on a tabular benchmark. With ``noise=True`` each entry is drawn once from
N(mean, std) with a fixed ``noise_seed`` (deterministic); predictions are clipped to [0, 1]
for accuracies.

Modules: :mod:`.model` (features, fitting, prediction), :mod:`.fileformat` (the saved file:
LightGBM's own text models behind a JSON header), :mod:`.cache` (fitted once, then reused),
:mod:`.benchmark` (the benchmark class), :mod:`.evaluation` (held-out quality and baselines).

Extra ``surrogate`` (lightgbm, scikit-learn).
"""
from __future__ import annotations

from .benchmark import SurrogateBenchmark
from .cache import SHIPPED_SURROGATES, fitted_surrogate, shipped_surrogate_path
from .evaluation import evaluate_surrogate, summarize_evaluation
from .fileformat import FILE_FORMAT
from .model import BACKENDS, FEATURE_VERSION, FIT_VERSION, SurrogateModel, features, resolve_backend

__all__ = ["BACKENDS", "FEATURE_VERSION", "FILE_FORMAT", "FIT_VERSION", "SHIPPED_SURROGATES", "SurrogateBenchmark",
           "SurrogateModel", "evaluate_surrogate", "features", "fitted_surrogate", "resolve_backend",
           "shipped_surrogate_path", "summarize_evaluation"]
