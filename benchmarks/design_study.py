"""Design study for the Fashion-MNIST benchmark: which training protocol ranks architectures
like the real task, with little noise, per CPU-second?

    python benchmarks/design_study.py --out design-study            # run (resumable), then analyse
    python benchmarks/design_study.py --out design-study --analyse  # analyse what is there
    python benchmarks/design_study.py --out design-study --timing 4 # each protocol's cost alone

Every protocol trains the same fixed list of classes (``--classes``, default 150, stratified
over digits v1's robust accuracy: the classes sorted by it, cut into equal bins, one drawn per
bin with seed 0) at seeds 0 and 1. A protocol is a Fashion-MNIST split (resolution, training
and validation images) plus a recipe; all evaluate clean and PGD accuracy at the training eps
after every epoch on the first 1000 validation images and at the end on the whole validation
split. After the last epoch each run is also evaluated, outside the protocol's cost, on the
first 1000 validation images with PGD-3 (the same final value at 1000 images) and PGD-10 (is
the protocol's attack strong enough to rank?).

Per protocol it reports (``design.md``, ``design.json`` in ``--out``):

- seed-to-seed Kendall tau of the final robust and clean accuracy (seed 0 vs seed 1), at the
  whole validation split and at 1000 images;
- Kendall tau of the seed mean with NAS-Bench-201's CIFAR-10 accuracy (200 epochs, public; the
  anchor in ``tests/data/nb201_cifar10_200ep.csv.gz``), robust and clean;
- Kendall tau of robust accuracy at the last epoch <= 25% of training with the final one;
- the spread at the top: (max - 90th percentile) / (max - median) of the seed-mean robust
  accuracy, and its 5th-95th percentile span;
- noise / spread: the seed-to-seed standard deviation of one run over the standard deviation of
  the seed means, over all classes and without the lowest 10% (the broken cells);
- Kendall tau of final PGD-3 with PGD-10 accuracy (1000 images);
- CPU seconds per run (process time of the training call, one torch thread; mean over runs) and
  the mean wall time of a run with 2 workers; with ``--timing K``, each protocol's CPU seconds on
  K of the classes trained one after another on an otherwise idle machine (two workers on two
  cores, or other work beside them, inflate process time), and the digits recipe's beside them.

Results are appended to ``runs.jsonl`` in ``--out`` as each run ends, so a stopped study resumes
where it stopped. One run trained by the invocation is trained again to check that a run repeats bit
for bit (runs trained on another CPU differ in their last bits: new runs record their environment).
"""
from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmark_goals import anchor_accuracy, op_effects_with_anchor  # noqa: E402  (NB201 CIFAR-10 of all cells, the anchor)
from robbench_plugin.fileutil import append_jsonl, atomic_write_bytes, read_jsonl  # noqa: E402
from robbench_plugin.op_effects import effects_r  # noqa: E402
from robbench_plugin.stats import kendall  # noqa: E402
from robbench_plugin.train.data import FashionMNISTSplit  # noqa: E402
from robbench_plugin.train.recipe import AttackSpec, Recipe  # noqa: E402

EPS = 8.0
EVAL_SUBSET = 1000
SEEDS = (0, 1)


def _recipe(name: str, *, N: int = 3, C: int = 8, epochs: int = 8, train_steps: int = 1, eps: float = EPS,
            eval_steps: int = 3, batch_size: int = 128, **schedule) -> Recipe:
    # FGSM with a random start (Wong et al. 2020: step 1.25 eps) when train_steps is 1, else PGD
    # with step 0.625 eps (as the digits recipe: 30/255 at 48/255). ``schedule``: the recipe's
    # lr_* fields (default: OneCycle, torch's defaults).
    alpha = 1.25 * eps if train_steps == 1 else 0.625 * eps
    return Recipe(name=name, C=C, N=N, epochs=epochs, batch_size=batch_size, lr_max=0.1, train_eps=eps,
                  train_alpha=alpha, train_steps=train_steps, eval_attacks=(AttackSpec("pgd", eps, steps=eval_steps),),
                  eval_epochs="all", eval_subset=EVAL_SUBSET, channels_last=True, **schedule)


# name -> (split, recipe, what it varies against "base")
PROTOCOLS: dict[str, tuple[FashionMNISTSplit, Recipe, str]] = {
    "small": (FashionMNISTSplit(8, 2000, 5000), _recipe("small", epochs=6),
              "base with 2000 training images and 6 epochs"),
    "small-bs32": (FashionMNISTSplit(8, 2000, 5000), _recipe("small-bs32", epochs=6, batch_size=32),
                   "small with batch 32 (4x the optimizer steps for the same images)"),
    "small-bs256": (FashionMNISTSplit(8, 2000, 5000), _recipe("small-bs256", epochs=6, batch_size=256),
                    "small with batch 256 (half the optimizer steps)"),
    "small-n2": (FashionMNISTSplit(8, 2000, 5000), _recipe("small-n2", N=2, epochs=6),
                 "small with N=2 cells per stage"),
    "small-n1": (FashionMNISTSplit(8, 2000, 5000), _recipe("small-n1", N=1, epochs=6),
                 "small with N=1 cell per stage (digits v1's depth)"),
    "small-c4": (FashionMNISTSplit(8, 2000, 5000), _recipe("small-c4", C=4, epochs=6),
                 "small with width C=4"),
    "base": (FashionMNISTSplit(8, 3000, 5000), _recipe("base"),
             "8x8, N=3, C=8, 3000 training images, 8 epochs, FGSM-RS training at 8/255, PGD-3 evaluation"),
    "small-12px-n2": (FashionMNISTSplit(12, 2000, 5000), _recipe("small-12px-n2", N=2, epochs=6),
                      "small at 12x12 with N=2 cells per stage"),
    "small-eps4": (FashionMNISTSplit(8, 2000, 5000), _recipe("small-eps4", epochs=6, eps=4.0),
                   "small at eps 4/255"),
    "small-pgd2": (FashionMNISTSplit(8, 2000, 5000), _recipe("small-pgd2", epochs=6, train_steps=2),
                   "small with PGD-2 training (step 0.625 eps) instead of FGSM-RS"),
    # The schedule study (v2): small's split, network and attack; only the learning-rate schedule,
    # the epochs and the batch differ. Multi-fidelity needs early epochs that rank the final ones.
    "small-cosine": (FashionMNISTSplit(8, 2000, 5000), _recipe("small-cosine", epochs=6, lr_schedule="cosine"),
                     "small with cosine annealing from the first step (no warm-up)"),
    "small-warm": (FashionMNISTSplit(8, 2000, 5000),
                   _recipe("small-warm", epochs=6, lr_schedule="cosine", lr_warmup=1 / 12),
                   "small-cosine after a linear warm-up over the first half epoch"),
    "small-step": (FashionMNISTSplit(8, 2000, 5000), _recipe("small-step", epochs=6, lr_schedule="multistep"),
                   "small with lr 0.1, x0.1 after epoch 3 and again after epoch 4 (the reference code's step)"),
    "small-const": (FashionMNISTSplit(8, 2000, 5000),
                    _recipe("small-const", epochs=6, lr_schedule="constant", lr_final_decay=1 / 3),
                    "small with lr 0.1 constant, then linear decay to 0 over the last 2 epochs"),
    "cosine-8ep-bs256": (FashionMNISTSplit(8, 2000, 5000),
                         _recipe("cosine-8ep-bs256", epochs=8, batch_size=256, lr_schedule="cosine"),
                         "small-cosine over 8 epochs at batch 256 (about small's cost)"),
}
# Protocols whose runs skip the extra evaluations after the last epoch (PGD-3 and PGD-10 on 1000
# images): the question they answered (is PGD-3 strong enough to rank?) is settled by the first study.
NO_EXTRAS = {"small-cosine", "small-warm", "small-step", "small-const", "cosine-8ep-bs256"}
SCHEDULE_STUDY = ("small-cosine", "small-warm", "small-step", "small-const", "cosine-8ep-bs256")
# the protocol the fashion-mnist-v2 preset is (docs/design-study.md says why)
CHOSEN = "small-cosine"


def stratified_classes(n: int, seed: int = 0) -> list[int]:
    """``n`` classes stratified over digits v1's robust accuracy (seed mean)."""
    from robbench_plugin.loader import load_benchmark

    bench = load_benchmark("digits")
    frame = bench.to_frame(["robust"]).rename(columns={bench.resolve_metric("robust"): "robust"})
    order = frame.sort_values(["robust", "uid"]).uid.to_numpy()
    rng = np.random.default_rng(seed)
    return sorted(int(rng.choice(b)) for b in np.array_split(order, n))


# --- worker ------------------------------------------------------------------------------
_SPLITS: dict = {}


def _splits(split: FashionMNISTSplit):
    if split not in _SPLITS:
        from robbench_plugin.train.data import fashion_mnist_splits

        _SPLITS[split] = fashion_mnist_splits(split=split)
    return _SPLITS[split]


def run_job(job: tuple[str, int, int]) -> dict:
    """Train one (protocol, uid, seed); the protocol's cost is the process time of ``train``."""
    import torch

    from robbench_plugin.train.loop import evaluate, train
    from robbench_plugin.train.model import build_model

    name, uid, seed = job
    split, recipe, _ = PROTOCOLS[name]
    splits = _splits(split)
    last: dict = {}
    t0, w0 = time.process_time(), time.perf_counter()
    result = train(uid, "fashion-mnist", recipe, seed=seed, device="cpu", splits=splits,
                   save_state=lambda state: last.update(model=state["model"]))
    cpu, wall = time.process_time() - t0, time.perf_counter() - w0
    from robbench_plugin.train.environment import environment

    if name in NO_EXTRAS:  # where it ran: another CPU gives other last bits (runs before 2026-12 say nothing)
        return {"protocol": name, "uid": uid, "seed": seed, "cpu_s": cpu, "wall_s": wall, "extra_cpu_s": 0.0,
                "epochs": result.epochs, "environment": environment()}
    model = build_model(uid, 10, C=recipe.C, N=recipe.N, in_channels=1, mean=splits.mean_std[0],
                        std=splits.mean_std[1])
    model.load_state_dict(last["model"])
    model = model.to(memory_format=torch.channels_last)
    x, y = splits.val[0][:EVAL_SUBSET].contiguous(memory_format=torch.channels_last), splits.val[1][:EVAL_SUBSET]
    pgd = f"val_pgd_{float(recipe.train_eps)}_acc"
    t1 = time.process_time()
    at_1000 = evaluate(model, x, y, recipe, seed=seed)  # the protocol's own attack at 1000 images
    pgd10 = recipe.replace(eval_attacks=(AttackSpec("pgd", recipe.train_eps, steps=10, alpha=recipe.train_eps / 4),))
    strong = evaluate(model, x, y, pgd10, seed=seed)[pgd]
    return {"protocol": name, "uid": uid, "seed": seed, "cpu_s": cpu, "wall_s": wall,
            "extra_cpu_s": time.process_time() - t1, "epochs": result.epochs,
            "final_1000": {"val_acc": at_1000["val_acc"], "pgd3": at_1000[pgd], "pgd10": strong}}


# --- analysis ----------------------------------------------------------------------------
def additive_r2(uids: list[int], values: np.ndarray) -> float:
    """Cross-validated R^2 (5 folds) of a ridge model additive in the ops of the six edges (one-hot):
    how much of the values is structure a searcher can learn from a few evaluations."""
    from sklearn.linear_model import RidgeCV
    from sklearn.model_selection import cross_val_score

    from robbench_plugin.space import Arch

    x = np.array([[float(op == o) for op in Arch.from_index(u).ops for o in ("none", "skip_connect", "nor_conv_1x1",
                                                                              "nor_conv_3x3", "avg_pool_3x3")]
                  for u in uids])
    return float(np.mean(cross_val_score(RidgeCV(alphas=np.logspace(-3, 3, 13)), x, values, cv=5, scoring="r2")))


def mean_of_runs_tau(tau: float, runs: float) -> float:
    """An estimate of the seed-to-seed Kendall tau of means of ``runs`` runs from the tau of single
    runs: Greiner's relation r = sin(pi tau / 2) to a correlation, the Spearman-Brown formula
    r_k = k r / (1 + (k - 1) r), and back."""
    r = np.sin(np.pi * tau / 2)
    return float(2 / np.pi * np.arcsin(runs * r / (1 + (runs - 1) * r)))


def _noise_ratio(values: np.ndarray) -> float:
    """Seed-to-seed standard deviation of one run (std of the difference of two seeds / sqrt 2) over
    the standard deviation of the seed means; ``values`` is classes x 2 seeds."""
    return float(np.std(values[:, 0] - values[:, 1]) / np.sqrt(2) / np.std(values.mean(1)))


def bootstrap_tau(x: np.ndarray, y: np.ndarray, n: int = 2000, seed: int = 0) -> tuple[float, float]:
    """95% percentile-bootstrap interval of Kendall tau(x, y), classes resampled with replacement
    (``n`` resamples, seed ``seed``): how far a tau on 150 classes is from the table's."""
    rng = np.random.default_rng(seed)
    taus = [kendall(x[i], y[i]) for i in (rng.integers(0, len(x), len(x)) for _ in range(n))]
    return float(np.percentile(taus, 2.5)), float(np.percentile(taus, 97.5))


def op_effects_r(uids: list[int], values: np.ndarray) -> float:
    """Pearson r of what ``values`` (one per class) reward with what NB201's CIFAR-10 accuracy rewards
    on the same cells (benchmark_goals.op_effects_with_anchor)."""
    ours, anchor = op_effects_with_anchor(values, np.asarray(uids))
    return effects_r(ours, anchor)


def analyse(runs: list[dict], classes: list[int], names: list[str] | None = None) -> dict:
    cifar = anchor_accuracy()
    out = {}
    for name, (split, recipe, varies) in PROTOCOLS.items():
        if names is not None and name not in names:
            continue
        rows = [r for r in runs if r["protocol"] == name]
        by = {(r["uid"], r["seed"]): r for r in rows}
        full = [u for u in classes if all((u, s) in by for s in SEEDS)]
        if len(full) < 10:
            continue
        pgd = f"val_pgd_{float(recipe.train_eps)}_acc"

        def final(u, s, key):
            return by[(u, s)]["epochs"][-1][key]

        rob = np.array([[final(u, s, pgd) for s in SEEDS] for u in full])
        cln = np.array([[final(u, s, "val_acc") for s in SEEDS] for u in full])
        extras = all("final_1000" in by[(u, s)] for u in full for s in SEEDS)
        if extras:
            rob1k = np.array([[by[(u, s)]["final_1000"]["pgd3"] for s in SEEDS] for u in full])
            cln1k = np.array([[by[(u, s)]["final_1000"]["val_acc"] for s in SEEDS] for u in full])
            pgd10 = np.array([[by[(u, s)]["final_1000"]["pgd10"] for s in SEEDS] for u in full])
        early = max(1, int(recipe.epochs * 0.25))
        half = max(1, int(recipe.epochs * 0.5))
        by_epoch = np.array([[[by[(u, s)]["epochs"][e][pgd] for s in SEEDS] for u in full]
                             for e in range(recipe.epochs)])  # epochs x classes x seeds
        mean_rob, mean_cln = rob.mean(1), cln.mean(1)
        tau_by_epoch = [kendall(v.mean(1), mean_rob) for v in by_epoch]
        top = np.sort(mean_rob)
        cpu = np.array([r["cpu_s"] for r in rows])
        out[name] = {
            "varies": varies, "classes": len(full), "runs": len(rows), "recipe_key": recipe.key(),
            "split": {"resolution": split.resolution, "n_train": split.n_train, "n_val": split.n_val},
            "recipe": {k: recipe.to_dict()[k] for k in ("C", "N", "epochs", "train_steps", "train_eps")},
            "seed_tau_robust": kendall(rob[:, 0], rob[:, 1]), "seed_tau_clean": kendall(cln[:, 0], cln[:, 1]),
            **({"seed_tau_robust_1000": kendall(rob1k[:, 0], rob1k[:, 1]),
                "seed_tau_clean_1000": kendall(cln1k[:, 0], cln1k[:, 1]),
                "tau_pgd3_pgd10": kendall(rob1k.mean(1), pgd10.mean(1))} if extras else {}),
            "tau_cifar10_robust": kendall(mean_rob, cifar[full]), "tau_cifar10_clean": kendall(mean_cln, cifar[full]),
            # the last epoch <= 25% (<= 50%) of training, its seed-mean robust accuracy (on the first
            # 1000 validation images) against the final one's (on all of them)
            "early_epoch": early, "tau_early_final_robust": tau_by_epoch[early - 1],
            "half_epoch": half, "tau_half_final_robust": tau_by_epoch[half - 1],
            "tau_by_epoch_robust": tau_by_epoch[:-1],
            "tau_early_final_robust_ci95": bootstrap_tau(by_epoch[early - 1].mean(1), mean_rob),
            "tau_half_final_robust_ci95": bootstrap_tau(by_epoch[half - 1].mean(1), mean_rob),
            # the same for single runs: a searcher sees one run's curve, not a seed mean
            "tau_early_final_robust_run": float(np.mean([kendall(by_epoch[early - 1][:, s], rob[:, s])
                                                         for s in range(len(SEEDS))])),
            "tau_half_final_robust_run": float(np.mean([kendall(by_epoch[half - 1][:, s], rob[:, s])
                                                        for s in range(len(SEEDS))])),
            "top_gap": float((top[-1] - np.percentile(top, 90)) / (top[-1] - np.median(top))),
            "robust_p5_p95": float(np.percentile(mean_rob, 95) - np.percentile(mean_rob, 5)),
            "robust_median": float(np.median(mean_rob)), "clean_median": float(np.median(mean_cln)),
            "noise_ratio_robust": _noise_ratio(rob),
            # without the 10% of classes with the lowest seed-mean robust accuracy (broken cells)
            "noise_ratio_robust_top90": _noise_ratio(rob[mean_rob >= np.percentile(mean_rob, 10)]),
            "additive_r2_robust": additive_r2(full, mean_rob), "op_effects_r_cifar10": op_effects_r(full, mean_rob),
            "median_seed_abs_diff_robust": float(np.median(np.abs(rob[:, 0] - rob[:, 1]))),
            "cpu_s_per_run": float(cpu.mean()), "wall_s_per_run": float(np.mean([r["wall_s"] for r in rows])),
        }
    return out


def paired_differences(runs: list[dict], classes: list[int], names: list[str], against: tuple[str, ...],
                       n: int = 1000, seed: int = 0) -> dict:
    """Protocol minus protocol on the same classes, with a 95% paired-bootstrap interval (classes
    resampled with replacement, the same resample for both; ``n`` resamples, seed ``seed``): tau of
    seed-mean robust accuracy at the last epoch <= 25% and <= 50% of training with the final one, tau
    of the final one with NB201's CIFAR-10, and the seed-to-seed tau. Every protocol in ``names``
    against each of ``against``."""
    cifar = anchor_accuracy()
    uids = np.asarray(classes)
    data = {}
    for name in set(names) | set(against):
        recipe = PROTOCOLS[name][1]
        pgd = f"val_pgd_{float(recipe.train_eps)}_acc"
        by = {(r["uid"], r["seed"]): r for r in runs if r["protocol"] == name}
        curves = np.array([[[e[pgd] for e in by[(u, s)]["epochs"]] for s in SEEDS] for u in classes])  # class x seed x epoch
        data[name] = (curves, max(1, int(recipe.epochs * 0.25)), max(1, int(recipe.epochs * 0.5)))

    def figures(name, idx):
        curves, early, half = data[name]
        mean = curves[idx].mean(1)
        return np.array([kendall(mean[:, early - 1], mean[:, -1]), kendall(mean[:, half - 1], mean[:, -1]),
                         kendall(mean[:, -1], cifar[uids[idx]]), kendall(curves[idx, 0, -1], curves[idx, 1, -1])])

    rng = np.random.default_rng(seed)
    resamples = [rng.integers(0, len(classes), len(classes)) for _ in range(n)]
    whole = np.arange(len(classes))
    cache = {name: [figures(name, idx) for idx in resamples] for name in data}
    out = {}
    for base in against:
        for name in names:
            if name == base:
                continue
            diff = figures(name, whole) - figures(base, whole)
            boot = np.array(cache[name]) - np.array(cache[base])
            low, high = np.percentile(boot, 2.5, axis=0), np.percentile(boot, 97.5, axis=0)
            out[f"{name} - {base}"] = {key: [float(diff[i]), float(low[i]), float(high[i])] for i, key in enumerate(
                ("tau_early_final_robust", "tau_half_final_robust", "tau_cifar10_robust", "seed_tau_robust"))}
    return out


def references(classes: list[int]) -> dict:
    """The same figures, where they apply, for digits v1 and NB201's CIFAR-10 on the same classes."""
    from robbench_plugin.loader import load_benchmark

    cifar = anchor_accuracy()
    digits = load_benchmark("digits")
    values = digits.query_many(classes, ["robust", "clean"])
    rob, cln = values[digits.resolve_metric("robust")].to_numpy(), values["val_acc"].to_numpy()
    return {"digits v1": {"classes": len(classes), "tau_cifar10_robust": kendall(rob, cifar[classes]),
                          "tau_cifar10_clean": kendall(cln, cifar[classes]), "additive_r2_robust": additive_r2(classes, rob),
                          "op_effects_r_cifar10": op_effects_r(classes, rob)},
            "NB201 CIFAR-10": {"classes": len(classes), "additive_r2_robust": additive_r2(classes, cifar[classes])}}


def write_report(result: dict, out: Path) -> str:
    cols = [("seed τ robust", "seed_tau_robust"), ("seed τ clean", "seed_tau_clean"),
            ("seed τ robust @1000", "seed_tau_robust_1000"), ("τ CIFAR-10 robust", "tau_cifar10_robust"),
            ("τ CIFAR-10 clean", "tau_cifar10_clean"), ("τ(early, final) robust", "tau_early_final_robust"),
            ("τ(half, final) robust", "tau_half_final_robust"),
            ("τ(early, final) 95% CI", "tau_early_final_robust_ci95"),
            ("τ(half, final) 95% CI", "tau_half_final_robust_ci95"),
            ("τ(early, final) robust, one run", "tau_early_final_robust_run"),
            ("τ(half, final) robust, one run", "tau_half_final_robust_run"),
            ("τ PGD-3/PGD-10", "tau_pgd3_pgd10"), ("top gap", "top_gap"), ("robust p5-p95", "robust_p5_p95"),
            ("robust median", "robust_median"), ("noise / spread", "noise_ratio_robust"),
            ("noise / spread, top 90%", "noise_ratio_robust_top90"),
            ("additive R²", "additive_r2_robust"), ("op-effect r with CIFAR-10", "op_effects_r_cifar10"),
            ("CPU s / run", "cpu_s_per_run"),
            ("CPU s / run alone", "cpu_s_alone"), ("runs at the cost of 2 of the first", "runs_at_equal_cost"),
            ("est. seed τ robust of their mean", "seed_tau_robust_equal_cost_est")]
    lines = ["| protocol | classes | " + " | ".join(c for c, _ in cols) + " |",
             "|---|---|" + "---|" * len(cols)]
    for name, r in result.items():
        if name == "paired differences":
            continue
        lines.append(f"| {name} | {r['classes']} | " + " | ".join(
            "" if k not in r else "{:.2f}-{:.2f}".format(*r[k]) if k.endswith("_ci95") else f"{r[k]:.1f}" if k.startswith(("cpu_s", "runs_")) else f"{r[k]:.3f}" for _, k in cols) + " |")
    lines.append("")
    lines += [f"- **{n}**: {r['varies']} ({r['split']['resolution']}x{r['split']['resolution']} px, "
              f"{r['split']['n_train']} training images; recipe key {r['recipe_key']}; early epoch {r['early_epoch']})"
              for n, r in result.items() if "varies" in r]
    if "paired differences" in result:
        lines += ["", "Paired differences on the same classes (95% paired-bootstrap interval over classes):", "",
                  "| protocol - protocol | τ(early, final) robust | τ(half, final) robust | τ CIFAR-10 robust | "
                  "seed τ robust |", "|---|---|---|---|---|"]
        lines += [f"| {pair} | " + " | ".join("{:+.3f} [{:+.3f}, {:+.3f}]".format(*d[k]) for k in (
            "tau_early_final_robust", "tau_half_final_robust", "tau_cifar10_robust", "seed_tau_robust")) + " |"
            for pair, d in result["paired differences"].items()]
    text = "\n".join(lines) + "\n"
    atomic_write_bytes(out / "design.md", text.encode())
    atomic_write_bytes(out / "design.json", (json.dumps(result, indent=1, sort_keys=True) + "\n").encode())
    return text


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="folder for runs.jsonl and the report")
    ap.add_argument("--classes", type=int, default=150)
    ap.add_argument("--protocols", default=",".join(PROTOCOLS), help="comma list, run in this order")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--analyse", action="store_true", help="only analyse runs.jsonl")
    ap.add_argument("--also", type=Path, action="append", default=[], metavar="RUNS",
                    help="runs of another study (runs.jsonl[.gz]) analysed beside this one's, e.g. the first "
                         "study's small as the baseline of the schedule study; never trained again")
    ap.add_argument("--interleave", action="store_true",
                    help="train class by class across the protocols (every protocol has the same classes "
                         "at any stop) instead of protocol by protocol")
    ap.add_argument("--schedule-study", action="store_true",
                    help=f"the schedule study: --protocols {','.join(SCHEDULE_STUDY)} --interleave, analysed "
                         "with the --also runs' small")
    ap.add_argument("--timing", type=int, default=0, metavar="K",
                    help="only time each protocol on the first K classes, in this process, one after another "
                         "(run it on an otherwise idle machine); writes timing.json")
    args = ap.parse_args(argv)
    if args.schedule_study:
        args.protocols, args.interleave = ",".join(SCHEDULE_STUDY), True
    names = args.protocols.split(",")
    unknown = [n for n in names if n not in PROTOCOLS]
    if unknown or args.classes < 10 or args.workers < 1 or args.timing < 0:
        ap.error(f"--protocols: valid {', '.join(PROTOCOLS)}; --classes >= 10; --workers >= 1; --timing >= 0")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    classes_file = out / "classes.json"
    if classes_file.is_file():
        classes = json.loads(classes_file.read_text())
    else:
        classes = stratified_classes(args.classes)
        atomic_write_bytes(classes_file, json.dumps(classes).encode())
    if args.timing:
        print(json.dumps(time_alone(names, classes[:: max(1, len(classes) // args.timing)][:args.timing], out),
                         indent=1))
        return 0
    runs_file = out / "runs.jsonl"
    runs = list(read_jsonl(runs_file)) if runs_file.is_file() else []
    if not runs and (out / "runs.jsonl.gz").is_file():  # a study kept compressed (docs/design-study/)
        runs = _read_runs(out / "runs.jsonl.gz")
        if not args.analyse:  # go on from the kept runs: they become the head of runs.jsonl
            for rec in runs:
                append_jsonl(runs_file, rec)
    if not args.analyse:
        from robbench_plugin.train.builder import map_jobs

        trained: list[dict] = []  # by this invocation, on this machine: the repeat check below uses one
        done = {(r["protocol"], r["uid"], r["seed"]) for r in runs}
        order = ([(n, u, s) for u in classes for n in names for s in SEEDS] if args.interleave
                 else [(n, u, s) for n in names for u in classes for s in SEEDS])
        todo = [job for job in order if job not in done]
        print(f"{len(todo)} runs to do", flush=True)
        start = time.perf_counter()
        for i, rec in enumerate(map_jobs(run_job, todo, workers=args.workers), 1):
            append_jsonl(runs_file, rec)
            runs.append(rec)
            trained.append(rec)
            if i % 20 == 0 or i == len(todo):
                print(f"{i}/{len(todo)} runs, {time.perf_counter() - start:.0f} s", flush=True)
    others = [r for path in args.also for r in _read_runs(path)]
    mine = {r["protocol"] for r in runs}
    runs += [r for r in others if r["protocol"] not in mine]
    shown = (["small"] if others else []) + names if args.schedule_study else None
    if shown:  # every protocol on the same classes: those all of them have finished, at any stop
        have = {(r["protocol"], r["uid"], r["seed"]) for r in runs}
        classes = [u for u in classes if all((p, u, s) in have for p in shown for s in SEEDS)]
        print(f"{len(classes)} classes finished by every protocol", flush=True)
    result = {**analyse(runs, classes, shown), **references(classes)}
    if args.schedule_study and others:  # what the choice rests on: differences on the same classes
        result["paired differences"] = paired_differences(runs, classes, list(SCHEDULE_STUDY), ("small", CHOSEN))
    if (out / "timing.json").is_file():  # costs measured alone (--timing)
        costs = json.loads((out / "timing.json").read_text())["cpu_s"]
        for name, cpu in costs.items():
            if name in result:
                result[name]["cpu_s_alone"] = cpu
        # at the cost of two runs of the first protocol: how many runs each affords, and the estimated
        # seed tau of their mean (see mean_of_runs_tau)
        budget = 2 * costs.get(names[0], np.nan)
        for name, r in result.items():
            if "seed_tau_robust" in r and name in costs:
                r["runs_at_equal_cost"] = budget / costs[name]
                r["seed_tau_robust_equal_cost_est"] = mean_of_runs_tau(r["seed_tau_robust"], budget / costs[name])
    first = next((r for r in trained if r["protocol"] == names[0]), None) if not args.analyse else None
    if first is not None:
        from robbench_plugin.train.builder import map_jobs

        again = next(map_jobs(run_job, [(first["protocol"], first["uid"], first["seed"])], workers=1))
        same = _values(again) == _values(first)
        print(f"repeat of {first['protocol']} uid {first['uid']} seed {first['seed']}: "
              f"{'bit-identical' if same else 'DIFFERENT'}")
        if not same:
            return 1
    print(write_report(result, out))
    return 0


def time_alone(names: list[str], uids: list[int], out: Path) -> dict:
    """CPU seconds (process time of ``train``, one torch thread) of each protocol on the same ``uids``
    at seed 0, protocols interleaved class by class so that a drift of the machine hits all alike;
    a run's cost without other work beside it. Also the same for the digits recipe on digits, the
    reference a cost per image-epoch is taken against."""
    import torch

    from robbench_plugin.train import Recipe, train
    from robbench_plugin.train.data import load_digits_splits

    torch.set_num_threads(1)
    cost: dict[str, list[float]] = {n: [] for n in [*names, "digits v1"]}
    for uid in uids:
        for name in cost:
            if name == "digits v1":
                recipe, splits, dataset = Recipe.preset("digits"), load_digits_splits(), "digits"
            else:
                split, recipe, _ = PROTOCOLS[name]
                splits, dataset = _splits(split), "fashion-mnist"
            t0 = time.process_time()
            train(uid, dataset, recipe, seed=0, device="cpu", splits=splits)
            cost[name].append(time.process_time() - t0)
    result = {"uids": uids, "cpu_s": {n: float(np.mean(v)) for n, v in cost.items()}, "runs": cost}
    atomic_write_bytes(out / "timing.json", (json.dumps(result, indent=1, sort_keys=True) + "\n").encode())
    return result


def _read_runs(path: Path) -> list[dict]:
    """The runs of a study kept as runs.jsonl or runs.jsonl.gz."""
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _values(run: dict) -> list:
    """A run's numbers without its timings."""
    return [{k: v for k, v in e.items() if not k.endswith("time_s")} for e in run["epochs"]] + [run.get("final_1000")]


if __name__ == "__main__":
    sys.exit(main())
