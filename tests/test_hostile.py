"""Hostile input: a corpus of broken, lying and odd files (made here, by the tests), through the engine's
API, the command line and the running studio. Each bad file gets one clear error naming the problem, odd but
valid files just work, nothing is written outside the studio's data folder, no partial file remains, and the
studio keeps serving."""

from __future__ import annotations

import io
import pickle
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import synthetic_photo, tiny_model
from PIL import Image
from safetensors.torch import save_file

import studio
from studio import StudioError
from studio.cli import main

# name -> the error's words, for files that must be refused
BAD_IMAGES = {
    "empty.jpg": "empty file",
    "truncated.jpg": "not a readable image",
    "truncated.png": "not a readable image",
    "truncated.webp": "not a readable image",
    "text.jpg": "unrecognised image format",
    "bomb.png": "too large",
}
# odd but valid: each must stylize to its own size
ODD_IMAGES = ["animated.gif", "animated.webp", "cmyk.jpg", "16bit.png", "1x1.png", "palette.png", "photo.heic"]
BAD_MODELS = {
    "pickle.safetensors": "not a readable safetensors model",
    "plain.safetensors": "not a style-studio model",
    "shapes.safetensors": "do not match the model config",
    "huge.safetensors": "network channels must be between 1 and 1024",
    "names.safetensors": "has 3 styles but its config names 1",
}


def _encoded(image: Image.Image, fmt: str, **kw: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **kw)
    return buffer.getvalue()


def _png_claiming(width: int, height: int) -> bytes:
    """A real 1x1 PNG whose header claims width x height (a decompression bomb's first bytes)."""
    data = bytearray(_encoded(Image.new("RGB", (1, 1)), "PNG"))
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])) & 0xFFFFFFFF)
    return bytes(data)


def make_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    photo = Image.fromarray(synthetic_photo(96, 64, 0))
    files: dict[str, bytes] = {
        "empty.jpg": b"",
        "truncated.jpg": _encoded(photo, "JPEG")[:700],
        "truncated.png": _encoded(photo, "PNG")[:900],
        "truncated.webp": _encoded(photo, "WEBP")[:300],
        "text.jpg": b"this is a text file, not a JPEG\n" * 20,
        "bomb.png": _png_claiming(40000, 40000),
        "cmyk.jpg": _encoded(photo.convert("CMYK"), "JPEG"),
        "16bit.png": _encoded(Image.fromarray((np.arange(64 * 96).reshape(64, 96) * 9).astype(np.uint16)), "PNG"),
        "1x1.png": _encoded(Image.new("RGB", (1, 1), (200, 10, 10)), "PNG"),
    }
    frames = [Image.fromarray(synthetic_photo(96, 64, s)) for s in range(3)]
    files["animated.gif"] = _encoded(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    files["animated.webp"] = _encoded(frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=100)
    palette = photo.convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    files["palette.png"] = _encoded(palette, "PNG", transparency=0)
    try:
        import pillow_heif

        pillow_heif.register_heif_opener()
        files["photo.heic"] = _encoded(photo, "HEIF")
    except Exception:  # noqa: BLE001 - no HEIF encoder here: that case is skipped
        files["photo.heic"] = b""
    for name, data in files.items():
        (folder / name).write_bytes(data)

    # videos: a truncated mp4 and a file with sound only
    from test_video import moving_scene, write_video

    good = write_video(folder / "good.mp4", moving_scene(6, 64, 48))
    (folder / "corrupt.mp4").write_bytes(good.read_bytes()[: good.stat().st_size // 3])
    _audio_only(folder / "audio-only.mp4")

    # models: a pickle under the safetensors name, and safetensors that lie
    with open(folder / "pickle.safetensors", "wb") as f:
        pickle.dump({"weights": [1, 2, 3]}, f)
    save_file({"x": torch.zeros(2)}, str(folder / "plain.safetensors"))
    model = tiny_model(num_styles=3)
    good_model = model.save(folder / "model.safetensors")
    _rewrite(good_model, folder / "shapes.safetensors", tensors=lambda t: {k: v[..., :1] for k, v in t.items()})
    _rewrite(
        good_model,
        folder / "huge.safetensors",
        header=lambda h: h.replace('"channels": [8, 16, 32]', '"channels": [8, 16, 1000000]'),
    )
    _rewrite(good_model, folder / "names.safetensors", header=lambda h: h.replace('"s0", "s1", "s2"', '"s0"'))

    # content zips: a member climbing out with ../, and a bomb (a member whose header lies about its size)
    with zipfile.ZipFile(folder / "escape.zip", "w") as z:
        z.writestr("../../escaped.png", _encoded(photo, "PNG"))
        z.writestr("/abs/evil.png", _encoded(photo, "PNG"))
    _zip_bomb(folder / "bomb.zip")
    return folder


def _audio_only(path: Path) -> None:
    import av

    with av.open(str(path), "w") as out:
        stream = out.add_stream("aac", rate=48000)
        stream.layout = "mono"
        samples = (0.2 * np.sin(np.arange(48000) / 10)).astype(np.float32)
        for start in range(0, len(samples), 1024):
            frame = av.AudioFrame.from_ndarray(samples[start : start + 1024][None], format="flt", layout="mono")
            frame.sample_rate = 48000
            for p in stream.encode(frame):
                out.mux(p)
        for p in stream.encode(None):
            out.mux(p)


def _rewrite(src: Path, dst: Path, tensors=None, header=None) -> None:  # type: ignore[no-untyped-def]
    """Copy a model file with its tensors or its header text changed (a file that lies)."""
    from safetensors import safe_open

    with safe_open(str(src), framework="pt") as f:
        meta = dict(f.metadata())
        state = {k: f.get_tensor(k) for k in f.keys()}
    if tensors is not None:
        state = {k: v.contiguous() for k, v in tensors(state).items()}
    if header is not None:
        meta["studio"] = header(meta["studio"])
        assert meta["studio"] != dict(safe_open(str(src), framework="pt").metadata())["studio"]
    save_file(state, str(dst), metadata=meta)


def _zip_bomb(path: Path) -> None:
    """A zip whose one member says 1 KB but inflates to 3 GB of zeros would be the classic; this one stays
    small on disk: its central directory claims a 3 GB member (the limit check reads the headers)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("big.png", b"\0" * 1_000_000)
    data = bytearray(path.read_bytes())
    central = data.rfind(b"PK\x01\x02")
    data[central + 24 : central + 28] = struct.pack("<I", 3_000_000_000)  # uncompressed size
    path.write_bytes(bytes(data))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_corpus(tmp_path_factory.mktemp("corpus"))


# --- the engine's API --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(BAD_IMAGES))
def test_api_refuses_bad_images(corpus: Path, name: str, tmp_path: Path) -> None:
    model = tiny_model()
    with pytest.raises(StudioError, match=BAD_IMAGES[name]) as info:
        model.stylize(corpus / name, out_dir=tmp_path)
    assert "\n" not in str(info.value) and name in str(info.value)
    assert list(tmp_path.iterdir()) == []  # nothing written, not even a partial file
    with pytest.raises(StudioError, match=BAD_IMAGES[name]):
        studio.Trainer(corpus / name, corpus / "cmyk.jpg", studio.TrainConfig(iterations=1))


@pytest.mark.parametrize("name", ODD_IMAGES)
def test_api_takes_odd_but_valid_images(corpus: Path, name: str) -> None:
    if (corpus / name).stat().st_size == 0:
        pytest.skip("pillow-heif cannot encode here")
    image = studio.io.media.open_image(corpus / name)
    assert tiny_model().stylize(image).size == image.size


@pytest.mark.parametrize("name", sorted(BAD_MODELS))
def test_api_refuses_bad_model_files(corpus: Path, name: str) -> None:
    with pytest.raises(StudioError, match=BAD_MODELS[name]):
        studio.load(corpus / name, device="cpu")


def test_api_refuses_bad_videos_and_zips(corpus: Path, tmp_path: Path) -> None:
    from studio.infer.video import stylize_video

    model = tiny_model()
    cases = {"corrupt.mp4": "corrupt.mp4", "audio-only.mp4": "no video stream", "text.jpg": "text.jpg"}
    for name, words in cases.items():
        with pytest.raises(StudioError, match=words):
            stylize_video(model, corpus / name, tmp_path / "out.mp4")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(StudioError, match="unpacks to"):
        studio.Trainer(corpus / "cmyk.jpg", corpus / "bomb.zip", studio.TrainConfig(iterations=1),
                       session_dir=tmp_path / "s")  # fmt: skip


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"style_strength": 1e9}, "style_strength must be between 1 and 10"),
        ({"style_strength": float("nan")}, "style_strength must be a number"),
        ({"iterations": -5}, "iterations must be between 1"),
        ({"iterations": 10**12}, "iterations must be between 1"),
        ({"style_density": 7}, "style_density must be between 64 and 1024"),
        ({"batch_size": 100000}, "batch_size must be between 1 and 256"),
        ({"crop_size": 10**6}, "crop_size must be between 32 and 2048"),
        ({"use_case": "../../etc"}, "use_case must be one of"),
    ],
)
def test_api_refuses_absurd_parameters(kwargs: dict[str, object], words: str) -> None:
    with pytest.raises(StudioError, match=words):
        studio.TrainConfig(**kwargs)  # type: ignore[arg-type]


def test_api_refuses_absurd_stylize_arguments() -> None:
    model, photo = tiny_model(), synthetic_photo(32, 32, 1)
    for kwargs, words in [({"intensity": 5}, "intensity"), ({"max_size": 0}, "max_size"),
                          ({"max_size": 2.5}, "max_size"), ({"style": 7}, "style")]:  # fmt: skip
        with pytest.raises(StudioError, match=words):
            model.stylize(photo, **kwargs)  # type: ignore[arg-type]


# --- the command line --------------------------------------------------------------------------------------


def test_cli_gives_one_line_and_status_2(corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = str(corpus / "model.safetensors")
    out, saved = tmp_path / "out", str(tmp_path / "m.safetensors")
    runs = [
        *(["stylize", model, str(corpus / name), "-o", str(out)] for name in BAD_IMAGES),
        *(["info", str(corpus / name)] for name in BAD_MODELS),
        *(["stylize", str(corpus / name), str(corpus / "cmyk.jpg"), "-o", str(out)] for name in BAD_MODELS),
        ["video", model, str(corpus / "corrupt.mp4"), "-o", str(tmp_path / "v.mp4")],
        ["video", model, str(corpus / "audio-only.mp4"), "-o", str(tmp_path / "v.mp4")],
        ["train", str(corpus / "bomb.png"), "-o", saved],
        ["train", str(corpus / "cmyk.jpg"), "--content", str(corpus / "bomb.zip"), "-o", saved],
        ["train", str(corpus / "cmyk.jpg"), "--strength", "1e9", "-o", saved],
        ["stylize", model, str(corpus / "cmyk.jpg"), "--max-size", "0", "-o", str(out)],
    ]  # fmt: skip
    for argv in runs:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err.strip()
        assert "error: " in err and "\n" not in err and "Traceback" not in err, (argv, err)
    leftovers = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert leftovers == [], leftovers


# --- the running studio ------------------------------------------------------------------------------------


@pytest.mark.slow  # starts the studio as a process
def test_studio_refuses_hostile_uploads_and_keeps_serving(studio_server: object, corpus: Path) -> None:
    import httpx
    from gradio_client import Client, handle_file

    server = studio_server
    client = Client(server.url, verbose=False)  # type: ignore[attr-defined]
    blend = [0.0] * 11

    def stylize(name: str) -> object:
        return client.predict(handle_file(str(corpus / name)), "preset:ink-wash", "before", "video", 1.0, False,
                              512, *blend, api_name="/stylize")  # fmt: skip

    for name, words in BAD_IMAGES.items():
        with pytest.raises(Exception, match=words) as info:
            stylize(name)
        assert "Traceback" not in str(info.value)
    for name in ODD_IMAGES:
        if (corpus / name).stat().st_size:
            (_, after), _, _ = stylize(name)  # type: ignore[misc]
            assert Image.open(after).size == studio.io.media.open_image(corpus / name).size, name
    for name, words in {"corrupt.mp4": "corrupt.mp4", "audio-only.mp4": "no video stream"}.items():
        with pytest.raises(Exception, match=words):
            client.predict(handle_file(str(corpus / name)), "preset:ink-wash", "video", 0, 1.0, False, 512, *blend,
                           api_name="/video")  # fmt: skip
    style = [handle_file(str(corpus / "cmyk.jpg"))]
    with pytest.raises(Exception, match="too large"):
        client.predict([handle_file(str(corpus / "bomb.png"))], None, None, 5, 256, "video", 10, api_name="/train")
    with pytest.raises(Exception, match="unpacks to"):
        client.predict(style, [handle_file(str(corpus / "bomb.zip"))], None, 5, 256, "video", 10, api_name="/train")
    with pytest.raises(Exception, match="greater than maximum value 5000"):  # Gradio's range check says it
        client.predict(style, None, None, 5, 256, "video", 10**9, api_name="/train")
    with pytest.raises(Exception):  # noqa: B017,PT011 - Gradio's own range check on the slider
        client.predict(handle_file(str(corpus / "cmyk.jpg")), "preset:ink-wash", "before", "video", 5.0, False, 512,
                       *blend, api_name="/stylize")  # fmt: skip
    big = corpus / "big.png"  # 4 MB of noise: over this studio's STUDIO_MAX_UPLOAD_BYTES (3 MB)
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (1200, 1200, 3), dtype=np.uint8)).save(big)
    with pytest.raises(Exception, match="exceeds the maximum file size of 3000000 bytes"):
        stylize("big.png")
    with pytest.raises(Exception, match="belongs to another session"):
        client.predict("../../../etc/passwd", "safetensors", api_name="/download")

    # Gradio serves no file outside its upload folder and the webcam's static ones (ui/web/, the browser's
    # model files, ONNX Runtime Web): not the repository, not the system, not a step out of a static folder
    base = server.url.rstrip("/")  # type: ignore[attr-defined]
    code = Path(__file__).resolve().parents[1] / "ui"
    targets = ["/etc/passwd", str(Path(__file__).resolve()), str(server.data / "store" / "cache.db")]  # type: ignore[attr-defined]
    targets += [str(code / "webcam_tab.py"), f"{code}/web/../app.py", f"{code}/web/%2e%2e/app.py"]
    for target in targets:
        answer = httpx.get(f"{base}/gradio_api/file={target}", timeout=10)
        assert answer.status_code in (403, 404), (target, answer.status_code)
    assert httpx.get(f"{base}/gradio_api/file={code}/web/webcam.js", timeout=10).status_code == 200  # served

    # still serving, nothing written outside the data folder, no partial files inside it
    (_, after), _, _ = stylize("cmyk.jpg")  # type: ignore[misc]
    assert Path(after).is_file() and server.alive()  # type: ignore[attr-defined]
    assert server.files_outside_data() == []  # type: ignore[attr-defined]
    partial = [p for p in server.data.rglob("*.tmp*")]  # type: ignore[attr-defined]
    assert partial == []
    assert not (server.sandbox / "escaped.png").exists()  # type: ignore[attr-defined]
