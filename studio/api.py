"""``studio.create`` and ``studio.resume``: training in one call."""

from __future__ import annotations

import os
from collections.abc import Sequence

import torch

from studio.config import DEFAULT_ITERATIONS, TrainConfig
from studio.device import resolve_device
from studio.model import StyleModel
from studio.progress import Flag
from studio.train.content import ContentSpec
from studio.train.trainer import ImageLike, ProgressCallback, Trainer


def create(
    style_images: ImageLike | Sequence[ImageLike],
    content: ContentSpec = None,
    *,
    iterations: int = DEFAULT_ITERATIONS,
    style_strength: float = 5,
    style_density: int = 256,
    use_case: str = "image",
    validation: ImageLike | None = None,
    device: str | torch.device | None = "auto",
    on_progress: ProgressCallback | None = None,
    session_dir: str | os.PathLike[str] | None = None,
    seed: int = 0,
    batch_size: int | None = None,
    report_interval: int = 5,
    checkpoint_interval: int = 100,
    loss_network: str = "hed",
    compile: bool = False,
    style_names: Sequence[str] | None = None,
    cancel: Flag | None = None,
) -> StyleModel:
    """Train a style model, as Create ML's Style Transfer template does.

    Args:
        style_images: one style image, or several for one multi-style model (conditional instance norm):
            paths, PIL images or numpy arrays.
        content: a folder of photos, image files, or None for the built-in set (scikit-image's photos).
        iterations: training iterations (batches of ``batch_size`` random 256 px crops).
        style_strength: 1..10, style against content (see :mod:`studio.config`).
        style_density: 64..1024 in steps of 4: low learns coarse structures, high fine strokes and colour.
        use_case: "image" (Create ML's 1.7 M-parameter net) or "video" (a 69 K-parameter real-time net).
        validation: an image stylized at every report; default the first content image.
        device: "auto" (CUDA, then MPS, then CPU), "cpu", "cuda" or "mps".
        on_progress: called with a :class:`studio.Progress` every ``report_interval`` iterations; returning
            False stops the run (the model so far is returned).
        session_dir: folder for checkpoints every ``checkpoint_interval`` iterations; see :func:`resume`.
        seed: makes the run repeatable (bit-exact on the CPU).
        loss_network: "hed" (bundled VGG16, default) or "torchvision" (ImageNet VGG16, if cached).
        batch_size: crops per iteration; None = 8 on GPUs, 2 on the CPU (a CPU iteration is ~20x slower).
        compile: run the training step through ``torch.compile``.
        style_names: one name per style image (default: the file names).
        cancel: a flag that stops the run (see :mod:`studio.progress`): the model so far is returned, or
            :class:`studio.progress.Cancelled` raised if nothing was trained yet.

    For snapshots while training runs, build a :class:`studio.Trainer` and call ``run``.
    """
    dev = resolve_device(device)
    config = TrainConfig(
        iterations=iterations,
        style_strength=style_strength,
        style_density=style_density,
        use_case=use_case,
        batch_size=batch_size,
        seed=seed,
        report_interval=report_interval,
        checkpoint_interval=checkpoint_interval,
        loss_network=loss_network,
        compile=compile,
    )
    trainer = Trainer(
        style_images,
        content,
        config,
        validation=validation,
        device=dev,
        session_dir=session_dir,
        style_names=style_names,
        cancel=cancel,
    )
    return trainer.run(on_progress)


def resume(
    session_dir: str | os.PathLike[str],
    iterations: int | None = None,
    *,
    device: str | torch.device | None = "auto",
    on_progress: ProgressCallback | None = None,
    cancel: Flag | None = None,
) -> StyleModel:
    """Continue a session ("Train More"): finish its run, or train ``iterations`` more; ``on_progress`` and
    ``cancel`` as for :func:`create`."""
    return Trainer.resume(session_dir, iterations, device=device, cancel=cancel).run(on_progress)
