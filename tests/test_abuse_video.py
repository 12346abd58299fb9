"""Hostile videos and camera frames (issue 15): broken timestamps, frames that grow mid-stream, failures and
interrupts mid-job, oversized webcam frames. Each ends in a readable result or one clear error, and leaves no
temporary file behind. The clips are tiny MJPEG-in-Matroska files written here with PyAV, packet by packet,
so their timestamps and frame sizes can be anything."""

from __future__ import annotations

import base64
import os
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import tiny_model
from PIL import Image

av = pytest.importorskip("av")

from studio import StudioError  # noqa: E402
from studio.infer.frames import FrameStylizer  # noqa: E402
from studio.infer.video import VideoProgress, _next_pts, frames_of, probe, stylize_video  # noqa: E402
from studio.progress import Cancelled  # noqa: E402

MS = Fraction(1, 1000)


def _jpeg(w: int, h: int, value: int) -> bytes:
    """One MJPEG frame of w x h (a fresh encoder each time, so sizes may differ from frame to frame)."""
    cc = av.CodecContext.create("mjpeg", "w")
    cc.width, cc.height, cc.pix_fmt, cc.time_base = w, h, "yuvj420p", MS
    frame = av.VideoFrame.from_ndarray(np.full((h, w, 3), value, np.uint8), format="rgb24")
    frame.pts = 0
    return b"".join(bytes(p) for p in [*cc.encode(frame), *cc.encode(None)])


def hostile_clip(path: Path, frames: list[tuple[int, int, int]], audio: bool = False) -> Path:
    """A Matroska clip of MJPEG frames given as (pts in ms, width, height), timestamps exactly as given: the
    muxer only checks the decoding order (dts, here the frame's index), Matroska stores the pts. With
    ``audio``: an AAC tone as long as the clip."""
    with av.open(str(path), "w", format="matroska") as out:
        vs = out.add_stream("mjpeg", rate=25)
        vs.width, vs.height, vs.pix_fmt = frames[0][1], frames[0][2], "yuvj420p"
        vs.time_base = MS
        astream = None
        if audio:
            astream = out.add_stream("aac", rate=48000)
            astream.layout = "mono"
        for i, (pts, w, h) in enumerate(frames):
            packet = av.Packet(_jpeg(w, h, 20 * i % 256))
            packet.stream, packet.time_base, packet.pts, packet.dts = vs, MS, pts, i
            out.mux(packet)
        if astream is not None:
            seconds = max(p for p, _, _ in frames) / 1000 + 0.04
            tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(int(48000 * seconds)) / 48000)).astype(np.float32)
            for start in range(0, len(tone), 1024):
                frame = av.AudioFrame.from_ndarray(tone[None, start : start + 1024], format="flt", layout="mono")
                frame.sample_rate, frame.pts = 48000, start
                for p in astream.encode(frame):
                    out.mux(p)
            for p in astream.encode(None):
                out.mux(p)
    return path


def _pts_seconds(path: Path) -> list[float]:
    with av.open(str(path)) as c:
        return [float(f.pts * f.time_base) for f in c.decode(video=0)]


def _left(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --- timestamps --------------------------------------------------------------------------------------------

# a slow-motion burst (1 ms apart), a duplicate (124, 124) and a step back (164 -> 120)
BURST = [0, 40, 80, 81, 82, 83, 84, 124, 124, 164, 120, 204]


def test_variable_rate_burst_duplicates_and_backward_stamps(tmp_path: Path) -> None:
    src = hostile_clip(tmp_path / "vfr.mkv", [(t, 32, 32) for t in BURST], audio=True)
    assert [round(t * 1000) for t in _pts_seconds(src)] == BURST  # the hostile stamps really are in the file
    out = stylize_video(tiny_model(), src, tmp_path / "out.mp4")
    info = probe(out)
    assert (info.width, info.height, info.frames, info.audio) == (32, 32, len(BURST), "aac")  # sound kept
    times = _pts_seconds(out)
    assert all(b > a for a, b in zip(times, times[1:], strict=False)), times
    # the source timing where it was valid; a repeated or earlier stamp moves one tick (1 ms) past the last
    expected = [0, 40, 80, 81, 82, 83, 84, 124, 125, 164, 165, 204]
    assert times == pytest.approx([t / 1000 for t in expected], abs=1e-4)
    assert len(list(frames_of(out))) == len(BURST)


def test_next_pts_rules() -> None:
    assert [_next_pts(None, None, 40), _next_pts(7, None, 40)] == [0, 7]  # the first frame
    assert _next_pts(None, 100, 40) == 140  # no stamp: one nominal frame on
    assert [_next_pts(100, 100, 40), _next_pts(3, 100, 40), _next_pts(150, 100, 40)] == [101, 101, 150]


# --- pixel limits on every frame ---------------------------------------------------------------------------


def test_a_frame_that_grows_mid_stream_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUDIO_MAX_VIDEO_PIXELS", str(40 * 40))
    src = hostile_clip(tmp_path / "grow.mkv", [(40 * i, 32, 32) for i in range(3)] + [(120, 64, 64), (160, 64, 64)])
    seen: list[tuple[int, ...]] = []
    real = FrameStylizer.__call__
    monkeypatch.setattr(FrameStylizer, "__call__", lambda self, f: seen.append(f.shape) or real(self, f))
    with pytest.raises(StudioError, match=r"^grow.mkv: frame 4 is 64x64; frames up to 1,600 pixels") as info:
        stylize_video(tiny_model(), src, tmp_path / "out.mp4", batch=1)
    assert "\n" not in str(info.value)
    assert seen == [(1, 32, 32, 3)] * 3  # the large frame never reached the model
    assert _left(tmp_path) == ["grow.mkv"]  # no partial output, no temporary file
    with pytest.raises(StudioError, match="frame 4 is 64x64"):
        list(frames_of(src))
    # far above the limit (here 4x): the decoder itself refuses to allocate the frame
    far = hostile_clip(tmp_path / "far.mkv", [(0, 32, 32), (40, 96, 96)])
    with pytest.raises(StudioError, match="far.mkv is damaged or has a frame far above 1,600 pixels"):
        stylize_video(tiny_model(), far, tmp_path / "out.mp4")
    assert _left(tmp_path) == ["far.mkv", "grow.mkv"]


def test_frames_that_change_size_within_the_limit_take_the_first_size(tmp_path: Path) -> None:
    src = hostile_clip(tmp_path / "sizes.mkv", [(0, 32, 32), (40, 32, 32), (80, 48, 40), (120, 16, 16)])
    out = stylize_video(tiny_model(), src, tmp_path / "out.mp4", batch=2)  # a batch mixing two sizes
    info = probe(out)
    assert (info.width, info.height, info.frames) == (32, 32, 4)


def test_frame_engine_refuses_frames_above_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUDIO_MAX_VIDEO_PIXELS", str(40 * 40))
    engine = FrameStylizer(tiny_model(), fast=False)
    assert engine(np.zeros((32, 32, 3), np.uint8)).shape == (32, 32, 3)
    with pytest.raises(StudioError, match="a 64x48 frame is too large: frames up to 1,600 pixels"):
        engine(np.zeros((2, 48, 64, 3), np.uint8))


# --- nothing left behind -----------------------------------------------------------------------------------


@pytest.mark.parametrize("failure", ["error", "interrupt", "cancel"])
def test_failure_mid_stream_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: str) -> None:
    """The model fails (or Ctrl-C, or the page cancels) after two frames: the temporary output, which exists
    at that moment, is gone afterwards, and the error that stopped the job is the one that comes out."""
    src = hostile_clip(tmp_path / "in.mkv", [(40 * i, 32, 32) for i in range(12)], audio=True)
    temps: list[list[Path]] = []
    calls = {"n": 0}
    real = FrameStylizer.__call__

    def stylize(self: FrameStylizer, frames: np.ndarray) -> np.ndarray:
        calls["n"] += len(frames)
        if calls["n"] > 2:  # two frames went through (and on to the encoder); the next batch fails
            temps.append(list(tmp_path.glob(".out.mp4.*.tmp.mp4")))
            if failure == "error":
                raise RuntimeError("model exploded")
            if failure == "interrupt":
                raise KeyboardInterrupt
        return real(self, frames)

    def progress(p: VideoProgress) -> bool:
        if failure == "cancel" and p.frame >= 2:  # the first report comes after the first batch
            temps.append(list(tmp_path.glob(".out.mp4.*.tmp.mp4")))
            return False  # what the page's Cancel button does
        return True

    monkeypatch.setattr(FrameStylizer, "__call__", stylize)
    expected: dict[str, Any] = {"error": RuntimeError, "interrupt": KeyboardInterrupt, "cancel": Cancelled}
    with pytest.raises(expected[failure]):
        stylize_video(tiny_model(), src, tmp_path / "out.mp4", batch=2, on_progress=progress)
    assert temps and len(temps[0]) == 1  # there was a temporary output to clean up
    assert _left(tmp_path) == ["in.mkv"]


def test_a_killed_run_s_temporary_output_is_removed_by_the_next(tmp_path: Path) -> None:
    src = hostile_clip(tmp_path / "in.mkv", [(0, 32, 32), (40, 32, 32)])
    stale, live = tmp_path / ".out.mp4.k1ll3d00.tmp.mp4", tmp_path / ".out.mp4.runn1ng0.tmp.mp4"
    stale.write_bytes(b"half a video")
    live.write_bytes(b"another job, still writing")
    old = time.time() - 2 * 3600
    os.utime(stale, (old, old))
    stylize_video(tiny_model(), src, tmp_path / "out.mp4")
    assert _left(tmp_path) == [live.name, "in.mkv", "out.mp4"]


def test_ui_job_removes_its_folder_on_failure(tmp_path: Path) -> None:
    from ui.video_tab import attempt

    folder = tmp_path / "job"
    folder.mkdir()
    (folder / "x.mp4").write_bytes(b"")

    def fail() -> Path:
        raise Cancelled("video stylizing cancelled; nothing was written")

    assert isinstance(attempt(fail, folder), Cancelled) and not folder.exists()
    folder.mkdir()
    assert attempt(lambda: folder / "x.mp4", folder) == folder / "x.mp4" and folder.exists()


# --- webcam frames -----------------------------------------------------------------------------------------


def test_webcam_refuses_oversized_frames_once_per_burst(monkeypatch: pytest.MonkeyPatch) -> None:
    import gradio as gr

    from ui import webcam_tab
    from ui.webcam_tab import WebcamFrames

    monkeypatch.setenv("STUDIO_MAX_IMAGE_PIXELS", str(40 * 40))  # tighter than the video limit: it holds
    model = tiny_model()
    handler = WebcamFrames([], lambda spec, case, sid: model, lambda sid: [("A", "preset:a")])
    big, small = np.zeros((48, 64, 3), np.uint8), np.zeros((30, 40, 3), np.uint8)
    with pytest.raises(gr.Error, match=r"Camera frame refused \(64x48\): this studio takes frames up to 1,600 pixels"):
        handler(big, "s1", "preset:a", "video", 1.0, False, 480)
    assert handler(big, "s1", "preset:a", "video", 1.0, False, 480) is None  # the next ones: quiet, no popup
    with pytest.raises(gr.Error):  # another session is told too
        handler(big, "s2", "preset:a", "video", 1.0, False, 480)
    assert not handler._engines  # refused before any model or engine was set up for it
    assert handler(small, "s1", "preset:a", "video", 1.0, False, 480).shape == (30, 40, 3)
    monkeypatch.setattr(webcam_tab, "WARN_EVERY", 0.0)
    with pytest.raises(gr.Error):  # after WARN_EVERY, told again
        handler(big, "s1", "preset:a", "video", 1.0, False, 480)


def test_camera_frames_are_sized_from_the_header_before_decoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gradio as gr
    from gradio.data_classes import ImageData

    from ui.webcam_tab import Oversized, guard_camera

    monkeypatch.setenv("STUDIO_MAX_VIDEO_PIXELS", str(40 * 40))
    cam = guard_camera(gr.Image(sources=["webcam"], streaming=True, type="numpy"))
    Image.new("RGB", (2000, 1500)).save(tmp_path / "big.png")
    header = (tmp_path / "big.png").read_bytes()[:64]  # the size, and no pixels: decoding it would fail
    (tmp_path / "header.png").write_bytes(header)
    assert cam.preprocess(ImageData(path=str(tmp_path / "header.png"))) == Oversized("2000x1500")
    url = "data:image/png;base64," + base64.b64encode(header).decode()
    assert cam.preprocess(ImageData(url=url)) == Oversized("2000x1500")
    Image.new("RGB", (40, 30), (200, 10, 10)).save(tmp_path / "small.png")
    frame = cam.preprocess(ImageData(path=str(tmp_path / "small.png")))
    assert isinstance(frame, np.ndarray) and frame.shape == (30, 40, 3)
    assert cam.preprocess(None) is None
