"""NASLib's own optimizers on the robust benchmark. Skipped when NASLib is not importable
(it is not on PyPI; see docs/naslib.md for the set-up these tests were run with)."""
import importlib.util
from pathlib import Path

import pytest

if importlib.util.find_spec("naslib") is None:
    pytest.skip("NASLib not on PYTHONPATH", allow_module_level=True)

pytestmark = pytest.mark.naslib
naslib_adapter = pytest.importorskip("robbench_plugin.adapters.naslib")
from naslib.search_spaces.core.query_metrics import Metric  # noqa: E402

from .helpers import curves_bench  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def api():
    return naslib_adapter.get_dataset_api(curves_bench(), objective="robust")


@pytest.mark.parametrize("name", ["rs", "re", "ls", "bananas", "npenas"])
def test_optimizer_incumbent_equals_table(api, name, tmp_path):
    cfg = naslib_adapter.make_config(name, epochs=25, seed=0, save_dir=str(tmp_path),
                                     config_file=str(ROOT / "adapters" / "naslib" / f"robust_{name}.yaml"),
                                     num_init=5, population_size=10, sample_size=3, num_candidates=20, k=5)
    cfg.search.epochs = 25
    opt, trainer = naslib_adapter.run_optimizer(name, api, config=cfg)
    best = opt.get_final_architecture()
    bench = api["robbench"]
    value = best.query(Metric.VAL_ACCURACY, "cifar10", dataset_api=api)
    assert value == pytest.approx(100 * bench.query(best.arch_string(), "robust"))
    # the incumbent is the best robust accuracy among what the trainer logged
    assert max(trainer.search_trajectory.valid_acc) == pytest.approx(value)


def test_query_mapping(api):
    ss = naslib_adapter.RobustNasBench201SearchSpace()
    ss.set_op_indices([2, 3, 1, 0, 4, 2])  # NASLib's own op-index order, converted through strings
    bench = api["robbench"]
    s = ss.arch_string()
    assert ss.query(Metric.PARAMETERS, dataset_api=api) == bench.query(s, "params")
    assert ss.query(Metric.TRAIN_TIME, dataset_api=api) == pytest.approx(bench.train_time(s))
    lc = ss.query(Metric.VAL_ACCURACY, full_lc=True, dataset_api=api)
    assert lc == pytest.approx([100 * v for _, v in sorted(bench.curve(s, "robust").items())])
    clean = naslib_adapter.get_dataset_api(bench, objective="scalarized:0.5")
    v = ss.query(Metric.VAL_ACCURACY, dataset_api=clean)
    assert v == pytest.approx(50 * (bench.query(s, "clean") + bench.query(s, "robust")))
    with pytest.raises(ValueError, match="metric"):
        naslib_adapter.get_dataset_api(bench, objective="accuracy")


@pytest.mark.parametrize("name", ["re", "rs"])
def test_evaluated_architectures_match_naslib_incumbent(api, name, tmp_path):
    """The recorded sequence has one architecture per NASLib epoch, and its best value is the
    incumbent NASLib itself reports after the same seeded run."""
    kw = {"num_init": 5, "population_size": 10, "sample_size": 3}
    archs = naslib_adapter.evaluated_architectures(name, api, budget=20, seed=3, **kw)
    assert len(archs) == 20
    bench = api["robbench"]
    best_recorded = max(bench.query(a, "robust") for a in archs)
    cfg = naslib_adapter.make_config(name, epochs=20, seed=3, save_dir=str(tmp_path), **kw)
    opt, _ = naslib_adapter.run_optimizer(name, api, config=cfg)
    assert best_recorded == pytest.approx(bench.query(opt.get_final_architecture().arch_string(), "robust"))


def test_compare_includes_naslib_searchers(tmp_path, synthetic_release):
    import pandas as pd

    from robbench_plugin import load_benchmark
    from robbench_plugin.compare import CompareSpec, compare

    cspec = CompareSpec("nas-robbench-201", "cifar10", str(synthetic_release), budget=15)
    lines = []
    summary = compare(["naslib:re", "naslib:rs", "random"], 1, cspec, tmp_path / "c", workers=1,
                      log=lines.append)
    assert not any(line.startswith("skipping") for line in lines)
    ev = pd.read_csv(tmp_path / "c" / "evaluations.csv")
    assert ev.groupby("searcher").size().to_dict() == {"naslib:re": 15, "naslib:rs": 15, "random": 15}
    b = load_benchmark("nas-robbench-201", dataset="cifar10", data_dir=synthetic_release)
    row = ev[ev.searcher == "naslib:re"].iloc[-1]
    assert row["val_acc"] == pytest.approx(b.query(int(row["index"]), "clean"))
    assert set(summary.searcher) == {"naslib:re", "naslib:rs", "random"}
