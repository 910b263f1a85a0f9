"""Does the live trainer reproduce NAS-RobBench-201? Train K release architectures with the
``release`` recipe and compare with what the release reports for them.

    python benchmarks/reproduce_release.py --release DIR --dataset cifar10 --data-root CIFAR_DIR \\
        --out reproduce-cifar10 [--k 10] [--device cuda]

- The architectures: K classes stratified over the release's robust accuracy (``val_pgd_8.0_acc``
  of seed label ``--seed-label``, default "1"): the classes sorted by it, cut into K equal bins, one
  drawn from each with seed 0.
- Each is trained with ``Recipe.preset("release")`` (the reference code's recipe, docs/trainer.md)
  at the training seed of that label (the reference's run.sh trains label "1" with ``--seed 1``),
  on ``--device`` (a GPU: one CPU run takes days). ``--override JSON`` changes recipe fields (the
  smoke test trains a tiny network for one epoch; a comparison is only meaningful without it).
- Per metric it prints, and writes to ``summary.json``, the mean absolute difference between the
  trained and the released accuracy and their Kendall tau over the K classes; and the cost per
  architecture (wall seconds of training and evaluation, and the device).

Each finished run is appended to ``runs.jsonl`` in ``--out``; a stopped comparison resumes there.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from robbench_plugin.errors import RobBenchError  # noqa: E402
from robbench_plugin.fileutil import append_jsonl, atomic_write_bytes, read_jsonl  # noqa: E402
from robbench_plugin.stats import kendall  # noqa: E402

ROBUST = "val_pgd_8.0_acc"


def stratified_release_classes(values: dict[int, float], k: int, seed: int = 0) -> list[int]:
    """``k`` classes of ``values`` (class -> accuracy), one from each of k equal bins of the classes
    sorted by accuracy (ties by class), drawn with ``seed``."""
    order = np.array(sorted(values, key=lambda u: (values[u], u)))
    rng = np.random.default_rng(seed)
    return sorted(int(rng.choice(b)) for b in np.array_split(order, k))


def compare(trained: list[dict], release: dict[int, dict[str, float]], metrics: list[str]) -> dict:
    """Per metric: mean absolute difference and Kendall tau of trained vs released accuracy."""
    out = {}
    for m in metrics:
        ours = np.array([r["final"][m] for r in trained])
        theirs = np.array([release[r["uid"]][m] for r in trained])
        out[m] = {"mean_abs_diff": float(np.mean(np.abs(ours - theirs))),
                  "kendall_tau": kendall(ours, theirs) if len(trained) >= 2 else float("nan"),
                  "trained_mean": float(ours.mean()), "release_mean": float(theirs.mean())}
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--release", required=True, help="folder of the release (NAS-RobBench-201_all.json, meta.json)")
    ap.add_argument("--dataset", default="cifar10", choices=["cifar10", "cifar100", "imagenet"])
    ap.add_argument("--data-root", required=True, help="folder of the data set's files (see docs/trainer.md)")
    ap.add_argument("--out", required=True, help="folder for runs.jsonl and summary.json")
    ap.add_argument("--k", type=int, default=10, help="architectures to train (>= 2)")
    ap.add_argument("--seed-label", default="1", help="the release's seed label to compare with")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--override", default="{}", help="recipe fields to change, as JSON (smoke tests only)")
    args = ap.parse_args(argv)
    if args.k < 2:
        ap.error(f"--k must be >= 2, got {args.k}")
    if not args.seed_label.isdigit():
        ap.error(f"--seed-label must be a release seed label (digits), got {args.seed_label!r}")
    try:
        override = json.loads(args.override)
        if not isinstance(override, dict):
            raise ValueError("not an object")
    except ValueError as exc:
        ap.error(f"--override must be a JSON object of recipe fields: {exc}")

    from robbench_plugin.loader import load_benchmark
    from robbench_plugin.train import Recipe, load_splits, select_device, train

    try:
        recipe = Recipe.preset("release").replace(**override)
        bench = load_benchmark("nas-robbench-201", dataset=args.dataset, data_dir=args.release)
        metrics = [m for m in recipe.metric_names() if m in bench.metrics]
        frame = bench.to_frame(metrics, seed=args.seed_label)
        select_device(args.device)
        splits = load_splits(args.dataset, args.data_root, recipe.data_split)
    except RobBenchError as exc:
        ap.error(str(exc))
    release = {int(u): {m: float(row[m]) for m in metrics} for u, row in frame.set_index("uid").iterrows()}
    uids = stratified_release_classes({u: v[ROBUST] for u, v in release.items()}, args.k)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    runs_file = out / "runs.jsonl"
    key = recipe.key()
    done = {r["uid"]: r for r in (read_jsonl(runs_file) if runs_file.is_file() else [])
            if r["recipe_key"] == key and r["dataset"] == args.dataset and r["seed"] == int(args.seed_label)}
    print(f"{len(uids)} architectures, {len(uids) - len(set(uids) & set(done))} to train "
          f"(recipe {key}, {splits.split_source})", flush=True)
    for i, uid in enumerate(uids, 1):
        if uid in done:
            continue
        t0 = time.perf_counter()
        result = train(uid, args.dataset, recipe, seed=int(args.seed_label), device=args.device, splits=splits)
        rec = {"uid": uid, "dataset": args.dataset, "seed": int(args.seed_label), "recipe_key": key,
               "device": result.device, "precision": result.precision, "wall_s": time.perf_counter() - t0,
               "final": {m: result.final[m] for m in metrics}}
        append_jsonl(runs_file, rec)
        done[uid] = rec
        print(f"[{i}/{len(uids)}] uid {uid}: " + ", ".join(f"{m} {rec['final'][m]:.4f} (release "
              f"{release[uid][m]:.4f})" for m in metrics) + f"; {rec['wall_s']:.0f} s", flush=True)
    trained = [done[u] for u in uids]
    summary = {"dataset": args.dataset, "seed_label": args.seed_label, "recipe_key": key, "override": override,
               "uids": uids, "metrics": compare(trained, release, metrics),
               "wall_s_per_arch": float(np.mean([r["wall_s"] for r in trained])),
               "devices": sorted({f"{r['device']} ({r['precision']})" for r in trained})}
    atomic_write_bytes(out / "summary.json", (json.dumps(summary, indent=1) + "\n").encode())
    print(f"{'metric':<20} {'mean |trained - release|':>24} {'Kendall tau':>12}")
    for m, v in summary["metrics"].items():
        print(f"{m:<20} {v['mean_abs_diff']:>24.4f} {v['kendall_tau']:>12.3f}")
    print(f"cost: {summary['wall_s_per_arch']:.1f} s per architecture on {', '.join(summary['devices'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
