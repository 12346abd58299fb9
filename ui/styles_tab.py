"""Styles: the preset gallery, blends of presets (weights that Preview uses too), and a quick look at any
style on a photo before training on it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import gradio as gr
from PIL import Image

from studio import Preset
from studio.media import open_image

from .common import image_path, refuse, user_errors
from .gpu import on_gpu


def build(
    catalog: Sequence[Preset],
    quicklook: Callable[..., Image.Image],
    load_model: Callable[..., tuple[Any, Callable[..., Any]]],
    sample_photo: str | None = None,
) -> list[Any]:
    """Returns the blend weight sliders (one per preset, in catalog order) for Preview to read."""
    with gr.Tab("Styles", id="styles"):
        gr.Markdown(
            "Presets drawn by Style Studio's own code: free to use and sell (MIT). Pick one in **Preview**, blend "
            "them below, or check a painting of your own before you train on it."
        )
        gr.Gallery(
            [(str(p.style_image), f"{p.title}: {p.description}") for p in catalog],
            label="Presets",
            columns=6,
            height="auto",
            allow_preview=True,
            elem_id="preset-gallery",
        )
        gr.Markdown(
            "### Blend presets\nWeights are relative (0.6 and 0.2 is 3:1). Preview's *Blend of presets* uses them "
            "too. One network holds all presets (conditional instance norm), so a blend costs nothing extra."
        )
        with gr.Row():
            with gr.Column(scale=2):
                weights = []
                per_row = 4
                for start in range(0, len(catalog), per_row):
                    with gr.Row():
                        weights += [
                            gr.Slider(0, 1, value=0, step=0.05, label=p.title, elem_id=f"blend-{p.name}")
                            for p in catalog[start : start + per_row]
                        ]
                blend_photo = image_path(sample_photo, label="Photo", elem_id="blend-photo", height=240)
                blend_go = gr.Button("Preview the blend", elem_id="blend-go")
            blend_result = gr.Image(type="pil", label="Blend", interactive=False, elem_id="blend-result", scale=1)

        def blend(photo_path: str | None, *w: float) -> Image.Image:
            if not photo_path:
                raise refuse("Give a photo to preview the blend on.")
            mix = {p.name: float(x) for p, x in zip(catalog, w, strict=True) if x > 0}
            if not mix:
                raise refuse("Set at least one blend weight above zero.")
            with user_errors():
                _, run = load_model("preset:all", "image", None)
                return run(open_image(photo_path), style=mix, max_size=768)

        blend_go.click(on_gpu(60)(blend), [blend_photo, *weights], blend_result, api_name="blend")

        gr.Markdown("### Quick look: a preview without training (optimises the photo itself; ~2 s on a GPU)")
        with gr.Row():
            style = image_path(label="Style image (JPEG, PNG, WebP, HEIC)", elem_id="ql-style")
            photo = image_path(label="Photo", elem_id="ql-photo")
            result = gr.Image(type="pil", label="Quick look", interactive=False, elem_id="ql-result")
        with gr.Row():
            strength = gr.Slider(1, 10, value=5, step=0.5, label="Style strength")
            density = gr.Slider(64, 1024, value=256, step=4, label="Style density")
            size = gr.Slider(128, 1024, value=256, step=32, label="Preview size (px)")
            seconds = gr.Slider(5, 120, value=30, step=5, label="Time limit (s)")
        go = gr.Button("Quick look", variant="primary", elem_id="ql-go")

        def look(
            style_image: str | None,
            photo_image: str | None,
            s: float,
            d: float,
            px: float,
            limit: float,
            progress: gr.Progress = gr.Progress(),  # noqa: B008 (Gradio's idiom)
        ) -> Image.Image:
            if not style_image or not photo_image:
                raise refuse("Give a style image and a photo.")

            def report(p: object) -> None:
                progress((p.iteration, p.total), desc=f"style loss {p.style_loss:.3f}")  # type: ignore[attr-defined]

            with user_errors():
                return quicklook(
                    open_image(style_image),
                    open_image(photo_image),
                    style_strength=float(s),
                    style_density=int(d),
                    size=int(px),
                    max_seconds=float(limit),
                    on_progress=report,
                )

        go.click(on_gpu(180)(look), [style, photo, strength, density, size, seconds], result, api_name="quicklook")
    return weights
