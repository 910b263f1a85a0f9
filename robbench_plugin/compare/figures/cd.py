"""Across tasks: the critical-difference diagram of the searchers' final ranks (each task ranks the
searchers by their mean final regret over seeds; Friedman's test, Nemenyi's post-hoc test and its
critical difference at alpha 0.05; searchers joined by a bar are not distinguishable), drawn with
scikit-posthocs."""
from __future__ import annotations

import re
from pathlib import Path

from . import save


def _get_cd_info(agg) -> dict:
    return {"tasks": agg.tasks, "mean_ranks": {s: float(v) for s, v in agg.mean_ranks.items()},
            "friedman_p": agg.friedman_p, "cd": agg.cd,
            "nemenyi_p": {a: {b: float(agg.nemenyi_p.loc[a, b]) for b in agg.nemenyi_p.columns}
                          for a in agg.nemenyi_p.index}}


def plot_cd(info: dict, stem: str | Path) -> list[Path]:
    import pandas as pd
    import scikit_posthocs

    from ...plotting import pyplot

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7.0, 2.2 + 0.25 * len(info["mean_ranks"])))
    # scikit-posthocs walks sets of the labels it is given: with names (strings) that order follows the
    # process's hash seed and the drawing changes byte-wise from run to run. It is given the names'
    # positions (small integers, whose sets have one order) and the labels are written back after.
    names = sorted(info["mean_ranks"])
    ranks = pd.Series({i: info["mean_ranks"][n] for i, n in enumerate(names)})
    sig = pd.DataFrame(info["nemenyi_p"]).loc[names, names]
    sig.index = sig.columns = range(len(names))
    drawn = scikit_posthocs.critical_difference_diagram(ranks, sig, cd=info["cd"], ax=ax,
                                                        label_fmt_left="@{label}@ ({rank:.2g})",
                                                        label_fmt_right="({rank:.2g}) @{label}@")
    for text in drawn["labels"]:
        text.set_text(re.sub(r"@(\d+)@", lambda m: names[int(m.group(1))], text.get_text()))
    ax.set_title(f"final ranks over {len(info['tasks'])} task(s): Friedman p = {info['friedman_p']:.3g}, "
                 f"Nemenyi CD = {info['cd']:.2f}", fontsize=9, pad=24)
    fig.tight_layout()
    return save(fig, stem)
