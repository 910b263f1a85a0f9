"""NASLib adapter: NASLib's own optimizers and predictors on the robust benchmark.

    from robbench_plugin.adapters.naslib import RobustNasBench201SearchSpace, get_dataset_api
    dataset_api = get_dataset_api(benchmark="fashion-mnist", objective="robust")
    optimizer.adapt_search_space(RobustNasBench201SearchSpace(), dataset_api=dataset_api)  # then NASLib's Trainer

NASLib is not on PyPI: put its source on ``PYTHONPATH`` (see docs/naslib.md for the set-up
that was tested). Importing this module applies the compatibility aliases NASLib needs on
Python >= 3.10 (``collections.Iterable`` & co. from ``collections.abc``) and then imports NASLib;
without NASLib it raises an error that says how to get it.

Query mapping (``RobustNasBench201SearchSpace.query``), following NASLib's NAS-Bench-201
convention of accuracies in percent:

- ``VAL_ACCURACY``, ``TEST_ACCURACY``: the chosen objective x 100 (``robust``, ``clean``, any
  accuracy metric of the table, or ``scalarized:W`` = W x clean + (1 - W) x robust);
- ``TRAIN_ACCURACY``: the table's ``train_acc`` x 100 when recorded, else the objective;
- ``TRAIN_LOSS``: ``train_loss`` when recorded; ``TRAIN_TIME``: simulated training seconds;
- ``PARAMETERS`` / ``FLOPS``: the analytic costs (millions); ``EPOCH``: the final epoch;
- ``full_lc=True``: the learning curve over the table's recorded epochs (``epoch`` truncates it).
The ``dataset`` argument NASLib passes is not used: the benchmark in ``dataset_api`` decides.
Architectures go through NB201 strings, never through NASLib's op indices (its op order
differs from NAS-Bench-201's).

The adapter is a package, one concept per module: :mod:`.environment` (NASLib importable on this
Python), :mod:`.space` (the search space and ``get_dataset_api``), :mod:`.optimizers` (running
NASLib's optimizers), :mod:`.zero_cost` (its zero-cost predictors on our networks),
:mod:`.predictors` (its predictor evaluator), :mod:`.compare` (its part of ``robbench compare``). Its
public names are all here.
"""
from __future__ import annotations

from .environment import Metric  # noqa: F401  (NASLib present: an error saying how to get it otherwise)
from .compare import COMPARE_SETTINGS, naslib_objective, searcher_trace
from .optimizers import OPTIMIZERS, evaluated_architectures, make_config, run_optimizer
from .predictors import evaluate_predictor, predictor_config
from .space import OBJECTIVE_ALIASES, RobustNasBench201SearchSpace, get_dataset_api
from .zero_cost import ZERO_COST_METHODS, zero_cost_scores

__all__ = ["COMPARE_SETTINGS", "OBJECTIVE_ALIASES", "OPTIMIZERS", "ZERO_COST_METHODS", "RobustNasBench201SearchSpace",
           "evaluate_predictor", "evaluated_architectures", "get_dataset_api", "make_config", "naslib_objective",
           "predictor_config", "run_optimizer", "searcher_trace", "zero_cost_scores"]
