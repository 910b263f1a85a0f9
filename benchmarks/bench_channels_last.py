"""The channels-last layout on a CPU for the embedded benchmarks' small networks.

    python benchmarks/bench_channels_last.py [--uids 265,1462,1460] [--reps 3]

For each class: CPU seconds (process time, one torch thread, as the builder's workers run) of one
training epoch of the 8x8, C=8, N=3 network on 3000 random 8x8 one-channel images (batch 128, one
FGSM step with a random start per batch, then the SGD step), in PyTorch's default layout and in
channels-last (``Recipe(channels_last=True)``), the median of ``--reps`` epochs each after one
warm-up epoch, and their ratio.
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

from robbench_plugin.train import build_model, pgd


def epoch_seconds(uid: int, channels_last: bool, reps: int) -> float:
    torch.manual_seed(0)
    x = torch.rand(3000, 1, 8, 8)
    y = torch.randint(0, 10, (3000,))
    model = build_model(uid, 10, C=8, N=3, in_channels=1)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

    def epoch() -> None:
        for i in range(0, len(x), 128):
            xb, yb = x[i:i + 128], y[i:i + 128]
            xa = pgd(model, xb, yb, 8 / 255, 10 / 255, 1)
            loss = F.cross_entropy(model(xa), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

    epoch()
    times = []
    for _ in range(reps):
        t = time.process_time()
        epoch()
        times.append(time.process_time() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--uids", default="265,1462,1460")
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    torch.set_num_threads(1)
    for uid in (int(u) for u in a.uids.split(",")):
        plain, last = epoch_seconds(uid, False, a.reps), epoch_seconds(uid, True, a.reps)
        print(f"uid {uid}: default layout {plain:.2f} s, channels-last {last:.2f} s per epoch: {last / plain:.2f}x")


if __name__ == "__main__":
    main()
