"""The first steps of a new user: the landing view and its gallery (each preset applied to a built-in photo),
picking a preset leading to a stylized photo and on to Preview, bad uploads refused at upload with the file's
own name, the Output tab's one-click download and model card, and all of it reachable on a phone (390x844).

Unit tests first; then one browser module's worth of tests against one in-process studio (Playwright +
Debian's Chromium; skipped without them). Screenshots go to the test's temp folder (the path is printed).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from browser import ARGS, CHROMIUM, needs_chromium, served
from conftest import stripes, synthetic_photo, tiny_model
from PIL import Image, ImageOps

import studio
from studio.train.content import builtin_content

gr = pytest.importorskip("gradio")

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}


# --- unit ------------------------------------------------------------------------------------------------------
def test_user_messages_name_files_as_the_user_did_and_show_no_server_path() -> None:
    from ui.common import MESSAGE_CHARS, user_message

    upload = "/srv/data/tmp/proc-1/gradio/53f8a1/notaphoto.jpg"
    said = user_message(f"not a readable image: {upload} (unrecognised image format)", {upload: "notaphoto.jpg"})
    assert said == 'not a readable image: "notaphoto.jpg" (unrecognised image format)'
    said = user_message("ffmpeg: [Errno 32] Broken pipe writing /tmp/proc-2/request-x/out.mp4 " + "frame " * 100)
    assert "/tmp" not in said and "Errno" not in said and "Broken pipe writing out.mp4" in said
    assert len(said) <= MESSAGE_CHARS and said.endswith("frame…")  # cut at a word, never mid-word
    assert user_message("ratio 3/4, see http://example.com/a/b") == "ratio 3/4, see http://example.com/a/b"


def test_bad_uploads_are_named_and_good_ones_pass(tmp_path: Path) -> None:
    from ui.common import check_upload

    folder = tmp_path / "gradio" / "53f8a1"
    folder.mkdir(parents=True)
    (folder / "notaphoto.jpg").write_text("hello")
    why = check_upload(str(folder / "notaphoto.jpg"))
    assert why is not None and why.startswith('"notaphoto.jpg" is not an image') and str(tmp_path) not in why
    Image.fromarray(synthetic_photo(80, 60, 0)).save(folder / "photo.png")
    assert check_upload(str(folder / "photo.png")) is None and check_upload(None) is None


def test_gallery_thumbnails_show_each_preset_applied_to_the_sample_photo() -> None:
    """Each thumbnail is the drawing (left) beside the built-in photo (right) in that preset's style: small, the
    left half the drawing, the right half the photo changed, and each preset's right half its own."""
    from ui.styles_tab import thumbnail

    photo = Image.open(builtin_content()[0]).convert("RGB")
    rights = []
    for preset in studio.presets():
        path = Path(thumbnail(preset))
        assert path.name == "thumb.jpg" and path.stat().st_size < 25_000, path
        thumb = Image.open(path).convert("RGB")
        w, h = thumb.size
        assert w == 2 * h
        left, right = (_small(thumb.crop(box)) for box in ((0, 0, h, h), (h, 0, w, h)))
        drawing = _small(ImageOps.fit(Image.open(preset.style_image).convert("RGB"), (h, h)))
        assert np.abs(left - drawing).mean() < 8, preset.name  # the drawing
        assert np.abs(right - _small(ImageOps.fit(photo, (h, h)))).mean() > 20, preset.name  # the photo, restyled
        # not the drawing again: the same drawing measures < 8 (the check above); a strong style shares its
        # palette (swirling-sky's photo, all blue swirls, measures 19)
        assert np.abs(right - drawing).mean() > 12, preset.name
        rights.append(right)
    for i in range(len(rights) - 1):
        assert np.abs(rights[i] - rights[i + 1]).mean() > 5  # each preset's own result


def _small(image: Image.Image) -> np.ndarray:
    """Colours and layout without the fine texture (which JPEG and resampling change)."""
    return np.asarray(image.resize((24, 24), Image.Resampling.BOX), np.float32)


@pytest.mark.slow  # the real loss network
def test_quicklook_stops_when_the_image_stops_changing() -> None:
    reports: list[studio.QuickLookProgress] = []
    style, photo = stripes(96, 96, period=10), synthetic_photo(96, 72, 2)
    studio.quicklook(
        style,
        photo,
        size=64,
        iterations=2000,
        max_seconds=300,
        device="cpu",
        settle=0.3,
        report_interval=3,
        on_progress=reports.append,
    )
    assert reports[-1].settled and reports[-1].iteration < 2000
    assert not any(r.settled for r in reports[:-1])
    reports.clear()
    studio.quicklook(
        style,
        photo,
        style_density=1024,  # the style at 128 px, not 512: what is checked here does not depend on it
        size=64,
        iterations=6,
        max_seconds=300,
        device="cpu",
        report_interval=3,
        on_progress=reports.append,
    )
    assert [r.iteration for r in reports] == [3, 6] and not reports[-1].settled  # without settle: every step


def test_model_card_says_the_settings_in_words_and_shows_the_painting_and_a_result(tmp_path: Path) -> None:
    from studio.train.session import write_session
    from ui.output_tab import card, card_picture, painting
    from ui.store import ModelStore

    store = ModelStore(tmp_path / "store", runs=tmp_path / "runs")
    sid = store.new_session()
    model = tiny_model()
    model.config = dataclasses.replace(model.config, style_names=("la_muse",), iterations=40, style_strength=7.0)
    key = store.add(sid, model).key
    text = card(store, sid, key)
    assert "Trained for** 40 iterations" in text and "Style strength** 7 of 10" in text and "la_muse" in text
    assert "|" not in text  # words, not a bare table
    run = tmp_path / "runs" / sid / "run-1"
    art = stripes(64, 64, period=8)
    write_session(
        run,
        config=studio.TrainConfig(),
        recipe="studio",
        style_arrays=[art.astype(np.float32) / 255],
        style_names=["la_muse"],
        validation=Image.fromarray(art),
        content=None,
        target=40,
    )
    found = painting(store.runs, sid, ("la_muse",))
    assert found is not None and painting(store.runs, sid, ("other",)) is None
    path = card_picture(store.load(sid, key, device="cpu"), tmp_path / "card", found, str(builtin_content()[0]))
    sheet = Image.open(path)
    assert sheet.size == (512, 256)


# --- in the browser -------------------------------------------------------------------------------------------
playwright = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def studio_page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One in-process studio for the module; the sessions it issues are recorded (to give one a model)."""
    from ui.store import ModelStore

    issued: list[str] = []
    original = ModelStore.new_session

    def recorded(self: ModelStore) -> str:
        sid = original(self)
        issued.append(sid)
        return sid

    data = tmp_path_factory.mktemp("data")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ModelStore, "new_session", recorded)
        with served(data) as url, playwright.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            yield {"url": url, "browser": browser, "issued": issued, "data": data}
            browser.close()


def _open(studio_page: dict[str, Any], viewport: dict[str, int]) -> Any:
    page = studio_page["browser"].new_context(viewport=viewport, accept_downloads=True).new_page()
    page.goto(studio_page["url"])
    page.locator("#preset-gallery img").first.wait_for(state="visible", timeout=30_000)
    return page


@needs_chromium
def test_landing_says_what_to_do_and_a_picked_preset_shows_on_a_photo(studio_page: dict, tmp_path: Path) -> None:
    page = _open(studio_page, DESKTOP)
    header = page.locator("#header").inner_text()
    assert "1 Styles" in header and "2 Train" in header and "3 Preview" in header and "4 Output" in header
    tabs = [t.inner_text() for t in page.get_by_role("tab").all()]
    assert tabs[:4] == ["Styles", "Train", "Preview", "Output"]  # Create ML's order
    captions = page.locator("#preset-gallery .caption-label")
    assert captions.count() == len(studio.presets())
    for i in range(captions.count()):  # captions whole: no ellipsis, no overflow
        assert captions.nth(i).evaluate("e => e.scrollWidth <= e.clientWidth + 1"), captions.nth(i).inner_text()
    page.screenshot(path=str(tmp_path / "landing-desktop.png"))
    page.locator("#preset-gallery .thumbnail-item").nth(3).click()  # Neon lines
    tried = page.locator("#styles-tried img")
    tried.first.wait_for(state="visible", timeout=60_000)
    page.get_by_text("Refining").wait_for(state="detached", timeout=60_000)
    assert tried.count() >= 2 and page.locator("#styles-about").get_by_text("Neon lines").count() == 1
    before, after = (tried.nth(i).get_attribute("src") for i in range(2))
    assert before != after
    page.screenshot(path=str(tmp_path / "picked-desktop.png"))
    page.locator("#styles-use").click()
    page.get_by_role("tab", name="Preview", selected=True).wait_for(timeout=10_000)
    assert page.locator("#preview-style input").input_value() == "Preset: Neon lines"
    print(f"screenshots: {tmp_path}")


@needs_chromium
def test_phone_reaches_every_preset_and_tab_with_nothing_sideways(studio_page: dict, tmp_path: Path) -> None:
    page = _open(studio_page, PHONE)
    for tab in page.get_by_role("tab").all():  # no "…" menu: every tab is on the page, inside its width
        box = tab.bounding_box()
        assert tab.is_visible() and box is not None and 0 <= box["x"] and box["x"] + box["width"] <= PHONE["width"]
    assert page.get_by_role("tab").count() == 6
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways page scroll
    gallery = page.locator("#preset-gallery .grid-wrap")
    assert gallery.evaluate("e => e.scrollWidth <= e.clientWidth && e.scrollHeight <= e.clientHeight + 1")
    items = page.locator("#preset-gallery .thumbnail-item")
    assert items.count() == len(studio.presets())
    for i in range(items.count()):
        items.nth(i).scroll_into_view_if_needed()
        box = items.nth(i).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        assert box["width"] >= 120  # big enough to see
    page.screenshot(path=str(tmp_path / "landing-phone.png"), full_page=True)
    print(f"screenshot: {tmp_path / 'landing-phone.png'}")


@needs_chromium
def test_the_keyboard_reaches_every_tab_and_preset_opens_a_tab_and_moves_a_slider(studio_page: dict) -> None:
    page = _open(studio_page, DESKTOP)
    focused = "() => { const e = document.activeElement; return [e.getAttribute('role'), e.innerText.trim()]; }"
    reached = []
    for _ in range(len(studio.presets()) + 8):  # from the top of the page: the tabs, then the gallery
        page.keyboard.press("Tab")
        reached.append(tuple(page.evaluate(focused)))
    tabs = [text for role, text in reached if role == "tab"]
    assert tabs == ["Styles", "Train", "Preview", "Output", "Video", "Webcam"]  # in Create ML's order
    assert {p.title for p in studio.presets()} <= {text for _, text in reached}  # every preset by keyboard
    page.get_by_role("tab", name="Train").focus()
    page.keyboard.press("Enter")
    assert page.get_by_role("tab", selected=True).inner_text() == "Train"
    strength = page.locator("#train-strength input[type=range]")
    before = float(strength.input_value())
    strength.focus()
    page.keyboard.press("ArrowRight")
    assert float(strength.input_value()) > before  # a slider moves from the keyboard


@needs_chromium
def test_a_non_image_upload_is_refused_at_upload_by_its_own_name(studio_page: dict, tmp_path: Path) -> None:
    page = _open(studio_page, DESKTOP)
    bad = tmp_path / "notaphoto.jpg"
    bad.write_text("this is not a photo")
    page.locator("#ql-style input[type=file]").set_input_files(str(bad))
    toast = page.locator(".toast-body").get_by_text("notaphoto.jpg")
    toast.first.wait_for(timeout=20_000)
    said = toast.first.inner_text()
    assert '"notaphoto.jpg" is not an image' in said
    text = page.locator("body").inner_text()
    assert "/tmp" not in text and "gradio/" not in text and "Errno" not in text
    page.wait_for_timeout(500)
    assert page.locator("#ql-style img").count() == 0  # removed from the box again
    assert page.locator("#ql-result .error:visible").count() == 0  # no "Error" badge on a box that did not fail
    assert page.locator("#ql-result img").count() == 0  # and no quick look started
    page.screenshot(path=str(tmp_path / "bad-upload.png"))


@needs_chromium
def test_output_downloads_in_one_click_and_shows_a_model_card(studio_page: dict, tmp_path: Path) -> None:
    from ui.store import ModelStore

    page = _open(studio_page, DESKTOP)
    # A page gets its session when it first needs one: a training start issues it (stopped before any step)
    Image.fromarray(stripes(96, 96, period=10)).save(tmp_path / "la_muse.png")
    page.get_by_role("tab", name="Train").click()
    page.locator("#train-styles input[type=file]").set_input_files(str(tmp_path / "la_muse.png"))
    page.locator("#train-go:not([disabled])").wait_for(timeout=30_000)
    page.locator("#train-go").click()
    page.locator("#train-stop:not([disabled])").wait_for(timeout=30_000)
    page.locator("#train-stop").click()
    page.locator("#train-go:not([disabled])").wait_for(timeout=60_000)  # the run is over
    assert studio_page["issued"], "the training start issued no session"
    sid = studio_page["issued"][-1]
    store = ModelStore(studio_page["data"] / "store")  # the studio's store, opened beside it
    model = tiny_model()
    model.config = dataclasses.replace(model.config, style_names=("la_muse",), iterations=30)
    store.add(sid, model)
    page.reload()  # the page lists the session's models again, the newest picked
    page.get_by_role("tab", name="Output").click()
    button = page.locator("#output-get")
    page.locator("#output-get:not([disabled])").wait_for(timeout=60_000)
    assert "la_muse-video-30it.safetensors" in button.inner_text()
    with page.expect_download() as download:
        button.click()  # one click: the file
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name == "la_muse-video-30it.safetensors"
    assert studio.load(saved).config.iterations == 30
    card = page.locator("#output-card").inner_text()
    assert "Trained for 30 iterations" in card and "Style strength 5 of 10" in card
    page.locator("#output-picture img").wait_for(state="visible", timeout=30_000)  # a photo in its style
    page.screenshot(path=str(tmp_path / "output.png"), full_page=True)
    print(f"screenshot: {tmp_path / 'output.png'}")
