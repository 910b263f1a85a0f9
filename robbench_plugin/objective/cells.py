"""Any accepted form of a cell to its NB201 index, fast for ints and strings."""
from __future__ import annotations

import functools

import numpy as np

from ..errors import InvalidArchError
from ..space import NUM_ARCHS, Arch, ArchLike


@functools.lru_cache(maxsize=1 << 16)
def _index_of_string(text: str) -> int:
    return Arch.from_string(text).index


def arch_index(arch: ArchLike) -> int:
    """NB201 index of any accepted arch form (fast path for ints and strings)."""
    if isinstance(arch, (int, np.integer)) and not isinstance(arch, (bool, np.bool_)):
        if not 0 <= arch < NUM_ARCHS:
            raise InvalidArchError(f"NB201 index {arch!r} out of range; valid: 0..{NUM_ARCHS - 1}")
        return int(arch)
    if isinstance(arch, str):
        return _index_of_string(arch)
    return Arch.parse(arch).index
