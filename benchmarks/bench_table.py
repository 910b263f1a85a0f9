"""Table speed on a synthetic release of full size (6466 uids x 3 datasets x 5 metrics).

    python benchmarks/bench_table.py

Prints:
- cold load of our cache (load_release with the cache present) vs json.load of the release
  JSON, as a ratio (best of 7 each);
- scalar query vs a plain dict reader in the style of the reference reader
  (meta["ids"][str(i)]["isomorph"], then res[dataset][uid][metric]["1"]), us/query;
- vectorised query_many throughput in archs/s.
"""
from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np


def best_of(fn, n=7):
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    os.environ["ROBBENCH_HOME"] = str(tmp / "home")
    from robbench_plugin import load_benchmark
    from robbench_plugin.release import DATA_FILE, META_FILE, load_release
    from robbench_plugin.synthetic import make_synthetic_release

    rel = make_synthetic_release(tmp / "release")
    size = (rel / DATA_FILE).stat().st_size / 1e6
    load_release(rel)  # builds the cache
    t_json = best_of(lambda: json.load(open(rel / DATA_FILE)))
    t_ours = best_of(lambda: load_release(rel))
    print(f"release JSON {size:.1f} MB: json.load {t_json * 1e3:.1f} ms; our cached load {t_ours * 1e3:.2f} ms; "
          f"ratio {t_ours / t_json:.3f}x (goal <= 0.05x)")

    res = json.load(open(rel / DATA_FILE))
    meta = json.load(open(rel / META_FILE))["ids"]
    bench = load_benchmark("nas-robbench-201", dataset="cifar10", data_dir=rel)
    idx = np.random.default_rng(0).integers(0, 15625, 200_000).tolist()

    def ref_reader():
        for i in idx:
            res["cifar10"][meta[str(i)]["isomorph"]]["val_pgd_8.0_acc"]["1"]

    def ours():
        q = bench.query
        for i in idx:
            q(i, "val_pgd_8.0_acc", seed="1")

    t_ref, t_q = best_of(ref_reader, 3), best_of(ours, 3)
    assert all(bench.query(i, "val_pgd_8.0_acc", seed="1") == res["cifar10"][meta[str(i)]["isomorph"]]["val_pgd_8.0_acc"]["1"]
               for i in idx[:2000])
    print(f"scalar query: dict reader {t_ref / len(idx) * 1e6:.2f} us/query; ours {t_q / len(idx) * 1e6:.2f} us/query; "
          f"ratio {t_q / t_ref:.2f}x (goal <= 1x)")

    many = np.random.default_rng(1).integers(0, 15625, 2_000_000)
    t_v = best_of(lambda: bench.query_many(many, ["val_pgd_8.0_acc"], seed="1"), 5)
    print(f"vectorised query_many: {len(many) / t_v / 1e6:.1f} M archs/s (goal >= 1M)")


if __name__ == "__main__":
    main()
