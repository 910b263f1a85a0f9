"""Syne Tune training entry point for live trials: trains one NB201 cell with the package's trainer.

Syne Tune's LocalBackend starts it as ``python syne_tune_trial.py --hp_x0 OP ... --hp_x5 OP
--epochs E --recipe R --store URL --st_checkpoint_dir DIR`` (see
:func:`robbench_plugin.adapters.syne_tune_live.live_tuner`). It reports after every epoch at which
the recipe evaluates: ``epoch``, ``metric_valid_error`` (1 - clean accuracy),
``metric_robust_error`` (1 - robust accuracy), ``metric_clean_acc``, ``metric_robust_acc``,
``metric_runtime`` (seconds of training and evaluation since the previous report) and
``metric_elapsed_time`` (cumulative), the names of the package's Syne Tune blackbox.

Training goes through :class:`~robbench_plugin.live.LiveBenchmark` and its shared results store,
so each class is trained once over all trials and workers, and runs up to epoch ``--epochs`` (the
rung a pause-and-resume scheduler asks for). Checkpoint convention: the trainer's checkpoint is
saved in the store after every epoch; ``<st_checkpoint_dir>/robbench-trial.json`` records the run
and the last epoch this trial reported, so a resumed (promoted) trial continues from the stored
checkpoint and reports only the epochs after it. A stopped trial is killed by the backend:
training stops with it, the epochs done so far stay in the store.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

CONFIG_KEYS = tuple(f"hp_x{i}" for i in range(6))
STATE_FILE = "robbench-trial.json"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for k in CONFIG_KEYS:
        ap.add_argument(f"--{k}", required=True)
    ap.add_argument("--epochs", type=int, default=None, help="train up to this epoch (default: the recipe's last)")
    ap.add_argument("--recipe", default="tiny", help="a recipe preset or a recipe JSON file")
    ap.add_argument("--dataset", default="digits")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--store", default=None, help="results store: SQLAlchemy URL or SQLite directory")
    ap.add_argument("--lease_s", type=float, default=None)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--precision", default="auto")
    ap.add_argument("--st_checkpoint_dir", default=None)
    args, _ = ap.parse_known_args(argv)  # Syne Tune may pass more (trial_id...)
    return args


def load_recipe(text: str):
    from robbench_plugin.train.recipe import PRESETS, Recipe

    if text in PRESETS:
        return Recipe.preset(text)
    path = Path(text)
    if not path.is_file():
        from robbench_plugin.errors import InvalidChoiceError

        raise InvalidChoiceError("recipe (a preset or a recipe JSON file)", text, list(PRESETS))
    return Recipe.from_dict(json.loads(path.read_text()))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from syne_tune import Reporter

    from robbench_plugin.fileutil import atomic_write_json
    from robbench_plugin.live import LiveBenchmark
    from robbench_plugin.problem import arch_from_params
    from robbench_plugin.store import DEFAULT_LEASE_S, ResultsStore

    arch = arch_from_params(vars(args), names=CONFIG_KEYS)
    recipe = load_recipe(args.recipe)
    store = ResultsStore(args.store, lease_s=args.lease_s or DEFAULT_LEASE_S)
    bench = LiveBenchmark(args.dataset, recipe, seed=args.seed, device=args.device, store=store,
                          precision=args.precision)
    clean, robust = bench.resolve_metric("clean"), bench.resolve_metric("robust")
    state_path = Path(args.st_checkpoint_dir) / STATE_FILE if args.st_checkpoint_dir else None
    reported = 0
    if state_path is not None and state_path.is_file():
        reported = int(json.loads(state_path.read_text()).get("reported_epoch", 0))
    report = Reporter()
    since = [0.0, 0.0]  # seconds since the last report, cumulative seconds

    def on_epoch(rec: dict) -> bool:
        seconds = rec["time_s"] + rec.get("eval_time_s", 0.0)
        since[0] += seconds
        since[1] += seconds
        if robust not in rec or rec["epoch"] <= reported:
            return True
        report(epoch=rec["epoch"], metric_valid_error=1 - rec[clean], metric_robust_error=1 - rec[robust],
               metric_clean_acc=rec[clean], metric_robust_acc=rec[robust], metric_runtime=since[0],
               metric_elapsed_time=since[1])
        since[0] = 0.0
        if state_path is not None:
            atomic_write_json(state_path, {"run": bench.run_key(arch).__dict__, "reported_epoch": rec["epoch"]})
        return True

    bench.result(arch, on_epoch=on_epoch, until=args.epochs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
