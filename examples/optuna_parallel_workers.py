"""Several worker processes share one Optuna study through a storage (journal file or SQLite).

    python examples/optuna_parallel_workers.py --storage journal:study.log --workers 4 --trials 200
    python examples/optuna_parallel_workers.py --storage sqlite:///study.db --workers 4 --trials 200

Each worker runs an exact share of the trials the study still lacks, so the study ends with exactly --trials trials,
also when the command runs again on the same storage (it resumes, never adds more). Without --storage the study lives in
a temporary journal that is removed at the end. On many machines, use an RDB URL such as
``postgresql://user:pass@host/db`` (needs ``psycopg``) and run the same command on each machine.
"""
from __future__ import annotations

import argparse
import tempfile

import optuna

from robbench_plugin import DEFAULT_BENCHMARK
from robbench_plugin.adapters.optuna import make_storage, optimize_parallel


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--storage", default=None, help="journal:PATH or an RDB URL (default: a temporary journal)")
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--benchmark", default=DEFAULT_BENCHMARK)
    ap.add_argument("--data-dir", default=None)
    a = ap.parse_args(argv)
    kw = {"benchmark": a.benchmark, **({"data_dir": a.data_dir} if a.data_dir else {})}
    with tempfile.TemporaryDirectory(prefix="robbench-study-") as tmp:
        storage = a.storage or f"journal:{tmp}/study.log"
        study = optimize_parallel(storage, a.workers, a.trials, objectives=["clean", "robust"], **kw)
        if a.storage is None:  # keep the study in memory once its temporary journal is gone
            memory = optuna.storages.InMemoryStorage()
            optuna.copy_study(from_study_name=study.study_name, from_storage=make_storage(storage), to_storage=memory)
            study = optuna.load_study(study_name=study.study_name, storage=memory)
    print(f"{len(study.trials)} trials, {len(study.best_trials)} on the front")
    return study


if __name__ == "__main__":
    main()
