"""Style density sets the texture scale: low density = large structures, high density = fine strokes.

The feed-forward network is trained to produce images whose VGG Gram matrices match the style image's,
seen at the scale the density sets (``style_long_side``). Here images are optimised directly against those
same targets (Gatys et al. 2015) from noise, for a stripes style whose period is known, and the dominant
period of the result is measured from its power spectrum. Training a feed-forward net to convergence at
each density would show the same on a GPU, but not within a CPU test's budget.
"""

from __future__ import annotations

import numpy as np
import torch
from conftest import stripes

from studio.config import style_long_side
from studio.io.images import resize_long, to_tensor
from studio.nn.losses import gram, style_targets
from studio.nn.lossnet import load_vgg

LAYERS = ("relu1_2", "relu2_2", "relu3_3")


def dominant_period(img: np.ndarray) -> float:
    """Wavelength (px) at the peak of the radially averaged power spectrum of the luminance."""
    g = img.mean(axis=0)
    g = g - g.mean()
    power = np.abs(np.fft.fft2(g)) ** 2
    n = g.shape[0]
    radius = np.sqrt(np.fft.fftfreq(n)[:, None] ** 2 + np.fft.fftfreq(n)[None, :] ** 2)
    bins = np.round(radius * n).astype(int)
    profile = np.bincount(bins.ravel(), power.ravel()) / np.maximum(np.bincount(bins.ravel()), 1)
    k = 1 + int(np.argmax(profile[1 : n // 2]))
    return n / k


def synthesize(vgg: torch.nn.Module, style: np.ndarray, density: int, steps: int = 60, size: int = 128) -> np.ndarray:
    target = style_targets(vgg, [resize_long(to_tensor(style), style_long_side(density))], LAYERS)
    torch.manual_seed(0)
    z = (torch.randn(1, 3, size, size) * 0.5).requires_grad_()
    opt = torch.optim.Adam([z], lr=0.1)
    for _ in range(steps):
        feats = vgg(torch.sigmoid(z), LAYERS)
        loss = sum(((gram(feats[k]) - target[k]) ** 2).sum() / (target[k] ** 2).sum() for k in LAYERS)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return torch.sigmoid(z).detach()[0].numpy()


def test_texture_scale_falls_monotonically_with_density() -> None:
    vgg = load_vgg("hed")
    style = stripes(160, 128, period=12).astype(np.float32) / 255  # period 12 px in a 160 px image
    periods = [dominant_period(synthesize(vgg, style, d)) for d in (256, 512, 1024)]
    # expected: 12 * style_long_side(d) / 160 = 38, 19 and 10 px
    assert periods[0] > periods[1] > periods[2], periods
    assert periods[0] >= 2 * periods[2], periods
