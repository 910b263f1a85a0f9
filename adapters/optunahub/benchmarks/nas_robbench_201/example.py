"""NSGA-II on NAS-RobBench-201 through OptunaHub: clean vs robust accuracy on the embedded
Fashion-MNIST benchmark (offline). Pass ``--local`` to load this package from a checkout of the registry."""

from __future__ import annotations

import sys

import optuna
import optunahub


def main(local_registry: str | None = None, n_trials: int = 100) -> optuna.Study:
    if local_registry is not None:
        module = optunahub.load_local_module(
            "benchmarks/nas_robbench_201", registry_root=local_registry
        )
    else:
        module = optunahub.load_module("benchmarks/nas_robbench_201")
    problem = module.Problem(benchmark="fashion-mnist", objectives=["clean", "robust"])
    study = optuna.create_study(
        directions=problem.directions, sampler=optuna.samplers.NSGAIISampler(seed=0)
    )
    study.optimize(problem, n_trials=n_trials)
    for trial in study.best_trials:
        print(trial.values, trial.user_attrs["arch"])
    return study


if __name__ == "__main__":
    main(sys.argv[2] if len(sys.argv) > 2 and sys.argv[1] == "--local" else None)
