"""NAS-RobBench-201 as an OptunaHub benchmark problem and a study objective (see the package doc)."""
from __future__ import annotations

from typing import Any, Mapping, Sequence, Union

import optuna
from optunahub.benchmarks import BaseProblem

from ...errors import InvalidChoiceError, check_choice
from ...loader import DEFAULT_BENCHMARK, MODES, load_benchmark
from ...problem import EDGE_NAMES, ProblemSpec, arch_from_params
from ...space import OPS, Arch


class RobustNASProblem(BaseProblem):
    """NAS-RobBench-201 as an OptunaHub benchmark problem.

    Args:
        benchmark: a name (``digits``, ``nas-robbench-201``, ``build``) or a benchmark object.
        dataset: dataset of the benchmark (release: cifar10|cifar100|imagenet).
        objectives: metrics or aliases (``clean``, ``robust``, ``params``, ``flops``, any table
            metric), each in its natural direction.
        mode: ``tabular`` | ``surrogate`` | ``live`` (ignored when ``benchmark`` is an object).
        seed: seed label or ``mean`` for the objective values.
        constraints: ``{metric: upper bound}``, e.g. ``{"params": 0.5}``; set on each trial with
            ``trial.set_constraint`` (Optuna >= 5.0), where Optuna's samplers read them.
        report_curve: report per-epoch values (``trial.report``) so that a pruner can stop a trial
            (single objective only). Off by default: with reports, Optuna's default pruner prunes
            most trials of a plain study.
        load_kwargs: passed to :func:`~robbench_plugin.load_benchmark` (``data_dir``, ``recipe``...).
    """

    def __init__(self, benchmark: Any = DEFAULT_BENCHMARK, dataset: str | None = None,
                 objectives: Union[str, Sequence[str]] = ("clean", "robust"), mode: str = "tabular",
                 seed: str = "mean", constraints: Mapping[str, float] | None = None, fidelity: int | None = None,
                 report_curve: bool = False, **load_kwargs: Any):
        check_choice("mode", mode, MODES)
        if isinstance(benchmark, str):
            benchmark = load_benchmark(benchmark, dataset=dataset, mode=mode, **load_kwargs)
        self.benchmark = benchmark
        if seed == "mean" and "mean" not in benchmark.seeds:
            raise InvalidChoiceError("seed", seed, benchmark.seeds)
        self.spec = ProblemSpec(benchmark, objectives, dict(constraints or {}), seed=seed, fidelity=fidelity)
        self.report_curve = report_curve

    # --- OptunaHub interface --------------------------------------------------------
    @property
    def search_space(self) -> dict[str, optuna.distributions.BaseDistribution]:
        """Six categorical edges over the op names, named ``edge_<to>_<from>``."""
        return {name: optuna.distributions.CategoricalDistribution(OPS) for name in EDGE_NAMES}

    @property
    def directions(self) -> list[optuna.study.StudyDirection]:
        d = optuna.study.StudyDirection
        return [d.MAXIMIZE if x == "maximize" else d.MINIMIZE for x in self.spec.directions]

    @property
    def metric_names(self) -> list[str]:
        """Canonical metric name of each objective, in order."""
        return list(self.spec.metrics)

    def evaluate(self, params: dict[str, Any]) -> Union[float, tuple[float, ...]]:
        values = self.spec.evaluate(arch_from_params(params))
        return values[0] if len(values) == 1 else values

    def evaluate_constraints(self, params: dict[str, Any]) -> dict[str, float]:
        return self.spec.constraint_values(arch_from_params(params))

    # --- study objective ------------------------------------------------------------
    @staticmethod
    def suggest_arch(trial: optuna.Trial) -> Arch:
        """The architecture of the trial's six edge suggestions (suggesting again returns the same)."""
        return arch_from_params({name: trial.suggest_categorical(name, OPS) for name in EDGE_NAMES})

    @property
    def prunes(self) -> bool:
        """True when trials report intermediate values (``report_curve`` with one objective)."""
        return self.report_curve and len(self.spec.metrics) == 1

    def __call__(self, trial: optuna.Trial) -> Union[float, tuple[float, ...]]:
        return self._evaluate_trial(trial, report=self.prunes)

    def _evaluate_trial(self, trial: optuna.Trial, report: bool) -> Union[float, tuple[float, ...]]:
        arch = self.suggest_arch(trial)
        trial.set_user_attr("arch", arch.string)
        trial.set_user_attr("index", arch.index)
        trial.set_user_attr("uid", arch.uid)
        cons = self.spec.constraint_values(arch)
        if cons:
            trial.set_user_attr("constraints", cons)
            for key, value in cons.items():
                trial.set_constraint(key, value)
        if report:
            self._report(trial, arch)
        values = self.spec.evaluate(arch)
        trial.set_user_attr("metrics", self.spec.all_metrics(arch))
        return values[0] if len(values) == 1 else values

    def _report(self, trial: optuna.Trial, arch: Arch) -> None:
        """Report the objective's curve before the final epoch; prune where the pruner says (on a
        live benchmark training stops there, the partial run and its checkpoint are stored)."""
        def on_value(epoch: int, value: float) -> bool:
            trial.report(value, step=epoch)
            return not trial.should_prune()

        if not self.spec.follow(arch, on_value):
            raise optuna.TrialPruned()


def count_unique(study: optuna.Study) -> int:
    """Distinct isomorphism classes among a study's completed trials."""
    return len({t.user_attrs.get("uid") for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE})
