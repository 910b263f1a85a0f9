"""NASLib's own optimizers (regularized evolution, local search, BANANAS...) on the robust
benchmark, maximizing robust accuracy. NASLib is not on PyPI: see docs/naslib.md.

    PYTHONPATH=/path/to/NASLib python examples/naslib_regularized_evolution.py [--optimizer re] [--epochs 100]
"""
from __future__ import annotations

import argparse

from robbench_plugin import DEFAULT_BENCHMARK
from robbench_plugin.adapters.naslib import get_dataset_api, make_config, run_optimizer


def main(benchmark=DEFAULT_BENCHMARK, optimizer: str = "re", epochs: int = 100, objective: str = "robust",
         seed: int = 0, **load_kw):
    dataset_api = get_dataset_api(benchmark, objective=objective, **load_kw)
    config = make_config(optimizer, epochs=epochs, seed=seed, population_size=30, sample_size=10, num_init=10)
    opt, trainer = run_optimizer(optimizer, dataset_api, config=config)
    best = opt.get_final_architecture()
    bench = dataset_api["robbench"]
    values = bench.query(best.arch_string(), ["clean", "robust", "params"])
    print(f"NASLib {optimizer}, {epochs} architectures, maximizing {objective}: {best.arch_string()}")
    print("  " + "  ".join(f"{k} {v:.4f}" for k, v in values.items()))
    return opt, trainer


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--optimizer", default="re", choices=["rs", "re", "ls", "bananas", "npenas"])
    ap.add_argument("--epochs", type=int, default=100, help="number of architectures NASLib evaluates")
    ap.add_argument("--objective", default="robust", help="robust, clean, any accuracy metric, or scalarized:W")
    ap.add_argument("--benchmark", default=DEFAULT_BENCHMARK)
    args = ap.parse_args()
    main(args.benchmark, args.optimizer, args.epochs, args.objective)
