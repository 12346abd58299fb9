"""Output: the model card of a trained model and its downloads (.safetensors, .mlpackage zipped, .mlmodel,
.onnx). A download is made once per model and format and kept beside the model in the store (see
:meth:`ui.store.ModelStore.export`), so it goes when the model goes and nothing piles up in temporary folders.
ONNX and Core ML conversions run in a process of their own (:mod:`studio.export.job`), which Cancel stops.

One click gets the file: the format's file is prepared as soon as a model and format are picked (safetensors
at once, the others in a minute or less), and the Download button then holds it. The model card shows the
painting the model learned (while its training folder is kept), a built-in photo in its style, and its
settings in words."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
from PIL import Image, ImageOps

from studio import StudioError, StyleModel
from studio.export.job import run_export
from studio.io.media import open_image
from studio.progress import Cancelled, Flag
from studio.train.content import builtin_content
from studio.train.session import read_session

from .common import refuse, request_folder, user_errors
from .store import ModelStore, file_stem

FORMATS = {
    "safetensors": ".safetensors",
    "Core ML (.mlpackage, zipped)": ".mlpackage",
    "Core ML (.mlmodel)": ".mlmodel",
    "ONNX": ".onnx",
}
CANCELLED = "Download cancelled."
POLL_SECONDS = 0.2  # how often a download's handler hands control back to Gradio (which can then close it)
ABOUT = {  # what each format is for, in the user's words
    "safetensors": "for Style Studio itself (`studio stylize`) and Python",
    "Core ML (.mlpackage, zipped)": "for apps on iPhone, iPad and Mac (Xcode; iOS 15 and later)",
    "Core ML (.mlmodel)": "for apps on older Apple systems",
    "ONNX": "for apps on Windows, Android, Linux or the web (ONNX Runtime)",
}
CARD_SIDE = 256  # each half of the card's picture (the painting | the sample photo in its style)
NO_MODEL = "Train a model first (**Train** tab): it appears here, ready to download."


def card(store: ModelStore, sid: str | None, key: str | None) -> str:
    """The model card's text: the model's name and settings, in words."""
    if not key:
        return NO_MODEL
    with user_errors():
        entry = store.entry(sid, key)
        model = store.load(sid, key, device="cpu")
    c = model.config
    fast = "video and the webcam (the *video* model: fast)"
    use = "photos (the *image* model: best quality)" if c.use_case == "image" else fast
    styles, n = ", ".join(c.style_names), model.num_parameters
    return "\n".join(
        [
            f"### {entry.label}",
            f"- **Painting{'s' if len(c.style_names) > 1 else ''}**: {styles}",
            f"- **Made for** {use}",
            f"- **Trained for** {c.iterations} iterations",
            f"- **Style strength** {c.style_strength:g} of 10: how much of the painting goes over the photo",
            f"- **Style density** {c.style_density}: how finely the painting's patterns repeat",
            f"- **Size**: {n / 1e6:.2f} million parameters ({n * 4 / 1e6:.1f} MB)",
        ]
    )


def painting(runs: Path | None, sid: str | None, names: tuple[str, ...]) -> Image.Image | None:
    """The painting a model of session ``sid`` named ``names`` learned, from the session's training folder
    while it is kept (a session keeps its latest run); None when it is gone."""
    if runs is None or not sid:
        return None
    for run in sorted((runs / sid).glob("run-*")):
        try:
            info = read_session(run)
            if info.style_names == names and info.style_files:
                return open_image(info.style_files[0], size_hint=CARD_SIDE).convert("RGB")
        except (StudioError, OSError):
            continue
    return None


def card_picture(model: StyleModel, folder: Path, art: Image.Image | None, photo: str | None) -> Path:
    """The card's picture, written in ``folder``: the painting (when known) beside a built-in photo in its
    style."""
    folder.mkdir(parents=True, exist_ok=True)
    parts = [ImageOps.fit(art, (CARD_SIDE, CARD_SIDE)) if art is not None else None]
    if photo:
        image = open_image(photo, size_hint=CARD_SIDE).convert("RGB")
        image.thumbnail((CARD_SIDE, CARD_SIDE))
        parts.append(ImageOps.fit(model.stylize(image), (CARD_SIDE, CARD_SIDE)))
    shown = [p for p in parts if p is not None]
    if not shown:
        raise StudioError("no picture to show for this model")
    sheet = Image.new("RGB", (CARD_SIDE * len(shown), CARD_SIDE), "white")
    for i, part in enumerate(shown):
        sheet.paste(part, (i * CARD_SIDE, 0))
    out = folder / ("card.jpg" if art is not None else "card-photo.jpg")
    sheet.save(out, quality=88)
    return out


def _build(suffix: str, cancel: Flag | None = None, stem: str = "style") -> Any:
    """The exporter of one format: ``(model, folder) -> the file`` named ``stem`` + ``suffix`` (an .mlpackage
    folder is zipped). ONNX and Core ML are converted by a child process from the model's file, stopped as
    soon as ``cancel`` is set; its temporary files (coremltools' working copies) stay in ``folder``, which the
    store removes."""

    def build(model: StyleModel, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        if suffix == ".safetensors":  # instant: in this process
            return Path(model.save(folder / f"{stem}.safetensors"))
        source = model.save(folder / ".source.safetensors")  # the child reads the model from its file
        path = run_export(source, folder / f"{stem}{suffix}", cancel=cancel)
        if path.is_dir():  # an .mlpackage is a folder: ship it zipped
            return Path(shutil.make_archive(str(path), "zip", root_dir=path.parent, base_dir=path.name))
        return path

    return build


def export(store: ModelStore, sid: str | None, key: str | None, fmt: str, cancel: Flag | None = None) -> str:
    """The path of the download of ``key`` in format ``fmt``, made now or earlier; ``cancel`` (a flag such as
    ``threading.Event``) set while it is being made stops it within about a second: "Download cancelled."."""
    if not key:
        raise refuse("Train a model first (Train tab).")
    if fmt not in FORMATS:
        raise refuse(f"unknown format {str(fmt)[:80]!r}")
    kind = FORMATS[fmt].lstrip(".")  # the cache folder's name: safetensors, mlpackage, mlmodel, onnx
    try:
        stem = file_stem(store.entry(sid, key).label)  # named after the model: "la_muse-image-500it.onnx"
        path = store.export(sid, key, kind, _build(FORMATS[fmt], cancel, stem), cancel)
    except Cancelled:
        raise refuse(CANCELLED) from None
    except StudioError as exc:
        raise refuse(str(exc)) from None
    return str(path)


def handed_over(path: str) -> Iterator[str]:
    """Hand a kept file to Gradio from this request's folder: Gradio serves only files from its temporary
    folder, so the download is linked (same disk: no copy) into a request folder, which goes once Gradio has
    taken its own copy (a one-step generator; see :func:`ui.common.request_folder`)."""
    with request_folder() as folder:
        out = folder / Path(path).name
        try:
            os.link(path, out)
        except OSError:
            shutil.copyfile(path, out)
        yield str(out)


def preparing(fmt: str) -> str:
    return f"Preparing the {str(fmt)[:80]} file… (**Cancel** stops it)"


def ready(path: str | None) -> Any:
    """The Download button once its file is there: its name and size on the button, one click to get it."""
    if not path:
        return gr.DownloadButton("Download", interactive=False)
    size = Path(path).stat().st_size
    shown = f"{size / 1e6:.1f} MB" if size >= 1e5 else f"{size / 1e3:.0f} KB"
    return gr.DownloadButton(f"Download {Path(path).name} ({shown})", interactive=True)


@dataclass(frozen=True)
class Widgets:
    """The Output tab's components, besides the model picker it shares with the other tabs."""

    picture: Any
    summary: Any
    fmt: Any
    get: Any
    cancel: Any
    status: Any
    api: Any


def layout(store: ModelStore, models: Any) -> Widgets:
    """The tab's components, laid out: the model card (picture and words), the format, Download and Cancel."""
    gr.Markdown("Your trained model, ready for apps: pick it and a format, then **Download**.")
    models.render()
    with gr.Row(equal_height=False):  # side by side on a desktop, one above the other on a phone
        with gr.Column(min_width=300):
            picture = gr.Image(
                type="filepath",
                label="The painting, and a photo in its style",
                interactive=False,
                elem_id="output-picture",
                height=260,
                buttons=["fullscreen"],
            )
        with gr.Column(min_width=300):
            summary = gr.Markdown(card(store, None, None), elem_id="output-card")
    fmt = gr.Radio(
        list(FORMATS), value="safetensors", label="Format", info=ABOUT["safetensors"], elem_id="output-format"
    )
    with gr.Row():
        get = gr.DownloadButton(
            "Download", variant="primary", interactive=False, elem_id="output-get", scale=3, min_width=300
        )
        cancel = gr.Button("Cancel", elem_id="output-cancel", scale=1, min_width=100)
    status = gr.Markdown(elem_id="output-status")
    api = gr.Button(visible=False, elem_id="output-api")  # carries the /download endpoint for scripts
    return Widgets(picture, summary, fmt, get, cancel, status, api)


def picture_of(store: ModelStore, photo: str | None) -> Callable[[str | None, str | None], Iterator[Any]]:
    """The handler that shows a model's card picture, made once per model and kept with it (like a download)."""

    def show_picture(sid: str | None, key: str | None) -> Iterator[Any]:
        if not key:
            yield None
            return
        with user_errors():
            names = store.load(sid, key, device="cpu").style_names
            art = painting(store.runs, sid, names)
            path = store.export(sid, key, "card", lambda m, folder: card_picture(m, folder, art, photo))
        yield from handed_over(str(path))

    return show_picture


def downloader(store: ModelStore) -> Callable[[str | None, str | None, str], Iterator[Any]]:
    """The handler that makes a download and hands it over.

    The export runs in a worker thread while the handler hands control back to Gradio every
    :data:`POLL_SECONDS`: Cancel (or the page leaving) makes Gradio close the generator at such a yield, which
    sets the flag the export watches (a thread cannot be interrupted; the export's process can)."""

    def download(sid: str | None, key: str | None, f: str) -> Iterator[Any]:
        stop = threading.Event()
        outcome: list[Any] = []

        def work() -> None:
            try:
                outcome.append(export(store, sid, key, f, stop))
            except BaseException as exc:  # raised to the page below  # noqa: BLE001
                outcome.append(exc)

        thread = threading.Thread(target=work, daemon=True, name="studio-download")
        thread.start()
        try:
            while thread.is_alive():
                thread.join(POLL_SECONDS)
                if thread.is_alive():
                    yield gr.update()
        finally:
            if thread.is_alive():  # cancelled, or the page left: the export's process goes, nothing is kept
                stop.set()
        done = outcome[0] if outcome else refuse("the download stopped unexpectedly")
        if isinstance(done, BaseException):
            raise done
        yield from handed_over(done)

    return download


def arm(key: str | None, f: str) -> tuple[Any, ...]:
    """As soon as a model or format is picked: the button waits for its file; the format's use is shown."""
    waiting = gr.DownloadButton(f"Preparing the {f} file…" if key else "Download", value=None, interactive=False)
    return waiting, (preparing(f) if key and FORMATS.get(f) != ".safetensors" else ""), gr.Radio(info=ABOUT.get(f))


def failed(shown: str | None) -> tuple[str, Any]:
    """After a failed preparation: a refusal's message is its own popup; "Download cancelled." stays if the
    page counts a cancel as a failure."""
    return (shown if shown == CANCELLED else ""), gr.DownloadButton("Download", interactive=False)


def cancelled(shown: str | None) -> tuple[str, Any]:
    """Cancel pressed: says so while a file was being prepared; otherwise changes nothing."""
    if str(shown or "").startswith("Preparing"):
        return f"{CANCELLED} Pick the format again to prepare it.", gr.DownloadButton("Download", interactive=False)
    return str(shown or ""), gr.update()


def build(store: ModelStore, session: Any, models: Any) -> None:
    """The Output tab: ``models`` (the shared model picker, rendered here) and ``session`` (the page's id)."""
    try:
        photo: str | None = str(builtin_content()[0])
    except StudioError:
        photo = None
    with gr.Tab("Output", id="output"):
        w = layout(store, models)
    models.change(lambda sid, key: card(store, sid, key), [session, models], w.summary, api_name="model_card")
    models.change(
        picture_of(store, photo), [session, models], w.picture, show_progress="hidden", api_visibility="private"
    )
    download = downloader(store)

    def prepare(sid: str | None, key: str | None, f: str) -> Iterator[Any]:
        """The page's preparation of the picked model and format; nothing to do before a model exists."""
        if key:
            yield from download(sid, key, f)
        else:
            yield None

    armed = gr.on(
        [models.change, w.fmt.change],
        arm,
        [models, w.fmt],
        [w.get, w.status, w.fmt],
        queue=False,
        api_visibility="private",
    )
    event = armed.then(prepare, [session, models, w.fmt], w.get, show_progress_on=w.get, api_visibility="private")
    event.success(lambda path: ("", ready(path)), w.get, [w.status, w.get], api_visibility="private")
    event.failure(failed, w.status, [w.status, w.get], api_visibility="private")
    w.cancel.click(cancelled, w.status, [w.status, w.get], cancels=[event], api_visibility="private")
    w.api.click(download, [session, models, w.fmt], w.get, api_name="download")
