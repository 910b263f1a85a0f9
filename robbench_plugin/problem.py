"""What every adapter needs to pose the benchmark as an optimisation problem.

- the search space as six categorical edges (``EDGE_NAMES``, values = op names);
- :class:`ProblemSpec`: objectives (canonical metric names with directions), constraints
  (``{metric: upper bound}``, feasible when ``value - bound <= 0``), seed and fidelity, and
  the evaluations, learning curves, true Pareto front and hypervolume built on a benchmark.

Adapters only translate between this and their framework.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from .errors import InvalidArchError, InvalidChoiceError, InvalidValueError
from .metrics import COST_METRICS, SCALARIZED, metric_direction, scalarization_weight, scalarize, seed_label
from .objective import Benchmark
from .pareto import hypervolume, pareto_mask
from .space import EDGES, Arch, ArchLike

EDGE_NAMES: tuple[str, ...] = tuple(f"edge_{to}_{src}" for to, src in EDGES)


def arch_from_params(params: Mapping[str, Any], names: Sequence[str] = EDGE_NAMES) -> Arch:
    """Arch from ``{edge name: op name or code}`` (six entries, named as ``names``)."""
    missing = [n for n in names if n not in params]
    if missing:
        raise InvalidArchError(f"params lack edges {missing}; expected keys {list(names)}")
    return Arch.from_ops([params[n] for n in names])


def params_from_arch(arch: ArchLike, names: Sequence[str] = EDGE_NAMES) -> dict[str, str]:
    a = Arch.parse(arch)
    return dict(zip(names, a.ops))


@dataclass
class ProblemSpec:
    """Objectives and constraints on a benchmark.

    ``objectives``: metric names or aliases (``clean``, ``robust``, ``params``...), each
    optimised in its natural direction (accuracies up, costs down), or ``scalarized:w`` =
    w x clean + (1 - w) x robust accuracy (maximised; what single-objective searchers use for
    clean and robust at once, every framework alike). ``constraints``:
    ``{metric: bound}`` meaning metric <= bound. ``seed``: a seed label or ``mean``;
    ``fidelity``: epoch of the objective values (None = final).
    """

    benchmark: Benchmark
    objectives: Sequence[str] = ("clean", "robust")
    constraints: Mapping[str, float] = field(default_factory=dict)
    seed: str = "mean"
    fidelity: int | None = None

    def __post_init__(self) -> None:
        if getattr(self.benchmark, "mode", None) == "tabular":
            self.benchmark.require_complete("a search over the space")
        if isinstance(self.objectives, str):
            self.objectives = [self.objectives]
        if not self.objectives:
            raise InvalidValueError("objectives must name at least one metric")
        self.metrics = [self._resolve(o) for o in self.objectives]
        if len(set(self.metrics)) != len(self.metrics):
            raise InvalidValueError(f"objectives repeat a metric: {list(self.objectives)} -> {self.metrics}")
        self.directions = [metric_direction(m) for m in self.metrics]
        self.seed = seed_label(self.seed)
        self.constraint_metrics = {self.benchmark.resolve_metric(k): float(v) for k, v in dict(self.constraints).items()}
        if self.seed not in self.benchmark.seeds or self.seed == "std":
            raise InvalidChoiceError("seed", self.seed, [s for s in self.benchmark.seeds if s != "std"])

    def _resolve(self, objective: str) -> str:
        w = scalarization_weight(objective)
        if w is None:
            return self.benchmark.resolve_metric(objective)
        self.benchmark.resolve_metric("clean"), self.benchmark.resolve_metric("robust")  # both must exist
        return f"{SCALARIZED}{w:g}"

    def _base_metrics(self, metrics: Sequence[str]) -> list[str]:
        """The table metrics behind ``metrics`` (a scalarization needs clean and robust)."""
        out: list[str] = []
        for m in metrics:
            out += ([self.benchmark.resolve_metric("clean"), self.benchmark.resolve_metric("robust")]
                    if scalarization_weight(m) is not None else [m])
        return list(dict.fromkeys(out))

    def _with_scalarized(self, values):
        """``values`` (a dict or a frame of table metrics) with the scalarized objectives added."""
        clean, robust = (self.benchmark.resolve_metric(a) for a in ("clean", "robust")) \
            if any(scalarization_weight(m) is not None for m in self.metrics) else (None, None)
        for m in self.metrics:
            w = scalarization_weight(m)
            if w is not None:
                values[m] = scalarize(w, values[clean], values[robust])
        return values

    # --- evaluation -----------------------------------------------------------------
    def evaluate(self, arch: ArchLike, fidelity: int | None = None) -> tuple[float, ...]:
        """Objective values in the order of ``objectives``, at the spec's fidelity or at epoch
        ``fidelity`` when given (an intermediate value, as a pruner sees it)."""
        values = self.benchmark.query(arch, self._base_metrics(self.metrics), seed=self.seed,
                                      fidelity=self.fidelity if fidelity is None else fidelity)
        values = self._with_scalarized(values)
        return tuple(float(values[m]) for m in self.metrics)

    def constraint_values(self, arch: ArchLike) -> dict[str, float]:
        """``{metric: value - bound}``; feasible when every entry is <= 0."""
        if not self.constraint_metrics:
            return {}
        values = self.benchmark.query(arch, list(self.constraint_metrics), seed=self.seed)
        return {m: values[m] - bound for m, bound in self.constraint_metrics.items()}

    def all_metrics(self, arch: ArchLike) -> dict[str, float]:
        """Every metric of the benchmark for ``arch`` at the final fidelity (for logging)."""
        return self.benchmark.query(arch, None, seed=self.seed)

    def curve(self, arch: ArchLike, objective: int = 0) -> list[tuple[int, float]]:
        """``[(epoch, value)]`` of one objective over the recorded fidelities (empty for costs)."""
        m = self.metrics[objective]
        if m in COST_METRICS:
            return []
        w = scalarization_weight(m)
        if w is not None:
            c = self.benchmark.curve(arch, "clean", seed=self.seed)
            r = self.benchmark.curve(arch, "robust", seed=self.seed)
            return [(e, float(scalarize(w, c[e], r[e]))) for e in sorted(r) if e in c]
        return sorted(self.benchmark.curve(arch, m, seed=self.seed).items())

    def follow(self, arch: ArchLike, on_value, objective: int = 0) -> bool:
        """Walk one objective's learning curve up to the spec's fidelity (``on_value(epoch, value)``
        at each recorded epoch before the final one; returning False stops, and on a live benchmark
        stops training there). True when the walk reached the final fidelity, False when stopped."""
        m = self.metrics[objective]
        if m in COST_METRICS:
            return True
        w = scalarization_weight(m)
        base = ([self.benchmark.resolve_metric("clean"), self.benchmark.resolve_metric("robust")]
                if w is not None else [m])
        final = self.fidelity if self.fidelity is not None else self.benchmark.fidelities[-1]

        def on_values(epoch: int, values: dict) -> bool:
            if epoch >= final:
                return True
            value = scalarize(w, values[base[0]], values[base[1]]) if w is not None else values[m]
            return on_value(epoch, float(value)) is not False

        return self.benchmark.follow(arch, base, on_values, seed=self.seed, until=final)

    def report_epochs(self) -> list[int]:
        """The recorded epochs before the final fidelity (where a pruner sees intermediate values)."""
        final = self.fidelity if self.fidelity is not None else self.benchmark.fidelities[-1]
        return [f for f in self.benchmark.fidelities if f < final]

    @property
    def has_curves(self) -> bool:
        return len(self.benchmark.fidelities) > 1

    # --- reference quantities -------------------------------------------------------
    def signs(self) -> np.ndarray:
        """+1 for maximised, -1 for minimised objectives (multiply to get a max-problem)."""
        return np.array([1.0 if d == "maximize" else -1.0 for d in self.directions])

    def points(self) -> pd.DataFrame:
        """Every point of the search space: the 15625 cells (``index``, ``uid``, ``arch``) with
        objective and constraint values, each cell with its class's accuracies and its own costs,
        as every searcher sees them; cells with identical values are one point (the lowest index)."""
        cols = list(dict.fromkeys(self.metrics + list(self.constraint_metrics)))
        key = (tuple(cols), self.seed, self.fidelity, self.benchmark.revision)
        if getattr(self, "_points_key", None) != key:
            df = self.benchmark.cell_frame(self._base_metrics(cols), seed=self.seed, fidelity=self.fidelity)
            df = self._with_scalarized(df).dropna(subset=self.metrics)
            self._points, self._points_key = df.drop_duplicates(subset=cols).reset_index(drop=True), key
        return self._points

    def table_frame(self) -> pd.DataFrame:
        """The feasible points (:meth:`points` within every constraint)."""
        df = self.points()
        for m, bound in self.constraint_metrics.items():
            df = df[df[m] <= bound]
        return df

    def ideal_nadir(self) -> tuple[np.ndarray, np.ndarray]:
        """Best and worst value of each objective over all points of the table, in max-space
        (minimised objectives negated)."""
        vals = self.points()[self.metrics].to_numpy() * self.signs()
        return np.nanmax(vals, axis=0), np.nanmin(vals, axis=0)

    def reference_point(self) -> np.ndarray:
        """Hypervolume reference in max-space: each objective's worst value over all points of the
        table (the nadir). A point counts by how much it improves on the worst architecture in
        every objective, so the measure separates searchers: with 0 for accuracies, most of the
        volume lies below any trained network and even random search scores near the true front's
        (docs/compare.md)."""
        return self.ideal_nadir()[1]

    def normalized(self, values: np.ndarray | Sequence[Sequence[float]]) -> np.ndarray:
        """Objective vectors (natural directions) scaled to max-space [0, 1] per objective: 0 the
        table's worst value, 1 its best (for indicators such as IGD+ that add objectives up)."""
        ideal, nadir = self.ideal_nadir()
        span = np.where(ideal > nadir, ideal - nadir, 1.0)
        pts = np.asarray(values, dtype=float).reshape(-1, len(self.metrics))
        return (pts * self.signs() - nadir) / span

    def true_front(self) -> pd.DataFrame:
        """The feasible, non-dominated points (:meth:`table_frame`) under the objectives."""
        df = self.table_frame()
        mask = pareto_mask(df[self.metrics].to_numpy() * self.signs())
        return df[mask].reset_index(drop=True)

    def hypervolume(self, values: np.ndarray | Sequence[Sequence[float]]) -> float:
        """Hypervolume of objective vectors (natural directions) w.r.t. :meth:`reference_point`."""
        pts = np.asarray(values, dtype=float).reshape(-1, len(self.metrics))
        return hypervolume(pts * self.signs(), self.reference_point())

    def true_hypervolume(self) -> float:
        return self.hypervolume(self.true_front()[self.metrics].to_numpy())
