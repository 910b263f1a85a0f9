"""Vector encodings of NB201 cells (vectorised over NB201 indices).

- ``onehot``: 6 edges x 5 ops = 30 binary features.
- ``path``: one feature per input->output path and op sequence along it (paths 0-3, 0-1-3,
  0-2-3, 0-1-2-3: 5 + 25 + 25 + 125 = 180 binary features; a path through ``none`` is dead
  and has no feature set).
- ``counts``: number of each op (5), convolutions on edges into the output node (1),
  live paths (1).
"""
from __future__ import annotations

import numpy as np

from .errors import check_choice
from .space import EDGES, NUM_OPS, index_to_ops_array

ENCODINGS = ("onehot", "path", "counts")
_EDGE_POS = {edge: i for i, edge in enumerate(EDGES)}
PATHS = ((0, 3), (0, 1, 3), (0, 2, 3), (0, 1, 2, 3))


def _ops(indices: np.ndarray) -> np.ndarray:
    return index_to_ops_array()[np.asarray(indices, dtype=np.int64)].astype(np.int64)


def onehot(indices: np.ndarray) -> np.ndarray:
    ops = _ops(indices)
    out = np.zeros((len(ops), 6 * NUM_OPS), dtype=np.float32)
    out[np.arange(len(ops))[:, None], np.arange(6) * NUM_OPS + ops] = 1.0
    return out


def path(indices: np.ndarray) -> np.ndarray:
    ops = _ops(indices)
    blocks = []
    for nodes in PATHS:
        edges = [_EDGE_POS[(b, a)] for a, b in zip(nodes[:-1], nodes[1:])]
        seq = ops[:, edges]
        code = np.zeros(len(ops), dtype=np.int64)
        for k in range(seq.shape[1]):
            code = code * NUM_OPS + seq[:, k]
        block = np.zeros((len(ops), NUM_OPS ** len(edges)), dtype=np.float32)
        live = (seq != 0).all(axis=1)
        block[np.flatnonzero(live), code[live]] = 1.0
        blocks.append(block)
    return np.concatenate(blocks, axis=1)


def counts(indices: np.ndarray) -> np.ndarray:
    ops = _ops(indices)
    per_op = np.stack([(ops == k).sum(1) for k in range(NUM_OPS)], axis=1)
    into_out = [i for i, (to, _) in enumerate(EDGES) if to == 3]
    conv_out = np.isin(ops[:, into_out], (2, 3)).sum(1, keepdims=True)
    live_paths = path(indices).sum(1, keepdims=True)
    return np.concatenate([per_op, conv_out, live_paths], axis=1).astype(np.float32)


def encode(indices: np.ndarray, kinds: tuple[str, ...] = ENCODINGS) -> np.ndarray:
    """Concatenated encodings of the cells at ``indices`` (NB201 indices)."""
    for k in kinds:
        check_choice("encoding", k, ENCODINGS)
    fns = {"onehot": onehot, "path": path, "counts": counts}
    return np.concatenate([fns[k](indices) for k in kinds], axis=1)


def hamming(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Edit distance between cells (number of edges with different ops), all pairs."""
    oa, ob = _ops(a), _ops(b)
    return (oa[:, None, :] != ob[None, :, :]).sum(-1)
