"""What a table rewards: the effect of each operation on each edge of the cell.

An op-effect table is a (6 edges, 5 operations) array in :data:`~robbench_plugin.space.EDGES` and
:data:`~robbench_plugin.space.OPS` order: over the cells that have that operation on that edge, the
mean percentile rank of a value (e.g. robust accuracy) among all cells, minus 0.5. It lies in
[-0.5, 0.5]; 0 is average, +0.1 is ten percentile points above the average cell. Two benchmarks
that reward the same operations in the same places have op-effect tables with a Pearson r near 1
(:func:`effects_r`).

Ranks, not z-scores: a table's accuracies have a long lower tail (cells that train to chance). On
the first 1420 classes of the Fashion-MNIST build, adding one such class (z-score -8.4) moved the
mean z-score of `none` on the input-to-node-1 edge, an operation that mostly appears in classes of
several cells, from +0.32 to +0.07, and the r with CIFAR-10's table from 0.36 to 0.54; in ranks the
same class moves that r by 0.04.

A table of classes (one value per isomorphism class, as every table of this package) is counted
with each class once (:func:`op_effects_of_classes`): its value is spread evenly over all its cells
(weight 1 / the class's size). Representatives alone would decide which operations a class shows
(some operations never appear on some edges of a representative), and weighting by cells would let
the large classes of cells that compute the same thing (all cells with no path to the output are
one class of thousands of cells) outweigh every other difference.
"""
from __future__ import annotations

import numpy as np

from .space import EDGES, OPS, index_to_ops_array, representative_indices


def percentile_ranks(values: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """The weighted mid-rank of each value as a fraction in (0, 1): (the weight of the smaller values
    + half the weight of the equal ones) / the total weight. A weight of k counts a value k times."""
    values = np.asarray(values, dtype=float)
    w = np.ones(len(values)) if weights is None else np.asarray(weights, dtype=float)
    distinct, inverse = np.unique(values, return_inverse=True)
    at = np.bincount(inverse, weights=w, minlength=len(distinct))
    below = np.concatenate([[0.0], np.cumsum(at)[:-1]])
    return ((below + 0.5 * at) / w.sum())[inverse]


def op_effects(values: np.ndarray, indices: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """(6 edges, 5 operations): the mean percentile rank (:func:`percentile_ranks`) of ``values``
    over the cells ``indices`` (NB201 indices, one per value) that have each operation on each
    edge, minus 0.5; NaN where no cell has it. ``weights`` (one per cell, default equal) weigh the
    ranks and the means: a weight of k counts a cell as k copies of it."""
    w = np.ones(len(values)) if weights is None else np.asarray(weights, dtype=float)
    ranks = percentile_ranks(values, w) - 0.5
    ops = index_to_ops_array()[np.asarray(indices)]
    out = np.full((len(EDGES), len(OPS)), np.nan)
    for e in range(len(EDGES)):
        for k in range(len(OPS)):
            has = ops[:, e] == k
            if has.any():
                out[e, k] = np.average(ranks[has], weights=w[has])
    return out


def class_cells(uids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The cells of the classes ``uids`` (representative indices): ``(cells, weights, owner)`` with
    every cell of those classes, its weight 1 / (its class's size), and the position in ``uids`` of
    its class."""
    rep = representative_indices()
    _, inverse, sizes = np.unique(rep, return_inverse=True, return_counts=True)
    uids = np.asarray(uids, dtype=np.int64)
    cells = np.flatnonzero(np.isin(rep, uids))
    order = np.argsort(uids, kind="stable")
    owner = order[np.searchsorted(uids[order], rep[cells])]
    return cells, 1.0 / sizes[inverse[cells]], owner


def op_effects_of_classes(class_values: np.ndarray, uids: np.ndarray) -> np.ndarray:
    """What a table of classes rewards (:func:`op_effects`), every class counted once (see the
    module doc): ``class_values[i]`` is the value of the class whose representative is ``uids[i]``."""
    cells, weights, owner = class_cells(uids)
    return op_effects(np.asarray(class_values, dtype=float)[owner], cells, weights)


def effects_r(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson r of two op-effect tables over the entries both have."""
    a, b = np.ravel(a), np.ravel(b)
    both = np.isfinite(a) & np.isfinite(b)
    return float(np.corrcoef(a[both], b[both])[0, 1])
