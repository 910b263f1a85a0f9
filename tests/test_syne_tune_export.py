"""``robbench export --format syne-tune``: the folder Syne Tune's blackbox repository hosts, read back
with Syne Tune's own ``deserialize`` (the function its ``load_blackbox`` calls for a tabular blackbox)
as the same blackboxes ``load_blackbox`` gives: hyperparameters, fidelities, seeds, objectives and
every value; the repository's metadata keys; bad outputs refused before anything is written."""
import json

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("syne_tune")
pytest.importorskip("fastparquet")

from syne_tune.blackbox_repository.blackbox_tabular import deserialize  # noqa: E402

from robbench_plugin.adapters.syne_tune import load_blackbox  # noqa: E402
from robbench_plugin.cli import main  # noqa: E402

# the files Syne Tune's serialize writes (blackbox_tabular.serialize and serialize_configspace)
LAYOUT = {"configspace.json", "fidelityspace.json", "hyperparameters.parquet", "objectives_evaluations.npy",
          "fidelities_values.npy", "metadata.json"}


def _same(exported, expected):
    pd.testing.assert_frame_equal(exported.hyperparameters, expected.hyperparameters)
    assert exported.configuration_space == expected.configuration_space
    assert exported.fidelity_space == expected.fidelity_space
    assert list(exported.fidelity_values) == list(expected.fidelity_values)
    assert exported.objectives_names == expected.objectives_names
    assert exported.num_seeds == expected.num_seeds
    # serialize stores float32, as Syne Tune's repository does
    np.testing.assert_array_equal(exported.objectives_evaluations,
                                  expected.objectives_evaluations.astype(np.float32))


@pytest.mark.parametrize("name", ["fashion-mnist", "digits"])
def test_embedded_tables_round_trip_through_syne_tunes_deserialize(name, tmp_path, capsys):
    out = tmp_path / name
    assert main(["export", "--format", "syne-tune", "--benchmark", name, "--out", str(out)]) == 0
    assert "wrote Syne Tune blackbox" in capsys.readouterr().out
    assert {p.name for p in out.iterdir()} == LAYOUT
    bbs = deserialize(str(out))
    expected = load_blackbox(name, cache=False)
    assert list(bbs) == [expected.robbench_metadata["dataset"]]
    _same(bbs[name], expected)
    meta = json.loads((out / "metadata.json").read_text())
    from syne_tune.blackbox_repository.conversion_scripts.scripts import default_metric, metric_elapsed_time, time_attr

    assert (meta[metric_elapsed_time], meta[default_metric], meta[time_attr]) == \
        ("metric_elapsed_time", "metric_robust_error", expected.fidelity_name())
    assert meta["task_names"] == [name] and meta["robbench"][name]["seeds"] == expected.robbench_metadata["seeds"]
    if name == "fashion-mnist":  # both training seeds, every epoch 1..6
        assert bbs[name].num_seeds == 2 and meta[time_attr] == "hp_epoch" and list(bbs[name].fidelity_values) == \
            list(range(1, 7))


def test_a_release_exports_every_data_set_as_a_task(synthetic_release, tmp_path):
    out = tmp_path / "release"
    assert main(["export", "--format", "syne-tune", "--benchmark", "nas-robbench-201", "--data-dir",
                 str(synthetic_release), "--out", str(out)]) == 0
    bbs = deserialize(str(out))
    assert list(bbs) == ["cifar10", "cifar100", "imagenet"]
    for task, bb in bbs.items():
        _same(bb, load_blackbox("nas-robbench-201", dataset=task, data_dir=str(synthetic_release), cache=False))
    one = tmp_path / "one"
    assert main(["export", "--format", "syne-tune", "--benchmark", "nas-robbench-201", "--data-dir",
                 str(synthetic_release), "--dataset", "cifar100", "--out", str(one)]) == 0
    assert list(deserialize(str(one))) == ["cifar100"]


def test_bad_outputs_are_refused_before_anything_is_written(tmp_path, capsys):
    full = tmp_path / "full"
    full.mkdir()
    (full / "x").write_text("x")
    for argv in (["--out", str(full)], ["--out", str(tmp_path / "new"), "--long"],
                 ["--out", str(tmp_path / "new"), "--table-seed", "0"]):
        assert main(["export", "--format", "syne-tune", *argv]) == 2
        assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["full", "x"]
