"""Training on the real Fashion-MNIST files (Debian's dataset-fashion-mnist; CI installs it): the
command line, live mode and the trainer agree on the same run, and the benchmark's split is the
documented one."""
from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("torch")

from robbench_plugin import fashion_mnist  # noqa: E402

if fashion_mnist.file_in(fashion_mnist.DEBIAN_DIR, "train-images-idx3-ubyte") is None:
    pytest.skip("Debian's dataset-fashion-mnist is not installed (apt-get install dataset-fashion-mnist)",
                allow_module_level=True)

UID = 1462  # every edge nor_conv_3x3


@pytest.fixture(scope="module")
def splits():
    from robbench_plugin.train.data import load_splits

    return load_splits("fashion-mnist")


def test_the_benchmark_split_of_the_real_files(splits):
    """2000 training and 5000 validation images of 8x8, each class a tenth of them, pixels in [0, 1]
    and averages of the 28x28 pixels (the 60000/10000 of the published files)."""
    for part, n in (("train", 2000), ("val", 5000)):
        x, y = getattr(splits, part)
        assert tuple(x.shape) == (n, 1, 8, 8)
        assert np.bincount(y.numpy(), minlength=10).tolist() == [n // 10] * 10
        assert 0.0 <= float(x.min()) and float(x.max()) <= 1.0
    assert len(splits.test[1]) == 10000 - 5000


def test_cli_train_live_mode_and_the_trainer_give_the_same_run(splits, tmp_path, capsys):
    from robbench_plugin.cli import main
    from robbench_plugin.live import LiveBenchmark
    from robbench_plugin.train import Recipe, train

    recipe = Recipe.preset("tiny").replace(epochs=1)
    direct = train(UID, "fashion-mnist", recipe, seed=0, device="cpu", splits=splits)
    final = direct.epochs[-1]
    assert main(["train", "--arch", str(UID), "--dataset", "fashion-mnist", "--recipe", "tiny", "--epochs", "1",
                 "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    printed = json.loads(out[out.index("{"):])
    assert (printed["val_acc"], printed["val_pgd_48.0_acc"]) == (final["val_acc"], final["val_pgd_48.0_acc"])
    live = LiveBenchmark("fashion-mnist", recipe, device="cpu", store=tmp_path / "store")
    got = live.query(UID, ["clean", "robust"])
    assert got == {"val_acc": final["val_acc"], "val_pgd_48.0_acc": final["val_pgd_48.0_acc"]}


def test_proxies_of_a_fashion_mnist_table_score_its_networks_on_its_images(splits):
    """The proxies of a Fashion-MNIST table are those of its networks (C, N of the table) on a batch
    of the benchmark's own 8x8 training images, computed here independently of proxy_table."""
    import torch

    from pathlib import Path

    from robbench_plugin import load_benchmark
    from robbench_plugin.proxies import compute_proxies, proxy_table

    archive = Path(__file__).resolve().parents[1] / "data" / "fashion-mnist-v1.build.tar.xz"
    bench = load_benchmark("build", data_dir=archive)
    assert (bench.dataset, bench.table.meta.C, bench.table.meta.N) == ("fashion-mnist", 8, 3)
    df = proxy_table(bench, n=2, batch=8, seed=0)
    pick = torch.randperm(len(splits.train[0]), generator=torch.Generator().manual_seed(0))[:8]
    x, y = splits.train[0][pick], splits.train[1][pick]
    assert tuple(x.shape) == (8, 1, 8, 8)
    mean, std = splits.mean_std
    for row in df.itertuples():
        ours = compute_proxies(row.uid, x, y, 10, C=8, N=3, seed=0, mean=mean, std=std)
        assert row.ntk_trace == pytest.approx(ours["ntk_trace"], rel=1e-6)
        assert row.synflow == pytest.approx(ours["synflow"], rel=1e-6)
        assert row.robust == bench.query(row.uid, "robust")
