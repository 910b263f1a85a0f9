"""Turn a build directory of ``robbench build`` into a :class:`~robbench_plugin.table.Table`."""
from __future__ import annotations

import json
from pathlib import Path

from .errors import DataFileError
from .table import Table, TableMeta, records_to_frame


def aliases_for_recipe(recipe: dict) -> dict[str, str]:
    """``clean`` -> ``val_acc``; ``robust`` -> PGD accuracy at the recipe's largest PGD eps."""
    pgd = [a for a in recipe.get("eval_attacks", []) if a["kind"] == "pgd"]
    out = {"clean": "val_acc"}
    if pgd:
        out["robust"] = f"val_pgd_{float(max(a['eps'] for a in pgd))}_acc"
    return out


def table_from_build(build_dir: str | Path, require_complete: bool = False, name: str | None = None) -> Table:
    """All finished results of ``build_dir`` as a table (``time_source="recorded"``).

    With ``require_complete`` an unfinished build is an error.
    """
    from .train.builder import BuildPlan, read_shards
    build_dir = Path(build_dir)
    manifest_path = build_dir / "manifest.json"
    if not manifest_path.is_file():
        raise DataFileError(f"{build_dir} is not a build directory (no manifest.json)")
    manifest = json.loads(manifest_path.read_text())
    records = list(read_shards(build_dir))
    if not records:
        raise DataFileError(f"build {build_dir} has no finished results yet")
    if require_complete:
        from .train.recipe import Recipe

        plan = BuildPlan(dataset=manifest["dataset"], recipe=Recipe.from_dict(manifest["recipe"]),
                         uids=None if manifest["uids"] is None else tuple(manifest["uids"]),
                         extra_fraction=manifest["extra_fraction"], extra_seeds=tuple(manifest["extra_seeds"]),
                         plan_seed=manifest["plan_seed"])
        missing = set(plan.jobs()) - {(int(r["uid"]), int(r["seed"])) for r in records}
        if missing:
            raise DataFileError(f"build {build_dir} is incomplete: {len(missing)} of {len(plan.jobs())} runs missing")
    recipe = manifest["recipe"]
    meta = TableMeta(name=name or manifest["dataset"], source=f"robbench build of {manifest['dataset']}",
                     aliases=aliases_for_recipe(recipe), C=recipe["C"], N=recipe["N"], recipe=recipe,
                     time_source="recorded", notes="fidelity = epoch; time_s = training seconds of that epoch")
    return Table.from_frame(records_to_frame(records), meta)
