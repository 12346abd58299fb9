"""Holding under attack, server side: a request's zips and pixels share one budget, Stop and time limits work
in every phase, finished trainings release their memory, model keys and sessions cannot be guessed or
borrowed, eviction never touches another session, and nothing a request writes outlives it.

Mostly the engine, the store and the tabs' handlers called directly (a stand-in trainer where training
itself is not the point), plus one in-process studio for what only the queue shows; well under a minute.
"""

from __future__ import annotations

import dataclasses
import gc
import io
import json
import logging
import os
import socket
import struct
import threading
import time
import uuid
import weakref
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import gradio as gr
import httpx
import numpy as np
import pytest
import torch
from conftest import synthetic_photo, tiny_model
from PIL import Image

from studio import StudioError, TrainConfig, Trainer
from studio.limits import Budget, Limits
from studio.model import StyleModel
from studio.progress import Cancelled, CancelToken
from studio.train.checkpoint import CHECKPOINT_FILE
from studio.train.content import gather_content, load_pool, resolve_content, unpack_zip
from studio.train.session import SESSION_FILE
from studio.train.trainer import Progress
from ui import output_tab, preview_tab, train_tab
from ui.app import build_app, process_tmp
from ui.store import ModelStore

MB = 1 << 20


# --- files ---------------------------------------------------------------------------------------------------
def _png(seed: int, size: int = 48) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(synthetic_photo(size, size, seed)).save(buffer, format="PNG")
    return buffer.getvalue()


def _png_claiming(width: int, height: int) -> bytes:
    """A 1x1 PNG whose header claims width x height: only a header read can take its size."""
    buffer = io.BytesIO()
    Image.new("RGB", (1, 1)).save(buffer, format="PNG")
    data = bytearray(buffer.getvalue())
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])) & 0xFFFFFFFF)
    return bytes(data)


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def _zeros_zip(path: Path, members: int, mb: int) -> Path:
    """``members`` .bmp members of ``mb`` MB of zeros each: a few kilobytes that inflate to a lot."""
    chunk = bytes(MB)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for i in range(members):
            with z.open(f"scan-{i}.bmp", "w") as f:
                for _ in range(mb):
                    f.write(chunk)
    return path


@pytest.fixture(scope="module")
def big_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _zeros_zip(tmp_path_factory.mktemp("zips") / "scans.zip", 4, 64)  # 256 MB unpacked, ~1 MB zipped


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


# --- 1. zip budgets per request -------------------------------------------------------------------------------
def test_zip_budget_is_summed_over_a_requests_zips_and_a_refusal_leaves_nothing(tmp_path: Path) -> None:
    a = _zip(tmp_path / "a.zip", {f"{i}.png": _png(i) for i in range(3)})
    b = _zip(tmp_path / "b.zip", {f"{i}.png": _png(i + 3) for i in range(3)})
    each = sum(m.file_size for m in zipfile.ZipFile(a).infolist())
    out = tmp_path / "content"
    # each zip is within the bounds; together they are not: refused at the second, the first removed too
    with pytest.raises(StudioError, match=r"b\.zip holds 3 images \(3 more before it\); the limit is 5 a training"):
        gather_content([a, b], out, Budget(files=5, content_bytes=10 * MB))
    assert not out.exists()
    with pytest.raises(
        StudioError,
        match=r"b\.zip unpacks to 0 MB of images with the files before it.*"
        "STUDIO_MAX_CONTENT_BYTES",
    ):
        gather_content([a, b], out, Budget(files=100, content_bytes=each + each // 2))
    assert not out.exists()
    # the engine's own entry point sums its zips the same way, and removes what it unpacked
    with pytest.raises(StudioError, match="b.zip holds 3 images"):
        resolve_content([a, b], unzip_to=tmp_path / "engine", budget=Budget(files=5))
    assert _files(tmp_path / "engine") == []
    # a loose photo counts too, and the request's folder holds links or copies of everything it uses
    (tmp_path / "loose.png").write_bytes(_png(9))
    paths = gather_content([a, tmp_path / "loose.png"], out, Budget(files=4))
    assert len(paths) == 4 and all(out in p.parents for p in paths)


def test_bytes_are_counted_as_they_inflate_not_as_declared(tmp_path: Path) -> None:
    # a member whose header claims 5 MB but inflates to 1 MB: the budget holds the real megabyte
    liar = _zip(tmp_path / "liar.zip", {"big.png": bytes(MB)})
    data = bytearray(liar.read_bytes())
    central = data.rfind(b"PK\x01\x02")
    data[central + 24 : central + 28] = struct.pack("<I", 5 * MB)
    liar.write_bytes(bytes(data))
    budget = Budget(content_bytes=6 * MB)
    unpack_zip(liar, tmp_path / "out", budget=budget)
    assert budget.bytes_used == MB


def test_unpacking_stops_at_the_first_megabyte_over_the_budget(tmp_path: Path, big_zip: Path) -> None:
    # zipfile never inflates past a member's declared size, so real bytes over a budget that the declared
    # sizes fit are simulated: a budget whose real room (67 MB) is smaller than the room it declares (2 GB)
    counted: list[int] = []

    class Smaller(Budget):
        def add_bytes(self, count: int, what: str) -> None:
            counted.append(count)
            if sum(counted) > 67 * MB:
                raise StudioError(f"{what}: over the limit")

    with pytest.raises(StudioError, match="scans.zip: over the limit"):
        unpack_zip(big_zip, tmp_path / "out", budget=Smaller())
    assert sum(counted) <= 68 * MB  # counted a megabyte at a time as it inflates; stopped at the first excess
    assert _files(tmp_path / "out") == []


# --- 2. memory and pixels per request -------------------------------------------------------------------------
def test_pixel_budgets_are_checked_from_headers_before_decoding(tmp_path: Path) -> None:
    claims = []
    for i in range(3):
        claims.append(tmp_path / f"style-{i}.png")
        claims[-1].write_bytes(_png_claiming(9000, 9000))  # 81 MP each, within the 100 MP per image
    start = time.monotonic()
    with pytest.raises(
        StudioError,
        match=r"style style-1\.png: the style images come to more than 100,000,000 "
        r"pixels together.*STUDIO_MAX_STYLE_PIXELS",
    ):
        from studio.train.content import check_pixels

        check_pixels(claims, Budget.of(Limits()), "style", style=True)
    zipped = _zip(tmp_path / "p.zip", {f"{i}.png": _png_claiming(9000, 9000) for i in range(20)})
    with pytest.raises(StudioError, match=r"p\.zip: 12\.png: this training's images .*STUDIO_MAX_REQUEST_PIXELS"):
        gather_content([zipped], tmp_path / "c", Budget.of(Limits()))  # 13 x 81 MP > 1,000 MP: at the 13th
    assert time.monotonic() - start < 5 and not (tmp_path / "c").exists()


def test_a_finished_trainer_releases_its_images(style_path: Path, content_dir: Path) -> None:
    big = content_dir / "big.png"
    Image.fromarray(synthetic_photo(1200, 900, 7)).save(big)
    trainer = Trainer(big, content_dir, TrainConfig(iterations=5), device="cpu")
    held = sum(a.nbytes for a in trainer.style_arrays) + trainer.validation_array.nbytes
    assert held > 10 * MB
    trainer.release()
    assert trainer.style_arrays == [] and trainer.validation_array.nbytes <= 256 * 256 * 3 * 4
    assert trainer.validation_image.size[0] <= 256


# --- a stand-in trainer and the Train tab's handlers ----------------------------------------------------------
def _model(iterations: int) -> StyleModel:
    model = tiny_model()
    model.config = dataclasses.replace(model.config, iterations=iterations)
    return model


class FakeTrainer:
    """Quacks like studio.Trainer for the Train tab: each iteration takes ``step`` seconds; holds a big array
    as a real trainer holds its decoded images."""

    made: list[weakref.ref[FakeTrainer]] = []
    step = 0.01
    setup = 0.0  # seconds "decoding" in the constructor, polling the cancel flag as the engine does

    def __init__(
        self,
        styles: list[str],
        content: Any,
        config: TrainConfig,
        *,
        validation: Any = None,
        session_dir: Path,
        cancel: Any,
    ) -> None:
        self.config, self.target, self.iteration = config, config.iterations, 0
        self.device = torch.device("cpu")
        self.session_dir, self._cancel = session_dir, cancel
        self.cancelled = self.running = self.released = False
        self.decoded = np.ones(20 * MB, np.uint8)
        deadline = time.monotonic() + self.setup
        while time.monotonic() < deadline:
            if cancel.is_set():
                raise Cancelled("stopped while decoding")
            time.sleep(0.01)
        session_dir.mkdir(parents=True, exist_ok=True)
        (session_dir / SESSION_FILE).write_text("{}")
        FakeTrainer.made.append(weakref.ref(self))

    def estimated_seconds(self) -> None:
        return None

    @property
    def validation_image(self) -> Image.Image:
        return Image.new("RGB", (32, 32))

    def run(self, on_progress: Callable[[Progress], Any]) -> StyleModel:
        if self._cancel.is_set():
            raise Cancelled("stopped before the first iteration")
        while self.iteration < self.target and not self._cancel.is_set():
            time.sleep(self.step)
            self.iteration += 1
            on_progress(Progress(self.iteration, self.target, 1.0, 1.0, 0.0, None))
        self.cancelled = self._cancel.is_set()
        return _model(self.iteration)

    def cancel(self) -> None:
        self._cancel.set()

    def snapshot(self) -> StyleModel:
        return _model(self.iteration)

    def release(self) -> None:
        self.decoded, self.released = None, True


@dataclasses.dataclass
class TrainTab:
    fns: dict[str, Callable[..., Any]]
    restore: Callable[..., Any]
    store: ModelStore
    workdir: Path

    def train(self, sid: str | None, styles: list[Path], content: list[Path] | None = None, n: int = 10) -> list:
        return list(
            self.fns["train"](
                sid, [str(p) for p in styles], content and [str(p) for p in content], None, 5, 256, "video", n
            )
        )


def _train_tab(tmp: Path, trainer: type[FakeTrainer] = FakeTrainer, **limits: Any) -> TrainTab:
    bounds = dataclasses.replace(Limits(), **limits)
    store = ModelStore(tmp / "store", bounds.store_bytes, bounds.session_bytes, runs=tmp / "sessions")
    with gr.Blocks() as demo:
        shared = train_tab.build(store, trainer, trainer, tmp / "sessions", bounds)
    fns = {f.api_name: f.fn for f in demo.fns.values() if f.api_name}
    return TrainTab(fns, shared["load"][0], store, tmp / "sessions")


def _in_thread(fn: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    out: list[Any] = []

    def work() -> None:
        try:
            out.append(fn())
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            out.append(exc)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread, out


def test_finished_trainings_release_their_trainer_and_store_what_they_trained(tmp_path: Path, style_path: Path) -> None:
    FakeTrainer.made.clear()
    tab = _train_tab(tmp_path)
    first = tab.train(None, [style_path], n=5)
    sid, status, *_, models = first[-1]
    assert "done at iteration 5" in status and models["value"]
    second = tab.train(sid, [style_path], n=5)
    assert "done at iteration 5" in second[-1][1]
    del first, second
    gc.collect()
    assert FakeTrainer.made and all(ref() is None for ref in FakeTrainer.made)  # no finished trainer is kept
    assert len(tab.store.entries(sid)) == 2
    assert len(list((tab.workdir / sid).glob("run-*"))) == 1  # one run folder a session: what Train more continues
    FakeTrainer.made.clear()


# --- 3. Stop and time limits in every phase -------------------------------------------------------------------
def test_stop_while_unpacking_answers_within_two_seconds_and_leaves_nothing(tmp_path: Path, big_zip: Path) -> None:
    stop = CancelToken()
    out = tmp_path / "content"

    def set_when_unpacking() -> float:
        while not _files(out):
            time.sleep(0.002)
        stop.set()
        return time.monotonic()

    watcher, stopped_at = _in_thread(set_when_unpacking)
    with pytest.raises(Cancelled, match="stopped while unpacking scans.zip"):
        gather_content([big_zip], out, Budget(), stop)
    ended = time.monotonic()
    watcher.join(5)
    assert ended - stopped_at[0] < 2.0 and not out.exists()


def test_stop_works_while_decoding_and_loading(tmp_path: Path, style_path: Path, content_dir: Path) -> None:
    stop = CancelToken()
    stop.set()
    with pytest.raises(Cancelled, match="decoding the content photos"):
        load_pool(sorted(content_dir.iterdir()), 64, torch.device("cpu"), cancel=stop)
    with pytest.raises(Cancelled, match="decoding the style images"):
        Trainer(style_path, content_dir, TrainConfig(iterations=5), device="cpu", cancel=stop)
    trainer = Trainer(style_path, content_dir, TrainConfig(iterations=5), device="cpu", session_dir=tmp_path / "s")
    trainer.cancel()  # before run: it stops before writing or loading anything, with nothing to return
    with pytest.raises(Cancelled, match="stopped while preparing the run"):
        trainer.run()
    assert not (tmp_path / "s").exists()
    # the time limit counts from the request's start
    late = CancelToken(0.05)
    assert not late.is_set()
    time.sleep(0.1)
    with pytest.raises(Cancelled, match=r"limit of 0\.05 s a job ran out \(STUDIO_MAX_TRAIN_SECONDS\)"):
        late.check("unpacking")


def test_stop_during_a_requests_setup_stores_nothing_and_frees_the_slot(tmp_path: Path, style_path: Path) -> None:
    FakeTrainer.setup = 30.0  # decoding "forever", unless stopped
    try:
        tab = _train_tab(tmp_path)
        it = tab.fns["train"](None, [str(style_path)], None, None, 5, 256, "video", 10)
        sid = next(it)[0]  # "Checking the images…": the request has started
        thread, out = _in_thread(lambda: list(it))
        time.sleep(0.2)
        start = time.monotonic()
        assert tab.fns["stop"](sid) == train_tab.STOPPING
        thread.join(5)
        assert time.monotonic() - start < 2.0
        status = out[0][-1][1]
        assert status == "Training stopped at iteration 0, before its first step: nothing was stored."
        assert tab.store.entries(sid) == [] and list((tab.workdir / sid).glob("run-*")) == []
        assert tab.fns["stop"](sid) == "Nothing is training."  # the request is over: the session may train again
        # the job's time limit runs from the request's start: here it ends during the setup
        tab = _train_tab(tmp_path / "timed", train_seconds=0.3)
        status = tab.train(None, [style_path])[-1][1]
        assert "stopped at iteration 0 (this studio's limit of 0.3 s a job, STUDIO_MAX_TRAIN_SECONDS)" in status
    finally:
        FakeTrainer.setup = 0.0


class StoppedBeforeItsFirstStep(FakeTrainer):
    """Stop pressed once the setup is done, before the first iteration: its run raises Cancelled."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._cancel.set()


def test_a_stop_before_the_first_iteration_reads_as_a_stop_not_an_error(tmp_path: Path, style_path: Path) -> None:
    assert not issubclass(Cancelled, ValueError)  # no `except StudioError` takes it for a refusal
    tab = _train_tab(tmp_path, StoppedBeforeItsFirstStep)
    sid, status, *_ = tab.train(None, [style_path])[-1]  # no gr.Error: the stream ends with the status
    assert status == "Training stopped at iteration 0, before its first step: nothing was stored."
    assert tab.store.entries(sid) == [] and list((tmp_path / "sessions" / sid).glob("run-*")) == []


def test_stop_during_training_keeps_the_model_so_far(tmp_path: Path, style_path: Path) -> None:
    FakeTrainer.step = 0.05
    try:
        tab = _train_tab(tmp_path)
        it = tab.fns["train"](None, [str(style_path)], None, None, 5, 256, "video", 1000)
        sid = next(it)[0]
        thread, out = _in_thread(lambda: list(it))
        time.sleep(0.5)
        tab.fns["stop"](sid)
        thread.join(5)
        status = out[0][-1][1]
        assert status.startswith("Training stopped at iteration") and " · video · " in status  # its name
        assert len(tab.store.entries(sid)) == 1
    finally:
        FakeTrainer.step = 0.01


# --- 4. sessions and keys ---------------------------------------------------------------------------------------
def test_keys_are_opaque_and_every_use_checks_the_owner(tmp_path: Path) -> None:
    store = ModelStore(tmp_path / "store")
    alice, bob = store.new_session(), store.new_session()
    key = store.put(alice, "model", tiny_model()).key
    assert alice not in key and len(key) == 22
    assert store.load(alice, key).config.use_case == "video"
    made_up = uuid.uuid4().hex
    for sid, probe in [
        (bob, key),
        (made_up, key),
        (None, key),
        (alice, f"{alice}/index"),
        (alice, "../../x"),
        (alice, 12),
        (alice, None),
        (alice, "A" * 22),
    ]:
        with pytest.raises(StudioError, match="belongs to another session, or was never stored here"):
            store.load(sid, probe)
        with pytest.raises(gr.Error, match="belongs to another session"):
            output_tab.export(store, sid, probe or "x", "safetensors")
        with pytest.raises(gr.Error, match="belongs to another session"):
            output_tab.card(store, sid, probe or "x")
    assert not store.known(made_up) and store.known(alice)
    with pytest.raises(StudioError, match="not known here"):
        store.put(made_up, "model", tiny_model())


def test_page_load_takes_back_only_sessions_the_server_issued(tmp_path: Path, style_path: Path) -> None:
    tab = _train_tab(tmp_path)
    sid, _, _ = tab.restore(None, uuid.uuid4().hex)  # a made-up id (say, guessed or another's leaked key)
    assert sid is None
    sid = tab.train(None, [style_path], n=5)[-1][0]
    assert tab.store.known(sid)
    again, _, models = tab.restore(None, sid)  # the same browser after a reload: its localStorage copy
    assert again == sid and len(models["choices"]) == 1
    for bogus in ("../../etc", "0" * 32, sid.upper(), 42):
        assert tab.restore(None, bogus)[0] is None


def test_the_queue_takes_no_made_up_session_and_no_borrowed_key(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the running studio's queue, as a hand-written client would send events (the page-load event is
    private to the API, but callable by its index)."""
    from safetensors.torch import save_file

    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "tmp"))  # as launch() sets it: not around the data
    demo = build_app(tmp_path / "data")
    port = _free_port()
    demo.queue().launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        store = ModelStore(tmp_path / "data" / "store")  # the studio's store, opened beside it
        victim, made_up = store.new_session(), uuid.uuid4().hex
        key = store.put(victim, "model", tiny_model()).key
        for sid in (victim, made_up):  # an interrupted training in each folder: the load event reports it
            run = tmp_path / "data" / "sessions" / sid / "run-1"
            run.mkdir(parents=True)
            (run / SESSION_FILE).write_text("{}")
            save_file({"x": torch.zeros(1)}, str(run / CHECKPOINT_FILE), metadata={"iteration": "3", "target": "9"})
        base = f"http://127.0.0.1:{port}"
        index = {f.api_name: i for i, f in demo.fns.items()}
        load = next(i for i, f in demo.fns.items() if getattr(f.fn, "__name__", "") == "restore")
        ok, out = _queue(base, load, [None, victim], "victim-page")  # the victim's own page, reloaded
        assert ok and "interrupted at iteration 3 of 9" in str(out[1])
        ok, out = _queue(base, index["download"], [None, key, "safetensors"], "victim-page")
        assert ok and out[0]["path"].endswith(".safetensors"), out  # served from the request's own folder
        assert [p.name for p in (tmp_path / "tmp").iterdir()] == ["gradio"]  # that folder is gone; Gradio's copy stays
        attacker = "attacker-page"
        ok, out = _queue(base, load, [None, made_up], attacker)  # an id the studio never issued
        assert ok and "interrupted" not in str(out[1])
        ok, out = _queue(base, index["resume"], [None], attacker)
        assert not ok and "Nothing to resume" in out  # the made-up id was not taken as the page's session
        ok, out = _queue(base, index["download"], [None, key, "safetensors"], attacker)
        assert not ok and "belongs to another session" in out  # a key alone opens nothing
        ok, out = _queue(base, index["download"], [None, f"{victim}/index", "safetensors"], attacker)
        assert not ok and "belongs to another session" in out  # a clear refusal, not a TypeError
        ok, out = _queue(base, index["model_card"], [None, f"{victim}/index"], "victim-page")
        assert not ok and "belongs to another session" in out
        # Gradio's own input checks are refusals like the others: one log line each, no traceback
        caplog.clear()
        stylize = [None, None, "preset:ink-wash", "before", "video", 5.0, False, 512, *[0.0] * 11]
        ok, out = _queue(base, index["stylize"], stylize, attacker)
        assert not ok and "Value 5.0 is greater than maximum value 1" in out
        assert [r.getMessage() for r in caplog.records if r.name == "studio.ui"] == [f"refused: {out}"]
        assert "Traceback" not in capfd.readouterr().err
    finally:
        demo.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _queue(base: str, fn_index: int, data: list[Any], session_hash: str) -> tuple[bool, Any]:
    """Send one event to the queue by index, as a hand-written client would; (success, outputs or error)."""
    joined = httpx.post(
        f"{base}/gradio_api/queue/join",
        timeout=30,
        json={"data": data, "fn_index": fn_index, "session_hash": session_hash},
    )
    assert joined.status_code == 200, joined.text
    with httpx.stream("GET", f"{base}/gradio_api/queue/data", params={"session_hash": session_hash}, timeout=60) as s:
        for line in s.iter_lines():
            if line.startswith("data:"):
                msg = json.loads(line[5:])
                if msg.get("msg") == "process_completed":
                    if msg.get("success"):
                        return True, msg["output"]["data"]
                    return False, str(msg.get("output", {}).get("error"))
    raise AssertionError("no answer from the queue")


# --- 5. eviction ------------------------------------------------------------------------------------------------
def test_eviction_stays_within_the_session_and_spares_this_visits_models(tmp_path: Path) -> None:
    size = len(_saved(tiny_model()))
    store = ModelStore(tmp_path / "store", size_limit=5 * size, session_limit=3 * size)
    alice, bob = store.new_session(), store.new_session()
    bobs = [store.put(bob, f"b{i}", tiny_model()).key for i in range(2)]
    old = [store.put(alice, f"a{i}", tiny_model()).key for i in range(2)]
    time.sleep(0.01)
    store.visit(alice)  # a page load: the two models before it may make room now
    new = [store.put(alice, f"n{i}", tiny_model()).key for i in range(2)]
    assert [e.key for e in store.entries(alice)] == [old[1], *new]  # her oldest went, within her session
    with pytest.raises(StudioError, match="model store is full .*STUDIO_STORE_BYTES"):
        store.put(bob, "b2", tiny_model())  # the store is full: refused, nobody else's model evicted
    with pytest.raises(StudioError, match="model store is full"):
        store.check_room(bob)  # asked before a training starts (a model as large as the largest stored)
    last = store.put(alice, "n2", tiny_model()).key  # her own older model makes room
    assert [e.key for e in store.entries(bob)] == bobs
    with pytest.raises(StudioError, match="STUDIO_SESSION_BYTES.*made since the page was opened"):
        store.put(alice, "n3", tiny_model())  # only this visit's models are left: kept, the new one refused
    assert [e.key for e in store.entries(alice)] == [*new, last]


def test_idle_sessions_go_with_their_models_downloads_and_runs(tmp_path: Path) -> None:
    from ui.store import Visit

    store = ModelStore(tmp_path / "store", idle_seconds=1000, runs=tmp_path / "sessions")
    old, fresh = store.new_session(), store.new_session()
    key = store.put(old, "model", tiny_model()).key
    store.export(old, key, "safetensors", _save_into)
    later = time.time() + 2000
    store._cache.set(f"session:{fresh}", Visit(later, later, later))  # used since: kept
    for sid in (old, fresh):
        (tmp_path / "sessions" / sid / "run-1").mkdir(parents=True)
    (tmp_path / "sessions" / uuid.uuid4().hex).mkdir()  # a folder of no issued session
    assert store.expire(now=later) == [old]
    assert not store.known(old) and store.known(fresh) and not (store.exports / key).exists()
    assert store.entries(old) == [] and store._cache.get(f"model:{key}") is None
    assert [p.name for p in (tmp_path / "sessions").iterdir()] == [fresh]


def _saved(model: StyleModel) -> bytes:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        return model.save(Path(tmp) / "m.safetensors").read_bytes()


def _save_into(model: StyleModel, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return Path(model.save(folder / "m.safetensors"))


# --- 6. temporary files ------------------------------------------------------------------------------------------
def test_downloads_are_made_once_per_model_and_format_and_go_with_the_model(tmp_path: Path) -> None:
    size = len(_saved(tiny_model()))
    store = ModelStore(tmp_path / "store", session_limit=2 * size)
    sid = store.new_session()
    key = store.put(sid, "model", tiny_model()).key
    first = Path(output_tab.export(store, sid, key, "safetensors"))
    assert first.parent == store.exports / key / "safetensors"
    assert Path(output_tab.export(store, sid, key, "safetensors")) == first  # cached, not made again
    assert [p.name for p in store.exports.iterdir()] == [key]  # no work folder left
    time.sleep(0.01)
    store.visit(sid)
    for i in range(2):
        store.put(sid, f"m{i}", tiny_model())  # over her cap: the first model goes, and its download with it
    assert not first.exists() and not (store.exports / key).exists()


def test_a_core_ml_download_leaves_nothing_in_the_temp_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("coremltools")
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "tmp"))
    store = ModelStore(tmp_path / "store")
    sid = store.new_session()
    key = store.put(sid, "model", tiny_model()).key
    package = Path(output_tab.export(store, sid, key, "Core ML (.mlpackage, zipped)"))
    assert zipfile.is_zipfile(package) and package.parent == store.exports / key / "mlpackage"
    assert list((tmp_path / "tmp").glob("*.mlpackage")) == []  # coremltools' working copy is gone


def test_stylize_writes_in_a_request_folder_removed_when_the_request_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    model = tiny_model()
    with gr.Blocks() as demo:
        preview_tab.build([], lambda spec, case, sid: model, lambda sid: [("Mine", "mine:k")], gr.State(None), [])
    stylize = next(f.fn for f in demo.fns.values() if f.api_name == "stylize")
    photo = tmp_path / "photo.png"
    Image.fromarray(synthetic_photo(64, 48, 1)).save(photo)
    built = set((tmp_path / "tmp").iterdir())  # Gradio's copies of the tab's sample photos, made by build
    for finish in (lambda it: list(it), lambda it: it.close()):  # the request completes; the client leaves
        it = stylize(None, None, str(photo), "mine:k", "before", "image", 1.0, False, 256)  # no request, no session
        (before, after), _, png = next(it)
        assert after == png and Path(before).parent == Path(png).parent  # all of it in the request's folder
        assert Path(png).is_file() and Image.open(png).size == (64, 48)  # there while Gradio copies it
        finish(it)
        assert not Path(png).parent.exists() and set((tmp_path / "tmp").iterdir()) == built


def test_a_start_sweeps_what_dead_processes_left_in_tmp(tmp_path: Path) -> None:
    import fcntl

    root = tmp_path / "tmp"
    dead, alive = root / "proc-dead", root / "proc-alive"
    for folder in (dead, alive):
        (folder / "gradio" / "abc").mkdir(parents=True)
        (folder / "gradio" / "abc" / "upload.png").write_bytes(b"x" * 100)
        (folder / ".lock").touch()
    held = open(alive / ".lock")  # noqa: SIM115 - another live studio holds its folder
    fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
    stray = root / "studio-export-old"
    stray.mkdir()
    os.utime(stray, (time.time() - 3600, time.time() - 3600))
    try:
        mine = process_tmp(root)
        assert not dead.exists() and not stray.exists() and alive.exists()
        assert mine.name.startswith("proc-") and (mine / "gradio").is_dir()
        assert sorted(p.name for p in root.iterdir()) == sorted(["proc-alive", mine.name])
        again = process_tmp(root)  # a second process: this one's folder is locked, so it stays
        assert mine.exists() and again.exists()
    finally:
        held.close()


# --- one line per refusal ---------------------------------------------------------------------------------------
def test_a_refused_request_logs_one_line_and_no_traceback(
    tmp_path: Path, style_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    tab = _train_tab(tmp_path, content_files=2)
    zipped = _zip(tmp_path / "many.zip", {f"{i}.png": _png(i) for i in range(3)})
    caplog.set_level(logging.INFO)
    with pytest.raises(gr.Error) as info:
        tab.train(None, [style_path], [zipped])
    assert "many.zip holds 3 images; the limit is 2 a training (STUDIO_MAX_CONTENT_FILES)" in info.value.message
    assert info.value.print_exception is False  # Gradio prints no traceback for it
    lines = [r for r in caplog.records if r.name.startswith("studio")]
    assert [r.getMessage() for r in lines] == [f"refused: {info.value.message}"] and lines[0].exc_info is None
    assert _files(tab.workdir) == []  # and nothing of it stays


@pytest.fixture(autouse=True)
def _quiet_threads() -> Iterator[None]:
    yield
    gc.collect()
