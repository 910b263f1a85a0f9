"""Does this machine reproduce a build archive's runs, and by how much does it miss where it does not?

    python benchmarks/retrain_shards.py data/fashion-mnist-v1.build.tar.xz

Retrains the first run of every shard of the archive (a shard is what one build process wrote) on
this machine, one torch thread, with the recipe, seed and data of the archive's manifest, and prints
per shard the CPU that trained the run (``not recorded`` before runs named their CPU), whether the
retrained run is the recorded one bit for bit, and the final robust accuracy of both. A run
reproduces only on a CPU whose kernels take the same code paths as the one that trained it.
"""
from __future__ import annotations

import argparse
import json
import sys


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("archive", help="a build archive (data/*.build.tar.xz) or build directory")
    args = ap.parse_args(argv)

    import torch

    from robbench_plugin.build_table import opened_build
    from robbench_plugin.train import Recipe, train
    from robbench_plugin.train.builder import environment, read_manifest
    from robbench_plugin.train.data import load_splits

    with opened_build(args.archive) as folder:
        manifest = read_manifest(folder)
        firsts = []
        for shard in sorted((folder / "shards").glob("*.jsonl")):
            with shard.open() as f:
                line = f.readline()
            if line.strip():
                firsts.append((shard.name, json.loads(line)))
    recipe = Recipe.from_dict(manifest["recipe"])
    splits = load_splits(manifest["dataset"])
    robust = max(recipe.eval_attacks, key=lambda a: (a.eps, a.kind == "pgd")).metric  # the strongest attack
    torch.set_num_threads(1)
    print(f"this machine: {environment()}")
    print("shard\tuid\tseed\ttrained on\tbit for bit\trobust (recorded)\trobust (here)\t|difference|")
    for name, rec in firsts:
        again = train(rec["uid"], manifest["dataset"], recipe, seed=rec["seed"], device="cpu", splits=splits)
        untimed = [[(k, v) for k, v in e.items() if not k.endswith("time_s")] for e in again.epochs]
        recorded = [[(k, v) for k, v in e.items() if not k.endswith("time_s")] for e in rec["epochs"]]
        was, now = rec["epochs"][-1].get(robust), again.epochs[-1].get(robust)
        cpu = rec.get("environment", {}).get("cpu", "not recorded")
        print(f"{name}\t{rec['uid']}\t{rec['seed']}\t{cpu}\t{untimed == recorded}\t{was}\t{now}\t"
              f"{abs(was - now):.4f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
