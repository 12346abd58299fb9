"""Training a feed-forward style network (Johnson et al. 2016) with Create ML's controls.

One :class:`Trainer` is one training run: it validates everything up front, then :meth:`Trainer.run` trains
and returns a :class:`~studio.model.StyleModel`. While it runs, from any thread:

* :meth:`Trainer.snapshot` returns a usable model of the current weights (training goes on);
* :meth:`Trainer.cancel` (or ``on_progress`` returning False) stops at the next iteration, keeping the last
  checkpoint; a flag given as ``cancel=`` (e.g. a :class:`~studio.progress.CancelToken` with the request's time
  limit) does too, and also stops the slow steps before training (unpacking, decoding, loading), which then
  raise :class:`~studio.progress.Cancelled` (see :mod:`studio.progress`);
* :meth:`Trainer.release` frees what a finished run holds (weights, optimizer, decoded images).

With a session directory (:mod:`studio.train.session`), checkpoints (:mod:`studio.train.checkpoint`) are
written every ``checkpoint_interval`` iterations and at the end; :meth:`Trainer.resume` picks a session up
again, either to finish an interrupted run or to train more ("Train More").

A run starts from the studio's pre-trained start (:mod:`studio.train.start`): a network trained on many
styles, whose per-style parameters for the new style are chosen from the styles it knows that look most
like it. Speed: content crops are made on the device (:mod:`studio.train.content`), the step runs under bf16 autocast
on CUDA with fused Adam from a CUDA graph (:mod:`studio.train.step`), and the loop never waits for the device:
losses are summed on the device and a report's numbers and preview image are copied back asynchronously and
handed to ``on_progress`` once the copy has landed (so reports trail the GPU by at most one interval).
:class:`TrainOptions` switches these off, for benchmarks and profiling.

:func:`start_network`, :func:`loss_for` and :func:`make_optimizer` are the pieces a run is made of; the bank
trainer (:mod:`studio.train.bank`) builds many runs at once from the same pieces. Style images are loaded by
:mod:`studio.train.styles`; how long a run takes is guessed by :mod:`studio.train.estimate`.
"""

from __future__ import annotations

import ctypes
import dataclasses
import gc
import os
import sys
import tempfile
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from studio.config import (
    RECIPES,
    LossRecipe,
    ModelConfig,
    NetworkConfig,
    TrainConfig,
    style_long_side,
    style_strength_weight,
)
from studio.device import resolve_device, training_autocast_dtype
from studio.errors import StudioError
from studio.io.images import ImageLike, load_rgb, resize_long, to_tensor
from studio.model import StyleModel
from studio.nn.losses import PerceptualLoss, at_scales, contrast_targets, samples_of, style_keys, targets_of
from studio.nn.lossnet import VGGFeatures, load_vgg
from studio.nn.networks import TransformerNet, build_network
from studio.progress import Cancelled, CancelToken, Event, Flag, check_cancel, wants_stop
from studio.train.checkpoint import (
    Checkpoint,
    Position,
    Segment,
    read_checkpoint,
    restore_checkpoint,
    resume_position,
    save_checkpoint,
)
from studio.train.content import ContentSpec, builtin_content, is_zip_path, load_pool, random_crops, resolve_content
from studio.train.estimate import estimate_seconds
from studio.train.session import check_new_session, read_session, write_session
from studio.train.start import TEMPERATURE, load_init, style_descriptors
from studio.train.step import TrainStep, cosine_lr
from studio.train.styles import load_styles
from studio.version import __version__

VALIDATION_SIDE = 256
__all__ = [
    "ImageLike",
    "Progress",
    "ProgressCallback",
    "TrainOptions",
    "Trainer",
    "loss_for",
    "make_optimizer",
    "release_memory",
    "start_network",
    "step_forward",
    "style_tensors",
]


@dataclass(frozen=True)
class Progress(Event):
    """One progress report: what a UI shows every ``report_interval`` iterations."""

    iteration: int
    iterations: int  # the iteration this run trains to
    style_loss: float  # mean over the iterations since the last report
    content_loss: float
    elapsed: float  # seconds since this run started
    image: Image.Image | None  # the validation image stylized with the current weights

    @property
    def done(self) -> int:
        return self.iteration

    @property
    def total(self) -> int:
        return self.iterations


# returning False stops the run, as Trainer.cancel() does (studio.progress.wants_stop)
ProgressCallback = Callable[[Progress], Any]


@dataclass(frozen=True)
class TrainOptions:
    """How a run executes, apart from what it trains (:class:`~studio.config.TrainConfig`): switches that
    benchmarks and profiling turn off to measure what each one brings. The defaults are what the studio ships.
    """

    cuda_graph: bool = True  # on CUDA, replay each step from a CUDA graph (studio.train.step); off: eager steps


# --- the pieces of a run ----------------------------------------------------------------------------------------
def style_tensors(arrays: Sequence[np.ndarray], densities: Sequence[int], device: torch.device) -> list[torch.Tensor]:
    """Each style image at the scale its density sets, (1, 3, h, w) on ``device``."""
    return [resize_long(to_tensor(a), style_long_side(d)).to(device) for a, d in zip(arrays, densities, strict=True)]


def loss_for(
    vgg: VGGFeatures, recipe: LossRecipe, styles: Sequence[torch.Tensor], strengths: Sequence[float]
) -> PerceptualLoss:
    """The training loss for these style images (already at their density's scale) and strengths."""
    with torch.no_grad():  # the loss network runs once on each style: both kinds of target come from it
        per_style = [at_scales(vgg, img, recipe) for img in styles]
    keys = style_keys(recipe)
    targets = targets_of(per_style, keys, recipe.style_stat)
    weights = torch.tensor([recipe.style_weight * style_strength_weight(s) for s in strengths])
    samples = samples_of(per_style, keys) if recipe.uses_samples else None
    contrast = contrast_targets(list(styles)) if recipe.contrast_weight > 0 else None
    return PerceptualLoss(vgg, recipe, targets, weights, samples, contrast)


def start_network(
    network: NetworkConfig,
    recipe: LossRecipe,
    config: TrainConfig,
    descriptors: torch.Tensor | None,
    start: Path | None = None,
    temperature: float = TEMPERATURE,
) -> TransformerNet:
    """A new run's network: seeded random weights, then (``config.init == "pretrained"``) the pre-trained
    start, each style's per-style parameters chosen by its descriptor (see :func:`studio.train.start.load_init`)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        net = build_network(network, output=recipe.output)
    if config.init == "pretrained":
        if recipe.output != "sigmoid":
            raise StudioError(f"the pre-trained start has a sigmoid output; recipe {recipe.name!r} needs init='random'")
        load_init(net, config.use_case, descriptors, path=start, temperature=temperature)
    return net


def make_optimizer(nets: Sequence[torch.nn.Module], recipe: LossRecipe, device: torch.device) -> torch.optim.Adam:
    """Adam over the networks, the per-style parameters (gamma, beta) at ``recipe.norm_lr_scale`` times the rate.

    Fused and capturable on CUDA: one kernel per step, and safe to capture in a CUDA graph.
    """
    named = [(n, p) for net in nets for n, p in net.named_parameters()]
    style_params = [p for n, p in named if n.endswith((".gamma", ".beta"))]
    shared = [p for n, p in named if not n.endswith((".gamma", ".beta"))]
    kwargs: dict[str, Any] = {"fused": True, "capturable": True} if device.type == "cuda" else {}
    groups = [{"params": shared, "lr_scale": 1.0}, {"params": style_params, "lr_scale": recipe.norm_lr_scale}]
    return torch.optim.Adam(groups, lr=recipe.learning_rate, **kwargs)


def noisy(images: torch.Tensor, sigma: float, scale: int = 1, generator: torch.Generator | None = None) -> torch.Tensor:
    """``images`` (B, 3, H, W) in [0, 1] plus Gaussian noise of standard deviation ``sigma`` drawn at 1/``scale`` of
    their size and upsampled bilinearly, clamped to [0, 1] (LossRecipe.input_noise; at scale 1 the stability loss's
    noisy copies)."""
    b, c, h, w = images.shape
    size = (b, c, max(1, h // scale), max(1, w // scale))
    noise = torch.randn(size, generator=generator, device=images.device, dtype=images.dtype)
    if scale > 1:
        noise = F.interpolate(noise, size=(h, w), mode="bilinear", align_corners=False)
    return (images + sigma * noise).clamp(0, 1)


def step_forward(
    net: Callable[..., tuple[torch.Tensor, torch.Tensor]],
    loss_fn: PerceptualLoss,
    recipe: LossRecipe,
    device: torch.device,
    spikes: Callable[[], torch.Tensor],
    stability: float = 0.0,
) -> Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """The forward half of a training step: ``(content, style) -> (total, style loss, content loss)``.

    ``net(content, style)`` returns (outputs, logits); with several networks (a bank) the outputs are theirs
    for the same crops, one after the other. With ``stability`` > 0 the content holds the crops then their
    noisy copies (Gupta et al. 2017's stability loss), and the outputs every network's results for the crops,
    then every network's for the noisy copies; ``style`` has a row per output.
    """
    amp = training_autocast_dtype(device)

    def forward(content: torch.Tensor, style: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        # content: (B, 3, H, W), or (2B, ...) with the stability loss: the crops, then their noisy copies
        # cache_enabled=False: autocast's weight cache must not outlive a CUDA graph capture
        with torch.autocast(device.type, dtype=amp or torch.float32, enabled=amp is not None, cache_enabled=False):
            # the input noise (LossRecipe.input_noise): the network sees noisy crops, the loss the clean ones. Drawn
            # from torch's global generator, inside a captured step: such a run does not resume exactly (the field is
            # an experiment, off)
            net_in = content
            if recipe.input_noise > 0:
                net_in = noisy(content, recipe.input_noise, recipe.input_noise_scale)
            out, logits = net(net_in, style)
            if stability > 0:
                b = len(out) // 2
                total, style_loss, content_loss = loss_fn(out[:b], content[: len(content) // 2], style[:b], logits[:b])
            else:
                total, style_loss, content_loss = loss_fn(out, content, style, logits)
        if stability > 0:
            total = total + stability * (out[b:].float() - out[:b].float()).pow(2).mean()
        if recipe.spike_weight > 0:
            total = total + recipe.spike_weight * spikes()
        return total, style_loss, content_loss

    return forward


@dataclass
class _Loop:
    """What a run's iterations use, prepared once per :meth:`Trainer.run`."""

    step: TrainStep
    loss: PerceptualLoss  # the step's loss: redrawn before every step (its sliced term's random directions)
    pool: torch.Tensor  # the content photos on the device (studio.train.content.load_pool)
    val: torch.Tensor  # the validation image, (1, 3, h, w)
    val_styles: torch.Tensor  # the styles a report shows it in, one-hot rows


@dataclass
class _Report:
    """A report on its way from the device: its copies land by ``event`` (None off CUDA: already there)."""

    iteration: int
    losses: torch.Tensor  # (style, content), on the host
    pixels: torch.Tensor  # the validation strip, (h, w, 3) uint8 on the host
    event: Any
    elapsed: float


class _RunStop(CancelToken):
    """A run's stop: its own (:meth:`Trainer.cancel`, a progress callback's False) or its caller's ``cancel``
    flag. Checked, the caller's flag speaks first, so a time limit's message names the limit."""

    def __init__(self, outer: Flag | None) -> None:
        super().__init__()
        self.outer = outer

    def is_set(self) -> bool:
        return super().is_set() or (self.outer is not None and self.outer.is_set())

    def check(self, what: str = "") -> None:
        check_cancel(self.outer, what)
        super().check(what)


class Trainer:
    """One training run. See :func:`studio.create` for the arguments.

    ``start`` is the weights file to start from (default: the studio's pre-trained start for the use case).
    ``cancel``: a flag that stops the run (see the module's docstring); set, it also stops this constructor
    (:class:`~studio.progress.Cancelled`). ``options``: how the run executes (:class:`TrainOptions`).
    """

    MAX_STYLES = 64

    def __init__(
        self,
        style_images: ImageLike | Sequence[ImageLike],
        content: ContentSpec = None,
        config: TrainConfig | None = None,
        *,
        validation: ImageLike | None = None,
        device: str | torch.device | None = "auto",
        session_dir: str | os.PathLike[str] | None = None,
        recipe: LossRecipe | None = None,
        style_names: Sequence[str] | None = None,
        start: str | os.PathLike[str] | None = None,
        cancel: Flag | None = None,
        options: TrainOptions | None = None,
        _resuming: bool = False,
    ) -> None:
        # first: Stop works while the images below are unpacked and decoded
        self._cancel = _RunStop(cancel)
        self.options = options or TrainOptions()
        self.config = config or TrainConfig()
        self.recipe = recipe or self.config.loss_recipe
        self.device = resolve_device(device)
        if self.config.batch_size is None:  # a CPU iteration is ~20x slower: smaller batches keep reports coming
            self.config = dataclasses.replace(self.config, batch_size=2 if self.device.type == "cpu" else 8)
        self.style_arrays, self.style_names = load_styles(style_images, style_names, self.MAX_STYLES, self._cancel)
        self.strengths, self.densities = self.config.per_style(len(self.style_arrays))
        self.start = Path(start) if start is not None else None
        self.session_dir = Path(session_dir) if session_dir is not None else None
        self._unzipped: tempfile.TemporaryDirectory[str] | None = None
        if self.session_dir is not None and not _resuming:
            check_new_session(self.session_dir)
        self.content_paths = resolve_content(content, unzip_to=self._unzip_folder(content), cancel=self._cancel)
        self.content_is_builtin = content is None
        check_cancel(self._cancel, "decoding the validation image")
        if validation is not None:
            self.validation_array, _ = load_rgb(validation, "validation")
        else:
            self.validation_array = load_rgb(self.content_paths[0], "validation")[0]

        self.network_config = NetworkConfig.for_use_case(self.config.use_case, num_styles=len(self.style_arrays))
        self.iteration = 0
        self.target = self.config.iterations
        self._segment: Segment = (0, self.config.iterations, self.recipe.learning_rate)
        self._lock = threading.Lock()
        self._net: TransformerNet | None = None
        self._optimizer: torch.optim.Optimizer | None = None
        self._generator: torch.Generator | None = None
        self._checkpoint: Checkpoint | None = None  # a session's checkpoint, restored when the run starts
        self.cancelled = False
        self.running = False
        self._first = 0  # the iteration this run() started at

    def _unzip_folder(self, content: ContentSpec) -> Path | None:
        """Where zipped content is unpacked: inside the session (so resuming finds it), else a temporary
        folder that lives as long as this trainer."""
        items = [content] if isinstance(content, str | os.PathLike) else list(content or [])
        if not any(is_zip_path(i) for i in items):
            return None
        if self.session_dir is not None:
            return self.session_dir / "content" / uuid.uuid4().hex[:8]
        self._unzipped = tempfile.TemporaryDirectory(prefix="studio-content-")
        return Path(self._unzipped.name)

    def estimated_seconds(self) -> float | None:
        """About how long the iterations still to train will take (see :func:`estimate_seconds`)."""
        return estimate_seconds(self.config, self.device, max(0, self.target - self.iteration))

    @property
    def validation_image(self) -> Image.Image:
        """The validation image (RGB) that progress reports show stylized."""
        return Image.fromarray((self.validation_array * 255 + 0.5).astype(np.uint8))

    # --- control from other threads --------------------------------------------------------------------------
    def cancel(self) -> None:
        """Stop at the next iteration; :meth:`run` then saves a checkpoint and returns the model so far
        (before the first iteration it raises :class:`~studio.progress.Cancelled`: nothing was trained)."""
        self._cancel.set()

    def release(self) -> None:
        """Free what the run holds once it is over: network, optimizer, the decoded style and validation
        images (a server keeps only a 256 px validation thumbnail), an unpacked content folder; then hand
        freed heap back to the system. :meth:`snapshot` and :meth:`run` no longer work afterwards."""
        with self._lock:
            self._net = self._optimizer = self._generator = None
            self._checkpoint = None
        thumb = self.validation_image
        thumb.thumbnail((VALIDATION_SIDE, VALIDATION_SIDE))
        self.validation_array = np.asarray(thumb, np.float32) / 255.0
        self.style_arrays = []
        if self._unzipped is not None:
            self._unzipped.cleanup()
            self._unzipped = None
        release_memory(self.device)

    def snapshot(self) -> StyleModel:
        """A usable model of the current weights, while training goes on (thread-safe)."""
        with self._lock:
            if self._net is None:
                raise StudioError("nothing to snapshot yet: training has not started")
            state = {k: v.detach().to("cpu", torch.float32, copy=True) for k, v in self._net.state_dict().items()}
            iteration = self.iteration
        return self._make_model(state, iteration)

    # --- the run ---------------------------------------------------------------------------------------------
    def run(self, on_progress: ProgressCallback | None = None) -> StyleModel:
        """Train to ``self.target`` iterations; returns the model (also when cancelled).

        Out of memory, training goes on at half the batch size (from the weights and optimizer state it had
        reached), down to batch 1, and says so with a warning; ``self.config.batch_size`` shows the size used.
        """
        self.running = True  # read by UIs from other threads
        self._first = self.iteration  # stopped before training past this: nothing to return (see _run)
        try:
            while True:
                try:
                    return self._run(on_progress)
                except torch.OutOfMemoryError:
                    batch = self.config.batch_size or 1
                    if self.device.type == "cuda":
                        torch.cuda.empty_cache()
                    if batch <= 1:
                        raise StudioError(
                            f"out of {self.device.type} memory even at batch size 1 with {self.config.crop_size} px "
                            "crops; free memory or train with a smaller crop_size"
                        ) from None
                    self.config = dataclasses.replace(self.config, batch_size=batch // 2)
                    note = f"out of memory at batch size {batch}: training goes on at {batch // 2}"
                    warnings.warn(note, stacklevel=2)
        finally:
            self.running = False

    def _run(self, on_progress: ProgressCallback | None) -> StyleModel:
        if self.iteration >= self.target:
            raise StudioError(f"nothing to train: the session is already at iteration {self.iteration}")
        loop = self._prepare()
        net = self._net
        assert net is not None
        net.set_spike_limit(self.recipe.spike_limit if self.recipe.spike_weight > 0 else None)
        matmul_precision = torch.get_float32_matmul_precision()
        torch.set_float32_matmul_precision("high")  # TF32 for the fp32 Gram matrices
        try:
            last_checkpoint = self._iterate(loop, on_progress)
        finally:
            torch.set_float32_matmul_precision(matmul_precision)
            net.set_spike_limit(None)
        self.cancelled = self._cancel.is_set()
        if self.cancelled and self.iteration == self._first:  # stopped between the checks and the first step
            raise Cancelled("stopped before the first iteration: nothing was trained")
        if self.session_dir is not None and self.iteration != last_checkpoint:
            self._save_checkpoint()
        return self.snapshot()

    def _prepare(self) -> _Loop:
        """Everything the iterations need, Stop polled between the slow steps: the session on disk, the loss
        network and the style targets, the content photos, the network and its step."""
        cfg, dev = self.config, self.device
        check_cancel(self._cancel, "preparing the run")
        if self.session_dir is not None:
            write_session(
                self.session_dir,
                config=cfg,
                recipe=self.recipe.name,
                style_arrays=self.style_arrays,
                style_names=self.style_names,
                validation=self.validation_image,
                content=None if self.content_is_builtin else self.content_paths,
                target=self.target,
            )
        check_cancel(self._cancel, "loading the loss network")
        vgg = load_vgg(cfg.loss_network, dev)
        styles = style_tensors(self.style_arrays, self.densities, dev)
        loss_fn = loss_for(vgg, self.recipe, styles, self.strengths)
        check_cancel(self._cancel, "decoding the content photos")
        pool = load_pool(self.content_paths, cfg.crop_size, dev, cancel=self._cancel)
        val = resize_long(to_tensor(self.validation_array), VALIDATION_SIDE, multiple=4).to(dev)
        num_styles = self.network_config.num_styles
        val_styles = torch.eye(num_styles, device=dev)[: min(num_styles, 4)]
        if self._net is None:
            # a checkpoint replaces the start's weights: no need to pick its per-style parameters
            wanted = cfg.init == "pretrained" and self._checkpoint is None
            self._init_state(style_descriptors(vgg, styles) if wanted else None)
        check_cancel(self._cancel, "preparing the first iteration")
        return _Loop(self._make_step(loss_fn), loss_fn, pool, val, val_styles)

    def _make_step(self, loss_fn: PerceptualLoss) -> TrainStep:
        net, opt = self._net, self._optimizer
        assert net is not None and opt is not None
        forward = step_forward(
            lambda x, s: net(x, s, return_logits=True),
            loss_fn,
            self.recipe,
            self.device,
            net.spike_penalty,
            self._stability,
        )
        graph = self.device.type == "cuda" and self.options.cuda_graph
        return TrainStep(torch.compile(forward) if self.config.compile else forward, opt, graph)

    @property
    def _stability(self) -> float:
        """Gupta et al. 2017's stability loss weight: video models only."""
        return self.recipe.video_stability_weight if self.config.use_case == "video" else 0.0

    def _batch(self, pool: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One iteration's content crops and one-hot styles (crops then noisy copies with the stability loss)."""
        cfg, dev, gen = self.config, self.device, self._generator
        assert gen is not None
        content = random_crops(pool, cfg.batch_size, cfg.crop_size, gen)
        num_styles = self.network_config.num_styles
        if num_styles == 1:
            style = torch.ones(cfg.batch_size, 1, device=dev)
        else:
            pick = torch.randint(num_styles, (cfg.batch_size,), device=dev, generator=gen)
            style = F.one_hot(pick, num_styles).float()
        if self._stability > 0:  # noise drawn from the run's generator: seeded runs stay reproducible
            content = torch.cat([content, noisy(content, self.recipe.stability_noise, generator=gen)])
            style = torch.cat([style, style])
        return content, style

    def _iterate(self, loop: _Loop, on_progress: ProgressCallback | None) -> int:
        """Train until the target or a stop, reporting and checkpointing; returns the last checkpoint's
        iteration."""
        cfg = self.config
        sums = torch.zeros(2, device=self.device)
        pending: list[_Report] = []
        start_time = time.perf_counter()
        since_report = 0
        last_checkpoint = self.iteration
        while self.iteration < self.target and not self._cancel.is_set():
            content, style = self._batch(loop.pool)
            assert self._generator is not None
            loop.loss.redraw(self._generator)  # after the batch's draws, as train_bank does: a bank of one matches
            with self._lock:
                style_loss, content_loss = loop.step.step(content, style, self._lr(self.iteration))
                self.iteration += 1
            sums += torch.stack([style_loss.detach().float(), content_loss.detach().float()])
            since_report += 1
            if self.iteration % cfg.report_interval == 0 or self.iteration == self.target:
                pending.append(self._launch_report(sums / since_report, loop.val, loop.val_styles, start_time))
                sums.zero_()
                since_report = 0
                self._emit_ready(pending, on_progress, wait=self.device.type != "cuda")
            if self.session_dir is not None and self.iteration - last_checkpoint >= cfg.checkpoint_interval:
                self._save_checkpoint()
                last_checkpoint = self.iteration
        self._emit_ready(pending, on_progress, wait=True)
        return last_checkpoint

    def _launch_report(
        self, losses: torch.Tensor, val: torch.Tensor, val_styles: torch.Tensor, start: float
    ) -> _Report:
        """Queue the report's device work and async copies; nothing here waits for the device."""
        assert self._net is not None
        with torch.no_grad():
            out = self._net(val.expand(len(val_styles), -1, -1, -1), val_styles)
            strip = torch.cat(list(out.float().clamp(0, 1)), dim=2)  # (3, h, w * shown)
            pixels = (strip * 255.0 + 0.5).to(torch.uint8).permute(1, 2, 0)
        non_blocking = self.device.type == "cuda"
        losses_host = losses.to("cpu", non_blocking=non_blocking)
        pixels_host = pixels.to("cpu", non_blocking=non_blocking)
        event = None
        if non_blocking:
            event = torch.cuda.Event()
            event.record()
        return _Report(self.iteration, losses_host, pixels_host, event, time.perf_counter() - start)

    def _emit_ready(self, pending: list[_Report], on_progress: ProgressCallback | None, wait: bool) -> None:
        """Hand the reports whose copies have landed (all of them with ``wait``) to ``on_progress``, in order;
        its False stops the run as :meth:`cancel` does."""
        while pending:
            report = pending[0]
            if report.event is not None:
                if wait:
                    report.event.synchronize()
                elif not report.event.query():
                    return
            pending.pop(0)
            if on_progress is not None:
                losses, image = report.losses, Image.fromarray(report.pixels.numpy())
                progress = Progress(
                    report.iteration, self.target, float(losses[0]), float(losses[1]), report.elapsed, image
                )
                if wants_stop(on_progress(progress)):
                    self.cancel()

    def _lr(self, iteration: int) -> float:
        start, end, lr_start = self._segment
        return cosine_lr(iteration, start, end, lr_start, self.recipe.learning_rate * self.recipe.lr_final_fraction)

    def _init_state(self, descriptors: torch.Tensor | None) -> None:
        """Build the network, its optimizer and the run's RNG; a resumed run's checkpoint then replaces their
        state (and is dropped: it is a whole copy of the weights)."""
        net = start_network(self.network_config, self.recipe, self.config, descriptors, self.start)
        self._net = net.to(self.device).train()
        self._optimizer = make_optimizer([self._net], self.recipe, self.device)
        self._generator = torch.Generator(device=self.device)
        self._generator.manual_seed(self.config.seed)
        if self._checkpoint is not None:
            restore_checkpoint(self._checkpoint, self._net, self._optimizer, self._generator)
            self._checkpoint = None

    def _make_model(self, state: dict[str, torch.Tensor], iteration: int) -> StyleModel:
        cfg = self.config
        per_style = cfg.style_strengths is not None or cfg.style_densities is not None
        config = ModelConfig(
            network=self.network_config,
            use_case=cfg.use_case,
            style_names=tuple(self.style_names),
            style_strength=float(cfg.style_strength),
            style_density=cfg.style_density,
            iterations=iteration,
            loss_network=cfg.loss_network,
            recipe=self.recipe.name,
            output=self.recipe.output,
            package_version=__version__,
            style_strengths=self.strengths if per_style else None,
            style_densities=self.densities if per_style else None,
        )
        net = build_network(self.network_config, output=self.recipe.output)
        net.load_state_dict(state)
        return StyleModel(net, config, device="cpu")

    def _save_checkpoint(self) -> None:
        """Write the session's checkpoint, under the lock that :meth:`snapshot` and :meth:`release` take."""
        assert self.session_dir is not None and self._net is not None
        assert self._optimizer is not None and self._generator is not None
        with self._lock:
            save_checkpoint(
                self.session_dir,
                self._net,
                self._optimizer,
                self._generator,
                iteration=self.iteration,
                segment=self._segment,
                target=self.target,
            )

    @classmethod
    def resume(
        cls,
        session_dir: str | os.PathLike[str],
        iterations: int | None = None,
        device: str | torch.device | None = "auto",
        cancel: Flag | None = None,
        options: TrainOptions | None = None,
    ) -> Trainer:
        """Pick a session up: finish its planned run, or with ``iterations`` train that many more.

        Training more after a finished run restarts the cosine schedule at half the base learning rate: the
        model is fine-tuned, not shaken up. ``cancel`` and ``options``: as for :class:`Trainer`.
        """
        d = Path(session_dir)
        info = read_session(d)
        trainer = cls(
            list(info.style_files),
            list(info.content) if info.content is not None else None,
            info.config,
            validation=info.validation,
            device=device,
            session_dir=d,
            recipe=RECIPES.get(info.recipe),
            cancel=cancel,
            options=options,
            _resuming=True,
        )
        trainer.style_names = list(info.style_names)  # as saved (file stems may exceed a given name's limit)
        if info.content is None:
            trainer.content_paths = builtin_content()
            trainer.content_is_builtin = True
        # the weights, Adam state and RNG state wait in _checkpoint until the run has built its network
        trainer._checkpoint = read_checkpoint(d, info.config.iterations)
        fresh = Position(trainer.iteration, trainer._segment, trainer.target)
        position = resume_position(fresh, trainer._checkpoint, iterations, trainer.recipe.learning_rate, d)
        trainer.iteration, trainer._segment, trainer.target = position.iteration, position.segment, position.target
        return trainer


def release_memory(device: torch.device | None = None) -> None:
    """Give memory freed by a finished run back: collect cycles, empty the CUDA cache, and trim glibc's heap.

    Decoding runs on several threads, and glibc keeps each thread's freed arenas mapped: without the trim a
    server's resident memory only grows from one training to the next, though nothing is referenced.
    """
    gc.collect()
    if device is not None and device.type == "cuda":
        torch.cuda.empty_cache()
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):  # not glibc (musl): nothing to trim
            pass
