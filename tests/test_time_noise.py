"""benchmarks/time_noise.py where every class has two seeds (Fashion-MNIST): the op-count model is
fitted on the first seed of half the classes and scored against the second seed of the other half,
checked on planted recorded seconds whose answer is known."""
from __future__ import annotations


import numpy as np
import pytest

from robbench_plugin.stats import kendall
from robbench_plugin.time_model import design_matrix

from .helpers import load_script

COST = np.array([0.1, 0.013, 0.107, 0.219, 0.071])  # seconds per epoch: constant, skip, 1x1, 3x3, pool
EPOCHS = 6


def _time_noise():
    return load_script("benchmarks/time_noise.py")


class _Planted:
    """What the held-out comparison reads of a table: two seed labels, the classes, the epochs and
    each class's recorded training seconds (all epochs) per seed."""

    seeds = ("0", "1", "mean")
    fidelities = list(range(1, EPOCHS + 1))

    def __init__(self, uids, first, second):
        self.uids = uids
        self._seconds = {"0": dict(zip(uids, first)), "1": dict(zip(uids, second))}

    def recorded_seconds(self, uids, label):
        return np.array([self._seconds[label][u] for u in uids])


def _planted(first_noisy: bool, n: int = 600):
    rng = np.random.default_rng(5)
    uids = np.sort(rng.choice(15625, n, replace=False))
    exact = EPOCHS * design_matrix(uids) @ COST
    noisy = exact * rng.lognormal(0.0, 0.4, n)
    return _Planted(uids, *((noisy, exact) if first_noisy else (exact, noisy))), exact


def test_a_model_of_exact_first_seeds_ranks_the_second_as_they_do():
    bench, _ = _planted(first_noisy=False)
    out = _time_noise()._half_split(bench)
    assert out["time_model_classes"] == 300 and out["time_seed_classes"] == 300
    # fitted on exact seconds, the median regression recovers the costs: on the held-out classes
    # its predictions order them as their own first seeds do (up to rounding of equal sums)
    assert out["time_tau_model_seeds"] == pytest.approx(out["time_tau_seeds"], abs=1e-3)
    assert 0.2 < out["time_tau_seeds"] < 0.9


def test_a_model_of_noisy_first_seeds_ranks_the_exact_second_better_than_they_do():
    bench, exact = _planted(first_noisy=True)
    out = _time_noise()._half_split(bench)
    first = bench.recorded_seconds(bench.uids, "0")
    assert out["time_tau_seeds"] < kendall(first, exact) + 0.1  # the held half, about as noisy as all
    assert out["time_tau_model_seeds"] > 0.9 > out["time_tau_seeds"] + 0.25
