"""Clean and robust accuracy with NSGA-II under a parameter budget (params <= bound, millions).

    python examples/optuna_multiobjective_constrained.py [--trials 200] [--max-params 0.03]
"""
from __future__ import annotations

import argparse

import optuna

from robbench_plugin import DEFAULT_BENCHMARK
from robbench_plugin.adapters.optuna import RobustNASProblem, make_sampler


def main(benchmark=DEFAULT_BENCHMARK, trials: int = 200, max_params: float | None = None, **load_kw):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    probe = RobustNASProblem(benchmark, objectives=["clean", "robust"], **load_kw)
    if max_params is None:  # default: the median network size of the benchmark
        max_params = float(probe.benchmark.to_frame(["params"])["params"].median())
    problem = RobustNASProblem(probe.benchmark, objectives=["clean", "robust"], constraints={"params": max_params})
    study = optuna.create_study(directions=problem.directions, sampler=make_sampler("nsga2", seed=0))
    study.optimize(problem, n_trials=trials)  # constraints are set on each trial (trial.set_constraint)
    front = problem.spec.true_front()
    print(f"params <= {max_params:.4f} M: {len(study.best_trials)} archs on the found front, "
          f"{len(front)} on the table's feasible front")
    for t in sorted(study.best_trials, key=lambda t: t.values[0]):
        print(f"  clean {t.values[0]:.3f} robust {t.values[1]:.3f} params {t.user_attrs['metrics']['params']:.4f}  "
              f"{t.user_attrs['arch']}")
    return study, problem


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--max-params", type=float, default=None)
    ap.add_argument("--benchmark", default=DEFAULT_BENCHMARK)
    ap.add_argument("--data-dir", default=None)
    a = ap.parse_args()
    main(a.benchmark, a.trials, a.max_params, **({"data_dir": a.data_dir} if a.data_dir else {}))
