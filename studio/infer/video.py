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
from studio.infer.temporal import STABILIZE_DEFAULT
from studio.io.fileio import atomic_path
from studio.io.media import fit_size
from studio.limits import limits
from studio.model import StyleModel, StyleSpec

COPY_AUDIO = frozenset({"aac", "mp3", "opus", "alac", "flac"})  # codecs mp4 carries as they are
CRF = 18  # x264 quality: visually lossless for most content
COMPILE_FROM_PIXELS = 2000 * 1920 * 1080  # frames x pixels from which torch.compile pays off (see below)
DECODER_SLACK = 4  # the decoder itself refuses frames this many times above the pixel limit (see _guard)
STALE_TEMP_SECONDS = 3600  # a temporary output untouched this long was left by a killed run (see _remove_stale)


class Cancelled(StudioError):
    """The progress callback asked to stop; nothing was written."""


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
class VideoProgress:
    frame: int  # frames written so far
    frames: int | None  # expected total (from the container; may be approximate)
    elapsed: float  # seconds

    @property
    def eta(self) -> float | None:
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
    on_progress: Callable[[VideoProgress], bool | None] | None = None,
    max_seconds: float | None = None,
    max_pixels: int | None = None,
    max_frames: int | None = None,
    batch: int | None = None,
) -> Path:
    """Stylize ``src`` into ``dst`` (.mp4, H.264 + the original audio); returns ``dst``.

    ``max_size`` caps the longer side (the size is kept otherwise; odd sizes lose one pixel, as H.264
    needs even ones). ``stabilize``: True (``temporal.STABILIZE_DEFAULT``) or a strength in [0, 1) blends
    each frame with the previous result along the optical flow (see :mod:`studio.infer.temporal`).
    ``on_progress`` gets a :class:`VideoProgress` about twice a second and may return False to cancel (raises
    :class:`Cancelled`, writes nothing). Videos longer than ``max_seconds``, with more than ``max_frames`` frames or
    with frames above ``max_pixels`` are refused; each defaults to the limit in force (:mod:`studio.limits`:
    ``STUDIO_MAX_VIDEO_SECONDS``, ``STUDIO_MAX_VIDEO_FRAMES``, ``STUDIO_MAX_VIDEO_PIXELS``).
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
    stabilizer = None
    if strength:
        from studio.infer.temporal import Stabilizer

        stabilizer = Stabilizer(strength)
    av = _av()

    with _open(src_p) as container:
        info = _info(container, src_p)
        if info.width * info.height > max_pixels:
            raise StudioError(
                f"{src_p.name} is {info.width}x{info.height}; frames up to {max_pixels:,} pixels are accepted"
                " (use a smaller video)"
            )
        if info.duration is not None and info.duration > max_seconds:
            raise StudioError(f"{src_p.name} lasts {info.duration:.1f} s; the limit is {max_seconds:g} s")
        if info.frames is not None and info.frames > max_frames:
            raise StudioError(f"{src_p.name} has {info.frames:,} frames; the limit is {max_frames:,}")
        size = _output_size(src_p, max_size, max_pixels)
        engine = FrameStylizer(model, style, intensity=intensity, preserve_color=preserve_color,
                               compile=_worth_compiling(info))  # fmt: skip
        batch = batch or (8 if engine.fast else 1)
        vs = container.streams.video[0]
        vs.thread_type = "AUTO"
        _guard(vs, max_pixels)
        audio_in = container.streams.audio[0] if container.streams.audio else None
        try:
            with atomic_path(dst_p) as tmp:
                _transcode(av, container, vs, audio_in, Path(tmp), info, engine, stabilizer, batch,
                           (max_seconds, max_frames, max_pixels), on_progress, src_p.name, size)  # fmt: skip
        except av.FFmpegError as exc:
            raise StudioError(f"could not stylize {src_p.name}: {_reason(exc)}") from None
    return dst_p


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
    av: Any, container: Any, vs: Any, audio_in: Any, tmp: Path, info: VideoInfo, engine: FrameStylizer,
    stabilizer: Any, batch: int, bounds: tuple[float, int, int],
    on_progress: Callable[[VideoProgress], bool | None] | None, name: str, size: tuple[int, int],
) -> None:  # fmt: skip
    out = av.open(str(tmp), "w", format="mp4", options={"movflags": "+faststart"})
    try:
        _write(av, container, vs, audio_in, out, info, engine, stabilizer, batch, bounds, on_progress, name, size)
    except BaseException:  # also KeyboardInterrupt: the caller removes the temporary file
        # Closing writes the trailer, which may fail after a failed mux; that must not replace the real error
        # (a Ctrl-C would turn into "could not stylize").
        with contextlib.suppress(Exception):
            out.close()
        raise
    out.close()


def _write(
    av: Any, container: Any, vs: Any, audio_in: Any, out: Any, info: VideoInfo, engine: FrameStylizer,
    stabilizer: Any, batch: int, bounds: tuple[float, int, int],
    on_progress: Callable[[VideoProgress], bool | None] | None, name: str, size: tuple[int, int],
) -> None:  # fmt: skip
    max_seconds, max_frames, max_pixels = bounds
    rate = vs.average_rate or vs.guessed_rate or Fraction(30)
    # every stream must exist before the first packet is muxed (that writes the file's header)
    ov = out.add_stream("libx264", rate=rate)
    ov.width, ov.height = size
    ov.pix_fmt = "yuv420p"
    # The input's clock, for the stream and the encoder alike: each frame keeps its own timestamp. (The
    # encoder's default clock is 1/rate, which rounds a slow-motion burst of frames 1 ms apart onto one
    # tick: x264 then makes repeated dts, which the muxer refuses.)
    ov.time_base = vs.time_base
    ov.codec_context.time_base = vs.time_base
    ov.options = {"crf": str(CRF), "preset": "veryfast"}
    audio_out, copy_audio = None, False
    if audio_in is not None:
        copy_audio = audio_in.codec_context.name in COPY_AUDIO
        if copy_audio:
            audio_out = out.add_stream_from_template(audio_in)
        else:
            audio_out = out.add_stream("aac", rate=audio_in.codec_context.sample_rate or 48000)
    pending: list[tuple[np.ndarray, int | None, Any]] = []  # (rgb, pts, time_base)
    state: dict[str, Any] = {"written": 0, "last_pts": None, "last_report": 0.0}
    step = max(1, round(1 / (float(rate) * float(vs.time_base))))  # one nominal frame, in ticks
    start = time.monotonic()

    def flush() -> None:
        if not pending:
            return
        frames = np.stack([p[0] for p in pending])
        styled = _stylize_frames(engine, frames)
        for (src_rgb, pts, _), rgb in zip(pending, styled, strict=True):
            if stabilizer is not None:
                rgb = stabilizer(src_rgb, rgb)
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
            pts = _next_pts(pts, state["last_pts"], step)
            state["last_pts"] = pts
            frame.pts, frame.time_base = pts, vs.time_base
            for packet in ov.encode(frame):
                out.mux(packet)
            state["written"] += 1
        pending.clear()
        now = time.monotonic()
        if on_progress is not None and now - state["last_report"] >= 0.5:
            state["last_report"] = now
            if on_progress(VideoProgress(state["written"], info.frames, now - start)) is False:
                raise Cancelled("video stylizing cancelled; nothing was written")

    streams = [vs] + ([audio_in] if audio_in is not None else [])
    for packet in container.demux(*streams):
        if packet.stream.type == "audio":
            if copy_audio:
                if packet.dts is not None:
                    packet.stream = audio_out
                    out.mux(packet)
            else:
                for aframe in _decode(av, packet, name):
                    aframe.pts = None
                    for p in audio_out.encode(aframe):
                        out.mux(p)
            continue
        for vframe in _decode(av, packet, name, f" or has a frame far above {max_pixels:,} pixels"):
            if vframe.time is not None and vframe.time > max_seconds:
                raise StudioError(f"{name} runs past {max_seconds:g} s; that is the limit")
            index = state["written"] + len(pending)
            if index >= max_frames:  # headers can lie about the count
                raise StudioError(f"{name} has more than {max_frames:,} frames; that is the limit")
            _check_pixels(vframe, index, max_pixels, name)
            rgb = _frame_rgb(vframe, size=size)  # later frames may differ in size: all become the first's
            pending.append((rgb, vframe.pts, vframe.time_base))
            if len(pending) >= batch:
                flush()
    flush()
    if state["written"] == 0:
        raise StudioError(f"{name} has no decodable video frames")
    for packet in ov.encode(None):
        out.mux(packet)
    if audio_out is not None and not copy_audio:
        for packet in audio_out.encode(None):
            out.mux(packet)
    if on_progress is not None:
        on_progress(VideoProgress(state["written"], state["written"], time.monotonic() - start))


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


__all__ = ["Cancelled", "VideoInfo", "VideoProgress", "frames_of", "probe", "stylize_video"]
