import pytest

pytest.importorskip("torch")
ray = pytest.importorskip("ray")
pytestmark = pytest.mark.slow  # the CI tier: starting Ray takes most of half a minute

from robbench_plugin.train.builder import BuildPlan, build, read_shards  # noqa: E402
from robbench_plugin.train.recipe import Recipe  # noqa: E402


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray instance (2 CPUs) for the module: starting Ray is the slow part."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_ray_backend_builds_the_same_jobs_as_local(tmp_path, local_ray):
    plan = BuildPlan(dataset="digits", recipe=Recipe.preset("tiny").replace(epochs=1), uids=(0, 1, 10, 1000),
                     extra_fraction=0.0)
    n = build(tmp_path / "ray", plan, workers=2, backend="ray", progress=False)
    local = build(tmp_path / "local", plan, workers=1, backend="local", progress=False)
    assert n == local == 4
    by_ray = {(r["uid"], r["seed"]): r for r in read_shards(tmp_path / "ray")}
    by_local = {(r["uid"], r["seed"]): r for r in read_shards(tmp_path / "local")}
    assert set(by_ray) == set(by_local) == {(0, 0), (1, 0), (10, 0), (1000, 0)}
    for key in by_ray:  # deterministic training: same results on either backend
        assert by_ray[key]["epochs"][-1]["val_acc"] == by_local[key]["epochs"][-1]["val_acc"]


def test_live_prefetch_on_ray_trains_missing_classes_once(tmp_path, local_ray):
    """A batch of live-mode proposals trained on Ray (local mode): one run per new class, the
    same values as training in this process, and nothing retrained afterwards."""
    from robbench_plugin import Arch
    from robbench_plugin.live import LiveBenchmark, ResultsStore
    from robbench_plugin.train import train

    recipe = Recipe.preset("tiny").replace(epochs=1)
    bench = LiveBenchmark("digits", recipe, store=ResultsStore(tmp_path), device="cpu")
    a = Arch.from_index(10)
    twin = next(i for i in range(15625) if i != a.index and Arch.from_index(i).uid == a.uid)  # same class
    assert bench.prefetch([a.index, twin, 1000], workers=2, backend="ray") == 2
    assert bench.prefetch([1000, a.uid], workers=1) == 0  # all stored: nothing to train
    direct = train(1000, "digits", recipe, seed=0, device="cpu")
    assert bench.query(1000, "val_acc") == direct.final["val_acc"]
    assert len(bench.store.runs(status="done")) == 2
