"""Training commands (extra ``train``): ``robbench train`` (one architecture), ``robbench build``
(a whole table, resumable) and ``robbench build-status`` (how far a build is; needs no torch)."""
from __future__ import annotations

import argparse
import json

from .. import cli_args as va
from ..costs import DATASET_SPECS
from .common import AddCommand, parse_arch


def register(command: AddCommand) -> None:
    from ..train.recipe import PRESETS

    s = command("train", "adversarially train one architecture (extra 'train')")
    s.add_argument("--arch", required=True, help="NB201 index (0..15624) or NB201 string")
    s.add_argument("--dataset", default="digits", choices=list(DATASET_SPECS), help="dataset to train on")
    s.add_argument("--recipe", default="quick", choices=sorted(PRESETS), help="recipe preset")
    s.add_argument("--epochs", type=va.int_at_least(1), default=None, help="override the recipe's epochs")
    s.add_argument("--seed", type=va.int_at_least(0), default=0, help="training seed")
    s.add_argument("--augment", default=None, choices=["none", "crop-flip"],
                   help="override the recipe's augmentation (crop-flip: random crop of a zero-padded copy + "
                        "horizontal flip, before the attack)")
    s.add_argument("--augment-padding", type=va.int_at_least(0), default=None,
                   help="crop padding in pixels (default: the reference's, 4 on CIFAR, 2 on ImageNet16, else "
                        "an eighth of the image side)")
    s.add_argument("--device", default="auto", type=va.device, help="auto|cpu|cuda|cuda:N|mps")
    s.add_argument("--data-root", default=None, type=va.in_path,
                   help="folder with the dataset files (not needed for digits)")
    s.add_argument("--checkpoint-dir", default=None, type=va.out_dir, help="keep a checkpoint per epoch here")
    s.add_argument("--resume", action="store_true", help="continue from the checkpoint in --checkpoint-dir")
    s.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16"],
                   help="auto = bf16 autocast on CUDA, fp32 elsewhere; bf16 is ~2x faster on CPUs with AVX512-BF16")
    s.set_defaults(func=run_train)

    s = command("build", "train every architecture into a resumable build directory")
    s.add_argument("dataset", choices=["digits", "fashion-mnist"], help="dataset to build a benchmark on")
    s.add_argument("--out", required=True, type=va.out_dir, help="build directory (resumable)")
    s.add_argument("--recipe", default=None, choices=sorted(PRESETS), help="recipe preset (default: the dataset's)")
    s.add_argument("--workers", type=va.int_at_least(1), default=2, help="parallel training processes")
    s.add_argument("--backend", choices=["local", "ray"], default="local", help="local processes or a Ray cluster")
    s.add_argument("--ray-address", default=None, help="Ray cluster address (default: a local Ray)")
    s.add_argument("--device", default="cpu", type=va.device, help="auto|cpu|cuda|cuda:N|mps")
    s.add_argument("--data-root", default=None, type=va.in_path, help="folder with the dataset files")
    s.add_argument("--limit", type=va.int_at_least(1), default=None, help="train at most this many jobs now")
    s.add_argument("--from", dest="from_archive", default=None, type=va.in_path,
                   help="a build archive (*.build.tar.xz) of this plan to go on from: its runs are copied into --out")
    s.add_argument("--gpus-per-run", type=va.gpus_per_run, default=None,
                   help="Ray on CUDA: GPUs per run (default 0.25: four small networks share a GPU)")
    s.set_defaults(func=run_build)

    s = command("build-status", "how far a build directory or archive is, and the core time it took")
    s.add_argument("build", type=va.in_path, help="build directory or build archive (*.tar.xz)")
    s.add_argument("--json", action="store_true", help="print the figures as JSON")
    s.set_defaults(func=run_build_status)


def run_train(args: argparse.Namespace) -> int:
    from ..space import Arch
    from ..train import Recipe, select_device, train

    Arch.parse(parse_arch(args.arch))  # the architecture, the recipe and the device before any work
    recipe = Recipe.preset(args.recipe)
    if args.epochs is not None:
        recipe = recipe.replace(epochs=args.epochs)
    if args.augment is not None or args.augment_padding is not None:
        recipe = recipe.replace(augment=args.augment or recipe.augment, augment_padding=args.augment_padding)
    select_device(args.device)
    result = train(parse_arch(args.arch), args.dataset, recipe, seed=args.seed, device=args.device,
                   data_root=args.data_root, checkpoint_dir=args.checkpoint_dir, resume=args.resume, progress=True,
                   precision=args.precision)
    print(json.dumps({"arch": result.arch, "uid": result.uid, "device": result.device, "params_M": result.params,
                      "flops_M": result.flops, **{k: v for k, v in result.final.items() if k.startswith("val_")}},
                     indent=1))
    return 0


def run_build(args: argparse.Namespace) -> int:
    from ..train import select_device
    from ..train.builder import BuildPlan, build, build_status
    from ..train.data import load_splits
    from ..train.recipe import Recipe

    plan = BuildPlan.for_dataset(args.dataset, Recipe.preset(args.recipe) if args.recipe else None)
    select_device(args.device)
    load_splits(args.dataset, args.data_root)  # the data are there and check out, before anything is written
    if args.from_archive is not None:
        from ..build_table import unpack_build

        copied = unpack_build(args.from_archive, args.out, plan)
        print(f"copied {copied} shard(s) of {args.from_archive} into {args.out}")
    n = build(args.out, plan, workers=args.workers, backend=args.backend, device=args.device,
              data_root=args.data_root, ray_address=args.ray_address, limit=args.limit, gpus_per_run=args.gpus_per_run)
    st = build_status(args.out, plan)
    print(f"trained {n} now; {st['done']}/{st['total']} done in {args.out}" + (" (complete)" if st["complete"] else ""))
    return 0


def run_build_status(args: argparse.Namespace) -> int:
    from ..build_table import build_progress

    st = build_progress(args.build)
    if args.json:
        print(json.dumps(st, indent=1))
        return 0
    hours = 3600.0
    print(f"{st['dataset']} build (recipe {st['recipe_key']}): {st['done']} of {st['total']} runs"
          + (" (complete)" if st["complete"] else f" ({100 * st['done'] / st['total']:.1f}%)"))
    print("  " + "; ".join(f"seed {seed}: {d} of {n}" for seed, (d, n) in sorted(st["seeds"].items())))
    if st["done"]:
        print(f"  measured: {(st['train_s'] + st['eval_s']) / hours:.1f} core-hours (training "
              f"{st['train_s'] / hours:.1f} + evaluation {st['eval_s'] / hours:.1f}); median run "
              f"{st['median_run_s']:.1f} s")
        print("  trained: " + "; ".join(f"{n} runs on {cpu}" if cpu != "not recorded" else f"{n} runs on a CPU not "
                                       "recorded" for cpu, n in st["cpus"].items()))
        if st["stalled_runs"]:
            print(f"  {st['stalled_runs']} runs had an epoch over 20x that epoch's median (the process was stopped "
                  f"while it ran): counted at the median, {st['stalled_s'] / hours:.1f} core-hours left out")
    if st["done"] and not st["complete"]:
        print(f"  left: {st['total'] - st['done']} runs, about {st['remaining_s'] / hours:.1f} core-hours at the "
              f"median pace ({st['remaining_s'] / hours / 2:.1f} h of wall time on --workers 2)")
        for seed, n in sorted(st["runs_until_seed"].items()):
            if 0 < n < st["total"] - st["done"]:  # a seed that completes before the whole build does
                print(f"  seed {seed} complete after {n} more runs (about {n * st['median_run_s'] / hours / 2:.1f} h "
                      "on --workers 2)")
    return 0
