"""Loading never runs a file's contents: a data batch or a surrogate file planted with a pickle that
would run code when unpickled is refused with the package's error, and the code does not run (the
planted object would create a marker file). Real batches (dicts of NumPy arrays and lists) load."""
from __future__ import annotations

import json
import lzma
import pickle

import numpy as np
import pytest

from robbench_plugin.errors import DataFileError

pytest.importorskip("torch")


class Planted:
    """Unpickling this calls ``open(marker, "w")``: a stand-in for any code a pickle can run."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_planted_cifar_batch_is_refused_without_running(tmp_path):
    from robbench_plugin.train.data import load_splits

    marker = tmp_path / "ran"
    base = tmp_path / "cifar-10-batches-py"
    base.mkdir()
    good = {b"data": np.zeros((2, 3072), dtype=np.uint8), b"labels": [0, 1]}
    for name in [f"data_batch_{i}" for i in range(2, 6)] + ["test_batch"]:
        (base / name).write_bytes(pickle.dumps(good, protocol=2))
    (base / "data_batch_1").write_bytes(pickle.dumps({b"data": Planted(str(marker)), b"labels": [0]}))
    with pytest.raises(DataFileError, match=r"data_batch_1.*refers to io\.open.*not loaded"):
        load_splits("cifar10", tmp_path)
    assert not marker.exists()
    # the same folder with a real batch in its place loads (dicts of arrays and lists, protocol 2 bytes)
    (base / "data_batch_1").write_bytes(pickle.dumps(good, protocol=2))
    splits = load_splits("cifar10", tmp_path)
    assert splits.train[0].shape == (10, 3, 32, 32)


def test_a_planted_imagenet16_batch_is_refused_without_running(tmp_path):
    from robbench_plugin.train.data import load_splits

    marker = tmp_path / "ran"
    base = tmp_path / "ImageNet16"
    base.mkdir()
    good = {"data": np.zeros((2, 768), dtype=np.uint8), "labels": [1, 2]}
    for name in [f"train_data_batch_{i}" for i in range(1, 11)] + ["val_data"]:
        (base / name).write_bytes(pickle.dumps(good))
    (base / "val_data").write_bytes(pickle.dumps([Planted(str(marker))]))
    with pytest.raises(DataFileError, match="not loaded"):
        load_splits("imagenet", tmp_path)
    assert not marker.exists()


def _surrogate_file(path, backend: str, body: bytes) -> None:
    """A file in the surrogate format (magic, header length, JSON header, lzma body), written here
    byte by byte, not by the package."""
    from robbench_plugin.surrogate.model import FEATURE_VERSION, FIT_VERSION

    header = {"format": 3, "backend": backend, "feature_version": FEATURE_VERSION, "fit_version": FIT_VERSION,
              "data_sha256": "x" * 64, "dataset": "digits", "metrics": ["val_acc"], "fidelities": [8], "C": 8, "N": 1,
              "n_models": 1, "metric_fidelities": {"val_acc": [8]}, "time_model": None, "source_meta": {},
              "written_by": {"robbench-plugin": "0", backend: "0"}, "fit_kwargs": {}}
    head = json.dumps(header).encode()
    path.write_bytes(b"RBSURR3\n" + len(head).to_bytes(8, "little") + head + lzma.compress(body))


def test_a_planted_surrogate_file_is_refused_without_running(tmp_path):
    pytest.importorskip("lightgbm")
    from robbench_plugin.surrogate import SurrogateModel

    marker = tmp_path / "ran"
    path = tmp_path / "planted.rbs"
    _surrogate_file(path, "sklearn", pickle.dumps({"val_acc": [Planted(str(marker))]}))
    with pytest.raises(DataFileError, match="can run code"):
        SurrogateModel.load(path)
    assert not marker.exists()
    # a LightGBM file whose body is a pickle instead of model texts is corrupt, not code to run
    _surrogate_file(path, "lightgbm", pickle.dumps({"val_acc": [Planted(str(marker))]}))
    with pytest.raises(DataFileError):
        SurrogateModel.load(path)
    assert not marker.exists()


def test_a_planted_cached_surrogate_is_refitted_not_run(tmp_path, monkeypatch, digits):
    """The cache of fitted surrogates (ROBBENCH_HOME) holding a planted file under the right key: it
    is refused (a line says so), refitted and replaced by LightGBM text models."""
    pytest.importorskip("lightgbm")
    from robbench_plugin.surrogate.cache import cache_key, fitted_surrogate
    from robbench_plugin.surrogate.fileformat import read_header

    monkeypatch.setenv("ROBBENCH_HOME", str(tmp_path / "home"))
    marker = tmp_path / "ran"
    fit_kw = {"metrics": ["val_acc"], "n_models": 1}
    cached = tmp_path / "home" / "surrogates" / f"{cache_key(digits, digits.table.sha256(), fit_kw)}.rbs"
    cached.parent.mkdir(parents=True)
    _surrogate_file(cached, "sklearn", pickle.dumps({"val_acc": [Planted(str(marker))]}))
    model = fitted_surrogate(digits, progress=False, **fit_kw)
    assert not marker.exists() and model.backend == "lightgbm"
    assert read_header(cached)["backend"] == "lightgbm"


def test_a_scikit_learn_surrogate_is_not_saved(tmp_path, digits):
    pytest.importorskip("sklearn")
    from robbench_plugin.errors import InvalidValueError
    from robbench_plugin.surrogate import SurrogateModel

    model = SurrogateModel.fit(digits, metrics=["val_acc"], n_models=1, backend="sklearn", n_estimators=20)
    with pytest.raises(InvalidValueError, match="only LightGBM"):
        model.save(tmp_path / "s.rbs")
    assert not (tmp_path / "s.rbs").exists()
