"""Optuna adapter: the robust benchmark as an OptunaHub problem and a study objective.

    import optuna  # noqa: F401  (the extra's check; the modules import it)
    from robbench_plugin.adapters.optuna import RobustNASProblem
    problem = RobustNASProblem(benchmark="fashion-mnist", objectives=["clean", "robust"])
    study = optuna.create_study(directions=problem.directions, sampler=optuna.samplers.NSGAIISampler(seed=0))
    study.optimize(problem, n_trials=200)

Every trial stores ``arch`` (NB201 string), ``index``, ``uid`` and all metrics of the class as
user attributes. With one objective that has a learning curve, intermediate values are
reported per epoch (``trial.report``) and pruned trials raise ``optuna.TrialPruned``:
replayed from the table in tabular mode, from the trainer's epoch callback in live mode.

Repeats: isomorphic cells are one class, so a study that proposes a cell of a class it has
already seen gets the same values back. In tabular mode this costs nothing; in live mode the
results store caches each trained class, so a repeat is never re-trained. Samplers still count
a repeat as a trial; :func:`count_unique` reports how many distinct classes a study evaluated.

Modules: :mod:`.problem` (the problem), :mod:`.samplers` (samplers and pruners by name),
:mod:`.scaleout` (batched and multi-process studies), :mod:`.compare` (``robbench compare``'s runs).
"""
from __future__ import annotations

try:
    import optuna  # noqa: F401  (the extra's check; the modules import it)
except ImportError as exc:  # pragma: no cover - depends on the extra
    from ...errors import MissingExtraError

    raise MissingExtraError("optuna", "optuna") from exc
try:
    from optunahub.benchmarks import BaseProblem  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the extra
    from ...errors import MissingExtraError

    raise MissingExtraError("optunahub", "optuna") from exc

from .compare import searcher_trace
from .problem import RobustNASProblem, count_unique
from .samplers import PRUNERS, SAMPLERS, make_pruner, make_sampler
from .scaleout import make_storage, optimize_batched, optimize_parallel

__all__ = ["PRUNERS", "SAMPLERS", "RobustNASProblem", "count_unique", "make_pruner", "make_sampler", "make_storage",
           "optimize_batched", "optimize_parallel", "searcher_trace"]
