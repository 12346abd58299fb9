"""Video files through the engine and the CLI: frames, timing, size and sound survive; bad input is refused;
stabilization lowers the warping error on a moving scene."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import synthetic_photo, tiny_model

av = pytest.importorskip("av")

from studio import StudioError  # noqa: E402
from studio.cli import main  # noqa: E402
from studio.infer.temporal import GAIN_MAX, Stabilizer, mean_warping_error, restore_detail  # noqa: E402
from studio.infer.video import frames_of, probe, stylize_video  # noqa: E402
from studio.progress import Cancelled  # noqa: E402


def moving_scene(n: int, w: int, h: int, noise: float = 0.0, seed: int = 0) -> list[np.ndarray]:
    """A photo-like scene panning right 2 px per frame, with optional per-frame sensor noise."""
    rng = np.random.default_rng(seed)
    world = synthetic_photo(w + 2 * n + 8, h, seed).astype(np.float32)
    frames = []
    for i in range(n):
        f = world[:, 2 * i : 2 * i + w] + rng.normal(0, noise, (h, w, 3))
        frames.append(np.clip(f, 0, 255).astype(np.uint8))
    return frames


def write_video(
    path: Path,
    frames: list[np.ndarray],
    fps: int = 20,
    audio: str | None = "aac",
    vfr: bool = False,
    codec: str = "libx264",
    rotation: int = 0,
) -> Path:
    """Encode frames (and a 440 Hz tone as long as the video) with PyAV; ``rotation``: a display matrix, as
    phones write."""
    fmt = "webm" if path.suffix == ".webm" else None
    with av.open(str(path), "w", format=fmt) as out:
        vs = out.add_stream(codec, rate=fps)
        vs.width, vs.height = frames[0].shape[1], frames[0].shape[0]
        vs.pix_fmt = "yuv420p"
        vs.codec_context.time_base = Fraction(1, 1000)
        if rotation:
            vs.set_display_rotation(rotation)
        astream = None
        if audio:
            astream = out.add_stream(audio, rate=48000)
            astream.layout = "mono"
        t = 0
        for i, f in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(f, format="rgb24")
            frame.pts = t
            frame.time_base = Fraction(1, 1000)
            t += (1000 // fps) * (3 if vfr and i % 4 == 3 else 1)  # every fourth frame held three times longer
            for p in vs.encode(frame):
                out.mux(p)
        for p in vs.encode(None):
            out.mux(p)
        if astream is not None:
            seconds = t / 1000
            samples = (0.3 * np.sin(2 * np.pi * 440 * np.arange(int(48000 * seconds)) / 48000)).astype(np.float32)
            for start in range(0, len(samples), 1024):
                chunk = samples[start : start + 1024][None]
                frame = av.AudioFrame.from_ndarray(chunk, format="flt", layout="mono")
                frame.sample_rate = 48000
                frame.pts = start
                for p in astream.encode(frame):
                    out.mux(p)
            for p in astream.encode(None):
                out.mux(p)
    return path


def _timestamps(path: Path) -> list[float]:
    with av.open(str(path)) as c:
        return [float(f.time) for f in c.decode(video=0)]


def test_round_trip_keeps_frames_timing_size_and_sound(tmp_path: Path) -> None:
    src = write_video(tmp_path / "in.mp4", moving_scene(24, 96, 64), fps=20)
    model = tiny_model()
    seen = []
    out = stylize_video(model, src, tmp_path / "out.mp4", on_progress=lambda p: seen.append(p) and None)
    info, src_info = probe(out), probe(src)
    assert (info.width, info.height) == (96, 64) and info.codec == "h264"
    assert info.audio == "aac"  # the sound, copied
    assert info.frames == 24 and abs(info.fps - 20) < 0.01
    assert _timestamps(out) == pytest.approx(_timestamps(src), abs=1e-3)
    with av.open(str(out)) as c:
        assert c.streams.video[0].codec_context.pix_fmt == "yuv420p"  # what browsers play
        a_dur = float(c.streams.audio[0].duration * c.streams.audio[0].time_base)
    assert abs(a_dur - src_info.duration) < 0.1
    assert seen and seen[-1].frame == 24
    # the frames are the model's: compare with stylizing the decoded source frames as photos
    first_out = next(iter(frames_of(out)))
    first_src = next(iter(frames_of(src)))

    def diff(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.abs(a.astype(float) - b).mean())

    # H.264's 4:2:0 chroma halves colour resolution, so compare against what else it could have been
    err = diff(first_out, model.stylize(first_src))
    assert err < 8 and err < 0.4 * diff(first_out, tiny_model(seed=5).stylize(first_src))
    assert err < 0.4 * diff(first_out, first_src)


def test_variable_frame_rate_webm_and_max_size(tmp_path: Path) -> None:
    src = write_video(
        tmp_path / "in.webm", moving_scene(12, 120, 90), fps=20, audio="libopus", vfr=True, codec="libvpx-vp9"
    )
    out = stylize_video(tiny_model(), src, tmp_path / "out.mp4", max_size=61)
    info = probe(out)
    assert (info.width, info.height) == (60, 46)  # 61 x 45.75 -> 61 x 46 -> even sides
    assert info.audio == "opus"
    assert _timestamps(out) == pytest.approx(_timestamps(src), abs=2e-3)  # uneven gaps kept


def test_audio_is_reencoded_when_mp4_cannot_carry_it(tmp_path: Path) -> None:
    src = write_video(tmp_path / "in.mkv", moving_scene(6, 64, 48), audio="pcm_s16le")
    out = stylize_video(tiny_model(), src, tmp_path / "out.mp4")
    assert probe(out).audio == "aac"


@pytest.mark.parametrize(("rotation", "band"), [(90, "bottom"), (-90, "top"), (180, "right")])
def test_phone_videos_are_turned_upright(tmp_path: Path, rotation: int, band: str) -> None:
    """Phones store the picture sideways with a display matrix; players turn it (FFmpeg: 90 is a quarter turn
    counter-clockwise). The stored frames here have a white band on the left."""
    stored = np.zeros((32, 64, 3), np.uint8)
    stored[:, :8] = 255
    path = write_video(tmp_path / "phone.mp4", [stored] * 3, fps=10, audio=None, rotation=rotation)
    frame = next(frames_of(path)).astype(int)
    h, w = (32, 64) if rotation == 180 else (64, 32)
    assert frame.shape == (h, w, 3)
    edge = {"bottom": frame[-4:], "top": frame[:4], "right": frame[:, -4:]}[band]
    assert edge.mean() > 200 and frame.mean() < 80, (edge.mean(), frame.mean())
    out = stylize_video(tiny_model(), path, tmp_path / "o.mp4")
    info = probe(out)
    assert (info.width, info.height) == (w, h) and info.frames == 3


def test_bad_input_is_refused_and_nothing_is_left(tmp_path: Path) -> None:
    model = tiny_model()
    (tmp_path / "text.mp4").write_text("not a video")
    with pytest.raises(StudioError, match="text.mp4 is not a readable video"):
        stylize_video(model, tmp_path / "text.mp4", tmp_path / "o.mp4")
    good = write_video(tmp_path / "in.mp4", moving_scene(10, 64, 48))
    data = good.read_bytes()
    (tmp_path / "cut.mp4").write_bytes(data[: len(data) // 3])
    with pytest.raises(StudioError):
        stylize_video(model, tmp_path / "cut.mp4", tmp_path / "o.mp4")
    audio_only = tmp_path / "tone.m4a"
    with av.open(str(audio_only), "w", format="mp4") as out:
        s = out.add_stream("aac", rate=48000)
        s.layout = "mono"
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="flt", layout="mono")
        frame.sample_rate = 48000
        for p in [*s.encode(frame), *s.encode(None)]:
            out.mux(p)
    with pytest.raises(StudioError, match="no video stream \\(audio only\\)"):
        stylize_video(model, audio_only, tmp_path / "o.mp4")
    with pytest.raises(StudioError, match="lasts 0.5 s; the limit is 0.4 s"):
        stylize_video(model, good, tmp_path / "o.mp4", max_seconds=0.4)
    with pytest.raises(StudioError, match="frames up to 1,000 pixels"):
        stylize_video(model, good, tmp_path / "o.mp4", max_pixels=1000)
    with pytest.raises(StudioError, match="must be an .mp4"):
        stylize_video(model, good, tmp_path / "o.avi")
    with pytest.raises(Cancelled):
        stylize_video(model, good, tmp_path / "o.mp4", on_progress=lambda p: False, batch=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.mp4", "in.mp4", "text.mp4", "tone.m4a"]


def detail_energy(image: np.ndarray) -> float:
    """Mean squared difference from a Gaussian blur (sigma 2 px): how much fine texture an image has."""
    import cv2

    f = image.astype(np.float32)
    return float(((f - cv2.GaussianBlur(f, (0, 0), 2.0)) ** 2).mean())


def test_restore_detail_gives_back_the_contrast_that_blending_took() -> None:
    rng = np.random.default_rng(0)
    a, b = (rng.normal(128, 30, (64, 80, 3)).astype(np.float32) for _ in range(2))  # two unrelated textures
    blend = 0.5 * a + 0.5 * b
    assert detail_energy(blend) < 0.6 * detail_energy(a)  # averaging halves the texture's energy
    restored = restore_detail(blend, a)
    assert 0.9 <= detail_energy(restored) / detail_energy(a) <= 1.1
    assert np.abs(restored.mean((0, 1)) - blend.mean((0, 1))).max() < 1.0  # colours stay; only contrast
    assert np.allclose(restore_detail(a, a), a, atol=1e-3)  # nothing to give back: unchanged
    capped = restore_detail(0.2 * blend + 102.4, a)  # a fifth of the contrast left: the gain stops at GAIN_MAX
    assert abs(detail_energy(capped) / detail_energy(0.2 * blend) - GAIN_MAX**2) < 0.15 * GAIN_MAX**2
    flat = np.full((32, 32, 3), 90, np.float32)
    assert np.array_equal(restore_detail(flat, flat), flat)


def test_stabilization_lowers_the_warping_error(tmp_path: Path) -> None:
    """Noise on a panning scene makes per-frame stylization flicker; the stabilizer must remove at least
    half of the warping error (measured with Farneback flow, not the stabilizer's own DIS flow) without
    softening the texture."""
    frames = moving_scene(16, 128, 96, noise=6.0, seed=3)
    model = tiny_model(seed=1)
    plain = [model.stylize(f) for f in frames]
    stab = Stabilizer()  # the default strength
    steady = [stab(f, p) for f, p in zip(frames, plain, strict=True)]

    e_plain, e_steady = mean_warping_error(frames, plain), mean_warping_error(frames, steady)
    assert e_steady <= 0.5 * e_plain, (e_plain, e_steady)
    assert stab.cuts == 0
    # ... and the strokes keep their contrast: blending alone would average the flickering detail away
    kept = np.mean([detail_energy(s) for s in steady[1:]]) / np.mean([detail_energy(p) for p in plain[1:]])
    assert 0.9 <= kept <= 1.1, kept
    # a scene cut is not smeared: the stabilizer restarts on the new picture
    other = synthetic_photo(128, 96, seed=9)
    cut = stab(other, model.stylize(other))
    assert stab.cuts == 1 and np.array_equal(cut, model.stylize(other))


def test_cli_video(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import studio.infer.temporal

    strengths = []  # what the CLI asked the stabilizer for
    real = studio.infer.temporal.Stabilizer.__init__
    monkeypatch.setattr(
        studio.infer.temporal.Stabilizer, "__init__", lambda self, s, *a: (strengths.append(s), real(self, s, *a))[1]
    )
    model_path = tiny_model().save(tmp_path / "m.safetensors")
    src = write_video(tmp_path / "in.mp4", moving_scene(8, 64, 48))
    code = main(
        ["video", str(model_path), str(src), "-o", str(tmp_path / "o.mp4"), "--stabilize", "--intensity", "0.8"]
    )
    assert code == 0 and probe(tmp_path / "o.mp4").frames == 8
    assert main(["video", str(model_path), str(src), "-o", str(tmp_path / "p.mp4"), "--stabilize", "0.6"]) == 0
    assert strengths == [studio.infer.temporal.STABILIZE_DEFAULT, 0.6]  # the bare flag is the documented default
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main(["video", "--help"])
    assert f"default {studio.infer.temporal.STABILIZE_DEFAULT:g})" in " ".join(capsys.readouterr().out.split())
    assert main(["video", str(model_path), str(tmp_path / "nope.mp4"), "-o", str(tmp_path / "x.mp4")]) == 2
    err = capsys.readouterr().err
    assert "video not found" in err and "Traceback" not in err


def test_frame_engine_is_the_photo_path_on_the_cpu() -> None:
    """fast=False is the reference (exactly StyleModel.stylize); the fast CPU path (onnxruntime, sub-pixel
    decoder) stays within one level of it, and style, intensity and colour settings take effect."""
    from studio.infer.frames import FrameOptions, FrameStylizer

    model = tiny_model(num_styles=2)
    frames = np.stack([synthetic_photo(70, 50, s) for s in range(3)])
    want = np.stack([model.stylize(f, style={0: 0.3, 1: 0.7}, intensity=0.8, preserve_color=True) for f in frames])
    reference = FrameStylizer(model, style={0: 0.3, 1: 0.7}, intensity=0.8, preserve_color=True, fast=False)
    assert not reference.fast and reference.backend == "torch"
    assert np.array_equal(reference(frames), want)
    for cpu in ("onnxruntime", "torch"):
        options = FrameOptions(cpu_backend=cpu)
        engine = FrameStylizer(model, style={0: 0.3, 1: 0.7}, intensity=0.8, preserve_color=True, options=options)
        assert engine.backend == cpu and not engine.fast  # `fast` is the CUDA path (videos batch by it)
        diff = np.abs(engine(frames).astype(int) - want)
        assert diff.max() <= 1 and diff.mean() < 0.05, (cpu, diff.max(), diff.mean())
        engine.configure(1)
        photo = model.stylize(frames[0], style=1)
        assert np.abs(engine(frames[0]).astype(int) - photo).max() <= 1
        assert np.abs(engine(frames[0]).astype(int) - want[0]).mean() > 5  # the other style really differs
        with pytest.raises(StudioError, match="frames must be uint8 RGB"):
            engine(frames.astype(np.float32))
        with pytest.raises(StudioError, match="intensity"):
            engine.configure(0, intensity=2.0)


def test_subpixel_decoder_computes_the_same_sums() -> None:
    """The CPU path's rewrite of upsample-then-convolve as a sub-pixel convolution is exact arithmetic."""
    import copy

    import torch

    from studio.infer.frames import use_subpixel_decoder

    for use_case in ("video", "image"):
        net = copy.deepcopy(tiny_model(num_styles=2, use_case=use_case).network).eval().double()
        reference = copy.deepcopy(net)
        use_subpixel_decoder(net)
        for h, w in ((52, 36), (16, 16)):
            x = torch.rand(2, 3, h, w, dtype=torch.float64)
            style = torch.tensor([[0.3, 0.7], [1.0, 0.0]], dtype=torch.float64)
            assert type(net.up[0]).__name__ == "_SubpixelUp"
            assert torch.allclose(net(x, style), reference(x, style), atol=1e-12)


def test_split_edge_convolutions_compute_the_same_sums() -> None:
    """The GPU path's reordering of the 9x9 RGB convolutions (9x1 over shifted copies) is exact arithmetic."""
    import copy

    import torch

    from studio.infer.frames import use_split_edges

    for use_case in ("video", "image"):
        net = copy.deepcopy(tiny_model(num_styles=2, use_case=use_case).network).eval().double()
        reference = copy.deepcopy(net)
        use_split_edges(net)
        x = torch.rand(2, 3, 52, 36, dtype=torch.float64)
        style = torch.tensor([[0.3, 0.7], [1.0, 0.0]], dtype=torch.float64)
        assert type(net.head).__name__ == "_SplitOut"
        assert torch.allclose(net(x, style), reference(x, style), atol=1e-12)


def test_out_of_memory_splits_the_frame_batch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A GPU out of memory for 8 frames at once gets them in smaller batches; the video is complete."""
    import torch

    from studio.infer.frames import FrameStylizer

    calls: list[int] = []
    original = FrameStylizer.__call__

    def small_gpu(self, frames):  # noqa: ANN001, ANN202
        calls.append(len(frames))
        if len(frames) > 2:
            raise torch.OutOfMemoryError("fake")
        return original(self, frames)

    monkeypatch.setattr(FrameStylizer, "__call__", small_gpu)
    src = write_video(tmp_path / "in.mp4", moving_scene(12, 64, 48), audio=None)
    out = stylize_video(tiny_model(), src, tmp_path / "out.mp4", batch=8)
    assert probe(out).frames == 12 and 8 in calls and max(c for c in calls if c <= 2) == 2


def test_a_cancel_flag_stops_the_video_between_batches_and_writes_nothing(tmp_path: Path) -> None:
    """studio.progress's convention: ``cancel`` is polled before each batch; stopped, nothing is written. Every
    report is an Event: done = frames written, total = frames expected."""
    import threading

    from studio.progress import CancelToken, Event

    src = write_video(tmp_path / "in.mp4", moving_scene(6, 64, 48), audio=None)
    model = tiny_model()
    stop = threading.Event()
    stop.set()
    with pytest.raises(Cancelled, match="nothing was written"):
        stylize_video(model, src, tmp_path / "out.mp4", cancel=stop, batch=2)
    with pytest.raises(Cancelled) as timed:
        stylize_video(model, src, tmp_path / "out.mp4", cancel=CancelToken(seconds=0.0), batch=2)
    assert timed.value.timed_out and sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4"]
    seen: list[Any] = []
    stylize_video(model, src, tmp_path / "out.mp4", cancel=threading.Event(), on_progress=seen.append, batch=2)
    last = seen[-1]
    assert isinstance(last, Event) and last.done == last.total == 6 and last.fraction == 1.0


def test_frame_options_refuse_a_bad_value_naming_it() -> None:
    from studio.infer.frames import FrameOptions, FrameStylizer

    with pytest.raises(StudioError, match="cpu_backend must be one of onnxruntime, torch; got 'gpu'"):
        FrameOptions(cpu_backend="gpu")  # type: ignore[arg-type]
    with pytest.raises(StudioError, match="edges must be one of split, plain; got 'none'"):
        FrameOptions(edges="none")  # type: ignore[arg-type]
    with pytest.raises(StudioError, match="channels_last must be True or False; got 'yes'"):
        FrameOptions(channels_last="yes")  # type: ignore[arg-type]
    with pytest.raises(StudioError, match="options must be a FrameOptions; got dict"):
        FrameStylizer(tiny_model(), options={"edges": "plain"})  # type: ignore[arg-type]
    assert FrameStylizer(tiny_model(), options=FrameOptions(cpu_backend="torch")).backend == "torch"
