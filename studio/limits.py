"""What one request may ask of a shared studio: upload sizes, pixels, video length, training time, storage.

A public Space meets every kind of file and many people at once, so every limit is explicit, has a sane
default, and is set by an environment variable (the README lists them). :func:`limits` reads them each time
it is called, so tests and hosts can change them without restarting; a malformed value is refused with a
message naming the variable, not ignored.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from .errors import StudioError


@dataclass(frozen=True)
class Limits:
    upload_bytes: int = 512 * 1024**2  # any one uploaded file (Gradio refuses larger uploads before storing)
    image_pixels: int = 100_000_000  # width * height from the header, checked before decoding
    video_seconds: float = 600.0
    video_frames: int = 36_000  # 10 minutes at 60 fps
    video_pixels: int = 3840 * 2160  # per input frame
    train_iterations: int = 5000  # per training job ("Train more" counts as a new job)
    train_seconds: float = 1800.0  # per training job: stopped and saved (as with Stop) when reached
    trainings_per_gpu: int = 1  # trainings that run at once per GPU (or on the CPU); others wait in the queue
    session_bytes: int = 256 * 1024**2  # stored models per browser session; its oldest go first
    store_bytes: int = 2 * 1024**3  # stored models of all sessions; the least recently used go first
    checkpoint_interval: int = 100  # iterations between a browser training's checkpoints (at most this is lost)


# environment variable -> field
ENV = {
    "STUDIO_MAX_UPLOAD_BYTES": "upload_bytes",
    "STUDIO_MAX_IMAGE_PIXELS": "image_pixels",
    "STUDIO_MAX_VIDEO_SECONDS": "video_seconds",
    "STUDIO_MAX_VIDEO_FRAMES": "video_frames",
    "STUDIO_MAX_VIDEO_PIXELS": "video_pixels",
    "STUDIO_MAX_ITERATIONS": "train_iterations",
    "STUDIO_MAX_TRAIN_SECONDS": "train_seconds",
    "STUDIO_TRAININGS_PER_GPU": "trainings_per_gpu",
    "STUDIO_SESSION_BYTES": "session_bytes",
    "STUDIO_STORE_BYTES": "store_bytes",
    "STUDIO_CHECKPOINT_INTERVAL": "checkpoint_interval",
}


def limits(env: Mapping[str, str] | None = None) -> Limits:
    """The limits in force: defaults, overridden by the environment (``env``, default ``os.environ``)."""
    env = os.environ if env is None else env
    defaults = Limits()
    values: dict[str, int | float] = {}
    for var, name in ENV.items():
        text = env.get(var)
        if text is None or not text.strip():
            continue
        is_int = isinstance(getattr(defaults, name), int)  # whole numbers where the default is one
        try:
            value: int | float = int(text.replace("_", "")) if is_int else float(text)
        except ValueError:
            kind = "a whole number" if is_int else "a number"
            raise StudioError(f"{var} must be {kind} greater than 0, got {text!r}") from None
        if not value > 0 or value != value or value == float("inf"):
            raise StudioError(f"{var} must be greater than 0, got {text!r}")
        values[name] = value
    return Limits(**values)  # type: ignore[arg-type]
