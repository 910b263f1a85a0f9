"""Does this machine reproduce a build archive's runs, and by how much does it miss where it does not?

    python benchmarks/retrain_shards.py data/fashion-mnist-v1.build.tar.xz

Retrains the first run of every shard of the archive (a shard is what one build process wrote) on
this machine, one torch thread, with the recipe, seed and data of the archive's manifest, and prints
per shard the CPU that trained the run (``not recorded`` before runs named their CPU), whether the
retrained run is the recorded one bit for bit, and the final robust accuracy of both. A run
reproduces only on a CPU whose kernels take the same code paths as the one that trained it.

With ``--study docs/design-study/runs.jsonl.gz --protocol small`` (the study's protocol of the
build's recipe) it also counts, per shard and without training, the runs of classes that the study
trained with that protocol and the same seed, and how many of them
equal the study's bit for bit (the study names no CPU: shards that equal it share its CPU), and
gives the median |difference| of final robust accuracy between the study's two seeds of a class
(what a CPU's difference is to be set beside).
"""
from __future__ import annotations

import argparse
import json
import sys


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("archive", help="a build archive (data/*.build.tar.xz) or build directory")
    ap.add_argument("--study", help="the design study's runs (docs/design-study/runs.jsonl.gz)")
    ap.add_argument("--protocol", help="with --study: the study's protocol of the build's recipe (small)")
    args = ap.parse_args(argv)
    if bool(args.study) != bool(args.protocol):
        ap.error("--study and --protocol go together")

    import torch

    from robbench_plugin.build_table import opened_build
    from robbench_plugin.train import Recipe, train
    from robbench_plugin.train.builder import read_manifest
    from robbench_plugin.train.environment import environment
    from robbench_plugin.train.data import load_splits

    with opened_build(args.archive) as folder:
        manifest = read_manifest(folder)
        shards = {shard.name: [json.loads(line) for line in shard.read_text().splitlines() if line.strip()]
                  for shard in sorted((folder / "shards").glob("*.jsonl"))}
    firsts = [(name, records[0]) for name, records in shards.items() if records]
    recipe = Recipe.from_dict(manifest["recipe"])
    splits = load_splits(manifest["dataset"])
    robust = max(recipe.eval_attacks, key=lambda a: (a.eps, a.kind == "pgd")).metric  # the strongest attack
    if args.study:
        _against_study(args.study, args.protocol, shards, robust)
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


def _against_study(path: str, protocol: str, shards: dict[str, list[dict]], robust: str) -> None:
    import gzip
    import statistics

    with gzip.open(path, "rt") as f:
        study = [json.loads(line) for line in f if line.strip()]
    study = [r for r in study if r["protocol"] == protocol]
    if not study:
        raise SystemExit(f"--protocol: the study has no runs of {protocol!r}")
    by_run = {(r["uid"], r["seed"]): [e[robust] for e in r["epochs"]] for r in study}
    seeds = {}
    for (uid, seed), accs in by_run.items():
        seeds.setdefault(uid, {})[seed] = accs[-1]
    gaps = [abs(v[0] - v[1]) for v in seeds.values() if 0 in v and 1 in v]
    print(f"design study, protocol {protocol}: {len(by_run)} runs; median |seed 0 - seed 1| of final robust "
          f"accuracy over {len(gaps)} classes {statistics.median(gaps):.4f}")
    print("shard\truns of study classes\tequal to the study's bit for bit")
    for name, records in shards.items():
        both = [r for r in records if (r["uid"], r["seed"]) in by_run]
        same = sum([e[robust] for e in r["epochs"]] == by_run[(r["uid"], r["seed"])] for r in both)
        print(f"{name}\t{len(both)}\t{same}")


if __name__ == "__main__":
    sys.exit(main())
