"""A dense grid of the benchmark: every NB201 cell x seed x fidelity x objective.

This is what simulators of tabulated benchmarks consume (Syne Tune's ``BlackboxTabular``):
all 15625 cells in NB201 index order (isomorphic cells repeat their class's values), the
fidelities at which the accuracies are recorded, and per entry:

- ``valid_error`` = 1 - clean accuracy, ``robust_error`` = 1 - robust accuracy (fractions);
- every accuracy metric of the table under its own name (fractions);
- ``params`` (M), ``flops`` (M);
- ``epochs``: the epoch this fidelity is (the grid's fidelity axis may skip epochs: digits records
  accuracies after epochs 1, 2, 4 and 8);
- ``runtime``: simulated seconds of training from the previous grid fidelity to this one,
  ``elapsed_time``: cumulative seconds up to this fidelity, on the benchmark's clock: a table
  with recorded times charges its op-count model of them (``Benchmark.clock``, the same for every
  seed), the release its FLOPs cost model, a live benchmark the seconds it recorded
  (``time_source``).

Seeds: ``"complete"`` keeps the seed labels that have a value for every class (digits: "0";
the release: "1"); ``"impute"`` keeps every label and fills a class's missing seed with its
mean over the seeds it has (as Syne Tune's own NAS-Bench-201 import imputes).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence, Union

import numpy as np

from .errors import InvalidChoiceError, RobBenchError
from .metrics import COST_METRICS
from .space import NUM_ARCHS, OPS, index_to_ops_array

SEED_POLICIES = ("complete", "impute")


@dataclass
class BenchmarkGrid:
    configs: np.ndarray  # (15625, 6) op codes, NB201 index order
    fidelities: np.ndarray  # epochs
    seeds: list[str]
    objectives: list[str]
    values: np.ndarray  # (15625, seeds, fidelities, objectives) float32
    time_source: str

    def op_names(self) -> list[list[str]]:
        return [[OPS[c] for c in row] for row in self.configs]


def benchmark_grid(bench, seeds: Union[str, Sequence[str]] = "complete") -> BenchmarkGrid:
    """Build the grid of a tabular (or surrogate) benchmark; a table that lacks classes (a partial
    build) is refused before any work: the grid has every cell."""
    if getattr(bench, "mode", None) == "tabular":
        bench.require_complete("a grid of every cell (Syne Tune's blackbox)")
    clean, robust = bench.resolve_metric("clean"), bench.resolve_metric("robust")
    acc_metrics = [m for m in bench.metrics if m.endswith("_acc") and m != "train_acc" and m not in COST_METRICS]
    idx = np.arange(NUM_ARCHS)
    raw = [s for s in bench.seeds if s not in ("mean", "std")]
    # fidelities where both main metrics are recorded
    fids = [f for f in bench.fidelities
            if not np.isnan(bench.query_many(bench.uids[:1], [clean, robust], fidelity=f)[[clean, robust]].to_numpy()).any()]
    if not fids:
        raise RobBenchError(f"{bench.name}: no fidelity records both {clean} and {robust}")
    final = fids[-1]
    if isinstance(seeds, str):
        if seeds not in SEED_POLICIES:
            raise InvalidChoiceError("seed policy", seeds, list(SEED_POLICIES) + ["or a list of seed labels"])
        if seeds == "complete":
            chosen = [s for s in raw if not bench.query_many(bench.uids, [clean], seed=s, fidelity=final)[clean]
                      .isna().any()]
            if not chosen:
                chosen = ["mean"]
        else:
            chosen = raw
        impute = seeds == "impute"
    else:
        chosen, impute = list(seeds), False
        for s in chosen:
            if s not in bench.seeds:
                raise InvalidChoiceError("seed", s, bench.seeds)
    objectives = ["valid_error", "robust_error", *acc_metrics, "params", "flops", "epochs", "runtime", "elapsed_time"]
    values = np.full((NUM_ARCHS, len(chosen), len(fids), len(objectives)), np.nan, dtype=np.float64)
    # a live benchmark charges the seconds it measured; a table (or surrogate) its clock per cell
    recorded = bench.clock == "recorded"
    all_epochs = list(bench.fidelities)
    for si, s in enumerate(chosen):
        cum_time = np.zeros(NUM_ARCHS)
        if recorded:
            per_epoch = {}
            for e in all_epochs:
                col = bench.query_many(idx, ["time_s"], seed=s, fidelity=e)["time_s"].to_numpy()
                if impute or np.isnan(col).any():
                    mean = bench.query_many(idx, ["time_s"], seed="mean", fidelity=e)["time_s"].to_numpy()
                    col = np.where(np.isnan(col), mean, col)
                per_epoch[e] = np.nan_to_num(col)
        prev = 0
        for fi, f in enumerate(fids):
            df = bench.query_many(idx, acc_metrics + list(COST_METRICS), seed=s, fidelity=f)
            if impute:
                mean = bench.query_many(idx, acc_metrics, seed="mean", fidelity=f)
                for m in acc_metrics:
                    df[m] = df[m].fillna(mean[m])
            if recorded:
                step = sum(per_epoch[e] for e in all_epochs if prev < e <= f)
            else:  # NaN where the benchmark has no clock (a dataset outside the release, no times)
                step = bench.cell_epoch_seconds[idx] * (f - prev)
            cum_time = cum_time + step
            cols = [1 - df[clean].to_numpy(), 1 - df[robust].to_numpy(), *[df[m].to_numpy() for m in acc_metrics],
                    df["params"].to_numpy(), df["flops"].to_numpy(), np.full(NUM_ARCHS, float(f)), step, cum_time]
            values[:, si, fi, :] = np.stack(cols, axis=1)
            prev = f
    if np.isnan(values[..., :-2]).any():
        raise RobBenchError(f"{bench.name}: the grid has missing values (seeds {chosen} are incomplete); use "
                            "seeds='impute' or seeds that every class has")
    return BenchmarkGrid(index_to_ops_array(), np.asarray(fids), chosen, objectives, values.astype(np.float32),
                         bench.time_source if recorded else bench.clock)
