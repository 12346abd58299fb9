"""Training many style models at once: a bank of independent single-style networks, one loss network pass.

Training one style model barely occupies a large GPU: the transformation network's early layers have few
channels, and most of a step is small kernels. A bank trains K models side by side: each step, every network
stylizes the same content crops, the K results go through the loss network as one batch, and one fused Adam
step updates all of them. Each model still gets exactly its own loss (its style's targets and strength),
scaled by 1/K like every other model's, which Adam does not notice. The content crops' loss-network features
are computed once for all K.

Used to train the presets and by the quality bench; :class:`studio.Trainer` remains the way to train one
model with progress, snapshots and sessions.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from studio.config import STUDIO_RECIPE, LossRecipe, ModelConfig, NetworkConfig, TrainConfig, check_int
from studio.device import resolve_device
from studio.errors import StudioError
from studio.io.images import ImageLike, load_rgb
from studio.model import StyleModel
from studio.nn.lossnet import load_vgg
from studio.nn.networks import TransformerNet, build_network
from studio.train.content import ContentSpec, load_pool, random_crops, resolve_content
from studio.train.start import TEMPERATURE, style_descriptors
from studio.train.step import TrainStep, cosine_lr
from studio.train.trainer import (
    TrainOptions,
    loss_for,
    make_optimizer,
    noisy,
    start_network,
    step_forward,
    style_tensors,
)
from studio.version import __version__


@dataclass(frozen=True)
class BankJob:
    """One model of a bank: a style image, its name, strength and density."""

    style: ImageLike
    name: str
    strength: float = 5.0
    density: int = 256


class _Bank(nn.Module):
    """K networks applied to the same crops: (B, 3, H, W) -> (K*B, 3, H, W) outputs and logits.

    With ``halves`` (the stability loss: the crops, then their noisy copies) the outputs are every network's
    results for the first half, then every network's for the second, as :func:`step_forward` expects.
    """

    def __init__(self, nets: Sequence[TransformerNet], halves: bool = False) -> None:
        super().__init__()
        self.nets = nn.ModuleList(nets)
        self.halves = halves

    def forward(self, content: torch.Tensor, style: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        ones = torch.ones(len(content), 1, device=content.device)
        pairs = [net(content, ones, return_logits=True) for net in self.nets]
        if not self.halves:
            return torch.cat([p[0] for p in pairs]), torch.cat([p[1] for p in pairs])
        b = len(content) // 2
        return tuple(  # type: ignore[return-value]
            torch.cat([p[i][:b] for p in pairs] + [p[i][b:] for p in pairs]) for i in (0, 1)
        )

    def spike_penalty(self) -> torch.Tensor:
        return torch.stack([net.spike_penalty() for net in self.nets]).mean()  # type: ignore[union-attr]

    def set_spike_limit(self, limit: float | None) -> None:
        for net in self.nets:
            net.set_spike_limit(limit)  # type: ignore[operator]


SnapshotCallback = Callable[[int, list[StyleModel]], None]


def train_bank(
    jobs: Sequence[BankJob],
    content: ContentSpec = None,
    *,
    iterations: int = 500,
    use_case: str = "image",
    batch_size: int = 8,
    crop_size: int = 256,
    seed: int = 0,
    recipe: LossRecipe = STUDIO_RECIPE,
    init: str = "pretrained",
    start: str | Path | None = None,
    temperature: float = TEMPERATURE,
    device: str | torch.device | None = "auto",
    snapshot_at: Sequence[int] = (),
    on_snapshot: SnapshotCallback | None = None,
    options: TrainOptions | None = None,
) -> list[StyleModel]:
    """Train one single-style model per job, all at once; returns them in the jobs' order (on the CPU).

    Every model trains as :class:`studio.Trainer` would train it alone with the same settings (recipe,
    start, learning-rate schedule, batch of ``batch_size`` crops per model), on a crop sequence shared by the
    bank. ``on_snapshot(iteration, models)`` is called at each of ``snapshot_at`` with the models so far.
    ``options``: how the bank executes (:class:`~studio.train.trainer.TrainOptions`).
    """
    if not jobs:
        raise StudioError("give at least one job")
    check_int("iterations", iterations, 1, 1_000_000)
    for it in snapshot_at:
        check_int("snapshot_at", it, 1, iterations)
    base = TrainConfig(
        iterations=iterations,
        use_case=use_case,
        batch_size=batch_size,
        crop_size=crop_size,
        seed=seed,
        recipe=recipe.name,
        init=init,
    )
    configs = [dataclasses.replace(base, style_strength=job.strength, style_density=job.density) for job in jobs]
    dev = resolve_device(device)
    arrays = [load_rgb(job.style, job.name)[0] for job in jobs]
    vgg = load_vgg("hed", dev)
    styles = style_tensors(arrays, [job.density for job in jobs], dev)
    descriptors = style_descriptors(vgg, styles) if init == "pretrained" else None
    network = NetworkConfig.for_use_case(use_case)
    nets = _start_networks(network, recipe, configs, descriptors, Path(start) if start else None, temperature)
    # Gupta et al.'s stability loss, as Trainer applies it: video models only
    stability = recipe.video_stability_weight if use_case == "video" else 0.0
    bank = _Bank(nets, halves=stability > 0).to(dev).train()
    loss_fn = loss_for(vgg, recipe, styles, [job.strength for job in jobs])
    pool = load_pool(resolve_content(content), crop_size, dev)
    opt = make_optimizer([bank], recipe, dev)
    gen = torch.Generator(device=dev).manual_seed(seed)
    k = len(jobs)
    # (K*B, K): output i was made by network i // B, so it is trained for style i // B
    style = torch.eye(k, device=dev).repeat_interleave(batch_size, dim=0)
    forward = step_forward(bank, loss_fn, recipe, dev, bank.spike_penalty, stability)
    bank.set_spike_limit(recipe.spike_limit if recipe.spike_weight > 0 else None)
    stepper = TrainStep(forward, opt, dev.type == "cuda" and (options or TrainOptions()).cuda_graph)
    lr_end = recipe.learning_rate * recipe.lr_final_fraction
    matmul_precision = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision("high")
    try:
        for it in range(iterations):
            crops = random_crops(pool, batch_size, crop_size, gen)
            rows = style
            if stability > 0:  # the same draws from the generator as Trainer's, so a bank of one matches it
                crops = torch.cat([crops, noisy(crops, recipe.stability_noise, generator=gen)])
                rows = torch.cat([style, style])
            loss_fn.redraw(gen)  # the sliced term's directions, drawn as Trainer draws them
            stepper.step(crops, rows, cosine_lr(it, 0, iterations, recipe.learning_rate, lr_end))
            if it + 1 in snapshot_at and on_snapshot is not None:
                on_snapshot(it + 1, _models(nets, jobs, configs, network, recipe, it + 1))
    finally:
        torch.set_float32_matmul_precision(matmul_precision)
        bank.set_spike_limit(None)
    return _models(nets, jobs, configs, network, recipe, iterations)


def _start_networks(
    network: NetworkConfig,
    recipe: LossRecipe,
    configs: Sequence[TrainConfig],
    descriptors: torch.Tensor | None,
    start: Path | None,
    temperature: float,
) -> list[TransformerNet]:
    """Each model's start, as :class:`studio.Trainer` makes it: style ``i`` picks its per-style parameters
    by its descriptor, row ``i`` (None without descriptors: a random start)."""
    return [
        start_network(
            network, recipe, cfg, descriptors[i : i + 1] if descriptors is not None else None, start, temperature
        )
        for i, cfg in enumerate(configs)
    ]


def _models(
    nets: Sequence[TransformerNet],
    jobs: Sequence[BankJob],
    configs: Sequence[TrainConfig],
    network: NetworkConfig,
    recipe: LossRecipe,
    iteration: int,
) -> list[StyleModel]:
    models = []
    for net, job, cfg in zip(nets, jobs, configs, strict=True):
        config = ModelConfig(
            network=network,
            use_case=cfg.use_case,
            style_names=(job.name,),
            style_strength=float(job.strength),
            style_density=job.density,
            iterations=iteration,
            loss_network=cfg.loss_network,
            recipe=recipe.name,
            output=recipe.output,
            package_version=__version__,
        )
        copy = build_network(network, output=recipe.output)
        copy.load_state_dict({k: v.detach().to("cpu", torch.float32) for k, v in net.state_dict().items()})
        models.append(StyleModel(copy, config, device="cpu"))
    return models
