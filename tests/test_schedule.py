"""Learning-rate schedules of a recipe: the arithmetic against torch's own schedulers, what the
trainer's optimizer sees at every step, the recipe field's validation, round trip and keys, and
bit-for-bit repeats in a fresh process."""
import json
import math

import pytest

torch = pytest.importorskip("torch")

from robbench_plugin.errors import InvalidChoiceError, InvalidValueError  # noqa: E402
from robbench_plugin.train import Recipe, train  # noqa: E402
from robbench_plugin.train.recipe import PRESETS  # noqa: E402
from robbench_plugin.train.schedule import lr_factor  # noqa: E402
from tests.helpers import run_fresh  # noqa: E402

SCHEDULES = {
    "onecycle": {},
    "cosine": {"lr_schedule": "cosine"},
    "cosine-warm": {"lr_schedule": "cosine", "lr_warmup": 0.25},
    "multistep": {"lr_schedule": "multistep", "lr_milestones": (0.5, 0.75), "lr_gamma": 0.1},
    "constant-decay": {"lr_schedule": "constant", "lr_final_decay": 0.25},
}


def _torch_lrs(make, steps: int, per_epoch: int | None = None) -> list[float]:
    """The lr of each of ``steps`` optimizer steps under the scheduler ``make(opt)``, stepped per
    batch (or per epoch of ``per_epoch`` batches)."""
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    sched = make(opt)
    out = []
    for s in range(steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        if per_epoch is None or (s + 1) % per_epoch == 0:
            sched.step()
    return out


def test_cosine_is_torchs_cosine_annealing():
    r = Recipe(epochs=4, lr_schedule="cosine")
    ours = [0.1 * lr_factor(r, s, 5) for s in range(20)]
    theirs = _torch_lrs(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=20), 20)
    assert ours == pytest.approx(theirs, abs=1e-12)


def test_multistep_is_torchs_multistep_per_epoch_as_the_reference_steps_it():
    # the reference code's 'step' option: MultiStepLR(milestones=[int(0.5 E), int(0.75 E)], gamma=0.1),
    # stepped once per epoch
    r = Recipe(epochs=8, lr_schedule="multistep", lr_milestones=(0.5, 0.75), lr_gamma=0.1)
    ours = [0.1 * lr_factor(r, s, 3) for s in range(24)]
    theirs = _torch_lrs(lambda o: torch.optim.lr_scheduler.MultiStepLR(o, milestones=[4, 6], gamma=0.1), 24, 3)
    assert ours == pytest.approx(theirs, rel=1e-12)


def test_warmup_and_final_decay_by_hand():
    # 10 steps, warm-up round(0.2 * 10) = 2 steps rising to the peak (1/2, 2/2), then the cosine
    # over the other 8 steps from its peak: cos(pi * k / 8) for k = 0..7
    r = Recipe(epochs=2, lr_schedule="cosine", lr_warmup=0.2)
    assert [lr_factor(r, s, 5) for s in range(10)] == pytest.approx(
        [0.5, 1.0] + [0.5 * (1 + math.cos(math.pi * k / 8)) for k in range(8)])
    # constant, the last round(0.3 * 10) = 3 steps decay linearly: 3/3, 2/3, 1/3
    c = Recipe(epochs=2, lr_schedule="constant", lr_final_decay=0.3)
    assert [lr_factor(c, s, 5) for s in range(10)] == pytest.approx([1] * 7 + [1, 2 / 3, 1 / 3])
    assert [lr_factor(Recipe(epochs=2, lr_schedule="constant"), s, 5) for s in range(10)] == [1.0] * 10


def _record_optimizer(monkeypatch) -> list[tuple[float, float]]:
    """(lr, momentum) of every optimizer step the trainer takes."""
    seen = []
    step = torch.optim.SGD.step

    def recording(self, *a, **k):
        seen.append((self.param_groups[0]["lr"], self.param_groups[0]["momentum"]))
        return step(self, *a, **k)

    monkeypatch.setattr(torch.optim.SGD, "step", recording)
    return seen


def test_trainer_steps_the_release_schedule_as_torchs_onecycle(monkeypatch):
    """The release's lr and momentum at every step are torch's OneCycleLR(max_lr 0.1) with its
    defaults (momentum cycled 0.95 -> 0.85 -> 0.95), as the reference code schedules them."""
    recipe = Recipe.preset("release").replace(C=4, N=1, epochs=3, batch_size=400, train_steps=1,
                                              augment="none", data_split="nb201", eval_attacks=())
    # the reference's: SGD(lr=cyclelr 0.05, momentum 0.9, wd 5e-4), OneCycleLR(optimizer, 0.1, epochs,
    # steps_per_epoch), stepped per batch
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.05, momentum=0.9, weight_decay=5e-4)
    ref = torch.optim.lr_scheduler.OneCycleLR(opt, 0.1, epochs=3, steps_per_epoch=3)
    expected = []
    for _ in range(9):
        expected.append((opt.param_groups[0]["lr"], opt.param_groups[0]["momentum"]))
        opt.step()
        ref.step()
    seen = _record_optimizer(monkeypatch)
    train(1000, "digits", recipe, seed=0, device="cpu")  # 1197 images at batch 400: 3 steps an epoch
    assert seen == expected
    assert max(lr for lr, _ in seen) == pytest.approx(0.1, rel=0.05) and seen[0][1] == 0.95


@pytest.mark.parametrize("name", [n for n in SCHEDULES if n != "onecycle"])
def test_trainer_steps_each_schedule(monkeypatch, name):
    recipe = Recipe.preset("tiny").replace(epochs=4, batch_size=400, **SCHEDULES[name])
    seen = _record_optimizer(monkeypatch)
    train(1000, "digits", recipe, seed=0, device="cpu")
    assert [lr for lr, _ in seen] == pytest.approx([0.1 * lr_factor(recipe, s, 3) for s in range(12)], rel=1e-12)
    assert {m for _, m in seen} == {0.9}  # fixed momentum outside onecycle


def test_schedule_fields_validate_round_trip_and_key():
    base = Recipe.preset("fashion-mnist")
    # the presets keep the keys their tables were built with (the embedded tables' manifests)
    assert base.key() == "801106ba0969" and PRESETS["digits"].key() == "062d3273f06e"
    keys = {base.key()}
    for spec in SCHEDULES.values():
        r = base.replace(**spec)
        back = Recipe.from_dict(json.loads(json.dumps(r.to_dict())))
        assert back == r and back.key() == r.key()
        keys.add(r.key())
    assert len(keys) == len(SCHEDULES)  # every schedule keys its results apart (onecycle = base)
    assert base.replace(lr_schedule="cosine", lr_warmup=0.1).key() != base.replace(lr_schedule="cosine").key()
    bad = [({"lr_schedule": "linear"}, "'linear'; valid: 'onecycle', 'cosine', 'multistep', 'constant'"),
           ({"lr_warmup": 1.0}, r"lr_warmup \(fraction of the steps\) must be a number in \[0, 1\)"),
           ({"lr_gamma": 0.5}, "lr_gamma applies to lr_schedule multistep only, not onecycle"),
           ({"lr_final_decay": 0.2, "lr_schedule": "cosine"}, "applies to lr_schedule constant only"),
           ({"lr_schedule": "multistep", "lr_milestones": (0.5, 1.0)}, r"lr_milestones entry .* in \(0, 1\)")]
    for changes, message in bad:
        with pytest.raises((InvalidValueError, InvalidChoiceError), match=message):
            base.replace(**changes)


def _run_all(seed: int = 2) -> dict:
    return {name: [{k: v for k, v in e.items() if not k.endswith("time_s")}
                   for e in train(1000, "digits", Recipe.preset("tiny").replace(**spec), seed=seed,
                                  device="cpu").epochs]
            for name, spec in SCHEDULES.items()}


def test_each_schedule_repeats_bit_for_bit_in_a_fresh_process():
    torch.set_num_threads(1)
    here = _run_all()
    code = ("import json, torch\ntorch.set_num_threads(1)\nfrom tests.test_schedule import _run_all\n"
            "print(json.dumps(_run_all()))")
    there = json.loads(run_fresh(code, hash_seed=7, rng_seed=11).strip().splitlines()[-1])
    assert json.loads(json.dumps(here)) == there
    # and the schedules do differ: a test that would pass with the schedule ignored is no test
    assert len({json.dumps(v) for v in here.values()}) == len(SCHEDULES)


def test_fashion_mnist_v2_is_v1_with_nas_bench_201s_schedule():
    """v2 = v1's recipe with NAS-Bench-201's own schedule (cosine from LR to eta_min, no warm-up; the
    values in tests/data as its authors' config writes them), and nothing else changed."""
    from pathlib import Path

    nb201 = json.loads((Path(__file__).parent / "data" / "nb201_hyper_opts_200E.json").read_text())
    v1, v2 = PRESETS["fashion-mnist"], PRESETS["fashion-mnist-v2"]
    assert v2.replace(name=v1.name, lr_schedule=v1.lr_schedule) == v1
    assert (nb201["scheduler"], nb201["warmup"], nb201["LR"]) == ("cos", 0, 0.1)
    assert v2.lr_schedule == "cosine" and v2.lr_max == nb201["LR"] and v2.lr_warmup is None
    steps = 6 * 16  # 2000 images at batch 128: 16 steps an epoch
    first, last = lr_factor(v2, 0, 16), lr_factor(v2, steps - 1, 16)
    assert first == 1.0  # no warm-up: the first step is at LR
    assert last * v2.lr_max == pytest.approx(nb201["eta_min"] + (v2.lr_max - nb201["eta_min"])
                                             * (1 + math.cos(math.pi * (steps - 1) / steps)) / 2, abs=1e-15)
    # the key of the schedule study's small-cosine runs (docs/schedule-study/design.md): the study
    # measured exactly this recipe; v1 keeps the key its table was built with
    assert v2.key() == "c34938504ee4" and v1.key() == "801106ba0969"
