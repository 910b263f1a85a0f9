"""What a build trains and what it has: the plan (classes and seeds), the embedded benchmarks' plans,
and reading a build directory's manifest and shards (see :mod:`robbench_plugin.train.builder`)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from ..data_identity import data_key
from ..errors import DataFileError
from ..fileutil import read_jsonl
from ..space import unique_indices
from .recipe import Recipe

# the seeds of the embedded benchmarks' builds: seed 0 for every class, ``extra_seeds`` for a random
# ``extra_fraction`` of them (digits v1: seeds 1 and 2 for 10% of the classes; Fashion-MNIST: seed 1
# for every class, trained after seed 0 of all of them)
EMBEDDED_PLANS = {"digits": {"extra_fraction": 0.1, "extra_seeds": (1, 2)},
                  "fashion-mnist": {"extra_fraction": 1.0, "extra_seeds": (1,), "shuffled": True}}


@dataclass(frozen=True)
class BuildPlan:
    """What to train: every representative uid at ``seed 0``, plus ``extra_seeds`` for a random
    ``extra_fraction`` of uids (chosen with ``plan_seed``)."""

    dataset: str = "digits"
    recipe: Recipe = Recipe.preset("digits")
    uids: tuple[int, ...] | None = None  # None = all 6466 representatives
    extra_fraction: float = 0.1
    extra_seeds: tuple[int, ...] = (1, 2)
    plan_seed: int = 0
    shuffled: bool = False

    def jobs(self) -> list[tuple[int, int]]:
        """Every (uid, seed) to train, in training order: seed 0 of every uid, then the extra seeds.
        ``shuffled``: each seed's uids in a random order (``plan_seed``), so that any prefix of a
        build (one stopped early) is a uniform random sample of the classes."""
        uids = np.asarray(self.uids if self.uids is not None else unique_indices(), dtype=np.int64)
        rng = np.random.default_rng(self.plan_seed)
        n_extra = int(round(self.extra_fraction * len(uids)))
        chosen = np.sort(rng.choice(uids, size=n_extra, replace=False)) if n_extra and self.extra_seeds else []
        if self.shuffled:
            order = np.random.default_rng([self.plan_seed, 1])
            uids, chosen = order.permutation(uids), order.permutation(chosen)
        jobs = [(int(u), 0) for u in uids]
        jobs += [(int(u), s) for s in self.extra_seeds for u in chosen]
        return jobs

    @classmethod
    def for_dataset(cls, dataset: str, recipe: Recipe | None = None) -> "BuildPlan":
        """The plan of the embedded benchmark of ``dataset`` (:data:`EMBEDDED_PLANS`), with its own
        recipe preset unless ``recipe`` is given; any other dataset: every class once, seed 0."""
        settings = EMBEDDED_PLANS.get(dataset, {"extra_fraction": 0.0, "extra_seeds": ()})
        return cls(dataset=dataset, recipe=recipe if recipe is not None else Recipe.preset(dataset), **settings)

    @classmethod
    def from_manifest(cls, manifest: dict) -> "BuildPlan":
        """The plan a build's ``manifest.json`` records (:func:`read_manifest`)."""
        return cls(dataset=manifest["dataset"], recipe=Recipe.from_dict(manifest["recipe"]),
                   uids=None if manifest["uids"] is None else tuple(manifest["uids"]),
                   extra_fraction=manifest["extra_fraction"], extra_seeds=tuple(manifest["extra_seeds"]),
                   plan_seed=manifest["plan_seed"], shuffled=manifest.get("shuffled", False))

    def to_dict(self) -> dict:
        key = data_key(self.dataset)
        return {"dataset": self.dataset, **({"data_key": key} if key != self.dataset else {}),
                "recipe": self.recipe.to_dict(), "recipe_key": self.recipe.key(),
                "uids": None if self.uids is None else list(self.uids), "extra_fraction": self.extra_fraction,
                "extra_seeds": list(self.extra_seeds), "plan_seed": self.plan_seed,
                **({"shuffled": True} if self.shuffled else {})}  # absent when off: older manifests match


def read_shards(out_dir: str | Path) -> Iterator[dict]:
    """Every complete result line of every shard (torn trailing lines skipped)."""
    shard_dir = Path(out_dir) / "shards"
    if not shard_dir.is_dir():
        return
    for path in sorted(shard_dir.glob("*.jsonl")):
        yield from read_jsonl(path)


def done_jobs(out_dir: str | Path) -> set[tuple[int, int]]:
    return {(int(r["uid"]), int(r["seed"])) for r in read_shards(out_dir)}


def read_manifest(build_dir: str | Path) -> dict:
    """The ``manifest.json`` of a build directory; a missing or unreadable one is an error naming it."""
    path = Path(build_dir) / "manifest.json"
    if not path.is_file():
        raise DataFileError(f"{build_dir} is not a build directory (no manifest.json)")
    try:
        manifest = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise DataFileError(f"{path} is not valid JSON ({exc}); delete the build directory or restore the file") \
            from exc
    if not isinstance(manifest, dict) or "recipe" not in manifest or "dataset" not in manifest:
        raise DataFileError(f"{path} is not a build manifest (needs 'dataset' and 'recipe')")
    return manifest
