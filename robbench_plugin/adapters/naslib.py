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
"""
from __future__ import annotations

import collections
import collections.abc
from typing import Any, Sequence

for _name in ("Iterable", "Mapping", "MutableMapping", "Sequence", "Callable", "MutableSet", "Set"):
    if not hasattr(collections, _name):
        setattr(collections, _name, getattr(collections.abc, _name))

try:
    from naslib.search_spaces import NasBench201SearchSpace
    from naslib.search_spaces.core.query_metrics import Metric
    from naslib.search_spaces.nasbench201.conversions import convert_naslib_to_str, convert_op_indices_to_str
except ImportError as exc:
    raise ImportError(
        "NASLib is required for robbench_plugin.adapters.naslib but is not importable. NASLib is not on PyPI: "
        "get its source (github.com/automl/NASLib), put it on PYTHONPATH (its setup.py does not install on "
        "Python 3.11), and install its requirements; docs/naslib.md lists the set-up that was tested "
        f"(original error: {exc})") from exc

from ..errors import InvalidChoiceError, InvalidValueError, RobBenchError, check_choice
from ..loader import DEFAULT_BENCHMARK, load_benchmark
from ..metrics import scalarization_weight, scalarize
from ..space import Arch

OBJECTIVE_ALIASES = ("robust", "clean")


def _objective_value(bench, arch_str: str, objective: str, fidelity: int | None = None, seed: str = "mean") -> float:
    w = scalarization_weight(objective)  # the core's scalarized objective
    if w is not None:
        v = bench.query(arch_str, ["clean", "robust"], fidelity=fidelity, seed=seed)
        return float(scalarize(w, v[bench.resolve_metric("clean")], v[bench.resolve_metric("robust")]))
    return float(bench.query(arch_str, objective, fidelity=fidelity, seed=seed))


def get_dataset_api(benchmark: Any = DEFAULT_BENCHMARK, objective: str = "robust", dataset: str | None = None,
                    seed: str = "mean", **load_kw: Any) -> dict:
    """NASLib-style ``dataset_api`` for our benchmarks (name or benchmark object); the objective's
    values are those of the table's training seed ``seed`` (a label, or ``mean`` over the seeds).
    A table that lacks classes (a partial build) is refused: NASLib's searchers may ask for any cell."""
    bench = benchmark if not isinstance(benchmark, str) else load_benchmark(benchmark, dataset=dataset, **load_kw)
    if getattr(bench, "mode", None) == "tabular":
        bench.require_complete("NASLib's searchers")
    for name in (("clean", "robust") if scalarization_weight(objective) is not None else (objective,)):
        bench.resolve_metric(name)  # validates, listing the choices
    if seed not in bench.seeds or seed == "std":
        raise InvalidChoiceError("seed", seed, [s for s in bench.seeds if s != "std"])
    return {"robbench": bench, "objective": objective, "seed": seed, "nb201_data": None}


class RobustNasBench201SearchSpace(NasBench201SearchSpace):
    """NASLib's NAS-Bench-201 search space answering queries from the robust benchmark."""

    def get_type(self) -> str:
        return "nasbench201"  # so NASLib's encodings and predictors treat it as NAS-Bench-201

    def get_nbhd(self, dataset_api: dict = None) -> list:
        """NASLib's neighbourhood, with every neighbour of this class (NASLib builds base-class ones)."""
        nbrs = super().get_nbhd(dataset_api=dataset_api)
        for nbr in nbrs:
            arch = RobustNasBench201SearchSpace()
            arch.set_op_indices(list(nbr.arch.get_op_indices()))
            nbr.arch = arch
        return nbrs

    def arch_string(self) -> str:
        return convert_naslib_to_str(self) if self.instantiate_model else convert_op_indices_to_str(self.get_hash())

    def query(self, metric: "Metric", dataset: str = None, path: str = None, epoch: int = -1,
              full_lc: bool = False, dataset_api: dict = None) -> Any:
        if dataset_api is None or "robbench" not in dataset_api:
            raise RobBenchError("pass dataset_api=robbench_plugin.adapters.naslib.get_dataset_api(...)")
        bench, objective = dataset_api["robbench"], dataset_api["objective"]
        arch = self.arch_string()
        if metric is Metric.VAL_ACCURACY and not full_lc and dataset_api.get("_recording") is not None:
            dataset_api["_recording"].append(arch)
        if metric in (Metric.VAL_ACCURACY, Metric.TEST_ACCURACY):
            if full_lc:
                curve = self._curve(bench, arch, objective)
                return curve if epoch == -1 else curve[:epoch]
            fid = None if epoch == -1 else self._epoch_at(bench, epoch)
            return 100.0 * _objective_value(bench, arch, objective, fid, dataset_api.get("seed", "mean"))
        if metric == Metric.TRAIN_ACCURACY:
            name = "train_acc" if "train_acc" in bench.metrics else objective
            if full_lc:
                return self._curve(bench, arch, name)
            return 100.0 * (_objective_value(bench, arch, name) if name == objective else bench.query(arch, name))
        if metric == Metric.TRAIN_LOSS:
            if "train_loss" not in bench.metrics:
                raise RobBenchError(f"{bench.name} records no train_loss")
            return bench.query(arch, "train_loss")
        if metric == Metric.TRAIN_TIME:
            return bench.train_time(arch)
        if metric == Metric.PARAMETERS:
            return bench.query(arch, "params")
        if metric == Metric.FLOPS:
            return bench.query(arch, "flops")
        if metric == Metric.EPOCH:
            return bench.fidelities[-1]
        if metric == Metric.RAW:
            return bench.query(arch, None)
        raise InvalidChoiceError("NASLib metric for the robust benchmark", getattr(metric, "name", metric),
                                 ["VAL_ACCURACY", "TEST_ACCURACY", "TRAIN_ACCURACY", "TRAIN_LOSS", "TRAIN_TIME",
                                  "PARAMETERS", "FLOPS", "EPOCH", "RAW"])

    @staticmethod
    def _epoch_at(bench, epoch: int) -> int:
        fids = bench.fidelities
        if not 0 <= epoch < len(fids):
            raise InvalidChoiceError("epoch position", epoch, list(range(len(fids))))
        return fids[epoch]

    @staticmethod
    def _curve(bench, arch: str, objective: str) -> list[float]:
        w = scalarization_weight(objective)
        if w is not None:
            c = bench.curve(arch, "clean")
            r = bench.curve(arch, "robust")
            return [100.0 * scalarize(w, c[e], r[e]) for e in sorted(r) if e in c]
        return [100.0 * v for _, v in sorted(bench.curve(arch, objective).items())]


# --- running NASLib's discrete optimizers ---------------------------------------------------
OPTIMIZERS = ("rs", "re", "ls", "bananas", "npenas")


def make_config(optimizer: str, epochs: int = 100, seed: int = 0, save_dir: str | None = None,
                config_file: str | None = None, **search: Any):
    """NASLib's default config for ``optimizer`` (optionally merged with a YAML file such as
    ``adapters/naslib/*.yaml``), with ``search.epochs`` = number of architectures queried."""
    import os
    import tempfile

    from naslib.utils import load_default_config

    if optimizer not in OPTIMIZERS:
        raise InvalidChoiceError("NASLib optimizer", optimizer, OPTIMIZERS)
    config = load_default_config()
    if config_file is not None:
        config.merge_from_file(config_file)
    config.optimizer = optimizer
    config.search.epochs = epochs
    config.search.seed = seed
    config.seed = seed
    config.search.checkpoint_freq = max(epochs + 1, 1000)
    config.search.predictor_type = search.pop("predictor_type", config.search.get("predictor_type", "mlp"))
    # NASLib's default fidelity (200, NAS-Bench-201's epoch count) would index past our tables'
    # recorded epochs; -1 = the final epoch.
    config.search.fidelity = search.pop("fidelity", -1 if config_file is None else config.search.fidelity)
    for key, value in search.items():
        setattr(config.search, key, value)
    config.save = save_dir or tempfile.mkdtemp(prefix="naslib-")
    os.makedirs(os.path.join(config.save, "search"), exist_ok=True)  # NASLib's Trainer writes checkpoints here
    return config


def _optimizer(config, dataset_api: dict):
    """NASLib's optimizer object for ``config.optimizer``, seeded and adapted to our search space."""
    import random

    import numpy as np
    from naslib import optimizers as O

    classes = {"rs": O.RandomSearch, "re": O.RegularizedEvolution, "ls": O.LocalSearch, "bananas": O.Bananas,
               "npenas": O.Npenas}
    random.seed(config.seed)
    np.random.seed(config.seed)
    opt = classes[config.optimizer](config)
    opt.adapt_search_space(RobustNasBench201SearchSpace(), dataset_api=dataset_api)
    return opt


def _search(opt, config):
    from naslib.defaults.trainer import Trainer

    trainer = Trainer(opt, config, lightweight_output=True)
    trainer.search(resume_from="", summary_writer=None, report_incumbent=False)
    return trainer


def run_optimizer(optimizer: str, dataset_api: dict, config=None, **config_kw: Any):
    """Run one NASLib discrete optimizer through NASLib's unchanged Trainer; returns
    ``(optimizer, trainer)`` (``optimizer.get_final_architecture()`` is the incumbent)."""
    config = config or make_config(optimizer, **config_kw)
    opt = _optimizer(config, dataset_api)
    return opt, _search(opt, config)


def evaluated_architectures(optimizer: str, dataset_api: dict, budget: int, seed: int = 0,
                            config_file: str | None = None, **search: Any) -> list[str]:
    """Run NASLib's ``optimizer`` for ``budget`` epochs through its unchanged Trainer and return
    the NB201 strings of the architectures it evaluated, in order.

    NASLib's discrete optimizers evaluate one architecture per epoch inside ``new_epoch``; only
    the ``VAL_ACCURACY`` queries made there are recorded (the Trainer's logging queries between
    epochs are not). ``robbench compare`` uses this to put NASLib's searchers on the same budget
    axis (full evaluations) as the other frameworks'."""
    import tempfile

    log: list[str] = []
    with tempfile.TemporaryDirectory(prefix="naslib-") as save_dir:  # NASLib's checkpoints and logs
        config = make_config(optimizer, epochs=budget, seed=seed, config_file=config_file, save_dir=save_dir,
                             **search)
        api = dict(dataset_api)
        opt = _optimizer(config, api)
        inner = opt.new_epoch

        def recording_new_epoch(epoch: int) -> None:
            api["_recording"] = log
            try:
                inner(epoch)
            finally:
                api["_recording"] = None

        opt.new_epoch = recording_new_epoch
        _search(opt, config)
    return log


# --- NASLib's zero-cost predictors on our networks ------------------------------------------
# NASLib's ZeroCost methods that run on any torch network on a CPU. Left out: "nwot" (NASLib's
# implementation calls .view on a non-contiguous tensor of our cells) and "zen" (needs NASLib's
# own graph method forward_before_global_avg_pool).
ZERO_COST_METHODS = ("synflow", "grad_norm", "snip", "jacov", "fisher", "grasp", "epe_nas", "plain", "l2_norm")


def zero_cost_scores(model, x, y, num_classes: int, methods: tuple[str, ...] = ZERO_COST_METHODS) -> dict[str, float]:
    """Scores of NASLib's ``ZeroCost`` predictor (unchanged) for an untrained torch network on the
    batch ``(x, y)``, one copy of ``model`` per method. NASLib's conventions apply: ``synflow``
    is log-scaled, NaN/inf scores become -1e8."""
    import copy

    import torch.nn.functional as F
    from naslib.predictors.zerocost import ZeroCost

    for method in methods:
        check_choice("NASLib zero-cost method", method, ZERO_COST_METHODS)
    out = {}
    for method in methods:
        net = copy.deepcopy(model)
        net.get_loss_fn = lambda: F.cross_entropy  # what ZeroCost.query asks a NASLib graph for
        net.num_classes = num_classes
        out[method] = float(ZeroCost(method_type=method).query(net, dataloader=[(x, y)]))
    return out


# --- NASLib's predictor evaluator -------------------------------------------------------------
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


# --- robbench compare ---------------------------------------------------------------------------
# NASLib's defaults (population 100, 10 random initial architectures...) are tuned for budgets of
# hundreds of epochs; these fit the budgets of a comparison (budget 100..300).
COMPARE_SETTINGS = {"re": {"population_size": 30, "sample_size": 10},
                    "bananas": {"num_init": 10, "k": 10, "num_ensemble": 3, "num_candidates": 50,
                                "encoding_type": "path", "acq_fn_type": "its", "acq_fn_optimization": "mutation",
                                "num_arches_to_mutate": 2, "max_mutations": 1},
                    "npenas": {"num_init": 10, "k": 10, "num_ensemble": 3, "num_candidates": 50,
                               "encoding_type": "path", "num_arches_to_mutate": 2, "max_mutations": 1},
                    "ls": {"num_init": 10}}


def naslib_objective(objectives: Sequence[str]) -> str:
    """The single objective NASLib's (single-objective) searchers maximize for ``objectives``:
    the objective itself, or the equal-weight scalarization 0.5 x clean + 0.5 x robust."""
    objs = list(objectives)
    if len(objs) == 1:
        return objs[0]
    if sorted(objs) == ["clean", "robust"]:
        return "scalarized:0.5"
    raise InvalidChoiceError("objectives for NASLib searchers (single-objective; scalarized only for "
                             "clean,robust)", ",".join(objs), ["clean", "robust", "clean,robust"])


def searcher_trace(name: str, bench: Any, objectives: Sequence[str], budget: int, seed: int,
                   table_seed: str = "mean"):
    """What NASLib's optimizer ``name`` evaluates on ``bench`` in one ``robbench compare`` run:
    ``index`` of every architecture it evaluated, in order (``budget`` epochs of NASLib's Trainer,
    one full evaluation each), maximizing :func:`naslib_objective` of ``objectives`` at the table's
    ``table_seed``."""
    import pandas as pd

    api = get_dataset_api(bench, objective=naslib_objective(objectives), seed=table_seed)
    archs = evaluated_architectures(name, api, budget=budget, seed=seed, **COMPARE_SETTINGS.get(name, {}))
    return pd.DataFrame({"index": [Arch.from_string(a).index for a in archs]})
