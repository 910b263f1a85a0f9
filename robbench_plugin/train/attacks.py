"""White-box L-inf attacks on models that take inputs in [0, 1].

``eps`` and ``alpha`` are in pixel units of [0, 1] here (8/255, not 8). All attacks run with
the model in eval mode (its mode is restored afterwards), are batched (no per-sample loops)
and never accumulate parameter gradients.
"""
from __future__ import annotations

import contextlib
from typing import Iterator

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import InvalidValueError


@contextlib.contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


def _check(eps: float, alpha: float | None = None, steps: int | None = None, restarts: int | None = None) -> None:
    if not (0.0 <= eps <= 1.0):
        raise InvalidValueError(f"eps must be in [0, 1] pixel units (e.g. 8/255), got {eps!r}")
    if alpha is not None and not (0.0 < alpha <= 1.0):
        raise InvalidValueError(f"alpha must be in (0, 1] pixel units, got {alpha!r}")
    if steps is not None and steps < 1:
        raise InvalidValueError(f"steps must be >= 1, got {steps!r}")
    if restarts is not None and restarts < 1:
        raise InvalidValueError(f"restarts must be >= 1, got {restarts!r}")


def _input_grad(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    x = x.detach().requires_grad_(True)
    loss = F.cross_entropy(model(x), y, reduction="sum")
    (grad,) = torch.autograd.grad(loss, x, allow_unused=True)
    # A cell whose output ignores its input (all paths through ``none``) has no gradient.
    return torch.zeros_like(x) if grad is None else grad


def fgsm(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float) -> torch.Tensor:
    """Fast gradient sign method: ``clip(x + eps * sign(grad_x CE), 0, 1)``."""
    _check(eps)
    with eval_mode(model):
        grad = _input_grad(model, x, y)
    return (x + eps * grad.sign()).clamp_(0.0, 1.0).detach()


def pgd(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float, alpha: float, steps: int,
        random_start: bool = True, restarts: int = 1, generator: torch.Generator | None = None) -> torch.Tensor:
    """Projected gradient descent (Madry et al.) in the L-inf ball of radius ``eps``.

    With ``restarts`` > 1 each sample keeps the first restart that fools the model (else the
    last one). ``generator`` makes the random start reproducible.
    """
    _check(eps, alpha, steps, restarts)
    x = x.detach()
    lo, hi = (x - eps).clamp(min=0.0), (x + eps).clamp(max=1.0)
    best = None
    with eval_mode(model):
        for _ in range(restarts):
            if random_start:
                noise = torch.rand(x.shape, generator=generator, device="cpu" if generator is None else generator.device)
                x_adv = (x + (noise.to(x.device, x.dtype) * 2 - 1) * eps).clamp(lo, hi)
            else:
                x_adv = x.clone()
            for _ in range(steps):
                grad = _input_grad(model, x_adv, y)
                x_adv = torch.minimum(torch.maximum(x_adv + alpha * grad.sign(), lo), hi).detach()
            if restarts == 1:
                return x_adv
            with torch.no_grad():
                fooled = model(x_adv).argmax(1) != y
            if best is None:
                best, done = x_adv, fooled
            else:
                take = fooled & ~done
                best = torch.where(take.view(-1, *[1] * (x.dim() - 1)), x_adv, best)
                done = done | fooled
    return best


def autoattack(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float, version: str = "standard",
               batch_size: int = 256, seed: int = 0) -> torch.Tensor:
    """Adversarial examples of AutoAttack (L-inf, ``eps`` in [0, 1] pixel units) through the official
    implementation: the ``pyautoattack`` package (extra ``autoattack``), or the ``autoattack``
    package installed from the authors' repository."""
    _check(eps)
    with eval_mode(model):
        try:
            from pyautoattack import AutoAttack
        except ImportError:
            pass
        else:
            adversary = AutoAttack(model, norm="Linf", eps=eps, version=version, seed=seed, device=str(x.device))
            adversary.verbose = False
            x_adv, _ = adversary.run_standard_evaluation(x, y, batch_size=batch_size)  # (x_adv, y_adv)
            return x_adv
        try:
            from autoattack import AutoAttack as RepoAutoAttack
        except ImportError as exc:  # pragma: no cover - depends on the extra
            from ..errors import MissingExtraError

            raise MissingExtraError("pyautoattack (official AutoAttack)", "autoattack") from exc
        adversary = RepoAutoAttack(model, norm="Linf", eps=eps, version=version, seed=seed, verbose=False,
                                   device=str(x.device))
        return adversary.run_standard_evaluation(x, y, bs=batch_size)


@torch.no_grad()
def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1024) -> float:
    """Top-1 accuracy as a fraction in [0, 1]."""
    with eval_mode(model):
        correct = sum(int((model(x[i:i + batch_size]).argmax(1) == y[i:i + batch_size]).sum())
                      for i in range(0, len(x), batch_size))
    return correct / max(len(x), 1)
