"""Real-browser test: Playwright drives Debian's headless Chromium through the studio like a user.

Skips where /usr/bin/chromium or Playwright is missing. Screenshots go to the test's temp folder (the path
is printed), to be looked at.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import ARGS, CHROMIUM, needs_chromium
from conftest import synthetic_photo
from PIL import Image

pytest.importorskip("gradio")
playwright = pytest.importorskip("playwright.sync_api")

pytestmark = needs_chromium


@pytest.fixture
def page(url: str) -> Iterator[object]:
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(url)
        yield page
        browser.close()


def test_pick_a_preset_and_stylize_a_photo(page: object, tmp_path: Path) -> None:
    Image.fromarray(synthetic_photo(240, 180, 0)).save(tmp_path / "photo.png")
    gallery = page.locator("#preset-gallery img")  # type: ignore[attr-defined]
    gallery.first.wait_for(state="visible", timeout=30_000)
    assert gallery.count() >= 10  # the preset thumbnails
    page.screenshot(path=str(tmp_path / "styles.png"), full_page=True)  # type: ignore[attr-defined]
    page.get_by_role("tab", name="Preview").click()  # type: ignore[attr-defined]
    page.locator("#preview-style input").click()  # type: ignore[attr-defined]
    page.get_by_role("option", name="Preset: Neon lines").click()  # type: ignore[attr-defined]
    page.locator("#preview-photo input[type=file]").set_input_files(str(tmp_path / "photo.png"))  # type: ignore[attr-defined]
    result = page.locator("#preview-result img")  # type: ignore[attr-defined]
    result.first.wait_for(state="visible", timeout=60_000)
    page.wait_for_timeout(500)  # type: ignore[attr-defined]
    page.screenshot(path=str(tmp_path / "preview.png"), full_page=True)  # type: ignore[attr-defined]
    print(f"screenshot: {tmp_path / 'preview.png'}")
    download = page.locator('#preview-download [aria-label="photo-neon-lines.png"]')  # type: ignore[attr-defined]
    download.first.wait_for(state="visible", timeout=30_000)
    page.screenshot(path=str(tmp_path / "preview.png"), full_page=True)  # type: ignore[attr-defined]
    assert result.count() >= 2  # before and after


def test_train_survive_a_crash_resume_and_download(tmp_path: Path) -> None:
    """The whole training flow in the real page, against ``python app.py``, killed (SIGKILL) mid-training:
    after the restart the same browser gets its session back and resumes from the last checkpoint."""
    from appserver import AppServer
    from conftest import stripes

    server = AppServer(tmp_path / "sandbox", STUDIO_CHECKPOINT_INTERVAL="2").start()
    Image.fromarray(stripes(128, 128, period=12)).save(tmp_path / "style.png")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        try:
            page.goto(server.url)
            page.get_by_role("tab", name="Train").click()
            page.locator("#train-styles input[type=file]").set_input_files(str(tmp_path / "style.png"))
            page.locator("#train-usecase").get_by_text("video").click()
            density = page.locator("#train-density input[type=number]")
            density.fill("1024")  # the loss network sees the style at 128 px, not 512: each start ~3 s sooner
            density.press("Enter")
            iterations = page.locator("#train-iterations input[type=number]")
            iterations.fill("8")  # killed after the report at 5: three iterations of margin before the end
            iterations.press("Enter")
            page.locator("#train-go").click()
            preview = page.locator("#train-preview img")
            preview.first.wait_for(state="visible", timeout=120_000)  # the first report, at iteration 5
            page.screenshot(path=str(tmp_path / "training.png"), full_page=True)
            server.kill()  # mid-training: checkpoints were written every 2 iterations
            runs = list((server.data / "sessions").glob("*/run-*"))
            assert len(runs) == 1 and (runs[0] / "checkpoint.safetensors").is_file()
            assert not [f for f in server.data.rglob("*.tmp*")]  # no half-written file survived the kill

            server.start()
            for attempt in range(3):  # the page may be navigating itself as the server comes back (ERR_ABORTED)
                try:
                    page.goto(server.url)
                    break
                except playwright.Error:
                    if attempt == 2:
                        raise
                    page.wait_for_timeout(1000)
            page.get_by_role("tab", name="Train").click()
            page.get_by_text("Training was interrupted at iteration").wait_for(timeout=60_000)
            page.screenshot(path=str(tmp_path / "interrupted.png"), full_page=True)
            page.locator("#train-resume").click()
            page.get_by_text("Training done at iteration 8").wait_for(timeout=180_000)
            page.screenshot(path=str(tmp_path / "train.png"), full_page=True)
            legend = page.locator("#train-plot").get_by_text("content", exact=True)
            assert legend.count() >= 1  # the loss plot drew its lines (its legend names them)
            # Preview now offers the trained model, already selected; stylize a photo with it
            page.get_by_role("tab", name="Preview").click()
            # the trained model is picked when the run ends; the dropdown's update may land just after the tab opens
            playwright.expect(page.locator("#preview-style input")).to_have_value(
                "Yours: style · video · 8 it", timeout=15_000
            )
            Image.fromarray(synthetic_photo(200, 150, 3)).save(tmp_path / "photo.png")
            page.locator("#preview-photo input[type=file]").set_input_files(str(tmp_path / "photo.png"))
            page.locator("#preview-caption").get_by_text("Yours: style").wait_for(timeout=60_000)
            page.screenshot(path=str(tmp_path / "preview-own.png"), full_page=True)
            page.get_by_role("tab", name="Output").click()
            assert page.get_by_role("tab", name="Output").count() == 1
            page.locator("#output-get").get_by_text(".safetensors").wait_for(timeout=60_000)  # prepared when picked
            page.screenshot(path=str(tmp_path / "output.png"), full_page=True)
            print(f"screenshots: {tmp_path}")
            assert re.search(r"Trained for\s+8 iterations", page.locator("#output-card").inner_text())  # the card
            assert server.files_outside_data() == []
        finally:
            browser.close()
            server.stop()
