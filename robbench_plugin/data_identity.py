"""What identifies a dataset's data as the trainer sees it, for keying results (no torch here).

A trained result depends on which images it was trained and evaluated on, so the live results
store and a build's manifest key results by :func:`data_key`, not by the dataset's name alone:

- ``digits``: scikit-learn's bundled images with a fixed split: ``digits``.
- ``fashion-mnist``: the files are checked against their published checksums and the package cuts
  the split itself, so the split's parameters identify the data: ``fashion-mnist:8px:2000:5000:0``
  (:data:`robbench_plugin.fashion_mnist.FASHION_MNIST`).
- ``cifar10`` / ``cifar100`` / ``imagenet``: the user's files, split as the recipe's ``data_split``
  says (see :mod:`robbench_plugin.train.data`): with ``nb201`` as NAS-Bench-201 splits them when its
  split file (:data:`NB201_SPLIT_FILES`) is in the data folder, else (and always with ``full``) the
  whole training set and the whole test set as validation set. The key names which, and that the
  images are normalised with NAS-Bench-201's constants (results normalised otherwise, before those
  constants were used, never share a key with these):
  ``cifar10:cifar-split.txt:<first 12 hex digits of the file's sha256>:norm-nb201`` or
  ``cifar10:whole-test:norm-nb201``. Without a data folder (nothing can be trained) the key is the
  name.
"""
from __future__ import annotations

from pathlib import Path

from . import fashion_mnist
from .fileutil import sha256_file

# NAS-Bench-201's split files, looked for in the data folder: CIFAR-10's train/valid halves of the
# training set; CIFAR-100's and ImageNet16-120's x-valid/x-test halves of the test set
NB201_SPLIT_FILES = {"cifar10": "cifar-split.txt", "cifar100": "cifar100-test-split.txt",
                     "imagenet": "imagenet-16-120-test-split.txt"}


NORMALISATION_TAG = "norm-nb201"


def data_key(dataset: str, root: str | Path | None = None, data_split: str = "nb201") -> str:
    """The key of ``dataset``'s data under the data folder ``root`` for a recipe's ``data_split``
    (see the module doc). Results trained on different data (another split of the same files)
    never share a key."""
    if dataset == fashion_mnist.NAME:
        s = fashion_mnist.FASHION_MNIST
        return f"{dataset}:{s.resolution}px:{s.n_train}:{s.n_val}:{s.split_seed}"
    if dataset in NB201_SPLIT_FILES and root is not None:
        split = Path(root) / NB201_SPLIT_FILES[dataset]
        if data_split == "nb201" and split.is_file():
            return f"{dataset}:{split.name}:{sha256_file(split)[:12]}:{NORMALISATION_TAG}"
        return f"{dataset}:whole-test:{NORMALISATION_TAG}"
    return dataset
