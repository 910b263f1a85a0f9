"""Derive the compact NAS-Bench-201 index order shipped as package data.

Reads ``meta.json`` (``shared/data/nb201_meta.json``) and writes
``robbench_plugin/_data/nb201_index_order.npy``: a uint16 array of length 15625 whose
entry ``i`` is the base-5 code of the 6 edge op codes of NAS-Bench-201 index ``i``
(edge 1<-0 is the most significant digit). 31 KB instead of the 2 MB JSON.

    python scripts/make_index_order.py ../shared/data/nb201_meta.json
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from robbench_plugin.fileutil import atomic_path  # noqa: E402
from robbench_plugin.space import ops_from_string, ops_to_code  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "robbench_plugin" / "_data" / "nb201_index_order.npy"


def main(meta_path: str) -> None:
    ids = json.loads(Path(meta_path).read_text())["ids"]
    codes = np.array(
        [ops_to_code(ops_from_string(ids[str(i)]["nb201-string"])) for i in range(len(ids))],
        dtype=np.uint16,
    )
    assert len(np.unique(codes)) == 15625, "index order must be a permutation"
    with atomic_path(OUT) as tmp:
        np.save(tmp, codes)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/nb201_meta.json")
