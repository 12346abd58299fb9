"""Style Studio: train and use image style-transfer models, offline, on CUDA, Apple MPS or the CPU.

The public API, in Turi Create's spirit::

    import studio
    model = studio.create("painting.jpg", content="photos/", iterations=200, style_strength=5, style_density=256)
    model.stylize("photo.jpg")                  # -> path of photo-stylized.jpg
    model.save("painting.safetensors")
    model = studio.load("painting.safetensors")
    studio.presets()                            # the built-in styles; studio.preset("ink-wash").load()
    studio.quicklook("painting.jpg", "me.jpg")  # preview a style without training

Video and frames: ``studio.stylize_video(model, "clip.mov", "out.mp4")``; ``studio.FrameStylizer(model)`` for raw
frames (the webcam). Progress and stopping follow one convention (:mod:`studio.progress`).

Everything not listed in ``__all__`` is private; the subpackages (``nn``, ``train``, ``infer``, ``export``,
``io``) are the engine's inside.
"""

from __future__ import annotations

from studio.api import create, resume
from studio.config import TrainConfig
from studio.errors import StudioError
from studio.export.metadata import ExportMetadata
from studio.infer.frames import FrameOptions, FrameStylizer
from studio.infer.preview import PreviewStep, preview
from studio.infer.video import VideoProgress, stylize_video
from studio.model import StyleModel, load
from studio.presets import Preset, preset, presets
from studio.progress import Cancelled, CancelToken, Event
from studio.train.estimate import default_use_case, describe_seconds, estimate_seconds
from studio.train.quicklook import QuickLookProgress, quicklook
from studio.train.trainer import Progress, Trainer, TrainOptions
from studio.version import __version__

__all__ = [
    "CancelToken",
    "Cancelled",
    "Event",
    "ExportMetadata",
    "FrameOptions",
    "FrameStylizer",
    "Preset",
    "PreviewStep",
    "Progress",
    "QuickLookProgress",
    "StudioError",
    "StyleModel",
    "TrainConfig",
    "TrainOptions",
    "Trainer",
    "VideoProgress",
    "__version__",
    "create",
    "default_use_case",
    "describe_seconds",
    "estimate_seconds",
    "load",
    "preset",
    "presets",
    "preview",
    "quicklook",
    "resume",
    "stylize_video",
]
