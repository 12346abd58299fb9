"""Image input/output for the studio: safe decoding, array conversion and atomic saving.

* :func:`open_image` decodes a file fully (so truncated files fail here, not later), applies the EXIF
  orientation, keeps the first frame of animations, refuses decompression bombs and images too thin to
  stylize (more than :data:`MAX_ASPECT` to 1) from the header alone and returns the image in its natural
  mode family without losing bit depth or alpha. Given the size the caller needs, it decodes large JPEGs at
  a reduced scale (``Image.draft``) and shrinks other large images by whole factors (``Image.reduce``).
* :func:`to_array` / :func:`from_array` convert between PIL images or numpy arrays and the engine's working
  format: ``rgb`` float32 ``(H, W, 3)`` in ``[0, 1]`` plus an optional float32 ``(H, W)`` alpha.
* :func:`save_image` writes atomically (temporary file in the same directory, fsync, ``os.replace``).

HEIC/HEIF files need the optional ``pillow-heif`` package; its opener is registered lazily, the first time a
HEIF file is opened, so importing this module has no side effects.

Every bad input raises :class:`studio.errors.StudioError` with a one-line message naming the bad value.
"""

from __future__ import annotations

import contextlib
import math
import os
import pathlib
import tempfile
import threading

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from studio.errors import StudioError
from studio.io.fileio import new_file_mode, temp_prefix
from studio.limits import limits

__all__ = [
    "IMAGE_EXTENSIONS",
    "MAX_ASPECT",
    "check_aspect",
    "fit_size",
    "from_array",
    "is_image_path",
    "open_image",
    "save_image",
    "to_array",
]

#: Extensions (lower case, with the dot, as ``Path.suffix`` gives them) that :func:`open_image` reads.
IMAGE_EXTENSIONS: frozenset[str] = frozenset(
    {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif", ".heic", ".heif", ".avif"}
)

_HEIF_EXTENSIONS = frozenset({".heic", ".heif"})

# Extension -> PIL format name for save_image.
_SAVE_FORMATS: dict[str, str] = {
    ".png": "PNG",
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".webp": "WEBP",
    ".tif": "TIFF",
    ".tiff": "TIFF",
    ".bmp": "BMP",
}

# PIL modes each output format can hold as they are.
_SAVE_MODES: dict[str, frozenset[str]] = {
    "PNG": frozenset({"1", "L", "LA", "I;16", "I;16B", "P", "RGB", "RGBA"}),
    "JPEG": frozenset({"L", "RGB", "CMYK"}),
    "WEBP": frozenset({"RGB", "RGBA"}),
    "TIFF": frozenset({"1", "L", "LA", "P", "I", "I;16", "I;16B", "I;16L", "F", "RGB", "RGBA", "CMYK"}),
    "BMP": frozenset({"1", "L", "P", "RGB", "RGBA"}),
}

_HIGH_BIT_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N", "I", "F"})
# Modes open_image returns unchanged.
_NATURAL_MODES = frozenset({"RGB", "RGBA", "L", "LA"}) | _HIGH_BIT_MODES
_ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})
_GREY_MODES = frozenset({"1", "L", "LA", "La"}) | _HIGH_BIT_MODES
_RGB_MODES = frozenset({"RGB", "RGBA", "RGBa", "RGBX", "P", "PA"})

_heif_lock = threading.Lock()
_heif_registered = False

#: The longer side of an image may be at most this many times its shorter side. Thinner images are refused:
#: the network pads every side to 16 px, so a 5,000,000 x 1 image would become 80 megapixels of work.
MAX_ASPECT = 100

# Modes Image.reduce handles (others, e.g. palettes, are made natural first or left at full size).
_REDUCIBLE_MODES = frozenset({"L", "LA", "RGB", "RGBA", "I", "F"})
_pil_limit_lock = threading.Lock()


# --------------------------------------------------------------------------------------------- opening


def open_image(
    path: str | os.PathLike, max_pixels: int | None = None, *, size_hint: int | None = None, short_side: bool = False
) -> Image.Image:
    """Open, fully decode and orient the image at ``path``; the file is closed on return.

    ``max_pixels`` bounds ``width * height`` as read from the header, before any pixel is decoded
    (``None``: the limit in force, ``STUDIO_MAX_IMAGE_PIXELS``, 100 megapixels by default; see
    :mod:`studio.limits`). Images within it never raise PIL's ``DecompressionBombWarning``. Images whose
    longer side is more than :data:`MAX_ASPECT` times the shorter are refused.
    ``size_hint``: the longer side the caller will shrink the image to; a larger image may then come back
    smaller than the file (its longer side still at least ``size_hint``), decoded at a reduced scale. With
    ``short_side`` the hint is for the shorter side instead (a caller that crops a square).
    Animated GIF/WebP give their first frame. The mode is kept when it is RGB, RGBA, L, LA or a
    16-bit/int/float mode (``I;16``, ``I;16B``, ``I``, ``F``); palette images become RGBA (with transparency)
    or RGB, ``1`` becomes L, CMYK/YCbCr/LAB/HSV become RGB, and RGB/L images with a transparent colour key
    become RGBA/LA.
    """
    text = os.fspath(path)
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    if max_pixels is None:
        max_pixels = limits().image_pixels
    if isinstance(max_pixels, bool) or not isinstance(max_pixels, int) or max_pixels < 1:
        raise StudioError(f"max_pixels must be a whole number of at least 1 or None, got {max_pixels!r}")
    if size_hint is not None and (isinstance(size_hint, bool) or not isinstance(size_hint, int) or size_hint < 1):
        raise StudioError(f"size_hint must be a whole number of pixels of at least 1 or None, got {size_hint!r}")
    _allow_pixels(max_pixels)
    file = pathlib.Path(text)
    if not file.exists():
        raise StudioError(f"image not found: {text}")
    if file.is_dir():
        raise StudioError(f"not an image file: {text} (is a directory)")
    if file.stat().st_size == 0:
        raise StudioError(f"not a readable image: {text} (empty file)")

    if file.suffix.lower() in _HEIF_EXTENSIONS:
        _register_heif(text, required=True)
    try:
        return _decode(text, max_pixels, size_hint, short_side)
    except UnidentifiedImageError as exc:
        # Maybe a HEIF file under another name: ISO media files start with a 'ftyp' box.
        if _looks_like_iso_media(file) and not _heif_registered:
            if _register_heif(text, required=False):
                try:
                    return _decode(text, max_pixels, size_hint, short_side)
                except UnidentifiedImageError:
                    pass
            else:
                raise StudioError(
                    f"not a readable image: {text} (looks like HEIF/AVIF; install pillow-heif to read it)"
                ) from exc
        raise StudioError(f"not a readable image: {text} (unrecognised image format)") from exc


def _decode(path: str, max_pixels: int, size_hint: int | None = None, short_side: bool = False) -> Image.Image:
    """Open and decode ``path``; UnidentifiedImageError passes through, other failures become StudioError."""
    try:
        with Image.open(path) as img:
            width, height = img.size
            if width * height > max_pixels:
                raise StudioError(
                    f"image too large: {path} ({width}x{height} = {width * height:,} pixels, "
                    f"limit {max_pixels:,}; possible decompression bomb)"
                )
            check_aspect(width, height, path)
            if size_hint is not None and short_side:  # the longer side that keeps the shorter one at the hint
                size_hint = -(-size_hint * max(width, height) // max(1, min(width, height)))
            if getattr(img, "is_animated", False):
                img.seek(0)
            if size_hint is not None and max(width, height) >= 2 * size_hint and img.format == "JPEG":
                scale = size_hint / max(width, height)  # draft keeps every side at least this large
                img.draft(img.mode, (math.ceil(width * scale), math.ceil(height * scale)))
            img.load()
            try:
                out = ImageOps.exif_transpose(img)  # a new image, even when there is nothing to transpose
            except Exception:  # noqa: BLE001 - a broken EXIF block must not make the pixels unreadable
                out = img.copy()
            out = _natural_mode(out)
            if out is img:  # pragma: no cover - exif_transpose always copies; keep the file-free guarantee
                out = img.copy()
            return _reduce(out, size_hint)
    except (StudioError, UnidentifiedImageError):
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise StudioError(f"image too large: {path} ({_one_line(exc)})") from exc
    except MemoryError as exc:
        raise StudioError(f"image too large: {path} (out of memory while decoding)") from exc
    except Exception as exc:  # decoders raise many types: OSError, SyntaxError, struct.error, ...
        raise StudioError(f"not a readable image: {path} ({_one_line(exc)})") from exc


def _reduce(image: Image.Image, size_hint: int | None) -> Image.Image:
    """Shrink ``image`` by the largest whole factor that keeps its longer side at least ``size_hint``."""
    if size_hint is None or image.mode not in _REDUCIBLE_MODES:
        return image
    factor = max(image.size) // size_hint
    if factor < 2:
        return image
    return image.reduce(factor)  # box filter; keeps info (ICC profile)


def _allow_pixels(max_pixels: int) -> None:
    """Raise PIL's own decompression-bomb threshold to ours: images we accept must not warn.

    PIL warns above ``Image.MAX_IMAGE_PIXELS`` (about 89 megapixels) and refuses above twice that, below our
    default limit of 100; our limit is checked from the header before decoding. The threshold is process-wide,
    so it is only ever raised (never lowered), which keeps concurrent calls with other limits safe.
    """
    with _pil_limit_lock:
        current = Image.MAX_IMAGE_PIXELS
        if current is not None and current < max_pixels:
            Image.MAX_IMAGE_PIXELS = max_pixels


def check_aspect(width: int, height: int, name: object) -> None:
    """Refuse an image whose longer side is more than :data:`MAX_ASPECT` times its shorter (``name`` names it)."""
    short, long = min(width, height), max(width, height)
    if short < 1:
        raise StudioError(f"image too small: {name} is {width}x{height} px")
    if long > MAX_ASPECT * short:
        raise StudioError(
            f"image too thin: {name} is {width}x{height} px; the longer side may be at most {MAX_ASPECT} times "
            "the shorter"
        )


def _register_heif(path: str, *, required: bool) -> bool:
    """Register pillow-heif's opener once; return whether it is available (raise when ``required``)."""
    global _heif_registered
    with _heif_lock:
        if _heif_registered:
            return True
        try:
            import pillow_heif
        except ImportError as exc:
            if required:
                raise StudioError(
                    f"cannot open HEIC/HEIF image: {path} (the optional package pillow-heif is not installed)"
                ) from exc
            return False
        pillow_heif.register_heif_opener()
        _heif_registered = True
        return True


def _looks_like_iso_media(file: pathlib.Path) -> bool:
    try:
        with file.open("rb") as fh:
            head = fh.read(12)
    except OSError:
        return False
    return len(head) >= 12 and head[4:8] == b"ftyp"


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def _natural_mode(image: Image.Image) -> Image.Image:
    """Convert ``image`` to RGB, RGBA, L, LA or keep its high-bit mode, without losing colour or alpha."""
    mode = image.mode
    keyed = "transparency" in image.info
    if mode in _NATURAL_MODES and not (keyed and mode in ("RGB", "L")):
        return image
    if mode in ("RGB", "L"):  # colour-key transparency (PNG tRNS)
        target = mode + "A"
    elif mode == "1":
        target = "L"
    elif mode == "La":
        target = "LA"
    elif mode == "RGBX":
        target = "RGB"
    else:  # P, PA, RGBa, CMYK, YCbCr, LAB, HSV, ...
        target = "RGBA" if image.has_transparency_data else "RGB"
    return _convert(image, target)


def _convert(image: Image.Image, target: str) -> Image.Image:
    """``image.convert(target)``, dropping an ICC profile that no longer describes the pixels."""
    out = image.convert(target)
    if _family(image.mode) != _family(target):
        out.info.pop("icc_profile", None)
    out.info.pop("transparency", None)
    return out


def _family(mode: str) -> str:
    if mode in _GREY_MODES:
        return "grey"
    if mode in _RGB_MODES:
        return "rgb"
    return mode


# --------------------------------------------------------------------------------------------- arrays


def to_array(image: Image.Image | np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Return ``(rgb, alpha)``: float32 ``(H, W, 3)`` and float32 ``(H, W)`` or None, both in ``[0, 1]``.

    PIL images: 8-bit modes are divided by 255; ``I;16*`` by 65535; ``I`` (32-bit int) is taken as 16-bit
    data, clipped to ``0..65535`` then divided by 65535; ``F`` is taken as ``0..1`` and clipped. Palette,
    CMYK and other modes are converted as :func:`open_image` does. Greyscale is replicated to 3 channels.

    numpy arrays: shapes ``(H, W)``, ``(H, W, 1)``, ``(H, W, 3)``, ``(H, W, 4)`` (the last channel is alpha);
    dtypes uint8 (/255), uint16 (/65535), float16/32/64 (taken as ``0..1``, clipped; NaN/inf are refused) and
    bool. The result never shares memory with the input.
    """
    if isinstance(image, Image.Image):
        return _pil_to_array(image)
    if isinstance(image, np.ndarray):
        channels = _check_image_array(image, "image array")
        unit = _scale_to_unit(image, "image array")
        return _split_channels(unit, channels)
    raise StudioError(f"unsupported image type: {type(image).__name__} (expected a PIL image or numpy array)")


def _pil_to_array(image: Image.Image) -> tuple[np.ndarray, np.ndarray | None]:
    width, height = image.size
    if width < 1 or height < 1:
        raise StudioError(f"empty image: {width}x{height}")
    if image.mode in _HIGH_BIT_MODES:
        return _grey_to_rgb(_high_bit_unit(image)), None
    natural = _natural_mode(image)
    data = np.asarray(natural)
    if natural.mode == "LA":
        unit = data.astype(np.float32) / np.float32(255)
        return _grey_to_rgb(unit[..., 0]), np.ascontiguousarray(unit[..., 1])
    return _split_channels(_scale_to_unit(data, f"{natural.mode} image"), 1 if data.ndim == 2 else data.shape[2])


def _high_bit_unit(image: Image.Image) -> np.ndarray:
    """Greyscale float32 ``(H, W)`` in ``[0, 1]`` from an ``I;16*``, ``I`` or ``F`` image."""
    data = np.asarray(image)
    if image.mode == "I":
        return (np.clip(data, 0, 65535).astype(np.float32) / np.float32(65535)).astype(np.float32)
    return _scale_to_unit(data, f"{image.mode} image")


def _check_image_array(arr: np.ndarray, what: str) -> int:
    """Validate an image-like array's shape and dtype; return its channel count (1 for 2-D)."""
    if arr.ndim == 2:
        channels = 1
    elif arr.ndim == 3 and arr.shape[2] in (1, 3, 4):
        channels = arr.shape[2]
    else:
        raise StudioError(f"unsupported {what} shape {arr.shape}: expected (H, W), (H, W, 1), (H, W, 3) or (H, W, 4)")
    if arr.size == 0:
        raise StudioError(f"empty {what}: shape {arr.shape}")
    _check_dtype(arr, what)
    return channels


def _check_dtype(arr: np.ndarray, what: str) -> None:
    kind, size = arr.dtype.kind, arr.dtype.itemsize
    if kind == "b" or (kind == "u" and size in (1, 2)) or (kind == "f" and size in (2, 4, 8)):
        return
    raise StudioError(f"unsupported {what} dtype {arr.dtype}: expected uint8, uint16, float16/32/64 or bool")


def _scale_to_unit(arr: np.ndarray, what: str) -> np.ndarray:
    """A new float32 array in ``[0, 1]`` from a uint8/uint16/float/bool array of any shape."""
    _check_dtype(arr, what)
    kind = arr.dtype.kind
    if kind == "b":
        return arr.astype(np.float32)
    if kind == "u":
        scale = np.float32(255 if arr.dtype.itemsize == 1 else 65535)
        return arr.astype(np.float32) / scale
    if not np.isfinite(arr).all():
        raise StudioError(f"{what} contains NaN or infinite values (dtype {arr.dtype}, shape {arr.shape})")
    return np.clip(arr, 0, 1).astype(np.float32)


def _split_channels(unit: np.ndarray, channels: int) -> tuple[np.ndarray, np.ndarray | None]:
    if channels == 1:
        return _grey_to_rgb(unit.reshape(unit.shape[:2])), None
    rgb = np.ascontiguousarray(unit[..., :3])
    alpha = np.ascontiguousarray(unit[..., 3]) if channels == 4 else None
    return rgb, alpha


def _grey_to_rgb(grey: np.ndarray) -> np.ndarray:
    return np.repeat(grey[..., np.newaxis], 3, axis=2).astype(np.float32, copy=False)


def from_array(rgb: np.ndarray, alpha: np.ndarray | None, like: Image.Image | np.ndarray) -> Image.Image | np.ndarray:
    """Turn a float ``(H, W, 3)`` result in ``[0, 1]`` back into the same kind of image as ``like``.

    The output takes its size from ``rgb`` (``like`` may have another size); an ``alpha`` of another size is
    resized to it (bilinear). ``like`` decides the layout: the output has an alpha channel exactly when
    ``like`` has one, filled from ``alpha`` or, when that is None, from ``like``'s own alpha (resized);
    an ``alpha`` given with an opaque ``like`` is ignored.

    * PIL ``like``: an 8-bit image, "RGBA" when ``like`` has alpha (RGBA, LA, PA, P with transparency)
      else "RGB"; stylized output is colour, so greyscale and 16-bit/int/float inputs come back as RGB/RGBA.
      An ICC profile of an RGB/RGBA ``like`` is carried over.
    * numpy ``like``: same dtype as ``like`` (uint8 and uint16 rounded from the 255/65535 scale, floats in
      ``[0, 1]``; a bool ``like`` gives uint8), shape ``(H, W, 4)`` when ``like`` has 4 channels, else
      ``(H, W, 3)``.
    """
    if not isinstance(rgb, np.ndarray):
        raise StudioError(f"rgb must be a numpy array, got {type(rgb).__name__}")
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise StudioError(f"rgb must have shape (H, W, 3), got {rgb.shape}")
    if rgb.size == 0:
        raise StudioError(f"rgb is empty: shape {rgb.shape}")
    unit = _scale_to_unit(rgb, "rgb")
    size = (unit.shape[0], unit.shape[1])
    alpha_unit = None if alpha is None else _prepare_alpha(alpha, size)

    if isinstance(like, Image.Image):
        if like.size[0] < 1 or like.size[1] < 1:
            raise StudioError(f"empty like image: {like.size[0]}x{like.size[1]}")
        want_alpha = like.mode in _ALPHA_MODES or like.has_transparency_data
        channels = [_quantize(unit, np.dtype(np.uint8))]
        if want_alpha:
            channels.append(_quantize(_alpha_for(alpha_unit, like, size), np.dtype(np.uint8))[..., np.newaxis])
        out = Image.fromarray(np.ascontiguousarray(np.concatenate(channels, axis=2)))
        icc = like.info.get("icc_profile")
        if icc and like.mode in ("RGB", "RGBA"):
            out.info["icc_profile"] = icc
        return out

    if isinstance(like, np.ndarray):
        like_channels = _check_image_array(like, "like array")
        dtype = like.dtype if like.dtype.kind != "b" else np.dtype(np.uint8)
        parts = [unit]
        if like_channels == 4:
            parts.append(_alpha_for(alpha_unit, like, size)[..., np.newaxis])
        return _quantize(np.concatenate(parts, axis=2) if len(parts) > 1 else unit, dtype)

    raise StudioError(f"unsupported like type: {type(like).__name__} (expected a PIL image or numpy array)")


def _prepare_alpha(alpha: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Validate ``alpha`` ((H, W) or (H, W, 1)), scale it to float32 ``[0, 1]`` and resize it to ``size``."""
    if not isinstance(alpha, np.ndarray):
        raise StudioError(f"alpha must be a numpy array or None, got {type(alpha).__name__}")
    if alpha.ndim == 3 and alpha.shape[2] == 1:
        alpha = alpha[..., 0]
    if alpha.ndim != 2 or alpha.size == 0:
        raise StudioError(f"alpha must have shape (H, W), got {alpha.shape}")
    return _resize_unit(_scale_to_unit(alpha, "alpha"), size)


def _resize_unit(plane: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    height, width = size
    if plane.shape == (height, width):
        return plane
    resized = Image.fromarray(np.ascontiguousarray(plane, dtype=np.float32)).resize(
        (width, height), Image.Resampling.BILINEAR
    )
    return np.clip(np.asarray(resized, dtype=np.float32), 0, 1)


def _alpha_for(alpha: np.ndarray | None, like: Image.Image | np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if alpha is not None:
        return alpha
    own = to_array(like)[1]
    if own is None:  # e.g. a high-bit image with a colour key: treat as opaque
        return np.ones(size, dtype=np.float32)
    return _resize_unit(own, size)


def _quantize(unit: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Values in ``[0, 1]`` to ``dtype``: integers rounded on their full scale, floats cast."""
    if dtype.kind == "u":
        scale = 255 if dtype.itemsize == 1 else 65535
        return np.rint(unit * np.float32(scale)).astype(dtype)
    return unit.astype(dtype)


# --------------------------------------------------------------------------------------------- saving


def save_image(image: Image.Image, path: str | os.PathLike, quality: int = 95) -> pathlib.Path:
    """Write ``image`` to ``path`` atomically and return the path; the format comes from the extension.

    Supported: .png, .jpg/.jpeg, .webp, .tif/.tiff, .bmp. ``quality`` (1-100) applies to JPEG and WebP.
    Modes a format can't hold are converted: JPEG has no alpha, so transparent images are composited onto
    white; 16-bit/int/float images become 16-bit greyscale PNG (TIFF keeps them) or 8-bit elsewhere.
    Parent directories are created. The image goes to a temporary file in the target directory, is fsynced and
    then renamed over ``path``; on any error the temporary file is removed and an existing ``path`` is left as
    it was.
    """
    if not isinstance(image, Image.Image):
        raise StudioError(f"save_image needs a PIL image, got {type(image).__name__}")
    target = pathlib.Path(os.fsdecode(os.fspath(path)))
    ext = target.suffix.lower()
    fmt = _SAVE_FORMATS.get(ext)
    if fmt is None:
        known = ", ".join(sorted(_SAVE_FORMATS))
        raise StudioError(f"unsupported output extension {ext or '(none)'!r}: {target} (use one of {known})")
    if isinstance(quality, bool) or not isinstance(quality, int) or not 1 <= quality <= 100:
        raise StudioError(f"quality must be an integer from 1 to 100, got {quality!r}")
    if image.size[0] < 1 or image.size[1] < 1:
        raise StudioError(f"cannot save an empty image ({image.size[0]}x{image.size[1]}): {target}")
    if target.is_dir():
        raise StudioError(f"output path is a directory: {target}")

    prepared = _prepare_for_format(image, fmt)
    params: dict[str, object] = {}
    if fmt in ("JPEG", "WEBP"):
        params["quality"] = quality
    icc = prepared.info.get("icc_profile")
    if icc and fmt != "BMP":
        params["icc_profile"] = icc

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, kept after close on purpose
            dir=target.parent, prefix=temp_prefix(target), suffix=target.suffix[:16], delete=False
        )
    except OSError as exc:
        raise StudioError(f"cannot write image: {target} ({_one_line(exc)})") from exc
    tmp = pathlib.Path(handle.name)
    try:
        with handle:
            if hasattr(os, "fchmod"):
                os.fchmod(handle.fileno(), new_file_mode(target))
            prepared.save(handle, format=fmt, **params)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        if isinstance(exc, (OSError, ValueError)) and not isinstance(exc, StudioError):
            raise StudioError(f"cannot write image: {target} ({_one_line(exc)})") from exc
        raise
    _fsync_dir(target.parent)
    return target


def _prepare_for_format(image: Image.Image, fmt: str) -> Image.Image:
    """Return ``image`` or a converted copy in a mode ``fmt`` can store."""
    allowed = _SAVE_MODES[fmt]
    im = image
    if im.mode in _HIGH_BIT_MODES and im.mode not in allowed:
        unit = _high_bit_unit(im)
        if "I;16" in allowed:
            im = Image.fromarray(_quantize(unit, np.dtype(np.uint16)))
        else:
            im = Image.fromarray(_quantize(unit, np.dtype(np.uint8)))
        if "icc_profile" in image.info:
            im.info["icc_profile"] = image.info["icc_profile"]
    has_alpha = im.mode in _ALPHA_MODES or im.has_transparency_data
    if im.mode in allowed and (im.mode in _ALPHA_MODES or not has_alpha):
        return im
    grey = im.mode in _GREY_MODES
    if not has_alpha:
        return _convert(im, "L" if grey and "L" in allowed else "RGB")
    if grey and "LA" in allowed:
        return _convert(im, "LA")
    if "RGBA" in allowed:
        return _convert(im, "RGBA")
    # No alpha in this format (JPEG): composite onto white.
    rgba = im.convert("RGBA")
    flat = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
    out = flat.convert("L" if grey and "L" in allowed else "RGB")
    icc = image.info.get("icc_profile")
    if icc and _family(image.mode) == _family(out.mode):
        out.info["icc_profile"] = icc
    return out


def _fsync_dir(directory: pathlib.Path) -> None:
    """Make the rename durable where the platform allows it; best effort."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# --------------------------------------------------------------------------------------------- paths, sizes


def is_image_path(path: str | os.PathLike) -> bool:
    """Whether ``path``'s extension (case-insensitive) is one of :data:`IMAGE_EXTENSIONS`; no file access."""
    return pathlib.Path(os.fsdecode(os.fspath(path))).suffix.lower() in IMAGE_EXTENSIONS


def fit_size(width: int, height: int, max_size: int | None) -> tuple[int, int]:
    """Scale ``(width, height)`` so the longer side is at most ``max_size``, keeping the aspect ratio.

    Never enlarges; each side stays at least 1. ``max_size=None`` returns the size unchanged.
    """
    for name, value in (("width", width), ("height", height)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise StudioError(f"{name} must be a positive integer, got {value!r}")
    width, height = int(width), int(height)
    if max_size is None:
        return width, height
    if isinstance(max_size, bool) or not isinstance(max_size, (int, np.integer)) or max_size < 1:
        raise StudioError(f"max_size must be a positive integer or None, got {max_size!r}")
    longest = max(width, height)
    if longest <= max_size:
        return width, height
    scale = int(max_size) / longest
    if width >= height:
        return int(max_size), max(1, round(height * scale))
    return max(1, round(width * scale)), int(max_size)
