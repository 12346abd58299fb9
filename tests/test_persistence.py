"""Models outlive the page and the server: a session's models and snapshots, with their names, are back in every
model list after a reload and after a restart, the last picked one picked again; models are named from their
painting(s) and settings, never stored at iteration 0, and downloaded under their own name.

Store-level tests with tiny seeded models (well under a second each), then one real-browser test: a Train
stopped before its first step (stores nothing, but gives the page its session), models added to that
session's store from here, a reload, a pick, a restart (a new app and store on the same data folder, in this
process: a subprocess would add two ~10 s starts). Screenshots go to the test's temp folder (path printed).
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from browser import ARGS, CHROMIUM, needs_chromium, serve
from conftest import stripes, tiny_model
from PIL import Image

from studio import StudioError
from studio.model import StyleModel
from ui import output_tab
from ui.store import ModelStore, file_stem, model_label


def _model(names: tuple[str, ...] = ("la_muse",), iterations: int = 500, seed: int = 0) -> StyleModel:
    model = tiny_model(num_styles=len(names), seed=seed)
    model.config = dataclasses.replace(model.config, style_names=names, iterations=iterations)
    return model


# --- names ---------------------------------------------------------------------------------------------------
def test_models_are_named_from_their_painting_and_settings() -> None:
    assert model_label(_model().config) == "la_muse · video · 500 it"
    assert model_label(_model(iterations=300).config, snapshot=True) == "la_muse · snapshot at 300"
    assert model_label(_model(("la_muse", "wave")).config) == "la_muse + wave · video · 500 it"
    assert model_label(_model(("a", "b", "c", "d")).config) == "a + 3 more · video · 500 it"
    long = model_label(_model(("x" * 90,)).config)
    assert long.startswith("x" * 39 + "…") and len(long) < 70


def test_file_names_are_safe_and_follow_the_label() -> None:
    assert file_stem("la_muse · video · 500 it") == "la_muse-video-500it"
    assert file_stem("la_muse · snapshot at 300") == "la_muse-snapshot-at-300"
    assert file_stem("la_muse · video · 500 it (2)") == "la_muse-video-500it-2"
    assert file_stem("Étude — nuit/../x + wave · image · 5 it") == "Etude-nuit-x-wave-image-5it"
    assert file_stem("「」 · · ") == "style"  # nothing safe left: still a name
    assert len(file_stem("y" * 300)) == 80
    long = "z" * 40 + " + " + "w" * 40  # a long painting part is cut, never the settings that tell models apart
    cut = file_stem(f"{long} · image · 500 it (2)")
    assert len(cut) == 80 and cut.startswith("z" * 40 + "-www") and cut.endswith("w-image-500it-2"), cut


def test_names_are_unique_in_a_session_and_iteration_zero_is_refused(tmp_path: Path) -> None:
    store = ModelStore(tmp_path / "store")
    sid, other = store.new_session(), store.new_session()
    first = store.add(sid, _model())
    again = store.add(sid, _model(seed=1))  # one painting, same settings: a second name
    snap = store.add(sid, _model(iterations=300), snapshot=True)
    assert [first.label, again.label, snap.label] == [
        "la_muse · video · 500 it",
        "la_muse · video · 500 it (2)",
        "la_muse · snapshot at 300",
    ]
    assert store.add(other, _model()).label == "la_muse · video · 500 it"  # per session
    # two paintings whose names differ only in unsafe characters: their files must differ too
    assert store.add(other, _model(("la muse",))).label == "la muse · video · 500 it"
    assert store.add(other, _model(("la-muse",))).label == "la-muse · video · 500 it (2)"
    with pytest.raises(StudioError, match="iteration 0"):
        store.add(sid, _model(iterations=0))
    with pytest.raises(StudioError, match="iteration 0"):
        store.add(sid, _model(iterations=0), snapshot=True)
    assert len(store.entries(sid)) == 3
    assert store.entry(sid, again.key) == again
    with pytest.raises(StudioError, match="another session"):
        store.entry(other, again.key)


def test_two_models_of_one_painting_download_under_different_names(tmp_path: Path) -> None:
    store = ModelStore(tmp_path / "store")
    sid = store.new_session()
    keys = [store.add(sid, _model(seed=s)).key for s in range(2)]
    names = [Path(output_tab.export(store, sid, k, "safetensors")).name for k in keys]
    assert names == ["la_muse-video-500it.safetensors", "la_muse-video-500it-2.safetensors"]


# --- what a restart keeps ------------------------------------------------------------------------------------
def test_models_and_the_last_pick_survive_a_restart(tmp_path: Path) -> None:
    store = ModelStore(tmp_path / "store")
    sid, other = store.new_session(), store.new_session()
    assert store.selection(sid) == (None, None)
    a = store.add(sid, _model())
    b = store.add(sid, _model(iterations=50), snapshot=True)
    theirs = store.add(other, _model()).key
    store.select(sid, f"mine:{a.key}")
    store.select(sid, "preset:ink-wash")  # a preset picked later: the style changes, the model stays
    assert store.selection(sid) == ("preset:ink-wash", a.key)
    store.select(sid, b.key)  # Output's list gives bare keys
    store.select(sid, f"mine:{theirs}")  # another session's model: ignored
    store.select(sid, theirs)
    store.select(sid, "<script>")  # not a choice: ignored
    store.select("0" * 32, "blend")  # not a session: ignored
    assert store.selection(sid) == (f"mine:{b.key}", b.key)

    again = ModelStore(tmp_path / "store")  # a restarted studio on the same data folder
    assert [(e.key, e.label) for e in again.entries(sid)] == [(a.key, a.label), (b.key, b.label)]
    assert again.selection(sid) == (f"mine:{b.key}", b.key)
    assert again.selection(other) == (None, None)
    assert again.load(sid, b.key, device="cpu").config.iterations == 50


def test_a_removed_pick_is_forgotten_and_goes_with_its_session(tmp_path: Path) -> None:
    store = ModelStore(tmp_path / "store", session_limit=10**9, idle_seconds=60)
    sid = store.new_session()
    key = store.add(sid, _model()).key
    store.select(sid, f"mine:{key}")
    store._delete(key)  # evicted (the session's cap) or expired
    assert store.selection(sid) == (None, None)
    store.select(sid, "blend")
    assert store.selection(sid) == ("blend", None)
    store.expire(now=store._cache.get(f"session:{sid}").used + 61)
    assert not store.known(sid) and store._cache.get(f"selected:{sid}") is None


# --- in the real page ----------------------------------------------------------------------------------------


def _options(page: object, box: str, shot: Path | None = None) -> list[str]:
    """The option texts of a dropdown (opened, read, closed); ``shot``: a screenshot while it is open."""
    page.locator(f"{box} input").click()  # type: ignore[attr-defined]
    options = page.get_by_role("option")  # type: ignore[attr-defined]
    options.first.wait_for(timeout=10_000)
    if shot is not None:
        page.wait_for_timeout(300)  # type: ignore[attr-defined]  # its opening fade
        page.screenshot(path=str(shot))  # type: ignore[attr-defined]
    texts = [t.replace("✓", "").strip() for t in options.all_inner_texts()]  # the picked one has a tick
    page.locator("h1").first.click()  # type: ignore[attr-defined]  # closed by a click elsewhere: blurred
    options.first.wait_for(state="detached", timeout=10_000)
    return texts


def _chosen(page: object, box: str) -> str:
    return page.locator(f"{box} input").input_value()  # type: ignore[attr-defined]


@needs_chromium
def test_every_list_shows_the_sessions_models_after_a_reload_and_a_restart(tmp_path: Path) -> None:
    playwright = pytest.importorskip("playwright.sync_api")
    from appserver import free_port

    shots = tmp_path / "shots"
    shots.mkdir()
    data, port = tmp_path / "data", free_port()
    url = f"http://127.0.0.1:{port}/"
    demo = serve(data, port)[0]
    Image.fromarray(stripes(96, 96, period=12)).save(tmp_path / "la_muse.png")
    lists = ["#preview-style", "#video-style", "#cam-style"]
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        try:
            # A Train stopped before its first step: the page gets its session, the store gets no model.
            page.goto(url)
            page.get_by_role("tab", name="Train").click()
            page.locator("#train-styles input[type=file]").set_input_files(str(tmp_path / "la_muse.png"))
            page.locator("#train-go").click()
            status = page.locator("#train-status")
            status.get_by_text(re.compile("Checking the images|preparing")).wait_for(timeout=60_000)  # it has begun
            page.locator("#train-stop").click()
            status.get_by_text("nothing was stored").wait_for(timeout=60_000)
            store = ModelStore(data / "store")  # the studio's store, opened here as another process would
            (sid,) = [k.removeprefix("session:") for k in store._cache.iterkeys() if k.startswith("session:")]
            assert store.entries(sid) == []  # no zero-iteration model
            first = store.add(sid, _model())
            snap = store.add(sid, _model(iterations=300), snapshot=True)
            newest = store.add(sid, _model(("la_muse", "wave"), iterations=200))

            # A reload: every list offers them by name, the newest picked (nothing was picked yet)
            page.reload()
            page.get_by_role("tab", name="Preview").click()
            yours = [f"Yours: {e.label}" for e in (first, snap, newest)]
            page.wait_for_function(
                "v => document.querySelector('#preview-style input')?.value === v", arg=yours[2], timeout=30_000
            )
            assert _options(page, "#preview-style", shots / "reload-preview-list.png")[:3] == yours
            compare = _options(page, "#preview-compare")
            assert compare[1:4] == yours, compare
            page.screenshot(path=str(shots / "reload-preview.png"))
            page.get_by_role("tab", name="Video").click()
            assert _chosen(page, "#video-style") == yours[2] and _options(page, "#video-style")[:3] == yours
            # The user picks the first model in Video: remembered for every list
            page.locator("#video-style input").click()
            page.get_by_role("option", name=yours[0]).click()
            page.wait_for_timeout(500)  # the pick's request (queue=False) goes at once
            assert store.selection(sid) == (f"mine:{first.key}", first.key)

            demo.close()  # a restart: a new app and store on the same data folder, the page kept open
            demo = serve(data, port)[0]
            for attempt in range(3):  # the page may be reconnecting itself as the server comes back
                try:
                    page.goto(url)
                    break
                except playwright.Error:
                    if attempt == 2:
                        raise
                    page.wait_for_timeout(1000)
            page.get_by_role("tab", name="Output").click()
            card = page.locator("#output-card")
            card.get_by_text("la_muse").first.wait_for(timeout=30_000)  # not "Train a model first"
            assert _chosen(page, "#output-models") == first.label
            assert _options(page, "#output-models") == [first.label, snap.label, newest.label]
            # its download is named after it (made as soon as it is picked)
            page.locator("#output-get").get_by_text("la_muse-video-500it.safetensors").wait_for(timeout=30_000)
            page.screenshot(path=str(shots / "restart-output.png"))
            for box, tab in zip(lists, ["Preview", "Video", "Webcam"], strict=True):
                page.get_by_role("tab", name=tab).click()
                assert _chosen(page, box) == yours[0], tab
                assert _options(page, box, shots / f"restart-{tab.lower()}-list.png")[:3] == yours, tab
            page.get_by_role("tab", name="Preview").click()
            page.set_viewport_size({"width": 390, "height": 844})
            page.screenshot(path=str(shots / "restart-preview-phone.png"), full_page=True)
            print(f"screenshots: {shots}")
        finally:
            browser.close()
            demo.close()
