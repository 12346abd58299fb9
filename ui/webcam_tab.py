"""Webcam: the camera streamed through a model, live. Style and intensity can change while it streams; when
the server falls behind, frames are dropped, never queued: Gradio's stream sends the camera's current frame
when the last result is back, at most every ``STREAM_EVERY`` seconds (measured: a handler slowed to 1 s got
7 frames in 12 s, not 120)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import gradio as gr
import numpy as np
from PIL import Image

from studio import Preset
from studio.frames import FrameStylizer

from .common import user_errors
from .preview_tab import ModelLoader, pick_model

STREAM_EVERY = 0.1  # seconds between frames the page sends (10 fps at most)
TIME_LIMIT = 300  # seconds a stream runs before the page must restart it (frees the slot for others)
STREAMS = 4  # webcam streams served at once
KEPT = 16  # frame engines kept (one per session and style)


class WebcamFrames:
    """The stream handler, a plain function of (frame, choices) -> stylized frame, kept apart from Gradio
    so it can be tested directly. One :class:`FrameStylizer` per session and model, reconfigured when the
    style or intensity changes (no reload, no recapture of the CUDA graph for a new style)."""

    def __init__(self, catalog: Sequence[Preset], load_model: ModelLoader, choices: Callable[..., Any]) -> None:
        self.catalog, self.load_model, self.choices = catalog, load_model, choices
        self._engines: OrderedDict[tuple[str | None, str, str], tuple[FrameStylizer, threading.Lock]] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(
        self, frame: np.ndarray | None, sid: str | None, spec: str, case: str, amount: float, keep: bool,
        side: float, *blend: float,
    ) -> np.ndarray | None:  # fmt: skip
        if frame is None:
            return None
        with user_errors():
            model, _, style = pick_model(self.catalog, self.load_model, self.choices, sid, spec, case, blend)
            with self._lock:
                key = (sid, spec, case)
                if key not in self._engines or self._engines[key][0].model is not model:  # new, or reloaded
                    self._engines[key] = (FrameStylizer(model), threading.Lock())
                    while len(self._engines) > KEPT:
                        self._engines.popitem(last=False)
                self._engines.move_to_end(key)
                engine, lock = self._engines[key]
            rgb = _fit(np.asarray(frame)[..., :3].astype(np.uint8, copy=False), int(side))
            with lock:
                engine.configure(style, intensity=float(amount), preserve_color=bool(keep))  # type: ignore[arg-type]
                return engine(rgb)


def _fit(rgb: np.ndarray, side: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    if max(h, w) <= side:
        return np.ascontiguousarray(rgb)
    scale = side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.BILINEAR))


def build(
    catalog: Sequence[Preset],
    load_model: ModelLoader,
    choices: Callable[[str | None], list[tuple[str, str]]],
    session: Any,
    blend_weights: Sequence[Any],
    initial: list[tuple[str, str]],
) -> Any:
    """Returns the style dropdown, for the app to refresh when the session stores a model."""
    handler = WebcamFrames(catalog, load_model, choices)
    with gr.Tab("Webcam", id="webcam"):
        gr.Markdown(
            "Allow the camera, then press record: frames stream through the model (the video model by default, "
            f"the fast one). Change the style while it runs. Streams stop after {TIME_LIMIT // 60} minutes."
        )
        with gr.Row():
            cam = gr.Image(sources=["webcam"], streaming=True, type="numpy", label="Camera", elem_id="cam-in")
            out = gr.Image(label="Stylized", interactive=False, elem_id="cam-out")
        with gr.Row():
            style = gr.Dropdown(initial, value=initial[0][1], label="Style", allow_custom_value=True,
                                elem_id="cam-style")  # fmt: skip
            use_case = gr.Radio(["video", "image"], value="video", label="Preset model")
            intensity = gr.Slider(0, 1, value=1, step=0.05, label="Intensity")
            keep_color = gr.Checkbox(label="Preserve colours")
            side = gr.Slider(160, 1280, value=480, step=16, label="Longest side (px)")
        cam.stream(
            handler,
            [cam, session, style, use_case, intensity, keep_color, side, *blend_weights],
            out,
            api_name="webcam",
            stream_every=STREAM_EVERY,
            time_limit=TIME_LIMIT,
            concurrency_limit=STREAMS,
            concurrency_id="webcam",
            trigger_mode="multiple",  # what streaming needs ("once" and "always_last" stop after one frame)
            show_progress="hidden",
        )
    return style
