"""Matplotlib for writing figures to files (extra ``report``): the non-interactive backend, set once."""
from __future__ import annotations

import os
import sys
from typing import Any


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the file-only ``Agg`` backend (no display is needed or opened).

    When matplotlib is first imported here and ``MPLCONFIGDIR`` is unset, its configuration and
    font cache go to ``<ROBBENCH_HOME>/matplotlib`` instead of ``~/.config`` and ``~/.cache``, so the
    package writes nothing outside its home and the user's ``--out``."""
    if "matplotlib" not in sys.modules and "MPLCONFIGDIR" not in os.environ:
        from .paths import home

        os.environ["MPLCONFIGDIR"] = str(home() / "matplotlib")
    try:
        import matplotlib
    except ImportError as exc:
        from .errors import MissingExtraError

        raise MissingExtraError("matplotlib", "report") from exc
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, path: Any) -> Any:
    """Write ``fig`` to ``path`` atomically (a reader never sees half a file), close it and return
    ``path`` as a :class:`~pathlib.Path`."""
    from pathlib import Path

    from .fileutil import atomic_path

    with atomic_path(path) as tmp:
        fig.savefig(tmp)
    pyplot().close(fig)
    return Path(path)
