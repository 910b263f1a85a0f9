"""Live Syne Tune run: ASHA over NB201 cells, each trial adversarially trained on digits by the
package's trainer through the packaged entry point, with Syne Tune's LocalBackend.

    python examples/syne_tune_live.py [--trials 8] [--workers 2] [--recipe quick]
"""
from __future__ import annotations

import argparse

from robbench_plugin.adapters.syne_tune_live import run_live


def main(trials: int = 8, workers: int = 2, recipe: str = "quick", store: str | None = None,
         max_wallclock_time: float = 3600, out_dir: str | None = None):
    """``store``: the results store (SQLAlchemy URL or SQLite directory; default under
    ROBBENCH_HOME); ``out_dir``: Syne Tune's tuner folder (default: a temporary one)."""
    df = run_live("asha", recipe=recipe, trials=trials, workers=workers, store=store,
                  max_wallclock_time=max_wallclock_time, out_dir=out_dir)
    print(df[["trial_id", "status", "epoch", "metric_robust_error"]].to_string(index=False))
    return df


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=8)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--recipe", default="quick")
    a = ap.parse_args()
    main(a.trials, a.workers, a.recipe)
