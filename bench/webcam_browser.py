"""The Webcam tab's speed in headless Chromium with its fake camera (issue 18): frames a second shown in the page
when the model runs in the browser (WebAssembly, 1 worker and the default one per core; longest side 320 and
480), and when frames stream through the server (the same page, "On the server"), all in one run on this
machine; with the requests the page made to the server while streaming.

    .venv/bin/python bench/webcam_browser.py [--seconds 15] [--style "Preset: Ink wash"]

Prints a table. The studio is served from this process (like the browser tests); the camera is Chromium's
fake device (640x480 test pattern). Needs /usr/bin/chromium and ONNX Runtime Web (./setup.sh installs it).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the browser tests' in-process server and Chromium flags
sys.path.insert(0, str(ROOT))

from browser import ARGS, CHROMIUM, served  # noqa: E402
from playwright.sync_api import Page, sync_playwright  # noqa: E402

CAMERA = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]


def set_side(page: Page, side: int) -> None:
    box = page.locator("#cam-side input[type=number]")
    box.fill(str(side))  # at once: typed key by key, "4" would be refused on the way to 480
    box.press("Tab")
    page.wait_for_function("s => window.studioWebcam?.settings?.side === s", arg=side, timeout=30_000)


def in_browser(page: Page, seconds: float, requests: list[tuple[float, str]]) -> tuple[float, float, int, str]:
    """(frames a second, ms a frame in a worker, requests to the server while streaming, backend)."""
    page.locator("#cam-local .wl-start").click()
    page.wait_for_function("() => window.studioWebcam.frames >= 5", timeout=120_000)  # warmed up
    frames0, t0 = page.evaluate("window.studioWebcam.frames"), time.perf_counter()
    asked = len(requests)
    ms: list[float] = []
    while time.perf_counter() - t0 < seconds:
        page.wait_for_timeout(500)
        ms.append(page.evaluate("window.studioWebcam.frameMs"))
    frames, took = page.evaluate("window.studioWebcam.frames") - frames0, time.perf_counter() - t0
    during = sum("/gradio_api/" in url for _, url in requests[asked:])
    backend = page.evaluate("window.studioWebcam.backendName()")
    page.locator("#cam-local .wl-stop").click()
    return frames / took, sum(ms) / max(1, len(ms)), during, backend


def on_server(page: Page, seconds: float) -> float:
    """Frames a second the server's stream shows (changes of the result image)."""
    page.locator("#cam-where").get_by_text("On the server").click()
    camera = page.locator("#cam-in")
    camera.get_by_role("button", name="Click to Access Webcam").click()
    camera.get_by_role("button", name="capture photo").click()
    page.locator("#cam-out img").first.wait_for(state="visible", timeout=120_000)
    page.evaluate(
        """() => { window.serverFrames = 0; let last = null;
        setInterval(() => { const s = document.querySelector('#cam-out img')?.getAttribute('src');
          if (s && s !== last) { window.serverFrames++; last = s; } }, 10); }"""
    )
    t0 = time.perf_counter()
    page.wait_for_timeout(seconds * 1000)
    return page.evaluate("window.serverFrames") / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=15.0, help="how long each row streams")
    ap.add_argument("--style", default="Preset: Ink wash", help="the style picked (a video preset by default)")
    args = ap.parse_args()
    rows: list[tuple[str, str, str, str, str]] = []
    with tempfile.TemporaryDirectory() as data, served(Path(data)) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS + CAMERA)
        for workers, side in ((1, 320), (0, 320), (0, 480)):
            context = browser.new_context(viewport={"width": 1280, "height": 900}, permissions=["camera"])
            if workers:
                context.add_init_script(f"window.studioWebcamWorkers = {workers};")
            page = context.new_page()
            requests: list[tuple[float, str]] = []
            page.on("request", lambda r, log=requests: log.append((time.perf_counter(), r.url)))
            page.goto(url)
            page.get_by_role("tab", name="Webcam").click()
            page.locator("#cam-style input").click()
            page.get_by_role("option", name=args.style).click()
            page.locator("#cam-local .wl-stats").get_by_text(args.style.removeprefix("Preset: ")).wait_for()
            if side != 320:
                set_side(page, side)
            fps, ms, asked, backend = in_browser(page, args.seconds, requests)
            rows.append((f"in the browser ({backend})", f"{side}", f"{fps:.1f}", f"{ms:.0f}", str(asked)))
            if workers == 0 and side == 320:
                rows.append(("on the server (Gradio stream)", "320", f"{on_server(page, args.seconds):.1f}", "-", "-"))
            context.close()
        browser.close()
    print(
        f"\nWebcam, {args.style}, headless Chromium (fake camera 640x480), {os.cpu_count()} CPU cores, "
        f"{args.seconds:.0f} s a row"
    )
    print("| path | longest side | frames/s | ms a frame (worker) | server requests while streaming |")
    print("| --- | --- | --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
