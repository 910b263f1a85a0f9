"""Pack a build directory into one checksummed archive (how builds are kept in git): a finished
build, or one still running (its finished runs: a shard is packed up to its last complete line).

    python scripts/pack_build.py BUILD_DIR data/<benchmark>-v<N>.build.tar.xz

Writes the archive and ``<archive>.sha256``; the same build always packs to the same bytes. A new
benchmark version gets a new archive name (history is never rewritten).
"""
from __future__ import annotations

import sys

from robbench_plugin.build_table import pack_build


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    print(f"{pack_build(argv[0], argv[1])}  {argv[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
