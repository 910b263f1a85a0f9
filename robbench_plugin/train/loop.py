"""Adversarial training of one NAS-Bench-201 cell with per-epoch records and checkpoints."""
from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional, Union

import numpy as np
import torch
import torch.nn.functional as F

from ..costs import arch_costs
from ..errors import DeviceUnavailableError, InvalidValueError, check_choice
from ..fileutil import atomic_path
from ..space import ArchLike, Arch
from .attacks import accuracy, autoattack, fgsm, pgd
from .augment import crop_flip, resolve_padding
from .data import Splits, load_splits
from .model import build_model
from .recipe import AttackSpec, Recipe, aliases_for_recipe
from .schedule import make_scheduler

EpochCallback = Callable[[dict], Optional[bool]]
PRECISIONS = ("auto", "fp32", "bf16")


def select_device(device: str = "auto") -> torch.device:
    """``auto`` picks cuda, then mps, then cpu; ``cpu``/``cuda``/``cuda:N``/``mps`` are taken as given."""
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    kind, _, number = str(device).partition(":")
    check_choice("device", kind, ("auto", "cpu", "cuda", "mps"))
    if kind == "cuda":
        if not torch.cuda.is_available():
            raise DeviceUnavailableError(f"device {device!r} requested but CUDA is not available here; "
                                         "valid: auto or cpu")
        if number and (not number.isdigit() or int(number) >= torch.cuda.device_count()):
            raise DeviceUnavailableError(f"device {device!r}: valid CUDA devices are cuda:0..cuda:"
                                         f"{torch.cuda.device_count() - 1}")
    if kind == "mps" and not (getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()):
        raise DeviceUnavailableError(f"device {device!r} requested but MPS is not available here; valid: auto or cpu")
    if kind != "cuda" and number:
        raise DeviceUnavailableError(f"device {device!r}: only CUDA devices take a number")
    return torch.device(device)


def resolve_precision(precision: str, device_type: str) -> str:
    """The numeric precision a run uses: ``fp32`` or ``bf16`` (``auto`` = bf16 on CUDA, fp32
    elsewhere). Part of a run's identity: the two give different numbers."""
    check_choice("precision", precision, PRECISIONS)
    if precision == "auto":
        return "bf16" if device_type == "cuda" else "fp32"
    return precision


def state_to_bytes(state: dict) -> bytes:
    """A trainer checkpoint (the dict :func:`train` hands to ``save_state``) as bytes."""
    import io

    buf = io.BytesIO()
    torch.save(state, buf)
    return buf.getvalue()


def state_from_bytes(data: bytes) -> dict:
    """The inverse of :func:`state_to_bytes` (tensors and plain values only: no code is unpickled)."""
    import io

    return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


@dataclass
class TrainResult:
    """Outcome of :func:`train`. Accuracies are fractions in [0, 1]; times in seconds;
    ``params`` in millions, ``flops`` in millions of multiply-adds per image."""

    arch: str
    uid: int
    dataset: str
    recipe: Recipe
    seed: int
    device: str
    precision: str = "fp32"
    epochs: list[dict] = field(default_factory=list)
    params: float = 0.0
    flops: float = 0.0
    stopped_early: bool = False

    @property
    def final(self) -> dict:
        """Metrics of the last evaluated epoch."""
        evaluated = [e for e in self.epochs if "val_acc" in e]
        return evaluated[-1] if evaluated else {}

    def to_dict(self) -> dict[str, Any]:
        return {"arch": self.arch, "uid": self.uid, "dataset": self.dataset, "recipe": self.recipe.to_dict(),
                "recipe_key": self.recipe.key(), "seed": self.seed, "device": self.device,
                "precision": self.precision, "epochs": self.epochs,
                "params": self.params, "flops": self.flops, "stopped_early": self.stopped_early}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TrainResult":
        return cls(arch=d["arch"], uid=int(d["uid"]), dataset=d["dataset"], recipe=Recipe.from_dict(d["recipe"]),
                   seed=int(d["seed"]), device=d["device"], precision=d.get("precision", "fp32"),
                   epochs=list(d["epochs"]), params=float(d["params"]),
                   flops=float(d["flops"]), stopped_early=bool(d.get("stopped_early", False)))


def evaluate(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, recipe: Recipe, seed: int = 0,
             batch_size: int = 512) -> dict[str, float]:
    """Clean and robust accuracy (fractions) of ``model`` on (x, y) under ``recipe``'s attacks."""
    out = {"val_acc": accuracy(model, x, y)}
    gen = torch.Generator(device="cpu").manual_seed(seed)
    for spec in recipe.eval_attacks:
        correct = 0
        for i in range(0, len(x), batch_size):
            xb, yb = x[i:i + batch_size], y[i:i + batch_size]
            if spec.kind == "fgsm":
                xa = fgsm(model, xb, yb, spec.eps / 255)
            elif spec.kind == "pgd":
                xa = pgd(model, xb, yb, spec.eps / 255, spec.step_size / 255, spec.steps, spec.random_start,
                         generator=gen)
            else:
                xa = autoattack(model, xb, yb, spec.eps / 255, seed=seed)
            correct += round(accuracy(model, xa, yb) * len(xb))
        out[spec.metric] = correct / max(len(x), 1)
    if recipe.autoattack:
        main = max((a.eps for a in recipe.eval_attacks), default=8.0)
        spec = AttackSpec("autoattack", main)
        xa = autoattack(model, x, y, main / 255, seed=seed)
        out[spec.metric] = accuracy(model, xa, y)
    return out


def _atomic_torch_save(obj: Any, path: Path) -> None:
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def train(arch: ArchLike, dataset: str = "digits", recipe: Union[Recipe, str] = "quick", seed: int = 0,
          device: str = "auto", data_root: str | Path | None = None, splits: Splits | None = None,
          callback: EpochCallback | None = None, checkpoint_dir: str | Path | None = None, resume: bool = False,
          compile: bool = False, progress: bool = False, precision: str = "auto", initial_state: dict | None = None,
          save_state: Callable[[dict], None] | None = None, until: int | None = None) -> TrainResult:
    """Adversarially train ``arch`` on ``dataset`` with ``recipe`` and evaluate it.

    ``callback(epoch_record)`` runs after every epoch; returning ``False`` stops training
    (pruning). With ``checkpoint_dir`` the state is saved atomically after every epoch and
    ``resume=True`` continues from it. ``save_state(state)`` receives the same state (a dict of
    tensors and plain values, ``state["epochs"]`` the records so far) after every epoch, before
    ``callback``; ``initial_state`` resumes from such a state. ``until``: stop after this epoch
    (1..recipe.epochs; the learning-rate schedule stays the recipe's, so stopping and resuming
    gives the numbers of one uninterrupted run).

    ``precision``: ``auto`` = bf16 autocast on CUDA, fp32 elsewhere; ``fp32``; ``bf16`` = bf16
    autocast (and channels_last) on any device — on CPUs with AVX512-BF16/AMX this is about 2x
    faster than fp32 (``benchmarks/bench_trainer.py``), with bf16's coarser numerics. Attacks and
    evaluation run under the same autocast as training.
    """
    a = Arch.parse(arch)
    recipe = Recipe.preset(recipe) if isinstance(recipe, str) else recipe
    splits = splits if splits is not None else load_splits(dataset, data_root, recipe.data_split)
    padding = (resolve_padding(recipe.augment_padding, dataset, int(splits.train[0].shape[-1]))
               if recipe.augment == "crop-flip" else None)
    dev = select_device(device)
    seed_everything(seed)
    mean, std = splits.mean_std
    model = build_model(a, splits.num_classes, C=recipe.C, N=recipe.N, in_channels=splits.in_channels,
                        mean=mean, std=std).to(dev)
    cuda = dev.type == "cuda"
    resolved = resolve_precision(precision, dev.type)
    bf16 = resolved == "bf16"
    if until is not None and (isinstance(until, bool) or not isinstance(until, int) or not 1 <= until <= recipe.epochs):
        raise InvalidValueError(f"until must be an epoch in 1..{recipe.epochs}, got {until!r}")
    channels_last = cuda or bf16 or recipe.channels_last
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    step_model = torch.compile(model) if compile else model
    xtr, ytr = splits.train
    xva, yva = splits.val
    xtr, ytr, xva, yva = xtr.to(dev), ytr.to(dev), xva.to(dev), yva.to(dev)
    steps_per_epoch = (len(xtr) + recipe.batch_size - 1) // recipe.batch_size
    opt = torch.optim.SGD(model.parameters(), lr=recipe.lr_max, momentum=recipe.momentum,
                          weight_decay=recipe.weight_decay)
    sched = make_scheduler(opt, recipe, steps_per_epoch)
    costs = arch_costs(a, dataset, C=recipe.C, N=recipe.N)
    result = TrainResult(a.string, a.uid, dataset, recipe, seed, str(dev), resolved, params=costs["params"],
                         flops=costs["flops"])
    ckpt = Path(checkpoint_dir) / "checkpoint.pt" if checkpoint_dir is not None else None
    ident = (a.string, dataset, recipe.key(), seed, resolved, dev.type)
    # the augmentation's own random stream: one generator for the run, saved with every checkpoint
    aug_gen = torch.Generator().manual_seed(seed * 1000003 + 12345) if padding is not None else None
    start = 1
    state = initial_state
    where = "initial_state"
    if state is None and ckpt is not None and resume and ckpt.is_file():
        state = torch.load(ckpt, map_location="cpu", weights_only=True)
        where = str(ckpt)
    if state is not None:
        if tuple(state["ident"]) != ident:
            raise InvalidValueError(f"checkpoint {where} belongs to {tuple(state['ident'])}, not {ident}")
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        sched.load_state_dict(state["sched"])
        torch.set_rng_state(state["rng"])
        if aug_gen is not None:
            aug_gen.set_state(state["aug_rng"])
        result.epochs = [dict(e) for e in state["epochs"]]
        start = len(result.epochs) + 1
    evaluated = set(recipe.evaluated_epochs())
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=recipe.epochs, initial=start - 1, desc=f"train uid {a.uid}", unit="epoch")
        robust = aliases_for_recipe(recipe.to_dict()).get("robust")  # shown as "robust" on the bar
    autocast = torch.autocast(dev.type, dtype=torch.bfloat16, enabled=bf16)
    eps, alpha = recipe.train_eps / 255, recipe.train_alpha / 255
    last = recipe.epochs if until is None else until
    for epoch in range(start, last + 1):
        model.train()
        t0 = time.perf_counter()
        perm = torch.randperm(len(xtr), generator=torch.Generator().manual_seed(seed * 100003 + epoch)).to(dev)
        loss_sum, correct, seen = 0.0, 0, 0
        for i in range(steps_per_epoch):
            idx = perm[i * recipe.batch_size:(i + 1) * recipe.batch_size]
            xb, yb = xtr[idx], ytr[idx]
            if aug_gen is not None:
                xb = crop_flip(xb, padding, aug_gen)
            if channels_last:
                xb = xb.contiguous(memory_format=torch.channels_last)
            with autocast:
                if recipe.train_attack == "pgd":
                    xb = pgd(step_model, xb, yb, eps, alpha, recipe.train_steps, recipe.train_random_start)
                elif recipe.train_attack == "fgsm":
                    xb = fgsm(step_model, xb, yb, eps)
                logits = step_model(xb)
                loss = F.cross_entropy(logits, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            loss_sum += float(loss.detach()) * len(yb)
            correct += int((logits.argmax(1) == yb).sum())
            seen += len(yb)
        if cuda:
            torch.cuda.synchronize()
        record: dict[str, Any] = {"epoch": epoch, "train_loss": loss_sum / seen, "train_acc": correct / seen,
                                  "time_s": time.perf_counter() - t0}
        if epoch in evaluated:
            t1 = time.perf_counter()
            x_e, y_e = (xva, yva)
            if epoch != recipe.epochs and recipe.eval_subset is not None:
                x_e, y_e = xva[:recipe.eval_subset], yva[:recipe.eval_subset]
            with autocast:
                record.update(evaluate(model, x_e, y_e, recipe, seed=seed))
            record["eval_time_s"] = time.perf_counter() - t1
        result.epochs.append(record)
        if ckpt is not None or save_state is not None:
            state = {"ident": ident, "model": model.state_dict(), "opt": opt.state_dict(),
                     "sched": sched.state_dict(), "rng": torch.get_rng_state(), "epochs": result.epochs}
            if aug_gen is not None:
                state["aug_rng"] = aug_gen.get_state()
            if ckpt is not None:
                _atomic_torch_save(state, ckpt)
            if save_state is not None:
                save_state(state)
        if bar is not None:
            shown = {("robust" if k == robust else k): f"{v:.3f}" for k, v in record.items()
                     if k in ("train_loss", "val_acc", robust)}
            bar.set_postfix(shown, imgs_s=f"{seen / record['time_s']:.0f}")
            bar.update(1)
        if callback is not None and callback(dict(record)) is False:
            result.stopped_early = epoch < recipe.epochs
            break
    if bar is not None:
        bar.close()
    return result
