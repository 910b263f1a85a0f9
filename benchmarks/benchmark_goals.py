"""Does a table behave like the real benchmark? The goals of the embedded default, measured.

    python benchmarks/benchmark_goals.py                       [--seeds 20] [--out goals.json]  # the default
    python benchmarks/benchmark_goals.py --benchmark digits    [--against goals.json]
    python benchmarks/benchmark_goals.py --benchmark build --data-dir data/fashion-mnist-v1.build.tar.xz
    python benchmarks/benchmark_goals.py --anchor                        # NB201's CIFAR-10 itself
    python benchmarks/benchmark_goals.py --seed 0 --classes-of BUILD   # one seed, a build's classes

For a table (seed-mean values unless said otherwise), over its classes:

- seed-to-seed Kendall tau of the final robust and clean accuracy, over the classes with two or
  more seeds (seed labels "0" and "1": the first two);
- Kendall tau with NAS-Bench-201's CIFAR-10 test accuracy after 200 epochs (the public anchor in
  tests/data/nb201_cifar10_200ep.csv.gz), robust and clean;
- Kendall tau of robust accuracy at the last recorded epoch <= 25% (and <= 50%) of training with
  the final one, and at every recorded epoch (what a multi-fidelity searcher's early stops rest on);
  and at every recorded epoch, the share of the final top 10% of the classes that a successive-halving
  rung there keeps (the top third, Syne Tune's default reduction factor 3; chance 1/3);
- the size of the true clean/robust Pareto front (over all 15625 cells, identical points merged);
- (max - 99th percentile) / (max - median) of the robust accuracy over the cells, and how many cells
  share the maximum;
- what the table rewards: the mean percentile rank (minus 0.5) of robust accuracy over the cells
  with each operation on each edge, every class counted once (a 6 x 5 table, :mod:`robbench_plugin.op_effects`), and its Pearson
  r with the same table of NAS-Bench-201's CIFAR-10 accuracy over the same cells (1: the table
  rewards the same operations where CIFAR-10 does);
- separation: Optuna's TPE against random search maximising robust accuracy over the 15625 cells
  (one categorical parameter per edge), 100 trials, ``--seeds`` seeds each; normalized regret
  (max - best found) / (max - median) per seed; medians and a one-sided Mann-Whitney test that
  TPE's regrets are smaller.

``--anchor`` measures the last three on NAS-Bench-201's own CIFAR-10 accuracies (one value per cell:
no seeds, no epochs), the benchmark a robust table should behave like.

``--against GOALS.json`` (the ``--out`` of another table, e.g. digits) prints whether this table beats
that one on the two figures that decide the embedded default: separation (a smaller one-sided p
of TPE beating random search, and below 0.05) and seed-to-seed tau of robust accuracy (higher).
It also prints whether this table is no worse than that one, the rule for a new version of a
benchmark that must win elsewhere (fashion-mnist-v2 on multi-fidelity, ``benchmarks/multi_fidelity.py``)
without losing these two: separation still significant (p < 0.05), and seed tau not significantly
lower, a one-sided z test at 0.05 on the difference with each table's bootstrap standard error
(``seed_tau_robust_se``: 1000 resamples of its classes).

    python benchmarks/benchmark_goals.py --benchmark digits --out /tmp/goals-digits.json
    python benchmarks/benchmark_goals.py --benchmark fashion-mnist --against /tmp/goals-digits.json
"""
from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from robbench_plugin.fileutil import atomic_write_bytes  # noqa: E402
from robbench_plugin.loader import DEFAULT_BENCHMARK  # noqa: E402
from robbench_plugin.op_effects import class_cells, effects_r, op_effects, op_effects_of_classes  # noqa: E402
from robbench_plugin.space import (EDGES, NUM_ARCHS, OPS, Arch,  # noqa: E402
                                   representative_indices)
from robbench_plugin.stats import kendall  # noqa: E402

ANCHOR = ROOT / "tests" / "data" / "nb201_cifar10_200ep.csv.gz"


def anchor_accuracy() -> np.ndarray:
    """NAS-Bench-201's CIFAR-10 test accuracy (fraction) of the 15625 cells in index order."""
    with gzip.open(ANCHOR, "rt") as fh:
        return pd.read_csv(fh).sort_values("index").cifar10_test_acc_200ep.to_numpy() / 100.0


def top_spread(values: np.ndarray) -> dict:
    """(max - p99) / (max - median) of the values, and how many share the maximum."""
    top = float(np.max(values))
    return {"top_gap_p99": float((top - np.percentile(values, 99)) / (top - np.median(values))),
            "cells_at_max": int(np.sum(values == top))}


def op_effects_with_anchor(class_values: np.ndarray, uids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What a table of classes rewards (:func:`robbench_plugin.op_effects.op_effects_of_classes`,
    every class counted once), and NB201 CIFAR-10's op effects on the same cells with the same weights."""
    cells, weights, _ = class_cells(uids)
    return op_effects_of_classes(class_values, uids), op_effects(anchor_accuracy()[cells], cells, weights)


def top_kept(early: np.ndarray, final: np.ndarray, top: float = 0.10, keep: float = 1 / 3) -> float:
    """Share of the best classes (final value at or above the final values' ``1 - top`` quantile) whose
    early value is at or above the early values' ``1 - keep`` quantile: what a successive-halving rung
    that keeps the best ``keep`` of its trials (ASHA and Hyperband with reduction factor 1 / keep) keeps
    of the classes a search is after. A fraction in [0, 1]; an early value that ignores the final
    one keeps ``keep`` of them on average."""
    early, final = np.asarray(early, dtype=float), np.asarray(final, dtype=float)
    best = final >= np.quantile(final, 1 - top)
    return float((early[best] >= np.quantile(early, 1 - keep)).mean())


def kendall_se(a: np.ndarray, b: np.ndarray, resamples: int = 1000) -> float:
    """Bootstrap standard error of Kendall's tau of paired samples ``a``, ``b`` (one pair per class),
    classes resampled with replacement (scipy's ``bootstrap``, seeded: the same figure on every run)."""
    from scipy.stats import bootstrap

    res = bootstrap((a, b), kendall, paired=True, vectorized=False, n_resamples=resamples,
                    method="percentile", random_state=np.random.default_rng(0))
    return float(res.standard_error)


Z_ONE_SIDED_95 = 1.6448536269514722  # scipy.stats.norm.ppf(0.95)


def no_worse(new: dict, old: dict) -> dict:
    """Whether table ``new`` is no worse than ``old`` on the two deciding figures (see the module
    doc): TPE still ahead of random search at p < 0.05, and seed tau not significantly lower (z of
    the difference above -1.645 with the two bootstrap standard errors). None where either table
    lacks a figure."""
    p_new = new["separation"]["p_tpe_better"] if "separation" in new else None
    separation_ok = None if p_new is None else bool(p_new < 0.05)
    keys = ("seed_tau_robust", "seed_tau_robust_se")
    if any(g.get(k) is None for g in (new, old) for k in keys):
        z, seed_ok = None, None
    else:
        z = (new["seed_tau_robust"] - old["seed_tau_robust"]) / float(np.hypot(new["seed_tau_robust_se"],
                                                                                old["seed_tau_robust_se"]))
        seed_ok = bool(z > -Z_ONE_SIDED_95)
    verdict = None if None in (separation_ok, seed_ok) else separation_ok and seed_ok
    return {"separation_no_worse": separation_ok, "seed_tau_z": z, "seed_tau_no_worse": seed_ok, "no_worse": verdict}


def separation(cells: np.ndarray, seeds: int, trials: int = 100) -> dict:
    """TPE against random search maximising ``cells`` (a value per NB201 index); see the module doc."""
    import optuna
    from scipy.stats import mannwhitneyu

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    best, median = float(np.max(cells)), float(np.median(cells))
    names = [f"edge{to}{src}" for to, src in EDGES]

    def objective(trial) -> float:
        ops = [trial.suggest_categorical(n, list(OPS)) for n in names]
        return float(cells[Arch.from_ops(ops).index])

    def regret(found: float) -> float:
        return (best - found) / (best - median)

    tpe, rnd = [], []
    for seed in range(seeds):
        study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
        study.optimize(objective, n_trials=trials)
        tpe.append(regret(study.best_value))
        drawn = np.random.default_rng(seed).integers(0, NUM_ARCHS, trials)
        rnd.append(regret(float(np.max(cells[drawn]))))
    p = float(mannwhitneyu(tpe, rnd, alternative="less").pvalue)
    return {"trials": trials, "seeds": seeds, "tpe_median_regret": float(np.median(tpe)),
            "random_median_regret": float(np.median(rnd)), "p_tpe_better": p, "tpe": tpe, "random": rnd}


def table_goals(bench, seeds: int, classes=None, seed: str | None = None) -> dict:
    """Every figure of the module doc for a tabular benchmark; on ``classes`` only (uids; None: all
    it has) and one ``seed`` label's runs instead of the seed means (None)."""
    rob, cln = bench.resolve_metric("robust"), bench.resolve_metric("clean")
    cif = anchor_accuracy()
    keep = (lambda f: f) if classes is None else (lambda f: f[f["uid"].isin(classes)])
    label = "mean" if seed is None else seed
    frame = keep(bench.to_frame([rob, cln], seed=label)).dropna()
    uids = frame["uid"].to_numpy()
    out = {"benchmark": f"{bench.name}/{bench.dataset}", "classes": int(len(uids)),
           "table_sha256": bench.table.sha256(), **({"seed": seed} if seed is not None else {})}
    labels = [s for s in bench.seeds if s not in ("mean", "std")]
    if len(labels) >= 2 and seed is None and classes is None:
        a = bench.to_frame([rob, cln], seed=labels[0]).set_index("uid")
        b = bench.to_frame([rob, cln], seed=labels[1]).set_index("uid")
        both = a.index[a[rob].notna() & b.reindex(a.index)[rob].notna()]
        out.update(seed_classes=int(len(both)), seed_tau_robust=kendall(a.loc[both, rob], b.loc[both, rob]),
                   seed_tau_robust_se=kendall_se(a.loc[both, rob].to_numpy(), b.loc[both, rob].to_numpy()),
                   seed_tau_clean=kendall(a.loc[both, cln], b.loc[both, cln]))
    out.update(tau_cifar10_robust=kendall(frame[rob], cif[uids]), tau_cifar10_clean=kendall(frame[cln], cif[uids]))
    effects, anchor_effects = op_effects_with_anchor(frame[rob].to_numpy(), uids)
    out.update(op_effects_robust=effects.round(4).tolist(), op_effects_cifar10=anchor_effects.round(4).tolist(),
               op_effects_r_cifar10=effects_r(effects, anchor_effects))
    final = bench.final_fidelity(rob)
    evaluated = set(bench.table.frame.query("metric == @rob").fidelity.unique())
    def at(f):  # robust accuracy after epoch f, in the order of ``frame``
        return keep(bench.to_frame([rob], fidelity=f, seed=label)).set_index("uid").loc[uids, rob]

    by_epoch = {int(f): kendall(at(f), frame[rob]) for f in bench.fidelities if f in evaluated and f < final}
    for name, share in (("early", 0.25), ("half", 0.5)):  # the last recorded epoch <= 25% (50%) of training
        epoch = max([f for f in by_epoch if f <= share * final], default=None)
        if epoch is not None:
            out.update({f"{name}_epoch": epoch, f"tau_{name}_final_robust": by_epoch[epoch]})
    if by_epoch:
        kept = {f: top_kept(at(f).to_numpy(), frame[rob].to_numpy()) for f in by_epoch}
        out.update(final_epoch=int(final), tau_by_epoch_robust=by_epoch, top10_kept_by_epoch_robust=kept)
    cells = bench.cell_frame([rob])[rob].to_numpy()
    if len(cells) == NUM_ARCHS and seed is None and classes is None:
        out["front_size"] = int(len(bench.pareto_front(["clean", "robust"])))
        out.update(top_spread(cells))
        out["separation"] = separation(cells, seeds)
    return out


def anchor_goals(seeds: int) -> dict:
    cells = anchor_accuracy()
    uids = np.unique(representative_indices())
    return {"benchmark": "NAS-Bench-201 CIFAR-10, 200 epochs", "classes": int(len(uids)), **top_spread(cells),
            "separation": separation(cells, seeds)}


def beats(new: dict, old: dict) -> dict:
    """Whether table ``new`` beats ``old`` on separation and on seed tau (robust); see the module doc.
    A figure that either table lacks (a partial table: no separation; one seed: no seed tau) is
    ``None``, and so is the verdict. Beside it, not part of it (the issue's order of importance puts
    them after those two): the pairs of tau with CIFAR-10 (robust, clean) and of the op-effect r
    with CIFAR-10, and whether the new table's is higher."""
    def sep(g):
        return g["separation"]["p_tpe_better"] if "separation" in g else None

    p_new, p_old = sep(new), sep(old)
    t_new, t_old = new.get("seed_tau_robust"), old.get("seed_tau_robust")
    separation_ok = None if None in (p_new, p_old) else bool(p_new < p_old and p_new < 0.05)
    seed_ok = None if None in (t_new, t_old) else bool(t_new > t_old)
    verdict = None if None in (separation_ok, seed_ok) else separation_ok and seed_ok
    anchors = {}
    for key in ("tau_cifar10_robust", "tau_cifar10_clean", "op_effects_r_cifar10"):
        a, b = new.get(key), old.get(key)
        anchors[key] = [a, b]
        anchors[f"{key}_better"] = None if None in (a, b) else bool(a > b)
    return {"separation_p": [p_new, p_old], "separation_better": separation_ok,
            "seed_tau_robust": [t_new, t_old], "seed_tau_better": seed_ok, "beats": verdict, **anchors}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--benchmark", default=DEFAULT_BENCHMARK)
    ap.add_argument("--dataset", default=None)
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--anchor", action="store_true", help="measure NAS-Bench-201's CIFAR-10 accuracies instead")
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--classes-of", default=None, metavar="BUILD",
                    help="only the classes a build directory or archive has (e.g. a build under way), so two "
                         "tables are compared on the same classes")
    ap.add_argument("--seed", default=None, metavar="LABEL",
                    help="one seed's runs (e.g. 0) instead of the seed means: what one searcher's run sees, and "
                         "comparable with a build that has one seed so far")
    ap.add_argument("--out", default=None, help="JSON file for the figures")
    ap.add_argument("--against", default=None, help="the --out JSON of another table to compare with")
    a = ap.parse_args(argv)
    if a.seeds < 1:
        ap.error(f"--seeds must be >= 1, got {a.seeds}")
    old = None
    if a.against:  # read before the work
        try:
            old = json.loads(Path(a.against).read_text())
            old["benchmark"]
        except (OSError, ValueError, TypeError, KeyError) as exc:
            ap.error(f"--against {a.against}: not the --out JSON of this script ({type(exc).__name__}: {exc})")
    if a.anchor:
        goals = anchor_goals(a.seeds)
    else:
        from robbench_plugin.loader import load_benchmark

        classes = None
        if a.classes_of:
            from robbench_plugin.build_table import table_from_build

            classes = table_from_build(a.classes_of).frame["uid"].unique()
        goals = table_goals(load_benchmark(a.benchmark, dataset=a.dataset, data_dir=a.data_dir), a.seeds,
                            classes, a.seed)
    shown = {k: v for k, v in goals.items() if k != "separation" and not k.startswith("op_effects_")}
    print(json.dumps(shown, indent=1))
    if "op_effects_robust" in goals:
        print(f"what the table rewards (mean percentile rank - 0.5 of robust accuracy; CIFAR-10 in brackets), Pearson r "
              f"with CIFAR-10's {goals['op_effects_r_cifar10']:.3f}:")
        print("edge   " + "".join(f"{op:>22}" for op in OPS))
        for e, (to, src) in enumerate(EDGES):
            print(f"{src}->{to}   " + "".join(f"{goals['op_effects_robust'][e][k]:>+14.2f} ({goals['op_effects_cifar10'][e][k]:+.2f})"
                                     for k in range(len(OPS))))
    s = goals.get("separation")
    if s is None:
        print(f"separation, front and top spread need all 15625 cells: the table has {goals['classes']} of 6466 classes")
    else:
        print(f"separation: TPE vs random search, {s['trials']} trials, {s['seeds']} seeds: median normalized regret "
              f"{s['tpe_median_regret']:.3f} vs {s['random_median_regret']:.3f}, one-sided Mann-Whitney p = "
              f"{s['p_tpe_better']:.2g}")
    if old is not None:
        verdict = beats(goals, old)
        print(f"against {old['benchmark']}: separation p {verdict['separation_p']} -> "
              f"{verdict['separation_better']}; seed tau (robust) {verdict['seed_tau_robust']} -> "
              f"{verdict['seed_tau_better']}; beats it: {verdict['beats']}")
        print("  beside the verdict: " + "; ".join(f"{k} {verdict[k]} -> {verdict[k + '_better']}" for k in
                                                   ("tau_cifar10_robust", "tau_cifar10_clean", "op_effects_r_cifar10")))
        kept = no_worse(goals, old)
        z = "none" if kept["seed_tau_z"] is None else f"{kept['seed_tau_z']:+.2f}"
        print(f"  no worse than it: separation {kept['separation_no_worse']}; seed tau (z {z}) "
              f"{kept['seed_tau_no_worse']}; both: {kept['no_worse']}")
        goals["against"] = {"benchmark": old["benchmark"], **verdict, **kept}
    if a.out:
        atomic_write_bytes(a.out, (json.dumps(goals, indent=1, sort_keys=True) + "\n").encode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
