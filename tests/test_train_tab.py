"""The Train tab: its Gradio-free parts (run folders, the per-session registry, the thread-and-queue streaming
helper) and its handlers (estimate and its one-click fix, button states, range messages, human ETAs). The real
page in Chromium at 1440x900 (the first viewport, the buttons before, during and after one short CPU training)
is tested in test_persistence.py, with the same training's reload and restart: one CPU training for both."""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from conftest import tiny_model
from PIL import Image

gr = pytest.importorskip("gradio")
from safetensors.torch import save_file  # noqa: E402

from studio import Progress, StyleModel, TrainConfig  # noqa: E402
from studio.limits import Limits  # noqa: E402
from studio.progress import CancelToken  # noqa: E402
from studio.train.checkpoint import CHECKPOINT_FILE  # noqa: E402
from studio.train.session import SESSION_FILE  # noqa: E402
from ui.runs import FINISHED, Busy, Registry, RunFolders  # noqa: E402
from ui.store import ModelStore  # noqa: E402
from ui.streaming import Streamed, clock  # noqa: E402
from ui.train_tab import Pace, Trainings, range_warning  # noqa: E402

SID = "0123456789abcdef0123456789abcdef"


def _checkpoint(folder: Path, done: int, target: int) -> Path:
    """A run folder as the engine leaves it: a session file and a checkpoint at ``done`` of ``target``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / SESSION_FILE).write_text("{}")
    save_file({"x": torch.zeros(1)}, str(folder / CHECKPOINT_FILE), {"iteration": str(done), "target": str(target)})
    return folder


# --- ui.runs ------------------------------------------------------------------------------------------------------
def test_run_folders_keep_one_run_and_find_the_interrupted_one(tmp_path: Path) -> None:
    folders = RunFolders(tmp_path / "sessions")
    first, second = folders.new(SID), folders.new(SID)
    assert first != second and first.parent == second.parent == tmp_path / "sessions" / SID
    assert folders.saved(SID) == [] and folders.latest(SID) is None and folders.interrupted(SID) is None
    _checkpoint(first, 3, 9)
    time.sleep(0.01)
    _checkpoint(second, 9, 9)  # newer, and complete
    (second.parent / "run-nockpt").mkdir()  # no checkpoint: not a saved run
    assert [d for d, _ in folders.saved(SID)] == [second, first] and folders.latest(SID) == second
    assert folders.interrupted(SID) == (first, 3, 9) and RunFolders.reached(first) == 3
    RunFolders.finish(first)  # its model was stored: not offered for resuming
    assert (first / FINISHED).is_file() and folders.interrupted(SID) is None
    folders.keep_only(SID, second)
    assert sorted(p.name for p in second.parent.iterdir()) == [second.name]
    RunFolders.discard(second)
    assert not second.exists() and RunFolders.reached(second) == 0
    for bad in ("../escape", "a/b", "", None, "..", "é" * 4):
        with pytest.raises(ValueError, match="not a session id"):
            folders.saved(bad)  # type: ignore[arg-type]


def test_registry_one_request_a_session_and_bounded_memory(tmp_path: Path) -> None:
    registry = Registry(seconds=None, kept=2, rows_kept=3)
    run = registry.begin("a", tmp_path)
    assert registry.active("a") and not registry.active("b") and registry.get(None) is None
    with pytest.raises(Busy, match="already going"):
        registry.begin("a", tmp_path)
    run.trainer = "the trainer"  # type: ignore[assignment]
    run.rows += [{"iteration": i} for i in range(5)]
    assert registry.end(run) == "the trainer" and run.trainer is None and not run.active
    assert [r["iteration"] for r in run.rows] == [2, 3, 4]  # the newest points kept
    again = registry.begin("a", tmp_path, run.rows)  # Train more: the curve continues
    assert again.rows == run.rows and again.started >= run.started
    registry.end(again)
    for sid in ("b", "c"):
        registry.end(registry.begin(sid, tmp_path))
    assert registry.get("a") is None and registry.get("c") is not None  # the oldest finished one forgotten


# --- ui.streaming -------------------------------------------------------------------------------------------------
def test_streamed_delivers_every_report_in_order_throttled_then_the_outcome() -> None:
    def work(report: Callable[[int], bool]) -> str:
        for i in range(50):
            report(i)
            time.sleep(0.005)
        return "done"

    job: Streamed[int, str] = Streamed(work)
    batches = list(job.updates(every=0.1))
    assert [i for b in batches for i in b] == list(range(50))
    assert 1 < len(batches) < 10  # about 0.25 s of reports, at most one batch every 0.1 s
    assert job.outcome == "done"

    def fails(report: Callable[[int], bool]) -> None:
        time.sleep(0.6)
        raise ValueError("broken")

    job2: Streamed[int, None] = Streamed(fails)
    ticks = list(job2.updates(idle=0.2, poll=0.05))
    assert ticks and all(b == [] for b in ticks)  # nothing reported: the clock still ticks
    assert isinstance(job2.outcome, ValueError)


def test_closing_the_stream_stops_the_job() -> None:
    closed: list[bool] = []

    def work(report: Callable[[int], bool]) -> int:
        sent = 0
        while report(sent):  # False once the page has left
            sent += 1
            time.sleep(0.01)
        return sent

    job: Streamed[int, int] = Streamed(work, on_close=lambda: closed.append(True))
    updates = job.updates()
    next(updates)
    updates.close()  # the page left: Gradio closes the handler's generator
    assert closed == [True] and not job.running and isinstance(job.outcome, int)


def test_clock_reads_like_a_person() -> None:
    assert [clock(s) for s in (0.4, 42, 200, 3600 * 1.5)] == ["0 s", "42 s", "3 min 20 s", "1 h 30 min"]


# --- the handlers ---------------------------------------------------------------------------------------------------
class _FakeTrainer:
    """Quacks like studio.Trainer for the handlers: ``step`` seconds an iteration."""

    step = 0.02

    def __init__(
        self,
        styles: list[str],
        content: Any,
        config: TrainConfig,
        *,
        validation: Any = None,
        session_dir: Path,
        cancel: CancelToken,
    ) -> None:
        self.config, self.target, self.iteration = config, config.iterations, 0
        self.session_dir, self._cancel, self.cancelled = session_dir, cancel, False
        self.device = torch.device("cpu")
        session_dir.mkdir(parents=True, exist_ok=True)

    @property
    def validation_image(self) -> Image.Image:
        return Image.new("RGB", (16, 16))

    def run(self, on_progress: Callable[[Progress], Any]) -> StyleModel:
        started = time.monotonic()
        while self.iteration < self.target and not self._cancel.is_set():
            time.sleep(self.step)
            self.iteration += 1
            if self.iteration % self.config.report_interval == 0:
                on_progress(Progress(self.iteration, self.target, 1.0, 1.0, time.monotonic() - started, None))
        self.cancelled = self._cancel.is_set()
        return self.snapshot()

    def snapshot(self) -> StyleModel:
        model = tiny_model()
        model.config = dataclasses.replace(model.config, iterations=self.iteration, style_names=("stripes",))
        return model

    def cancel(self) -> None:
        self._cancel.set()

    def release(self) -> None:
        pass


def _tab(tmp_path: Path, **limits: Any) -> Trainings:
    bounds = dataclasses.replace(Limits(), **limits)
    store = ModelStore(tmp_path / "store", bounds.store_bytes, bounds.session_bytes, runs=tmp_path / "sessions")
    return Trainings(store, _FakeTrainer, _FakeTrainer, tmp_path / "sessions", bounds)


def test_estimate_warns_past_the_job_limit_and_its_fix_fits(tmp_path: Path) -> None:
    tab = _tab(tmp_path, train_seconds=600)
    tab.pace = {"image": Pace(10.0, 3.0), "video": Pace(8.0, 1.5)}  # as measured by earlier trainings
    text, fix = tab.estimate("video", 200)
    assert text.startswith("**About 5 min** for 200 iterations") and "measured by the last training" in text
    assert fix["visible"] is False
    text, fix = tab.estimate("image", 1000)  # 3010 s: past the 600 s limit
    assert "⚠️" in text and "limit of 10 min" in text and "near iteration 196" in text
    assert fix["visible"] is True and "175 iterations" in fix["value"]
    case, n = (u["value"] for u in tab.apply_fit("image", 1000))
    assert (case, n) == ("image", 175) and 10 + n * 3.0 <= 600  # one click: it fits, same model
    tab.bounds = dataclasses.replace(tab.bounds, train_seconds=100)  # too few image iterations fit: video
    case, n = (u["value"] for u in tab.apply_fit("image", 1000))
    assert case == "video" and 8 + n * 1.5 <= 100 and n >= 5
    assert tab.estimate("video", 10**9) == ("", {"__type__": "update", "visible": False})  # out of range: silent

    fresh = _tab(tmp_path / "fresh")  # nothing measured yet: the engine's benchmarks for this device
    text, _ = fresh.estimate("video", 200)
    assert "benchmarks" in text and re.search(r"\*\*About \d+ (s|min)\*\*", text)


def test_typed_values_out_of_range_get_a_message() -> None:
    check = range_warning("Style strength", 1, 10)
    with pytest.warns(UserWarning, match="Style strength: 1 to 10; 99 was changed to 10"):
        check(99)
    with pytest.warns(UserWarning, match="0.2 was changed to 1"):
        check("0.2")
    for fine in (1, 5.5, 10, None, "", "abc"):
        check(fine)  # no warning (pytest's filterwarnings=error would raise)


def test_video_tab_says_cancelled_and_clears_and_speaks_human() -> None:
    from studio.infer.video import VideoProgress
    from studio.progress import Cancelled
    from ui import video_tab

    with gr.Blocks() as demo:
        session = gr.State(None)
        video_tab.build([], lambda *a: None, lambda sid: [], session, [], [("Preset: x", "preset:x")])
    run = next(f for f in demo.fns.values() if f.api_name == "video")
    stop = next(f for f in demo.fns.values() if f.cancels)
    assert stop.cancels == [run._id]
    say = next(f for f in demo.fns.values() if f.targets == stop.targets and f.fn is not None)  # the same click
    assert [o._id for o in say.outputs] == [o._id for o in run.outputs]  # the status and the result
    assert say.fn() == ("Cancelled.", None)  # the status says so, the old result goes
    assert video_tab.progress_text(VideoProgress(120, 300, 40.0)) == "Frame 120 of 300 · 40 s · about 60 s left"
    assert video_tab.failure(Cancelled("stopped")).message == "Cancelled."


def test_buttons_follow_the_training_and_the_status_speaks_human(tmp_path: Path, style_path: Path) -> None:
    tab = _tab(tmp_path)
    _FakeTrainer.step = 0.05
    idle = tab.buttons(None, None)
    assert [b.get("interactive") for b in idle[:4]] == [False, False, False, False] and idle[4]["visible"] is False
    assert tab.buttons(None, [str(style_path)])[0]["interactive"] is True  # a painting: Train works
    it = tab.train(None, [str(style_path)], None, None, 5, 256, "video", 40)
    sid = next(it)[0]
    seen: list[tuple[str, tuple[Any, ...]]] = []
    for out in it:
        seen.append((out[1], tab.buttons(sid, [str(style_path)])))
        reached = re.match(r"Iteration (\d+)", out[1])
        if reached and int(reached[1]) >= 10 and not tab.registry.get(sid).stop.is_set():
            assert tab.stop(sid) == "Stopping at the next iteration…"
    assert re.search(r"preparing .*… \d+ s · about \d+ (s|min) in all here", seen[0][0])  # said at once
    busy = [b for status, b in seen if status.startswith("Iteration")]
    assert busy and all(b[0]["interactive"] is False and b[1]["interactive"] is True for b in busy)
    assert all(b[2]["interactive"] is True for b in busy)  # Snapshot
    assert all(re.search(r"· \d+ s · (about \d+ s left|saving…)", s) for s, _ in seen if s.startswith("Iteration"))
    assert re.match(r"Training stopped at iteration \d+ \(\d+ s\): \*\*stripes · video · \d+ it\*\*", seen[-1][0])
    done = tab.buttons(sid, [str(style_path)])
    assert [b.get("interactive") for b in done[:4]] == [True, False, False, True]  # Train more: a run to continue
    assert tab.pace["video"].per_iteration > 0  # the next estimate uses what this run measured
