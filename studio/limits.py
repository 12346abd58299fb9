"""What one request may ask of a shared studio: upload sizes, pixels, video length, training time, storage.

A public Space meets every kind of file and many people at once, so every limit is explicit, has a sane
default, and is set by an environment variable (the README lists them). :func:`limits` reads them each time
it is called, so tests and hosts can change them without restarting; a malformed value is refused with a
message naming the variable, not ignored.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

from studio.errors import StudioError


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
    store_bytes: int = 2 * 1024**3  # stored models of all sessions; when full, new models are refused
    checkpoint_interval: int = 100  # iterations between a browser training's checkpoints (at most this is lost)
    # One training request, all its files together (several zips cannot add up past these):
    content_files: int = 2000  # content photos, loose or zipped
    content_bytes: int = 2 * 1024**3  # content photos' bytes as unpacked (counted while unpacking, not declared)
    request_pixels: int = 1_000_000_000  # width * height of every style, content and validation image, summed
    style_pixels: int = 100_000_000  # of the style images: kept decoded (float32, 12 bytes a pixel) all run long
    session_idle_seconds: float = 7 * 24 * 3600.0  # a session unused this long is removed with its models and runs


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
    "STUDIO_MAX_CONTENT_FILES": "content_files",
    "STUDIO_MAX_CONTENT_BYTES": "content_bytes",
    "STUDIO_MAX_REQUEST_PIXELS": "request_pixels",
    "STUDIO_MAX_STYLE_PIXELS": "style_pixels",
    "STUDIO_SESSION_IDLE_SECONDS": "session_idle_seconds",
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


class Stopped(StudioError):
    """A request stopped before it made anything: by its user (Stop) or by its time limit."""


class Budget:
    """What one request may still use, counted as it goes: shared by all its zips and images, so a request
    of many files cannot add up past one file's limits. Not thread-safe: one request, one thread.

    ``None`` for a bound means no bound. Messages name the environment variable that sets the bound.
    """

    def __init__(
        self, files: int = Limits.content_files, content_bytes: int = Limits.content_bytes,
        pixels: int | None = None, style_pixels: int | None = None,
    ) -> None:  # fmt: skip
        self.files, self.content_bytes, self.pixels, self.style_pixels = files, content_bytes, pixels, style_pixels
        self.files_used = self.bytes_used = self.pixels_used = self.style_pixels_used = 0

    @classmethod
    def of(cls, bounds: Limits) -> Budget:
        """A browser request's budget: every bound in force."""
        return cls(bounds.content_files, bounds.content_bytes, bounds.request_pixels, bounds.style_pixels)

    def add_files(self, count: int, what: str) -> None:
        """``what`` (a zip, or one photo) brings ``count`` more content photos."""
        if self.files_used + count > self.files:
            before = f" ({self.files_used} more before it)" if self.files_used else ""
            held = "is one image too many" if count == 1 else f"holds {count} images"
            raise StudioError(f"{what} {held}{before}; the limit is {self.files} a training (STUDIO_MAX_CONTENT_FILES)")
        self.files_used += count

    def add_bytes(self, count: int, what: str) -> None:
        """``count`` more bytes of content written (or about to be): refused past the bound, at once."""
        self.bytes_used += count
        if self.bytes_used > self.content_bytes:
            limit = self.content_bytes / 1e6
            raise StudioError(
                f"{what}: the content photos come to more than {limit:.0f} MB unpacked; the limit is {limit:.0f} MB "
                "a training (STUDIO_MAX_CONTENT_BYTES)"
            )

    def add_pixels(self, count: int, what: str, style: bool = False) -> None:
        """An image of ``count`` pixels (from its header) is to be decoded."""
        if style and self.style_pixels is not None and self.style_pixels_used + count > self.style_pixels:
            raise StudioError(
                f"{what}: the style images come to more than {self.style_pixels:,} pixels together; "
                "use smaller or fewer style images (STUDIO_MAX_STYLE_PIXELS)"
            )
        if self.pixels is not None and self.pixels_used + count > self.pixels:
            raise StudioError(
                f"{what}: this training's images come to more than {self.pixels:,} pixels together; "
                "use smaller or fewer photos (STUDIO_MAX_REQUEST_PIXELS)"
            )
        self.pixels_used += count
        self.style_pixels_used += count if style else 0


class StopFlag:
    """Stops a request: its user (:meth:`set`, the Stop button) or its time limit, counted from the request's
    start (not from training's first iteration). Quacks like ``threading.Event`` (``set``, ``is_set``), so a
    :class:`~studio.Trainer` polls it every iteration; the slow steps before training poll :meth:`check`.
    """

    def __init__(self, seconds: float | None = None, limit: str = "STUDIO_MAX_TRAIN_SECONDS") -> None:
        self._event = threading.Event()
        self.seconds, self.limit = seconds, limit
        self._deadline = None if seconds is None else time.monotonic() + seconds
        self.timed_out = False

    def set(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        if not self._event.is_set() and self._deadline is not None and time.monotonic() >= self._deadline:
            self.timed_out = True
            self._event.set()
        return self._event.is_set()

    def check(self, what: str = "") -> None:
        """Raise :class:`Stopped` once stopped; ``what``: the step it stopped in, for the message."""
        if self.is_set():
            during = f" while {what}" if what else ""
            if self.timed_out:
                raise Stopped(
                    f"stopped{during}: this studio's limit of {self.seconds:g} s a job ran out ({self.limit})"
                )
            raise Stopped(f"stopped{during}")


def check_stop(stop: object, what: str = "") -> None:
    """:meth:`StopFlag.check` for any ``threading.Event``-like flag (or None: never stops)."""
    if stop is None:
        return
    if isinstance(stop, StopFlag):
        stop.check(what)
    elif stop.is_set():  # type: ignore[attr-defined]
        raise Stopped(f"stopped while {what}" if what else "stopped")
