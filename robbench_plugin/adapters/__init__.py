"""Framework adapters. Each module imports its framework on import and raises
:class:`~robbench_plugin.errors.MissingExtraError` (naming the pip command) when it is absent.

This package module itself imports no framework: it holds the names that commands validate
before they import one."""

# Optuna samplers by the short names of :func:`robbench_plugin.adapters.optuna.make_sampler`
OPTUNA_SAMPLERS = ("tpe", "nsga2", "nsga3", "gp", "random", "bruteforce", "cmaes", "qmc")
