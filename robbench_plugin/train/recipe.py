"""Training and evaluation recipes as validated, hashable dataclasses.

Attack strengths (``eps``, ``alpha``) are in /255 units, as the release names its metrics
(``val_pgd_8.0_acc`` is PGD at eps 8/255). Accuracies produced by a recipe are fractions.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Union

from ..errors import InvalidChoiceError, InvalidValueError, check_choice
from .schedule import LR_SCHEDULES

AUGMENTS = ("none", "crop-flip")  # see .augment
DATA_SPLITS = ("nb201", "full")

ATTACK_KINDS = ("fgsm", "pgd", "autoattack")
TRAIN_ATTACKS = ("pgd", "fgsm", "none")
EvalEpochs = Union[str, tuple]


def _check_number(what: str, value: object, low: float, high: float | None, low_open: bool = False,
                  high_open: bool = False, integer: bool = False) -> None:
    """InvalidValueError unless ``value`` is a finite real number (an int if ``integer``) in the
    range from ``low`` to ``high`` (None: unbounded), each end closed unless ``*_open``."""
    kinds = (int,) if integer else (int, float)
    ok = isinstance(value, kinds) and not isinstance(value, bool) and value == value and abs(value) != float("inf")
    if ok:
        ok = (value > low if low_open else value >= low) and (
            high is None or (value < high if high_open else value <= high))
    if not ok:
        span = f"{'(' if low_open else '['}{low}, {'inf)' if high is None else f'{high}' + (')' if high_open else ']')}"
        raise InvalidValueError(f"{what} must be {'an integer' if integer else 'a number'} in {span}, got {value!r}")


@dataclass(frozen=True)
class AttackSpec:
    """One evaluation attack. ``eps``/``alpha`` in /255 units; PGD's default step is
    2.5 * eps / steps (the release's PGD-20 setting)."""

    kind: str
    eps: float
    steps: int = 1
    alpha: float | None = None
    random_start: bool = True

    def __post_init__(self) -> None:
        check_choice("attack kind", self.kind, ATTACK_KINDS)
        _check_number("attack eps (/255 units)", self.eps, 0, 255, low_open=True)
        _check_number("attack steps", self.steps, 1, None, integer=True)
        if self.alpha is not None:
            _check_number("attack alpha (/255 units)", self.alpha, 0, 255, low_open=True)

    @property
    def step_size(self) -> float:
        """PGD step in /255 units."""
        return self.alpha if self.alpha is not None else 2.5 * self.eps / self.steps

    @property
    def metric(self) -> str:
        """Metric name in the release's convention, e.g. ``val_pgd_8.0_acc``."""
        tag = "autoattack" if self.kind == "autoattack" else self.kind
        return f"val_{tag}_{float(self.eps)}_acc"


RELEASE_EVAL = (
    AttackSpec("fgsm", 3.0), AttackSpec("fgsm", 8.0),
    AttackSpec("pgd", 3.0, steps=20), AttackSpec("pgd", 8.0, steps=20),
)


@dataclass(frozen=True)
class Recipe:
    """Adversarial training recipe (Madry PGD-AT by default) and its evaluation.

    - ``C``, ``N``: channels of the first stage, cells per stage.
    - ``epochs`` >= 1, ``batch_size`` >= 1; SGD with ``momentum`` in [0, 1), ``weight_decay`` >= 0.
    - ``lr_schedule`` in onecycle|cosine|multistep|constant with peak ``lr_max`` > 0, stepped per
      batch (:mod:`.schedule`): ``lr_warmup`` a fraction of the steps in [0, 1) (None: the
      schedule's own, 0.3 for onecycle as torch, none for the others); ``lr_milestones`` (fractions
      of training in (0, 1)) and ``lr_gamma`` in (0, 1] for multistep; ``lr_final_decay`` in [0, 1]
      (the last fraction of steps decays linearly to zero) for constant.
    - ``augment`` in none|crop-flip: the training batch, before the attack, randomly cropped from
      a copy zero-padded by ``augment_padding`` pixels (None: the reference's for the data set, 4
      for CIFAR, 2 for ImageNet16-120, an eighth of the image side elsewhere) and mirrored left-right with probability 0.5
      (:mod:`.augment`).
    - ``data_split`` in nb201|full, for CIFAR-10, CIFAR-100 and ImageNet16-120: ``nb201`` uses
      NAS-Bench-201's split files where they lie beside the data (:mod:`.data`), ``full`` trains on
      the whole training set and evaluates on the whole test set whatever lies there. digits and
      fashion-mnist have one fixed split each.
    - ``train_attack`` in pgd|fgsm|none, with ``train_eps``/``train_alpha`` (/255 units),
      ``train_steps`` and ``train_random_start``; attacks are generated in eval mode.
    - ``eval_attacks``: evaluated on the validation split besides clean accuracy.
    - ``eval_epochs``: "final", "all", "log" (1, 2, 4, ... and the last) or a tuple of epochs.
    - ``eval_subset``: images of the validation split used at non-final evaluated epochs
      (None = all); the final epoch always uses the whole split.
    - ``channels_last``: NHWC memory layout on every device (CUDA and bf16 runs always use it).
      For the small networks of the embedded benchmarks it makes an fp32 CPU run about 15-20%
      faster; the numbers differ slightly from the default layout, so it is part of the key (a
      recipe that leaves it off keeps the key it had before the field existed).
    """

    name: str = "custom"
    C: int = 16
    N: int = 5
    epochs: int = 50
    batch_size: int = 256
    lr_max: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 5e-4
    train_attack: str = "pgd"
    train_eps: float = 8.0
    train_alpha: float = 2.0
    train_steps: int = 7
    train_random_start: bool = True
    eval_attacks: tuple = RELEASE_EVAL
    autoattack: bool = False
    eval_epochs: EvalEpochs = "final"
    eval_subset: int | None = None
    channels_last: bool = False
    lr_schedule: str = "onecycle"
    lr_warmup: float | None = None
    lr_milestones: tuple = (0.5, 0.75)
    lr_gamma: float = 0.1
    lr_final_decay: float = 0.0
    augment: str = "none"
    augment_padding: int | None = None
    data_split: str = "nb201"

    def __post_init__(self) -> None:
        for key in ("C", "N", "epochs", "batch_size"):
            _check_number(f"recipe {key}", getattr(self, key), 1, None, integer=True)
        _check_number("recipe lr_max", self.lr_max, 0, None, low_open=True)
        _check_number("recipe momentum", self.momentum, 0, 1, high_open=True)
        _check_number("recipe weight_decay", self.weight_decay, 0, None)
        check_choice("train_attack", self.train_attack, TRAIN_ATTACKS)
        if self.train_attack != "none":
            _check_number("recipe train_eps (/255 units)", self.train_eps, 0, 255, low_open=True)
            _check_number("recipe train_alpha (/255 units)", self.train_alpha, 0, 255, low_open=True)
            _check_number("recipe train_steps", self.train_steps, 1, None, integer=True)
        if not isinstance(self.eval_attacks, (list, tuple)):
            raise InvalidValueError(f"recipe eval_attacks must be a list of attacks, got {self.eval_attacks!r}")
        attacks = tuple(a if isinstance(a, AttackSpec) else AttackSpec(**a) for a in self.eval_attacks)
        object.__setattr__(self, "eval_attacks", attacks)
        if isinstance(self.eval_epochs, (list, tuple)):
            for e in self.eval_epochs:
                _check_number("eval_epochs entry", e, 1, self.epochs, integer=True)
            epochs = tuple(int(e) for e in self.eval_epochs)
            bad = [e for e in epochs if not 1 <= e <= self.epochs]
            if bad:
                raise InvalidValueError(f"eval_epochs {bad} outside 1..{self.epochs}")
            object.__setattr__(self, "eval_epochs", tuple(sorted(set(epochs))))
        else:
            check_choice("eval_epochs", self.eval_epochs, ("final", "all", "log"))
        if self.eval_subset is not None:
            _check_number("recipe eval_subset", self.eval_subset, 1, None, integer=True)
        if not isinstance(self.channels_last, bool):
            raise InvalidValueError(f"recipe channels_last must be true or false, got {self.channels_last!r}")
        self._check_schedule()
        check_choice("recipe augment", self.augment, AUGMENTS)
        if self.augment_padding is not None:
            if self.augment != "crop-flip":
                raise InvalidValueError(f"recipe augment_padding applies to augment crop-flip only, not {self.augment}")
            _check_number("recipe augment_padding (pixels)", self.augment_padding, 0, None, integer=True)
        check_choice("recipe data_split", self.data_split, DATA_SPLITS)

    def _check_schedule(self) -> None:
        check_choice("recipe lr_schedule", self.lr_schedule, LR_SCHEDULES)
        if self.lr_warmup is not None:
            _check_number("recipe lr_warmup (fraction of the steps)", self.lr_warmup, 0, 1, high_open=True)
        if not isinstance(self.lr_milestones, (list, tuple)):
            raise InvalidValueError(f"recipe lr_milestones must be a list of fractions of training, "
                                    f"got {self.lr_milestones!r}")
        for m in self.lr_milestones:
            _check_number("recipe lr_milestones entry (fraction of training)", m, 0, 1, low_open=True, high_open=True)
        object.__setattr__(self, "lr_milestones", tuple(sorted(float(m) for m in self.lr_milestones)))
        _check_number("recipe lr_gamma", self.lr_gamma, 0, 1, low_open=True)
        _check_number("recipe lr_final_decay (fraction of the steps)", self.lr_final_decay, 0, 1)
        # a parameter of another schedule, set away from its default, is a mistake, not a no-op
        owner = {"lr_milestones": "multistep", "lr_gamma": "multistep", "lr_final_decay": "constant"}
        for key, schedule in owner.items():
            value = getattr(self, key)
            if self.lr_schedule != schedule and (list(value) if isinstance(value, tuple) else value) != _ADDED_FIELDS[key]:
                raise InvalidValueError(f"recipe {key} applies to lr_schedule {schedule} only, not "
                                        f"{self.lr_schedule}")

    # --- derived --------------------------------------------------------------------
    def evaluated_epochs(self) -> tuple[int, ...]:
        """The epochs (1-based) at which the model is evaluated; always includes the last."""
        if self.eval_epochs == "final":
            return (self.epochs,)
        if self.eval_epochs == "all":
            return tuple(range(1, self.epochs + 1))
        if self.eval_epochs == "log":
            out, e = set(), 1
            while e < self.epochs:
                out.add(e)
                e *= 2
            return tuple(sorted(out | {self.epochs}))
        return tuple(sorted(set(self.eval_epochs) | {self.epochs}))

    def metric_names(self) -> list[str]:
        names = ["val_acc"] + [a.metric for a in self.eval_attacks]
        if self.autoattack:
            main = max((a.eps for a in self.eval_attacks), default=8.0)
            names.append(AttackSpec("autoattack", main).metric)
        return names

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["eval_attacks"] = [asdict(a) for a in self.eval_attacks]
        if isinstance(self.eval_epochs, tuple):
            d["eval_epochs"] = list(self.eval_epochs)
        d["lr_milestones"] = list(self.lr_milestones)
        for key, default in _ADDED_FIELDS.items():  # absent at its default: older keys stay valid
            if d[key] == default:
                del d[key]
        return d

    def key(self) -> str:
        """Short content hash (the name excluded) identifying results of this recipe."""
        d = self.to_dict()
        d.pop("name")
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:12]

    def replace(self, **changes: Any) -> "Recipe":
        valid = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - valid)
        if unknown:
            raise InvalidChoiceError("recipe field", unknown[0], sorted(valid))
        return replace(self, **changes)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Recipe":
        valid = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - valid)
        if unknown:
            raise InvalidChoiceError("recipe field", unknown[0], sorted(valid))
        data = dict(data)
        if isinstance(data.get("eval_epochs"), list):
            data["eval_epochs"] = tuple(data["eval_epochs"])
        if isinstance(data.get("lr_milestones"), list):
            data["lr_milestones"] = tuple(data["lr_milestones"])
        if "eval_attacks" in data:
            data["eval_attacks"] = tuple(AttackSpec(**a) if isinstance(a, dict) else a for a in data["eval_attacks"])
        return cls(**data)

    @classmethod
    def preset(cls, name: str) -> "Recipe":
        """A named recipe: see :data:`PRESETS`."""
        check_choice("recipe preset", name, PRESETS)
        return PRESETS[name]


# Fields added after recipes were first keyed, with their defaults: left out of to_dict (and so of
# key()) at the default, so every recipe that does not use them keeps its key.
_ADDED_FIELDS = {"channels_last": False, "lr_schedule": "onecycle", "lr_warmup": None,
                 "lr_milestones": [0.5, 0.75], "lr_gamma": 0.1, "lr_final_decay": 0.0,
                 "augment": "none", "augment_padding": None, "data_split": "nb201"}

DIGITS_EVAL = (
    AttackSpec("fgsm", 24.0), AttackSpec("fgsm", 48.0),
    AttackSpec("pgd", 24.0, steps=5), AttackSpec("pgd", 48.0, steps=5),
)

FASHION_MNIST_V1 = Recipe(name="fashion-mnist", C=8, N=3, epochs=6, batch_size=128, lr_max=0.1,
                          train_eps=8.0, train_alpha=10.0, train_steps=1,
                          eval_attacks=(AttackSpec("pgd", 8.0, steps=3),), eval_epochs="all",
                          eval_subset=1000, channels_last=True)

PRESETS: dict[str, Recipe] = {
    # The NAS-RobBench-201 release recipe (Wu et al., ICLR 2024), as its reference code trains
    # (docs/trainer.md cites each value): the reference's crop + flip, the whole training set,
    # evaluated on the whole test set.
    "release": Recipe(name="release", augment="crop-flip", data_split="full"),
    # The embedded digits benchmark: small network, PGD-2 AT at eps 48/255 (~0.19, step 30/255),
    # evaluated (clean, FGSM and PGD-5 at 24/255 and 48/255) after epochs 1, 2, 4 and 8.
    "digits": Recipe(name="digits", C=8, N=1, epochs=8, batch_size=128, lr_max=0.1,
                     train_eps=48.0, train_alpha=30.0, train_steps=2,
                     eval_attacks=DIGITS_EVAL, eval_epochs="log"),
    # The embedded Fashion-MNIST benchmark (the design study's "small" protocol, docs/design-study.md):
    # N=3 cells per stage, C=8, 6 epochs at batch 128, FGSM with a random start at eps 8/255 (step
    # 10/255, Wong et al. 2020); clean and PGD-3 (step 20/3 /255) accuracy at 8/255 after every epoch on
    # the first 1000 validation images, after the last on all of them.
    "fashion-mnist": FASHION_MNIST_V1,
    # Fashion-MNIST v2 (the schedule study's "small-cosine", docs/design-study.md): v1's network, data,
    # attack and evaluation with NAS-Bench-201's own schedule, cosine annealing from lr 0.1 to 0 with
    # no warm-up (AutoDL-Projects configs/nas-benchmark/hyper-opts/200E.config: scheduler cos,
    # eta_min 0, warmup 0), so that the early epochs of a learning curve rank the final ones.
    "fashion-mnist-v2": FASHION_MNIST_V1.replace(name="fashion-mnist-v2", lr_schedule="cosine"),
    # A CPU demo that finishes in seconds on digits.
    "quick": Recipe(name="quick", C=8, N=1, epochs=3, batch_size=64, train_eps=48.0, train_alpha=20.0,
                    train_steps=3, eval_attacks=DIGITS_EVAL, eval_epochs="all"),
    # For tests: smallest network, one PGD step.
    "tiny": Recipe(name="tiny", C=4, N=1, epochs=2, batch_size=128, train_eps=48.0, train_alpha=48.0,
                   train_steps=1, eval_attacks=(AttackSpec("fgsm", 48.0), AttackSpec("pgd", 48.0, steps=2)),
                   eval_epochs="all"),
}


def aliases_for_recipe(recipe: dict) -> dict[str, str]:
    """``clean`` -> ``val_acc``; ``robust`` -> PGD accuracy at the recipe's largest PGD eps."""
    pgd = [a for a in recipe.get("eval_attacks", []) if a["kind"] == "pgd"]
    out = {"clean": "val_acc"}
    if pgd:
        out["robust"] = f"val_pgd_{float(max(a['eps'] for a in pgd))}_acc"
    return out
