"""Several worker processes share one Optuna study through a storage (journal file or SQLite).

    python examples/optuna_parallel_workers.py --storage journal:study.log --workers 4 --trials 200
    python examples/optuna_parallel_workers.py --storage sqlite:///study.db --workers 4 --trials 200

Each worker runs an exact share of the budget, so the study ends with exactly --trials trials. On many machines, use an
RDB URL such as ``postgresql://user:pass@host/db`` (needs ``psycopg2``) and run the same command on
each machine.
"""
from __future__ import annotations

import argparse

from robbench_plugin.adapters.optuna import optimize_parallel


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--storage", default="journal:robbench-study.log")
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--benchmark", default="digits")
    ap.add_argument("--data-dir", default=None)
    a = ap.parse_args(argv)
    kw = {"benchmark": a.benchmark, **({"data_dir": a.data_dir} if a.data_dir else {})}
    study = optimize_parallel(a.storage, a.workers, a.trials, objectives=["clean", "robust"], **kw)
    print(f"{len(study.trials)} trials, {len(study.best_trials)} on the front")
    return study


if __name__ == "__main__":
    main()
