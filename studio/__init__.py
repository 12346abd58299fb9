"""Style Studio: train and use image style-transfer models, offline, on CUDA, Apple MPS or the CPU.

The public API, in Turi Create's spirit::

    import studio
    model = studio.create("painting.jpg", content="photos/", iterations=200, style_strength=5, style_density=256)
    model.stylize("photo.jpg")                  # -> path of photo-stylized.jpg
    model.save("painting.safetensors")
    model = studio.load("painting.safetensors")
    studio.presets()                            # the built-in styles; studio.preset("ink-wash").load()
    studio.quicklook("painting.jpg", "me.jpg")  # preview a style without training

Everything not listed in ``__all__`` is private.
"""

from __future__ import annotations

__version__ = "0.1.0"

from studio.api import create, resume  # noqa: E402
from studio.config import TrainConfig  # noqa: E402
from studio.errors import StudioError  # noqa: E402
from studio.infer.preview import PreviewStep, preview  # noqa: E402
from studio.model import StyleModel, load  # noqa: E402
from studio.presets import Preset, preset, presets  # noqa: E402
from studio.train.quicklook import QuickLookProgress, quicklook  # noqa: E402
from studio.train.trainer import Progress, Trainer, default_use_case, describe_seconds, estimate_seconds  # noqa: E402

__all__ = [
    "Preset",
    "PreviewStep",
    "Progress",
    "QuickLookProgress",
    "StudioError",
    "StyleModel",
    "TrainConfig",
    "Trainer",
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
]
