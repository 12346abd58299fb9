"""Models outlive the page and the server: a session's models and snapshots, with their names, are back in every
model list after a reload and after a restart, the last picked one picked again; models are named from their
painting(s) and settings, never stored at iteration 0, and downloaded under their own name.

Store-level tests with tiny seeded models (well under a second each), then one real-browser test: a Train
stopped before its first step (stores nothing, but gives the page its session), models added to that
session's store from here, a reload, a pick, a restart (a new app and store on the same data folder, in this
process: a subprocess would add two ~10 s starts). Screenshots go to the test's temp folder (path printed).

The Train tab's right column (validation image, loss curves, snapshots with their labels, how the last run
ended) is kept in the run folder: its bookkeeping (ui.runs), the handlers with a fake trainer across a
restart, then a real tiny CPU training with a snapshot in Chromium, reloaded and restarted (the same run shows
the Train tab's first viewport and its buttons before, during and after a training: one CPU training for both).
"""

from __future__ import annotations

import dataclasses
import logging
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from browser import ARGS, CHROMIUM, needs_chromium, serve
from conftest import stripes, tiny_model
from PIL import Image
from safetensors.torch import save_file

from studio import Progress, StudioError, TrainConfig
from studio.limits import Limits
from studio.model import StyleModel
from studio.progress import CancelToken
from studio.train.checkpoint import CHECKPOINT_FILE
from studio.train.session import SESSION_FILE, checkpoint_state
from ui import output_tab
from ui.runs import VIEW, View, add_snapshot, read_rows, read_status, read_view, save_progress, save_status
from ui.store import ModelStore, file_stem, model_label
from ui.train_tab import Trainings


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


# --- the Train tab's right column, kept in the run folder ------------------------------------------------------
def _rows(last: int, first: int = 2) -> list[dict[str, Any]]:
    return [
        {"iteration": i, "loss": 1.0 / i, "kind": k} for i in range(first, last + 1, 2) for k in ("style", "content")
    ]


def _pixels(image: Image.Image | None) -> bytes:
    assert image is not None
    return image.convert("RGB").tobytes()


def test_a_runs_curves_image_and_snapshots_are_kept_whole_in_its_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "run-1"
    red, green = Image.new("RGB", (64, 32), (200, 40, 40)), Image.new("RGB", (64, 32), (40, 200, 40))
    assert read_view(folder) == View()  # nothing kept yet: nothing shown, no error
    assert save_progress(folder, _rows(10), red)
    assert add_snapshot(folder, green, "la_muse · snapshot at 4") and add_snapshot(
        folder, red, "la_muse · snapshot at 8"
    )
    assert save_status(folder, "Last training: **la_muse · video · 10 it**, finished")
    shown = read_view(folder)
    assert shown.rows == _rows(10) and _pixels(shown.image) == _pixels(red)
    assert [(_pixels(i), label) for i, label in shown.snapshots] == [
        (_pixels(green), "la_muse · snapshot at 4"),
        (_pixels(red), "la_muse · snapshot at 8"),
    ]
    assert shown.status == "Last training: **la_muse · video · 10 it**, finished"
    assert read_rows(folder, until=4) == _rows(4)  # a resume from the checkpoint at 4 redraws the rest
    save_progress(folder, _rows(12), green)  # the run goes on ("Train more"): its earlier ending is forgotten
    assert read_status(folder) is None

    # A write cut short (the disk fills mid-PNG): logged, not raised (the training goes on); the PNG it was
    # replacing stays whole, and no temporary file is left beside it.
    def half_written(self: Image.Image, fp: Any, format: str | None = None, **params: Any) -> None:
        Path(fp).write_bytes(b"\x89PNG\r\n\x1a\n half a picture")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", half_written)
    with caplog.at_level(logging.WARNING, logger="studio.ui"):
        assert not save_progress(folder, _rows(14), red)
        assert not add_snapshot(folder, red, "la_muse · snapshot at 14")
    monkeypatch.undo()
    assert "No space left on device" in caplog.text
    shown = read_view(folder)
    assert shown.rows == _rows(14) and _pixels(shown.image) == _pixels(green)  # each file whole, old or new
    assert [label for _, label in shown.snapshots] == ["la_muse · snapshot at 4", "la_muse · snapshot at 8"]
    kept = ["latest.png", "rows.json", "snapshot-001.png", "snapshot-002.png", "snapshots.json"]
    assert sorted(p.name for p in (folder / VIEW).iterdir()) == kept

    # A process killed mid-write leaves its temporary file: never read. A file damaged some other way is
    # left out with a warning, and a list naming a file of its own is not followed.
    view = folder / VIEW
    (view / ".rows.json.x1.tmp.json").write_text('[{"iteration": 99, "lo')
    (view / ".latest.png.x2.tmp.png").write_bytes(b"\x89PNG\r\n\x1a\n half")
    assert read_view(folder) == shown
    (view / "rows.json").write_text('[{"iteration": 2, "loss": 0.5, "ki')
    (view / "latest.png").write_bytes(b"\x89PNG\r\n\x1a\n half")
    (view / "snapshots.json").write_text('[{"file": "../../session.json", "label": "x"}, {"file": "snapshot-002.png"}]')
    with caplog.at_level(logging.WARNING, logger="studio.ui"):
        assert read_view(folder) == View()
    assert "rows.json: unreadable" in caplog.text and "ignored a snapshot entry" in caplog.text


class _Trainer:
    """Quacks like studio.Trainer for the Train tab: ``step`` s an iteration, a report (with a validation image)
    every 2, a checkpoint at the end: a run folder as the engine leaves it, but for the session file's content."""

    step = 0.05

    def __init__(
        self,
        styles: list[str] | None,
        content: Any,
        config: TrainConfig,
        *,
        validation: Any = None,
        session_dir: Path,
        cancel: CancelToken,
        start: int = 0,
    ) -> None:
        self.config, self.target, self.iteration, self.cancelled = config, config.iterations, start, False
        self.session_dir, self._cancel, self.device = session_dir, cancel, torch.device("cpu")
        self.validation_image = Image.new("RGB", (32, 32), (90, 90, 200))
        session_dir.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def resume(folder: Path, more: int | None = None, *, cancel: CancelToken) -> _Trainer:
        done, target = checkpoint_state(folder) or (0, 0)
        config = TrainConfig(iterations=done + more if more else target, use_case="video", report_interval=2)
        return _Trainer(None, None, config, session_dir=folder, cancel=cancel, start=done)

    def run(self, report: Callable[[Progress], Any]) -> StyleModel:
        (self.session_dir / SESSION_FILE).write_text("{}")  # the engine writes its session file first
        while self.iteration < self.target and not self._cancel.is_set():
            time.sleep(self.step)
            self.iteration += 1
            if self.iteration % 2 == 0:
                shade = Image.new("RGB", (32, 32), (10 * self.iteration, 0, 0))
                report(
                    Progress(self.iteration, self.target, 2.0 / self.iteration, 1.0, self.step * self.iteration, shade)
                )
        meta = {"iteration": str(self.iteration), "target": str(self.target)}
        save_file({"x": torch.zeros(1)}, str(self.session_dir / CHECKPOINT_FILE), meta)
        self.cancelled = self._cancel.is_set()
        return self.snapshot()

    def snapshot(self) -> StyleModel:
        return _model(iterations=self.iteration)

    def cancel(self) -> None:
        self._cancel.set()

    def release(self) -> None:
        pass


def _trainings(data: Path) -> Trainings:
    """The Train tab's handlers on the data folder ``data``: a new one is a restarted studio."""
    store = ModelStore(data / "store", runs=data / "sessions")
    return Trainings(store, _Trainer, _Trainer.resume, data / "sessions", dataclasses.replace(Limits()))


def test_the_train_tabs_last_run_is_back_after_a_reload_and_a_restart(tmp_path: Path, style_path: Path) -> None:
    tab = _trainings(tmp_path)
    stream = tab.train(None, [str(style_path)], None, None, 5, 256, "video", 10)
    sid = next(stream)[0]
    shots: list[Any] = []
    for out in stream:
        if not shots and str(out[1]).startswith("Iteration"):
            _, shots, label = tab.snapshot(sid, shots)  # pressed while it trains
    live = out
    assert str(live[1]).startswith("Training done at iteration 10") and label.startswith("la_muse · snapshot at ")

    for again in (tab, _trainings(tmp_path)):  # a reload, then a restart on the same data folder
        sid_back, status, models = again.restore(None, sid)
        assert sid_back == sid and len(models["choices"]) == 2
        assert status.startswith("Last training: **la_muse · video · 10 it**, finished (")
        image, plot, gallery = again.view(sid)
        assert _pixels(image) == _pixels(live[2])  # the last validation image
        assert plot["value"].to_dict("records") == live[3].to_dict("records") and plot["x_lim"] == [0, 10]
        assert [g[1] for g in gallery] == [label] and _pixels(gallery[0][0]) == _pixels(shots[0][0])

    restarted = _trainings(tmp_path)
    *_, last = restarted.more(sid, 4)  # Train more after a restart: the curve goes on from the kept rows
    assert str(last[1]).startswith("Training done at iteration 14")
    assert last[3]["iteration"].tolist() == [i for i in range(2, 15, 2) for _ in range(2)]
    assert restarted.last_status(sid).startswith("Last training: **la_muse · video · 14 it**, finished (")
    assert restarted.view(sid)[2][0][1] == label  # the run's snapshot is still in its gallery

    stream = restarted.train(sid, [str(style_path)], None, None, 5, 256, "video", 10)  # a new run, stopped
    for out in stream:
        if str(out[1]).startswith("Iteration") and not restarted.registry.get(sid).stop.is_set():
            restarted.stop(sid)
    reached = int(re.findall(r"at iteration (\d+)", out[1])[0])
    ended = f"Last training: **la_muse · video · {reached} it**, stopped at iteration {reached} of 10 ("
    assert reached < 10 and restarted.restore(None, sid)[1].startswith(ended)
    assert restarted.view(sid)[2] == {"__type__": "update"}  # the new run has no snapshot: no gallery
    folder = restarted.continuable(sid)
    assert folder is not None
    (folder / VIEW / "status.json").unlink()  # as a "Train more" cut short by a restart leaves it
    said = _trainings(tmp_path).restore(None, sid)[1]
    assert said == f"Last training: stopped at iteration {reached} of 10, before its model was stored."


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


def _train_tab_back(page: Any, snap_label: str, done: str) -> None:
    """The Train tab shows the last run: its status line, the gallery with the snapshot's label, the loss
    curves and the last validation image."""
    page.get_by_role("tab", name="Train").click()
    page.locator("#train-status").get_by_text(done).wait_for(timeout=30_000)
    page.locator("#train-snapshots").get_by_text(snap_label).wait_for(timeout=30_000)
    page.locator("#train-snapshots img").first.wait_for(state="visible", timeout=10_000)
    page.locator("#train-preview img").wait_for(state="visible", timeout=10_000)
    page.wait_for_function(  # the preview's image is loaded, not an empty frame
        "() => { const i = document.querySelector('#train-preview img'); return i && i.naturalWidth > 0 }",
        timeout=10_000,
    )
    plot = page.locator("#train-plot")
    plot.locator("canvas, svg").first.wait_for(state="visible", timeout=30_000)
    assert "Losses" in plot.inner_text() and "Empty" not in plot.inner_text()


@needs_chromium
def test_the_train_tab_trains_with_honest_buttons_and_shows_the_last_run_after_a_reload_and_a_restart(
    tmp_path: Path,
) -> None:
    """The Train tab in the first viewport at 1440x900 with honest buttons (nothing to act on yet, a typed value
    out of range, a time limit and its one-click fix), then a real tiny CPU training (video, 10 iterations, a
    snapshot pressed while it runs) and the buttons after it; then a reload and a restart: the Train tab shows
    its status, validation image, loss curves and snapshot gallery again. One training for both (each costs a
    2-core CPU ~20 s): it was test_train_tab.py's test_train_tab_in_the_first_viewport_with_honest_buttons and
    this module's test_the_train_tab_shows_the_last_run_after_a_reload_and_a_restart."""
    playwright = pytest.importorskip("playwright.sync_api")
    from appserver import free_port

    shots = tmp_path / "shots"
    shots.mkdir()
    data, port = tmp_path / "data", free_port()
    url = f"http://127.0.0.1:{port}/"
    demo = serve(data, port)[0]
    Image.fromarray(stripes(96, 96, period=12)).save(tmp_path / "la_muse.png")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        try:
            page.goto(url)
            page.get_by_role("tab", name="Train").click()
            train, stop = page.locator("#train-go"), page.locator("#train-stop")
            snapshot, more = page.locator("#train-snapshot"), page.locator("#train-more")
            train.wait_for(state="visible")
            for button in (train, stop, snapshot, more):
                assert button.is_disabled()  # nothing to train yet
            assert page.locator("#train-resume").is_hidden()
            page.locator("#train-estimate").get_by_text(re.compile(r"About \d+ (s|min)")).wait_for()
            # typed out of range: a message, not a silent clamp
            strength = page.locator("#train-strength input[type=number]")
            strength.fill("99")
            strength.press("Tab")
            page.get_by_text("Style strength: 1 to 10; 99 was changed to 10").wait_for(timeout=10_000)
            # far past the job's time limit: a warning and a one-click fix
            iterations = page.locator("#train-iterations input[type=number]")
            iterations.fill("5000")
            iterations.press("Tab")
            page.locator("#train-estimate").get_by_text("Over this studio's limit").wait_for(timeout=10_000)
            page.locator("#train-fit").click()
            page.locator("#train-fit").wait_for(state="hidden", timeout=10_000)
            assert int(iterations.input_value()) < 5000 and "limit" not in page.locator("#train-estimate").inner_text()

            page.locator("#train-styles input[type=file]").set_input_files(str(tmp_path / "la_muse.png"))
            page.locator("#train-thumbs img").first.wait_for(state="visible")  # the painting's thumbnail
            page.locator("#train-usecase").get_by_text("video").click()
            density = page.locator("#train-density input[type=number]")
            density.fill("1024")  # the loss network sees the style at 128 px, not 512: the start ~3 s sooner
            density.press("Tab")
            iterations.fill("10")
            iterations.press("Tab")
            for box in (train, page.locator("#train-status"), page.locator("#train-estimate")):
                top, bottom = box.bounding_box()["y"], box.bounding_box()["y"] + box.bounding_box()["height"]
                assert 0 <= top and bottom <= 900, (box, top, bottom)  # in the first viewport, no scrolling
            assert page.evaluate("window.scrollY") == 0
            page.screenshot(path=str(shots / "train-ready.png"))
            train.click()
            page.wait_for_function("() => !document.querySelector('#train-stop').disabled", timeout=10_000)
            assert train.is_disabled() and more.is_disabled()
            status = page.locator("#train-status")
            status.get_by_text(re.compile(r"Iteration \d+ of 10 · .* · about \d+ (s|min) left")).wait_for(
                timeout=120_000
            )
            assert not snapshot.is_disabled()
            endless = "() => document.getAnimations().filter(a => a.effect.getTiming().iterations === Infinity)"
            assert page.evaluate(f"{endless}.length") == 0  # no pulse for minutes (ui/common.py's PAGE_CSS)
            page.screenshot(path=str(shots / "train-running.png"))
            snapshot.click()
            gallery = page.locator("#train-snapshots")
            gallery.get_by_text(re.compile(r"la_muse · snapshot at \d")).wait_for(timeout=30_000)
            snap_label = gallery.get_by_text(re.compile(r"la_muse · snapshot at \d")).first.inner_text().strip()
            status.get_by_text("Training done at iteration 10").wait_for(timeout=120_000)
            ended = "[['go', false], ['stop', true], ['snapshot', true], ['more', false]]"
            page.wait_for_function(
                f"() => {ended}.every(([id, off]) => document.querySelector('#train-' + id).disabled === off)",
                timeout=10_000,
            )  # Train and Train more work now; Stop and Snapshot have nothing to act on
            page.wait_for_timeout(1500)  # and it stays so (no late update from the run)
            assert page.evaluate(
                f"() => {ended}.every(([id, off]) => document.querySelector('#train-' + id).disabled === off)"
            )
            page.screenshot(path=str(shots / "trained.png"))
            page.screenshot(path=str(shots / "train-done.png"), full_page=True)

            done = "Last training: la_muse · video · 10 it, finished"
            page.reload()
            _train_tab_back(page, snap_label, done)
            page.screenshot(path=str(shots / "reload-train.png"))
            page.screenshot(path=str(shots / "reload-train-full.png"), full_page=True)  # the gallery's captions

            demo.close()  # a restart: a new app and store on the same data folder
            demo = serve(data, port)[0]
            for attempt in range(3):  # the page may be reconnecting itself as the server comes back
                try:
                    page.goto(url)
                    break
                except playwright.Error:
                    if attempt == 2:
                        raise
                    page.wait_for_timeout(1000)
            _train_tab_back(page, snap_label, done)
            page.screenshot(path=str(shots / "restart-train.png"))
            print(f"screenshots: {shots}")
        finally:
            browser.close()
            demo.close()
