"""Live Syne Tune run: ASHA over NB201 cells, each trial adversarially trained on digits by the
package's trainer (examples/syne_tune_train_script.py), with Syne Tune's LocalBackend.

    python examples/syne_tune_live.py [--trials 8] [--workers 2] [--recipe quick]
"""
from __future__ import annotations

import argparse
import logging
from pathlib import Path

from syne_tune import StoppingCriterion, Tuner
from syne_tune.backend import LocalBackend
from syne_tune.config_space import choice
from syne_tune.optimizer.baselines import ASHA

from robbench_plugin.adapters.syne_tune import output_folder
from robbench_plugin.space import OPS
from robbench_plugin.train import Recipe

SCRIPT = Path(__file__).with_name("syne_tune_train_script.py")


def main(trials: int = 8, workers: int = 2, recipe: str = "quick", store_dir: str | None = None,
         max_wallclock_time: float = 3600, out_dir: str | None = None):
    """``out_dir``: Syne Tune's tuner folder (default: a temporary one, removed at the end)."""
    logging.getLogger("syne_tune").setLevel(logging.WARNING)
    epochs = Recipe.preset(recipe).epochs
    config_space = {**{f"hp_x{i}": choice(list(OPS)) for i in range(6)}, "hp_epoch": epochs, "recipe": recipe,
                    **({"store_dir": store_dir} if store_dir else {})}
    scheduler = ASHA(config_space, metric="robust_error", time_attr="hp_epoch", max_t=epochs, grace_period=1,
                     reduction_factor=2, random_seed=0)
    with output_folder(out_dir):
        tuner = Tuner(trial_backend=LocalBackend(entry_point=str(SCRIPT)), scheduler=scheduler,
                      stop_criterion=StoppingCriterion(max_num_trials_started=trials,
                                                       max_wallclock_time=max_wallclock_time),
                      n_workers=workers, sleep_time=0.5, save_tuner=False, wait_trial_completion_when_stopping=True,
                      print_update_interval=1e9)
        tuner.run()
        df = tuner.tuning_status.get_dataframe()
    print(df[["trial_id", "status", "hp_epoch", "robust_error"]].to_string(index=False))
    return df


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=8)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--recipe", default="quick")
    a = ap.parse_args()
    main(a.trials, a.workers, a.recipe)
