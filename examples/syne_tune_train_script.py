"""Training script for live Syne Tune trials: adversarially trains one NB201 cell with the
package's trainer and reports clean/robust accuracy after every evaluated epoch.

Syne Tune's LocalBackend starts it as ``python syne_tune_train_script.py --hp_x0 OP ... --hp_epoch N
--recipe quick``. Results are cached in the package's results store, so a repeated class is
replayed rather than retrained.
"""
from __future__ import annotations

import argparse

from syne_tune import Reporter

from robbench_plugin.live import LiveBenchmark
from robbench_plugin.problem import arch_from_params

CONFIG_KEYS = [f"hp_x{i}" for i in range(6)]

if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    for k in CONFIG_KEYS:
        ap.add_argument(f"--{k}", required=True)
    ap.add_argument("--hp_epoch", type=int, default=None, help="max epochs (default: the recipe's)")
    ap.add_argument("--recipe", default="quick")
    ap.add_argument("--dataset", default="digits")
    ap.add_argument("--store_dir", default=None)
    ap.add_argument("--device", default="auto")
    args, _ = ap.parse_known_args()
    arch = arch_from_params(vars(args), names=CONFIG_KEYS)
    from robbench_plugin.live import ResultsStore
    from robbench_plugin.train import Recipe

    recipe = Recipe.preset(args.recipe)
    if args.hp_epoch is not None:
        recipe = recipe.replace(epochs=args.hp_epoch, eval_epochs="all")
    bench = LiveBenchmark(args.dataset, recipe, device=args.device,
                          store=ResultsStore(args.store_dir) if args.store_dir else None)
    report = Reporter()
    clean, robust = bench.resolve_metric("clean"), bench.resolve_metric("robust")
    elapsed = 0.0

    def on_epoch(rec: dict) -> None:
        global elapsed
        elapsed += rec["time_s"] + rec.get("eval_time_s", 0.0)
        if robust in rec:
            report(hp_epoch=rec["epoch"], clean_accuracy=rec[clean], robust_accuracy=rec[robust],
                   robust_error=1 - rec[robust], train_loss=rec["train_loss"], epoch_time=rec["time_s"],
                   elapsed_time=elapsed)

    bench.result(arch, on_epoch=on_epoch)
