"""The benchmark's tables in Syne Tune's blackbox-repository layout, as a maintainer would host them.

Syne Tune's repository keeps each tabular blackbox as a folder written by its own ``serialize``
(``syne_tune.blackbox_repository.blackbox_tabular``): ``configspace.json``, ``fidelityspace.json``,
``hyperparameters.parquet``, ``objectives_evaluations.npy`` (tasks x configurations x seeds x
fidelities x objectives), ``fidelities_values.npy`` and ``metadata.json`` (``objectives_names``,
``task_names`` and the repository's keys ``metric_elapsed_time``, ``metric_default``, ``time_attr``,
as its ``nasbench201`` import writes them), read back by its ``deserialize``. :func:`export_blackboxes`
writes that folder with Syne Tune's ``serialize``, one task per data set of the table (the release:
each data set it holds; an embedded table: its one), the conventions of :mod:`.blackbox`, and the
package's own description under ``metadata["robbench"]`` (per task: benchmark, data set, seeds,
epochs of the fidelity levels, table sha256, where simulated time comes from), so that
:func:`read_exported` gives the blackboxes :func:`~.blackbox.load_blackbox` gives.
"""
from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any, Sequence, Union

from . import environment  # noqa: F401  (Syne Tune present, its GPU probe answered)

from syne_tune.blackbox_repository.blackbox_tabular import BlackboxTabular, deserialize, serialize  # noqa: E402

from ...errors import InvalidValueError  # noqa: E402
from .blackbox import _bench, load_blackbox, repository_metadata  # noqa: E402

CITATION = ("Wu, Liu, Simon-Gabriel, Chrysos, Cevher: Robust NAS under adversarial training: benchmark, theory, "
            "and beyond. ICLR 2024 (NAS-RobBench-201); tables other than the release are robbench-plugin's own "
            "builds in its search space")


def export_blackboxes(name: Any, out_dir: Union[str, Path], data_dir: str | None = None,
                      datasets: Sequence[str] | None = None, seeds: Union[str, Sequence[str]] = "complete") -> Path:
    """Write benchmark ``name``'s tables (``datasets``: default every data set it holds) into
    ``out_dir`` in Syne Tune's layout; ``out_dir`` must be absent or empty, and appears whole or not
    at all. Returns ``out_dir``."""
    out = Path(out_dir)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InvalidValueError(f"{out} exists and is not an empty folder; valid: a new or empty folder")
    first = _bench(name, None, "tabular", data_dir)
    tasks = list(datasets) if datasets is not None else list(first.datasets)
    bb_dict = {ds: load_blackbox(first if ds == first.dataset else name, dataset=ds, data_dir=data_dir,
                                 seeds=seeds) for ds in tasks}
    attrs = {bb.fidelity_name() for bb in bb_dict.values()}
    if len(attrs) != 1:
        raise InvalidValueError(f"the data sets {tasks} have different fidelity axes ({sorted(attrs)}); export "
                                "them one at a time (--dataset)")
    meta = repository_metadata(next(iter(bb_dict.values())))
    meta["robbench"] = {ds: bb.robbench_metadata for ds, bb in bb_dict.items()}
    meta["citation"] = CITATION
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.tmp-"))
    try:
        serialize(bb_dict, str(tmp), metadata=meta)
        if out.exists():
            out.rmdir()
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def read_exported(path: Union[str, Path]) -> dict[str, BlackboxTabular]:
    """The blackboxes of an exported folder, read with Syne Tune's ``deserialize``, each with the
    package's description as ``robbench_metadata``."""
    bbs = deserialize(str(path))
    described = json.loads((Path(path) / "metadata.json").read_text()).get("robbench", {})
    for task, bb in bbs.items():
        bb.robbench_metadata = described.get(task, {})
    return bbs
