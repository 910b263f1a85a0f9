"""NASLib's own optimizers on the robust benchmark. These tests run in the NASLib environment
(NASLib is not on PyPI; docs/naslib.md, scripts/naslib-env.sh); where NASLib is not importable
this file is not collected (tests/conftest.py), so nothing here is ever a skip."""
from pathlib import Path

import pytest

pytestmark = pytest.mark.naslib
naslib_adapter = pytest.importorskip("robbench_plugin.adapters.naslib")
from naslib.search_spaces.core.query_metrics import Metric  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def api():
    return naslib_adapter.get_dataset_api("digits", objective="robust")  # the embedded benchmark


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


def test_naslib_zero_cost_synflow_ranks_like_ours():
    """NASLib's synflow (log-scaled, BN switched off, conv/linear weights only) on our networks
    ranks architectures like the package's own synflow (all parameters, BN in eval mode)."""
    import math

    import torch
    from scipy.stats import spearmanr

    from robbench_plugin.proxies import compute_proxies
    from robbench_plugin.train import build_model

    torch.manual_seed(0)
    x, y = torch.rand(8, 1, 8, 8), torch.randint(0, 10, (8,))
    ours, theirs = [], []
    for uid in (0, 7, 100, 1000, 1462, 3000, 5000, 9000):
        ours.append(math.log(compute_proxies(uid, x, y, 10, C=4, N=1)["synflow"]))
        torch.manual_seed(0)
        model = build_model(uid, 10, C=4, N=1, in_channels=1)
        theirs.append(naslib_adapter.zero_cost_scores(model, x, y, 10, methods=("synflow",))["synflow"])
    assert spearmanr(ours, theirs)[0] > 0.9
    with pytest.raises(ValueError, match="zero-cost"):
        naslib_adapter.zero_cost_scores(model, x, y, 10, methods=("nope",))


def test_predictor_evaluator_runs_unchanged(api):
    """NASLib's PredictorEvaluator on our benchmark: an oracle predictor that answers from the
    table ranks the test set perfectly, a learned one (NASLib's MLP) ranks it positively."""
    import sklearn
    from naslib.predictors import MLPPredictor
    from naslib.predictors.predictor import Predictor
    from naslib.utils.encodings import EncodingType

    assert tuple(int(v) for v in sklearn.__version__.split(".")[:2]) < (1, 6), (
        "NASLib's evaluator turns every metric into NaN on scikit-learn >= 1.6: the NASLib environment pins "
        "scikit-learn<1.6 (docs/naslib.md)")
    bench = api["robbench"]

    class TableOracle(Predictor):
        def fit(self, xtrain, ytrain, train_info=None):
            return 0

        def query(self, xtest, info=None):
            return [bench.query(a.arch_string(), "robust") for a in xtest]

    res = naslib_adapter.evaluate_predictor(TableOracle(), api, train_sizes=(10,), test_size=40)
    assert res[0]["spearman"] == pytest.approx(1.0)
    assert len(res[0]["full_ytest"]) == 40
    robust = set(100 * bench.to_frame(["robust"])[bench.resolve_metric("robust")].round(6))
    assert {round(v, 4) for v in res[0]["full_ytest"]} <= {round(v, 4) for v in robust}
    mlp = MLPPredictor(encoding_type=EncodingType.ADJACENCY_ONE_HOT, hpo_wrapper=False)
    res = naslib_adapter.evaluate_predictor(mlp, api, train_sizes=(20, 80), test_size=60, seed=1)
    assert [r["train_size"] for r in res] == [20, 80]
    assert res[-1]["spearman"] > 0.2


def test_proxies_command_adds_naslib_scores(tmp_path):
    """robbench proxies passes NASLib's zero-cost scorer to the core (which imports no adapter):
    its columns sit beside the package's own proxies, on the same networks."""
    import pandas as pd

    from robbench_plugin.cli import main

    out = tmp_path / "p.csv"
    assert main(["proxies", "--n", "3", "--batch", "4", "--naslib", "--out", str(out)]) == 0
    df = pd.read_csv(out)
    assert len(df) == 3
    assert {f"naslib_{m}" for m in naslib_adapter.ZERO_COST_METHODS} <= set(df.columns)
    assert {"ntk_cond", "synflow", "jacov"} <= set(df.columns)


def test_a_partial_table_is_refused_for_naslibs_searchers(digits):
    """NASLib's searchers may ask for any cell: a table that lacks classes is refused up front."""
    from robbench_plugin.errors import InvalidValueError
    from robbench_plugin.objective import Benchmark
    from robbench_plugin.table import Table

    frame = digits.table.frame
    part = Benchmark(Table.from_frame(frame[frame["uid"].isin(digits.uids[:100])], digits.table.meta), "digits")
    with pytest.raises(InvalidValueError, match="has values for 100 of the 6466 classes"):
        naslib_adapter.get_dataset_api(part, objective="robust")
