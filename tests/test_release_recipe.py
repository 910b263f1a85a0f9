"""The ``release`` recipe trains as NAS-RobBench-201's reference code does: each value against the
reference (tests/data/nas_robbench_201_reference_recipe.json), and what the trainer does, observed
through the public ``train`` function on synthetic CIFAR files: the crop + flip of every training
image, the images per epoch, the evaluation set and bad values."""
import json
import pickle
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from robbench_plugin.errors import InvalidChoiceError, InvalidValueError  # noqa: E402
from robbench_plugin.train import AttackSpec, Recipe, load_splits, train  # noqa: E402
from robbench_plugin.train import loop  # noqa: E402
from robbench_plugin.train.data import MEAN_STD  # noqa: E402

REF = json.loads((Path(__file__).parent / "data" / "nas_robbench_201_reference_recipe.json").read_text())
N_TRAIN, N_TEST = 5 * 24, 30  # synthetic CIFAR-10: 24 images per data batch


def test_release_recipe_is_the_reference_value_by_value():
    r = Recipe.preset("release")
    assert (r.momentum, r.weight_decay) == (REF["optimizer"]["momentum"], REF["optimizer"]["weight_decay"])
    assert (r.lr_schedule, r.lr_max, r.lr_warmup) == ("onecycle", REF["lr_schedule"]["max_lr"], None)  # torch's defaults
    assert (r.epochs, r.batch_size) == (REF["epochs"]["value"], REF["batch_size"]["value"])
    ta = REF["train_attack"]
    assert (r.train_attack, r.train_eps, r.train_alpha, r.train_steps, r.train_random_start) == \
        (ta["kind"], ta["eps"], ta["alpha"], ta["steps"], ta["random_start"])
    ev = REF["eval_attacks"]
    want = {("fgsm", e, 1) for e in ev["fgsm_eps"]} | {("pgd", e, ev["pgd_steps"]) for e in ev["pgd_eps"]}
    assert {(a.kind, a.eps, a.steps) for a in r.eval_attacks} == want
    for a in r.eval_attacks:
        if a.kind == "pgd":
            assert a.random_start and a.step_size == pytest.approx(2.5 * a.eps / ev["pgd_steps"])
    assert r.evaluated_epochs() == (r.epochs,)  # after the last epoch only
    assert (r.augment, r.augment_padding, r.data_split) == ("crop-flip", None, "full")
    assert (r.C, r.N) == (REF["network"]["C"], REF["network"]["N"])


@pytest.mark.parametrize("dataset", ["cifar10", "cifar100", "imagenet"])
def test_normalisation_is_nas_bench_201s_as_the_reference_writes_it(dataset):
    mean, std = MEAN_STD[dataset]
    ref = REF["normalisation"][dataset]
    assert mean == [x / 255 for x in ref["mean"]] and std == [x / 255 for x in ref["std"]]


def test_reference_padding_per_dataset():
    from robbench_plugin.train.augment import REFERENCE_PADDING

    assert REFERENCE_PADDING == {d: REF["augment"][d]["padding"] for d in ("cifar10", "cifar100", "imagenet")}


# --- synthetic CIFAR-10 files ----------------------------------------------------------------
PATTERN = np.random.default_rng(5).integers(40, 256, (3, 32, 32), dtype=np.uint8)  # no zero pixel


def _write_cifar(root: Path, split_file: bool = True) -> None:
    """CIFAR-10's python pickles: every training image is PATTERN (so any crop and flip of it can be
    recognised), every test image a constant grey of its own (30, 31, ... /255)."""
    base = root / "cifar-10-batches-py"
    base.mkdir(parents=True)
    for i in range(1, 6):
        data = np.tile(PATTERN.reshape(1, -1), (N_TRAIN // 5, 1))
        with open(base / f"data_batch_{i}", "wb") as fh:
            pickle.dump({b"data": data, b"labels": [(i + k) % 10 for k in range(N_TRAIN // 5)]}, fh)
    test = np.repeat(np.arange(30, 30 + N_TEST, dtype=np.uint8)[:, None], 3072, axis=1)
    with open(base / "test_batch", "wb") as fh:
        pickle.dump({b"data": test, b"labels": [k % 10 for k in range(N_TEST)]}, fh)
    if split_file:  # NAS-Bench-201's halves of the training set
        half = list(range(N_TRAIN // 2))
        (root / "cifar-split.txt").write_text(json.dumps({"train": ["train", half],
                                                          "valid": ["valid", list(range(N_TRAIN // 2, N_TRAIN))]}))


def _observed_recipe(**changes) -> Recipe:
    # the release's data handling on a network and an evaluation small enough for a test; FGSM as the
    # only evaluation attack, so every call of the PGD attack is a training call
    return Recipe.preset("release").replace(C=4, N=1, train_steps=1, eval_attacks=(AttackSpec("fgsm", 8.0),),
                                            **changes)


def _record_training_batches(monkeypatch) -> list[torch.Tensor]:
    """The clean batches the training attack receives (after augmentation, before the attack)."""
    seen = []
    attack = loop.pgd

    def recording(model, x, *args, **kw):
        seen.append(x.detach().clone())
        return attack(model, x, *args, **kw)

    monkeypatch.setattr(loop, "pgd", recording)
    return seen


def _decode(image: torch.Tensor, padding: int) -> tuple[int, int, bool]:
    """(top, left, flipped) of the crop of PATTERN that ``image`` is; fails if it is none."""
    padded = np.pad(PATTERN.astype(np.float32) / 255, ((0, 0), (padding, padding), (padding, padding)))
    x = image.numpy()
    for top in range(2 * padding + 1):
        for left in range(2 * padding + 1):
            crop = padded[:, top:top + 32, left:left + 32]
            for flipped, candidate in ((False, crop), (True, crop[:, :, ::-1])):
                if np.array_equal(candidate, x):
                    return top, left, flipped
    raise AssertionError("a training input is no crop (zero fill) + flip of its image")


def test_training_inputs_are_cropped_with_zero_fill_and_flipped_half_the_time(tmp_path, monkeypatch):
    _write_cifar(tmp_path)
    seen = _record_training_batches(monkeypatch)
    train(1000, "cifar10", _observed_recipe(epochs=12), seed=0, device="cpu", data_root=tmp_path)
    images = torch.cat(seen)
    assert len(images) == 12 * N_TRAIN  # every training image of every epoch went through the attack
    decoded = [_decode(img, 4) for img in images]
    flipped = np.mean([f for _, _, f in decoded])
    assert abs(flipped - 0.5) < 3 * np.sqrt(0.25 / len(decoded))  # ~0.5: within 3 sigma
    tops, lefts = [t for t, _, _ in decoded], [u for _, u, _ in decoded]
    assert sorted(set(tops)) == sorted(set(lefts)) == list(range(9))  # every shift 0..2p, none beyond
    # shifts are uniform: each of the 9 offsets about 1/9 of the draws (3 sigma)
    for values in (tops, lefts):
        counts = np.bincount(values, minlength=9) / len(values)
        assert np.all(np.abs(counts - 1 / 9) < 3 * np.sqrt((1 / 9) * (8 / 9) / len(values)))
    # an image shifted 4 rows down (and not sideways) has 4 rows of zeros at the top and none below
    down = images[[i for i, (t, u, _) in enumerate(decoded) if t == 0 and u == 4]]
    assert len(down) and torch.all(down[:, :, :4] == 0) and torch.all(down[:, :, 4:] > 0)


def test_no_augmentation_leaves_the_images_alone(tmp_path, monkeypatch):
    _write_cifar(tmp_path)
    seen = _record_training_batches(monkeypatch)
    train(1000, "cifar10", _observed_recipe(epochs=1, augment="none"), seed=0, device="cpu", data_root=tmp_path)
    assert all(_decode(img, 0) == (0, 0, False) for img in torch.cat(seen))


def test_release_trains_on_all_images_and_evaluates_on_the_whole_test_set(tmp_path, monkeypatch):
    """With NAS-Bench-201's split file beside the data, the release still trains on the whole
    training set and evaluates on the whole test set; a recipe with data_split nb201 uses the halves."""
    _write_cifar(tmp_path, split_file=True)
    evaluated = []
    evaluate = loop.evaluate

    def recording(model, x, y, *a, **k):
        evaluated.append(x.detach().clone())
        return evaluate(model, x, y, *a, **k)

    monkeypatch.setattr(loop, "evaluate", recording)
    seen = _record_training_batches(monkeypatch)
    train(1000, "cifar10", _observed_recipe(epochs=2), seed=0, device="cpu", data_root=tmp_path)
    assert sum(len(b) for b in seen) == 2 * N_TRAIN
    (final,) = evaluated
    greys = torch.round(final[:, 0, 0, 0] * 255).long().tolist()
    assert greys == list(range(30, 30 + N_TEST))  # test_batch, all of it, in order
    seen.clear()
    evaluated.clear()
    train(1000, "cifar10", _observed_recipe(epochs=2, data_split="nb201"), seed=0, device="cpu", data_root=tmp_path)
    assert sum(len(b) for b in seen) == 2 * (N_TRAIN // 2)
    assert len(evaluated[0]) == N_TRAIN // 2 and torch.all(evaluated[0] > 0.15)  # the valid half: PATTERN
    assert "data_split full" in load_splits("cifar10", tmp_path, "full").split_source


def test_augmentation_repeats_and_resumes_bit_for_bit(tmp_path):
    """A seeded run repeats; stopped after epoch 1 and resumed from its checkpoint, it gives the
    numbers of one uninterrupted run (the augmentation's random state is in the checkpoint)."""
    _write_cifar(tmp_path / "data")
    recipe = _observed_recipe(epochs=3, augment_padding=2)
    whole = train(1000, "cifar10", recipe, seed=4, device="cpu", data_root=tmp_path / "data")
    again = train(1000, "cifar10", recipe, seed=4, device="cpu", data_root=tmp_path / "data")
    train(1000, "cifar10", recipe, seed=4, device="cpu", data_root=tmp_path / "data", checkpoint_dir=tmp_path / "ck",
          until=1)
    state = torch.load(tmp_path / "ck" / "checkpoint.pt", weights_only=True)
    assert "aug_rng" in state
    resumed = train(1000, "cifar10", recipe, seed=4, device="cpu", data_root=tmp_path / "data",
                    checkpoint_dir=tmp_path / "ck", resume=True)

    def numbers(r):
        return [{k: v for k, v in e.items() if not k.endswith("time_s")} for e in r.epochs]

    assert numbers(whole) == numbers(again) == numbers(resumed)
    other = train(1000, "cifar10", recipe.replace(augment="none", augment_padding=None), seed=4, device="cpu", data_root=tmp_path / "data")
    assert numbers(other) != numbers(whole)


def test_embedded_presets_keep_their_keys_and_numbers():
    """The embedded tables do not change: their presets train without augmentation and keep the
    keys their builds were made with."""
    from robbench_plugin.train.recipe import PRESETS

    for name, key in {"digits": "062d3273f06e", "fashion-mnist": "801106ba0969"}.items():
        assert PRESETS[name].augment == "none" and PRESETS[name].key() == key
    for name in ("quick", "tiny"):
        assert PRESETS[name].augment == "none" and "augment" not in PRESETS[name].to_dict()


def test_bad_augmentation_values(tmp_path):
    with pytest.raises(InvalidChoiceError, match="unknown recipe augment 'cutout'; valid: 'none', 'crop-flip'"):
        Recipe(augment="cutout")
    with pytest.raises(InvalidValueError, match="augment_padding applies to augment crop-flip only"):
        Recipe(augment_padding=2)
    with pytest.raises(InvalidChoiceError, match="data_split"):
        Recipe(data_split="half")
    recipe = Recipe.preset("tiny").replace(augment="crop-flip", augment_padding=9)
    with pytest.raises(InvalidValueError, match="augment_padding 9 is larger than the 8x8 images of digits"):
        train(1000, "digits", recipe, device="cpu", checkpoint_dir=tmp_path / "ck")
    assert not (tmp_path / "ck").exists()  # refused before any work
    from robbench_plugin.train.augment import resolve_padding  # elsewhere: the reference's eighth of the side

    assert [resolve_padding(None, d, s) for d, s in (("cifar10", 32), ("imagenet", 16), ("digits", 8))] == [4, 2, 1]
