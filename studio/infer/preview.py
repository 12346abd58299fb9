"""Previews that answer at once on a slow machine: a quick draft of the photo first, then the real result.

On a 2-core CPU the image model takes ~3 s for a 768 px photo (``bench/preview_latency.py``), too long to
show nothing after every change. :func:`preview` first yields a draft made in a fraction of a second, from a
faster model of the same style when the caller has one (a preset's video model) or from the model itself at
a smaller size, then yields ``model.stylize``'s result. On a GPU the result itself is quick: it comes alone.

Drafts run on the frame engine's plain PyTorch path (:class:`~studio.infer.frames.FrameStylizer` with ``fast=False``:
its own copy of the network, never tiled), not on onnxruntime: that would be ~20 % faster on a 2-core CPU,
but exporting each new model costs 0.2-0.5 s (more than a draft), and onnxruntime writes files of its own
under the user's home folder (``~/.cache/Microsoft/DeveloperTools``) and the temporary folder.
"""

from __future__ import annotations

import contextlib
import math
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from studio.config import check_number
from studio.infer.frames import FrameStylizer
from studio.io.fileio import short_name
from studio.io.media import check_aspect, fit_size, from_array, to_array
from studio.model import StyleModel, StyleSpec
from studio.progress import Cancelled, Flag, check_cancel
from studio.train.content import builtin_content

DRAFT_SECONDS = 0.3  # what a draft's network pass aims to take; its size follows from the engine's speed
MIN_DRAFT_SIDE = 128  # a draft smaller than this shows too little: larger, even if slower
KEPT = 16  # draft engines kept (one per model; each holds a copy of its network)
SAMPLES = ("astronaut", "chelsea", "coffee", "rocket", "motorcycle_left")  # built-in photos worth a preview


@dataclass(frozen=True)
class PreviewStep:
    """One picture of a preview: a draft (``final=False``), then the result (``final=True``)."""

    image: Any  # like the input: a PIL image, or a numpy array for an array
    final: bool


@dataclass
class _Engine:
    stylizer: FrameStylizer
    lock: threading.Lock  # a FrameStylizer keeps per-stream settings: one preview at a time configures and runs it
    seconds_per_pixel: float  # measured on this machine; the first guess comes from the model's size


_engines: OrderedDict[int, _Engine] = OrderedDict()  # id(model) -> its draft engine
_engines_lock = threading.Lock()


def preview(
    model: StyleModel,
    image: Any,
    style: StyleSpec = None,
    *,
    intensity: float = 1.0,
    preserve_color: bool = False,
    max_size: int | None = None,
    draft_model: StyleModel | None = None,
    draft_seconds: float = DRAFT_SECONDS,
    cancel: Flag | None = None,
) -> Iterator[PreviewStep]:
    """Yield a quick draft of ``image`` stylized, then the result: ``model.stylize(image, style, ...)``.

    ``image`` is a PIL image or numpy array, as :meth:`StyleModel.stylize` takes. The draft comes from
    ``draft_model`` (a faster model with the same styles, e.g. a preset's video model) at the result's size,
    or from ``model`` itself, either shrunk so its pass takes about ``draft_seconds`` on this machine. There
    is no draft when the model is not on the CPU, or when the model itself can make the result in about
    that time.

    ``cancel`` (e.g. set once a newer preview was asked for; anything with ``is_set()``, see
    :mod:`studio.progress`) is polled before each step and between the network's layers while the result is
    made: on a CPU a result takes seconds, and a stale one should not hold the machine. Stopped before its
    first picture, the preview raises :class:`~studio.progress.Cancelled`; stopped after the draft, it ends
    there (the draft was made: it stays the last step).
    """
    check_number("intensity", intensity, 0.0, 1.0)
    check_number("draft_seconds", draft_seconds, 0.0, 60.0)
    rgb, alpha = to_array(image)
    height, width = rgb.shape[:2]
    check_aspect(width, height, "the image")
    size = fit_size(width, height, max_size)
    source = draft_model or model
    drafted = False
    if source.device.type == "cpu" and model.device.type == "cpu":
        engine = _engine(source)
        draft_size = _draft_size(size, draft_seconds / engine.seconds_per_pixel)
        if source is not model or draft_size != size:
            out = _draft(engine, rgb, draft_size, style, float(intensity), bool(preserve_color), cancel)
            yield PreviewStep(from_array(out, alpha, image), final=False)
            drafted = True
    try:
        check_cancel(cancel, "previewing")
        with _stoppable(model, cancel):
            result = model.stylize(
                image, style=style, intensity=intensity, preserve_color=preserve_color, max_size=max_size
            )
    except Cancelled:
        if drafted:
            return
        raise
    yield PreviewStep(result, final=True)


def _draft(
    engine: _Engine,
    rgb: np.ndarray,
    size: tuple[int, int],
    style: StyleSpec,
    intensity: float,
    preserve_color: bool,
    cancel: Flag | None,
) -> np.ndarray:
    """The draft: ``rgb`` (float, H x W x 3) resized to ``size`` through the draft engine; its time updates
    the engine's measured speed."""
    small = Image.fromarray(np.round(rgb * 255).astype(np.uint8)).resize(size, Image.Resampling.BILINEAR)
    # The engine is shared by every preview of its model and keeps settings between configure and the call.
    with engine.lock:
        check_cancel(cancel, "previewing")
        engine.stylizer.configure(style, intensity=intensity, preserve_color=preserve_color)
        start = time.perf_counter()
        out = engine.stylizer(np.asarray(small))
        rate = (time.perf_counter() - start) / (size[0] * size[1])
        engine.seconds_per_pixel = 0.5 * (engine.seconds_per_pixel + rate)  # follows the machine's load
    return out


@contextlib.contextmanager
def _stoppable(model: StyleModel, cancel: Flag | None) -> Iterator[None]:
    """While inside, this thread's passes through ``model``'s network raise :class:`~studio.progress.Cancelled`
    at the next layer once ``cancel`` is set. Other threads' passes (the model is shared) are untouched: the
    hooks check the thread first. So are copies of the network made meanwhile once this ends (``live``):
    deepcopy carries hooks along."""
    if cancel is None:
        yield
        return
    me, live = threading.get_ident(), [True]

    def check(module: object, args: object) -> None:
        if live[0] and threading.get_ident() == me:
            check_cancel(cancel, "previewing")

    hooks = [m.register_forward_pre_hook(check) for m in model.network.modules()]
    try:
        yield
    finally:
        live[0] = False
        for hook in hooks:
            hook.remove()


def _draft_size(size: tuple[int, int], pixels: float) -> tuple[int, int]:
    """``size`` shrunk to about ``pixels`` (never enlarged; the longer side kept at least MIN_DRAFT_SIDE)."""
    width, height = size
    scale = min(1.0, math.sqrt(pixels / (width * height)))
    scale = max(scale, min(1.0, MIN_DRAFT_SIDE / max(width, height)))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _engine(model: StyleModel) -> _Engine:
    with _engines_lock:
        engine = _engines.get(id(model))
        if engine is None or engine.stylizer.model is not model:  # new, or another model at a reused id
            # A first guess of its speed, from two presets measured on a 2-core CPU; the first draft corrects it.
            guess = 1e-7 + 2e-12 * model.num_parameters
            engine = _Engine(FrameStylizer(model, fast=False), threading.Lock(), guess)
            _engines[id(model)] = engine
            while len(_engines) > KEPT:
                _engines.popitem(last=False)
        _engines.move_to_end(id(model))
        return engine


def sample_photos() -> list[Path]:
    """A few of the built-in photos (scikit-image's) to try a style on."""
    return [p for p in builtin_content() if p.stem in SAMPLES]


def result_name(photo: str, style: str, suffix: str = ".png") -> str:
    """``<photo>-<style><suffix>``: the photo's stem as its user named it and the style's name, in characters
    safe in a file name on any system (letters, digits, ``_``; other runs become ``-``)."""
    return f"{_safe(Path(photo).stem, 'photo')}-{_safe(style, 'style')}{suffix}"


def _safe(text: str, fallback: str) -> str:
    words = re.sub(r"[^\w]+", "-", text).strip("-_") or fallback
    return short_name(words, max_chars=60, keep=40)
