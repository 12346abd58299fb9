"""Webcam: the camera streamed through a model, live. Style and intensity can change while it streams; when
the server falls behind, frames are dropped, never queued: Gradio's stream sends the camera's current frame
when the last result is back, at most every ``STREAM_EVERY`` seconds (measured: a handler slowed to 1 s got
7 frames in 12 s, not 120).

Camera frames are held to a pixel limit (:func:`frame_pixels`) from the image's header, before Gradio
decodes them (:func:`guard_camera`); a refused stream shows one message every ``WARN_EVERY`` seconds, not a
popup per frame."""

from __future__ import annotations

import base64
import io
import threading
import time
import warnings
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import gradio as gr
import numpy as np
from PIL import Image

from studio import Preset
from studio.infer.frames import FrameStylizer
from studio.limits import limits

from .common import user_errors
from .preview_tab import ModelLoader, pick_model

STREAM_EVERY = 0.1  # seconds between frames the page sends (10 fps at most)
TIME_LIMIT = 300  # seconds a stream runs before the page must restart it (frees the slot for others)
STREAMS = 4  # webcam streams served at once
KEPT = 16  # frame engines kept (one per session and style)
WARN_EVERY = 10.0  # seconds between two "frame too large" messages to one session (the stream goes on)
REMEMBERED = 256  # sessions whose last such message is remembered; a forgotten one is just told again


def frame_pixels() -> int:
    """The largest camera frame taken, in pixels: each is an uploaded image (``STUDIO_MAX_IMAGE_PIXELS``) and
    a video frame (``STUDIO_MAX_VIDEO_PIXELS``, 4K by default: no webcam sends more), so both limits hold."""
    bounds = limits()
    return min(bounds.image_pixels, bounds.video_pixels)


@dataclass(frozen=True)
class Oversized:
    """What the camera component passes on instead of a frame above :func:`frame_pixels` (never decoded)."""

    size: str  # "WIDTHxHEIGHT", or "over N pixels" when the header is past Pillow's own bomb limit


def guard_camera(cam: gr.Image) -> gr.Image:
    """Have ``cam`` check each frame's size from its header before decoding it: a frame above
    :func:`frame_pixels` reaches the handler as :class:`Oversized`, never as pixels. (Gradio decodes every
    streamed frame in full before the handler runs: a 169-megapixel frame is 500 MB of RGB. The instance's
    ``preprocess`` is replaced, as ``ui.common.image_path`` does, rather than subclassing gr.Image.)"""
    original = cam.preprocess

    def preprocess(payload: Any) -> Any:
        if payload is not None:
            size = _header_size(payload)
            if size is not None and (isinstance(size, str) or size[0] * size[1] > frame_pixels()):
                return Oversized(size if isinstance(size, str) else f"{size[0]}x{size[1]}")
        return original(payload)

    cam.preprocess = preprocess  # type: ignore[method-assign]
    return cam


def _header_size(payload: Any) -> tuple[int, int] | str | None:
    """(width, height) as the frame's header states it (Pillow reads no pixels to open it); a description
    when Pillow refuses it as a decompression bomb; None when unreadable (Gradio's own decoding reports it)."""
    try:
        url, path = getattr(payload, "url", None), getattr(payload, "path", None)
        if url and url.startswith("data:"):
            source: Any = io.BytesIO(base64.b64decode(url.partition(",")[2]))
        elif path:
            source = path
        else:
            return None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # judged here, by our limit
            with Image.open(source) as im:
                return im.size
    except Image.DecompressionBombError:
        return f"over {2 * (Image.MAX_IMAGE_PIXELS or 0):,} pixels"
    except (OSError, ValueError):  # not an image, bad base64 (binascii.Error is a ValueError)
        return None


class WebcamFrames:
    """The stream handler, a plain function of (frame, choices) -> stylized frame, kept apart from Gradio
    so it can be tested directly. One :class:`FrameStylizer` per session and model, reconfigured when the
    style or intensity changes (no reload, no recapture of the CUDA graph for a new style)."""

    def __init__(self, catalog: Sequence[Preset], load_model: ModelLoader, choices: Callable[..., Any]) -> None:
        self.catalog, self.load_model, self.choices = catalog, load_model, choices
        self._engines: OrderedDict[tuple[str | None, str, str], tuple[FrameStylizer, threading.Lock]] = OrderedDict()
        self._lock = threading.Lock()
        self._refused: OrderedDict[str | None, float] = OrderedDict()  # session -> when it was last told

    def __call__(
        self,
        frame: np.ndarray | Oversized | None,
        sid: str | None,
        spec: str,
        case: str,
        amount: float,
        keep: bool,
        side: float,
        *blend: float,
    ) -> np.ndarray | None:
        if frame is None:
            return None
        if isinstance(frame, Oversized):
            return self._refuse(sid, frame.size)
        shape = np.shape(frame)
        if len(shape) >= 2 and shape[0] * shape[1] > frame_pixels():  # passed directly, not via guard_camera
            return self._refuse(sid, f"{shape[1]}x{shape[0]}")
        with user_errors():
            model, style = pick_model(self.catalog, self.load_model, self.choices, sid, spec, case, blend)
            with self._lock:
                key = (sid, spec, case)
                if key not in self._engines or self._engines[key][0].model is not model:  # new, or reloaded
                    self._engines[key] = (FrameStylizer(model), threading.Lock())
                    while len(self._engines) > KEPT:
                        self._engines.popitem(last=False)
                self._engines.move_to_end(key)
                engine, lock = self._engines[key]
            rgb = _fit(np.asarray(frame)[..., :3].astype(np.uint8, copy=False), int(side))
            # The engine keeps its settings (and on CUDA its graphs' buffers) between configure and the call:
            # a stream's frames may overlap, so one at a time per engine. The model itself needs no lock.
            with lock:
                engine.configure(style, intensity=float(amount), preserve_color=bool(keep))  # type: ignore[arg-type]
                return engine(rgb)

    def _refuse(self, sid: str | None, size: str) -> None:
        """Refuse a frame: gr.Error the first time and then every ``WARN_EVERY`` seconds per session; between
        those, no output (the camera keeps streaming at 10 frames a second; a popup for each would bury the
        page)."""
        now = time.monotonic()
        with self._lock:
            last = self._refused.get(sid)
            if last is not None and now - last < WARN_EVERY:
                return None
            self._refused[sid] = now
            self._refused.move_to_end(sid)
            while len(self._refused) > REMEMBERED:
                self._refused.popitem(last=False)
        raise gr.Error(
            f"Camera frame refused ({size}): this studio takes frames up to {frame_pixels():,} pixels; "
            "choose a lower camera resolution."
        )


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
            cam = guard_camera(
                gr.Image(sources=["webcam"], streaming=True, type="numpy", label="Camera", elem_id="cam-in")
            )
            out = gr.Image(label="Stylized", interactive=False, elem_id="cam-out")
        with gr.Row():
            style = gr.Dropdown(
                initial, value=initial[0][1], label="Style", allow_custom_value=True, elem_id="cam-style"
            )
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
