"""Warnings of the frameworks that a user of the package's commands cannot act on.

The commands (``robbench ...``) choose the frameworks' samplers and schedulers by name, so notices
addressed to a programmer who calls those frameworks directly are noise there: Optuna's
``ExperimentalWarning`` ("NSGAIIISampler is experimental (supported from v3.2.0). The interface can
change in the future.", once per run of a comparison), and deprecation and future warnings raised
inside the frameworks' own modules. Warnings of the package itself, and any other warning, are
kept. Nothing here imports a framework: the filters match Optuna's message and the warning's module.
"""
from __future__ import annotations

import warnings

# Optuna's optuna._experimental message, whatever the class or function it names
EXPERIMENTAL = r".+ is experimental \(supported from v[0-9][0-9.]*\)\. The interface can change in the future\."
# where framework-internal deprecation notices come from (the module the warning names)
FRAMEWORK_MODULES = r"(optuna|optunahub|syne_tune|naslib|ray|lightgbm|botorch|gpytorch|sklearn|pandas)(\..*)?$"


def quiet_framework_warnings() -> None:
    """Install the filters (in this process; spawned workers call it again)."""
    warnings.filterwarnings("ignore", message=EXPERIMENTAL)
    for category in (DeprecationWarning, PendingDeprecationWarning, FutureWarning):
        warnings.filterwarnings("ignore", category=category, module=FRAMEWORK_MODULES)
    # Syne Tune's BOHB fits statsmodels' kernel density estimates, which divide by zero on ties
    warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"statsmodels\.nonparametric(\..*)?$")
