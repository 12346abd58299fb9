"""Presets: the catalog (validation, broken presets skipped), the shipped presets, blending, the CLI, and
the style drawings (deterministic, the committed files are what the code draws)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import synthetic_photo, tiny_model
from PIL import Image

import studio
from studio.cli import main
from studio.errors import StudioError
from studio.presets import blend_model, load_spec, presets_dir

ROOT = Path(__file__).resolve().parents[1]
TOML = """name = "{name}"
title = "{name}"
description = "A test style"
strength = 5
density = 256
license = "MIT"
"""


def _make(folder: Path, name: str, use_cases: tuple[str, ...] = ("image", "video"), toml: str | None = None) -> Path:
    d = folder / name
    d.mkdir(parents=True)
    (d / "preset.toml").write_text(TOML.format(name=name) if toml is None else toml)
    Image.fromarray(synthetic_photo(64, 64, 0)).save(d / "style.jpg")
    for uc in use_cases:
        tiny_model(use_case=uc, seed=len(name)).save(d / f"{uc}.safetensors")
    return d


@pytest.fixture
def catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "presets"
    _make(root, "alpha")
    _make(root, "beta", use_cases=("video",))
    _make(root, "gamma", toml="name = 'gamma'\nthis is not toml")
    _make(root, "delta", use_cases=())
    bad = _make(root, "eps", use_cases=())
    (bad / "image.safetensors").write_bytes(b"not a model")
    wrong = _make(root, "zeta", use_cases=())
    tiny_model(use_case="video").save(wrong / "image.safetensors")  # a video model under the image name
    _make(root, "eta", toml=TOML.format(name="eta").replace("density = 256", "density = 5000"))
    multi = tiny_model(num_styles=2, use_case="image")
    multi.config.__dict__["style_names"] = ("alpha", "beta")  # frozen dataclass: a test-only rename
    multi.save(root / "all-image.safetensors")
    monkeypatch.setenv("STUDIO_PRESETS", str(root))
    return root


def test_catalog_lists_valid_presets_and_skips_broken_ones(catalog: Path) -> None:
    with pytest.warns(UserWarning) as caught:
        found = studio.presets()
    assert [p.name for p in found] == ["alpha", "beta"]
    assert found[0].use_cases == ("image", "video") and found[1].use_cases == ("video",)
    messages = " | ".join(str(w.message) for w in caught)
    for name, why in [
        ("gamma", "unreadable"),
        ("delta", "no trained model"),
        ("eps", "not a readable"),
        ("zeta", "holds a video model"),
        ("eta", "density"),
    ]:
        assert f"'{name}'" in messages and why in messages, (name, messages)


def test_preset_lookup_and_loading(catalog: Path) -> None:
    with pytest.warns(UserWarning):
        alpha = studio.preset("preset:alpha")
    assert alpha.strength == 5 and alpha.style_image.is_file()
    assert alpha.load("video", device="cpu").use_case == "video"
    with pytest.raises(StudioError, match="no 'image' model"):
        studio.preset("beta").load("image")  # the listing is cached: broken presets warn once
    with pytest.raises(StudioError, match="presets: alpha, beta"):
        studio.preset("nope")
    assert blend_model("image", device="cpu").style_names == ("alpha", "beta")
    with pytest.raises(StudioError, match="missing"):
        blend_model("video")


def test_cli_presets_and_stylize(catalog: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    photo = tmp_path / "photo.png"
    Image.fromarray(synthetic_photo(72, 56, 1)).save(photo)
    assert main(["presets"]) == 0
    out, err = capsys.readouterr()
    assert "alpha" in out and "beta" in out and "gamma" not in out
    assert "studio: warning: skipping preset 'gamma'" in err
    assert main(["stylize", "preset:alpha", str(photo), "-o", str(tmp_path / "a")]) == 0
    assert main(["stylize", "preset:beta", str(photo), "--use-case", "video", "-o", str(tmp_path / "b")]) == 0
    blend = ["stylize", "preset:all", str(photo), "--style", "alpha:0.6,beta:0.4", "-o", str(tmp_path / "c")]
    assert main(blend) == 0
    results = [np.asarray(Image.open(tmp_path / d / "photo-stylized.png"), np.float32) for d in "abc"]
    assert all(r.shape == (56, 72, 3) for r in results)
    assert np.abs(results[0] - results[2]).mean() > 1
    capsys.readouterr()
    assert main(["stylize", "preset:beta", str(photo), "-o", str(tmp_path / "d")]) == 2  # beta has no image model
    assert "no 'image' model" in capsys.readouterr().err


# --- the shipped presets ---------------------------------------------------------------------------------


def test_shipped_presets_are_complete() -> None:
    assert presets_dir() == ROOT / "presets"
    found = studio.presets()
    assert len(found) >= 10, [p.name for p in found]
    for p in found:
        assert p.use_cases == ("image", "video"), p.name
        assert "MIT" in p.license and p.description
        assert p.model_path("image").stat().st_size < 4e6 and p.model_path("video").stat().st_size < 0.6e6
    names = tuple(p.name for p in found)
    for uc in ("image", "video"):
        assert blend_model(uc, device="cpu").style_names == names


@pytest.mark.parametrize("use_case", ["image", "video"])
def test_every_shipped_preset_stylizes_a_photo(use_case: str) -> None:
    photo = synthetic_photo(96, 80, 2)
    outputs = {}
    for p in studio.presets():
        out = np.asarray(p.load(use_case, device="cpu").stylize(photo), np.float32)
        assert out.shape == photo.shape
        assert np.abs(out - photo).mean() > 8, p.name  # visibly restyled
        outputs[p.name] = out
    names = list(outputs)
    for a, b in zip(names, names[1:], strict=False):
        assert np.abs(outputs[a] - outputs[b]).mean() > 4, (a, b)  # presets differ from each other
    blend = load_spec("preset:all", use_case, device="cpu")
    half = np.asarray(blend.stylize(photo, style={names[0]: 0.5, names[1]: 0.5}), np.float32)
    one = np.asarray(blend.stylize(photo, style=names[0]), np.float32)
    assert np.abs(half - one).mean() > 1


@pytest.mark.parametrize("use_case", ["image", "video"])
def test_the_all_presets_model_matches_each_presets_own_model(use_case: str) -> None:
    """A preset picked from the all-presets model looks like its own model (presets/distill.py taught it their
    results): on a real photo each is several times closer to its own model than neighbouring presets are to each
    other. The all-presets models trained on the style losses instead were 19-40 grey levels off (at most)."""
    from skimage import data

    photo = np.asarray(Image.fromarray(data.astronaut()).resize((160, 160)))
    every = blend_model(use_case, device="cpu")
    own = {p.name: np.asarray(p.load(use_case, device="cpu").stylize(photo), np.float32) for p in studio.presets()}
    off = {n: float(np.abs(np.asarray(every.stylize(photo, style=n), np.float32) - o).mean()) for n, o in own.items()}
    names = list(own)
    apart = min(float(np.abs(own[a] - own[b]).mean()) for a, b in zip(names, names[1:], strict=False))
    assert max(off.values()) < min(15.0, apart / 3), (off, apart)


def _draw_module() -> object:
    spec = importlib.util.spec_from_file_location("presets_draw", ROOT / "presets" / "draw.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["presets_draw"] = module
    spec.loader.exec_module(module)
    return module


def test_drawings_are_deterministic_and_match_the_committed_images() -> None:
    draw = _draw_module()
    assert set(draw.STYLES) == {p.name for p in studio.presets()}  # type: ignore[attr-defined]
    a = np.asarray(draw.draw("pop-halftone", 128), np.int16)  # type: ignore[attr-defined]
    b = np.asarray(draw.draw("pop-halftone", 128), np.int16)  # type: ignore[attr-defined]
    assert np.array_equal(a, b)
    fresh = np.asarray(draw.draw("stained-glass", 1024), np.float32)  # type: ignore[attr-defined]
    committed = np.asarray(Image.open(ROOT / "presets" / "stained-glass" / "style.jpg"), np.float32)
    assert np.abs(fresh - committed).mean() < 3  # JPEG's loss only
    meta = (ROOT / "presets" / "stained-glass" / "preset.toml").read_text()
    assert meta == draw.preset_toml("stained-glass", 1024, 0)  # type: ignore[attr-defined]
    json.dumps(meta)
