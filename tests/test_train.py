import json
import signal
import subprocess
import sys
import textwrap
import time

import pytest

torch = pytest.importorskip("torch")

from robbench_plugin.train import Recipe, TrainResult, load_splits, train  # noqa: E402
from robbench_plugin.train.recipe import PRESETS  # noqa: E402


def test_release_preset_is_the_paper_recipe():
    r = Recipe.preset("release")
    assert (r.epochs, r.batch_size, r.lr_max, r.momentum, r.weight_decay) == (50, 256, 0.1, 0.9, 5e-4)
    assert (r.train_attack, r.train_eps, r.train_alpha, r.train_steps, r.train_random_start) == ("pgd", 8.0, 2.0, 7, True)
    assert r.metric_names() == ["val_acc", "val_fgsm_3.0_acc", "val_fgsm_8.0_acc", "val_pgd_3.0_acc", "val_pgd_8.0_acc"]
    pgd8 = [a for a in r.eval_attacks if a.metric == "val_pgd_8.0_acc"][0]
    assert pgd8.steps == 20 and pgd8.step_size == pytest.approx(2.5 * 8 / 20)
    assert (r.C, r.N) == (16, 5)


def test_log_epochs_and_recipe_roundtrip():
    assert PRESETS["digits"].evaluated_epochs() == (1, 2, 4, 8)
    for r in PRESETS.values():
        assert Recipe.from_dict(json.loads(json.dumps(r.to_dict()))) == r
        assert Recipe.from_dict(r.to_dict()).key() == r.key()


def test_digits_split_is_fixed_and_stratified():
    s = load_splits("digits")
    assert [len(s.train[0]), len(s.val[0]), len(s.test[0])] == [1197, 300, 300]
    assert s.train[0].min() >= 0 and s.train[0].max() <= 1 and s.train[0].shape[1:] == (1, 8, 8)
    s2 = load_splits("digits")
    assert torch.equal(s.val[0], s2.val[0])
    assert torch.bincount(s.val[1]).min() >= 28  # ~30 per class


def test_training_records_callbacks_and_determinism():
    seen = []
    r1 = train(1000, "digits", "tiny", seed=3, device="cpu", callback=lambda rec: seen.append(rec["epoch"]))
    r2 = train(1000, "digits", "tiny", seed=3, device="cpu")
    assert seen == [1, 2] and [e["epoch"] for e in r1.epochs] == [1, 2]
    for e1, e2 in zip(r1.epochs, r2.epochs):
        for k in ("train_loss", "val_acc", "val_pgd_48.0_acc"):
            assert e1[k] == e2[k]
        assert e1["time_s"] > 0
    assert r1.uid == 1000 and r1.params > 0 and r1.final["val_acc"] == r1.epochs[-1]["val_acc"]
    assert TrainResult.from_dict(json.loads(json.dumps(r1.to_dict()))).epochs == r1.epochs


def test_callback_false_stops_early():
    r = train(1000, "digits", "tiny", seed=0, device="cpu", callback=lambda rec: False)
    assert len(r.epochs) == 1 and r.stopped_early


def test_training_learns_on_digits():
    r = train(1000, "digits", "quick", seed=0, device="cpu")
    assert r.final["val_acc"] > 0.5  # 10 classes: chance is 0.1


def test_precision_choices_on_cpu():
    """``auto`` is fp32 on a CPU (same numbers as ``fp32``); ``bf16`` trains under bf16 autocast (other
    numbers than fp32's for the same seed) and still learns (2 epochs of the tiny recipe reach 0.42-0.47
    at seeds 0-2; chance is 0.1); a bad value names the choices."""
    auto = train(1000, "digits", "tiny", seed=1, device="cpu")
    fp32 = train(1000, "digits", "tiny", seed=1, device="cpu", precision="fp32")
    assert [e["val_acc"] for e in auto.epochs] == [e["val_acc"] for e in fp32.epochs]
    assert [e["train_loss"] for e in auto.epochs] == [e["train_loss"] for e in fp32.epochs]
    bf16 = train(1000, "digits", "tiny", seed=1, device="cpu", precision="bf16")
    assert bf16.precision == "bf16" and bf16.epochs[0]["train_loss"] != fp32.epochs[0]["train_loss"]
    assert bf16.final["val_acc"] > 0.3
    assert 0.0 <= bf16.final["val_pgd_48.0_acc"] <= bf16.final["val_acc"] <= 1.0
    with pytest.raises(ValueError, match="'fp16'; valid: 'auto', 'fp32', 'bf16'"):
        train(1000, "digits", "tiny", device="cpu", precision="fp16")


def test_device_errors():
    from robbench_plugin.train import select_device

    assert select_device("cpu").type == "cpu"
    with pytest.raises(ValueError, match="'tpu'"):
        select_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            select_device("cuda")


def test_sigkill_mid_training_resumes_without_duplicate_epochs(tmp_path):
    ckpt = tmp_path / "ckpt"
    script = textwrap.dedent(f"""
        import json, sys, time
        from robbench_plugin.train import Recipe, train
        recipe = Recipe.preset("tiny").replace(epochs=6)
        def slow(rec):
            time.sleep(0.6)
        r = train(1000, "digits", recipe, seed=1, device="cpu", checkpoint_dir={str(ckpt)!r},
                  resume=True, callback=slow if len(sys.argv) > 1 else None)
        print(json.dumps([e["epoch"] for e in r.epochs]))
    """)
    proc = subprocess.Popen([sys.executable, "-c", script, "slow"], stdout=subprocess.PIPE)
    deadline = time.time() + 120
    while not (ckpt / "checkpoint.pt").exists() and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.8)  # let it get into a later epoch
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    state = torch.load(ckpt / "checkpoint.pt", weights_only=False)
    done_before = len(state["epochs"])
    assert 1 <= done_before < 6
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    epochs = json.loads(out.strip().splitlines()[-1])
    assert epochs == [1, 2, 3, 4, 5, 6]


def test_resume_rejects_foreign_checkpoint(tmp_path):
    train(1000, "digits", "tiny", seed=0, device="cpu", checkpoint_dir=tmp_path)
    with pytest.raises(ValueError, match="belongs to"):
        train(1462, "digits", "tiny", seed=0, device="cpu", checkpoint_dir=tmp_path, resume=True)


def test_cifar_loader_on_synthetic_pickles(tmp_path):
    import pickle

    import numpy as np

    base = tmp_path / "cifar-10-batches-py"
    base.mkdir()
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        with open(base / name, "wb") as fh:
            pickle.dump({b"data": rng.integers(0, 256, (20, 3072), dtype=np.uint8),
                         b"labels": rng.integers(0, 10, 20).tolist()}, fh)
    s = load_splits("cifar10", tmp_path)
    assert s.train[0].shape == (100, 3, 32, 32) and s.val[0].shape == (20, 3, 32, 32)
    assert "whole test set" in s.split_source
    # first pixel of the first image: channel-major layout as in the CIFAR pickles
    raw = pickle.load(open(base / "data_batch_1", "rb"))[b"data"]
    assert s.train[0][0, 1, 0, 0].item() == pytest.approx(raw[0, 1024] / 255)
    (tmp_path / "cifar-split.txt").write_text(json.dumps({"train": ["train", list(range(0, 60))],
                                                           "valid": ["valid", list(range(60, 100))]}))
    s = load_splits("cifar10", tmp_path)
    assert len(s.train[0]) == 60 and len(s.val[0]) == 40 and "cifar-split" in s.split_source


def test_imagenet16_loader_keeps_120_classes(tmp_path):
    import pickle

    import numpy as np

    base = tmp_path / "ImageNet16"
    base.mkdir()
    rng = np.random.default_rng(0)
    for name in [f"train_data_batch_{i}" for i in range(1, 11)] + ["val_data"]:
        labels = rng.integers(1, 1001, 50)
        labels[:3] = [1, 120, 121]
        with open(base / name, "wb") as fh:
            pickle.dump({"data": rng.integers(0, 256, (50, 768), dtype=np.uint8), "labels": labels.tolist()}, fh)
    s = load_splits("imagenet", tmp_path)
    assert s.train[1].min() == 0 and s.train[1].max() <= 119
    assert s.train[0].shape[1:] == (3, 16, 16)


def test_missing_dataset_files_named(tmp_path):
    from robbench_plugin.errors import DataFileError

    with pytest.raises(DataFileError, match="data_batch_1"):
        load_splits("cifar10", tmp_path)
    with pytest.raises(DataFileError, match="train_data_batch_1"):
        load_splits("imagenet", tmp_path)
    with pytest.raises(DataFileError, match="root="):
        load_splits("cifar100")
