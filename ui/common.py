"""Helpers shared by the tabs: refusals (one message to the user, one line in the log), per-request folders
and files written for download."""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr
from PIL import Image

from studio import StudioError

log = logging.getLogger("studio.ui")


def refuse(message: str) -> gr.Error:
    """The error a refused request raises: one clear message for the user, and one line in the server's log
    (``print_exception=False``: Gradio prints no traceback for it; bugs, which are not refusals, keep theirs)."""
    log.warning("refused: %s", " ".join(message.split())[:500])
    return gr.Error(message, print_exception=False)


def refuse_quietly(component: Any) -> None:
    """Make Gradio's own input checks (a slider's range, a choice not in the list) refusals too: one
    message, one log line. Gradio raises them as gr.Error with its default ``print_exception=True``, which
    prints a traceback per request; the instance's ``preprocess`` is wrapped (see :func:`image_path` on why
    not a subclass)."""
    original = component.preprocess

    def preprocess(payload: Any) -> Any:
        try:
            return original(payload)
        except gr.Error as exc:
            raise refuse(str(exc.message)) from None

    component.preprocess = preprocess


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Engine errors reach the user as gr.Error with the engine's one-line message, never a traceback."""
    try:
        yield
    except StudioError as exc:
        raise refuse(str(exc)) from None


@contextlib.contextmanager
def request_folder() -> Iterator[Path]:
    """A folder for what one request writes (in the process's temporary folder, :func:`ui.app.launch`),
    removed when the request ends, however it ends. A handler that returns files from it is a generator
    that yields its outputs inside the ``with``: Gradio copies them into its own cache, then resumes the
    generator (or closes it, if the client left), which removes the folder."""
    folder = Path(tempfile.mkdtemp(prefix="request-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


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


def download_file(image: Image.Image, stem: str, folder: str | Path) -> str:
    """Save ``image`` as ``stem.png`` in ``folder`` (a :func:`request_folder`): Gradio serves its own copy."""
    out = Path(folder) / f"{stem}.png"
    image.save(out)
    return str(out)
