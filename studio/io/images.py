"""Image helpers shared by training, quick look and the benches: image-likes to tensors, resizing."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from studio.errors import StudioError, printable
from studio.io.fileio import short_name
from studio.io.media import check_aspect, open_image, to_array

ImageLike = str | os.PathLike[str] | Image.Image | np.ndarray


def load_rgb(item: ImageLike, what: str, size_hint: int | None = None) -> tuple[np.ndarray, str]:
    """Image-like -> ((H, W, 3) float32 RGB in [0, 1], a name: the file's stem, else ``what``).

    The name is made printable (control characters escaped) and, past 100 characters, shortened to its first
    60 and a hash, so it fits a model's config and file names. ``size_hint``: the longer side the caller will
    resize to; larger files may be decoded smaller (see :func:`studio.io.media.open_image`).
    """
    if isinstance(item, str | os.PathLike):
        path = Path(item)
        rgb, _ = to_array(open_image(path, size_hint=size_hint))
        return rgb, style_name(path.stem)
    if isinstance(item, Image.Image | np.ndarray):
        rgb, _ = to_array(item)
        check_aspect(rgb.shape[1], rgb.shape[0], what)
        return rgb, what
    raise StudioError(f"{what} must be an image path, a PIL image or a numpy array; got {type(item).__name__}")


def style_name(stem: str) -> str:
    """A style's name from its file's stem: printable, and at most 100 characters (else 60 and a hash)."""
    return short_name(printable(stem).strip() or "style", max_chars=100, max_bytes=200)


def to_tensor(rgb: np.ndarray) -> torch.Tensor:
    """(H, W, 3) float array -> (1, 3, H, W) float32 tensor."""
    return torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)[None].float()


def resize_long(x: torch.Tensor, long_side: int, multiple: int = 1) -> torch.Tensor:
    """Resize (B, 3, H, W) so the longer side is ``long_side`` (sides rounded to ``multiple``), antialiased."""
    h, w = x.shape[-2:]
    s = long_side / max(h, w)
    nh = max(multiple, round(h * s / multiple) * multiple)
    nw = max(multiple, round(w * s / multiple) * multiple)
    return F.interpolate(x, size=(nh, nw), mode="bicubic", antialias=True, align_corners=False).clamp(0, 1)
