"""Syne Tune's environment, tamed: its GPU probe answered without writing a file, and its output
folder (``SYNETUNE_FOLDER``, by default ``~/syne-tune``) moved where the caller says for a block.
Importing this module imports Syne Tune (a :class:`~robbench_plugin.errors.MissingExtraError`
naming the pip command when it is absent) and answers the probe once."""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

try:
    import syne_tune  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the extra
    from ...errors import MissingExtraError

    raise MissingExtraError("syne-tune", "syne-tune") from exc


def _probe_gpus_quietly() -> None:
    """Answer Syne Tune's GPU probe before it runs: its ``get_num_gpus`` writes ``std.out`` into the
    working directory (running ``nvidia-smi``); we count the GPUs the same way without a file and
    hand the count to its cache, so no Syne Tune backend leaves a file where the user stands."""
    import subprocess

    import syne_tune.num_gpu as num_gpu

    if getattr(num_gpu, "_num_gpus", 0) is not None or shutil.which("nvidia-smi") is None:
        if getattr(num_gpu, "_num_gpus", 0) is None:
            num_gpu._num_gpus = 0
        return
    try:
        out = subprocess.run(["nvidia-smi", "--list-gpus"], capture_output=True, text=True, timeout=10)
        num_gpu._num_gpus = len(out.stdout.splitlines()) if out.returncode == 0 else 0
    except (OSError, subprocess.TimeoutExpired):
        num_gpu._num_gpus = 0


_probe_gpus_quietly()


@contextlib.contextmanager
def output_folder(path: str | Path | None = None) -> Iterator[Path]:
    """Where Syne Tune writes its tuner folders for the block (it reads ``SYNETUNE_FOLDER``, by
    default ``~/syne-tune``): ``path``, or a temporary directory removed afterwards (simulated runs
    return everything as a frame). The variable is restored after the block."""
    old = os.environ.get("SYNETUNE_FOLDER")
    with contextlib.ExitStack() as stack:
        folder = Path(path) if path is not None else Path(stack.enter_context(
            tempfile.TemporaryDirectory(prefix="robbench-syne-tune-")))
        folder.mkdir(parents=True, exist_ok=True)
        os.environ["SYNETUNE_FOLDER"] = str(folder)
        try:
            yield folder
        finally:
            if old is None:
                os.environ.pop("SYNETUNE_FOLDER", None)
            else:
                os.environ["SYNETUNE_FOLDER"] = old
