"""Syne Tune's own blackbox-repository checks (its ``tst/blackbox_repository``: interface
invariants, fidelity calls, tabular serialization round trip, ``add_surrogate``, elapsed-time
consistency with the dense resource check, pause and resume on the simulated backend), restated
against every blackbox this package produces: the embedded Fashion-MNIST table (the default, on
``hp_epoch``) and digits table (on ``hp_level``), a release (synthetic, in the release format), the
surrogate of Fashion-MNIST, a small table that records every epoch (``hp_epoch``) and the
Fashion-MNIST table as ``robbench export --format syne-tune`` writes it, read back with Syne Tune's
own ``deserialize``."""
from __future__ import annotations

import logging

import numpy as np
import pytest

pytest.importorskip("syne_tune")
pytest.importorskip("fastparquet")

from syne_tune.blackbox_repository import add_surrogate  # noqa: E402
from syne_tune.blackbox_repository.blackbox_tabular import BlackboxTabular, deserialize, serialize  # noqa: E402
from syne_tune.blackbox_repository.simulated_tabular_backend import UserBlackboxBackend  # noqa: E402
from syne_tune.blackbox_repository.utils import metrics_for_configuration  # noqa: E402
from syne_tune.optimizer.schedulers.searchers.random_searcher import RandomSearcher  # noqa: E402

from robbench_plugin.adapters.syne_tune import (CONFIG_KEYS, EPOCH_ATTR, LEVEL_ATTR,  # noqa: E402
                                                METRIC_ELAPSED_TIME, METRIC_ROBUST_ERROR, fidelity_attr,
                                                load_blackbox)

logging.getLogger("syne_tune").setLevel(logging.ERROR)
BLACKBOXES = ["fashion-mnist", "digits", "release", "fashion-mnist-surrogate", "every-epoch", "fashion-mnist-exported"]


def _load(name: str, synthetic_release):
    if name in ("fashion-mnist", "digits"):
        return load_blackbox(name)
    if name == "fashion-mnist-exported":  # the folder a Syne Tune maintainer would host, deserialized
        from robbench_plugin.adapters.syne_tune.export import export_blackboxes

        folder = synthetic_release.parent / "exported-fashion-mnist"
        if not folder.exists():
            export_blackboxes("fashion-mnist", folder)
        (task, bb), = deserialize(str(folder)).items()
        import json

        bb.robbench_metadata = json.loads((folder / "metadata.json").read_text())["robbench"][task]
        return bb
    if name == "release":
        return load_blackbox("nas-robbench-201", dataset="cifar10", data_dir=str(synthetic_release))
    if name == "every-epoch":  # accuracies after epochs 1, 2, 3, 4 (like Fashion-MNIST's), two seeds
        from .helpers import curves_bench

        return load_blackbox(curves_bench(seeds=("0", "1"), epochs=(1, 2, 3, 4)), cache=False)
    pytest.importorskip("lightgbm")
    return load_blackbox("fashion-mnist", mode="surrogate")


@pytest.fixture(scope="module", params=BLACKBOXES)
def blackbox(request, synthetic_release):
    return _load(request.param, synthetic_release)


@pytest.fixture(scope="module", params=[b for b in BLACKBOXES if b != "release"])
def multi_fidelity_blackbox(request, synthetic_release):
    """The blackboxes with several fidelities (the release has one: its final epoch, so there is
    nothing to pause between; ``test_the_release_has_one_fidelity`` checks that)."""
    return _load(request.param, synthetic_release)


def test_the_release_has_one_fidelity(synthetic_release):
    bb = _load("release", synthetic_release)
    assert list(bb.fidelity_values) == [1] and bb.robbench_metadata["fidelities"] == [50]


def _configs(blackbox, n: int, seed: int) -> list[dict]:
    searcher = RandomSearcher(config_space=blackbox.configuration_space, random_seed=seed)
    return [searcher.suggest() for _ in range(n)]


def test_interface_invariants_and_fidelity_calls(blackbox):
    assert isinstance(blackbox, BlackboxTabular)
    assert list(blackbox.configuration_space) == list(blackbox.hyperparameters.columns) == list(CONFIG_KEYS)
    (attr, domain), = blackbox.fidelity_space.items()
    n_fid = len(blackbox.fidelity_values)
    every_epoch = blackbox.robbench_metadata["fidelities"] == list(range(1, n_fid + 1))
    assert attr == fidelity_attr(blackbox) == (EPOCH_ATTR if every_epoch else LEVEL_ATTR)
    assert (domain.lower, domain.upper) == (1, n_fid)
    assert list(blackbox.fidelity_values) == list(range(1, n_fid + 1))  # dense 1..num_fidelities
    assert blackbox.objectives_evaluations.shape == (15625, blackbox.num_seeds, n_fid, len(blackbox.objectives_names))
    # without a seed, Syne Tune draws one per call from a blackbox with several (Fashion-MNIST has 2)
    for config in _configs(blackbox, 5, seed=0):
        per_fidelity = blackbox.objective_function(config, seed=0)  # all fidelities: (num_fidelities, num_objectives)
        assert per_fidelity.shape == (n_fid, len(blackbox.objectives_names))
        for level in blackbox.fidelity_values:
            as_dict = blackbox.objective_function(config, {attr: int(level)}, seed=0)
            assert blackbox.objective_function(config, int(level), seed=0) == as_dict
            assert blackbox(config, int(level), seed=0) == as_dict
            assert np.allclose(list(as_dict.values()), per_fidelity[int(level) - 1])
            seed = blackbox.num_seeds - 1
            assert np.allclose(list(blackbox.objective_function(config, int(level), seed=seed).values()),
                               blackbox.objectives_evaluations[blackbox.hyperparameters.index[
                                   (blackbox.hyperparameters == config).all(axis=1)][0], seed, int(level) - 1])


def test_tabular_serialization_round_trip(blackbox, tmp_path):
    serialize({"task": blackbox}, str(tmp_path))
    back = deserialize(str(tmp_path))["task"]
    assert np.all(back.fidelity_values == blackbox.fidelity_values)
    assert back.objectives_names == blackbox.objectives_names
    np.testing.assert_allclose(back.objectives_evaluations.reshape(-1), blackbox.objectives_evaluations.reshape(-1))
    config = _configs(blackbox, 1, seed=1)[0]
    assert back.num_seeds == blackbox.num_seeds
    for seed in range(blackbox.num_seeds):
        assert back.objective_function(config, 1, seed=seed) == blackbox.objective_function(config, 1, seed=seed)


def test_add_surrogate_answers_table_configurations(blackbox):
    """Syne Tune's add_surrogate (default: 1-nearest neighbour) on a configuration the table holds
    gives the table's values back: whole curves (its default for tabular blackboxes), and one
    fidelity at a time with the fidelity as an input. (Asking the curve surrogate for one fidelity
    returns only the first objective in Syne Tune 0.16, an upstream indexing slip, so the curve is
    compared whole.)"""
    curves = add_surrogate(blackbox)
    per_level = add_surrogate(blackbox, predict_curves=False)
    i = blackbox.objectives_names.index(METRIC_ROBUST_ERROR)
    for config in _configs(blackbox, 5, seed=2):
        want = blackbox.objective_function(config, seed=0)
        assert np.allclose(np.asarray(curves.objective_function(config, seed=0))[:, i], want[:, i], atol=1e-6)
        for level in blackbox.fidelity_values:
            got = per_level.objective_function(config, {fidelity_attr(blackbox): int(level)}, seed=0)
            assert got[METRIC_ROBUST_ERROR] == pytest.approx(want[int(level) - 1, i], abs=1e-6)


def test_elapsed_time_consistency_with_the_dense_resource_check(blackbox):
    n_fid = len(blackbox.fidelity_values)
    for config in _configs(blackbox, 20, seed=382378624 % 2**31):
        for seed in range(blackbox.num_seeds):
            results = metrics_for_configuration(blackbox=blackbox, config=config, time_attr=fidelity_attr(blackbox),
                                                seed=seed)
            assert len(results) == n_fid
            elapsed = [np.nan] * n_fid
            for result in results:
                resource = int(result[fidelity_attr(blackbox)])
                assert 1 <= resource <= n_fid, result
                elapsed[resource - 1] = float(result[METRIC_ELAPSED_TIME])
            assert not np.isnan(elapsed).any()
            assert all(a < b for a, b in zip(elapsed[:-1], elapsed[1:]))  # strictly increasing
            steps = np.diff([0.0] + elapsed)
            median = np.median(steps)
            assert ((steps >= 0.01 * median) & (steps <= 100 * median)).all()  # no extreme epoch times


def test_pause_and_resume_on_the_simulated_backend(multi_fidelity_blackbox):
    blackbox = multi_fidelity_blackbox
    n_fid = len(blackbox.fidelity_values)
    assert n_fid >= 3
    backend = UserBlackboxBackend(blackbox=blackbox, elapsed_time_attr=METRIC_ELAPSED_TIME, seed=0)
    configs = _configs(blackbox, 2, seed=3)
    curves = [blackbox.objective_function(c, seed=0) for c in configs]
    i_metric = blackbox.objectives_names.index(METRIC_ROBUST_ERROR)
    i_time = blackbox.objectives_names.index(METRIC_ELAPSED_TIME)
    backend.time_keeper.start_of_time()
    for config in configs:
        backend.start_trial(config)
    step = max(float(c[-1, i_time]) for c in curves)
    backend.time_keeper.advance(step)
    _, results = backend.fetch_status_results(trial_ids=[0, 1])
    pause_at = [1, 2]
    found = [0, 0]
    for trial_id, result in results:
        level = int(result[fidelity_attr(blackbox)])
        assert result[METRIC_ROBUST_ERROR] == pytest.approx(curves[trial_id][level - 1, i_metric])
        assert result[METRIC_ELAPSED_TIME] == pytest.approx(curves[trial_id][level - 1, i_time])
        found[trial_id] += level <= pause_at[trial_id]
    assert found == pause_at
    for trial_id, level in enumerate(pause_at):
        backend.pause_trial(trial_id=trial_id, result={METRIC_ROBUST_ERROR: curves[trial_id][level - 1, i_metric],
                                                       METRIC_ELAPSED_TIME: curves[trial_id][level - 1, i_time],
                                                       fidelity_attr(blackbox): level})
    for trial_id in range(2):
        backend.resume_trial(trial_id)
    backend.time_keeper.advance(step)
    _, results = backend.fetch_status_results(trial_ids=[0, 1])
    resumed_at = [None, None]
    for trial_id, result in results:
        level = int(result[fidelity_attr(blackbox)])
        assert level > pause_at[trial_id]  # resumed, not started over
        resumed_at[trial_id] = min(level, resumed_at[trial_id] or level)
    assert resumed_at == [p + 1 for p in pause_at]
