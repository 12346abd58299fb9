"""Webcam: the camera through a model, live, in one of two ways (the "Runs on" radio):

* **in this browser** (the default): the page runs the model itself with ONNX Runtime Web
  (``ui/web/webcam.js``); the server only makes the model's file once (:class:`BrowserModels`,
  :mod:`studio.export.web`) and sends the settings when a control changes, never a frame. When the page
  cannot (no WebAssembly, the runtime not installed: :mod:`ui.ortweb`), it says so and picks the server;
* **on the server**: Gradio streams camera frames to :class:`WebcamFrames`. Style and intensity can change
  while it streams; when the server falls behind, frames are dropped, never queued: Gradio's stream sends the
  camera's current frame when the last result is back, at most every ``STREAM_EVERY`` seconds (measured: a
  handler slowed to 1 s got 7 frames in 12 s, not 120).

Camera frames are held to a pixel limit (:func:`frame_pixels`) from the image's header, before Gradio
decodes them (:func:`guard_camera`); a refused stream shows one message every ``WARN_EVERY`` seconds, not a
popup per frame."""

from __future__ import annotations

import base64
import io
import json
import threading
import time
import urllib.parse
import warnings
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np
from PIL import Image

from studio import Preset, StyleModel
from studio.export.web import export_web, sweep
from studio.infer.frames import FrameStylizer
from studio.limits import limits

from . import ortweb
from .common import user_errors
from .preview_tab import ModelLoader, pick_model

STREAM_EVERY = 0.1  # seconds between frames the page sends (10 fps at most)
TIME_LIMIT = 300  # seconds a stream runs before the page must restart it (frees the slot for others)
STREAMS = 4  # webcam streams served at once
KEPT = 16  # frame engines kept (one per session and style)
WARN_EVERY = 10.0  # seconds between two "frame too large" messages to one session (the stream goes on)
REMEMBERED = 256  # sessions whose last such message is remembered; a forgotten one is just told again
WEB_FILES_KEPT = 64  # the browser's model files kept on disk (most recently used); one is 0.1-7 MB
WEB_MODELS_REMEMBERED = 8  # models whose file is known without hashing their weights again (~10 ms an image model)
WEB = Path(__file__).resolve().parent / "web"  # webcam.js and its worker, served as static files


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


class BrowserModels:
    """What the page needs to stylize in the browser for a style choice (a plain function of the controls,
    kept apart from Gradio so it can be tested directly): the URL of the model's ONNX file (made once per
    model and kept in ``folder``, named by a hash of its weights), the style weights (a blend needs no new
    file), the settings, and where the runtime and the page's script are served."""

    def __init__(self, catalog: Sequence[Preset], load_model: ModelLoader, choices: Callable[..., Any], folder: Path):
        self.catalog, self.load_model, self.choices, self.folder = catalog, load_model, choices, folder
        self._files: OrderedDict[int, tuple[StyleModel, Path]] = OrderedDict()  # id(model) -> (model, file)
        self._lock = threading.Lock()

    def __call__(
        self, sid: str | None, spec: str, case: str, amount: float, keep: bool, side: float, *blend: float
    ) -> dict[str, Any]:
        with user_errors():
            model, style = pick_model(self.catalog, self.load_model, self.choices, sid, spec, case, blend)
            path = self.file(model)
            weights = model.style_vector(style).tolist()  # type: ignore[arg-type]
        runtime = ortweb.installed()
        label = next((name for name, value in self.choices(sid) if value == spec), spec)
        return {
            "model": static_url(path),
            "weights": weights,
            "intensity": float(amount),
            "preserve": bool(keep),
            "side": int(side),
            "label": str(label).removeprefix("Preset: "),
            "ortBase": static_url(runtime) + "/" if runtime else None,
            "wasmBundle": ortweb.WASM_BUNDLE,
            "webgpuBundle": ortweb.WEBGPU_BUNDLE,
            "worker": static_url(WEB / "webcam-worker.js"),
        }

    def file(self, model: StyleModel) -> Path:
        """The browser's file of ``model``: made by :func:`studio.export.web.export_web` the first time."""
        with self._lock:
            known = self._files.get(id(model))
            if known is not None and known[0] is model and known[1].is_file():
                self._files.move_to_end(id(model))
                return known[1]
            path = export_web(model.network, model.config, self.folder)
            self._files[id(model)] = (model, path)
            while len(self._files) > WEB_MODELS_REMEMBERED:  # it holds the models: a few, not every file's
                self._files.popitem(last=False)
            sweep(self.folder, WEB_FILES_KEPT)
            return path


def static_url(path: Path) -> str:
    """The page-relative URL Gradio serves ``path`` at (its folder must be a static path: :func:`build`)."""
    return "gradio_api/file=" + urllib.parse.quote(str(path), safe="/")


PANEL = """
<div class="wl-root">
  <div class="wl-bar">
    <button class="wl-start lg primary">Start camera</button>
    <button class="wl-stop lg secondary" disabled>Stop</button>
    <button class="wl-snap lg secondary" disabled>Snapshot (PNG)</button>
    <label class="wl-check"><input type="checkbox" class="wl-mirror" checked> Mirror</label>
  </div>
  <div class="wl-view"><canvas class="wl-out" width="320" height="240"></canvas>
    <span class="wl-idle">Press <b>Start camera</b>: frames stay on this device.</span></div>
  <div class="wl-stats" aria-live="off"></div>
  <div class="wl-note" role="status"></div>
</div>
"""
PANEL_CSS = """
.wl-bar { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; margin-bottom: 8px; }
.wl-bar button { padding: 6px 14px; border-radius: 8px; cursor: pointer;
  border: 1px solid var(--border-color-primary); }
.wl-bar button.primary { background: var(--button-primary-background-fill); color: var(--button-primary-text-color); }
.wl-bar button:disabled { opacity: 0.45; cursor: default; }
.wl-view { position: relative; background: #111; border-radius: 10px; overflow: hidden; width: 100%;
  aspect-ratio: 4 / 3; max-height: 62vh; display: flex; align-items: center; justify-content: center; }
.wl-out { max-width: 100%; max-height: 100%; width: 100%; height: 100%; object-fit: contain; display: none; }
.wl-live .wl-out, .wl-out[data-shown] { display: block; }
.wl-out.wl-mirrored { transform: scaleX(-1); }
.wl-live .wl-idle { display: none; }
.wl-idle { color: #ccc; padding: 1em; text-align: center; }
.wl-idle b { color: #fff; }
.wl-stats { font-variant-numeric: tabular-nums; margin-top: 6px; opacity: 0.85; }
.wl-note { margin-top: 4px; color: var(--body-text-color); font-weight: 500; }
.wl-server .wl-bar, .wl-server .wl-view, .wl-server .wl-stats { display: none; }
"""
# On the server, the panel keeps only its note (why the browser could not run the model, when it could not).
SHOW_PANEL = """(where) => {
  document.querySelector("#cam-local .wl-root")?.classList.toggle("wl-server", where === "server");
  if (where === "server") window.studioWebcam?.stop();
  return where;
}"""


def panel_script() -> str:
    """The panel's ``js_on_load``: load ui/web/webcam.js once and hand it every new value from the server."""
    module = json.dumps(static_url(WEB / "webcam.js"))
    return f"""
import(new URL({module}, document.baseURI).href).then((m) => {{
  const cam = m.mount(element);
  cam.configure(props.value);
  watch("value", () => cam.configure(props.value));
}}).catch((error) => {{
  const note = element.querySelector(".wl-note");
  if (note) note.textContent = "The in-browser webcam did not load (" + error + "): use the server.";
}});
"""


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
    web_folder: Path,
) -> Any:
    """Returns the style dropdown, for the app to refresh when the session stores a model. ``web_folder`` keeps
    the browser's model files (served to the page, as are ui/web/ and the installed runtime)."""
    handler = WebcamFrames(catalog, load_model, choices)
    browser = BrowserModels(catalog, load_model, choices, web_folder)
    web_folder.mkdir(parents=True, exist_ok=True)
    runtime = ortweb.installed()
    gr.set_static_paths([WEB, web_folder, *([runtime] if runtime else [])])
    with gr.Tab("Webcam", id="webcam") as tab:
        gr.Markdown(
            "Pick a style, then **Start camera**. In this browser, the model runs on your device: frames never "
            "leave it, and style changes apply at once. On the server, press record in the camera box; streams "
            f"stop after {TIME_LIMIT // 60} minutes."
        )
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=300):
                panel = gr.HTML(
                    None, html_template=PANEL, css_template=PANEL_CSS, js_on_load=panel_script(), elem_id="cam-local"
                )
                with gr.Row(visible=False) as server_row:
                    cam = guard_camera(
                        gr.Image(sources=["webcam"], streaming=True, type="numpy", label="Camera", elem_id="cam-in")
                    )
                    out = gr.Image(label="Stylized", interactive=False, elem_id="cam-out")
            with gr.Column(scale=2, min_width=260):
                where = gr.Radio(
                    [("In this browser", "browser"), ("On the server", "server")],
                    value="browser",
                    label="Runs on",
                    elem_id="cam-where",
                )
                style, use_case, intensity, keep_color, side = _controls(initial)
        where.change(
            lambda w: gr.update(visible=w == "server"),
            where,
            server_row,
            js=SHOW_PANEL,
            show_progress="hidden",
            queue=False,
            api_visibility="private",
        )
        controls = [session, style, use_case, intensity, keep_color, side, *blend_weights]
        gr.on(
            [
                tab.select,
                style.change,
                use_case.change,
                intensity.change,
                keep_color.change,
                side.change,
                *(w.change for w in blend_weights),
            ],
            browser,
            controls,
            panel,
            show_progress="hidden",
            trigger_mode="always_last",
            concurrency_id="webcam-browser",
            api_visibility="private",
        )
        _stream(cam, out, handler, controls)
    return style


def _controls(initial: list[tuple[str, str]]) -> tuple[Any, Any, Any, Any, Any]:
    """The settings both paths share: style, preset model, intensity, preserve colours, longest side."""
    style = gr.Dropdown(initial, value=initial[0][1], label="Style", allow_custom_value=True, elem_id="cam-style")
    use_case = gr.Radio(["video", "image"], value="video", label="Preset model (video: the fast one)")
    intensity = gr.Slider(0, 1, value=1, step=0.05, label="Intensity", elem_id="cam-intensity")
    keep_color = gr.Checkbox(label="Preserve colours", elem_id="cam-keep")
    side = gr.Slider(160, 1280, value=320, step=16, label="Longest side (px)", elem_id="cam-side")
    return style, use_case, intensity, keep_color, side


def _stream(cam: gr.Image, out: gr.Image, handler: WebcamFrames, controls: list[Any]) -> None:
    """The server's path: Gradio streams the camera's frames to ``handler``."""
    cam.stream(
        handler,
        [cam, *controls],
        out,
        api_name="webcam",
        stream_every=STREAM_EVERY,
        time_limit=TIME_LIMIT,
        concurrency_limit=STREAMS,
        concurrency_id="webcam",
        trigger_mode="multiple",  # what streaming needs ("once" and "always_last" stop after one frame)
        show_progress="hidden",
    )
