"""Surrogate quality: held-out Kendall tau / Spearman at 5, 10, 25, 50% training classes (3 random
splits each) for clean and robust accuracy, final epoch and per-epoch, against a ridge baseline
(one-hot + path + count encodings) and k-NN (k=5) on edit distance, all in the same run; and the
surrogate's prediction latency per 1000 archs.

    python benchmarks/bench_surrogate.py                                   # the embedded default (Fashion-MNIST)
    python benchmarks/bench_surrogate.py --benchmark digits                # embedded digits
    python benchmarks/bench_surrogate.py --benchmark build --data-dir DIR  # a build directory
"""
import sys

from robbench_plugin.cli import main

if __name__ == "__main__":
    sys.exit(main(["surrogate-eval", *sys.argv[1:]]))
