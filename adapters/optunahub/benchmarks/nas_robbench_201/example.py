"""Run NSGA-II on NAS-RobBench-201 through OptunaHub (local registry copy)."""
import sys
from pathlib import Path

import optuna
import optunahub

optuna.logging.set_verbosity(optuna.logging.WARNING)

registry_root = str(Path(__file__).resolve().parents[2])
mod = optunahub.load_local_module("benchmarks/nas_robbench_201", registry_root=registry_root)
benchmark = sys.argv[1] if len(sys.argv) > 1 else "digits"
problem = mod.Problem(benchmark=benchmark, objectives=["clean", "robust"],
                      **({"data_dir": sys.argv[2]} if len(sys.argv) > 2 else {}))
study = optuna.create_study(directions=problem.directions, sampler=optuna.samplers.NSGAIISampler(seed=0))
study.optimize(problem, n_trials=100)
for t in study.best_trials:
    print(t.values, t.user_attrs["arch"])
