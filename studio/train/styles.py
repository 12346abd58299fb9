"""A run's style images: decoded, checked, and named (one unique name per image)."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
from PIL import Image

from studio.config import DENSITY_RANGE, style_long_side
from studio.errors import StudioError
from studio.io.images import ImageLike, load_rgb
from studio.progress import Flag, check_cancel


def _unique(names: list[str]) -> list[str]:
    """Names taken from the files, made unique: a repeated name becomes ``name-2``, ``name-3``…"""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        if name in seen:
            seen[name] += 1
            out.append(f"{name}-{seen[name]}")
        else:
            seen[name] = 1
            out.append(name)
    return out


def _names(names: Sequence[str], count: int) -> list[str]:
    """Given style names: one per style image, each a non-empty line of text, no two alike."""
    if isinstance(names, str) or len(names) != count:
        raise StudioError(f"give one style name per style image ({count}), got {names!r}")
    for name in names:
        if not isinstance(name, str) or not name.strip() or "\n" in name or len(name) > 100:
            raise StudioError(f"style names must be one line of text (1-100 characters), got {name!r}")
    if len(set(names)) != len(names):
        raise StudioError(f"style names must differ, got {list(names)!r}")
    return [n.strip() for n in names]


def load_styles(
    style_images: ImageLike | Sequence[ImageLike],
    style_names: Sequence[str] | None,
    limit: int = 64,
    cancel: Flag | None = None,
) -> tuple[list[np.ndarray], list[str]]:
    """Style images (one or a list) -> their RGB arrays and unique names. ``cancel`` is polled before each
    image is decoded (:func:`~studio.progress.check_cancel`)."""
    single = isinstance(style_images, str | os.PathLike | Image.Image | np.ndarray)
    items = [style_images] if single else list(style_images)  # type: ignore[arg-type]
    if not items:
        raise StudioError("give at least one style image")
    if len(items) > limit:
        raise StudioError(f"at most {limit} styles in one model, got {len(items)}")

    def load(i: int, item: ImageLike) -> tuple[np.ndarray, str]:
        check_cancel(cancel, "decoding the style images")
        # no density shows a style image larger than this: bigger files are decoded at a reduced scale
        return load_rgb(item, f"style-{i + 1}", size_hint=style_long_side(DENSITY_RANGE[0]))

    loaded = [load(i, item) for i, item in enumerate(items)]
    arrays = [rgb for rgb, _ in loaded]
    names = _unique([name for _, name in loaded]) if style_names is None else _names(style_names, len(items))
    return arrays, names
