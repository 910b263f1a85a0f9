"""The comparison's figures, one per module, each as Optuna's ``visualization`` does it: a
``_get_<figure>_info`` function computes the figure's data (plain numbers and lists, what tests check
and what ``figures.json`` records, so a rerun can be compared byte for byte) and a ``plot_<figure>``
function draws it. :func:`save` writes a figure as PNG and PDF."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ...fileutil import atomic_path

DPI = 110
FLOOR = 1e-4  # regret drawn on a log axis: 0 (the true front reached) is drawn at this floor


def save(fig: Any, stem: str | Path) -> list[Path]:
    """Write ``fig`` to ``<stem>.png`` and ``<stem>.pdf`` (atomically; no creation date in the PDF, so
    the same figure gives the same bytes) and close it."""
    from ...plotting import pyplot

    stem = Path(stem)
    paths = []
    for suffix, metadata in ((".png", {"Software": None}), (".pdf", {"CreationDate": None, "Producer": None})):
        path = stem.with_suffix(suffix)
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=DPI, metadata=metadata)
        paths.append(path)
    pyplot().close(fig)
    return paths
