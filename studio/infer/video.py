"""Video files: decode, stylize every frame (optionally stabilized), encode H.264 with the sound kept.

Containers and codecs are PyAV's (FFmpeg's libraries, bundled in its wheel): any common input (mp4, mov,
webm, mkv, avi; variable frame rate), output an H.264 (yuv420p) mp4 with ``+faststart`` that browsers play.
Each frame keeps its own timestamp, so variable-frame-rate clips keep their timing (a timestamp that repeats
or goes back is moved one tick past the previous one: mp4 needs them strictly increasing); the audio track is
copied untouched when mp4 can carry it (AAC, MP3, Opus, ALAC, FLAC) and re-encoded to AAC otherwise.
Frames stream through in small batches: memory does not grow with the length of the video. The output
is written to a temporary file beside the target and renamed at the end, so a failed, cancelled or
interrupted run leaves nothing behind (and a temporary file left by a killed run is removed by the next run
to the same target). Every decoded frame is held to the pixel limit, not only the first: a clip may change
size mid-stream.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import torch

from studio.config import check_number
from studio.errors import StudioError
from studio.infer.frames import FrameStylizer
from studio.infer.temporal import STABILIZE_DEFAULT, Stabilizer
from studio.io.fileio import atomic_path
from studio.io.media import fit_size
from studio.limits import limits
from studio.model import StyleModel, StyleSpec
from studio.progress import Cancelled, Event, Flag, check_cancel, wants_stop

COPY_AUDIO = frozenset({"aac", "mp3", "opus", "alac", "flac"})  # codecs mp4 carries as they are
CRF = 18  # x264 quality: visually lossless for most content
COMPILE_FROM_PIXELS = 2000 * 1920 * 1080  # frames x pixels from which torch.compile pays off (see below)
DECODER_SLACK = 4  # the decoder itself refuses frames this many times above the pixel limit (see _guard)
STALE_TEMP_SECONDS = 3600  # a temporary output untouched this long was left by a killed run (see _remove_stale)


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    fps: float  # average frame rate
    frames: int | None  # as the container states it (may be missing or approximate)
    duration: float | None  # seconds
    codec: str
    audio: str | None  # audio codec, None without sound


@dataclass(frozen=True)
class VideoProgress(Event):
    """One report of :func:`stylize_video`: frames written of those expected, seconds so far."""

    frame: int  # frames written so far
    frames: int | None  # expected total (from the container; may be approximate)
    elapsed: float  # seconds

    @property
    def done(self) -> int:
        return self.frame

    @property
    def total(self) -> int | None:
        return self.frames

    @property
    def eta(self) -> float | None:
        """Seconds left at the pace so far; None before the first frame or without a total."""
        if not self.frames or self.frame == 0:
            return None
        return self.elapsed / self.frame * max(0, self.frames - self.frame)


def _av() -> Any:
    try:
        import av
    except ImportError:  # pragma: no cover - a dependency
        raise StudioError("video needs PyAV: run ./setup.sh (pip install av)") from None
    av.logging.set_level(av.logging.PANIC)  # FFmpeg speaks through our one-line errors instead
    return av


def _open(path: Path) -> Any:
    av = _av()
    if not path.is_file():
        raise StudioError(f"video not found: {path}")
    try:
        return av.open(str(path), metadata_errors="ignore")
    except (av.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise StudioError(f"{path.name} is not a readable video ({_reason(exc)})") from None


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


def _info(container: Any, path: Path) -> VideoInfo:
    if not container.streams.video:
        kind = "audio only" if container.streams.audio else "no streams"
        raise StudioError(f"{path.name} has no video stream ({kind})")
    vs = container.streams.video[0]
    cc = vs.codec_context
    rate = vs.average_rate or vs.guessed_rate or Fraction(30)
    duration = None
    if vs.duration is not None and vs.time_base is not None:
        duration = float(vs.duration * vs.time_base)
    elif container.duration is not None:
        duration = container.duration / 1_000_000
    frames = vs.frames or (round(duration * float(rate)) if duration else None)
    audio = container.streams.audio[0].codec_context.name if container.streams.audio else None
    return VideoInfo(cc.width, cc.height, float(rate), frames or None, duration, cc.name, audio)


def probe(path: str | os.PathLike[str]) -> VideoInfo:
    """Size, frame rate, length and codecs of a video file."""
    p = Path(path)
    with _open(p) as container:
        return _info(container, p)


def stylize_video(
    model: StyleModel,
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    style: StyleSpec = None,
    intensity: float = 1.0,
    preserve_color: bool = False,
    max_size: int | None = None,
    stabilize: bool | float = False,
    on_progress: Callable[[VideoProgress], Any] | None = None,
    cancel: Flag | None = None,
    max_seconds: float | None = None,
    max_pixels: int | None = None,
    max_frames: int | None = None,
    batch: int | None = None,
) -> Path:
    """Stylize ``src`` into ``dst`` (.mp4, H.264 + the original audio); returns ``dst``.

    ``max_size`` caps the longer side (the size is kept otherwise; odd sizes lose one pixel, as H.264
    needs even ones). ``stabilize``: True (``temporal.STABILIZE_DEFAULT``) or a strength in [0, 1) blends
    each frame with the previous result along the optical flow (see :mod:`studio.infer.temporal`).
    ``on_progress`` gets a :class:`VideoProgress` about twice a second and may return False to stop;
    ``cancel`` (a :class:`~studio.progress.CancelToken`, a ``threading.Event``) is polled before each batch of
    frames. Stopped, it raises :class:`~studio.progress.Cancelled` and writes nothing (see :mod:`studio.progress`).
    Videos longer than ``max_seconds``, with more than ``max_frames`` frames or with frames above ``max_pixels``
    are refused; each defaults to the limit in force (:mod:`studio.limits`: ``STUDIO_MAX_VIDEO_SECONDS``,
    ``STUDIO_MAX_VIDEO_FRAMES``, ``STUDIO_MAX_VIDEO_PIXELS``).
    """
    src_p, dst_p = Path(src), Path(dst)
    check_number("intensity", intensity, 0.0, 1.0)
    bounds = limits()
    max_seconds = bounds.video_seconds if max_seconds is None else max_seconds
    max_pixels = bounds.video_pixels if max_pixels is None else max_pixels
    max_frames = bounds.video_frames if max_frames is None else max_frames
    if dst_p.suffix.lower() != ".mp4":
        raise StudioError(f"video output must be an .mp4 file, got {dst_p.name!r}")
    if max_size is not None:
        fit_size(1, 1, max_size)  # validates
    if src_p.resolve() == dst_p.resolve():
        raise StudioError("the output would overwrite the input video; pick another name")
    _remove_stale(dst_p)
    strength = STABILIZE_DEFAULT if stabilize is True else float(stabilize or 0.0)
    stabilizer = Stabilizer(strength) if strength else None
    av = _av()

    with _open(src_p) as container:
        info = _info(container, src_p)
        _check_header(info, src_p.name, max_seconds, max_frames, max_pixels)
        size = _output_size(src_p, max_size, max_pixels)
        engine = FrameStylizer(
            model, style, intensity=intensity, preserve_color=preserve_color, compile=_worth_compiling(info)
        )
        vs = container.streams.video[0]
        vs.thread_type = "AUTO"
        _guard(vs, max_pixels)
        batch = batch or (8 if engine.fast else 1)
        job = _Job(src_p.name, info, size, batch, max_seconds, max_frames, max_pixels, on_progress, cancel)
        try:
            with atomic_path(dst_p) as tmp:
                _transcode(av, container, Path(tmp), engine, stabilizer, job)
        except av.FFmpegError as exc:
            raise StudioError(f"could not stylize {src_p.name}: {_reason(exc)}") from None
    return dst_p


@dataclass(frozen=True)
class _Job:
    """What one :func:`stylize_video` call asked for, as the steps of transcoding need it."""

    name: str  # the source file's name, for messages
    info: VideoInfo
    size: tuple[int, int]  # (width, height) of the output
    batch: int  # frames stylized at once
    max_seconds: float
    max_frames: int
    max_pixels: int
    on_progress: Callable[[VideoProgress], Any] | None
    cancel: Flag | None


def _check_header(info: VideoInfo, name: str, max_seconds: float, max_frames: int, max_pixels: int) -> None:
    """Refuse a video whose header already states it is over a limit (later frames are checked as they come)."""
    if info.width * info.height > max_pixels:
        raise StudioError(
            f"{name} is {info.width}x{info.height}; frames up to {max_pixels:,} pixels are accepted"
            " (use a smaller video)"
        )
    if info.duration is not None and info.duration > max_seconds:
        raise StudioError(f"{name} lasts {info.duration:.1f} s; the limit is {max_seconds:g} s")
    if info.frames is not None and info.frames > max_frames:
        raise StudioError(f"{name} has {info.frames:,} frames; the limit is {max_frames:,}")


def _remove_stale(dst: Path) -> None:
    """Remove temporary outputs for ``dst`` that a killed run (SIGKILL, power loss) could not clean up.

    :func:`~studio.io.fileio.atomic_path` names them ``.NAME.XXXXXXXX.tmp.mp4``; a live run keeps writing to its
    own, so only files untouched for ``STALE_TEMP_SECONDS`` go.
    """
    cutoff = time.time() - STALE_TEMP_SECONDS
    for tmp in dst.parent.glob(f".{dst.name}.*.tmp.mp4"):
        with contextlib.suppress(OSError):  # gone already, or not ours to remove
            if tmp.is_file() and tmp.stat().st_mtime < cutoff:
                tmp.unlink()


def _guard(vs: Any, max_pixels: int) -> None:
    """Have the decoder refuse frames far above the limit before it allocates them: a few bytes of JPEG can
    claim 20000x20000. Frames just above it decode and get :func:`_check_pixels`'s clearer message."""
    vs.codec_context.options = {"max_pixels": str(min(DECODER_SLACK * max_pixels, 2**31 - 1))}


def _check_pixels(frame: Any, index: int, max_pixels: int, name: str) -> None:
    """Refuse a decoded frame above ``max_pixels`` before it is converted: a clip can grow mid-stream (MJPEG,
    a changed stream), so the first frame's size, which the header states, bounds nothing."""
    if frame.width * frame.height > max_pixels:
        raise StudioError(
            f"{name}: frame {index + 1} is {frame.width}x{frame.height}; frames up to {max_pixels:,} pixels"
            " are accepted (use a smaller video)"
        )


def _worth_compiling(info: VideoInfo) -> bool:
    """torch.compile costs 10-20 s per job and saves ~5 ms a 1080p frame (H100): worth it from about 2,000
    such frames. Short clips run without it (a 10 s 640x360 clip: 2.2 s instead of 29 s, measured)."""
    frames = info.frames or 0
    return frames * info.width * info.height >= COMPILE_FROM_PIXELS


def _stylize_frames(engine: FrameStylizer, frames: np.ndarray) -> np.ndarray:
    """``engine(frames)``; out of GPU memory, the batch is split in halves (down to single frames)."""
    try:
        return engine(frames)
    except torch.OutOfMemoryError:
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        if len(frames) == 1:
            h, w = frames.shape[1:3]
            raise StudioError(f"out of GPU memory for a single {w}x{h} frame; use --max-size") from None
        half = len(frames) // 2
        return np.concatenate([_stylize_frames(engine, frames[:half]), _stylize_frames(engine, frames[half:])])


def _transcode(
    av: Any, container: Any, tmp: Path, engine: FrameStylizer, stabilizer: Stabilizer | None, job: _Job
) -> None:
    out = av.open(str(tmp), "w", format="mp4", options={"movflags": "+faststart"})
    try:
        _write(av, container, _Output(av, out, container, job.size), _Frames(engine, stabilizer, job), job)
    except BaseException:  # also KeyboardInterrupt: the caller removes the temporary file
        # Closing writes the trailer, which may fail after a failed mux; that must not replace the real error
        # (a Ctrl-C would turn into "could not stylize").
        with contextlib.suppress(Exception):
            out.close()
        raise
    out.close()


def _write(av: Any, container: Any, output: _Output, frames: _Frames, job: _Job) -> None:
    """Demux the source: audio packets straight to ``output``, video frames through ``frames`` (checked against
    the limits as they come: headers can lie); then flush everything and report the end."""
    vs = container.streams.video[0]
    for packet in container.demux(*([vs] if output.audio_in is None else [vs, output.audio_in])):
        if packet.stream.type == "audio":
            output.audio(packet, job.name)
            continue
        for vframe in _decode(av, packet, job.name, f" or has a frame far above {job.max_pixels:,} pixels"):
            if vframe.time is not None and vframe.time > job.max_seconds:
                raise StudioError(f"{job.name} runs past {job.max_seconds:g} s; that is the limit")
            index = frames.count
            if index >= job.max_frames:
                raise StudioError(f"{job.name} has more than {job.max_frames:,} frames; that is the limit")
            _check_pixels(vframe, index, job.max_pixels, job.name)
            rgb = _frame_rgb(vframe, size=job.size)  # later frames may differ in size: all become the first's
            frames.add(rgb, vframe.pts, output)
    frames.flush(output)
    if frames.written == 0:
        raise StudioError(f"{job.name} has no decodable video frames")
    output.finish()
    frames.report_end()


class _Output:
    """The output file's streams: H.264 video on the input's clock, the audio copied when mp4 carries its codec
    and re-encoded to AAC otherwise. Every stream exists before the first packet is muxed (that writes the
    file's header)."""

    def __init__(self, av: Any, out: Any, container: Any, size: tuple[int, int]) -> None:
        self.out = out
        vs = container.streams.video[0]
        self.av = av
        rate = vs.average_rate or vs.guessed_rate or Fraction(30)
        self.time_base = vs.time_base
        self.tick = max(1, round(1 / (float(rate) * float(vs.time_base))))  # one nominal frame, in ticks
        self.video = out.add_stream("libx264", rate=rate)
        self.video.width, self.video.height = size
        self.video.pix_fmt = "yuv420p"
        # The input's clock, for the stream and the encoder alike: each frame keeps its own timestamp. (The
        # encoder's default clock is 1/rate, which rounds a slow-motion burst of frames 1 ms apart onto one
        # tick: x264 then makes repeated dts, which the muxer refuses.)
        self.video.time_base = vs.time_base
        self.video.codec_context.time_base = vs.time_base
        self.video.options = {"crf": str(CRF), "preset": "veryfast"}
        self.audio_in = container.streams.audio[0] if container.streams.audio else None
        self.audio_out, self.copy_audio = None, False
        if self.audio_in is not None:
            self.copy_audio = self.audio_in.codec_context.name in COPY_AUDIO
            if self.copy_audio:
                self.audio_out = out.add_stream_from_template(self.audio_in)
            else:
                self.audio_out = out.add_stream("aac", rate=self.audio_in.codec_context.sample_rate or 48000)

    def frame(self, rgb: np.ndarray, pts: int) -> None:
        frame = self.av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        frame.pts, frame.time_base = pts, self.time_base
        for packet in self.video.encode(frame):
            self.out.mux(packet)

    def audio(self, packet: Any, name: str) -> None:
        if self.copy_audio:
            if packet.dts is not None:
                packet.stream = self.audio_out
                self.out.mux(packet)
            return
        for aframe in _decode(self.av, packet, name):
            aframe.pts = None
            for p in self.audio_out.encode(aframe):  # type: ignore[union-attr]
                self.out.mux(p)

    def finish(self) -> None:
        """Flush the encoders."""
        for packet in self.video.encode(None):
            self.out.mux(packet)
        if self.audio_out is not None and not self.copy_audio:
            for packet in self.audio_out.encode(None):
                self.out.mux(packet)


class _Frames:
    """Decoded frames in, a batch at a time through the engine (and the stabilizer), out to the encoder with
    strictly increasing timestamps; polls for a stop before each batch and reports progress twice a second."""

    def __init__(self, engine: FrameStylizer, stabilizer: Stabilizer | None, job: _Job) -> None:
        self.engine, self.stabilizer, self.job = engine, stabilizer, job
        self.pending: list[tuple[np.ndarray, int | None]] = []  # (rgb, pts)
        self.written = 0
        self.last_pts: int | None = None
        self.start = time.monotonic()
        self.last_report = 0.0

    @property
    def count(self) -> int:
        """Frames taken so far (written or waiting in the batch)."""
        return self.written + len(self.pending)

    def add(self, rgb: np.ndarray, pts: int | None, output: _Output) -> None:
        self.pending.append((rgb, pts))
        if len(self.pending) >= self.job.batch:
            self.flush(output)

    def flush(self, output: _Output) -> None:
        if not self.pending:
            return
        check_cancel(self.job.cancel, "stylizing the video; nothing was written")
        styled = _stylize_frames(self.engine, np.stack([rgb for rgb, _ in self.pending]))
        for (src_rgb, pts), rgb in zip(self.pending, styled, strict=True):
            if self.stabilizer is not None:
                rgb = self.stabilizer(src_rgb, rgb)
            self.last_pts = _next_pts(pts, self.last_pts, output.tick)
            output.frame(rgb, self.last_pts)
            self.written += 1
        self.pending.clear()
        now = time.monotonic()
        if self.job.on_progress is not None and now - self.last_report >= 0.5:
            self.last_report = now
            if wants_stop(self.job.on_progress(VideoProgress(self.written, self.job.info.frames, now - self.start))):
                raise Cancelled("video stylizing cancelled; nothing was written")

    def report_end(self) -> None:
        if self.job.on_progress is not None:
            self.job.on_progress(VideoProgress(self.written, self.written, time.monotonic() - self.start))


def _next_pts(pts: int | None, last: int | None, step: int) -> int:
    """The timestamp to encode: ``pts`` itself while timestamps increase; one tick past the previous one when
    it repeats or goes back (a duplicated or reordered stamp); one nominal frame (``step``) past it when the
    frame has none. mp4 needs strictly increasing timestamps; this changes as little of the timing as it can."""
    if last is None:
        return 0 if pts is None else pts
    if pts is None:
        return last + step
    return max(pts, last + 1)


def _output_size(path: Path, max_size: int | None, max_pixels: int) -> tuple[int, int]:
    """(width, height) of the output: the first frame, upright, fitted to ``max_size``, even sides."""
    av = _av()
    with _open(path) as container:
        _guard(container.streams.video[0], max_pixels)  # called after _info: there is a video stream
        try:
            first = next(container.decode(video=0), None)
        except av.FFmpegError as exc:
            raise StudioError(
                f"{path.name} is damaged or has a frame far above {max_pixels:,} pixels ({_reason(exc)})"
            ) from None
        if first is None:
            raise StudioError(f"{path.name} has no decodable video frames")
        _check_pixels(first, 0, max_pixels, path.name)  # the header's size, checked before, may not be the frame's
        w, h = _frame_size(first, max_size)[2:]
        return w, h


def _frame_size(frame: Any, max_size: int | None) -> tuple[int, int, int, int]:
    """(scaled width, scaled height) before turning, then (width, height) upright; even sides."""
    rotation = _rotation(frame)
    w, h = frame.width, frame.height
    upright_w, upright_h = (h, w) if rotation in (90, 270) else (w, h)
    nw, nh = fit_size(upright_w, upright_h, max_size)
    nw, nh = max(2, nw - nw % 2), max(2, nh - nh % 2)
    sw, sh = (nh, nw) if rotation in (90, 270) else (nw, nh)
    return sw, sh, nw, nh


def _rotation(frame: Any) -> int:
    """Phone videos store the picture sideways with a display matrix; ``frame.rotation`` is its angle,
    counter-clockwise, as FFmpeg's ``av_display_rotation_get`` gives it; snapped to quarter turns."""
    return round(float(getattr(frame, "rotation", 0) or 0) / 90) * 90 % 360


def _decode(av: Any, packet: Any, name: str, or_else: str = "") -> list[Any]:
    try:
        return list(packet.decode())
    except av.FFmpegError as exc:  # ``or_else``: another cause the error cannot tell apart (_guard's refusal)
        raise StudioError(f"{name} is damaged{or_else} ({_reason(exc)})") from None


def _frame_rgb(frame: Any, max_size: int | None = None, size: tuple[int, int] | None = None) -> np.ndarray:
    """Decoded frame -> (H, W, 3) uint8 RGB, turned upright: at ``size`` (upright width, height) when given,
    else at its own size fitted to ``max_size`` (even sides)."""
    rotation = _rotation(frame)
    if size is None:
        sw, sh, _, _ = _frame_size(frame, max_size)
    else:
        sw, sh = (size[1], size[0]) if rotation in (90, 270) else size
    rgb = frame.to_ndarray(format="rgb24", width=sw, height=sh, interpolation="AREA")
    if rotation:
        rgb = np.ascontiguousarray(np.rot90(rgb, k=rotation // 90))  # counter-clockwise quarter turns
    return rgb


def frames_of(path: str | os.PathLike[str], max_size: int | None = None, max_pixels: int | None = None) -> Any:
    """Yield (H, W, 3) uint8 RGB frames of a video (upright, at most ``max_size`` on the longer side). A frame
    above ``max_pixels`` (default: ``STUDIO_MAX_VIDEO_PIXELS``) stops it with a :class:`StudioError`."""
    p = Path(path)
    max_pixels = limits().video_pixels if max_pixels is None else max_pixels
    with _open(p) as container:
        _info(container, p)  # a clear error for files without video
        _guard(container.streams.video[0], max_pixels)
        for index, frame in enumerate(container.decode(video=0)):
            _check_pixels(frame, index, max_pixels, p.name)
            yield _frame_rgb(frame, max_size)


__all__ = ["VideoInfo", "VideoProgress", "frames_of", "probe", "stylize_video"]
