"""Writing a comparison's results: per task its tables (``summary.md``, ``summary.csv``,
``summary.tex``), its figures (PNG and PDF) and their data (``figures.json``); across tasks the same
for the aggregate; and the HTML page of the whole comparison (:mod:`.html`)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

from ..fileutil import atomic_write_bytes
from . import html as H
from . import tables as T
from .analysis import Aggregate, TaskResult
from .figures.cd import _get_cd_info, plot_cd
from .figures.eaf import _get_eaf_info, plot_eaf
from .figures.eaf_diff import _get_eaf_diff_info, plot_eaf_diff
from .figures.fronts import _get_fronts_info, plot_fronts
from .figures.iqm import _get_iqm_info, plot_iqm
from .figures.ranks import _get_ranks_info, plot_ranks
from .figures.regret import _get_regret_info, plot_regret

FIGURE_CAPTIONS = {
    "regret_evals": "hypervolume regret against full-evaluation equivalents (mean over seeds, 95% bootstrap band)",
    "regret_time": "hypervolume regret against simulated training time (mean over seeds, 95% bootstrap band)",
    "fronts": "final fronts of seed 0 against the true front",
    "eaf": "empirical attainment surfaces (25%, 50%, 75%) of the final fronts over seeds",
    "eaf_diff": "EAF differences against random search (blue: the searcher attains more often)",
    "iqm": "IQM of the final regret over tasks and seeds, 95% stratified bootstrap interval",
    "ranks": "mean rank against the budget (fraction of each task's budget)",
    "cd": "critical-difference diagram of the final ranks (Friedman, Nemenyi)",
}


def _dump(path: Path, data: dict) -> None:
    atomic_write_bytes(path, (json.dumps(data, indent=1, sort_keys=True) + "\n").encode())


def write_task(result: TaskResult, folder: Path) -> list[str]:
    """Tables, figures and figure data of one task into ``folder``; returns the figure names drawn."""
    folder = Path(folder)
    rows = T.task_rows(result)
    caption = T.task_caption(result)
    atomic_write_bytes(folder / "summary.md", (f"# Comparison on {result.label}\n\n{caption}\n\n{T.markdown(rows)}\n"
                                               "\n![regret](regret_evals.png)\n").encode())
    atomic_write_bytes(folder / "summary.csv", T.task_frame_csv(result))
    atomic_write_bytes(folder / "finals.csv", T.finals_frame(result).to_csv(index=False).encode())
    atomic_write_bytes(folder / "summary.tex", T.latex(rows, caption, f"tab:{result.cspec.slug}").encode())
    infos = {"regret_evals": (_get_regret_info(result, "evals"), plot_regret),
             "regret_time": (_get_regret_info(result, "sim_time"), plot_regret)}
    if len(result.spec.metrics) == 2:
        infos["fronts"] = (_get_fronts_info(result), plot_fronts)
        infos["eaf"] = (_get_eaf_info(result), plot_eaf)
        if "random" in result.searchers and len(result.searchers) > 1:
            infos["eaf_diff"] = (_get_eaf_diff_info(result), plot_eaf_diff)
    for name, (info, plot) in infos.items():
        plot(info, folder / name)
    _dump(folder / "figures.json", {name: info for name, (info, _) in infos.items()})
    return list(infos)


def write_aggregate(agg: Aggregate, folder: Path) -> list[str]:
    folder = Path(folder)
    rows = T.aggregate_rows(agg)
    caption = T.aggregate_caption(agg)
    atomic_write_bytes(folder / "summary.md", (f"# Comparison over {len(agg.tasks)} tasks\n\n{caption}\n\n"
                                               f"{T.markdown(rows)}\n\n![ranks](ranks.png)\n").encode())
    atomic_write_bytes(folder / "summary.csv", T.aggregate_frame_csv(agg))
    atomic_write_bytes(folder / "summary.tex", T.latex(rows, caption, "tab:comparison").encode())
    infos = {"iqm": (_get_iqm_info(agg), plot_iqm), "ranks": (_get_ranks_info(agg), plot_ranks)}
    if not agg.nemenyi_p.empty:  # Friedman and Nemenyi need at least 3 searchers and 2 tasks
        infos["cd"] = (_get_cd_info(agg), plot_cd)
    for name, (info, plot) in infos.items():
        plot(info, folder / name)
    _dump(folder / "figures.json", {name: info for name, (info, _) in infos.items()})
    return list(infos)


def write_report(out: Path, results: Sequence[TaskResult], folders: Sequence[Path], drawn: Sequence[list[str]],
                 agg: Aggregate | None = None, agg_drawn: Sequence[str] = ()) -> Path:
    """``<out>/report.html``: identity, the aggregate (several tasks) and every task's tables and figures."""
    out = Path(out)
    seeds = results[0].seeds
    identities = [{**r.cspec.identity(r.spec.benchmark), "label": r.label} for r in results]
    versions = H.versions()
    sections = [("Identity", H.table(H.identity_rows(identities, seeds))
                 + H.table([["package", "version"]] + [[k, v] for k, v in versions.items()])
                 + f"<p class=\"note\">Searchers: {', '.join(results[0].searchers)}.</p>")]
    if agg is not None:
        inner = f"<p>{T.aggregate_caption(agg)}</p>" + H.table(T.aggregate_rows(agg)) + "".join(
            H.figure(out / f"{name}.png", out, FIGURE_CAPTIONS[name]) for name in agg_drawn)
        sections.append((f"Over {len(results)} tasks", inner))
    for r, folder, names in zip(results, folders, drawn):
        inner = f"<p>{T.task_caption(r)}</p>" + H.table(T.task_rows(r)) + "".join(
            H.figure(Path(folder) / f"{name}.png", out, FIGURE_CAPTIONS[name]) for name in names)
        sections.append((f"Task {r.label}", inner))
    title = "Comparison of searchers: " + "; ".join(r.label for r in results)
    page = out / "report.html"
    atomic_write_bytes(page, H.write_html(title, sections).encode())
    return page
