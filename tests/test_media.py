"""Tests for studio.io.media: decoding edge cases, array round trips, atomic saving; synthetic images only."""

from __future__ import annotations

import os
import pathlib
import struct
import subprocess
import sys
import zlib

import numpy as np
import pytest
from PIL import Image, ImageFile

from studio.errors import StudioError
from studio.io import media
from studio.io.media import fit_size, from_array, is_image_path, open_image, save_image, to_array

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]


def _noise(height: int, width: int, channels: int = 3, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(height, width, channels), dtype=np.uint8)


def _png_with_size(path: pathlib.Path, width: int, height: int) -> pathlib.Path:
    """A real 1x1 PNG whose IHDR is patched to claim ``width`` x ``height`` (CRC recomputed)."""
    Image.new("RGB", (1, 1), (1, 2, 3)).save(path)
    data = bytearray(path.read_bytes())
    assert data[12:16] == b"IHDR"
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])) & 0xFFFFFFFF)
    path.write_bytes(bytes(data))
    return path


# --------------------------------------------------------------------------------------------- open_image


def test_exif_orientation_6_is_applied(tmp_path: pathlib.Path) -> None:
    stored = np.zeros((40, 80, 3), dtype=np.uint8)  # 80 wide, 40 high
    stored[:16, :16] = (255, 0, 0)  # red marker at the stored top-left
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to display
    path = tmp_path / "rotated.jpg"
    Image.fromarray(stored).save(path, quality=95, exif=exif)

    img = open_image(path)

    assert img.size == (40, 80)  # width and height swapped
    # Orientation 6: the stored top-left ends up at the displayed top-right.
    red = img.getpixel((40 - 6, 6))
    assert red[0] > 200 and red[1] < 60 and red[2] < 60
    assert img.getpixel((6, 6))[0] < 60
    assert img.getexif().get(0x0112, 1) == 1
    assert getattr(img, "fp", None) is None  # decoded copy, file closed


def test_alpha_png_round_trip_keeps_alpha(tmp_path: pathlib.Path) -> None:
    pixels = _noise(12, 20, 4)
    path = tmp_path / "alpha.png"
    Image.fromarray(pixels).save(path)

    img = open_image(path)
    assert img.mode == "RGBA"
    rgb, alpha = to_array(img)
    assert rgb.shape == (12, 20, 3) and rgb.dtype == np.float32
    assert alpha is not None and alpha.shape == (12, 20) and alpha.dtype == np.float32
    np.testing.assert_allclose(alpha, pixels[..., 3] / 255, atol=1e-6)

    out = from_array(rgb, alpha, img)
    assert isinstance(out, Image.Image) and out.mode == "RGBA"
    np.testing.assert_array_equal(np.asarray(out), pixels)


def test_greyscale_gives_three_equal_channels(tmp_path: pathlib.Path) -> None:
    grey = np.arange(64, dtype=np.uint8).reshape(8, 8) * 4
    path = tmp_path / "grey.png"
    Image.fromarray(grey).save(path)

    img = open_image(path)
    assert img.mode == "L"
    rgb, alpha = to_array(img)
    assert alpha is None and rgb.shape == (8, 8, 3)
    for channel in range(3):
        np.testing.assert_allclose(rgb[..., channel], grey / 255, atol=1e-6)
    assert from_array(rgb, None, img).mode == "RGB"  # stylized output is colour


def test_16bit_png_precision_preserved(tmp_path: pathlib.Path) -> None:
    values = np.linspace(0, 65535, 16 * 16).round().astype(np.uint16).reshape(16, 16)
    path = tmp_path / "deep.png"
    Image.fromarray(values).save(path)

    img = open_image(path)
    assert img.mode in ("I;16", "I;16B", "I")
    rgb, _ = to_array(img)
    assert np.abs(rgb[..., 0].astype(np.float64) - values / 65535).max() <= 1 / 65535
    assert len(np.unique(np.rint(rgb[..., 0] * 65535))) == len(np.unique(values))  # not squashed to 8 bits


def test_palette_with_transparency_becomes_rgba(tmp_path: pathlib.Path) -> None:
    pal = Image.new("P", (4, 4), 1)
    pal.putpalette([0, 0, 0, 255, 0, 0] + [0] * (254 * 3))
    pal.putpixel((0, 0), 0)
    path = tmp_path / "pal.png"
    pal.save(path, transparency=0)

    img = open_image(path)
    assert img.mode == "RGBA"
    assert img.getpixel((0, 0))[3] == 0
    assert img.getpixel((2, 2)) == (255, 0, 0, 255)


def test_cmyk_jpeg_becomes_rgb(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "cmyk.jpg"
    Image.new("CMYK", (16, 16), (0, 255, 255, 0)).save(path, quality=95)

    img = open_image(path)
    assert img.mode == "RGB"
    r, g, b = img.getpixel((8, 8))
    assert r > 200 and g < 60 and b < 60


def test_animated_gif_gives_first_frame(tmp_path: pathlib.Path) -> None:
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]
    frames = [Image.new("RGB", (10, 10), c) for c in colours]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=50, loop=0)
    with Image.open(path) as check:
        assert check.n_frames == 3

    img = open_image(path)
    assert img.mode in ("RGB", "RGBA")
    assert img.getpixel((5, 5))[:3] == (255, 0, 0)


def test_text_file_named_jpg_is_rejected(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "notes.jpg"
    path.write_text("definitely not a jpeg\n" * 20)
    with pytest.raises(StudioError, match="not a readable image") as info:
        open_image(path)
    assert str(path) in str(info.value)


def test_zero_byte_file_is_rejected(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "empty.png"
    path.touch()
    with pytest.raises(StudioError, match="empty"):
        open_image(path)


def test_truncated_png_is_rejected(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "cut.png"
    Image.fromarray(_noise(64, 64)).save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with Image.open(path) as header_only:  # the header alone still parses
        assert header_only.size == (64, 64)

    with pytest.raises(StudioError, match="not a readable image") as info:
        open_image(path)
    assert str(path) in str(info.value)


def test_missing_file_names_the_path(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "nowhere" / "missing.png"
    with pytest.raises(StudioError, match="image not found") as info:
        open_image(path)
    assert str(path) in str(info.value)


def test_directory_is_rejected(tmp_path: pathlib.Path) -> None:
    folder = tmp_path / "folder.png"
    folder.mkdir()
    with pytest.raises(StudioError, match="directory"):
        open_image(folder)


def test_decompression_bomb_header_is_rejected(tmp_path: pathlib.Path) -> None:
    path = _png_with_size(tmp_path / "bomb.png", 40000, 40000)
    with pytest.raises(StudioError, match="too large") as info:
        open_image(path)
    assert "1600000000" in str(info.value)


def test_max_pixels_checked_before_decoding(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big.png"
    Image.new("RGB", (30, 20)).save(path)

    def no_decoding(self: ImageFile.ImageFile) -> None:
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    with pytest.raises(StudioError, match="too large") as info:
        open_image(path, max_pixels=599)
    assert "30x20" in str(info.value)


def test_heic_round_trip(tmp_path: pathlib.Path) -> None:
    pillow_heif = pytest.importorskip("pillow_heif")
    path = tmp_path / "photo.heic"
    try:
        pillow_heif.from_pillow(Image.new("RGB", (32, 24), (200, 40, 40))).save(path, quality=90)
    except Exception as exc:  # noqa: BLE001 - depends on the encoders compiled into libheif
        pytest.skip(f"this libheif cannot write HEIC: {exc}")

    img = open_image(path)
    assert img.size == (32, 24) and img.mode == "RGB"
    r, g, b = img.getpixel((16, 12))
    assert r > 150 and g < 90 and b < 90


def test_heic_without_pillow_heif_is_a_clear_error(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "photo.heic"
    path.write_bytes(b"\x00\x00\x00\x18ftypheic" + b"\x00" * 32)
    monkeypatch.setattr(media, "_heif_registered", False)
    monkeypatch.setitem(sys.modules, "pillow_heif", None)  # makes `import pillow_heif` fail
    with pytest.raises(StudioError, match="pillow-heif") as info:
        open_image(path)
    assert str(path) in str(info.value)


def test_import_has_no_side_effects() -> None:
    code = "import sys, studio.io.media; assert 'pillow_heif' not in sys.modules, 'pillow_heif imported'"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
    }
    result = subprocess.run(
        [sys.executable, "-c", code], check=False, capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr


# --------------------------------------------------------------------------------------------- arrays


def test_numpy_uint16_round_trip_keeps_dtype() -> None:
    arr = np.random.default_rng(1).integers(0, 65536, size=(5, 7, 3), dtype=np.uint16)
    rgb, alpha = to_array(arr)
    assert rgb.dtype == np.float32 and alpha is None
    out = from_array(rgb, alpha, arr)
    assert isinstance(out, np.ndarray) and out.dtype == np.uint16
    np.testing.assert_array_equal(out, arr)


def test_numpy_float32_round_trip_keeps_dtype() -> None:
    arr = np.random.default_rng(2).random((6, 4, 3), dtype=np.float32)
    rgb, _ = to_array(arr)
    assert not np.shares_memory(rgb, arr)
    out = from_array(rgb, None, arr)
    assert isinstance(out, np.ndarray) and out.dtype == np.float32 and out.shape == (6, 4, 3)
    np.testing.assert_allclose(out, arr, atol=1e-7)


def test_numpy_rgba_float64_keeps_four_channels() -> None:
    arr = np.random.default_rng(3).random((4, 5, 4))
    rgb, alpha = to_array(arr)
    assert alpha is not None
    out = from_array(rgb, alpha, arr)
    assert isinstance(out, np.ndarray) and out.dtype == np.float64 and out.shape == (4, 5, 4)
    np.testing.assert_allclose(out, arr, atol=1e-6)


def test_numpy_grey_and_uint8_shapes() -> None:
    grey = np.array([[0, 255], [128, 64]], dtype=np.uint8)
    for arr in (grey, grey[..., np.newaxis]):
        rgb, alpha = to_array(arr)
        assert rgb.shape == (2, 2, 3) and alpha is None
        assert rgb[0, 1].tolist() == [1.0, 1.0, 1.0]
        out = from_array(rgb, None, arr)
        assert isinstance(out, np.ndarray) and out.dtype == np.uint8 and out.shape == (2, 2, 3)
        np.testing.assert_array_equal(out[..., 2], grey)


def test_bad_numpy_shape_names_the_shape() -> None:
    with pytest.raises(StudioError, match=r"\(4, 4, 5\)"):
        to_array(np.zeros((4, 4, 5), dtype=np.uint8))


def test_bad_numpy_dtype_and_values() -> None:
    with pytest.raises(StudioError, match="int32"):
        to_array(np.zeros((4, 4, 3), dtype=np.int32))
    with pytest.raises(StudioError, match="NaN"):
        to_array(np.full((4, 4, 3), np.nan, dtype=np.float32))
    with pytest.raises(StudioError, match="empty"):
        to_array(np.zeros((0, 4, 3), dtype=np.uint8))


def test_float_input_is_clipped() -> None:
    rgb, _ = to_array(np.array([[[-0.5, 0.5, 2.0]]], dtype=np.float64))
    assert rgb.tolist() == [[[0.0, 0.5, 1.0]]]


def test_from_array_resizes_alpha_to_result() -> None:
    like = Image.new("RGBA", (8, 6), (10, 20, 30, 128))
    _, alpha = to_array(like)
    result = np.full((12, 16, 3), 0.5, dtype=np.float32)  # the caller upscaled 2x
    out = from_array(result, alpha, like)
    assert isinstance(out, Image.Image) and out.mode == "RGBA" and out.size == (16, 12)
    assert np.asarray(out)[..., 3].tolist() == np.full((12, 16), 128).tolist()


def test_from_array_uses_like_alpha_when_none_given() -> None:
    like = np.zeros((3, 3, 4), dtype=np.uint8)
    like[..., 3] = 77
    out = from_array(np.ones((3, 3, 3), dtype=np.float32), None, like)
    assert isinstance(out, np.ndarray) and out.shape == (3, 3, 4)
    assert (out[..., 3] == 77).all() and (out[..., :3] == 255).all()


def test_pil_high_bit_modes_to_array() -> None:
    as_int = Image.fromarray(np.array([[0, 65535, 70000]], dtype=np.int32))
    assert as_int.mode == "I"
    assert to_array(as_int)[0][0, :, 0].tolist() == [0.0, 1.0, 1.0]
    as_float = Image.fromarray(np.array([[0.25, 1.5]], dtype=np.float32))
    assert as_float.mode == "F"
    assert to_array(as_float)[0][0, :, 1].tolist() == [0.25, 1.0]


# --------------------------------------------------------------------------------------------- saving


def test_save_failure_leaves_nothing_behind(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    keep = out_dir / "keep.png"
    save_image(Image.new("RGB", (4, 4), (1, 2, 3)), keep)
    before = keep.read_bytes()

    def broken_save(self: Image.Image, fp: object, *args: object, **kwargs: object) -> None:
        fp.write(b"\x89PNG partial data")  # type: ignore[attr-defined]
        raise OSError("disk full")

    monkeypatch.setattr(Image.Image, "save", broken_save)
    with pytest.raises(StudioError, match="disk full") as info:
        save_image(Image.new("RGB", (4, 4)), out_dir / "new.png")
    assert "new.png" in str(info.value)
    with pytest.raises(StudioError):
        save_image(Image.new("RGB", (4, 4)), keep)

    assert sorted(p.name for p in out_dir.iterdir()) == ["keep.png"]
    assert keep.read_bytes() == before


def test_jpeg_with_alpha_is_composited_onto_white(tmp_path: pathlib.Path) -> None:
    pixels = np.zeros((8, 16, 4), dtype=np.uint8)
    pixels[:, :8] = (255, 0, 0, 0)  # transparent red
    pixels[:, 8:] = (0, 0, 255, 255)  # opaque blue
    path = save_image(Image.fromarray(pixels), tmp_path / "flat.jpg")

    with Image.open(path) as img:
        assert img.format == "JPEG" and img.mode == "RGB"
        assert min(img.getpixel((2, 4))) > 240  # white, not red or black
        r, g, b = img.getpixel((13, 4))
        assert b > 200 and r < 40 and g < 40


def test_save_png_round_trips_and_creates_parents(tmp_path: pathlib.Path) -> None:
    pixels = _noise(5, 6, 4)
    target = tmp_path / "a" / "b" / "out.PNG"
    returned = save_image(Image.fromarray(pixels), target)
    assert returned == target and target.is_file()
    np.testing.assert_array_equal(np.asarray(open_image(target)), pixels)
    assert [p.name for p in target.parent.iterdir()] == ["out.PNG"]


def test_save_16bit_png_keeps_depth(tmp_path: pathlib.Path) -> None:
    values = np.array([[0, 1000, 65535]], dtype=np.uint16)
    path = save_image(Image.fromarray(values), tmp_path / "deep.png")
    np.testing.assert_array_equal(np.asarray(open_image(path)).astype(np.uint16), values)


@pytest.mark.parametrize("suffix", [".webp", ".tif", ".bmp", ".jpeg"])
def test_save_other_formats(tmp_path: pathlib.Path, suffix: str) -> None:
    path = save_image(Image.new("LA", (6, 4), (90, 255)), tmp_path / f"img{suffix}", quality=90)
    img = open_image(path)
    assert img.size == (6, 4)
    assert abs(img.convert("L").getpixel((3, 2)) - 90) <= 3


def test_save_rejects_bad_arguments(tmp_path: pathlib.Path) -> None:
    img = Image.new("RGB", (2, 2))
    with pytest.raises(StudioError, match=r"\.gifx"):
        save_image(img, tmp_path / "x.gifx")
    with pytest.raises(StudioError, match="quality"):
        save_image(img, tmp_path / "x.jpg", quality=0)
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------------------------- paths, sizes


def test_is_image_path_and_extensions() -> None:
    assert is_image_path("photo.JPG") and is_image_path(pathlib.Path("dir/pic.heic"))
    assert not is_image_path("notes.txt") and not is_image_path("jpg")
    assert {".png", ".jpeg", ".avif", ".tiff"} <= media.IMAGE_EXTENSIONS


@pytest.mark.parametrize(
    ("size", "max_size", "expected"),
    [
        ((4000, 3000), 1000, (1000, 750)),
        ((3000, 4000), 1000, (750, 1000)),
        ((1001, 1001), 1000, (1000, 1000)),
        ((640, 480), None, (640, 480)),
        ((640, 480), 2048, (640, 480)),  # never enlarges
        ((10000, 3), 100, (100, 1)),  # each side stays >= 1
    ],
)
def test_fit_size(size: tuple[int, int], max_size: int | None, expected: tuple[int, int]) -> None:
    assert fit_size(*size, max_size) == expected


@pytest.mark.parametrize(
    ("width", "height", "max_size", "message"),
    [(100, 100, 0, "max_size .* got 0"), (100, 100, -5, "max_size .* got -5"), (0, 10, 50, "width .* got 0")],
)
def test_fit_size_rejects_bad_values(width: int, height: int, max_size: int, message: str) -> None:
    with pytest.raises(StudioError, match=message):
        fit_size(width, height, max_size)
