"""Helpers shared by the tabs: refusals (one message to the user, one line in the log), per-request folders
and files written for download."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import gradio as gr
from PIL import Image

from studio import StudioError
from studio.io.media import open_image

log = logging.getLogger("studio.ui")
# The page's own CSS (gr.Blocks(css=...)). Gradio marks every output box of a request that raised with a red
# "Error" badge, though the refusal was about an input and its message is already in the popup: the badge goes.
PAGE_CSS = """
[data-testid="status-tracker"]:has(> .error) { display: none !important; }
/* The preset gallery: every thumbnail (drawing | photo, 2:1) at its shape with its caption below it, in as many
   columns as fit, and no scrolling inside the box: the page scrolls, so on a phone every preset is reachable. */
#preset-gallery .grid-wrap { height: auto !important; max-height: none !important; overflow: visible !important; }
#preset-gallery .grid-container {
  grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)) !important;
  grid-auto-rows: auto !important; padding-top: 0 !important;
}
@media (max-width: 640px) {
  #preset-gallery .grid-container { grid-template-columns: repeat(2, minmax(0, 1fr)) !important; }
}
#preset-gallery .gallery-item, #preset-gallery .thumbnail-item {
  height: auto !important; aspect-ratio: auto !important;
}
#preset-gallery .thumbnail-item { display: flex !important; flex-direction: column; overflow: hidden; }
#preset-gallery .thumbnail-item img { width: 100% !important; height: auto !important; aspect-ratio: 2 / 1; }
#preset-gallery .caption-label {
  position: static !important; max-width: none !important; white-space: normal !important; overflow: visible !important;
  text-overflow: clip !important; text-align: center; margin: 0 !important; border: 0 !important;
}
/* Tabs wrap onto a second line on a phone (never hidden behind a menu) */
#steps .tab-container { flex-wrap: wrap; height: auto !important; }
/* An output that streams keeps Gradio's accent border but not its endless pulse: a training or a video streams for
   minutes and its own status line already shows that it runs, and in a browser that paints without a GPU (a CPU
   server's or a virtual machine's) the pulse of three boxes kept Chromium busy half of one core, taken from the
   training running on the same 2-core machine. */
.wrap.generating { animation: none !important; }
"""
MESSAGE_CHARS = 300  # a message longer than this is cut at a word, with "…"
# An absolute path (POSIX, or a Windows drive's) up to its end: quotes, whitespace, a bracket or a comma
_PATH = re.compile(r"""(?<![\w.:/\\])(?:[A-Za-z]:)?[/\\](?:[^\s'"(),:;\[\]]+[/\\])+([^\s'"(),:;\[\]/\\]*)""")
_ERRNO = re.compile(r"\[(?:Errno|WinError) -?\d+\]\s*")


def user_message(message: str, names: Mapping[str, str] | None = None) -> str:
    """``message`` as a user should read it: each path in ``names`` (server path -> the name the user gave the
    file) replaced by that name in quotes, any other absolute path by its last part (a server's folders are
    none of the user's business), "[Errno N]" dropped, one line, at most :data:`MESSAGE_CHARS` characters cut
    at a word."""
    text = " ".join(str(message).split())
    for path, name in sorted((names or {}).items(), key=lambda kv: -len(kv[0])):
        if path:
            text = text.replace(path, f'"{name}"')
    text = _PATH.sub(lambda m: m.group(1) or "a folder", text)
    text = _ERRNO.sub("", text)
    if len(text) > MESSAGE_CHARS:
        cut = text[: MESSAGE_CHARS - 1]
        text = (cut.rsplit(" ", 1)[0] if " " in cut else cut).rstrip(" ,;:(") + "…"
    return text


def refuse(message: str, names: Mapping[str, str] | None = None) -> gr.Error:
    """The error a refused request raises: one clear message for the user (:func:`user_message`: no server
    path, no errno), and one line in the server's log (``print_exception=False``: Gradio prints no traceback
    for it; bugs, which are not refusals, keep theirs)."""
    log.warning("refused: %s", " ".join(message.split())[:500])
    return gr.Error(user_message(message, names), print_exception=False)


def upload_name(path: str | os.PathLike[str]) -> str:
    """The name the user gave an uploaded file: Gradio keeps it as the last part of its copy's path."""
    return Path(path).name


def check_upload(path: str | None) -> str | None:
    """None when the upload at ``path`` is an image the studio reads; else why not, naming the file as the
    user named it (no server path), e.g. '"notaphoto.jpg" is not an image the studio can read (unrecognised
    image format). Use a JPEG, PNG, WebP or HEIC file.'"""
    if not path:
        return None
    name = upload_name(path)
    try:
        open_image(path, size_hint=64)  # a large JPEG decodes at a reduced scale: the check stays cheap
    except StudioError as exc:
        why = user_message(str(exc), {path: name})
        detail = why.split(f'"{name}"', 1)[-1].strip(" :")  # the reason, without the engine's lead-in and name
        if why.startswith("not a readable image") or why.startswith("not an image"):
            return f'"{name}" is not an image the studio can read {detail}. Use a JPEG, PNG, WebP or HEIC file.'
        return why
    return None


def refuse_bad_uploads(image: gr.Image) -> Any:
    """Check every upload to ``image`` (an :func:`image_path`) as it arrives: a file the studio cannot read is
    removed from the box again with a warning naming it as the user named it, before any work starts. (A
    warning, not an error: an error would mark the box, which did not fail, with Gradio's "Error" badge.)
    Returns the event, for work to follow with ``.then`` (it sees the box empty after a refusal)."""

    def check(path: str | None) -> Any:
        why = check_upload(path)
        if why is None:
            return gr.update()
        log.warning("refused upload: %s", why)
        gr.Warning(why)
        return None

    return image.upload(check, image, image, show_progress="hidden", api_visibility="private")


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
def user_errors(*uploads: str | None) -> Iterator[None]:
    """Engine errors reach the user as gr.Error with the engine's one-line message, never a traceback (nor a
    server path: :func:`user_message`; the paths of ``uploads`` become the names the user gave them)."""
    try:
        yield
    except StudioError as exc:
        raise refuse(str(exc), {p: upload_name(p) for p in uploads if p}) from None


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
    Here the engine's :func:`studio.io.media.open_image` does all decoding: its pixel limit, its formats, its
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
