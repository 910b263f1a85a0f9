"""Datasets as tensors in [0, 1], without torchvision.

- ``digits``: scikit-learn's bundled 8x8 digits (1797 real images, 1 channel, values 0..16
  scaled to [0, 1]); a fixed stratified split (``random_state=0``): 1197 train, 300 val,
  300 test. The embedded benchmark's ``val_*`` metrics use ``val``.
- ``cifar10`` / ``cifar100``: the python pickles (``cifar-10-batches-py/``,
  ``cifar-100-python/``) placed by the user under ``root``.
- ``fashion-mnist``: Fashion-MNIST's IDX files (see :mod:`robbench_plugin.fashion_mnist` for where
  they are found), 1 channel, downsampled by area averaging to the benchmark's resolution
  (:data:`FASHION_MNIST`); a fixed stratified subset of the training images as ``train``, of the
  test images as ``val``, the rest of the test images as ``test`` (:func:`fashion_mnist_splits`).
- ``imagenet``: NAS-Bench-201's ImageNet16-120 pickles (``ImageNet16/train_data_batch_1..10``,
  ``ImageNet16/val_data``), labels 1..120 kept and shifted to 0..119.

Splits for the CIFAR/ImageNet16 sets follow the recipe's ``data_split``. ``full`` (the release
recipe, as NAS-RobBench-201's reference code trains): ``train`` is the whole training set, ``val``
the whole test set (CIFAR ``test_batch`` / ``test``, ImageNet16 ``val_data``), whatever split files
lie beside them. ``nb201``: NAS-Bench-201's splits when its split file is found in ``root``
(``cifar-split.txt``: CIFAR-10's train/valid halves of the training set;
``cifar100-test-split.txt`` / ``imagenet-16-120-test-split.txt``: the "x-valid" half of the test
set as ``val``), else as ``full``. Which one was used is recorded in :attr:`Splits.split_source`.

Normalisation (:data:`MEAN_STD`, applied inside the model): NAS-Bench-201's constants for the
release data sets, written as the reference code writes them (per channel, in /255 units).
"""
from __future__ import annotations

import gzip
import hashlib
import json
import pickle
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..costs import DATASET_SPECS, dataset_spec
from ..data_identity import NB201_SPLIT_FILES
from ..errors import DataFileError, InvalidValueError, check_choice
# the split's definition and the shipped split live with the files (no torch there)
from ..fashion_mnist import FASHION_MNIST, FashionMNISTSplit
from .recipe import DATA_SPLITS

DATASETS = tuple(DATASET_SPECS)  # digits and the release datasets
MEAN_STD = {
    "digits": ([0.0], [1.0]),
    "fashion-mnist": ([0.2860], [0.3530]),
    # NAS-RobBench-201's reference code (utils_data.py, NORMALIZERS), NAS-Bench-201's constants
    "cifar10": ([x / 255 for x in (125.3, 123.0, 113.9)], [x / 255 for x in (63.0, 62.1, 66.7)]),
    "cifar100": ([x / 255 for x in (129.3, 124.1, 112.4)], [x / 255 for x in (68.2, 65.4, 70.4)]),
    "imagenet": ([x / 255 for x in (122.68, 116.66, 104.01)], [x / 255 for x in (63.22, 61.26, 65.09)]),
}


@dataclass
class Splits:
    """Tensors per split: x float32 (N, C, H, W) in [0, 1]; y int64 in 0..classes-1."""

    name: str
    train: tuple[torch.Tensor, torch.Tensor]
    val: tuple[torch.Tensor, torch.Tensor]
    test: tuple[torch.Tensor, torch.Tensor] | None
    split_source: str

    @property
    def num_classes(self) -> int:
        return dataset_spec(self.name).num_classes

    @property
    def in_channels(self) -> int:
        return int(self.train[0].shape[1])

    @property
    def mean_std(self) -> tuple[list[float], list[float]]:
        return MEAN_STD[self.name]


def _tensors(x: np.ndarray, y: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)), torch.from_numpy(np.asarray(y, dtype=np.int64))


def load_digits_splits() -> Splits:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    x = (d.images / 16.0).astype(np.float32)[:, None]
    idx = np.arange(len(x))
    tr, rest = train_test_split(idx, test_size=600, stratify=d.target, random_state=0)
    va, te = train_test_split(rest, test_size=300, stratify=d.target[rest], random_state=0)
    return Splits("digits", _tensors(x[tr], d.target[tr]), _tensors(x[va], d.target[va]),
                  _tensors(x[te], d.target[te]), "sklearn digits, stratified 1197/300/300, random_state=0")


def _stratified_order(y: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` indices of ``y``, n/10 of each of its 10 classes, in round-robin class order, so that
    every prefix of a multiple of 10 is stratified too (an ``eval_subset`` is such a prefix)."""
    per = n // 10
    picks = [rng.permutation(np.flatnonzero(y == c))[:per] for c in range(10)]
    if any(len(p) < per for p in picks):
        raise DataFileError(f"fashion-mnist: fewer than {per} images of some class for a split of {n}")
    return np.stack(picks, axis=1).reshape(-1)


def fashion_mnist_splits(root: str | Path | None = None, split: FashionMNISTSplit | None = None,
                         verify: bool = True) -> Splits:
    """Fashion-MNIST as the benchmark sees it (see :class:`FashionMNISTSplit`; default
    :data:`FASHION_MNIST`). ``root``: a folder with the four IDX files (else they are looked for
    in ROBBENCH_HOME and Debian's folder). ``verify``: check the files' published checksums."""
    from .. import fashion_mnist
    from ..idx import parse_idx

    split = split or FASHION_MNIST
    if split.n_train % 10 or split.n_val % 10 or not 10 <= split.n_val < 10000 or not 10 <= split.n_train <= 60000:
        raise InvalidValueError(f"fashion-mnist split sizes must be multiples of 10 (train <= 60000, val < 10000), "
                                f"got {split.n_train}, {split.n_val}")
    folder = fashion_mnist.find_dir(root)
    arrays = {}
    for stem, (sha, _) in fashion_mnist.FILES.items():
        path = fashion_mnist.file_in(folder, stem)
        try:
            raw = path.read_bytes()
            data = gzip.decompress(raw) if path.name.endswith(".gz") else raw
        except (OSError, EOFError, zlib.error) as exc:
            raise DataFileError(f"cannot read {path}: {exc}") from exc
        if verify and hashlib.sha256(data).hexdigest() != sha:
            raise DataFileError(f"fashion-mnist: {path} is not the published {stem} (sha256 of its IDX bytes "
                                "differs): a truncated, altered or foreign copy")
        arrays[stem] = parse_idx(data, str(path))
    xtr, ytr = arrays["train-images-idx3-ubyte"], arrays["train-labels-idx1-ubyte"].astype(np.int64)
    xte, yte = arrays["t10k-images-idx3-ubyte"], arrays["t10k-labels-idx1-ubyte"].astype(np.int64)
    for x, y, what in ((xtr, ytr, "train"), (xte, yte, "t10k")):
        if x.ndim != 3 or y.ndim != 1 or len(x) != len(y) or y.min(initial=0) < 0 or y.max(initial=0) > 9:
            raise DataFileError(f"fashion-mnist {what} files: images {x.shape} and labels {y.shape} do not match")
    rng = np.random.default_rng(split.split_seed)
    tr = _stratified_order(ytr, split.n_train, rng)
    va = _stratified_order(yte, split.n_val, rng)
    te = np.setdiff1d(np.arange(len(yte)), va)

    def shrink(images: np.ndarray) -> np.ndarray:
        t = torch.from_numpy(images.astype(np.float32) / 255.0)[:, None]
        if t.shape[-1] != split.resolution:
            t = torch.nn.functional.adaptive_avg_pool2d(t, split.resolution)
        return t.numpy()

    return Splits("fashion-mnist", _tensors(shrink(xtr[tr]), ytr[tr]), _tensors(shrink(xte[va]), yte[va]),
                  _tensors(shrink(xte[te]), yte[te]),
                  f"Fashion-MNIST IDX files in {folder}, {split.resolution}x{split.resolution}, stratified "
                  f"{split.n_train} train / {split.n_val} val (test set) / {len(te)} test, seed {split.split_seed}")


# What a CIFAR or ImageNet16 data batch may hold besides dicts, lists, strings, bytes and numbers:
# NumPy arrays (and the codec Python 3 uses to pickle bytes at protocol 2). Nothing else is loaded.
_DATA_BATCH_GLOBALS = {
    ("numpy", "ndarray"), ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    ("_codecs", "encode"),
}


class _DataBatchUnpickler(pickle.Unpickler):
    """An unpickler that builds dicts, lists, strings, bytes, numbers and NumPy arrays only: a
    pickle naming any other callable (which is how a pickle runs code) is refused before anything
    is called."""

    def find_class(self, module: str, name: str):
        if (module, name) in _DATA_BATCH_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"it refers to {module}.{name}, which a data batch never holds (a pickle "
                                     "that names other objects can run code): not loaded")


def _unpickle(path: Path) -> dict:
    """A data batch (a pickled dict of arrays and lists), read without running any code it names."""
    if not path.is_file():
        raise DataFileError(f"missing data file {path}")
    try:
        with path.open("rb") as fh:
            batch = _DataBatchUnpickler(fh, encoding="latin1").load()
    except Exception as exc:
        raise DataFileError(f"cannot read {path} as a python pickle of a data batch: {exc}") from exc
    if not isinstance(batch, dict):
        raise DataFileError(f"{path} holds a {type(batch).__name__}, not the dict of a data batch")
    return batch


def _field(batch: dict, *names: str):
    # The original pickles are Python 2 (str keys under latin1); re-pickled copies have bytes keys.
    for n in names:
        for key in (n, n.encode()):
            if key in batch:
                return batch[key]
    raise DataFileError(f"pickle lacks any of the keys {names}; has {sorted(map(str, batch))}")


def _images(data, side: int) -> np.ndarray:
    arr = np.asarray(data, dtype=np.uint8)
    if arr.ndim != 2 or arr.shape[1] != 3 * side * side:
        raise DataFileError(f"expected image rows of {3 * side * side} bytes, got array of shape {arr.shape}")
    return arr.reshape(-1, 3, side, side).astype(np.float32) / 255.0


def _read_split_file(path: Path) -> dict | None:
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except Exception as exc:
        raise DataFileError(f"cannot parse NAS-Bench-201 split file {path}: {exc}") from exc


def _split_indices(entry) -> np.ndarray:
    # NB201's split files store [name, list-of-indices] pairs or plain lists.
    if isinstance(entry, list) and len(entry) == 2 and isinstance(entry[1], list):
        entry = entry[1]
    return np.asarray(entry, dtype=np.int64)


def _cifar(root: Path, name: str, data_split: str) -> Splits:
    if name == "cifar10":
        base = root / "cifar-10-batches-py"
        expected = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
        train_files, test_files, label_keys = expected[:5], ["test_batch"], ("labels",)
    else:
        base = root / "cifar-100-python"
        expected = ["train", "test"]
        train_files, test_files, label_keys = ["train"], ["test"], ("fine_labels",)
    missing = [f for f in expected if not (base / f).is_file()]
    if missing:
        raise DataFileError(
            f"{name}: missing {', '.join(missing)} under {base}; place the python-pickle release "
            f"({base.name}/ with {', '.join(expected)}) there"
        )

    def read(files):
        batches = [_unpickle(base / f) for f in files]
        x = np.concatenate([_images(_field(b, "data"), 32) for b in batches])
        y = np.concatenate([np.asarray(_field(b, *label_keys), dtype=np.int64) for b in batches])
        return x, y

    xtr, ytr = read(train_files)
    xte, yte = read(test_files)
    return _with_split(root, name, xtr, ytr, xte, yte, data_split)


def _with_split(root: Path, name: str, xtr, ytr, xte, yte, data_split: str) -> Splits:
    if data_split == "full":
        return Splits(name, _tensors(xtr, ytr), _tensors(xte, yte), None,
                      "whole training set; whole test set as val (data_split full)")
    if name == "cifar10":
        split = _read_split_file(root / NB201_SPLIT_FILES["cifar10"])
        if split is not None:
            tr, va = _split_indices(split["train"]), _split_indices(split["valid"])
            return Splits(name, _tensors(xtr[tr], ytr[tr]), _tensors(xtr[va], ytr[va]), _tensors(xte, yte),
                          "NB201 cifar-split.txt (train/valid halves of the training set)")
    else:
        fname = NB201_SPLIT_FILES[name]
        split = _read_split_file(root / fname)
        if split is not None:
            va, te = _split_indices(split["xvalid"]), _split_indices(split["xtest"])
            return Splits(name, _tensors(xtr, ytr), _tensors(xte[va], yte[va]), _tensors(xte[te], yte[te]),
                          f"NB201 {fname} (x-valid half of the test set)")
    return Splits(name, _tensors(xtr, ytr), _tensors(xte, yte), None, "whole test set as val (no NB201 split file)")


def _imagenet16(root: Path, data_split: str) -> Splits:
    base = root / "ImageNet16"
    expected = [f"train_data_batch_{i}" for i in range(1, 11)] + ["val_data"]
    missing = [f for f in expected if not (base / f).is_file()]
    if missing:
        raise DataFileError(f"imagenet: missing {', '.join(missing)} under {base}; place NAS-Bench-201's "
                            f"ImageNet16 pickles ({', '.join(expected)}) there")

    def read(files):
        xs, ys = [], []
        for f in files:
            b = _unpickle(base / f)
            x, y = _images(_field(b, "data"), 16), np.asarray(_field(b, "labels"), dtype=np.int64)
            keep = (y >= 1) & (y <= 120)
            xs.append(x[keep])
            ys.append(y[keep] - 1)
        return np.concatenate(xs), np.concatenate(ys)

    xtr, ytr = read(expected[:10])
    xte, yte = read(["val_data"])
    return _with_split(root, "imagenet", xtr, ytr, xte, yte, data_split)


def load_splits(dataset: str, root: str | Path | None = None, data_split: str = "nb201") -> Splits:
    """Load ``dataset`` (one of :data:`DATASETS`); ``root`` holds the user's files; ``data_split``
    (nb201|full, a recipe's) says how CIFAR and ImageNet16 are split (module doc)."""
    check_choice("dataset", dataset, DATASETS)
    check_choice("data_split", data_split, DATA_SPLITS)
    if dataset == "digits":
        return load_digits_splits()
    if dataset == "fashion-mnist":
        return fashion_mnist_splits(root)
    if root is None:
        raise DataFileError(f"{dataset} needs data files: pass the folder holding them (--data-root on the "
                            "command line, root= or data_root= in Python); they are not downloaded")
    root = Path(root)
    return _imagenet16(root, data_split) if dataset == "imagenet" else _cifar(root, dataset, data_split)
