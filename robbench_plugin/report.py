"""Quality report of a benchmark table (``robbench report``): is it a real robust benchmark?

Writes ``report.md`` and PNG plots (matplotlib, extra ``report``) and returns the figures:

- distributions of clean and robust accuracy (final epoch, seed mean);
- clean vs robust scatter with the Pareto front; Kendall tau(clean, robust);
- Kendall tau between each earlier epoch and the final epoch (is multi-fidelity informative?);
- seed noise vs inter-architecture spread of robust accuracy (median per-class seed std over
  classes with >= 2 seeds, vs the std across classes);
- op frequency per edge among the top 5% robust classes vs all classes, against the paper's
  finding that robust architectures favour convolutions on the edges into the output node;
- recorded training time (tables of ``robbench build``): how well a class's training seconds repeat
  between two seeds (Kendall tau and the 5th-95th percentile of their ratio) and follow its FLOPs,
  i.e. how much of them is the architecture's cost and how much the machine's load; the simulated
  clock's op-count model (``Benchmark.epoch_time_model``), and how well that model, fitted on the
  classes with one seed, ranks the second seed of the others;
- what the table rewards: the op effects of robust and clean accuracy (:mod:`.op_effects`: the
  mean percentile rank, minus 0.5, over the cells with each operation on each edge, every class
  counted once).

Thresholds for the shipped digits table (``THRESHOLDS``): robust accuracy spans >= 0.15
between its 5th and 95th percentile; tau(clean, robust) <= 0.9; median seed std < 1/3 of the
inter-class std of robust accuracy.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .fileutil import atomic_write_bytes
from .op_effects import op_effects_of_classes
from .stats import kendall
from .space import EDGES, OPS, index_to_ops_array
from .time_model import EpochTimeModel

THRESHOLDS = {"robust_p5_p95_span_min": 0.15, "tau_clean_robust_max": 0.9, "seed_noise_ratio_max": 1 / 3}


def recorded_time_figures(bench, uids: np.ndarray) -> dict[str, Any]:
    """For a table with recorded per-epoch training seconds (``time_s``, ``time_source ==
    "recorded"``) and the classes ``uids``: ``time_tau_flops``, Kendall tau of a class's training
    seconds (all epochs, seed mean) with its FLOPs; where two seeds exist, over the classes with both,
    ``time_seed_classes``, ``time_tau_seeds`` (tau between the two seeds' seconds) and
    ``time_seed_ratio_p5_p95`` (5th and 95th percentile of their ratio); ``clock``: the table's
    epoch-time model (:meth:`~robbench_plugin.time_model.EpochTimeModel.as_dict`, seconds per
    epoch); where some classes have only the first seed, ``time_model_classes`` (how many) and
    ``time_tau_model_seeds``: tau with the second seed's seconds of the same model fitted on those
    classes alone (held out), to set beside ``time_tau_seeds``. Empty for other tables."""
    if bench.time_source != "recorded" or "time_s" not in bench.metrics:
        return {}

    flops = bench.query_many(uids, ["flops"])["flops"].to_numpy()
    out: dict[str, Any] = {"time_tau_flops": kendall(bench.recorded_seconds(uids, "mean"), flops)}
    if bench.epoch_time_model is not None:
        out["clock"] = bench.epoch_time_model.as_dict()
    labels = [s for s in bench.seeds if s not in ("mean", "std")]
    if len(labels) >= 2:
        a, b = bench.recorded_seconds(uids, labels[0]), bench.recorded_seconds(uids, labels[1])
        both = ~np.isnan(a) & ~np.isnan(b)
        out["time_seed_classes"] = int(both.sum())
        if both.sum() >= 2:
            out["time_tau_seeds"] = kendall(a[both], b[both])
            out["time_seed_ratio_p5_p95"] = np.percentile(a[both] / b[both], [5, 95]).tolist()
        single = ~np.isnan(a) & np.isnan(b)
        if both.sum() >= 2 and single.any():
            held_out = EpochTimeModel.fit(uids[single], a[single] / bench.fidelities[-1])
            out["time_model_classes"] = int(single.sum())
            out["time_tau_model_seeds"] = kendall(held_out.seconds_per_epoch(uids[both]), b[both])
    return out


def quality_figures(bench) -> dict[str, Any]:
    """The report's numbers (no files)."""
    clean, robust = bench.resolve_metric("clean"), bench.resolve_metric("robust")
    df = bench.to_frame([clean, robust]).dropna()
    c, r = df[clean].to_numpy(), df[robust].to_numpy()
    out: dict[str, Any] = {"classes": len(df), "clean_metric": clean, "robust_metric": robust,
                           "clean_range": [float(c.min()), float(c.max())],
                           "robust_range": [float(r.min()), float(r.max())],
                           "robust_p5": float(np.percentile(r, 5)), "robust_p95": float(np.percentile(r, 95)),
                           "tau_clean_robust": kendall(c, r)}
    out["robust_p5_p95_span"] = out["robust_p95"] - out["robust_p5"]
    final = bench.final_fidelity(robust)
    early = {}
    for f in bench.fidelities:
        if f >= final:
            continue
        e = bench.query_many(df["uid"].to_numpy(), [clean, robust], fidelity=f)
        if e[robust].notna().all():
            early[int(f)] = {"clean": kendall(e[clean], c), "robust": kendall(e[robust], r)}
    out["tau_epoch_vs_final"] = early
    std = bench.query_many(df["uid"].to_numpy(), [robust], seed="std")[robust].to_numpy()
    multi = ~np.isnan(std)
    out["seed_classes"] = int(multi.sum())
    out["median_seed_std"] = float(np.median(std[multi])) if multi.any() else float("nan")
    out["inter_class_std"] = float(np.std(r, ddof=1))
    out["seed_noise_ratio"] = out["median_seed_std"] / out["inter_class_std"]
    ops = index_to_ops_array()[df["uid"].to_numpy()]
    top = r >= np.percentile(r, 95)
    freq_top = np.stack([(ops[top] == k).mean(0) for k in range(len(OPS))], axis=1)  # (edge, op)
    freq_all = np.stack([(ops == k).mean(0) for k in range(len(OPS))], axis=1)
    out["op_freq_top5"] = freq_top.tolist()
    out["op_freq_all"] = freq_all.tolist()
    into_out = [i for i, (to, _) in enumerate(EDGES) if to == 3]
    conv = [OPS.index("nor_conv_1x1"), OPS.index("nor_conv_3x3")]
    out["conv_into_output_top5"] = float(freq_top[into_out][:, conv].sum(1).mean())
    out["conv_into_output_all"] = float(freq_all[into_out][:, conv].sum(1).mean())
    uids = df["uid"].to_numpy()
    out.update(recorded_time_figures(bench, uids))
    out["op_effects_robust"] = op_effects_of_classes(r, uids).tolist()
    out["op_effects_clean"] = op_effects_of_classes(c, uids).tolist()
    out["checks"] = {
        "robust_p5_p95_span": out["robust_p5_p95_span"] >= THRESHOLDS["robust_p5_p95_span_min"],
        "tau_clean_robust": out["tau_clean_robust"] <= THRESHOLDS["tau_clean_robust_max"],
        "seed_noise_ratio": bool(out["seed_noise_ratio"] < THRESHOLDS["seed_noise_ratio_max"]),
    }
    return out


def write_report(bench, out_dir: str | Path) -> dict[str, Any]:
    """Compute :func:`quality_figures`, write ``report.md`` and the plots into ``out_dir``."""
    from .plotting import pyplot

    plt = pyplot()

    from .pareto import pareto_mask

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    q = quality_figures(bench)
    clean, robust = q["clean_metric"], q["robust_metric"]
    df = bench.to_frame([clean, robust]).dropna()

    def save(fig, name):
        fig.tight_layout()
        fig.savefig(out / name, dpi=110)
        plt.close(fig)

    fig, ax = plt.subplots(1, 2, figsize=(9, 3.2))
    ax[0].hist(df[clean], bins=50, color="tab:blue")
    ax[0].set_xlabel(f"clean ({clean})")
    ax[1].hist(df[robust], bins=50, color="tab:red")
    ax[1].set_xlabel(f"robust ({robust})")
    for a in ax:
        a.set_ylabel("classes")
    save(fig, "distributions.png")

    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    ax.scatter(df[clean], df[robust], s=3, c="0.6")
    front = df[pareto_mask(df[[clean, robust]].to_numpy())].sort_values(clean)
    ax.plot(front[clean], front[robust], "r.-", label=f"Pareto front ({len(front)})")
    ax.set_xlabel(clean)
    ax.set_ylabel(robust)
    ax.set_title(f"Kendall tau(clean, robust) = {q['tau_clean_robust']:.3f}", fontsize=9)
    ax.legend(fontsize=8)
    save(fig, "clean_vs_robust.png")

    fig, ax = plt.subplots(figsize=(9, 3.2))
    labels = [f"{to}<-{src}" for to, src in EDGES]
    x = np.arange(len(EDGES))
    width = 0.16
    top, allf = np.array(q["op_freq_top5"]), np.array(q["op_freq_all"])
    for k, op in enumerate(OPS):
        ax.bar(x + (k - 2) * width, top[:, k] - allf[:, k], width, label=op)
    ax.axhline(0, c="k", lw=0.5)
    ax.set_xticks(x, labels)
    ax.set_ylabel("op frequency: top 5% robust - all")
    ax.legend(fontsize=7, ncol=5)
    save(fig, "op_frequency_top5.png")

    short = {"none": "none", "skip_connect": "skip", "nor_conv_1x1": "conv1x1", "nor_conv_3x3": "conv3x3",
             "avg_pool_3x3": "pool3x3"}
    fig, ax = plt.subplots(1, 2, figsize=(9, 3.6), sharey=True, layout="constrained")
    for a, key, title in ((ax[0], "op_effects_robust", "robust"), (ax[1], "op_effects_clean", "clean")):
        effects = np.array(q[key], dtype=float)
        image = a.imshow(effects, cmap="RdBu", vmin=-0.25, vmax=0.25)
        for (e, k), v in np.ndenumerate(effects):
            if np.isfinite(v):
                a.text(k, e, f"{v:+.2f}", ha="center", va="center", fontsize=7, color="w" if abs(v) > 0.17 else "k")
        a.set_xticks(range(len(OPS)), [short.get(op, op) for op in OPS], fontsize=8)
        a.set_title(f"op effects, {title} (mean percentile rank - 0.5)", fontsize=9)
    ax[0].set_yticks(range(len(EDGES)), labels)
    fig.colorbar(image, ax=ax, shrink=0.8)
    fig.savefig(out / "op_effects.png", dpi=110)
    plt.close(fig)

    lines = [f"# Quality report: {bench.name} / {bench.dataset}", "",
             f"{q['classes']} classes; clean = `{clean}`, robust = `{robust}` (final epoch, seed mean).", "",
             "| check | value | threshold | pass |", "|---|---|---|---|",
             f"| robust p95 - p5 | {q['robust_p5_p95_span']:.3f} ({q['robust_p5']:.3f}..{q['robust_p95']:.3f}) | "
             f">= {THRESHOLDS['robust_p5_p95_span_min']} | {q['checks']['robust_p5_p95_span']} |",
             f"| Kendall tau(clean, robust) | {q['tau_clean_robust']:.3f} | <= {THRESHOLDS['tau_clean_robust_max']} | "
             f"{q['checks']['tau_clean_robust']} |",
             f"| median seed std / inter-class std (robust) | {q['median_seed_std']:.4f} / {q['inter_class_std']:.4f}"
             f" = {q['seed_noise_ratio']:.3f} ({q['seed_classes']} classes with >= 2 seeds) | < 1/3 | "
             f"{q['checks']['seed_noise_ratio']} |", "",
             f"Ranges: clean {q['clean_range'][0]:.3f}..{q['clean_range'][1]:.3f}, robust "
             f"{q['robust_range'][0]:.3f}..{q['robust_range'][1]:.3f}.", "",
             "## Early epochs vs final epoch (Kendall tau over classes)", "", "| epoch | clean | robust |",
             "|---|---|---|"]
    lines += [f"| {e} | {v['clean']:.3f} | {v['robust']:.3f} |" for e, v in q["tau_epoch_vs_final"].items()]
    lines += ["", "## Op frequencies among the top 5% robust classes", "",
              f"Convolutions on the three edges into the output node: {q['conv_into_output_top5']:.3f} of the top-5% "
              f"classes' edges vs {q['conv_into_output_all']:.3f} over all classes (the paper finds robust "
              f"architectures favour convolutions there).", "", "![clean vs robust](clean_vs_robust.png)", "",
              "![distributions](distributions.png)", "", "![op frequency](op_frequency_top5.png)", "",
              "## What the table rewards", "",
              "Mean percentile rank of robust accuracy (clean in brackets) among all cells, minus 0.5, over "
              "the cells with each operation on each edge, every class counted once (its value spread evenly "
              "over its cells); 0 is average, +0.10 ten percentile points above the average cell.", "",
              "| edge | " + " | ".join(OPS) + " |", "|---|" + "---|" * len(OPS)]
    lines += [f"| {src}->{to} | " + " | ".join(f"{q['op_effects_robust'][e][k]:+.2f} ({q['op_effects_clean'][e][k]:+.2f})"
                                               for k in range(len(OPS))) + " |" for e, (to, src) in enumerate(EDGES)]
    lines += ["", "![op effects](op_effects.png)", ""]
    if "time_tau_flops" in q:
        lines += ["## Recorded training time and the simulated clock", "",
                  f"Kendall tau of a class's recorded training seconds (all epochs, seed mean) with its FLOPs: "
                  f"{q['time_tau_flops']:.3f}."
                  + (f" Between two seeds of the same class ({q['time_seed_classes']} classes): tau "
                     f"{q['time_tau_seeds']:.3f}, ratio {q['time_seed_ratio_p5_p95'][0]:.2f}.."
                     f"{q['time_seed_ratio_p5_p95'][1]:.2f} (5th..95th percentile). A tau well below 1 means the "
                     "seconds carry the machine's load while the class trained as much as the class's own cost."
                     if "time_tau_seeds" in q else "")]
        if "clock" in q:
            c = q["clock"]
            lines += ["", "A simulated-time axis (Syne Tune's simulator, `robbench compare`'s time axis) charges the "
                      "op-count model of these seconds (`Benchmark.clock`; a median regression on every recorded run, "
                      f"{c['runs']} runs): seconds per epoch = {c['constant']:.4f} + "
                      + " + ".join(f"{c[op]:.4f} x {op}" for op in OPS if op != "none")
                      + " (edges holding each operation)."
                      + (f" Fitted on the {q['time_model_classes']} classes with one seed alone, the model ranks the "
                         f"second seed's seconds at tau {q['time_tau_model_seeds']:.3f}, the first seed at "
                         f"{q['time_tau_seeds']:.3f}." if "time_tau_model_seeds" in q else "")]
        lines += [""]
    atomic_write_bytes(out / "report.md", "\n".join(lines).encode())
    return q
