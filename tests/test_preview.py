"""Preview: a quick draft, then the result (studio.preview), and the Preview tab following every change in a
real browser, with downloads named after the photo and the style."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import numpy as np
import pytest
from browser import ARGS, CHROMIUM, needs_chromium
from conftest import synthetic_photo, tiny_model
from PIL import Image

from studio.infer.preview import MIN_DRAFT_SIDE, preview, result_name
from studio.progress import Cancelled


def _photo(w: int, h: int, seed: int = 0) -> Image.Image:
    return Image.fromarray(synthetic_photo(w, h, seed))


def test_a_draft_from_the_faster_model_then_the_result() -> None:
    model, fast = tiny_model(seed=1), tiny_model(seed=2)
    photo = _photo(160, 120)
    steps = list(preview(model, photo, intensity=0.8, max_size=128, draft_model=fast))
    assert [s.final for s in steps] == [False, True]
    draft, result = steps[0].image, steps[1].image
    expected = model.stylize(photo, intensity=0.8, max_size=128)
    assert np.array_equal(np.asarray(result), np.asarray(expected))  # the result is the model's own
    assert draft.size == result.size == (128, 96)  # a fast model drafts at the result's size
    ours = np.asarray(fast.stylize(photo, intensity=0.8, max_size=128), np.float32)
    assert np.abs(np.asarray(draft, np.float32) - ours).mean() < 3  # the draft is the faster model's picture
    assert np.abs(np.asarray(draft, np.float32) - np.asarray(result, np.float32)).mean() > 3


def test_a_model_drafts_itself_smaller_or_not_at_all() -> None:
    model = tiny_model(seed=3)
    photo = _photo(320, 240, 1)
    steps = list(preview(model, photo, draft_seconds=0.0))  # no time at all: the smallest draft
    assert [s.final for s in steps] == [False, True]
    assert max(steps[0].image.size) == MIN_DRAFT_SIDE and steps[1].image.size == (320, 240)
    assert np.array_equal(np.asarray(steps[1].image), np.asarray(model.stylize(photo)))
    alpha = photo.convert("RGBA")
    steps = list(preview(model, alpha, max_size=200, draft_seconds=60.0))  # time enough for the result itself
    assert [s.final for s in steps] == [True] and steps[0].image.mode == "RGBA"


def test_a_stopped_preview_ends_even_inside_the_network_pass() -> None:
    model, fast = tiny_model(seed=4), tiny_model(seed=5)
    photo = _photo(96, 64, 2)
    stopped = threading.Event()
    stopped.set()
    with pytest.raises(Cancelled):  # stopped before anything was made
        list(preview(model, photo, draft_model=fast, cancel=stopped))
    calls = []

    class Stop:  # asked before the draft, before the result, then at every layer: stops mid-pass
        def is_set(self) -> bool:
            calls.append(1)
            return len(calls) > 5

    steps = list(preview(model, photo, draft_model=fast, cancel=Stop()))
    assert [s.final for s in steps] == [False] and len(calls) == 6
    expected = model.stylize(photo)  # the model is untouched: no hook left behind, same result as ever
    assert np.array_equal(np.asarray(list(preview(model, photo, draft_model=fast))[-1].image), np.asarray(expected))


def test_download_names() -> None:
    assert result_name("/tmp/up/Holiday photo.JPG", "ink-wash") == "Holiday-photo-ink-wash.png"
    assert result_name("Été à Paris (1).jpeg", "la_muse · image · 500 it") == "Été-à-Paris-1-la_muse-image-500-it.png"
    assert result_name("../../etc/passwd", "a/b\\c:d") == "passwd-a-b-c-d.png"
    assert result_name("....png", "···") == "photo-style.png"
    long = result_name("x" * 300 + ".png", "blend")
    assert long.endswith("-blend.png") and len(long) < 80


playwright = pytest.importorskip("playwright.sync_api")


@needs_chromium
def test_the_result_follows_the_photo_and_the_style_without_a_button(url: str, tmp_path: Path) -> None:
    _photo(200, 150, 5).save(tmp_path / "my holiday.png")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        try:
            page.goto(url)
            page.get_by_role("tab", name=re.compile("Preview")).first.click()
            # the sample photo is stylized as the tab opens
            page.locator('#preview-download [aria-label="astronaut-cracked-ice.png"]').wait_for(timeout=120_000)
            page.locator("#preview-photo input[type=file]").set_input_files(str(tmp_path / "my holiday.png"))
            page.locator('#preview-download [aria-label="my-holiday-cracked-ice.png"]').wait_for(timeout=120_000)
            assert page.locator("#preview-result img").count() >= 2  # before and after
            assert page.locator("#preview-result").bounding_box()["y"] < 900  # type: ignore[index]
            page.locator("#preview-style input").click()
            page.get_by_role("option", name="Preset: Neon lines").click()
            link = page.locator('#preview-download [aria-label="my-holiday-neon-lines.png"]')
            link.wait_for(timeout=120_000)
            assert "Preset: Neon lines" in page.locator("#preview-caption").inner_text()
            anchor = page.locator("#preview-download a[download]")
            assert anchor.get_attribute("download") == "my-holiday-neon-lines.png"  # the browser saves it so
            with page.expect_download() as info:
                anchor.click()
            assert info.value.suggested_filename == "my-holiday-neon-lines.png"
            saved = tmp_path / "saved.png"
            info.value.save_as(saved)
            assert Image.open(saved).size == (200, 150)
            # the before/after handle by keyboard: focusable, a slider to assistive tech, moved by the arrows
            handle = page.locator('#preview-result [data-testid="slider"]')
            assert handle.get_attribute("tabindex") == "0" and handle.get_attribute("role") == "slider"
            handle.focus()
            x = "() => document.querySelector('#preview-result [data-testid=\"slider\"]').getBoundingClientRect().x"
            start = page.evaluate(x)
            for _ in range(4):
                page.keyboard.press("ArrowLeft")
            page.wait_for_function(f"() => ({x})() < {start - 20}", timeout=5_000)  # the page redraws it
            moved = page.evaluate(x)
            page.keyboard.press("End")
            page.wait_for_function(f"() => ({x})() > {moved + 100}", timeout=5_000)
            # its value is relabelled on the next animation frame
            page.wait_for_function(
                "() => +document.querySelector('#preview-result [data-testid=\"slider\"]')"
                ".getAttribute('aria-valuenow') >= 95",
                timeout=5_000,
            )
            page.screenshot(path=str(tmp_path / "preview.png"))
            print(f"screenshot: {tmp_path / 'preview.png'}")
        finally:
            browser.close()
