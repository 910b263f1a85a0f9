"""The runs of one comparison folder: each (searcher, seed) run evaluated in order, written as one CSV
under ``<out>/runs/`` with its identity on its first line, checked against the folder's identity and
the run schema before it is summarized, and resumed (a finished run is never run again).

A run file is ``# {"format": 1, "searcher": ..., "seed": ..., "identity": {...}}`` followed by a CSV
with the columns :data:`RUN_COLUMNS` plus one column per objective: ``evals`` (full-evaluation
equivalents so far), ``sim_time`` (cumulative simulated training seconds), ``index`` (NB201 index),
``uid`` (its class), ``fidelity`` (epoch), ``full`` (whether at the final epoch), the objectives'
values (accuracies as fractions in [0, 1]).
"""
from __future__ import annotations

import importlib
import json
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from ..errors import DataFileError, RobBenchError
from ..fileutil import atomic_write_bytes, atomic_write_json
from ..problem import ProblemSpec
from .spec import SEARCHERS, CompareSpec, available

RUN_FORMAT = 1
RUN_COLUMNS = ("searcher", "seed", "evals", "sim_time", "index", "uid", "fidelity", "full")


def random_trace(budget: int, seed: int) -> pd.DataFrame:
    """Random search: ``budget`` cells drawn uniformly from the 15625 (with repetition), in order."""
    from ..space import Arch

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


def run_one(searcher: str, seed: int, cspec: CompareSpec, bench=None) -> pd.DataFrame:
    """One run of ``searcher`` with ``seed``; returns its evaluation rows.

    Each framework's adapter answers ``searcher_trace(name, bench, objectives, budget, seed)``
    with what its searcher evaluated, in order: a frame with ``index`` (NB201 index) and, for
    multi-fidelity searchers, ``epoch`` (fidelity reached), ``epochs_trained`` (epochs this row
    adds) and ``runtime`` (simulated seconds this row adds); rows default to full evaluations.
    The values themselves are always read here, from the one benchmark of the comparison. A run
    that evaluated nothing is an error. ``bench``: the task's benchmark when the caller has loaded
    it already (``cspec.load()``)."""
    bench = cspec.load() if bench is None else bench
    spec = ProblemSpec(bench, list(cspec.objectives), seed=cspec.table_seed)
    framework, name = SEARCHERS[searcher]
    if framework == "core":
        trace = random_trace(cspec.budget, seed)
    else:
        adapter = importlib.import_module(f"..adapters.{framework}", __package__)
        trace = adapter.searcher_trace(name, bench, list(cspec.objectives), cspec.budget, seed,
                                       table_seed=spec.seed)
    rows = _rows(spec, bench, trace, searcher, seed)
    if rows.empty:
        raise RobBenchError(f"{searcher} (seed {seed}) evaluated nothing within the budget of {cspec.budget}")
    return rows


def run_path(out: Path, searcher: str, seed: int) -> Path:
    """The CSV of one (searcher, seed) run under ``out``."""
    return Path(out) / "runs" / f"{searcher.replace(':', '_')}__{seed}.csv"


def write_run(path: str | Path, rows: pd.DataFrame, identity: dict) -> Path:
    """Write a run's rows with its identity line, atomically."""
    searcher, seed = str(rows["searcher"].iloc[0]), int(rows["seed"].iloc[0])
    head = json.dumps({"format": RUN_FORMAT, "searcher": searcher, "seed": seed, "identity": identity},
                      sort_keys=True)
    return atomic_write_bytes(path, f"# {head}\n".encode() + rows.to_csv(index=False).encode())


def read_run(path: str | Path, identity: dict, searcher: str, seed: int) -> pd.DataFrame:
    """The rows of the run file at ``path``, after checking that it is the run of ``searcher`` and
    ``seed`` made for the comparison ``identity`` and that its rows follow the run schema; a
    foreign, older or damaged file is a :class:`DataFileError` naming it and what is wrong."""
    path = Path(path)
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise DataFileError(f"run file {path} cannot be read ({exc})") from exc
    first, _, body = text.partition("\n")
    try:
        head = json.loads(first[2:]) if first.startswith("# ") else None
    except ValueError:
        head = None
    if not isinstance(head, dict) or head.get("format") != RUN_FORMAT:
        raise DataFileError(f"run file {path} has no identity line of run format {RUN_FORMAT} (written by another "
                            "program or an older version): remove it to run it again")
    if (head.get("searcher"), head.get("seed")) != (searcher, seed):
        raise DataFileError(f"run file {path} holds the run of {head.get('searcher')!r} seed {head.get('seed')!r}, "
                            f"not of {searcher!r} seed {seed}")
    theirs = head.get("identity") or {}
    differ = sorted(k for k in set(identity) | set(theirs) if theirs.get(k) != identity.get(k))
    if differ:
        shown = "; ".join(f"{k}: {theirs.get(k)!r} there, {identity.get(k)!r} in this folder" for k in differ[:3])
        raise DataFileError(f"run file {path} belongs to another comparison ({shown}): remove it to run it again")
    import io

    try:
        rows = pd.read_csv(io.StringIO(body))
    except (ValueError, pd.errors.ParserError) as exc:
        raise DataFileError(f"run file {path} is damaged: {exc}") from exc
    _check_schema(rows, path, list(identity["objectives"]), searcher, seed)
    return rows


def _check_schema(rows: pd.DataFrame, path: Path, objectives: list[str], searcher: str, seed: int) -> None:
    from ..space import NUM_ARCHS, representative_indices

    def bad(why: str) -> DataFileError:
        return DataFileError(f"run file {path} is damaged: {why}")

    missing = [c for c in RUN_COLUMNS if c not in rows.columns]
    if missing:
        raise bad(f"no column {missing[0]!r}")
    metric_cols = [c for c in rows.columns if c not in RUN_COLUMNS]
    if len(metric_cols) != len(objectives):
        raise bad(f"{len(metric_cols)} objective columns {metric_cols}, the comparison has {len(objectives)}")
    if rows.empty:
        raise bad("no rows")
    if set(rows["searcher"].astype(str)) != {searcher} or set(rows["seed"]) != {seed}:
        raise bad("rows of another searcher or seed")
    try:
        idx = rows["index"].to_numpy(dtype=np.int64)
        nums = rows[["evals", "sim_time", *metric_cols]].to_numpy(dtype=float)
        full = rows["full"].astype(str).map({"True": True, "False": False})
    except (ValueError, TypeError) as exc:
        raise bad(f"a value that is not a number ({exc})") from exc
    if ((idx < 0) | (idx >= NUM_ARCHS)).any():
        raise bad(f"an NB201 index outside 0..{NUM_ARCHS - 1}")
    if (representative_indices()[idx] != rows["uid"].to_numpy()).any():
        raise bad("a uid that is not the class of its index")
    if full.isna().any():
        raise bad("'full' must be True or False")
    if not np.isfinite(nums[:, :2]).all() or (np.diff(nums[:, 0]) < -1e-9).any() or (np.diff(nums[:, 1]) < -1e-9).any():
        raise bad("evals and sim_time must be finite and never decrease")


def claim_folder(out: Path, identity: dict) -> None:
    """Write ``comparison.json``, or check that the folder's comparison is this one."""
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


def _run_to_file(args: tuple[str, int, CompareSpec, str, dict]) -> str:
    searcher, seed, cspec, path, identity = args
    write_run(path, run_one(searcher, seed, cspec), identity)
    return path


def run_all(searchers: Sequence[str], seeds: int, cspec: CompareSpec, out: str | Path, workers: int = 2,
            log: Callable[[str], None] = print) -> tuple[pd.DataFrame, list[str]]:
    """Run (or resume) every searcher x seed into ``out``; returns (every run's rows, checked against
    the folder's identity and schema; the searchers used). ``out`` keeps the comparison's identity
    in ``comparison.json``: a folder of another comparison is refused. A framework that is not
    installed is skipped with a line, unless all its runs are in the folder already (NASLib's,
    made in its own environment)."""
    out = Path(out)
    identity = cspec.identity()
    claim_folder(out, identity)
    (out / "runs").mkdir(parents=True, exist_ok=True)
    jobs, usable = [], []
    for s in searchers:
        ok, why = available(s)
        if not ok:
            if all(run_path(out, s, seed).is_file() for seed in range(seeds)):
                log(f"using the finished runs of {s} ({why})")
                usable.append(s)
            else:
                log(f"skipping {s}: {why}")
            continue
        usable.append(s)
        jobs += [(s, seed, cspec, str(run_path(out, s, seed)), identity) for seed in range(seeds)
                 if not run_path(out, s, seed).is_file()]
    log(f"{len(jobs)} runs to do ({len(usable) * seeds - len(jobs)} already done)")
    if jobs and workers > 1:
        import multiprocessing as mp

        from ..framework_noise import quiet_framework_warnings

        with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"), initializer=quiet_framework_warnings) as ex:
            for p in ex.map(_run_to_file, jobs):
                log(f"done {Path(p).name}")
    else:
        for j in jobs:
            log(f"done {Path(_run_to_file(j)).name}")
    if not usable:
        raise RobBenchError("no searcher of the comparison can run here and none has finished runs in the folder")
    runs = pd.concat([read_run(run_path(out, s, seed), identity, s, seed) for s in usable for seed in range(seeds)],
                     ignore_index=True)
    return runs, usable
