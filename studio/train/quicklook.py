"""Quick look: see what a style will do to a photo before spending a training run on it.

Gatys et al. 2015 ("A Neural Algorithm of Artistic Style"): optimise the pixels of one image so its VGG
Gram matrices match the style's while its content features stay the photo's. It uses the very loss the
trainer uses (same loss network, layers, normalisation, strength weight, and the style image shown at the
scale the density sets), so the preview shows the strength and density a trained model would get. It
starts from the photo itself (Gatys 2016: faster, and it keeps the composition) and optimises logits through
a sigmoid, like the network's output.

A few seconds on a GPU at 512 px; on a CPU it is bounded by ``max_seconds`` (default 60) at 256 px. With
``settle`` it also stops once the image has (nearly) stopped changing: the image changes fastest in the first
steps and then ever more slowly, so a fraction of that first pace marks the point where more steps no longer
show (at 0.3, about step 60 of 100 for the presets on the astronaut at 256 px).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from PIL import Image

from studio.config import STUDIO_RECIPE, check_int, check_number, style_long_side
from studio.device import resolve_device
from studio.errors import StudioError
from studio.io.images import ImageLike, load_rgb, resize_long, to_tensor
from studio.nn.losses import PerceptualLoss
from studio.nn.lossnet import load_vgg
from studio.progress import Event, Flag, check_cancel, wants_stop
from studio.train.trainer import loss_for

# The training recipe without its sliced Wasserstein and structure terms: they were measured for training networks,
# and the quick look's optimisation of one image (and its time bound on a CPU) was tuned without them.
QUICKLOOK_RECIPE = dataclasses.replace(STUDIO_RECIPE, sliced_weight=0.0, structure_weight=0.0)


@dataclass(frozen=True, slots=True)
class QuickLookProgress(Event):
    """One report: the step, losses, seconds so far and (at reports) the current image."""

    iteration: int
    # the field is Event.total itself: field() keeps the base's property from being read as a default, and
    # the slot shadows that property
    total: int = field()
    loss: float
    style_loss: float
    content_loss: float
    elapsed: float
    image: Image.Image | None
    settled: bool = False  # this is the last report because the image stopped changing (``settle``)

    @property
    def done(self) -> int:
        return self.iteration


@dataclass(frozen=True)
class _Steps:
    """How many steps, for how long, how often to report, when the image counts as settled."""

    iterations: int
    max_seconds: float | None
    report_interval: int
    settle: float | None
    start: float  # time.perf_counter() at the request's start: the time limit counts from it


def quicklook(
    style: ImageLike,
    content: ImageLike,
    *,
    style_strength: float = 5,
    style_density: int = 256,
    size: int | None = None,
    iterations: int | None = None,
    max_seconds: float | None = None,
    device: str | torch.device | None = "auto",
    on_progress: Callable[[QuickLookProgress], bool | None] | None = None,
    report_interval: int = 10,
    loss_network: str = "hed",
    settle: float | None = None,
    cancel: Flag | None = None,
) -> Image.Image:
    """Stylize ``content`` with ``style`` by optimisation, without training; returns a PIL image.

    Args:
        size: longer side of the result; default 512 on a GPU, 256 on the CPU.
        iterations: optimisation steps; default 200 on a GPU, 100 on the CPU.
        max_seconds: stop after this long even if steps remain; default 60 on the CPU, none on a GPU.
        on_progress: called every ``report_interval`` steps and at the end, with the image; return False to
            stop early (the image so far is returned).
        settle: stop when, over a report interval, the image changes per step by less than this fraction of
            how much it changed per step over the first interval (mean absolute pixel change); e.g. 0.3.
        cancel: a flag (:mod:`studio.progress`) polled between steps: set, the image so far is returned; set
            before the first step, :class:`~studio.progress.Cancelled` is raised.
    """
    dev = resolve_device(device)
    cpu = dev.type == "cpu"
    size = (256 if cpu else 512) if size is None else size
    iterations = (100 if cpu else 200) if iterations is None else iterations
    max_seconds = (60.0 if cpu else None) if max_seconds is None else max_seconds
    steps = _Steps(iterations, max_seconds, report_interval, settle, time.perf_counter())  # decoding counts too
    _check_arguments(style_strength, size, steps)
    long_side = style_long_side(style_density)  # validates the density
    check_cancel(cancel, "decoding the images")
    style_rgb, _ = load_rgb(style, "style", size_hint=long_side)  # large files are decoded smaller
    content_rgb, _ = load_rgb(content, "content", size_hint=size)
    if style_rgb.shape[0] < 16 or style_rgb.shape[1] < 16:
        h, w = style_rgb.shape[:2]
        raise StudioError(f"the style image is too small ({w}x{h}); use one of 16 px or more")
    check_cancel(cancel, "loading the loss network")
    vgg = load_vgg(loss_network, dev)
    x = resize_long(to_tensor(content_rgb), size).to(dev)  # (1, 3, H, W) in [0, 1]
    loss_fn = loss_for(vgg, QUICKLOOK_RECIPE, [resize_long(to_tensor(style_rgb), long_side).to(dev)], [style_strength])
    check_cancel(cancel, "preparing the first step")
    return _paint(loss_fn, x, steps, on_progress, cancel)


def _check_arguments(style_strength: float, size: int, steps: _Steps) -> None:
    check_number("style_strength", style_strength, 1, 10)
    check_int("size", size, 64, 2048)
    check_int("iterations", steps.iterations, 1, 10_000)
    check_int("report_interval", steps.report_interval, 1, 10_000)
    if steps.max_seconds is not None:
        check_number("max_seconds", steps.max_seconds, 0.0, 3600.0)
    if steps.settle is not None:
        check_number("settle", steps.settle, 0.0, 1.0)


class _Pace:
    """For ``settle``: how much the image changes per step between reports, against that pace over the first
    report interval."""

    def __init__(self, z: torch.Tensor, settle: float) -> None:
        self.settle = settle
        self.seen, self.seen_at = torch.sigmoid(z.detach()), 0  # the image at the last report
        self.first: float | None = None

    def settled(self, z: torch.Tensor, step: int, interval: int) -> bool:
        """At a report's step: whether the image has (nearly) stopped changing."""
        now = torch.sigmoid(z.detach())
        pace = (now - self.seen).abs().mean().item() / (step - self.seen_at)  # mean change per step since then
        self.seen, self.seen_at = now, step
        self.first = pace if self.first is None else self.first
        return step > interval and pace < self.settle * self.first


def _image(z: torch.Tensor) -> Image.Image:
    out = torch.sigmoid(z.detach())[0].permute(1, 2, 0).float().cpu().numpy()
    return Image.fromarray((out * 255 + 0.5).clip(0, 255).astype(np.uint8))


def _paint(
    loss_fn: PerceptualLoss,
    x: torch.Tensor,
    steps: _Steps,
    on_progress: Callable[[QuickLookProgress], bool | None] | None,
    cancel: Flag | None,
) -> Image.Image:
    """Optimise the image's logits from the photo ``x`` (Gatys et al.), reporting as it goes."""
    one = torch.ones(1, 1, device=x.device)
    z = torch.logit(x.clamp(0.02, 0.98)).detach().requires_grad_()  # start from the photo
    opt = torch.optim.Adam([z], lr=0.05)
    pace = _Pace(z, steps.settle) if steps.settle is not None else None
    interval = steps.report_interval
    for step in range(1, steps.iterations + 1):
        total, style_loss, content_loss = loss_fn(torch.sigmoid(z), x, one, logits=z)
        opt.zero_grad(set_to_none=True)
        total.backward()
        opt.step()
        elapsed = time.perf_counter() - steps.start
        last = step == steps.iterations or (steps.max_seconds is not None and elapsed >= steps.max_seconds)
        settled = pace is not None and step % interval == 0 and pace.settled(z, step, interval)
        last = last or settled
        if on_progress is not None and (step % interval == 0 or last):
            losses = (total.item(), style_loss.item(), content_loss.item())
            report = QuickLookProgress(step, steps.iterations, *losses, elapsed, _image(z), settled)
            if wants_stop(on_progress(report)):
                break
        if last or (cancel is not None and cancel.is_set()):
            break
    return _image(z)
