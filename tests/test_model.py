from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import synthetic_photo, tiny_model
from PIL import Image
from safetensors.torch import save_file

import studio
from studio.errors import StudioError


def test_save_load_gives_identical_output(tmp_path: Path) -> None:
    model = tiny_model(num_styles=2)
    img = synthetic_photo(90, 70, seed=1)
    before = model.stylize(img, style=1)
    path = model.save(tmp_path / "m.safetensors")
    loaded = studio.load(path, device="cpu")
    assert loaded.config == model.config
    assert np.array_equal(loaded.stylize(img, style=1), before)
    assert not list(tmp_path.glob(".*tmp*")), "no temporary files left behind"


def test_load_refuses_what_is_not_a_model(tmp_path: Path) -> None:
    with pytest.raises(StudioError, match="model not found"):
        studio.load(tmp_path / "missing.safetensors")
    pickled = tmp_path / "evil.safetensors"
    pickled.write_bytes(pickle.dumps({"weights": [1, 2, 3]}))
    with pytest.raises(StudioError, match="not a readable safetensors"):
        studio.load(pickled)
    other = tmp_path / "other.safetensors"
    save_file({"x": torch.zeros(2)}, str(other))
    with pytest.raises(StudioError, match="not a style-studio model"):
        studio.load(other)


def test_load_refuses_mismatched_weights_and_versions(tmp_path: Path) -> None:
    model = tiny_model()
    state = {k: v.contiguous() for k, v in model.network.state_dict().items()}
    key = next(k for k in state if k.endswith("conv.weight"))
    state[key] = torch.zeros(1, 1, 1, 1)
    bad = tmp_path / "bad.safetensors"
    save_file(state, str(bad), metadata={"format": "style-studio-model", "studio": model.config.to_json()})
    with pytest.raises(StudioError, match="do not match"):
        studio.load(bad)
    future = tmp_path / "future.safetensors"
    meta = model.config.to_json().replace('"format_version": 1', '"format_version": 2')
    save_file(dict(model.network.state_dict()), str(future), metadata={"format": "style-studio-model", "studio": meta})
    with pytest.raises(StudioError, match="format version 2"):
        studio.load(future)


def test_save_is_atomic_and_checks_the_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = tiny_model()
    with pytest.raises(StudioError, match=r"\.safetensors"):
        model.save(tmp_path / "m.pt")
    target = tmp_path / "m.safetensors"
    target.write_bytes(b"old model")

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("safetensors.torch.save_file", broken)
    with pytest.raises(OSError):
        model.save(target)
    assert target.read_bytes() == b"old model"
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]


@pytest.mark.parametrize(("w", "h"), [(1, 1), (5, 3), (77, 123), (130, 64)])
def test_output_size_equals_input_size(w: int, h: int) -> None:
    model = tiny_model()
    out = model.stylize(Image.fromarray(synthetic_photo(w, h, seed=2)))
    assert isinstance(out, Image.Image) and out.size == (w, h) and out.mode == "RGB"


def test_returns_the_kind_it_was_given(tmp_path: Path) -> None:
    model = tiny_model()
    arr16 = synthetic_photo(40, 30, 3).astype(np.uint16) * 257
    out16 = model.stylize(arr16)
    assert out16.dtype == np.uint16 and out16.shape == (30, 40, 3)
    grey = model.stylize(np.random.default_rng(0).random((30, 40), dtype=np.float32))
    assert grey.dtype == np.float32 and grey.shape == (30, 40, 3)
    rgba = np.dstack([synthetic_photo(40, 30, 4), np.full((30, 40), 77, np.uint8)])
    out_rgba = model.stylize(Image.fromarray(rgba, "RGBA"))
    assert out_rgba.mode == "RGBA" and np.all(np.asarray(out_rgba)[..., 3] == 77)
    src = tmp_path / "photo.jpg"
    Image.fromarray(synthetic_photo(50, 40, 5)).save(src)
    paths = model.stylize([src, src], out_dir=tmp_path / "out")
    assert paths == [tmp_path / "out" / "photo-stylized.jpg"] * 2
    assert Image.open(paths[0]).size == (50, 40)


def test_max_size_intensity_and_preserve_color() -> None:
    model = tiny_model()
    img = synthetic_photo(200, 100, seed=6)
    assert model.stylize(img, max_size=50).shape == (25, 50, 3)
    unchanged = model.stylize(img, intensity=0.0)
    assert np.abs(unchanged.astype(int) - img.astype(int)).max() <= 1
    full = model.stylize(img).astype(float)
    half = model.stylize(img, intensity=0.5).astype(float)
    assert np.abs(half - (full + img) / 2).max() <= 1.5
    kept = model.stylize(img, preserve_color=True).astype(float) / 255
    yiq = np.array([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])
    chroma_in = (img.astype(float) / 255) @ yiq.T
    chroma_out = kept @ yiq.T
    inside = (kept > 0.02).all(-1) & (kept < 0.98).all(-1)  # clipping can move chroma
    assert np.abs(chroma_out[inside][:, 1:] - chroma_in[inside][:, 1:]).mean() < 0.01
    assert np.abs(chroma_out[..., 0] - (full / 255) @ yiq[0]).mean() < 0.01


def test_style_selection_and_blending() -> None:
    model = tiny_model(num_styles=3)
    img = synthetic_photo(64, 48, seed=7).astype(np.float32) / 255
    a, b = model.stylize(img, style=0), model.stylize(img, style="s1")
    assert np.abs(a - b).mean() > 0.01
    assert np.allclose(model.style_vector({"s0": 1, 2: 3}).numpy(), [0.25, 0, 0.75])
    blend = model.stylize(img, style={0: 0.5, 1: 0.5})
    assert np.abs(blend - a).mean() > 0.001 and np.abs(blend - b).mean() > 0.001
    for bad, message in [
        (3, "0..2"),
        ("nope", "unknown style"),
        ([1, 2], "3 values"),
        ({0: -1}, ">= 0"),
        ([0, 0, 0], "zero"),
    ]:
        with pytest.raises(StudioError, match=message):
            model.stylize(img, style=bad)


def test_bad_stylize_arguments() -> None:
    model = tiny_model()
    img = synthetic_photo(20, 20, 0)
    with pytest.raises(StudioError, match="intensity"):
        model.stylize(img, intensity=1.5)
    with pytest.raises(StudioError, match="max_size"):
        model.stylize(img, max_size=0)
    with pytest.raises(StudioError, match="cannot stylize a dict"):
        model.stylize({"not": "an image"})
    with pytest.raises(StudioError, match="not found"):
        model.stylize("/nonexistent/photo.jpg")
