"""Preview: drop a photo, pick your trained model, one of its snapshots, a preset or a blend of presets;
compare before and after (or two models) on a slider, and download the result."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import gradio as gr
from PIL import Image

from studio import Preset, StyleModel
from studio.media import open_image

from .common import download_file, image_path, refuse, request_folder, user_errors
from .gpu import on_gpu

BEFORE = "before"  # the compare choice that shows the photo itself
BLEND = "blend"  # the style choice that mixes presets with the Styles tab's weights
# (spec, use case, session id) -> (model, stylize); spec is "preset:NAME", "preset:all" or "mine:KEY"
ModelLoader = Callable[[str, str, "str | None"], tuple[StyleModel, Callable[..., Any]]]
Choices = Callable[["str | None"], list[tuple[str, str]]]


def preset_choices(catalog: Sequence[Preset]) -> list[tuple[str, str]]:
    return [(f"Preset: {p.title}", f"preset:{p.name}") for p in catalog] + [
        ("Blend of presets (weights in Styles)", BLEND)
    ]


def pick_model(
    catalog: Sequence[Preset], load_model: ModelLoader, choices: Choices, sid: str | None, spec: str, case: str,
    blend: Sequence[float],
) -> tuple[StyleModel, Callable[..., Any], object]:  # fmt: skip
    """(model, its stylize, style) for a style choice: ``preset:NAME``, ``mine:KEY`` or ``blend``."""
    if spec not in {v for _, v in choices(sid)}:
        raise refuse(f"unknown style {str(spec)[:100]!r}: pick one of the list (your models, presets, blend)")
    style: object = None
    if spec == BLEND:
        style = {p.name: float(w) for p, w in zip(catalog, blend, strict=True) if w > 0}
        if not style:
            raise refuse("Set at least one blend weight above zero (Styles tab, Blend presets).")
        spec = "preset:all"
    model, run = load_model(spec, case, sid)
    return model, run, style


def build(
    catalog: Sequence[Preset],
    load_model: ModelLoader,
    choices: Choices,
    session: Any,
    blend_weights: Sequence[Any],
) -> tuple[Any, Any]:
    """Returns the two model dropdowns, so the app can refresh them when the session stores a model."""
    first = preset_choices(catalog)
    with gr.Tab("Preview", id="preview"):
        with gr.Row():
            with gr.Column(scale=1):
                sources = ["upload", "clipboard", "webcam"]
                # the upload's path: the engine decodes it (its pixel limit, HEIC, one-line errors)
                photo = image_path(label="Photo", sources=sources, elem_id="preview-photo")
                # allow_custom_value: the choices grow per session; stylize() checks the value itself
                choice = gr.Dropdown(
                    first, value=first[0][1], label="Style: your models and snapshots, presets",
                    allow_custom_value=True, elem_id="preview-style",
                )  # fmt: skip
                compare = gr.Dropdown(
                    [("The photo (before / after)", BEFORE), *first], value=BEFORE, label="Compare with",
                    allow_custom_value=True, elem_id="preview-compare",
                )  # fmt: skip
                use_case = gr.Radio(
                    ["image", "video"], value="image", label="Preset model",
                    info="presets and blends only (video = the fast model); your models keep their own",
                )  # fmt: skip
                intensity = gr.Slider(0, 1, value=1, step=0.05, label="Intensity")
                keep_color = gr.Checkbox(label="Preserve the photo's colours")
                max_side = gr.Slider(256, 4096, value=1536, step=64, label="Longest side of the result (px)")
                go = gr.Button("Stylize", variant="primary", elem_id="preview-go")
            with gr.Column(scale=2):
                slider = gr.ImageSlider(label="Before / after", type="pil", format="png", elem_id="preview-result")
                caption = gr.Markdown(elem_id="preview-caption")
                download = gr.File(label="Download the stylized image", elem_id="preview-download")

        def render(
            sid: str | None, spec: str, case: str, image: Image.Image, amount: float, keep: bool, side: int,
            blend: Sequence[float],
        ) -> Image.Image:  # fmt: skip
            _, run, style = pick_model(catalog, load_model, choices, sid, spec, case, blend)
            return run(image, style=style, intensity=float(amount), preserve_color=bool(keep), max_size=int(side))

        def stylize(
            sid: str | None,
            path: str | None,
            spec: str,
            other: str,
            case: str,
            amount: float,
            keep: bool,
            side: float,
            *blend: float,
        ) -> Iterator[tuple[tuple[str, str], str, str]]:
            # A generator of one step: the PNG to download lives in this request's folder until Gradio has
            # copied it, then the folder goes (see request_folder). Clients see one result, as from a function.
            if not path:
                raise refuse("Drop a photo first.")
            names = dict((v, k) for k, v in [*choices(sid), ("The photo", BEFORE)])
            with user_errors():
                image = open_image(path)
                result = render(sid, spec, case, image, amount, keep, int(side), blend)
                if other == BEFORE:
                    left = image.convert("RGB").resize(result.size)
                else:
                    left = render(sid, other, case, image, amount, keep, int(side), blend).resize(result.size)
            caption = f"Left: **{names.get(other, other)}** · right: **{names[spec]}**"
            with request_folder() as folder:
                # Files, not PIL images: Gradio writes a PIL output to a path named by its content's hash
                # in place, so two sessions making the same image at once could serve each other a truncated
                # file (the soak saw it); a file is copied into its cache atomically.
                after = download_file(result, "stylized", folder)
                yield (download_file(left, "before", folder), after), caption, after

        go.click(
            on_gpu(60)(stylize),
            [session, photo, choice, compare, use_case, intensity, keep_color, max_side, *blend_weights],
            [slider, caption, download],
            api_name="stylize",
        )
    return choice, compare
