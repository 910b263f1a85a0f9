"""A small multi-fidelity table with a known generating function, for adapter tests."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd

from robbench_plugin.objective import Benchmark
from robbench_plugin.space import unique_indices
from robbench_plugin.synthetic import synthetic_scores
from robbench_plugin.table import Table, TableMeta

EPOCHS = (1, 2, 4, 8)


def curves_table(n_uids: int | None = None, seeds=("0",), epochs=EPOCHS) -> Table:
    """Per uid: clean/robust rise with epochs towards a latent quality, recorded at ``epochs``;
    time_s of every epoch up to the last grows with a latent cost. Accuracies in [0, 1]."""
    clean, robust = synthetic_scores(0)
    uids = unique_indices() if n_uids is None else unique_indices()[:n_uids]
    rows = []
    for seed in seeds:
        for u in uids:
            for e in range(1, max(epochs) + 1):
                frac = 1 - 0.5 ** e
                rows.append(("digits", u, "time_s", e, seed, 0.5 + clean[u]))
                rows.append(("digits", u, "train_loss", e, seed, 2.0 * (1 - frac)))
                if e in epochs:
                    rows.append(("digits", u, "val_acc", e, seed, 0.1 + 0.85 * clean[u] * frac))
                    rows.append(("digits", u, "val_pgd_48.0_acc", e, seed, 0.05 + 0.6 * robust[u] * frac))
    frame = pd.DataFrame(rows, columns=["dataset", "uid", "metric", "fidelity", "seed", "value"])
    meta = TableMeta(name="curves", aliases={"clean": "val_acc", "robust": "val_pgd_48.0_acc"}, C=8, N=1,
                     time_source="recorded")
    return Table.from_frame(frame, meta)


def curves_bench(**kw) -> Benchmark:
    return Benchmark(curves_table(**kw), "digits")


def top(values: np.ndarray, k: int) -> np.ndarray:
    return np.sort(values)[::-1][:k]


ROOT = Path(__file__).resolve().parents[1]


def load_script(path: str):
    """Import the repository's script at ``path`` (e.g. ``benchmarks/benchmark_goals.py``) as a module."""
    spec = importlib.util.spec_from_file_location(Path(path).stem, ROOT / path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def load_example(name: str):
    """Import ``examples/<name>.py`` as a module."""
    return load_script(f"examples/{name}.py")


def run_fresh(code: str, hash_seed: int, rng_seed: int, timeout: float = 600) -> str:
    """Run ``code`` in a new Python process (the repository on its path) and return what it prints.

    The process differs from any other in what a careless implementation could depend on: its
    ``PYTHONHASHSEED`` is ``hash_seed``, and its global ``random``/``numpy.random`` generators are
    seeded with ``rng_seed`` and advanced ``rng_seed`` draws before ``code`` runs. A determinism test
    runs the same work in two such processes with different values: equal outputs then cannot come
    from a shared process or from a generator state that happened to be restored."""
    import os
    import subprocess
    import sys

    prelude = (f"import random, numpy\nrandom.seed({rng_seed}); numpy.random.seed({rng_seed})\n"
               f"[random.random() for _ in range({rng_seed})]; numpy.random.rand({rng_seed})\n")
    env = {**os.environ, "PYTHONHASHSEED": str(hash_seed), "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-c", prelude + code], cwd=str(ROOT), env=env, capture_output=True,
                          text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout
