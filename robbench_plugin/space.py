"""The NAS-Bench-201 cell search space.

A cell is a DAG on 4 nodes with 6 edges, in the order ``EDGES`` = 1<-0, 2<-0, 2<-1, 3<-0,
3<-1, 3<-2; each edge carries one of the 5 operations in ``OPS`` (NAS-Bench-201's op order,
so op code 0 is ``none``). That gives 5**6 = 15625 cells, numbered 0..15624 in
NAS-Bench-201's own index order (shipped as package data, it cannot be derived), which
fall into 6466 isomorphism classes. The class of a cell is computed here from its graph,
and its representative (``uid``) is the smallest index of the class, as in the release.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from typing import Sequence, Union

import numpy as np

from .errors import InvalidArchError, InvalidValueError

OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
EDGES: tuple[tuple[int, int], ...] = ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))
NUM_EDGES = 6
NUM_OPS = 5
NUM_ARCHS = NUM_OPS**NUM_EDGES  # 15625
NUM_UNIQUE = 6466
_OP_CODE = {name: code for code, name in enumerate(OPS)}
_ZERO = "#"

ArchLike = Union["Arch", int, np.integer, str, Sequence[Union[int, str]]]


# --- low-level conversions on op-code tuples -------------------------------------------
def ops_to_code(codes: Sequence[int]) -> int:
    """Base-5 code of six op codes, edge 1<-0 most significant (0..15624)."""
    value = 0
    for c in codes:
        value = value * NUM_OPS + int(c)
    return value


def code_to_ops(code: int) -> tuple[int, ...]:
    """Inverse of :func:`ops_to_code`."""
    out = []
    for _ in range(NUM_EDGES):
        code, r = divmod(code, NUM_OPS)
        out.append(r)
    return tuple(reversed(out))


def ops_from_string(text: str) -> tuple[int, ...]:
    """Parse ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`` into six op codes (strict)."""
    if not isinstance(text, str):
        raise InvalidArchError(f"an NB201 arch string must be str, got {type(text).__name__}: {text!r}")
    nodes = text.split("+")
    if len(nodes) != 3:
        raise InvalidArchError(
            f"bad NB201 arch string {text!r}: expected 3 node groups joined by '+', "
            f"like '|op~0|+|op~0|op~1|+|op~0|op~1|op~2|'"
        )
    codes: list[int] = []
    for node, group in enumerate(nodes, start=1):
        if not (group.startswith("|") and group.endswith("|")) or len(group) < 2:
            raise InvalidArchError(f"bad NB201 arch string {text!r}: node group {group!r} must be '|...|'")
        tokens = group[1:-1].split("|")
        if len(tokens) != node:
            raise InvalidArchError(
                f"bad NB201 arch string {text!r}: node {node} must have {node} input edge(s), got {len(tokens)}"
            )
        for source, token in enumerate(tokens):
            name, sep, src = token.partition("~")
            if not sep or src != str(source):
                raise InvalidArchError(
                    f"bad NB201 arch string {text!r}: edge token {token!r} must be '<op>~{source}'"
                )
            if name not in _OP_CODE:
                raise InvalidArchError(f"unknown op {name!r} in {text!r}; valid ops: {', '.join(OPS)}")
            codes.append(_OP_CODE[name])
    return tuple(codes)


def ops_to_string(codes: Sequence[int]) -> str:
    """Six op codes -> NB201 arch string."""
    names = [OPS[c] for c in codes]
    return "|{}~0|+|{}~0|{}~1|+|{}~0|{}~1|{}~2|".format(*names)


def _parse_op(op: object, position: int) -> int:
    if isinstance(op, (bool, np.bool_)):
        raise InvalidArchError(f"op at edge {position} is a bool ({op!r}); give an op name or code 0..4")
    if isinstance(op, (int, np.integer)):
        if not 0 <= int(op) < NUM_OPS:
            raise InvalidArchError(f"op code {op!r} at edge {position} out of range; valid: 0..4 ({', '.join(OPS)})")
        return int(op)
    if isinstance(op, str):
        if op not in _OP_CODE:
            raise InvalidArchError(f"unknown op {op!r} at edge {position}; valid ops: {', '.join(OPS)}")
        return _OP_CODE[op]
    raise InvalidArchError(f"op at edge {position} must be an op name or code, got {type(op).__name__}: {op!r}")


# --- isomorphism ------------------------------------------------------------------------
def cell_signature(codes: Sequence[int]) -> str:
    """Canonical symbolic expression of the cell output (node 3).

    NAS-Bench-201's "unique string" rule with zeros considered: each node's output is
    written symbolically from the input "0"; an edge with ``none`` or from a node whose
    expression is exactly the zero marker contributes the zero marker, ``skip_connect``
    passes its source unchanged, any other op wraps it as ``(source)@op``; a node's
    expression is its contributions sorted (the sum commutes) and joined with ``+``.
    Two cells are isomorphic iff their signatures are equal.
    """
    node = ["0"]
    for target in (1, 2, 3):
        parts = []
        for (to, src), code in zip(EDGES, codes):
            if to != target:
                continue
            inp = node[src]
            if code == 0 or inp == _ZERO:
                parts.append(_ZERO)
            elif code == 1:
                parts.append(inp)
            else:
                parts.append(f"({inp})@{OPS[code]}")
        node.append("+".join(sorted(parts)))
    return node[3]


@functools.lru_cache(maxsize=1)
def _index_tables() -> tuple[np.ndarray, np.ndarray]:
    """(index -> base-5 code, base-5 code -> index), both int arrays of length 15625."""
    with resources.files(__package__).joinpath("_data/nb201_index_order.npy").open("rb") as fh:
        index_to_code = np.load(fh).astype(np.int64)
    code_to_index = np.empty(NUM_ARCHS, dtype=np.int64)
    code_to_index[index_to_code] = np.arange(NUM_ARCHS)
    index_to_code.setflags(write=False)
    code_to_index.setflags(write=False)
    return index_to_code, code_to_index


@functools.lru_cache(maxsize=1)
def representative_indices() -> np.ndarray:
    """Array of length 15625: for each NB201 index, the index of its class representative."""
    index_to_code, _ = _index_tables()
    first: dict[str, int] = {}
    rep = np.empty(NUM_ARCHS, dtype=np.int64)
    for idx in range(NUM_ARCHS):
        sig = cell_signature(code_to_ops(int(index_to_code[idx])))
        rep[idx] = first.setdefault(sig, idx)
    rep.setflags(write=False)
    return rep


@functools.lru_cache(maxsize=1)
def unique_indices() -> np.ndarray:
    """The 6466 representative indices in increasing order."""
    out = np.unique(representative_indices())
    out.setflags(write=False)
    return out


def index_to_ops_array() -> np.ndarray:
    """(15625, 6) int8 array of op codes in NB201 index order (for vectorised encodings)."""
    codes = _index_tables()[0]
    out = np.empty((NUM_ARCHS, NUM_EDGES), dtype=np.int8)
    for e in range(NUM_EDGES - 1, -1, -1):
        out[:, e] = codes % NUM_OPS
        codes = codes // NUM_OPS
    return out


# --- the architecture value -------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Arch:
    """One NAS-Bench-201 cell, immutable.

    ``codes`` are the six op codes (0..4, see ``OPS``) in ``EDGES`` order. Equality and
    hashing are by isomorphism class (``uid``); use :meth:`same_cell` for exact identity.
    """

    codes: tuple[int, ...]

    def __post_init__(self) -> None:
        codes = self.codes
        if not isinstance(codes, tuple) or len(codes) != NUM_EDGES:
            raise InvalidArchError(f"Arch needs a tuple of {NUM_EDGES} op codes, got {codes!r}")
        object.__setattr__(self, "codes", tuple(_parse_op(c, i) for i, c in enumerate(codes)))

    # constructors
    @classmethod
    def from_string(cls, text: str) -> "Arch":
        """From an NB201 string such as ``|nor_conv_3x3~0|+|none~0|skip_connect~1|+|...|``."""
        return cls(ops_from_string(text))

    @classmethod
    def from_index(cls, index: int) -> "Arch":
        """From a NAS-Bench-201 index in 0..15624."""
        if isinstance(index, (bool, np.bool_)) or not isinstance(index, (int, np.integer)):
            raise InvalidArchError(f"NB201 index must be an int in 0..{NUM_ARCHS - 1}, got {type(index).__name__}: {index!r}")
        if not 0 <= int(index) < NUM_ARCHS:
            raise InvalidArchError(f"NB201 index {index!r} out of range; valid: 0..{NUM_ARCHS - 1}")
        return cls(code_to_ops(int(_index_tables()[0][int(index)])))

    @classmethod
    def from_ops(cls, ops: Sequence[Union[int, str]]) -> "Arch":
        """From six op names or op codes (0..4) in ``EDGES`` order."""
        if isinstance(ops, (str, bytes)) or not isinstance(ops, Sequence) and not isinstance(ops, np.ndarray):
            raise InvalidArchError(f"ops must be a sequence of {NUM_EDGES} op names or codes, got {ops!r}")
        ops = list(ops)
        if len(ops) != NUM_EDGES:
            raise InvalidArchError(f"ops must have exactly {NUM_EDGES} entries (one per edge), got {len(ops)}: {ops!r}")
        return cls(tuple(_parse_op(op, i) for i, op in enumerate(ops)))

    @classmethod
    def parse(cls, arch: ArchLike) -> "Arch":
        """Any accepted form: an Arch, an NB201 index, an NB201 string, or six ops."""
        if isinstance(arch, Arch):
            return arch
        if isinstance(arch, (int, np.integer)) and not isinstance(arch, (bool, np.bool_)):
            return cls.from_index(arch)
        if isinstance(arch, str):
            return cls.from_string(arch)
        if isinstance(arch, (Sequence, np.ndarray)) and not isinstance(arch, bytes):
            return cls.from_ops(arch)
        raise InvalidArchError(
            f"cannot read an architecture from {type(arch).__name__}: {arch!r}; give an Arch, "
            f"an NB201 index (0..{NUM_ARCHS - 1}), an NB201 string or {NUM_EDGES} op names/codes"
        )

    # views
    @property
    def code(self) -> int:
        """Base-5 code of the op codes (not the NB201 index)."""
        return ops_to_code(self.codes)

    @property
    def index(self) -> int:
        """NAS-Bench-201 index, 0..15624."""
        return int(_index_tables()[1][self.code])

    @property
    def string(self) -> str:
        """NAS-Bench-201 arch string."""
        return ops_to_string(self.codes)

    @property
    def ops(self) -> tuple[str, ...]:
        """The six op names in ``EDGES`` order."""
        return tuple(OPS[c] for c in self.codes)

    @property
    def uid(self) -> int:
        """Index of the representative of this cell's isomorphism class."""
        return int(representative_indices()[self.index])

    @property
    def is_representative(self) -> bool:
        return self.uid == self.index

    def same_cell(self, other: "Arch") -> bool:
        """Exact identity of the six ops (not just the same class)."""
        return self.codes == Arch.parse(other).codes

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Arch):
            return NotImplemented
        return self.uid == other.uid

    def __hash__(self) -> int:
        return hash(("Arch", self.uid))

    def __repr__(self) -> str:
        return f"Arch({self.string!r}, index={self.index}, uid={self.uid})"

    # neighbourhood
    def neighbours(self, unique: bool = False) -> list["Arch"]:
        """The 24 cells that differ in exactly one edge; with ``unique``, one per class and
        never this cell's own class."""
        out = []
        for e in range(NUM_EDGES):
            for op in range(NUM_OPS):
                if op != self.codes[e]:
                    out.append(Arch(self.codes[:e] + (op,) + self.codes[e + 1:]))
        if unique:
            seen = {self.uid}
            out = [a for a in out if not (a.uid in seen or seen.add(a.uid))]
        return out

    def mutate(self, rng: Union[np.random.Generator, int, None] = None, new_class: bool = True) -> "Arch":
        """One random edge set to a different op; with ``new_class`` (default) the result is
        also in a different isomorphism class."""
        rng = np.random.default_rng(rng)
        cands = self.neighbours(unique=new_class)
        return cands[int(rng.integers(len(cands)))]

    # enumeration
    @staticmethod
    def all(unique: bool = False) -> list["Arch"]:
        """All 15625 cells, or the 6466 representatives, in NB201 index order."""
        idx = unique_indices() if unique else range(NUM_ARCHS)
        return [Arch.from_index(int(i)) for i in idx]

    @staticmethod
    def sample(n: int | None = None, rng: Union[np.random.Generator, int, None] = None,
               unique: bool = False) -> Union["Arch", list["Arch"]]:
        """Uniform sample of cells (or of classes with ``unique``); one Arch if ``n`` is None."""
        rng = np.random.default_rng(rng)
        pool = unique_indices() if unique else np.arange(NUM_ARCHS)
        k = 1 if n is None else int(n)
        if k < 0:
            raise InvalidValueError(f"n must be >= 0, got {n!r}")
        picks = [Arch.from_index(int(i)) for i in rng.choice(pool, size=k, replace=True)]
        return picks[0] if n is None else picks


