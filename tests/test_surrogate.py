import numpy as np
import pandas as pd
import pytest

pytest.importorskip("sklearn")
from scipy.stats import kendalltau  # noqa: E402

from robbench_plugin.costs import all_costs  # noqa: E402
from robbench_plugin.errors import DataFileError  # noqa: E402
from robbench_plugin.objective import Benchmark  # noqa: E402
from robbench_plugin.space import index_to_ops_array, unique_indices  # noqa: E402
from robbench_plugin.surrogate import (SurrogateBenchmark, SurrogateModel, evaluate_surrogate,  # noqa: E402
                                       features)
from robbench_plugin.table import Table, TableMeta  # noqa: E402


def known_function_rows() -> pd.DataFrame:
    """Accuracy = a fixed function of the cell (op counts, convs into the output, one
    interaction) rising with epochs; no noise. Everything it depends on is in the features."""
    uids = unique_indices()
    ops = index_to_ops_array()[uids].astype(int)
    conv = np.isin(ops, (2, 3))
    score = conv.sum(1) * 0.08 + (ops == 3).sum(1) * 0.04 + conv[:, 3:].sum(1) * 0.05 \
        - (ops == 0).sum(1) * 0.03 + 0.05 * (conv[:, 0] & conv[:, 4])
    rows = []
    for e in (1, 2, 4):
        frac = 1 - 0.5 ** e
        rows += [("digits", u, "val_acc", e, "0", 0.2 + s * frac) for u, s in zip(uids, score)]
        rows += [("digits", u, "val_pgd_48.0_acc", e, "0", 0.1 + 0.5 * s * frac) for u, s in zip(uids, score)]
    return pd.DataFrame(rows, columns=["dataset", "uid", "metric", "fidelity", "seed", "value"])


def known_function_bench():
    df = known_function_rows()
    meta = TableMeta(name="known", aliases={"clean": "val_acc", "robust": "val_pgd_48.0_acc"}, C=8, N=1)
    return Benchmark(Table.from_frame(df, meta), "digits")


@pytest.fixture(scope="module")
def kb():
    return known_function_bench()


def test_recovers_ordering_of_known_function(kb):
    # A noise-free function of encoded features: with 25% of classes, held-out tau > 0.9
    # (the remaining error is ties and the GBDT's piecewise-constant fit, not noise).
    rng = np.random.default_rng(0)
    perm = rng.permutation(kb.uids)
    tr, te = perm[:1600], perm[1600:]
    model = SurrogateModel.fit(kb, ["robust"], uids=tr, n_models=2, n_estimators=150)
    for f in (1, 4):
        pred, std = model.predict(te, "val_pgd_48.0_acc", f)
        truth = kb.query_many(te, ["robust"], fidelity=f)["val_pgd_48.0_acc"].to_numpy()
        assert kendalltau(pred, truth)[0] > 0.9
        # mean and std are those of the members' own predictions (two bootstraps: they differ)
        X = features(te, np.full(len(te), f), all_costs("digits", 8, 1))
        members = np.stack([m.predict(X) for m in model.models["val_pgd_48.0_acc"]])
        assert np.allclose(pred, np.clip(members.mean(0), 0, 1)) and np.allclose(std, members.std(0))
        assert (std > 0).mean() > 0.5


def test_surrogate_benchmark_behaves_like_tabular(kb):
    model = SurrogateModel.fit(kb, ["clean", "robust"], n_models=2, n_estimators=150)
    sb = SurrogateBenchmark(model)
    assert len(sb.uids) == 6466 and sb.fidelities == [1, 2, 4]
    q = sb.query(1000, ["clean", "robust", "params"])
    assert set(q) == {"val_acc", "val_pgd_48.0_acc", "params"}
    assert q["params"] == kb.query(1000, "params")
    df = sb.query_many(np.arange(100), ["robust"])
    assert np.allclose(df["val_pgd_48.0_acc"], [sb.query(i, "robust") for i in range(100)])
    assert set(sb.curve(1000, "robust")) == {1, 2, 4}
    assert sb.uncertainty(1000, "robust", 4) == pytest.approx(model.predict([1000], "val_pgd_48.0_acc", 4)[1][0])
    # the front is exactly the non-dominated classes of the predictions (brute force over all pairs)
    front = sb.pareto_front(["clean", "robust"])
    pts = sb.to_frame(["clean", "robust"])[["val_acc", "val_pgd_48.0_acc"]].to_numpy()
    dominated = ((pts[None, :, :] >= pts[:, None, :]).all(2) & (pts[None, :, :] > pts[:, None, :]).any(2)).any(1)
    assert sorted(map(tuple, front[["val_acc", "val_pgd_48.0_acc"]].to_numpy())) == sorted(map(tuple, pts[~dominated]))


def test_noise_is_deterministic_under_seed(kb):
    model = SurrogateModel.fit(kb, ["robust"], n_models=3, n_estimators=150)
    a = SurrogateBenchmark(model, noise=True, noise_seed=1).query_many(np.arange(200), ["robust"])
    b = SurrogateBenchmark(model, noise=True, noise_seed=1).query_many(np.arange(200), ["robust"])
    c = SurrogateBenchmark(model, noise=True, noise_seed=2).query_many(np.arange(200), ["robust"])
    clean = SurrogateBenchmark(model).query_many(np.arange(200), ["robust"])
    assert a.equals(b) and not a.equals(c) and not a.equals(clean)


def test_save_load_and_mismatch_errors(kb, tmp_path, monkeypatch):
    model = SurrogateModel.fit(kb, ["robust"], n_models=1, n_estimators=150)
    path = model.save(tmp_path / "s.rbs")
    back = SurrogateModel.load(path, expect_sha256=kb.table.sha256())
    assert np.array_equal(back.predict(np.arange(50), "val_pgd_48.0_acc")[0],
                          model.predict(np.arange(50), "val_pgd_48.0_acc")[0])
    with pytest.raises(DataFileError, match="not on this table"):
        SurrogateModel.load(path, expect_sha256="0" * 64)
    (tmp_path / "bad").write_bytes(b"nope")
    with pytest.raises(DataFileError, match="not a robbench surrogate"):
        SurrogateModel.load(tmp_path / "bad")
    (tmp_path / "old").write_bytes(b"RBSURR2\n" + bytes(8))
    with pytest.raises(DataFileError, match="older format: refit"):
        SurrogateModel.load(tmp_path / "old")


def test_the_file_keeps_what_predicts_and_drops_the_fits_statistics(kb, tmp_path):
    """The members are written without the per-node statistics of the fit (LightGBM's parser reads
    them as optional), and the loaded model predicts bit for bit what the fitted one does over every
    cell and fidelity; a file that holds them (as written before they were dropped) loads and
    predicts the same."""
    import json
    import lzma

    from robbench_plugin.space import NUM_ARCHS
    from robbench_plugin.surrogate.fileformat import _MAGIC, FIT_STATISTICS

    model = SurrogateModel.fit(kb, ["clean", "robust"], n_models=2, n_estimators=60)
    path = model.save(tmp_path / "s.rbs")
    data = path.read_bytes()
    n = int.from_bytes(data[len(_MAGIC):len(_MAGIC) + 8], "little")
    texts = [t for ts in json.loads(lzma.decompress(data[len(_MAGIC) + 8 + n:])).values() for t in ts]
    full = [b.model_to_string() for bs in model.models.values() for b in bs]
    assert all(f"\n{key}=" in t for t in full for key in FIT_STATISTICS)  # LightGBM writes them
    assert not any(f"\n{key}=" in t for t in texts for key in FIT_STATISTICS)
    assert all(t.count("Tree=") == f.count("Tree=") == 60 for t, f in zip(texts, full))
    with_statistics = tmp_path / "full.rbs"
    body = json.dumps({m: [b.model_to_string() for b in bs] for m, bs in model.models.items()}).encode()
    with_statistics.write_bytes(data[:len(_MAGIC) + 8 + n] + lzma.compress(body))
    cells = np.arange(NUM_ARCHS)
    for back in (SurrogateModel.load(path), SurrogateModel.load(with_statistics)):
        for metric in model.models:
            for fidelity in model.fidelities:
                ours, theirs = back.predict(cells, metric, fidelity), model.predict(cells, metric, fidelity)
                assert np.array_equal(ours[0], theirs[0]) and np.array_equal(ours[1], theirs[1])


def rewrite_header(path, out, **changes):
    """A copy of the saved surrogate at ``path`` with header fields changed."""
    import json

    from robbench_plugin.surrogate.fileformat import _MAGIC

    data = path.read_bytes()
    n = int.from_bytes(data[len(_MAGIC):len(_MAGIC) + 8], "little")
    head = json.loads(data[len(_MAGIC) + 8:len(_MAGIC) + 8 + n])
    head.update(changes)
    blob = json.dumps(head).encode()
    out.write_bytes(_MAGIC + len(blob).to_bytes(8, "little") + blob + data[len(_MAGIC) + 8 + n:])
    return out


def test_saved_model_is_lightgbm_text_and_outlives_the_package_version(kb, tmp_path):
    """The members are LightGBM's own text models (no pickle of our classes): a file written by
    another package version loads and predicts the same; another fit recipe or a corrupt body is
    an error that says to refit."""
    lgb = pytest.importorskip("lightgbm")
    import json
    import lzma

    from robbench_plugin.surrogate.fileformat import _MAGIC

    model = SurrogateModel.fit(kb, ["robust"], n_models=2, n_estimators=80)
    path = model.save(tmp_path / "s.rbs")
    data = path.read_bytes()
    n = int.from_bytes(data[len(_MAGIC):len(_MAGIC) + 8], "little")
    members = json.loads(lzma.decompress(data[len(_MAGIC) + 8 + n:]))
    assert list(members) == ["val_pgd_48.0_acc"] and len(members["val_pgd_48.0_acc"]) == 2
    # LightGBM alone (no robbench code) reads a member and predicts what the model's member predicts
    X = features(np.arange(40), np.full(40, 4), __import__("robbench_plugin.costs", fromlist=["all_costs"])
                 .all_costs("digits", 8, 1))
    alone = lgb.Booster(model_str=members["val_pgd_48.0_acc"][0]).predict(X)
    assert np.array_equal(alone, model.models["val_pgd_48.0_acc"][0].predict(X))
    other_version = rewrite_header(path, tmp_path / "v.rbs", written_by={"robbench-plugin": "9.9.9",
                                                                           "lightgbm": "0.0"})
    back = SurrogateModel.load(other_version, expect_sha256=kb.table.sha256())
    assert np.array_equal(back.predict(np.arange(300), "val_pgd_48.0_acc", 2)[0],
                          model.predict(np.arange(300), "val_pgd_48.0_acc", 2)[0])
    with pytest.raises(DataFileError, match="feature/fit versions .*refit"):
        SurrogateModel.load(rewrite_header(path, tmp_path / "f.rbs", fit_version=0))
    (tmp_path / "cut.rbs").write_bytes(data[:-100])
    with pytest.raises(DataFileError, match="corrupt surrogate body"):
        SurrogateModel.load(tmp_path / "cut.rbs")


def test_unusable_cached_file_is_refitted_not_a_crash(kb, tmp_path, monkeypatch, capsys):
    from robbench_plugin import surrogate as S

    monkeypatch.setenv("ROBBENCH_HOME", str(tmp_path))
    S.fitted_surrogate(kb, metrics=["robust"], n_models=1, n_estimators=40, progress=False)
    (cached,) = (tmp_path / "surrogates").glob("*.rbs")
    cached.write_bytes(cached.read_bytes()[:-50])  # e.g. a disk that filled up under another program
    again = S.fitted_surrogate(kb, metrics=["robust"], n_models=1, n_estimators=40, progress=False)
    assert "refitting the surrogate" in capsys.readouterr().err
    assert S.SurrogateModel.load(cached).n_models == 1 and again.metrics == ["val_pgd_48.0_acc"]


def test_bad_inputs(kb, synthetic_release):
    model = SurrogateModel.fit(kb, ["robust"], n_models=1, n_estimators=150)
    with pytest.raises(ValueError, match="surrogate metric"):
        model.predict(np.arange(3), "val_acc")
    with pytest.raises(ValueError, match="0..15624"):
        model.predict(np.array([15625]), "val_pgd_48.0_acc")
    with pytest.raises(ValueError, match="fidelity"):
        features(np.arange(3), np.array([-1, 0, 1]), {"params": np.zeros(15625), "flops": np.zeros(15625)})
    with pytest.raises(ValueError, match="computed exactly"):
        SurrogateModel.fit(kb, ["params"], n_estimators=150)
    with pytest.raises(ValueError, match="metric"):
        SurrogateModel.fit(kb, ["accuracy"], n_estimators=150)
    with pytest.raises(ValueError, match="backend"):
        SurrogateModel.fit(kb, ["robust"], backend="xgboost")
    with pytest.raises(TypeError, match="unexpected"):
        from robbench_plugin import load_benchmark

        load_benchmark("nas-robbench-201", data_dir=synthetic_release, n_models=3)
    with pytest.raises(ValueError, match="n_models"):
        SurrogateModel.fit(kb, ["robust"], n_models=0, n_estimators=150)


def test_evaluation_beats_baselines_on_known_function(kb):
    df = evaluate_surrogate(kb, fractions=(0.25,), splits=1, metrics=["robust"], n_models=1)  # lightgbm if present
    final = df[df.scope == "final"].set_index("model")["kendall"]
    assert final["surrogate"] > 0.9 and final["surrogate"] >= final["knn-edit"]
    assert set(df.scope) == {"final", "per-epoch"}


def test_load_benchmark_surrogate_mode(synthetic_release):
    pytest.importorskip("lightgbm")
    from robbench_plugin import load_benchmark

    sb = load_benchmark("nas-robbench-201", dataset="cifar10", data_dir=synthetic_release, mode="surrogate",
                        n_models=1, n_estimators=100)
    assert sb.mode == "surrogate" and len(sb.uids) == 6466
    assert 0 <= sb.query(1000, "robust") <= 1


def test_fitted_once_then_loaded_from_the_cache(kb, tmp_path, monkeypatch):
    from robbench_plugin import surrogate as S

    monkeypatch.setenv("ROBBENCH_HOME", str(tmp_path))
    first = S.fitted_surrogate(kb, metrics=["robust"], n_models=1, n_estimators=60, progress=False)
    files = list((tmp_path / "surrogates").glob("*.rbs"))
    assert len(files) == 1 and S.SurrogateModel.read_header(files[0])["fit_kwargs"] == {
        "metrics": ["robust"], "n_models": 1, "n_estimators": 60}

    def no_fit(*a, **k):
        raise AssertionError("refitted although a cached model exists")

    monkeypatch.setattr(S.SurrogateModel, "fit", no_fit)
    again = S.fitted_surrogate(kb, metrics=["robust"], n_models=1, n_estimators=60, progress=False)
    idx = np.arange(100)
    assert np.array_equal(again.predict(idx, "val_pgd_48.0_acc")[0], first.predict(idx, "val_pgd_48.0_acc")[0])
    with pytest.raises(AssertionError, match="refitted"):  # other arguments or refit=True: a new fit
        S.fitted_surrogate(kb, metrics=["robust"], n_models=2, n_estimators=60, progress=False)
    with pytest.raises(AssertionError, match="refitted"):
        S.fitted_surrogate(kb, metrics=["robust"], n_models=1, n_estimators=60, refit=True, progress=False)


@pytest.mark.parametrize("second_seed, expected", [(lambda v: v, 1.0), (lambda v: 1 - v, -1.0)])
def test_rerun_noise_ceiling_is_the_tau_between_two_seeds(kb, second_seed, expected):
    """Seed "1" (on a third of the classes) is a copy of seed "0" or its mirror image: the
    rerun ceiling is then exactly +1 or -1, over those held-out classes only."""
    base = known_function_rows()
    some = set(unique_indices()[::3].tolist())
    extra = base[base.uid.isin(some)].assign(seed="1", value=lambda d: second_seed(d.value))
    meta = TableMeta(name="known2", aliases={"clean": "val_acc", "robust": "val_pgd_48.0_acc"}, C=8, N=1)
    bench = Benchmark(Table.from_frame(pd.concat([base, extra]), meta), "digits")
    out = evaluate_surrogate(bench, fractions=(0.5,), splits=1, metrics=["robust"], n_models=1)
    rerun = out[(out.model == "rerun")].set_index("scope").kendall
    # (the mirror image is exact up to float rounding, which can merge or split a few ties)
    assert len(rerun) == 2 and rerun["final-rerun-classes"] == pytest.approx(expected, abs=0.005)
    # two seeds: "the mean of the other seeds" is the second seed
    assert rerun["final-seed-mean-rerun-classes"] == pytest.approx(expected, abs=0.005)
    for scope in ("final-rerun-classes", "final-seed-mean-rerun-classes"):
        assert set(out[out.scope == scope].model) == {"rerun", "surrogate", "ridge", "knn-edit"}
    by = out[out.model != "rerun"].pivot(index="model", columns="scope", values="kendall")
    # like for like: the models are scored against the rerun's target, the mean of the other seeds
    # (here the second seed alone): the same as the first seed for a copy, its mirror image otherwise
    assert np.allclose(by["final-seed-mean-rerun-classes"], expected * by["final-rerun-classes"], atol=0.01)
