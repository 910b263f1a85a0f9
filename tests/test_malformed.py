"""At least 100 distinct bad inputs, each answered by a clear error that names the bad value."""
import json
import shutil

import pytest

from robbench_plugin import Arch, load_benchmark
from robbench_plugin.errors import DataFileError, InvalidArchError, RobBenchError
from robbench_plugin.release import DATA_FILE, META_FILE, convert_release
from robbench_plugin.train.recipe import AttackSpec, Recipe

GOOD = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
BAD_STRINGS = [
    "", "|", "||", "+", "++", GOOD[:-1], GOOD[1:], GOOD + "+", GOOD.replace("+", "-"), GOOD.replace("~0", "~1", 1),
    GOOD.replace("nor_conv_3x3", "conv3x3", 1), GOOD.replace("skip_connect", "Skip_connect", 1),
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|+|skip_connect~0|", "|none~0|+|none~0|none~1|", GOOD.replace("|+|", "||", 1),
    GOOD.replace("~", "-"), GOOD.replace("~2", "~3"), GOOD.replace("avg_pool_3x3", "max_pool_3x3"),
    "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|none~3|", " " + GOOD, GOOD + " ", GOOD.upper(),
    "|none~0|+|none~1|none~0|+|none~0|none~1|none~2|", "none,none,none,none,none,none", "1000",
]
BAD_INDICES = [-1, 15625, 10**9, -15625, True, False, 1.0, float("nan")]
BAD_OPS = [[], [0] * 5, [0] * 7, [5] * 6, [-1] * 6, ["conv"] * 6, [None] * 6, [0.0] * 6, [True] * 6,
           ["none"] * 5 + ["nor_conv_5x5"], [b"none"] * 6, [[0]] * 6]


@pytest.mark.parametrize("bad", BAD_STRINGS)
def test_bad_strings(bad):
    with pytest.raises(InvalidArchError) as e:
        Arch.from_string(bad)
    assert "valid" in str(e.value) or "must" in str(e.value) or "expected" in str(e.value)


@pytest.mark.parametrize("bad", BAD_INDICES)
def test_bad_indices(bad):
    with pytest.raises(InvalidArchError, match=r"index|int"):
        Arch.from_index(bad)


@pytest.mark.parametrize("bad", BAD_OPS, ids=range(len(BAD_OPS)))
def test_bad_ops(bad):
    with pytest.raises(InvalidArchError):
        Arch.from_ops(bad)


@pytest.mark.parametrize("dataset", ["cifar", "CIFAR10", "imagenet16-120", "ImageNet16-120", "", "svhn", "cifar-10", 10])
def test_bad_dataset(release_bench, synthetic_release, dataset):
    with pytest.raises(ValueError, match="dataset") as e:
        load_benchmark("nas-robbench-201", dataset=dataset, data_dir=synthetic_release)
    assert "cifar10" in str(e.value)  # lists the valid choices


@pytest.mark.parametrize("metric", ["acc", "val_pgd_8_acc", "val_pgd_8.0", "Robust", "clean ", "", "val_acc2",
                                    "val_pgd_16.0_acc", 3, None])
def test_bad_metric(release_bench, metric):
    with pytest.raises(ValueError, match="metric") as e:
        release_bench.query(1000, [metric])
    assert "val_acc" in str(e.value) and "robust" in str(e.value)


@pytest.mark.parametrize("seed", [0, "0", "4", 4, "avg", "", None, "MEAN", 1.0, True])
def test_bad_seed(release_bench, seed):
    with pytest.raises(ValueError, match="seed") as e:
        release_bench.query(1000, "clean", seed=seed)
    assert "'mean'" in str(e.value)


@pytest.mark.parametrize("fidelity", [0, 49, 51, -1, "50", 50.5])
def test_bad_fidelity(release_bench, fidelity):
    with pytest.raises(ValueError, match="fidelity") as e:
        release_bench.query(1000, "clean", fidelity=fidelity)
    assert "50" in str(e.value)


@pytest.mark.parametrize("name,mode", [("robbench", "tabular"), ("nasbench201", "tabular"), ("", "tabular"),
                                       ("digits", "table"), ("digits", "Surrogate"), ("digits", "")])
def test_bad_benchmark_or_mode(name, mode):
    with pytest.raises(ValueError, match="benchmark|mode"):
        load_benchmark(name, mode=mode)


def _corrupt(tmp_path, synthetic_release, fname, mutate):
    d = tmp_path / "rel"
    shutil.copytree(synthetic_release, d)
    path = d / fname
    text = path.read_text()
    out = mutate(text)
    path.write_text(out if isinstance(out, str) else json.dumps(out))
    return d


def _set(path, value):
    def mutate(text):
        obj = json.loads(text)
        cur = obj
        for k in path[:-1]:
            cur = cur[k]
        if value is KeyError:
            del cur[path[-1]]
        else:
            cur[path[-1]] = value
        return obj
    return mutate


FILE_CASES = [
    (DATA_FILE, lambda t: t[: len(t) // 2]),
    (DATA_FILE, lambda t: ""),
    (DATA_FILE, lambda t: "not json"),
    (DATA_FILE, lambda t: "[]"),
    (DATA_FILE, lambda t: "{}"),
    (DATA_FILE, _set(["cifar10", "1000", "val_acc", "1"], 1.5)),
    (DATA_FILE, _set(["cifar10", "1000", "val_acc", "1"], -0.1)),
    (DATA_FILE, _set(["cifar10", "1000", "val_acc", "1"], "0.5")),
    (DATA_FILE, _set(["cifar10", "1000", "val_acc", "1"], None)),
    (DATA_FILE, _set(["cifar10", "1000", "val_acc", "1"], True)),
    (DATA_FILE, _set(["cifar10", "1000", "val_acc", "1"], [0.5])),
    (DATA_FILE, _set(["cifar10", "1000", "val_acc"], 0.5)),
    (DATA_FILE, _set(["cifar10", "1000"], [1, 2])),
    (DATA_FILE, _set(["cifar10", "1651"], {"val_acc": {"1": 0.5}})),  # not a representative
    (DATA_FILE, _set(["cifar10", "15625"], {"val_acc": {"1": 0.5}})),
    (DATA_FILE, _set(["cifar10", "abc"], {"val_acc": {"1": 0.5}})),
    (DATA_FILE, _set(["svhn"], {})),
    (DATA_FILE, _set(["cifar10"], [])),
    (META_FILE, lambda t: t[:100]),
    (META_FILE, _set(["ids"], {})),
    (META_FILE, _set(["ids", "5"], KeyError)),
    (META_FILE, _set(["ids", "5", "isomorph"], "4")),
    (META_FILE, _set(["ids", "5", "nb201-string"], GOOD)),
    (META_FILE, _set(["ids", "5", "nb201-string"], "garbage")),
    (META_FILE, _set(["ids"], [1, 2, 3])),
]


@pytest.mark.parametrize("case", range(len(FILE_CASES)))
def test_corrupt_release_files(tmp_path, synthetic_release, case):
    fname, mutate = FILE_CASES[case]
    d = _corrupt(tmp_path, synthetic_release, fname, mutate)
    with pytest.raises(DataFileError) as e:
        convert_release(d)
    assert fname in str(e.value) or str(d) in str(e.value)


@pytest.mark.parametrize("changes", [{"epochs": 0}, {"epochs": 2.5}, {"C": 0}, {"N": -1}, {"batch_size": True},
                                     {"lr_max": 0}, {"momentum": 1.0}, {"weight_decay": -1e-4},
                                     {"train_attack": "cw"}, {"train_eps": 0}, {"train_eps": 300},
                                     {"train_steps": 0}, {"eval_epochs": "sometimes"}, {"eval_epochs": (0, 3)},
                                     {"eval_subset": 0}, {"epochs_total": 3}])
def test_bad_recipe_values(changes):
    with pytest.raises(ValueError) as e:
        Recipe.preset("quick").replace(**changes)
    key = next(iter(changes))
    assert key in str(e.value) or repr(changes[key]) in str(e.value)


@pytest.mark.parametrize("kw", [{"kind": "cw", "eps": 8}, {"kind": "pgd", "eps": 0}, {"kind": "pgd", "eps": 8, "steps": 0},
                                {"kind": "fgsm", "eps": 256}, {"kind": "pgd", "eps": 8, "alpha": -1}])
def test_bad_attack_specs(kw):
    with pytest.raises(ValueError):
        AttackSpec(**kw)


def test_unknown_recipe_preset():
    with pytest.raises(ValueError, match="'fast'.*'release'"):
        Recipe.preset("fast")


def test_integer_seed_is_its_label(release_bench):
    """query(..., seed=1) is query(..., seed="1"): the table's labels are the training seeds' integers."""
    assert release_bench.query(1000, "clean", seed=1) == release_bench.query(1000, "clean", seed="1")
    df_int = release_bench.query_many([1000, 5], ["clean"], seed=1)
    assert df_int.equals(release_bench.query_many([1000, 5], ["clean"], seed="1"))


def test_missing_value_is_error_not_nan(release_bench):
    # a seed label present in the table but not for this uid: error naming the value
    multi_seeds = [s for s in release_bench.seeds if s not in ("1", "mean", "std")]
    uid = next(u for u in release_bench.uids if release_bench.query_many([int(u)], ["clean"], seed=multi_seeds[0])
               ["val_acc"].isna().all())
    with pytest.raises(RobBenchError, match=f"seed '{multi_seeds[0]}'"):
        release_bench.query(int(uid), "clean", seed=multi_seeds[0])
