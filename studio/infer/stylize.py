"""Running a trained network on images of any size: padding, tiling, intensity and colour preservation.

* Any size and aspect ratio: the network downsamples by 4, so inputs are reflection-padded to a multiple
  of 4 and the result is cropped back.
* Images too large for memory are cut into overlapping tiles. Instance norm would give every tile its own
  contrast, so first one pass over the whole image, downscaled to fit, records every norm layer's
  statistics, and all tiles are normalised with those; overlaps are cross-faded with linear ramps. Running
  out of memory halves the tile and tries again.
* Safe to call from several threads with one network: the statistics belong to the call
  (:class:`~studio.nn.networks.NormStatistics`), nothing is written onto the network.
* ``intensity`` blends the stylized result with the original.
* ``preserve_color``: Gatys et al. 2016, "Preserving Color in Neural Artistic Style Transfer" —
  luminance-only transfer: the result's luminance (Y of YIQ) with the original's chrominance (I, Q).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from studio.errors import StudioError
from studio.nn.networks import NormStatistics, TransformerNet

OVERLAP = 64  # pixels cross-faded between neighbouring tiles
MIN_TILE = 128
MIN_SIDE = 16


def default_tile(device: torch.device) -> int:
    """Largest tile side stylized in one piece: ~2 GB of activations on CPU, more on GPUs."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        # ~1.4 KB of live activations per pixel for the image model in fp32, with margin
        return int(max(MIN_TILE * 4, min(8192, math.sqrt(free / 4000))))
    return 2048


def forward_padded(
    net: TransformerNet, x: torch.Tensor, style: torch.Tensor, stats: NormStatistics | None = None
) -> torch.Tensor:
    """(B, 3, H, W) -> (B, 3, H, W) in [0, 1] for any H, W >= 1: one pass of ``net``, no tiling.

    The network downsamples by 4 and its 9x9 reflection pads need maps of a few pixels, so inputs are
    padded to a multiple of 4 and at least MIN_SIDE (reflection where the image is big enough, else
    edge replication), and the result is cropped back. ``stats``: as :meth:`TransformerNet.forward`.
    """
    h, w = x.shape[-2:]
    ph, pw = max(MIN_SIDE, h + (-h) % 4) - h, max(MIN_SIDE, w + (-w) % 4) - w
    if ph or pw:
        mode = "reflect" if h > ph and w > pw else "replicate"
        x = F.pad(x, (0, pw, 0, ph), mode=mode)
    # only a tiled pass passes stats: the frame engine's stand-ins for the network (onnxruntime) take two arguments
    y = (net(x, style) if stats is None else net(x, style, stats=stats)).clamp_(0.0, 1.0)
    return y[..., :h, :w]


def _ramp(n: int, overlap: int, at_start: bool, at_end: bool, device: torch.device) -> torch.Tensor:
    """1-D cross-fade weights for a tile of length n: ramps up/down over ``overlap`` inside the image."""
    r = torch.ones(n, device=device)
    k = min(overlap, n // 2)
    if k > 0:
        ramp = (torch.arange(k, device=device, dtype=torch.float32) + 0.5) / k
        if not at_start:
            r[:k] = ramp
        if not at_end:
            r[n - k :] = ramp.flip(0)
    return r


def _starts(length: int, tile: int, overlap: int) -> list[int]:
    if length <= tile:
        return [0]
    step = tile - overlap
    count = math.ceil((length - overlap) / step)
    return [min(i * step, length - tile) for i in range(count)]


def _forward_tiled(net: TransformerNet, x: torch.Tensor, style: torch.Tensor, tile: int) -> torch.Tensor:
    _, _, h, w = x.shape
    scale = min(1.0, tile / max(h, w))
    small = F.interpolate(x, scale_factor=scale, mode="bilinear", antialias=True, align_corners=False)
    out = torch.zeros_like(x)
    weight = torch.zeros(1, 1, h, w, device=x.device)
    stats = NormStatistics()  # this call's own: other threads may be tiling with the same network
    forward_padded(net, small, style, stats)
    stats.recording = False
    for y0 in _starts(h, tile, OVERLAP):
        for x0 in _starts(w, tile, OVERLAP):
            y1, x1 = min(y0 + tile, h), min(x0 + tile, w)
            patch = forward_padded(net, x[..., y0:y1, x0:x1], style, stats)
            ry = _ramp(y1 - y0, OVERLAP, y0 == 0, y1 == h, x.device)
            rx = _ramp(x1 - x0, OVERLAP, x0 == 0, x1 == w, x.device)
            m = (ry[:, None] * rx[None, :])[None, None]
            out[..., y0:y1, x0:x1] += patch * m
            weight[..., y0:y1, x0:x1] += m
    return out / weight


@torch.no_grad()
def run_network(net: TransformerNet, x: torch.Tensor, style: torch.Tensor, tile: int | None = None) -> torch.Tensor:
    """Stylize (B, 3, H, W) in [0, 1] on the net's device; tiles when H*W > tile**2; OOM -> smaller tiles.
    Thread-safe: several threads may run one ``net`` at once."""
    device = x.device
    tile = tile or default_tile(device)
    while True:
        try:
            if x.shape[-2] * x.shape[-1] <= tile * tile:
                return forward_padded(net, x, style)
            return torch.cat([_forward_tiled(net, x[i : i + 1], style[i : i + 1], tile) for i in range(len(x))])
        except torch.OutOfMemoryError:
            if tile // 2 < MIN_TILE:
                raise StudioError(
                    f"out of memory on {device.type} even in {tile} px tiles; free memory or use a smaller max_size"
                ) from None
            tile //= 2
            if device.type == "cuda":
                torch.cuda.empty_cache()


def blend(stylized: torch.Tensor, original: torch.Tensor, intensity: float) -> torch.Tensor:
    """Intensity 1 = fully stylized, 0 = the original."""
    if intensity >= 1.0:
        return stylized
    return original + (stylized - original) * intensity


RGB2YIQ = torch.tensor([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])


def preserve_color(stylized: torch.Tensor, original: torch.Tensor) -> torch.Tensor:
    """Luminance from ``stylized``, chrominance from ``original`` (YIQ; Gatys et al. 2016)."""
    m = RGB2YIQ.to(stylized.device)
    yiq_s = torch.einsum("ij,bjhw->bihw", m, stylized)
    yiq_o = torch.einsum("ij,bjhw->bihw", m, original)
    mixed = torch.cat([yiq_s[:, :1], yiq_o[:, 1:]], dim=1)
    return torch.einsum("ij,bjhw->bihw", torch.linalg.inv(m), mixed).clamp_(0.0, 1.0)
