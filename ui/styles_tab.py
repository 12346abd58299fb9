"""Styles, the studio's first step: the preset gallery (each preset's drawing beside a photo in its style), a
before/after of a picked preset on a built-in photo with the way on to Preview, a quick look at a painting of
the user's own on a photo (no training), and blends of presets (weights that Preview uses too)."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
from PIL import Image

from studio import Preset, QuickLookProgress, StyleModel
from studio.io.media import open_image
from studio.progress import Cancelled

from .common import image_path, refuse, refuse_bad_uploads, request_folder, user_errors
from .gpu import on_gpu

TRY_SIDE = 512  # longer side of a picked preset's before/after
DRAFT_SIDE = 384  # the fast (video) model's draft, shown while the full model works
SETTLE = 0.3  # quick look stops once the image changes at under this fraction of its first pace
# On a phone the before/after is below the gallery: once shown, scroll it into view (a no-op where it is in view)
SCROLL_TO_TRIED = (
    "() => { setTimeout(() => document.getElementById('styles-use')"
    "?.scrollIntoView({behavior: 'smooth', block: 'nearest'}), 700) }"
)


@dataclass
class Styles:
    """What other tabs use: the blend weights (one slider per preset, catalog order), and the picked preset
    (``"preset:NAME"``) with the button that takes it on to Preview (see :func:`lead_to`)."""

    weights: list[Any]
    picked: Any
    use: Any


def thumbnail(preset: Preset) -> str:
    """The gallery picture: the preset's drawing beside a photo in its style (``presets/gallery.py --thumbs``),
    else the drawing alone."""
    thumb = preset.folder / "thumb.jpg"
    return str(thumb if thumb.is_file() else preset.style_image)


def build(
    catalog: Sequence[Preset],
    quicklook: Callable[..., Image.Image],
    load_model: Callable[..., StyleModel],
    sample_photo: str | None = None,
) -> Styles:
    with gr.Tab("Styles", id="styles"):
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=300):
                gr.Markdown("**Presets**: each drawing beside a photo in its style. **Click one** to try it.")
                gallery = gr.Gallery(
                    [(thumbnail(p), p.title) for p in catalog],
                    label="Presets",
                    show_label=False,
                    columns=3,
                    height="auto",
                    allow_preview=False,
                    object_fit="contain",
                    buttons=[],
                    elem_id="preset-gallery",
                )
            with gr.Column(scale=2, min_width=300):
                about = gr.Markdown(
                    "The presets were drawn by Style Studio's own code: they, and what you make with them, are "
                    "free to use and sell (MIT).",
                    elem_id="styles-about",
                )
                tried = gr.ImageSlider(
                    label="Before / after (drag the handle)",
                    type="filepath",
                    visible=False,
                    max_height=420,
                    buttons=["fullscreen"],
                    elem_id="styles-tried",
                )
                picked = gr.State(None)
                use = gr.Button(
                    "Use it on your own photos (Preview) →", variant="primary", visible=False, elem_id="styles-use"
                )

        cache: dict[str, Image.Image] = {}  # preset -> the sample photo in its style (the same for everyone)

        def try_preset(evt: gr.SelectData) -> Iterator[tuple[Any, ...]]:
            index = evt.index if isinstance(evt.index, int) else -1
            if not 0 <= index < len(catalog):
                raise refuse("Pick one of the presets.")
            preset = catalog[index]
            text = f"**{preset.title}**: {preset.description}"
            spec, shown = f"preset:{preset.name}", gr.update(visible=True)
            if not sample_photo:  # no built-in photos: the drawing is all there is to show
                yield f"{text}\n\nTry it on a photo of yours in **Preview**.", gr.update(), spec, shown
                return
            with user_errors(), request_folder() as folder:
                photo = open_image(sample_photo, size_hint=TRY_SIDE).convert("RGB")
                photo.thumbnail((TRY_SIDE, TRY_SIDE), Image.Resampling.LANCZOS)
                before = _save(photo, folder / "photo.jpg")
                if preset.name not in cache:  # a draft by the fast model first: the full model takes seconds
                    fast = load_model(f"preset:{preset.name}", "video", None).stylize
                    draft = _save(fast(photo, max_size=DRAFT_SIDE).resize(photo.size), folder / "draft.jpg")
                    yield f"{text}\n\n*Refining…*", gr.ImageSlider(value=(before, draft), visible=True), spec, shown
                    full = load_model(f"preset:{preset.name}", "image", None).stylize
                    cache[preset.name] = full(photo, max_size=TRY_SIDE)
                after = _save(cache[preset.name], folder / f"{preset.name}.jpg")
                yield text, gr.ImageSlider(value=(before, after), visible=True), spec, shown

        gallery.select(
            on_gpu(60)(try_preset),
            None,
            [about, tried, picked, use],
            show_progress_on=tried,
            api_visibility="private",
        )
        gallery.select(None, None, None, js=SCROLL_TO_TRIED)

        quicklook_section(quicklook, sample_photo)
        weights = blend_section(catalog, load_model, sample_photo)
    return Styles(weights, picked, use)


def lead_to(styles: Styles, tabs: Any, preview_style: Any) -> None:
    """Wire the picked preset's button to Preview: its style list picks the preset, and its tab opens."""
    styles.use.click(
        lambda spec: (gr.Tabs(selected="preview"), gr.update() if not spec else spec),
        styles.picked,
        [tabs, preview_style],
        api_visibility="private",
    )


def quicklook_section(quicklook: Callable[..., Image.Image], sample_photo: str | None) -> None:
    gr.Markdown(
        "### Your own painting\nDrop a painting (or any picture) to see roughly what a model trained on it would "
        "do to the photo: it is painted step by step, without training, and stops when the picture stops "
        "changing. Like it? Train a model on it in **Train**: a trained model stylizes in a moment."
    )
    with gr.Row():
        style = image_path(label="Your painting (JPEG, PNG, WebP, HEIC)", elem_id="ql-style", height=260)
        photo = image_path(sample_photo, label="Photo", elem_id="ql-photo", height=260)
        result = gr.Image(type="filepath", label="Quick look", interactive=False, elem_id="ql-result", height=260)
    settings = _quicklook_settings()
    go = gr.Button("Quick look", variant="primary", elem_id="ql-go")
    api = gr.Button(visible=False)  # carries /quicklook for scripts: the pictures without the page's labels

    def shown(*args: Any) -> Iterator[Any]:
        """The page's quick look: each picture with its step in the box's label."""
        for path, label in look(quicklook, *args):
            yield gr.Image(path, label=label)

    def quick_look(*args: Any) -> Iterator[str]:
        """Scripts' quick look (/quicklook): the pictures alone, the last one the result."""
        for path, _ in look(quicklook, *args):
            yield path

    def look_if_ready(*args: Any) -> Iterator[Any]:
        if args[0] and args[1]:  # both pictures there (a refused upload was removed again)
            yield from shown(*args)
        else:
            yield gr.update()

    inputs = [style, photo, *settings]
    go.click(on_gpu(180)(shown), inputs, result, api_visibility="private")
    api.click(on_gpu(180)(quick_look), inputs, result, api_name="quicklook")

    for box in (style, photo):
        refuse_bad_uploads(box).then(on_gpu(180)(look_if_ready), inputs, result, api_visibility="private")


def _quicklook_settings() -> list[Any]:
    """Quick look's sliders, folded away: strength, density, picture size, time limit."""
    with gr.Accordion("Quick look settings", open=False), gr.Row():
        strength = gr.Slider(
            1,
            10,
            value=5,
            step=0.5,
            label="Style strength",
            info="how much of the painting versus the photo: higher paints over more of it",
        )
        density = gr.Slider(
            64,
            1024,
            value=256,
            step=4,
            label="Style density",
            info="how finely the painting's patterns repeat: higher, smaller and denser",
        )
        size = gr.Slider(128, 1024, value=256, step=32, label="Picture size (px)", info="larger is sharper and slower")
        seconds = gr.Slider(5, 120, value=30, step=5, label="Time limit (s)", info="stops here at the latest")
    return [strength, density, size, seconds]


def look(
    quicklook: Callable[..., Image.Image],
    style_image: str | None,
    photo_image: str | None,
    s: float,
    d: float,
    px: float,
    limit: float,
) -> Iterator[tuple[str, str]]:
    """Streams (picture, label) as it is painted (every few steps), ends with the last one. The work runs in a
    thread; leaving the page closes this generator, which stops it at its next step."""
    if not style_image or not photo_image:
        raise refuse("Give a painting and a photo.")
    reports: queue.Queue[Any] = queue.Queue()
    stop = threading.Event()

    def work() -> None:
        try:
            with user_errors(style_image, photo_image):
                reports.put(
                    quicklook(
                        open_image(style_image),
                        open_image(photo_image),
                        style_strength=float(s),
                        style_density=int(d),
                        size=int(px),
                        max_seconds=float(limit),
                        on_progress=reports.put,
                        report_interval=3,
                        settle=SETTLE,
                        cancel=stop,
                    )
                )
        except Cancelled:  # the page left before the first step: no one to tell
            pass
        except BaseException as exc:  # handed to the page below  # noqa: BLE001
            reports.put(exc)

    threading.Thread(target=work, daemon=True, name="studio-quicklook").start()
    last: QuickLookProgress | None = None
    try:
        with request_folder() as folder:
            while True:
                item = reports.get()
                if isinstance(item, BaseException):  # a refusal (gr.Error), or a bug with its traceback
                    raise item
                if isinstance(item, Image.Image):  # the end
                    yield _save(item, folder / "quicklook.png"), f"Quick look · {_ending(last)}"
                    return
                last = item
                label = f"Quick look · step {item.iteration} (of at most {item.total}), {item.elapsed:.0f} s"
                yield _save(item.image, folder / f"step-{item.iteration}.jpg"), label
    finally:
        stop.set()


def _ending(last: QuickLookProgress | None) -> str:
    """Why a quick look ended, from its last report."""
    if last is not None and last.settled:
        return f"done at step {last.iteration}: the picture stopped changing"
    if last is not None and last.iteration < last.total:
        return f"time limit reached at step {last.iteration} (more time: Quick look settings)"
    return "done"


def blend_section(
    catalog: Sequence[Preset], load_model: Callable[..., StyleModel], sample_photo: str | None
) -> list[Any]:
    with gr.Accordion("Mix presets", open=False, elem_id="blend"):
        gr.Markdown(
            "Set two or more weights to mix those styles; weights are relative (0.6 and 0.2 mix 3 to 1). "
            "Preview's *Blend of presets* uses these weights too."
        )
        with gr.Row():
            with gr.Column(scale=2):
                weights = []
                per_row = 4
                for start in range(0, len(catalog), per_row):
                    with gr.Row():
                        weights += [
                            gr.Slider(0, 1, value=0, step=0.05, label=p.title, elem_id=f"blend-{p.name}", min_width=140)
                            for p in catalog[start : start + per_row]
                        ]
                blend_photo = image_path(sample_photo, label="Photo", elem_id="blend-photo", height=240)
                blend_go = gr.Button("Preview the mix", elem_id="blend-go")
            blend_result = gr.Image(type="pil", label="Mix", interactive=False, elem_id="blend-result", scale=1)

    def blend(photo_path: str | None, *w: float) -> Image.Image:
        if not photo_path:
            raise refuse("Give a photo to preview the mix on.")
        mix = {p.name: float(x) for p, x in zip(catalog, w, strict=True) if x > 0}
        if not mix:
            raise refuse("Set at least one blend weight above zero.")
        with user_errors(photo_path):
            run = load_model("preset:all", "image", None).stylize
            return run(open_image(photo_path), style=mix, max_size=768)

    blend_go.click(on_gpu(60)(blend), [blend_photo, *weights], blend_result, api_name="blend")
    refuse_bad_uploads(blend_photo)
    return weights


def _save(image: Image.Image, path: Path) -> str:
    """Write a picture for the page (a request folder's file: Gradio copies it atomically into its cache)."""
    image.convert("RGB").save(path, quality=90) if path.suffix == ".jpg" else image.save(path)
    return str(path)
