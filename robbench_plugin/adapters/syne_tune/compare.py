"""The Syne Tune part of ``robbench compare``: what one of its searchers evaluates in a run."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from ...errors import InvalidChoiceError, InvalidValueError
from .blackbox import (CONFIG_KEYS, METRIC_ROBUST_ERROR, METRIC_TIME_THIS_RESOURCE, METRIC_VALID_ERROR,
                       epochs_of_levels, fidelity_attr, load_blackbox)
from .simulation import MULTI_FIDELITY, MULTI_OBJECTIVE, make_scheduler, simulate

# objectives of a comparison -> the blackbox's metric Syne Tune minimises
COMPARE_METRICS = {"clean": METRIC_VALID_ERROR, "robust": METRIC_ROBUST_ERROR, "params": "metric_params",
                   "flops": "metric_flops"}
# budgeted in simulated training time; the other Syne Tune searchers in trials (one more is started
# because the tuner stops the trial it started last; the rows are cut at ``budget`` evaluations)
MULTI_FIDELITY_COMPARE = MULTI_FIDELITY


def searcher_trace(name: str, bench: Any, objectives: Sequence[str], budget: int, seed: int,
                   table_seed: str = "mean") -> pd.DataFrame:
    """What Syne Tune's ``name`` evaluates on ``bench`` in one ``robbench compare`` run, in order
    of the simulator's clock: ``index``, ``epoch``, ``epochs_trained`` and ``runtime`` (s). The
    blackbox holds the table's ``table_seed`` (a label, or ``mean`` over each class's seeds), as
    every searcher of the comparison sees it.

    Multi-fidelity searchers (:data:`MULTI_FIDELITY_COMPARE`) get the training time that
    ``budget`` full evaluations of the average architecture (over all 15625, as random search
    draws them) take; the others ``budget`` trials."""
    import logging

    from ...problem import arch_from_params

    logging.getLogger("syne_tune").setLevel(logging.ERROR)
    missing = [o for o in objectives if o not in COMPARE_METRICS]
    if missing:
        raise InvalidChoiceError("objective for Syne Tune searchers", missing[0], list(COMPARE_METRICS))
    if len(objectives) > 1 and name not in MULTI_OBJECTIVE:
        raise InvalidValueError(f"syne-tune:{name} optimises one objective, the task has {len(objectives)}; "
                                f"valid: syne-tune:{', syne-tune:'.join(MULTI_OBJECTIVE)}")
    bb = load_blackbox(bench, seeds=[table_seed])
    metrics = [COMPARE_METRICS[o] for o in objectives]
    budget_time = budget * bench.mean_train_time()
    multi_fidelity = name in MULTI_FIDELITY_COMPARE
    df = simulate(bb, make_scheduler(name, bb, metrics=metrics, seed=seed), n_workers=1, seed=0,
                  **({"max_training_time": budget_time} if multi_fidelity else {"max_num_trials": budget + 1}))
    df = df.dropna(subset=[metrics[0]]).sort_values("st_tuner_time", kind="stable")
    idx = np.array([arch_from_params(dict(zip(CONFIG_KEYS, r)), names=CONFIG_KEYS).index
                    for r in df[list(CONFIG_KEYS)].itertuples(index=False)], dtype=np.int64)
    epoch_of = {0: 0, **epochs_of_levels(bb)}
    levels = df[fidelity_attr(bb)].astype(int).to_numpy()
    epochs = np.array([epoch_of[int(v)] for v in levels])
    prev_epoch = np.array([epoch_of[int(v) - 1] for v in levels])
    runtime = df[METRIC_TIME_THIS_RESOURCE].astype(float).to_numpy()
    trace = pd.DataFrame({"index": idx, "epoch": epochs, "epochs_trained": epochs - prev_epoch, "runtime": runtime})
    if multi_fidelity:
        keep = np.cumsum(runtime) <= budget_time * (1 + 1e-9)
    else:
        keep = np.cumsum(trace["epochs_trained"].to_numpy()) / max(epoch_of.values()) <= budget + 1e-9
    return trace[keep].reset_index(drop=True)
