import pytest

pytest.importorskip("torch")
ray = pytest.importorskip("ray")

from robbench_plugin.train.builder import BuildPlan, build, read_shards  # noqa: E402
from robbench_plugin.train.recipe import Recipe  # noqa: E402


def test_ray_backend_builds_the_same_jobs_as_local(tmp_path):
    plan = BuildPlan(dataset="digits", recipe=Recipe.preset("tiny").replace(epochs=1), uids=(0, 1, 10, 1000),
                     extra_fraction=0.0)
    try:
        n = build(tmp_path / "ray", plan, workers=2, backend="ray", progress=False)
    finally:
        ray.shutdown()
    local = build(tmp_path / "local", plan, workers=1, backend="local", progress=False)
    assert n == local == 4
    by_ray = {(r["uid"], r["seed"]): r for r in read_shards(tmp_path / "ray")}
    by_local = {(r["uid"], r["seed"]): r for r in read_shards(tmp_path / "local")}
    assert set(by_ray) == set(by_local) == {(0, 0), (1, 0), (10, 0), (1000, 0)}
    for key in by_ray:  # deterministic training: same results on either backend
        assert by_ray[key]["epochs"][-1]["val_acc"] == by_local[key]["epochs"][-1]["val_acc"]
