"""What one request may ask of a shared studio: upload sizes, pixels, video length, training time, storage.

A public Space meets every kind of file and many people at once, so every limit is explicit, has a sane
default, and is set by an environment variable: each is a row of :data:`studio.settings.SETTINGS` (its
variable, default and meaning; the README shows that table). :func:`limits` reads them each time it is
called; this module enforces them (:class:`Budget`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from studio import settings
from studio.errors import StudioError


def _bound(variable: str) -> Any:
    """A :class:`Limits` field set by ``variable``, with that setting's default."""
    return field(default=settings.default(variable), metadata={"variable": variable})


@dataclass(frozen=True)
class Limits:
    """The bounds in force; each field's variable and meaning are in :data:`studio.settings.SETTINGS`."""

    upload_bytes: int = _bound("STUDIO_MAX_UPLOAD_BYTES")
    image_pixels: int = _bound("STUDIO_MAX_IMAGE_PIXELS")
    video_seconds: float = _bound("STUDIO_MAX_VIDEO_SECONDS")
    video_frames: int = _bound("STUDIO_MAX_VIDEO_FRAMES")
    video_pixels: int = _bound("STUDIO_MAX_VIDEO_PIXELS")  # per input frame
    train_iterations: int = _bound("STUDIO_MAX_ITERATIONS")  # per training job
    train_seconds: float = _bound("STUDIO_MAX_TRAIN_SECONDS")  # per training job, then stopped and saved
    trainings_per_gpu: int = _bound("STUDIO_TRAININGS_PER_GPU")
    session_bytes: int = _bound("STUDIO_SESSION_BYTES")
    store_bytes: int = _bound("STUDIO_STORE_BYTES")
    checkpoint_interval: int = _bound("STUDIO_CHECKPOINT_INTERVAL")
    # One training request, all its files together (several zips cannot add up past these):
    content_files: int = _bound("STUDIO_MAX_CONTENT_FILES")
    content_bytes: int = _bound("STUDIO_MAX_CONTENT_BYTES")
    request_pixels: int = _bound("STUDIO_MAX_REQUEST_PIXELS")
    style_pixels: int = _bound("STUDIO_MAX_STYLE_PIXELS")
    session_idle_seconds: float = _bound("STUDIO_SESSION_IDLE_SECONDS")


# environment variable -> field
ENV = {f.metadata["variable"]: f.name for f in fields(Limits)}


def limits(env: Mapping[str, str] | None = None) -> Limits:
    """The limits in force: defaults, overridden by the environment (``env``, default ``os.environ``)."""
    return Limits(**{name: settings.setting(var).read(env) for var, name in ENV.items()})


class Budget:
    """What one request may still use, counted as it goes: shared by all its zips and images, so a request
    of many files cannot add up past one file's limits. Not thread-safe: one request, one thread.

    ``None`` for a bound means no bound. Messages name the environment variable that sets the bound.
    """

    def __init__(
        self,
        files: int = Limits.content_files,
        content_bytes: int = Limits.content_bytes,
        pixels: int | None = None,
        style_pixels: int | None = None,
    ) -> None:
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
