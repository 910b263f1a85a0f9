"""``robbench compare``: the same objective and budget for searchers of several frameworks.

Searchers are named ``framework:name`` (see :data:`SEARCHERS`); a framework that is not
installed is skipped with a line saying so, unless all its runs are already in ``<out>/runs``
(so NASLib, which needs its own environment, can run there into the same output directory).
Every (searcher, seed) run is written to ``<out>/runs/<searcher>__<seed>.csv`` atomically and
skipped when re-running (resumable); runs go to parallel processes.

Budget: ``budget`` full evaluations. Full-fidelity searchers (Syne Tune's included, by trials)
get ``budget`` evaluations; a multi-fidelity searcher (MOASHA) gets the simulated time that
``budget`` evaluations of the average architecture (over all 15625, as random search draws them)
take, so it may look at many more classes, each for fewer epochs: Syne Tune's simulator stops
when the summed training time of its trials reaches that, and rows past it are dropped (the
clock waits a tenth of the shortest epoch between polls, not Syne Tune's 5 s default, which on
this table's sub-second epochs would spend most of the budget waiting). Each run's rows carry
``evals`` (full-evaluation equivalents: epochs trained so far / final epoch) and ``sim_time``
(cumulative tabulated training seconds, one worker) so runs are compared on both axes.

NASLib's searchers are single-objective: they maximize the one objective, or 0.5 x clean +
0.5 x robust for ``clean,robust``
(:func:`robbench_plugin.adapters.naslib.naslib_objective`); every architecture they evaluate
counts towards the hypervolume like any other searcher's.

Hypervolume uses only full-fidelity results, in max-space with the reference point of
:meth:`ProblemSpec.reference_point` (each objective's worst value over the table), reported as a
fraction of the true front's hypervolume; regret = 1 - that fraction; IGD+, bootstrap intervals
and rank tests against random search in :func:`summarize`. Every searcher sees the comparison's
table seed, a run repeats exactly, and ``<out>/comparison.json`` ties the runs to their settings
(:meth:`CompareSpec.identity`).
"""
from __future__ import annotations

import importlib
import importlib.util
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from .errors import InvalidChoiceError, RobBenchError
from .fileutil import atomic_write_bytes, atomic_write_json
from .loader import load_benchmark
from .problem import ProblemSpec

SEARCHERS = {
    "random": ("core", None),
    "optuna:tpe": ("optuna", "tpe"), "optuna:nsga2": ("optuna", "nsga2"), "optuna:nsga3": ("optuna", "nsga3"),
    "optuna:gp": ("optuna", "gp"), "optuna:random": ("optuna", "random"),
    "syne-tune:moasha": ("syne_tune", "moasha"), "syne-tune:morea": ("syne_tune", "morea"),
    "syne-tune:morandom": ("syne_tune", "morandom"),
    "naslib:re": ("naslib", "re"), "naslib:ls": ("naslib", "ls"), "naslib:rs": ("naslib", "rs"),
    "naslib:bananas": ("naslib", "bananas"), "naslib:npenas": ("naslib", "npenas"),
}
FRAMEWORK_PACKAGE = {"core": None, "optuna": "optuna", "syne_tune": "syne_tune", "naslib": "naslib"}


@dataclass(frozen=True)
class CompareSpec:
    """What a comparison runs on: the benchmark, the objectives, the budget (full evaluations per
    run) and the table seed every searcher's values come from (one seed policy for all: a label,
    or ``mean`` over each class's training seeds)."""

    benchmark: str = "digits"
    dataset: str | None = None
    data_dir: str | None = None
    mode: str = "tabular"
    objectives: tuple[str, ...] = ("clean", "robust")
    budget: int = 200
    table_seed: str = "mean"

    def load(self):
        return load_benchmark(self.benchmark, dataset=self.dataset, data_dir=self.data_dir, mode=self.mode)

    def identity(self, bench=None) -> dict:
        """Everything that determines a run besides its searcher and seed: benchmark name and table
        sha256, dataset, mode, objectives, budget, table seed and package version. Runs in one
        output folder share it (``comparison.json``)."""
        from ._version import __version__

        bench = bench if bench is not None else self.load()
        return {"benchmark": self.benchmark, "table_sha256": bench.table.sha256(), "dataset": bench.dataset,
                "mode": self.mode, "objectives": list(self.objectives), "budget": int(self.budget),
                "table_seed": self.table_seed, "robbench_plugin": __version__}


def available(searcher: str) -> tuple[bool, str]:
    """(usable, reason) for a searcher name."""
    if searcher not in SEARCHERS:
        raise InvalidChoiceError("searcher", searcher, list(SEARCHERS))
    framework, _ = SEARCHERS[searcher]
    pkg = FRAMEWORK_PACKAGE[framework]
    if pkg is not None and importlib.util.find_spec(pkg) is None:
        extra = {"optuna": "optuna", "syne_tune": "syne-tune"}.get(framework)
        how = f"pip install 'robbench-plugin[{extra}]'" if extra else "see docs/naslib.md (not on PyPI)"
        return False, f"{framework} is not installed ({how})"
    return True, ""


def random_trace(budget: int, seed: int) -> pd.DataFrame:
    """Random search: ``budget`` cells drawn uniformly from the 15625 (with repetition), in order."""
    from .space import Arch

    return pd.DataFrame({"index": [a.index for a in Arch.sample(budget, rng=seed)]})


def _rows(spec: ProblemSpec, bench, trace: pd.DataFrame, searcher: str, seed: int) -> pd.DataFrame:
    """A run's evaluation rows from a searcher trace (see :func:`run_one`), in order."""
    idx = trace["index"].to_numpy(dtype=np.int64)
    final = bench.final_fidelity(spec.metrics[0]) or 0
    epochs = trace["epoch"].to_numpy(dtype=np.int64) if "epoch" in trace else np.full(len(idx), final)
    trained = trace["epochs_trained"].to_numpy(dtype=float) if "epochs_trained" in trace else epochs.astype(float)
    runtime = (trace["runtime"].to_numpy(dtype=float) if "runtime" in trace
               else np.array([bench.train_time(int(i), int(e)) for i, e in zip(idx, epochs)]))
    q = pd.concat([bench.query_many(idx[epochs == f], spec.metrics, seed=spec.seed, fidelity=int(f))
                   .set_index(np.flatnonzero(epochs == f)) for f in np.unique(epochs)]).sort_index() \
        if len(idx) else pd.DataFrame({"uid": [], **{m: [] for m in spec.metrics}})
    return pd.DataFrame({"searcher": searcher, "seed": seed, "evals": np.cumsum(trained) / max(final, 1),
                         "sim_time": np.cumsum(runtime), "index": idx, "uid": q["uid"].to_numpy(),
                         "fidelity": epochs, "full": epochs == final,
                         **{m: q[m].to_numpy() for m in spec.metrics}})


def run_one(searcher: str, seed: int, cspec: CompareSpec) -> pd.DataFrame:
    """One run of ``searcher`` with ``seed``; returns its evaluation rows.

    Each framework's adapter answers ``searcher_trace(name, bench, objectives, budget, seed)``
    with what its searcher evaluated, in order: a frame with ``index`` (NB201 index) and, for
    multi-fidelity searchers, ``epoch`` (fidelity reached), ``epochs_trained`` (epochs this row
    adds) and ``runtime`` (simulated seconds this row adds); rows default to full evaluations.
    The values themselves are always read here, from the one benchmark of the comparison."""
    bench = cspec.load()
    spec = ProblemSpec(bench, list(cspec.objectives), seed=cspec.table_seed)
    framework, name = SEARCHERS[searcher]
    if framework == "core":
        trace = random_trace(cspec.budget, seed)
    else:
        adapter = importlib.import_module(f".adapters.{framework}", __package__)
        trace = adapter.searcher_trace(name, bench, list(cspec.objectives), cspec.budget, seed,
                                       table_seed=spec.seed)
    rows = _rows(spec, bench, trace, searcher, seed)
    if rows.empty:
        raise RobBenchError(f"{searcher} (seed {seed}) evaluated nothing within the budget of {cspec.budget}")
    return rows


def _run_to_file(args: tuple[str, int, CompareSpec, str]) -> str:
    searcher, seed, cspec, path = args
    df = run_one(searcher, seed, cspec)
    atomic_write_bytes(path, df.to_csv(index=False).encode())
    return path


def run_path(out: Path, searcher: str, seed: int) -> Path:
    """The CSV of one (searcher, seed) run under ``out``."""
    return out / "runs" / f"{searcher.replace(':', '_')}__{seed}.csv"


def hv_curve(spec: ProblemSpec, run: pd.DataFrame, axis: str, grid: np.ndarray) -> np.ndarray:
    """Hypervolume fraction of the true front reached by full-fidelity results up to each grid
    value of ``axis`` (``evals`` or ``sim_time``)."""
    true_hv = spec.true_hypervolume()
    full = run[run["full"]].sort_values(axis)
    vals = full[spec.metrics].to_numpy()
    ax = full[axis].to_numpy()
    return np.array([spec.hypervolume(vals[ax <= g]) / true_hv if (ax <= g).any() else 0.0 for g in grid])


def compare(searchers: Sequence[str], seeds: int, cspec: CompareSpec, out: str | Path, workers: int = 2,
            log=print) -> pd.DataFrame:
    """Run (or resume) every searcher x seed; write CSV, plots and summary; return the summary.

    ``out`` keeps the comparison's identity (:meth:`CompareSpec.identity`) in ``comparison.json``:
    resuming into a folder made with other settings (benchmark, table, objectives, budget, table
    seed, package version) is refused, so a report never mixes runs of different settings."""
    out = Path(out)
    identity = cspec.identity()
    _claim_folder(out, identity)
    (out / "runs").mkdir(parents=True, exist_ok=True)
    jobs, usable = [], []
    for s in searchers:
        ok, why = available(s)
        if not ok:
            finished = all(run_path(out, s, seed).is_file() for seed in range(seeds))
            if finished:  # e.g. NASLib's runs made in another environment into the same --out
                log(f"using the finished runs of {s} ({why})")
                usable.append(s)
            else:
                log(f"skipping {s}: {why}")
            continue
        usable.append(s)
        for seed in range(seeds):
            path = run_path(out, s, seed)
            if path.is_file():
                continue
            jobs.append((s, seed, cspec, str(path)))
    log(f"{len(jobs)} runs to do ({len(usable) * seeds - len(jobs)} already done)")
    if jobs:
        if workers > 1:
            import multiprocessing as mp

            with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn")) as ex:
                for p in ex.map(_run_to_file, jobs):
                    log(f"done {Path(p).name}")
        else:
            for j in jobs:
                log(f"done {Path(_run_to_file(j)).name}")
    runs = pd.concat([pd.read_csv(run_path(out, s, seed))
                      for s in usable for seed in range(seeds)], ignore_index=True)
    atomic_write_bytes(out / "evaluations.csv", runs.to_csv(index=False).encode())
    return summarize(runs, cspec, out, usable, seeds)


def _claim_folder(out: Path, identity: dict) -> None:
    """Write ``comparison.json``, or check that the folder's comparison is this one."""
    import json

    path = out / "comparison.json"
    if path.is_file():
        try:
            have = json.loads(path.read_text())
        except ValueError as exc:
            raise RobBenchError(f"{path} is not valid JSON ({exc}); remove the folder or use another --out") from exc
        differ = sorted(k for k in identity if have.get(k) != identity[k])
        if differ:
            shown = "; ".join(f"{k}: {have.get(k)!r} there, {identity[k]!r} now" for k in differ)
            raise RobBenchError(f"{out} holds runs of another comparison ({shown}); use another --out, or remove "
                                "that folder to start over")
        return
    if (out / "runs").is_dir() and any((out / "runs").glob("*.csv")):
        raise RobBenchError(f"{out} holds runs without a comparison.json (made by an older version); use another "
                            "--out, or remove that folder to start over")
    atomic_write_json(path, identity)


def run_indicators(spec: ProblemSpec, run: pd.DataFrame) -> dict[str, float]:
    """Final figures of one run from its full-fidelity results: ``hv`` (fraction of the true
    front's hypervolume), ``regret`` (1 - hv) and ``igd_plus`` (IGD+ of its front to the true front,
    objectives scaled to [0, 1] between the table's worst and best values)."""
    from .pareto import igd_plus, pareto_mask

    vals = run[run["full"]][spec.metrics].to_numpy()
    hv = spec.hypervolume(vals) / spec.true_hypervolume() if len(vals) else 0.0
    front = spec.normalized(vals[pareto_mask(vals * spec.signs())]) if len(vals) else np.empty((0, len(spec.metrics)))
    return {"hv": hv, "regret": 1.0 - hv,
            "igd_plus": igd_plus(front, spec.normalized(spec.true_front()[spec.metrics].to_numpy()))}


def summarize(runs: pd.DataFrame, cspec: CompareSpec, out: Path, searchers: Sequence[str], seeds: int
              ) -> pd.DataFrame:
    """Per searcher: final hypervolume fraction, regret and IGD+ (mean and 95% bootstrap interval
    over seeds), and a two-sided rank test of the per-seed regret against random search's, Holm-
    corrected over the searchers; curves of the regret (log axis) over evaluations and simulated
    time; the final fronts of seed 0. Writes summary.md, summary.csv and curves.png."""
    from .pareto import pareto_mask
    from .plotting import pyplot
    from .stats import bootstrap_ci, holm, rank_test

    plt = pyplot()
    bench = cspec.load()
    spec = ProblemSpec(bench, list(cspec.objectives), seed=cspec.table_seed)
    grid_e = np.linspace(1, cspec.budget, 50)
    grid_t = np.linspace(0, float(runs["sim_time"].max()), 50)
    floor = 1e-4  # regret shown on a log axis: 0 (the true front reached) is drawn at this floor
    rows, per_seed = [], {}
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    for s in searchers:
        curves_e, curves_t, finals = [], [], []
        for seed in range(seeds):
            r = runs[(runs.searcher == s) & (runs.seed == seed)]
            curves_e.append(1 - hv_curve(spec, r, "evals", grid_e))
            curves_t.append(1 - hv_curve(spec, r, "sim_time", grid_t))
            finals.append(run_indicators(spec, r))
        per_seed[s] = finals
        for ax, grid, c in ((axes[0], grid_e, np.array(curves_e)), (axes[1], grid_t, np.array(curves_t))):
            ax.plot(grid, np.maximum(np.median(c, 0), floor), label=s)
            ax.fill_between(grid, np.maximum(np.quantile(c, 0.25, 0), floor), np.maximum(np.quantile(c, 0.75, 0), floor),
                            alpha=0.15)
        row = {"searcher": s, "seeds": seeds}
        for key in ("hv", "regret", "igd_plus"):
            x = [f[key] for f in finals]
            lo, hi = bootstrap_ci(x)
            row.update({key: float(np.mean(x)), f"{key}_lo": lo, f"{key}_hi": hi})
        row["distinct_classes"] = runs[runs.searcher == s].groupby("seed")["uid"].nunique().mean()
        row["sim_time_h"] = runs[runs.searcher == s].groupby("seed")["sim_time"].max().mean() / 3600
        rows.append(row)
    summary = pd.DataFrame(rows)
    if "random" in per_seed and seeds >= 2:
        others = [s for s in searchers if s != "random"]
        raw = [rank_test([f["regret"] for f in per_seed[s]], [f["regret"] for f in per_seed["random"]])
               for s in others]
        adjusted = dict(zip(others, holm(raw))) if others else {}
        summary["p_vs_random_holm"] = [adjusted.get(s, np.nan) for s in summary.searcher]
    else:
        summary["p_vs_random_holm"] = np.nan
    summary = summary.sort_values("regret").reset_index(drop=True)
    for ax in axes[:2]:
        ax.set_yscale("log")
        ax.set_ylabel("hypervolume regret (1 - HV / true HV)")
    axes[0].set_xlabel("full-evaluation equivalents")
    axes[1].set_xlabel("simulated training time (s)")
    axes[0].legend(fontsize=7)
    if len(spec.metrics) >= 2:
        true = spec.true_front().sort_values(spec.metrics[0])
        axes[2].plot(true[spec.metrics[0]], true[spec.metrics[1]], "k.-", label="true front")
        for s in searchers:
            r = runs[(runs.searcher == s) & (runs.seed == 0) & runs.full]
            pts = r[spec.metrics].to_numpy()
            f = pts[pareto_mask(pts * spec.signs())] if len(pts) else pts
            axes[2].scatter(f[:, 0], f[:, 1], s=14, label=s)
        axes[2].set_xlabel(spec.metrics[0])
        axes[2].set_ylabel(spec.metrics[1])
        axes[2].set_title("final fronts (seed 0) vs the true front", fontsize=9)
        axes[2].legend(fontsize=7)
    fig.suptitle(f"{bench.name}/{bench.dataset}: {', '.join(spec.metrics)}; budget {cspec.budget}, {seeds} seeds "
                 "(median and quartiles over seeds)", fontsize=9)
    fig.tight_layout()
    fig.savefig(out / "curves.png", dpi=110)
    plt.close(fig)
    seed_note = " (the mean over each class's training seeds)" if spec.seed == "mean" else ""
    ref = ", ".join(f"{m} {v * sign:.4g}" for m, v, sign in zip(spec.metrics, spec.reference_point(), spec.signs()))
    md = [f"# Comparison on {bench.name}/{bench.dataset}", "",
          f"Objectives {spec.metrics} ({spec.directions}); budget {cspec.budget} full evaluations; {seeds} seeds; "
          f"every searcher sees the table's values at table seed {spec.seed!r}{seed_note}. Hypervolume reference "
          f"point: each objective's worst value over the table ({ref}); regret = 1 - HV / true front's HV; IGD+ "
          f"on objectives scaled to [0, 1] between the table's worst and best values. Intervals: 95% percentile "
          f"bootstrap of the mean over seeds. p: two-sided Mann-Whitney U test of the per-seed regret against "
          f"random search's, Holm-corrected over the searchers.", "",
          "| searcher | regret (95% CI) | IGD+ (95% CI) | HV / true HV | p vs random (Holm) | classes seen "
          "| sim. time (h) |", "|---|---|---|---|---|---|---|"]
    md += [f"| {r.searcher} | {r.regret:.4f} [{r.regret_lo:.4f}, {r.regret_hi:.4f}] | {r.igd_plus:.4f} "
           f"[{r.igd_plus_lo:.4f}, {r.igd_plus_hi:.4f}] | {r.hv:.4f} | "
           f"{'' if np.isnan(r.p_vs_random_holm) else f'{r.p_vs_random_holm:.3g}'} | {r.distinct_classes:.0f} "
           f"| {r.sim_time_h:.2f} |" for r in summary.itertuples()]
    md += ["", "![curves](curves.png)", ""]
    atomic_write_bytes(out / "summary.md", "\n".join(md).encode())
    atomic_write_bytes(out / "summary.csv", summary.to_csv(index=False).encode())
    return summary
