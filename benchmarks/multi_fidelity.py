"""Does multi-fidelity pay off? README's table, from the folders of two ``robbench compare`` runs.

    python benchmarks/multi_fidelity.py docs/compare-fashion-mnist-mf            [--json OUT]
    python benchmarks/multi_fidelity.py NEW_MF_FOLDER --against docs/compare-fashion-mnist-mf

A folder holds one comparison per task, as ``benchmarks/embedded_figures.sh`` writes them:
``robust/`` (``--objectives robust``: random, TPE and Syne Tune's BO, ASHA, Hyperband, BOHB) and
``cleanrobust/`` (``--objectives clean,robust``: random, Syne Tune's MOASHA as it ships and
``syne-tune:moasha-ranked``, the same MOASHA given the non-dominated sort as one rank per trial,
which its default priority does not return: ``robbench_plugin/adapters/syne_tune/priority.py``),
each with 20 seeds at the same
simulated training time. From each task's ``finals.csv`` (one final hypervolume regret per searcher
and seed) and ``summary.csv`` (the report's mean and 95% bootstrap interval, classes seen):

- per searcher: mean regret [95% CI], median, and the one-sided Mann-Whitney p that its regrets are
  smaller than random search's (unadjusted; where the other side is the significant one, the p that
  they are larger is given as ``worse``); for Syne Tune's multi-fidelity searchers of a task, the
  same p adjusted by Holm's method over them (three on ``robust``: ASHA, Hyperband, BOHB). TPE with
  Optuna's pruners (``optuna:tpe-median``, ``-sha``, ``-hyperband``) is shown with its unadjusted p,
  outside the goal, which was fixed on Syne Tune's three before they were added;
- the goals of a table that serves multi-fidelity search: a multi-fidelity searcher better than
  random search at one-sided p < 0.05 on ``robust``, Holm-adjusted over the three, since "one of
  three beats random search" tested at an unadjusted 0.05 would be met by chance with probability up
  to 1 - 0.95^3 = 0.14; and MOASHA no worse than random search (one-sided p of worse >= 0.05) on
  ``clean,robust``, read on ``moasha-ranked``: MOASHA as Syne Tune ships it stops trials almost
  regardless of their values, so on any table it measures that defect, not whether the table's
  curves allow multi-fidelity search (the goal named the shipped MOASHA until the defect was found;
  docs/syne-tune.md). On ``clean,robust`` the Holm family is the two MOASHAs.

``--against OLD`` adds, per multi-fidelity searcher, its mean regret relative to random search's on
each table (lower is better for the searcher) and whether the first folder's table is better on
multi-fidelity than OLD's: it meets more of the goals, or as many with every multi-fidelity
searcher's relative regret lower. That is the multi-fidelity half of the rule that moves the embedded
default; the other half, separation and seed-to-seed tau, is ``benchmarks/benchmark_goals.py --against``.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from robbench_plugin.fileutil import atomic_write_bytes  # noqa: E402
from robbench_plugin.stats import holm, rank_test  # noqa: E402

TASKS = {"robust": "robust", "cleanrobust": "clean, robust"}
MULTI_FIDELITY = {"robust": ("syne-tune:asha", "syne-tune:hyperband", "syne-tune:bohb"),
                  "cleanrobust": ("syne-tune:moasha", "syne-tune:moasha-ranked")}
# the MOASHA the clean, robust goal reads (see the module doc)
GOAL_MOASHA = "syne-tune:moasha-ranked"
ALPHA = 0.05


def task_rows(folder: Path) -> list[dict]:
    """One row per searcher of the comparison in ``folder`` (named after its task, a key of
    ``TASKS``): its figures against random search's."""
    finals = pd.read_csv(folder / "finals.csv")
    summary = pd.read_csv(folder / "summary.csv").set_index("searcher")
    if "random" not in summary.index:
        raise SystemExit(f"{folder}: random search is not among the searchers; it is what the others are tested against")
    regrets = {s: g.sort_values("seed")["regret"].to_numpy() for s, g in finals.groupby("searcher")}
    base = regrets["random"]
    rows = []
    for searcher in summary.sort_values("regret").index:
        x = regrets[searcher]
        row = {"searcher": searcher, "seeds": len(x), "mean": float(summary.loc[searcher, "regret"]),
               "lo": float(summary.loc[searcher, "regret_lo"]), "hi": float(summary.loc[searcher, "regret_hi"]),
               "median": float(np.median(x)), "classes_seen": float(summary.loc[searcher, "distinct_classes"]),
               "relative_to_random": float(np.mean(x) / np.mean(base))}
        if not np.isclose(np.mean(x), row["mean"], rtol=1e-12, atol=0):
            raise SystemExit(f"{folder}: finals.csv and summary.csv disagree on {searcher}'s mean regret")
        if searcher != "random":
            row["p_better"] = rank_test(x, base, "less")
            row["p_worse"] = rank_test(x, base, "greater")
        rows.append(row)
    multi_fidelity = [r for r in rows if r["searcher"] in MULTI_FIDELITY[folder.name]]
    for r, adjusted in zip(multi_fidelity, holm([r["p_better"] for r in multi_fidelity])):
        r["p_better_holm"] = adjusted
    return rows


def analyse(folder: Path) -> dict:
    """The figures and the goals of one multi-fidelity folder (see the module docstring)."""
    tasks = {t: task_rows(folder / t) for t in TASKS if (folder / t / "finals.csv").is_file()}
    if set(tasks) != set(TASKS):
        raise SystemExit(f"{folder}: needs the comparisons {sorted(TASKS)} (finals.csv in each); found {sorted(tasks)}")
    by = {t: {r["searcher"]: r for r in rows} for t, rows in tasks.items()}
    robust_mf = [s for s in MULTI_FIDELITY["robust"] if s in by["robust"]]
    if GOAL_MOASHA not in by["cleanrobust"]:
        raise SystemExit(f"{folder / 'cleanrobust'}: {GOAL_MOASHA} is not among the searchers; the clean, robust "
                         "goal reads it (benchmarks/multi_fidelity_runs.sh runs it)")
    goals = {
        "robust: a multi-fidelity searcher beats random search (Holm-adjusted p < 0.05)":
            any(by["robust"][s]["p_better_holm"] < ALPHA for s in robust_mf),
        "clean, robust: MOASHA (moasha-ranked) no worse than random search":
            by["cleanrobust"][GOAL_MOASHA]["p_worse"] >= ALPHA,
    }
    return {"folder": str(folder), "tasks": tasks, "goals": goals}


def _p(row: dict) -> str:
    if "p_better" not in row:
        return "—"
    if row["p_worse"] < ALPHA:
        return f"{row['p_better']:.4g} (worse: p {row['p_worse']:.2g})"
    return f"{row['p_better']:.2g}"


def _p_holm(row: dict) -> str:
    return f"{row['p_better_holm']:#.2g}" if "p_better_holm" in row else "—"


def markdown(result: dict) -> str:
    """README's table of one folder, then its goals."""
    lines = ["| task | searcher | mean regret [95% CI] | median | classes seen | one-sided Mann-Whitney p (better than random) "
             "| Holm over Syne Tune's multi-fidelity searchers |",
             "|---|---|---|---|---|---|---|"]
    for task, rows in result["tasks"].items():
        for r in rows:
            lines.append(f"| {TASKS[task]} | {r['searcher']} | {r['mean']:.4f} [{r['lo']:.4f}, {r['hi']:.4f}] | "
                         f"{r['median']:.4f} | {r['classes_seen']:.0f} | {_p(r)} | {_p_holm(r)} |")
    lines.append("")
    lines += [f"- {goal}: {'met' if ok else 'not met'}" for goal, ok in result["goals"].items()]
    return "\n".join(lines)


def compare_tables(new: dict, old: dict) -> tuple[str, bool]:
    """Per multi-fidelity searcher, mean regret relative to random search's on each table; and
    whether ``new`` is better on multi-fidelity than ``old``: it meets more of the goals, or as many
    and every multi-fidelity searcher's relative regret is lower on it."""
    lines = ["| task | searcher | regret / random's, new | old | p better (Holm), new | old |", "|---|---|---|---|---|---|"]
    lower = []
    for task, searchers in MULTI_FIDELITY.items():
        a = {r["searcher"]: r for r in new["tasks"][task]}
        b = {r["searcher"]: r for r in old["tasks"][task]}
        for s in searchers:
            if s in a and s in b:
                lower.append(a[s]["relative_to_random"] < b[s]["relative_to_random"])
                lines.append(f"| {TASKS[task]} | {s} | {a[s]['relative_to_random']:.3f} | {b[s]['relative_to_random']:.3f} | "
                             f"{a[s]['p_better_holm']:.2g} | {b[s]['p_better_holm']:.2g} |")
    met_new, met_old = sum(new["goals"].values()), sum(old["goals"].values())
    better = met_new > met_old or (met_new == met_old and bool(lower) and all(lower))
    lines += ["", f"goals met: {met_new} of {len(new['goals'])} here, {met_old} of {len(old['goals'])} in "
              f"{old['folder']}: {'better on multi-fidelity' if better else 'not better on multi-fidelity'}"]
    return "\n".join(lines), better


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", type=Path, help="a folder with robust/ and cleanrobust/ comparisons")
    ap.add_argument("--against", type=Path, default=None, help="the same for another table")
    ap.add_argument("--json", type=Path, default=None, help="write the figures here as JSON")
    args = ap.parse_args(argv)
    for path, option in ((args.folder, "folder"), (args.against, "--against")):
        if path is not None and not path.is_dir():
            print(f"{option}: {path} is not a folder", file=sys.stderr)
            return 2
    result = analyse(args.folder)
    print(markdown(result))
    if args.against is not None:
        text, better = compare_tables(result, analyse(args.against))
        result["against"] = {"folder": str(args.against), "better_on_multi_fidelity": better}
        print()
        print(text)
    if args.json is not None:
        atomic_write_bytes(args.json, (json.dumps(result, indent=1, sort_keys=True) + "\n").encode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
