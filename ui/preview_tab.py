"""Preview: drop a photo, pick a preset (or a blend of presets), compare before and after, download."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import gradio as gr
from PIL import Image

from studio import Preset, StyleModel

from .common import download_file, user_errors

BLEND = "Blend presets (weights below)"
ModelLoader = Callable[[str, str], tuple[StyleModel, Callable[..., object]]]


def build(catalog: Sequence[Preset], load_model: ModelLoader) -> None:
    """``load_model(spec, use_case)`` -> (model, stylize) for "preset:NAME" or "preset:all"."""
    titles = {p.title: p.name for p in catalog}
    with gr.Tab("Preview", id="preview"):
        with gr.Row():
            with gr.Column(scale=1):
                sources = ["upload", "clipboard", "webcam"]
                photo = gr.Image(type="pil", label="Photo", sources=sources, elem_id="preview-photo")
                choice = gr.Dropdown(
                    [*titles, BLEND], value=next(iter(titles), BLEND), label="Style", elem_id="preview-style"
                )
                use_case = gr.Radio(["image", "video"], value="image", label="Model", info="video = the fast model")
                intensity = gr.Slider(0, 1, value=1, step=0.05, label="Intensity")
                keep_color = gr.Checkbox(label="Preserve the photo's colours")
                max_side = gr.Slider(256, 4096, value=1536, step=64, label="Longest side of the result (px)")
                with gr.Accordion("Blend weights", open=False):
                    weights = [gr.Slider(0, 1, value=0, step=0.05, label=p.title) for p in catalog]
                go = gr.Button("Stylize", variant="primary", elem_id="preview-go")
            with gr.Column(scale=2):
                compare = gr.ImageSlider(label="Before / after", type="pil", format="png", elem_id="preview-result")
                download = gr.File(label="Download the stylized image", elem_id="preview-download")

        def stylize(
            image: Image.Image | None,
            title: str,
            case: str,
            amount: float,
            keep: bool,
            side: float,
            *blend: float,
        ) -> tuple[tuple[Image.Image, Image.Image], str]:
            if image is None:
                raise gr.Error("Drop a photo first.")
            with user_errors():
                if title == BLEND:
                    mix = {p.name: float(w) for p, w in zip(catalog, blend, strict=True) if w > 0}
                    if not mix:
                        raise gr.Error("Set at least one blend weight above zero.")
                    model, run = load_model("preset:all", case)
                    style: object = mix
                else:
                    model, run = load_model(f"preset:{titles[title]}", case)
                    style = None
                result = run(image, style=style, intensity=float(amount), preserve_color=bool(keep), max_size=int(side))
                before = image.convert("RGB").resize(result.size)
            return (before, result), download_file(result, "stylized")

        go.click(
            stylize,
            [photo, choice, use_case, intensity, keep_color, max_side, *weights],
            [compare, download],
            api_name="stylize",
        )
