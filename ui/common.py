"""Helpers shared by the tabs: engine errors as gr.Error, and files written for download."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

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


def download_file(image: Image.Image, stem: str, folder: str | None = None) -> str:
    """Save ``image`` as PNG in a fresh temporary folder (Gradio serves and later deletes its copy)."""
    out = Path(tempfile.mkdtemp(prefix="studio-", dir=folder)) / f"{stem}.png"
    image.save(out)
    return str(out)
