"""The comparison's tables: per task, one row per searcher (final regret, IGD+ and hypervolume with
95% bootstrap intervals, the Holm-corrected p against random search, the smallest budget from which
it differs from random search, classes seen, simulated time); across tasks, the IQM of the regret
with its stratified bootstrap interval and the mean final rank. Each as Markdown and as a LaTeX
table (booktabs)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .analysis import ALPHA, Aggregate, TaskResult


def _p(v: float) -> str:
    return "" if v != v else f"{v:.3g}"


def _differs(row) -> str:
    return "" if row.differs_from_budget != row.differs_from_budget else f"{row.differs_how} from {row.differs_from_budget:.0f}"


def task_rows(result: TaskResult) -> list[list[str]]:
    """The per-task table as strings: header row, then one row per searcher (lowest regret first)."""
    head = ["searcher", "regret (95% CI)", "IGD+ (95% CI)", "HV / true HV", "p vs random (Holm)",
            "differs from random", "classes seen", "sim. time (h)"]
    rows = [[r.searcher, f"{r.regret:.4f} [{r.regret_lo:.4f}, {r.regret_hi:.4f}]",
             f"{r.igd_plus:.4f} [{r.igd_plus_lo:.4f}, {r.igd_plus_hi:.4f}]", f"{r.hv:.4f}", _p(r.p_vs_random_holm),
             _differs(r), f"{r.distinct_classes:.0f}", f"{r.sim_time_h:.2f}"] for r in result.summary.itertuples()]
    return [head] + rows


def aggregate_rows(agg: Aggregate) -> list[list[str]]:
    head = ["searcher", "IQM regret (95% stratified CI)", "mean regret", "mean final rank"]
    return [head] + [[r.searcher, f"{r.iqm_regret:.4f} [{r.iqm_lo:.4f}, {r.iqm_hi:.4f}]", f"{r.mean_regret:.4f}",
                      f"{agg.mean_ranks[r.searcher]:.2f}"] for r in agg.iqm.itertuples()]


def markdown(rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows[1:]])


_TEX = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{",
        "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def tex_escape(text: str) -> str:
    return "".join(_TEX.get(c, c) for c in text)


def latex(rows: list[list[str]], caption: str, label: str) -> str:
    """A booktabs table (``\\toprule``/``\\midrule``/``\\bottomrule``; needs ``\\usepackage{booktabs}``)."""
    cols = "l" + "r" * (len(rows[0]) - 1)
    body = [" & ".join(tex_escape(c) for c in r) + r" \\" for r in rows[1:]]
    return "\n".join([r"\begin{table}[t]", r"\centering", rf"\caption{{{tex_escape(caption)}}}",
                      rf"\label{{{label}}}", rf"\begin{{tabular}}{{{cols}}}", r"\toprule",
                      " & ".join(tex_escape(c) for c in rows[0]) + r" \\", r"\midrule", *body, r"\bottomrule",
                      r"\end{tabular}", r"\end{table}", ""])


def task_caption(result: TaskResult) -> str:
    spec, c = result.spec, result.cspec
    seed_note = " (the mean over each class's training seeds)" if spec.seed == "mean" else ""
    ref = ", ".join(f"{m} {v * sign:.4g}" for m, v, sign in zip(spec.metrics, spec.reference_point(), spec.signs()))
    return (f"{result.label}: objectives {list(spec.metrics)} ({', '.join(spec.directions)}); budget {c.budget} full "
            f"evaluations; {result.seeds} seeds; every searcher sees the table's values at table seed "
            f"{spec.seed!r}{seed_note}. Hypervolume reference point: each objective's worst value over the table "
            f"({ref}); regret = 1 - HV / true front's HV; IGD+ on objectives scaled to [0, 1] between the table's "
            f"worst and best values. Intervals: 95% percentile bootstrap of the mean over seeds. p: two-sided "
            f"Mann-Whitney U test of the per-seed regret against random search's, Holm-corrected over the "
            f"searchers. 'differs from random': the smallest budget (of 10%, 20%, ..., 100% of the full one) from "
            f"which that test stays below {ALPHA} at every larger budget, and in which direction.")


def aggregate_caption(agg: Aggregate) -> str:
    return (f"Over {len(agg.tasks)} task(s) ({'; '.join(agg.tasks)}): interquartile mean (IQM) of the final "
            f"hypervolume regret over every (task, seed) run, with a 95% stratified bootstrap interval (each task's "
            f"runs resampled on their own); mean final rank: each task ranks the searchers by mean final regret "
            f"over seeds (1 = best). Friedman p = {_p(agg.friedman_p) or 'n/a'}, Nemenyi critical difference "
            f"{agg.cd:.2f} (alpha {ALPHA}).")


def task_frame_csv(result: TaskResult) -> bytes:
    return result.summary.to_csv(index=False).encode()


def aggregate_frame_csv(agg: Aggregate) -> bytes:
    frame = agg.iqm.assign(mean_final_rank=[float(agg.mean_ranks[s]) for s in agg.iqm.searcher])
    return frame.to_csv(index=False).encode()


def finals_frame(result: TaskResult) -> pd.DataFrame:
    """Every run's final figures (one row per searcher and seed)."""
    return pd.DataFrame([{"searcher": s, "seed": seed, **f} for s in result.searchers
                         for seed, f in enumerate(result.finals[s])]).astype({"seed": np.int64})
