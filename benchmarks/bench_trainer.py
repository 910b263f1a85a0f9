"""Trainer speed.

1. imgs/s of one PGD-7 adversarial-training step (eps 8/255, step 2/255, random start; SGD update)
   on the same NB201 network and batch: ours (robbench_plugin.train) vs a reference loop in the
   style of the original code (torchattacks.PGD, which sets requires_grad on the input, calls
   autograd.grad per step and switches modes). Install torchattacks for this script only:
   ``pip install --no-deps torchattacks``.
   Ours is measured twice: fp32 (the CPU default) and bf16 autocast + channels_last
   (``train(precision="bf16")``, the CUDA default; about 2x faster on CPUs with AVX512-BF16).
   And ours-fp32 with the release's augmentation (crop with padding 4 + flip, vectorised, before
   the attack: ``ours-fp32+crop-flip``), with the augmentation's own rate beside it.
2. seconds per epoch on digits with the embedded recipe for the smallest, median and largest cell.

    python benchmarks/bench_trainer.py [--device cpu|cuda] [--batch 256] [--C 16] [--N 5]
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch
import torch.nn.functional as F

from robbench_plugin.costs import all_costs
from robbench_plugin.space import unique_indices
from robbench_plugin.train import Recipe, build_model, load_splits, pgd, train
from robbench_plugin.train.augment import crop_flip


def step_ours(model, opt, x, y, device, bf16):
    """The trainer's step: bf16 autocast when ``bf16`` (train(precision="bf16"), the CUDA default)."""
    if bf16:
        x = x.contiguous(memory_format=torch.channels_last)
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
        xa = pgd(model, x, y, 8 / 255, 2 / 255, 7, True)
        loss = F.cross_entropy(model(xa), y)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()


def step_reference(model, opt, atk, x, y):
    model.eval()
    xa = atk(x, y)
    model.train()
    loss = F.cross_entropy(model(xa), y)
    opt.zero_grad()
    loss.backward()
    opt.step()


def imgs_per_s(fn, batch, reps, device):
    fn()  # warm-up
    if device.type == "cuda":
        torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(reps):
        fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return batch * reps / (time.perf_counter() - t)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--C", type=int, default=16)
    ap.add_argument("--N", type=int, default=5)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--arch", type=int, default=1462)
    a = ap.parse_args()
    device = torch.device(a.device)
    torch.manual_seed(0)
    x = torch.rand(a.batch, 3, 32, 32, device=device)
    y = torch.randint(0, 10, (a.batch,), device=device)
    try:
        import torchattacks
    except ImportError:
        torchattacks = None
        print("torchattacks not installed (pip install --no-deps torchattacks): reference loop skipped")
    results = {}
    # ours-fp32: train(precision="fp32") (the CPU default); ours-bf16: train(precision="bf16")
    # (the CUDA default): bf16 autocast + channels_last
    labels = ("ours-fp32", "ours-bf16", "ours-fp32+crop-flip", "reference")
    gen = torch.Generator().manual_seed(0)
    for label in labels:
        if label == "reference" and torchattacks is None:
            continue
        torch.manual_seed(0)
        model = build_model(a.arch, 10, C=a.C, N=a.N, in_channels=3).to(device)
        if label == "ours-bf16":
            model = model.to(memory_format=torch.channels_last)
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
        model.train()
        if label == "ours-fp32+crop-flip":
            fn = lambda: step_ours(model, opt, crop_flip(x, 4, gen), y, device, False)  # noqa: E731
        elif label.startswith("ours"):
            fn = lambda: step_ours(model, opt, x, y, device, label == "ours-bf16")  # noqa: E731
        else:
            atk = torchattacks.PGD(model, eps=8 / 255, alpha=2 / 255, steps=7, random_start=True)
            fn = lambda: step_reference(model, opt, atk, x, y)  # noqa: E731
        results[label] = imgs_per_s(fn, a.batch, a.reps, device)
        print(f"{label:>10}: {results[label]:.1f} imgs/s (PGD-7 AT step, arch {a.arch}, C={a.C}, N={a.N}, "
              f"batch {a.batch}, {device})")
    print(f"ratio ours-fp32+crop-flip/ours-fp32: {results['ours-fp32+crop-flip'] / results['ours-fp32']:.3f}x")
    alone = imgs_per_s(lambda: crop_flip(x, 4, gen), a.batch, 20 * a.reps, device)
    print(f"crop-flip alone: {alone:.0f} imgs/s (batch {a.batch}, 32x32, {device})")
    if "reference" in results:
        for label in labels[:3]:
            print(f"ratio {label}/reference: {results[label] / results['reference']:.2f}x")

    splits = load_splits("digits")
    recipe = Recipe.preset("digits")
    flops = all_costs("digits", recipe.C, recipe.N)["flops"]
    uids = unique_indices()
    order = uids[np.argsort(flops[uids], kind="stable")]
    for name, uid in (("smallest", order[0]), ("median", order[len(order) // 2]), ("largest", order[-1])):
        r = train(int(uid), "digits", recipe.replace(epochs=2, eval_epochs="final"), splits=splits, device=a.device)
        per_epoch = np.mean([e["time_s"] for e in r.epochs])
        print(f"digits recipe, {name} cell (uid {uid}, {flops[uid] * 1e3:.1f} kFLOPs): {per_epoch:.3f} s/epoch "
              f"(training only, {torch.get_num_threads()} threads)")


if __name__ == "__main__":
    main()
