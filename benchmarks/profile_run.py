"""Where the time of one training run goes, and its cost per image-epoch against digits v1.

    python benchmarks/profile_run.py [--uid 1462] [--recipe fashion-mnist] [--dataset fashion-mnist]

Trains one class with the dataset's own recipe in this process on one torch thread (as the table
builder's workers do) and, for comparison, the same class with the ``digits`` recipe on digits.
Reports for each: CPU seconds (process time) of the run, the part spent training and evaluating
(the trainer's own ``time_s`` and ``eval_time_s``), the cost per image-epoch of training (CPU s /
(training images x epochs)) and per evaluated image, and the ratio of the two recipes. Then
profiles one epoch of the first recipe with torch.profiler and prints the operators that take the
most CPU time.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def measure(uid: int, dataset: str, recipe_name: str, data_root: str | None) -> dict:
    import torch

    from robbench_plugin.train import Recipe, train
    from robbench_plugin.train.data import load_splits

    torch.set_num_threads(1)
    recipe = Recipe.preset(recipe_name)
    splits = load_splits(dataset, data_root)
    t = time.process_time()
    result = train(uid, dataset, recipe, seed=0, device="cpu", splits=splits)
    cpu = time.process_time() - t
    train_s = sum(e["time_s"] for e in result.epochs)
    eval_s = sum(e.get("eval_time_s", 0.0) for e in result.epochs)
    n_train, n_val = len(splits.train[1]), len(splits.val[1])
    evaluated = sum(min(recipe.eval_subset or n_val, n_val) if e["epoch"] != recipe.epochs else n_val
                    for e in result.epochs if "eval_time_s" in e)
    return {"dataset": dataset, "recipe": recipe_name, "cpu_s": cpu, "train_s": train_s, "eval_s": eval_s,
            "train_images": n_train, "epochs": recipe.epochs, "evaluated_images": evaluated,
            "train_s_per_image_epoch": train_s / (n_train * recipe.epochs),
            "eval_s_per_image": eval_s / max(evaluated, 1)}


def profile_epoch(uid: int, dataset: str, recipe_name: str, data_root: str | None, rows: int) -> str:
    import torch
    from torch.profiler import ProfilerActivity, profile

    from robbench_plugin.train import Recipe, train
    from robbench_plugin.train.data import load_splits

    torch.set_num_threads(1)
    recipe = Recipe.preset(recipe_name).replace(epochs=1, eval_epochs="all")
    splits = load_splits(dataset, data_root)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        train(uid, dataset, recipe, seed=0, device="cpu", splits=splits)
    return prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=rows)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--uid", type=int, default=1462, help="class to train (default: all nor_conv_3x3)")
    ap.add_argument("--dataset", default="fashion-mnist")
    ap.add_argument("--recipe", default=None, help="default: the dataset's own preset")
    ap.add_argument("--data-root", default=None)
    ap.add_argument("--rows", type=int, default=15)
    a = ap.parse_args(argv)
    first = measure(a.uid, a.dataset, a.recipe or a.dataset, a.data_root)
    base = measure(a.uid, "digits", "digits", None)
    for m in (first, base):
        print(f"{m['dataset']}/{m['recipe']}: {m['cpu_s']:.1f} CPU s (training {m['train_s']:.1f} s over "
              f"{m['train_images']} images x {m['epochs']} epochs, evaluation {m['eval_s']:.1f} s of "
              f"{m['evaluated_images']} images); {1e3 * m['train_s_per_image_epoch']:.3f} ms per training "
              f"image-epoch, {1e3 * m['eval_s_per_image']:.3f} ms per evaluated image")
    print(f"ratio per training image-epoch: {first['train_s_per_image_epoch'] / base['train_s_per_image_epoch']:.2f}x; "
          f"per run: {first['cpu_s'] / base['cpu_s']:.2f}x")
    print(profile_epoch(a.uid, a.dataset, a.recipe or a.dataset, a.data_root, a.rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
