"""OptunaHub benchmark package: NAS-RobBench-201 (robust NAS-Bench-201) via robbench-plugin."""
from robbench_plugin.adapters.optuna import RobustNASProblem

Problem = RobustNASProblem

__all__ = ["Problem", "RobustNASProblem"]
