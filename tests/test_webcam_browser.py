"""The Webcam tab's in-browser path (issue 18), in Chromium with its fake camera (a moving test pattern):
frames stylized in the page match the server's engine on the same frame, a style change takes effect, no
request reaches the server per frame, and a browser without WebAssembly falls back to the server's stream.

Needs Debian's chromium and ONNX Runtime Web (installed by ./setup.sh into the cache: ``python -m ui.ortweb``);
skips without them. The speeds are measured by ``bench/webcam_browser.py``, not here."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from browser import ARGS, CHROMIUM, needs_chromium
from conftest import synthetic_photo
from PIL import Image

from studio.infer.frames import FrameStylizer
from studio.presets import load_spec
from ui import ortweb

pytestmark = [
    needs_chromium,
    pytest.mark.skipif(ortweb.installed() is None, reason="needs ONNX Runtime Web (./setup.sh installs it)"),
]
CAMERA = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]


def _camera_file(path: Path, frames: int = 4) -> Path:
    """A Y4M clip for Chromium's fake camera: photo-like frames with fine noise. Chromium's own test pattern
    is flat green, where a value near a half level rounds the same way over thousands of pixels at once."""
    rgb = np.stack([synthetic_photo(640, 480, seed=i) for i in range(frames)]).astype(np.float32)
    noise = np.random.default_rng(0).normal(0, 12, rgb.shape)
    rgb = np.clip(rgb + noise, 0, 255)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]  # BT.601 full range, as C420jpeg means
    y = 0.299 * r + 0.587 * g + 0.114 * b
    u = (b - y) * 0.564 + 128
    v = (r - y) * 0.713 + 128
    sub = lambda c: c.reshape(frames, 240, 2, 320, 2).mean(axis=(2, 4))  # noqa: E731 - 4:2:0
    planes = [np.clip(np.rint(c), 0, 255).astype(np.uint8) for c in (y, sub(u), sub(v))]
    with open(path, "wb") as out:
        out.write(b"YUV4MPEG2 W640 H480 F30:1 Ip A1:1 C420jpeg\n")
        for i in range(frames):
            out.write(b"FRAME\n" + b"".join(plane[i].tobytes() for plane in planes))
    return path


@pytest.fixture(scope="module")
def camera_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fake camera's clip, made once for the module (Chromium only reads it)."""
    return _camera_file(tmp_path_factory.mktemp("camera") / "camera.y4m")


@pytest.fixture
def browser_page(url: str, request: pytest.FixtureRequest, camera_clip: Path) -> Iterator[object]:
    """A page on the Webcam tab, camera allowed; ``request.param``: extra Chromium flags."""
    playwright = pytest.importorskip("playwright.sync_api")
    extra = getattr(request, "param", [])
    clip = f"--use-file-for-fake-video-capture={camera_clip}"
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS + CAMERA + [clip] + extra)
        page = browser.new_context(viewport={"width": 1280, "height": 900}, permissions=["camera"]).new_page()
        page.goto(url)
        page.get_by_role("tab", name="Webcam").click()
        try:
            yield page
        finally:
            browser.close()


def _frames_after(page: object, count: int, timeout: float = 60_000) -> None:
    """Wait until ``count`` more frames were shown than now."""
    now = page.evaluate("window.studioWebcam ? window.studioWebcam.frames : 0")  # type: ignore[attr-defined]
    page.wait_for_function(  # type: ignore[attr-defined]
        "n => window.studioWebcam && window.studioWebcam.frames >= n", arg=now + count, timeout=timeout
    )


def _pair(page: object) -> tuple[np.ndarray, np.ndarray]:
    """(camera frame, stylized frame) on screen now, uint8 RGB (H, W, 3)."""
    pair = page.evaluate("window.studioWebcam.lastPair()")  # type: ignore[attr-defined]
    shape = (pair["height"], pair["width"], 4)
    decode = lambda key: np.frombuffer(base64.b64decode(pair[key]), np.uint8).reshape(shape)[..., :3]  # noqa: E731
    return decode("input"), decode("output")


def _server(spec: str, frame: np.ndarray, style: object = None, **settings: object) -> np.ndarray:
    """What the server's stream makes of ``frame``: its frame engine on the CPU (onnxruntime)."""
    return FrameStylizer(load_spec(spec, "video"), style, **settings)(frame)  # type: ignore[arg-type]


def _close(diff: np.ndarray) -> None:
    """Page and server agree up to rounding: float32 on both sides, summed in other orders, so a value near a
    half level may round the other way (rarely: the camera's frames are noisy, see _camera_file)."""
    assert diff.max() <= 2 and (diff > 1).mean() < 0.001 and diff.mean() < 0.05, (diff.max(), diff.mean())


def _pick(page: object, elem_id: str, option: str) -> None:
    page.locator(f"#{elem_id} input").click()  # type: ignore[attr-defined]
    page.get_by_role("option", name=option).click()  # type: ignore[attr-defined]


def test_frames_are_stylized_in_the_page_like_the_server(browser_page: object, tmp_path: Path) -> None:
    page = browser_page
    stats = page.locator("#cam-local .wl-stats")  # type: ignore[attr-defined]
    stats.get_by_text("Cracked ice").wait_for(timeout=30_000)  # the first preset, its model file ready
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))  # type: ignore[attr-defined]
    page.locator("#cam-local .wl-start").click()  # type: ignore[attr-defined]
    _frames_after(page, 3)
    assert "WebAssembly" in stats.inner_text(), stats.inner_text()  # headless, --disable-gpu: no WebGPU
    camera, shown = _pair(page)
    assert camera.shape[:2] == (240, 320)  # the fake camera's 640x480, at the default longest side of 320
    assert camera[..., 1].mean() < camera[..., 2].mean()  # the clip's photos (bluish), not Chromium's green pattern
    expected = _server("preset:cracked-ice", camera)
    diff = np.abs(shown.astype(int) - expected.astype(int))
    _close(diff)
    assert np.abs(shown.astype(int) - camera.astype(int)).mean() > 10  # and it is stylized

    # no request per frame: the model file came once, then frames are made here
    before = len(requests)
    _frames_after(page, 20)
    during = [u for u in requests[before:] if "/gradio_api/" in u]
    assert during == [], during

    # another style, half intensity, colours kept: the settings come once, the frames follow
    _pick(page, "cam-style", "Preset: Ink wash")
    page.locator("#cam-keep input").check()  # type: ignore[attr-defined]
    stats.get_by_text("Ink wash").wait_for(timeout=30_000)
    page.wait_for_function(  # type: ignore[attr-defined]
        "() => window.studioWebcam.settings.preserve === true && window.studioWebcam.loadedModel "
        "=== window.studioWebcam.settings.model",
        timeout=30_000,
    )
    _frames_after(page, 4)
    camera, shown = _pair(page)
    expected = _server("preset:ink-wash", camera, preserve_color=True)
    diff = np.abs(shown.astype(int) - expected.astype(int))
    _close(diff)
    page.screenshot(path=str(tmp_path / "webcam-browser.png"), full_page=True)  # type: ignore[attr-defined]
    print(f"screenshot: {tmp_path / 'webcam-browser.png'}")

    # Snapshot: the frame shown, as a PNG named after the style (mirrored, as the view is by default)
    with page.expect_download() as download:  # type: ignore[attr-defined]
        page.locator("#cam-local .wl-snap").click()  # type: ignore[attr-defined]
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name == "Ink-wash-webcam.png", saved.name
    with Image.open(saved) as png:
        assert png.format == "PNG" and png.size == (320, 240)

    page.locator("#cam-local .wl-stop").click()  # type: ignore[attr-defined]
    assert page.evaluate("window.studioWebcam.running") is False  # type: ignore[attr-defined]
    assert page.locator("#cam-local .wl-start").is_enabled()  # type: ignore[attr-defined]


def _blend(page: object, preset: str, weight: str) -> None:
    """Set a blend weight in the Styles tab's "Mix presets" (opened if closed), then come back."""
    page.get_by_role("tab", name="Styles").click()  # type: ignore[attr-defined]
    box = page.locator(f"#blend-{preset} input[type=number]")  # type: ignore[attr-defined]
    if not box.is_visible():
        page.locator("#blend").get_by_text("Mix presets").click()  # type: ignore[attr-defined]
    box.wait_for(state="visible")
    for _ in range(3):  # the box may re-render while the accordion opens: type again until it holds
        box.click()
        box.press("Control+A")
        box.type(weight)
        box.press("Tab")
        page.wait_for_timeout(300)  # type: ignore[attr-defined]
        if box.input_value() == weight:
            break
    page.get_by_role("tab", name="Webcam").click()  # type: ignore[attr-defined]


def test_a_blend_changes_without_a_new_model_file(browser_page: object) -> None:
    """Blend weights are graph inputs: a new blend reuses the loaded file, and the frames follow it."""
    page = browser_page
    model = load_spec("preset:all", "video")
    names = list(model.config.style_names)
    _pick(page, "cam-style", "Blend of presets (weights in Styles)")
    _blend(page, "cracked-ice", "1")
    page.wait_for_function(  # type: ignore[attr-defined]
        "([i, n]) => window.studioWebcam?.settings?.weights?.length === n && window.studioWebcam.settings.weights[i]",
        arg=[names.index("cracked-ice"), len(names)],
        timeout=30_000,
    )  # the presets' multi-style model, not the single preset picked before
    first = page.evaluate("window.studioWebcam.settings.model")  # type: ignore[attr-defined]
    page.locator("#cam-local .wl-start").click()  # type: ignore[attr-defined]
    _frames_after(page, 2)
    _blend(page, "ink-wash", "1")
    page.wait_for_function(  # type: ignore[attr-defined]
        "i => window.studioWebcam.settings.weights[i] > 0", arg=names.index("ink-wash"), timeout=30_000
    )
    assert page.evaluate("window.studioWebcam.settings.model") == first  # type: ignore[attr-defined]
    weights = page.evaluate("window.studioWebcam.settings.weights")  # type: ignore[attr-defined]
    # leaving the tab stopped the camera (the cores go to the tab shown); Start goes on with the new blend
    assert page.evaluate("window.studioWebcam.running") is False  # type: ignore[attr-defined]
    assert "left the Webcam tab" in page.locator("#cam-local .wl-note").inner_text()  # type: ignore[attr-defined]
    page.locator("#cam-local .wl-start").click()  # type: ignore[attr-defined]
    _frames_after(page, 3)
    camera, shown = _pair(page)
    mix = {names[i]: w for i, w in enumerate(weights) if w > 0}
    assert set(mix) == {"cracked-ice", "ink-wash"}, mix
    expected = FrameStylizer(model, mix)(camera)
    diff = np.abs(shown.astype(int) - expected.astype(int))
    _close(diff)


# V8 without its compilers has no WebAssembly (--noexpose_wasm no longer hides it in Chromium 156)
@pytest.mark.parametrize("browser_page", [["--js-flags=--jitless"]], indirect=True)
def test_without_webassembly_the_server_streams(browser_page: object, tmp_path: Path) -> None:
    """The fallback, and the server's stream itself in the real page (Gradio's streaming webcam component)."""
    page = browser_page
    assert page.evaluate("typeof WebAssembly") == "undefined"  # type: ignore[attr-defined]
    note = page.locator("#cam-local .wl-note")  # type: ignore[attr-defined]
    note.get_by_text("no WebAssembly").wait_for(timeout=30_000)  # said when the tab opens, not at Start
    assert not page.locator("#cam-local .wl-start").is_visible()  # type: ignore[attr-defined]
    assert page.locator('#cam-where input[value="server"]').is_checked()  # type: ignore[attr-defined]
    camera = page.locator("#cam-in")  # type: ignore[attr-defined]
    camera.get_by_role("button", name="Click to Access Webcam").click()
    camera.get_by_role("button", name="capture photo").click()  # streaming: starts recording
    page.locator("#cam-out img").first.wait_for(state="visible", timeout=60_000)  # type: ignore[attr-defined]
    first = page.locator("#cam-out img").first.get_attribute("src")  # type: ignore[attr-defined]
    page.wait_for_function(  # type: ignore[attr-defined]
        "src => document.querySelector('#cam-out img')?.getAttribute('src') !== src", arg=first, timeout=30_000
    )  # a second stylized frame replaced the first: it streams
    page.screenshot(path=str(tmp_path / "webcam-server.png"), full_page=True)  # type: ignore[attr-defined]


# SwiftShader's WebGPU (Chromium's CPU implementation): slow, but the same WebGPU backend of ONNX Runtime Web
# that a laptop's GPU runs, so its frames are checked too (it once computed Conv -> Sigmoid -> Clip wrongly).
@pytest.mark.parametrize(
    "browser_page", [["--enable-unsafe-webgpu", "--use-webgpu-adapter=swiftshader"]], indirect=True
)
def test_webgpu_frames_match_the_server(browser_page: object) -> None:
    page = browser_page
    side = page.locator("#cam-side input[type=number]")  # type: ignore[attr-defined]
    side.fill("160")  # a quarter of the pixels: SwiftShader runs shaders on the CPU
    side.press("Tab")
    page.wait_for_function("() => window.studioWebcam?.settings?.side === 160", timeout=30_000)  # type: ignore[attr-defined]
    page.locator("#cam-local .wl-start").click()  # type: ignore[attr-defined]
    _frames_after(page, 1, timeout=180_000)
    assert "WebGPU" in page.locator("#cam-local .wl-stats").inner_text()  # type: ignore[attr-defined]
    camera, shown = _pair(page)
    assert camera.shape[:2] == (120, 160)
    diff = np.abs(shown.astype(int) - _server("preset:cracked-ice", camera).astype(int))
    _close(diff)
