"""Training-set augmentation of a recipe, vectorised on the batch's device.

``crop-flip`` is NAS-RobBench-201's reference augmentation (its ``utils_data.py``): torchvision's
``RandomCrop(side, padding=p)`` (zero fill) followed by ``RandomHorizontalFlip()`` (p = 0.5), per
image, applied to the clean batch before the training attack. Here a whole batch is augmented at
once: every image draws its crop offsets (each uniform in 0..2p, as RandomCrop draws them) and its
flip from one ``torch.Generator`` on the CPU, so a seeded run repeats bit for bit on any device and
the generator's state can be saved with a checkpoint.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ..errors import InvalidValueError

# The reference's padding per data set (utils_data.py: RandomCrop(32, padding=4) for CIFAR-10 and
# CIFAR-100, RandomCrop(16, padding=2) for ImageNet16-120): what ``augment_padding=None`` means there;
# on the other data sets the same eighth of the image side.
REFERENCE_PADDING = {"cifar10": 4, "cifar100": 4, "imagenet": 2}


def resolve_padding(padding: int | None, dataset: str, side: int) -> int:
    """The crop padding in pixels for ``dataset``'s images of ``side`` x ``side`` pixels:
    ``padding``, or when None the reference's for the data set (an eighth of the side elsewhere: 1 at
    8x8); larger than the image is refused."""
    if padding is None:
        padding = REFERENCE_PADDING.get(dataset, side // 8)
    if padding > side:
        raise InvalidValueError(f"recipe augment_padding {padding} is larger than the {side}x{side} images of "
                                f"{dataset}; valid: 0..{side}")
    return padding


def crop_flip(x: torch.Tensor, padding: int, generator: torch.Generator) -> torch.Tensor:
    """Each image of ``x`` (B, C, H, W) cropped back to H x W from its zero-padded copy at offsets
    drawn uniformly in 0..2*padding (rows, then columns), then mirrored left-right with
    probability 0.5. Draws, in this order, B row offsets, B column offsets and B flips from
    ``generator`` (a CPU generator)."""
    b, _, h, w = x.shape
    top = torch.randint(0, 2 * padding + 1, (b,), generator=generator)
    left = torch.randint(0, 2 * padding + 1, (b,), generator=generator)
    flip = torch.rand(b, generator=generator) < 0.5
    rows = (top[:, None] + torch.arange(h)[None, :]).to(x.device)        # B x H, in padded coordinates
    cols = left[:, None] + torch.arange(w)[None, :]                      # B x W
    cols = torch.where(flip[:, None], cols.flip(1), cols).to(x.device)
    padded = F.pad(x, (padding, padding, padding, padding)) if padding else x
    batch = torch.arange(b, device=x.device)[:, None, None]
    # gather rows, then columns, for every channel at once
    out = padded.permute(0, 2, 3, 1)[batch, rows[:, :, None], cols[:, None, :]]  # B x H x W x C
    return out.permute(0, 3, 1, 2).contiguous()
