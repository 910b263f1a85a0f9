"""``robbench search``: an Optuna study on a benchmark, its Pareto front against the table's.

Writes to ``out``: ``trials.csv`` (every trial: number, arch, uid, objective values),
``front.csv`` (the found Pareto front), ``summary.json`` (hypervolume found / true, reference
point) and ``pareto.png`` (table classes, true front, evaluated and found points; the first two
objectives).
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .fileutil import atomic_write_json
from .loader import DEFAULT_BENCHMARK


def plot_front(spec, evaluated: np.ndarray, found: np.ndarray, path: str | Path, title: str) -> Path:
    """Scatter of the table, its true front, the evaluated and the found points (objectives 0, 1),
    with an inset that zooms on the true and the found front (where the search is decided)."""
    from .plotting import pyplot, save_figure

    plt = pyplot()

    m = spec.metrics
    table = spec.table_frame()
    true = spec.true_front().sort_values(m[0])
    fig, ax = plt.subplots(figsize=(6, 4.5), dpi=120)

    def draw(where, labels: bool) -> None:
        where.scatter(table[m[0]], table[m[1]], s=4, c="0.8", label=f"table ({len(table)} classes)" if labels else None)
        where.plot(true[m[0]], true[m[1]], "k.-", lw=1, ms=5, label=f"true front ({len(true)})" if labels else None)
        if len(evaluated):
            where.scatter(evaluated[:, 0], evaluated[:, 1], s=10, c="tab:blue", alpha=0.6,
                          label="evaluated" if labels else None)
        if len(found):
            where.scatter(found[:, 0], found[:, 1], s=36, facecolors="none", edgecolors="tab:red", lw=1.5,
                          label="found front" if labels else None)

    draw(ax, True)
    fronts = np.vstack([true[m[:2]].to_numpy()] + ([found[:, :2]] if len(found) else []))
    low, high = fronts.min(axis=0), fronts.max(axis=0)
    span = np.ptp(table[m[:2]].to_numpy(), axis=0)
    pad = np.maximum((high - low) * 0.6, span * 0.01)
    inset = ax.inset_axes([0.56, 0.08, 0.41, 0.41])
    draw(inset, False)
    inset.set_xlim(low[0] - pad[0], high[0] + pad[0])
    inset.set_ylim(low[1] - pad[1], high[1] + pad[1])
    inset.tick_params(labelsize=6)
    ax.indicate_inset_zoom(inset, edgecolor="0.4")
    ax.set_xlabel(f"{m[0]} ({spec.directions[0]})")
    ax.set_ylabel(f"{m[1]} ({spec.directions[1]})")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return save_figure(fig, path)


def random_search_hypervolume(spec, trials: int, seed: int) -> float:
    """Hypervolume of the feasible cells random search draws in ``trials`` trials with ``seed``
    (the baseline ``robbench search`` reports beside the sampler; ``robbench compare``'s random)."""
    from .space import Arch

    picks = [a.index for a in Arch.sample(trials, rng=seed)]
    feasible = [i for i in picks if all(v <= 0 for v in spec.constraint_values(i).values())]
    return spec.hypervolume([spec.evaluate(i) for i in feasible]) if feasible else 0.0


def run_search(benchmark: str = DEFAULT_BENCHMARK, objectives: Sequence[str] = ("clean", "robust"),
               sampler: str = "tpe", trials: int = 200, out: str | Path = "robbench-search", seed: int = 0,
               dataset: str | None = None,
               data_dir: str | None = None, storage: str | None = None, study_name: str | None = None,
               constraints: dict[str, float] | None = None, plot: bool = True, mode: str = "tabular",
               table_seed: str = "mean", **load_kw: Any) -> dict[str, Any]:
    """Run the study and write the report; returns the summary dict. ``load_kw`` go to
    :func:`~robbench_plugin.load_benchmark` (live mode: ``recipe``, ``store``, ``device``).

    On a benchmark that is not complete (live mode) the reference front is the front of the
    classes trained so far and no random-search baseline is run (it would train more classes)."""
    import optuna

    from .adapters.optuna import RobustNASProblem, make_sampler

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    problem = RobustNASProblem(benchmark, dataset=dataset, objectives=list(objectives), data_dir=data_dir,
                               constraints=constraints, mode=mode, seed=table_seed, **load_kw)
    spec = problem.spec
    t0 = time.perf_counter()
    study = optuna.create_study(directions=problem.directions, sampler=make_sampler(sampler, seed=seed),
                                storage=storage, study_name=study_name, load_if_exists=storage is not None)
    study.optimize(problem, n_trials=trials)
    elapsed = time.perf_counter() - t0
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    rows = [{"number": t.number, "arch": t.user_attrs["arch"], "uid": t.user_attrs["uid"],
             **dict(zip(spec.metrics, t.values)), "params": t.user_attrs["metrics"].get("params")} for t in done]
    df = pd.DataFrame(rows)
    best = {t.number for t in study.best_trials}
    front = df[df["number"].isin(best)].drop_duplicates("uid").sort_values(spec.metrics[0],
                                                                            ascending=spec.directions[0] == "minimize")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    df.to_csv(out / "trials.csv", index=False)
    front.to_csv(out / "front.csv", index=False)
    hv_found = spec.hypervolume(front[spec.metrics].to_numpy()) if len(front) else 0.0
    hv_true = spec.true_hypervolume()
    complete = problem.benchmark.complete
    hv_random = random_search_hypervolume(spec, len(done), seed) if complete else float("nan")
    summary = {"benchmark": problem.benchmark.name, "dataset": problem.benchmark.dataset,
               "objectives": spec.metrics, "directions": spec.directions, "sampler": sampler, "seed": seed,
               "trials": len(done), "unique_classes": int(df["uid"].nunique()) if len(df) else 0,
               "front_size": len(front), "true_front_size": len(spec.true_front()),
               "hypervolume": hv_found, "true_hypervolume": hv_true,
               "hypervolume_ratio": hv_found / hv_true if hv_true > 0 else float("nan"),
               "regret": 1 - hv_found / hv_true if hv_true > 0 else float("nan"),
               "random_search_hypervolume_ratio": hv_random / hv_true if hv_true > 0 else float("nan"),
               "random_search_regret": 1 - hv_random / hv_true if hv_true > 0 else float("nan"),
               "reference_point_max_space": spec.reference_point().tolist(), "seconds": elapsed,
               "complete": complete, "classes_known": int(len(problem.benchmark.uids))}
    atomic_write_json(out / "summary.json", summary)
    if plot and len(spec.metrics) >= 2:
        evaluated = df[spec.metrics[:2]].to_numpy() if len(df) else np.empty((0, 2))
        plot_front(spec, evaluated, front[spec.metrics[:2]].to_numpy(), out / "pareto.png",
                   f"{sampler}, {len(done)} trials on {summary['benchmark']}/{summary['dataset']}: "
                   f"HV {summary['hypervolume_ratio']:.3f} of the true front")
    return summary
