"""Cancel works during a download's export: ONNX and Core ML convert in a child process, which Cancel (or the
page leaving) stops within 2 s, leaving nothing in the store or the temp folders; the lock of that model and
format is released, so a later request makes the file; a child that fails or dies gives one clear line.

Each cancel comes right after the child starts (it would take ~15 s to finish), so it costs about a second;
one real ONNX export (~15 s on a 2-core CPU) shows the file made after a cancel is whole.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import gradio as gr
import pytest
from conftest import tiny_model

from studio import StudioError
from studio.export import job as export_job
from studio.export.job import run_export
from ui import output_tab
from ui.store import ModelStore

LIMIT = 2.0  # seconds from Cancel to the child gone and the request over


@pytest.fixture
def temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Python's temp folder for this test (as the studio points it at its own): must stay empty."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(folder))
    return folder


def _store(tmp_path: Path) -> tuple[ModelStore, str, str]:
    store = ModelStore(tmp_path / "store")
    sid = store.new_session()
    return store, sid, store.put(sid, "model", tiny_model()).key


def _download(store: ModelStore) -> Callable[..., Iterator[Any]]:
    """The Output tab's /download handler, as Gradio calls it."""
    with gr.Blocks() as demo:
        models = gr.Dropdown([], allow_custom_value=True, render=False)
        output_tab.build(store, gr.State(None), models)
    return next(f.fn for f in demo.fns.values() if f.api_name == "download")


def _child(before: tuple[int, ...] = (), step: Callable[[], Any] | None = None) -> int:
    """The pid of the export child that starts now (``step`` runs while waiting), checked alive."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        new = set(export_job.running()) - set(before)
        if new:
            pid = new.pop()
            assert _alive(pid)
            return pid
        if step:
            step()
        else:
            time.sleep(0.02)
    raise AssertionError("no export process started")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # a zombie would answer too: the parent must have reaped it
    except ProcessLookupError:
        return False
    return True


def _in_thread(fn: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    result: list[Any] = []

    def work() -> None:
        try:
            result.append(fn())
        except BaseException as exc:  # noqa: BLE001 - the test looks at it
            result.append(exc)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread, result


def _nothing_left(store: ModelStore, key: str, kind: str, temp: Path) -> None:
    assert not (store.exports / key / kind).exists()
    assert list(store.exports.glob(".work-*")) == []
    assert list(temp.rglob("tmp*.mlpackage")) == [] and list(temp.iterdir()) == []


def test_cancel_stops_the_export_process_within_two_seconds_and_keeps_nothing(tmp_path: Path, temp: Path) -> None:
    store, sid, key = _store(tmp_path)
    steps = _download(store)(sid, key, "ONNX")
    pid = _child(step=lambda: next(steps))  # the handler hands control back while the child converts
    start = time.monotonic()
    steps.close()  # what Gradio does to the handler on Cancel (cancels=[event]) or when the page leaves
    workers = [t for t in threading.enumerate() if t.name == "studio-download"]
    for thread in workers:
        thread.join(LIMIT + 1)
    took = time.monotonic() - start
    assert workers and not any(t.is_alive() for t in workers)
    assert took < LIMIT, f"cancel took {took:.2f} s"
    assert not _alive(pid) and export_job.running() == []
    _nothing_left(store, key, "onnx", temp)


def test_a_cancelled_export_lets_a_waiting_request_make_the_file_once(
    tmp_path: Path, temp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import onnx

    from studio.export.onnx import check_onnx

    store, sid, key = _store(tmp_path)
    children: list[str] = []

    def counted(source: Path, out: Path, **kwargs: Any) -> Path:
        children.append(out.name)
        return run_export(source, out, **kwargs)

    monkeypatch.setattr(output_tab, "run_export", counted)
    stop = threading.Event()
    first, first_result = _in_thread(lambda: output_tab.export(store, sid, key, "ONNX", stop))
    pid = _child()
    second, second_result = _in_thread(lambda: output_tab.export(store, sid, key, "ONNX"))
    time.sleep(0.3)
    assert export_job.running() == [pid] and second.is_alive()  # the second waits for the first's file
    start = time.monotonic()
    stop.set()
    first.join(LIMIT + 1)
    took = time.monotonic() - start
    assert not first.is_alive() and took < LIMIT, f"cancel took {took:.2f} s"
    assert isinstance(first_result[0], gr.Error) and first_result[0].message == "Download cancelled."
    assert not _alive(pid)
    redo = _child((pid,))  # the lock was released: the waiting request makes the file itself
    third, third_result = _in_thread(lambda: output_tab.export(store, sid, key, "ONNX"))  # and this one waits
    second.join(120)
    third.join(10)
    assert not _alive(redo) and export_job.running() == []
    path = Path(second_result[0])
    assert third_result == [str(path)] and len(children) == 2  # made once after the cancel, shared
    assert path.parent == store.exports / key / "onnx" and list(path.parent.iterdir()) == [path]
    onnx.checker.check_model(onnx.load(str(path)))
    assert check_onnx(path, store.load(sid, key).network) < 1e-4  # the whole model, not a half-written file
    assert list(store.exports.glob(".work-*")) == [] and list(temp.iterdir()) == []


def test_a_failing_or_dying_export_process_gives_one_line(tmp_path: Path, temp: Path) -> None:
    store, sid, key = _store(tmp_path)
    # dies (the kernel's OOM killer, say): one line naming the signal, nothing kept, the next request may retry
    attempt, result = _in_thread(lambda: output_tab.export(store, sid, key, "Core ML (.mlmodel)"))
    pid = _child()
    os.kill(pid, signal.SIGKILL)
    attempt.join(LIMIT + 1)
    assert isinstance(result[0], gr.Error) and not _alive(pid)
    assert result[0].message == "the .mlmodel export process was stopped by SIGKILL (out of memory?)"
    _nothing_left(store, key, "mlmodel", temp)
    # refuses its input: the engine's own message, as the child printed it, and no traceback
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}garbage")
    with pytest.raises(StudioError) as info:
        run_export(bad, tmp_path / "out" / "m.onnx")
    message = str(info.value)
    assert "bad.safetensors" in message and "\n" not in message and "Traceback" not in message
    assert list((tmp_path / "out").iterdir()) == [] and export_job.running() == []


def test_a_crash_is_reported_by_its_last_line(tmp_path: Path) -> None:
    said = tmp_path / "output.txt"
    said.write_text('Traceback (most recent call last):\n  File "x.py", line 1\nRuntimeError: no memory\n\n')
    assert export_job._failure(1, said, ".onnx") == "the .onnx export failed: RuntimeError: no memory"
    said.write_text("")
    assert export_job._failure(1, said, ".onnx") == "the .onnx export process failed (status 1)"


def test_a_cancelled_export_raises_the_one_cancelled(tmp_path: Path) -> None:
    from studio.progress import Cancelled, CancelToken

    source = tiny_model().save(tmp_path / "m.safetensors")
    token = CancelToken()
    token.set()
    with pytest.raises(Cancelled) as info:
        run_export(source, tmp_path / "out" / "m.onnx", cancel=token)
    assert not isinstance(info.value, StudioError)  # stopping is not bad input
    assert export_job.running() == [] and list((tmp_path / "out").iterdir()) == []
