"""Styles: the preset gallery, and a quick look at any style on a photo before training on it."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import gradio as gr
from PIL import Image

from studio import Preset

from .common import user_errors


def build(catalog: Sequence[Preset], quicklook: Callable[..., Image.Image]) -> None:
    with gr.Tab("Styles", id="styles"):
        gr.Markdown(
            "Presets drawn by Style Studio's own code: free to use and sell (MIT). Pick one in **Preview**, or "
            "check a painting of your own below before you train on it."
        )
        gr.Gallery(
            [(str(p.style_image), f"{p.title}: {p.description}") for p in catalog],
            label="Presets",
            columns=6,
            height="auto",
            allow_preview=True,
            elem_id="preset-gallery",
        )
        gr.Markdown("### Quick look: a preview without training (optimises the photo itself; ~2 s on a GPU)")
        with gr.Row():
            style = gr.Image(type="pil", label="Style image (JPEG, PNG, WebP, HEIC)", elem_id="ql-style")
            photo = gr.Image(type="pil", label="Photo", elem_id="ql-photo")
            result = gr.Image(type="pil", label="Quick look", interactive=False, elem_id="ql-result")
        with gr.Row():
            strength = gr.Slider(1, 10, value=5, step=0.5, label="Style strength")
            density = gr.Slider(64, 1024, value=256, step=4, label="Style density")
            size = gr.Slider(128, 1024, value=256, step=32, label="Preview size (px)")
            seconds = gr.Slider(5, 120, value=30, step=5, label="Time limit (s)")
        go = gr.Button("Quick look", variant="primary", elem_id="ql-go")

        def look(
            style_image: Image.Image | None,
            photo_image: Image.Image | None,
            s: float,
            d: float,
            px: float,
            limit: float,
            progress: gr.Progress = gr.Progress(),  # noqa: B008 (Gradio's idiom)
        ) -> Image.Image:
            if style_image is None or photo_image is None:
                raise gr.Error("Give a style image and a photo.")

            def report(p: object) -> None:
                progress((p.iteration, p.total), desc=f"style loss {p.style_loss:.3f}")  # type: ignore[attr-defined]

            with user_errors():
                return quicklook(
                    style_image,
                    photo_image,
                    style_strength=float(s),
                    style_density=int(d),
                    size=int(px),
                    max_seconds=float(limit),
                    on_progress=report,
                )

        go.click(look, [style, photo, strength, density, size, seconds], result, api_name="quicklook")
