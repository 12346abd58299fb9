"""Helpers shared by the tabs: engine errors as gr.Error, and files written for download."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr
from PIL import Image

from studio import StudioError


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Engine errors reach the user as gr.Error with the engine's one-line message, never a traceback."""
    try:
        yield
    except StudioError as exc:
        raise gr.Error(str(exc)) from None


def image_path(*args: Any, **kwargs: Any) -> gr.Image:
    """A ``gr.Image`` whose uploads reach the handler as the uploaded file's path, undecoded.

    ``gr.Image`` opens every upload with PIL itself (even with ``type="filepath"``), so a hostile file fails
    inside Gradio with a generic error, and HEIC or 16-bit files are converted before the engine sees them.
    Here the engine's :func:`studio.media.open_image` does all decoding: its pixel limit, its formats, its
    one-line errors. The page shows the same component. (The instance's ``preprocess`` is replaced rather
    than subclassing gr.Image: Gradio writes a .pyi stub beside every component subclass's module.)
    """
    image = gr.Image(*args, type="filepath", **kwargs)
    original = image.preprocess

    def preprocess(payload: Any) -> str | None:
        if payload is None:
            return None
        if payload.path is None:  # a data: URL (pasted): Gradio writes it out without decoding
            return original(payload)  # type: ignore[return-value]
        return str(payload.path)

    image.preprocess = preprocess  # type: ignore[method-assign]
    return image


def download_file(image: Image.Image, stem: str, folder: str | None = None) -> str:
    """Save ``image`` as PNG in a fresh temporary folder (Gradio serves and later deletes its copy)."""
    out = Path(tempfile.mkdtemp(prefix="studio-", dir=folder)) / f"{stem}.png"
    image.save(out)
    return str(out)
