"""A cell's training seconds per epoch, modelled from the operations it holds.

A build records the wall-clock seconds of every epoch it trains, and those seconds carry the
load of the machine at that moment as much as the cost of the cell: two seeds of one class rank
the classes' seconds at a Kendall tau of 0.45 on the embedded digits table
(``benchmarks/time_noise.py``). A simulated clock that charges those seconds as they were recorded
replays that noise into every time-budgeted comparison. The model here keeps what the cell
determines: the seconds of one epoch as a constant plus a cost per edge for each operation
(``skip_connect``, ``nor_conv_1x1``, ``nor_conv_3x3``, ``avg_pool_3x3``; ``none`` costs nothing),
fitted by median (least absolute deviations) regression on every recorded run, so a run slowed by
load pulls it no further than any other run. Held out, it ranks a class's second seed closer than
the class's own first seed does (``benchmarks/time_noise.py``).

Only numpy: :func:`median_regression` is iteratively reweighted least squares finished on the
exact solution it converges to (a basic solution of the linear programme, through as many runs as
there are coefficients).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import InvalidValueError
from .space import NUM_ARCHS, OPS, index_to_ops_array

# the operations that cost time, in the order of the model's coefficients after the constant
TIMED_OPS: tuple[str, ...] = tuple(op for op in OPS if op != "none")
COEFFICIENT_NAMES: tuple[str, ...] = ("constant", *TIMED_OPS)
# fewer recorded runs than this many per coefficient (a small build) fit the median run alone
MIN_RUNS_PER_COEFFICIENT = 2


def op_counts(indices: np.ndarray) -> np.ndarray:
    """``(len(indices), 4)`` float array: how many of the cell's six edges hold each operation of
    :data:`TIMED_OPS`, for NB201 cell indices (0..15624)."""
    indices = np.asarray(indices, dtype=np.int64)
    if indices.size and (indices.min() < 0 or indices.max() >= NUM_ARCHS):
        raise InvalidValueError(f"cell indices must be in 0..{NUM_ARCHS - 1}")
    ops = index_to_ops_array()[indices]
    return np.stack([(ops == OPS.index(op)).sum(axis=1) for op in TIMED_OPS], axis=1).astype(np.float64)


def design_matrix(indices: np.ndarray) -> np.ndarray:
    """``(len(indices), 5)``: a column of ones, then :func:`op_counts`."""
    counts = op_counts(indices)
    return np.hstack([np.ones((len(counts), 1)), counts])


def _absolute_loss(X: np.ndarray, y: np.ndarray, beta: np.ndarray) -> float:
    return float(np.abs(y - X @ beta).sum())


def median_regression(X: np.ndarray, y: np.ndarray, max_iter: int = 500, tol: float = 1e-10) -> np.ndarray:
    """Coefficients ``beta`` minimising ``sum(|y - X @ beta|)`` (the conditional median).

    Iteratively reweighted least squares (weights ``1 / max(|residual|, delta)``) from the
    least-squares start, then the exact basic solution: the rows with the smallest residuals that
    span the coefficients are solved exactly, and that solution is kept when its loss is no larger.
    ``X``: ``(n, p)`` with ``n >= p`` and full column rank; ``y``: ``(n,)``, finite.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim != 2 or y.ndim != 1 or len(X) != len(y):
        raise InvalidValueError(f"X must be (n, p) and y (n,), got {X.shape} and {y.shape}")
    n, p = X.shape
    if n < p or not (np.isfinite(X).all() and np.isfinite(y).all()):
        raise InvalidValueError(f"median regression needs finite values and at least {p} rows, got {n}")
    if np.linalg.matrix_rank(X) < p:
        raise InvalidValueError("median regression needs columns that are linearly independent")
    beta = np.linalg.lstsq(X, y, rcond=None)[0]
    delta = 1e-9 * max(float(np.abs(y).max()), 1e-300)
    for _ in range(max_iter):
        w = 1.0 / np.maximum(np.abs(y - X @ beta), delta)
        Xw = X * w[:, None]
        new = np.linalg.solve(X.T @ Xw, Xw.T @ y)
        done = np.abs(new - beta).max() <= tol * (1.0 + np.abs(beta).max())
        beta = new
        if done:
            break
    # finish on a vertex: the p best-fitted rows that are independent, solved exactly
    order = np.argsort(np.abs(y - X @ beta), kind="stable")
    basis: list[int] = []
    for i in order:
        if np.linalg.matrix_rank(X[basis + [int(i)]]) == len(basis) + 1:
            basis.append(int(i))
            if len(basis) == p:
                break
    vertex = np.linalg.solve(X[basis], y[basis])
    return vertex if _absolute_loss(X, y, vertex) <= _absolute_loss(X, y, beta) else beta


@dataclass(frozen=True)
class EpochTimeModel:
    """Seconds of one training epoch of a cell = ``coef[0] + sum(coef[k] * edges with op k)``,
    over :data:`TIMED_OPS`; a prediction that is not positive (a line extrapolated past every cell
    it was fitted on) is replaced by ``floor``, the fastest epoch the fit saw, so no cell trains for
    free. ``runs``: how many recorded runs it was fitted on."""

    coef: tuple[float, ...]
    floor: float
    runs: int

    @classmethod
    def fit(cls, indices: np.ndarray, seconds_per_epoch: np.ndarray) -> "EpochTimeModel":
        """Median regression of ``seconds_per_epoch`` (> 0, one per run) on the op counts of the
        cells trained (``indices``, NB201 cell indices; a class's representative for a table).
        With fewer than :data:`MIN_RUNS_PER_COEFFICIENT` runs per coefficient, or cells too alike
        to tell the operations apart, the model is the median run (the constant alone)."""
        indices = np.asarray(indices, dtype=np.int64)
        y = np.asarray(seconds_per_epoch, dtype=np.float64)
        if len(indices) != len(y):
            raise InvalidValueError(f"{len(indices)} cells but {len(y)} recorded times")
        if not len(y):
            raise InvalidValueError("an epoch-time model needs at least one recorded run")
        if not (np.isfinite(y).all() and (y > 0).all()):
            raise InvalidValueError("recorded seconds per epoch must be finite and positive")
        X = design_matrix(indices)
        if len(y) < MIN_RUNS_PER_COEFFICIENT * X.shape[1] or np.linalg.matrix_rank(X) < X.shape[1]:
            # too few runs, or too few kinds of cells, to tell the operations apart: every cell
            # is charged the median run
            return cls((float(np.median(y)),) + (0.0,) * len(TIMED_OPS), float(y.min()), len(y))
        coef = median_regression(X, y)
        return cls(tuple(float(c) for c in coef), float(y.min()), len(y))

    def seconds_per_epoch(self, indices: np.ndarray) -> np.ndarray:
        """Modelled seconds of one epoch for each NB201 cell index, float64 (> 0)."""
        predicted = design_matrix(indices) @ np.asarray(self.coef)
        return np.where(predicted > 0, predicted, self.floor)

    @classmethod
    def from_dict(cls, d: dict) -> "EpochTimeModel":
        """Inverse of :meth:`as_dict` (a saved surrogate carries its source's model this way)."""
        missing = [k for k in (*COEFFICIENT_NAMES, "floor", "runs") if k not in d]
        if missing:
            raise InvalidValueError(f"an epoch-time model needs {missing}")
        return cls(tuple(float(d[k]) for k in COEFFICIENT_NAMES), float(d["floor"]), int(d["runs"]))

    def as_dict(self) -> dict:
        """Coefficients by name (seconds per epoch, and per edge holding each operation), the
        floor and the number of runs: what reports and metadata show."""
        return {**dict(zip(COEFFICIENT_NAMES, self.coef)), "floor": self.floor, "runs": self.runs}
