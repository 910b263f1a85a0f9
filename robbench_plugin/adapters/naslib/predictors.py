"""NASLib's ``PredictorEvaluator`` on the robust benchmark, unchanged."""
from __future__ import annotations

from typing import Any

from ...errors import InvalidValueError
from .space import RobustNasBench201SearchSpace


def predictor_config(train_sizes: tuple[int, ...] = (20, 50, 100), test_size: int = 100, seed: int = 0,
                     uniform_random: bool = True, save_dir: str | None = None, max_hpo_time: float = 0):
    """Config for NASLib's ``PredictorEvaluator`` (experiment ``vary_train_size`` at the final
    fidelity): ``test_size`` random test architectures, training sets of ``train_sizes``."""
    import tempfile

    from fvcore.common.config import CfgNode

    sizes = sorted(int(s) for s in train_sizes)
    if not sizes or sizes[0] < 1 or test_size < 2:
        raise InvalidValueError(f"train_sizes must be >= 1 and test_size >= 2, got {train_sizes}, {test_size}")
    return CfgNode({"experiment_type": "vary_train_size", "search_space": "nasbench201", "dataset": "cifar10",
                    "uniform_random": int(uniform_random), "test_size": int(test_size),
                    "train_size_single": sizes[-1], "train_size_list": sizes, "fidelity_single": -1,
                    "fidelity_list": [-1], "max_hpo_time": max_hpo_time, "seed": int(seed),
                    "save": save_dir or tempfile.mkdtemp(prefix="naslib-predictor-"),
                    "search": CfgNode({"seed": int(seed)})})


def evaluate_predictor(predictor, dataset_api: dict, config=None, **config_kw: Any) -> list[dict]:
    """Run NASLib's unchanged ``PredictorEvaluator`` for ``predictor`` (any NASLib predictor, e.g.
    ``MLPPredictor(encoding_type=EncodingType.ADJACENCY_ONE_HOT)``) on our benchmark; returns its
    result dicts, one per training size (``spearman``, ``kendalltau``, ``train_size``...).

    The predictor's predictions are cast to float64 (NASLib writes them to ``errors.json``, which
    fails for float32 arrays). NASLib's metrics need scikit-learn < 1.6 (it passes
    ``squared=False`` to ``mean_squared_error`` and turns every metric into NaN otherwise)."""
    import random

    import numpy as np
    import torch
    from naslib.defaults.predictor_evaluator import PredictorEvaluator

    config = config or predictor_config(**config_kw)
    query = predictor.query

    def query_float64(*args, **kwargs):  # NASLib's errors.json writer cannot serialize float32 arrays
        return np.asarray(query(*args, **kwargs), dtype=np.float64)

    predictor.query = query_float64
    random.seed(config.seed)
    np.random.seed(config.seed)
    torch.manual_seed(config.seed)
    evaluator = PredictorEvaluator(predictor, config=config)
    evaluator.adapt_search_space(RobustNasBench201SearchSpace(), load_labeled=False, dataset_api=dataset_api)
    return evaluator.evaluate()[1:]  # the first entry is the config
