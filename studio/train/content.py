"""Content images for training: where they come from, and random crops made on the device.

Content comes from a folder, a list of files, or the built-in set (scikit-image's bundled photos, read
straight from the installed package's data folder so nothing is ever downloaded). Every image is decoded
once, resized so its shorter side is ``1.25 * crop``, centre-cropped to a square and kept on the training
device as uint8 — 300 photos at 320 px are 92 MB. Each step then draws random crops (random scale between
the crop size and the whole square, random position, random horizontal flip) with one ``grid_sample`` on
the device: no host work and no host-device copies during training.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, UnidentifiedImageError

from studio.errors import StudioError
from studio.io.media import IMAGE_EXTENSIONS, is_image_path, open_image, to_array
from studio.limits import Budget, Limits, limits
from studio.progress import Cancelled, Flag, check_cancel

# Colour and greyscale photos bundled in the scikit-image wheel (no pooch download needed).
BUILTIN_PHOTOS = (
    "astronaut.png",
    "chelsea.png",
    "coffee.png",
    "rocket.jpg",
    "motorcycle_left.png",
    "hubble_deep_field.jpg",
    "ihc.png",
    "camera.png",
    "coins.png",
    "moon.png",
)
POOL_SCALE = 1.25  # each pooled square is this much larger than the crop, for scale jitter

ContentSpec = str | os.PathLike[str] | list[str | os.PathLike[str]] | None

# Zip uploads: generous for photo sets, small enough that a zip bomb cannot fill the disk. These bound all the
# zips of one call together (a training's content); the browser studio's are STUDIO_MAX_CONTENT_* (limits).
ZIP_MAX_FILES = Limits.content_files
ZIP_MAX_BYTES = Limits.content_bytes  # uncompressed, all images together
_CHUNK = 1 << 20  # unpacking writes (and polls for a stop) a megabyte at a time


def builtin_content() -> list[Path]:
    """Paths of the built-in photos, from scikit-image's installed data folder."""
    try:
        dist = importlib.metadata.distribution("scikit-image")
    except importlib.metadata.PackageNotFoundError:
        raise StudioError("the built-in content set needs scikit-image; run ./setup.sh or pass content=") from None
    paths = [Path(str(dist.locate_file(f"skimage/data/{name}"))) for name in BUILTIN_PHOTOS]
    found = [p for p in paths if p.is_file()]
    if not found:
        raise StudioError("scikit-image's bundled photos were not found; pass content= a folder of photos")
    return found


def is_zip_path(path: str | os.PathLike[str]) -> bool:
    return Path(path).suffix.lower() == ".zip"


def unpack_zip(
    path: str | os.PathLike[str],
    folder: str | os.PathLike[str],
    max_files: int = ZIP_MAX_FILES,
    max_bytes: int = ZIP_MAX_BYTES,
    *,
    budget: Budget | None = None,
    cancel: Flag | None = None,
) -> list[Path]:
    """Extract the images of a zip into ``folder`` (flat) and return their paths.

    Only members with an image extension are read; each is written under a new name made of its index and
    its base name, so member paths (``../x``, absolute paths, links) can never point outside ``folder``.
    ``budget`` is the request's (:class:`~studio.limits.Budget`), shared with its other zips and photos;
    without one, ``max_files`` and ``max_bytes`` bound this zip. The declared sizes are checked first (an
    early refusal, before a byte is written) but not trusted: the bytes really inflated are counted as they
    stream, and unpacking stops at the first byte past the budget. With a pixel budget, each image's header
    is checked as soon as it is written. ``cancel`` is polled every megabyte. On any error or stop nothing is
    left behind but ``folder`` (the callers, :func:`resolve_content` and :func:`gather_content`, remove the
    folders they made).
    """
    src, dest = Path(path), Path(folder)
    name = _safe(src.name)  # names come from users: shown escaped, on one line
    budget = budget if budget is not None else Budget(max_files, max_bytes)
    try:
        archive = zipfile.ZipFile(src)
    except (zipfile.BadZipFile, OSError) as exc:
        raise StudioError(f"{name} is not a readable zip file ({exc})") from None
    written: list[Path] = []
    try:
        with archive:
            members = [
                m
                for m in archive.infolist()
                if not m.is_dir() and is_image_path(m.filename) and not _hidden(m.filename)
            ]
            if not members:
                exts = ", ".join(sorted(IMAGE_EXTENSIONS))
                raise StudioError(f"no images in {name} (looked for {exts})")
            budget.add_files(len(members), name)
            declared = sum(m.file_size for m in members)
            if budget.bytes_used + declared > budget.content_bytes:
                before = " with the files before it" if budget.bytes_used else ""
                limit = budget.content_bytes / 1e6
                raise StudioError(
                    f"{name} unpacks to {declared / 1e6:.0f} MB of images{before}; the limit is "
                    f"{limit:.0f} MB a training (STUDIO_MAX_CONTENT_BYTES)"
                )
            dest.mkdir(parents=True, exist_ok=True)
            for i, member in enumerate(members):
                base = Path(member.filename.replace("\\", "/")).name
                out = dest / _numbered(i, base)
                with archive.open(member) as fin, open(out, "xb") as fout:
                    written.append(out)
                    while chunk := fin.read(_CHUNK):
                        budget.add_bytes(len(chunk), name)  # the real bytes, whatever the header said
                        fout.write(chunk)
                        check_cancel(cancel, f"unpacking {name}")
                if budget.pixels is not None:
                    shown = f"{name}: {_safe(base)}"
                    budget.add_pixels(image_pixels(out, shown), shown)
    except (StudioError, Cancelled):
        _remove(written)
        raise
    except Exception as exc:  # zipfile, zlib, lzma and bz2 raise many types for broken archives
        _remove(written)
        raise StudioError(f"could not unpack {name}: {_one_line(exc)}") from None
    return written


def _numbered(i: int, name: str) -> str:
    """``0007-name.jpg``, the stem cut to 60 characters: any name a zip or an upload carries stays a legal
    file name (at most 255 bytes, even in 4-byte characters) here."""
    path = Path(name)
    return f"{i:04d}-{path.stem[:60]}{path.suffix[:10]}"


def _remove(files: list[Path]) -> None:
    for p in files:
        p.unlink(missing_ok=True)


def _one_line(exc: BaseException) -> str:
    return _safe(" ".join(str(exc).split())) or type(exc).__name__


def _safe(name: str) -> str:
    """A name from a user's file, for a one-line message: control and format characters escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in name)


def image_pixels(path: str | os.PathLike[str], name: str | None = None) -> int:
    """``width * height`` of an image file, read from its header (no pixel is decoded); refused as
    :func:`studio.io.media.open_image` would: empty, unreadable, or over ``STUDIO_MAX_IMAGE_PIXELS``."""
    file = Path(path)
    shown = name or _safe(file.name)
    try:
        if file.stat().st_size == 0:
            raise StudioError(f"not a readable image: {shown} (empty file)")
    except OSError as exc:
        raise StudioError(f"image not found: {shown} ({exc.strerror})") from None
    for attempt in range(2):
        try:
            with Image.open(file) as img:
                width, height = img.size
            break
        except UnidentifiedImageError:
            if attempt == 0 and _heif_opener():  # HEIC/HEIF: pillow-heif's opener reads their headers
                continue
            raise StudioError(f"not a readable image: {shown} (unrecognised image format)") from None
        except Image.DecompressionBombError as exc:
            raise StudioError(f"image too large: {shown} ({_one_line(exc)})") from None
        except Exception as exc:  # header parsers raise many types: OSError, SyntaxError, struct.error...
            raise StudioError(f"not a readable image: {shown} ({_one_line(exc)})") from None
    limit = limits().image_pixels
    if width * height > limit:
        raise StudioError(
            f"image too large: {shown} ({width}x{height} = {width * height:,} pixels, limit {limit:,}; "
            "possible decompression bomb)"
        )
    return width * height


def _heif_opener() -> bool:
    try:
        import pillow_heif
    except ImportError:
        return False
    pillow_heif.register_heif_opener()
    return True


def check_pixels(
    paths: list[Path], budget: Budget, what: str, *, style: bool = False, cancel: Flag | None = None
) -> None:
    """Count images against the request's pixel budget from their headers, before anything is decoded."""
    for p in paths:
        check_cancel(cancel, f"reading the {what} images")
        budget.add_pixels(image_pixels(p), f"{what} {_safe(p.name)}", style=style)


def gather_content(
    files: list[str | os.PathLike[str]], folder: str | os.PathLike[str], budget: Budget, cancel: Flag | None = None
) -> list[Path]:
    """A browser training's content: uploaded photos and zips of them, gathered into ``folder`` (which then
    holds everything the run needs, so it outlives the upload cache: "Train more" and resuming after a
    restart read it there). Photos are hard-linked where possible (else copied); zips are unpacked. Files,
    bytes and header pixels all count against one ``budget``; on any refusal or stop ``folder`` is removed.
    """
    dest = Path(folder)
    paths: list[Path] = []
    try:
        dest.mkdir(parents=True, exist_ok=True)
        zips = 0
        for i, item in enumerate(files):
            src = Path(item)
            check_cancel(cancel, "gathering the content photos")
            if is_zip_path(src):
                paths.extend(unpack_zip(src, dest / f"zip-{zips}", budget=budget, cancel=cancel))
                zips += 1
                continue
            shown = _safe(src.name)
            if not src.is_file():
                raise StudioError(f"content not found: {shown}")
            budget.add_files(1, shown)
            budget.add_bytes(src.stat().st_size, shown)
            budget.add_pixels(image_pixels(src), f"content {shown}")
            out = dest / _numbered(i, src.name)
            try:
                os.link(src, out)  # same disk (the data folder): no copy, and the upload cache may go
            except OSError:
                try:
                    shutil.copyfile(src, out)
                except OSError as exc:  # a full disk, most likely
                    raise StudioError(f"could not keep {shown} for training ({exc.strerror})") from None
            paths.append(out)
        if not paths:
            raise StudioError("no content photos given")
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise
    return paths


def _hidden(name: str) -> bool:
    """macOS resource forks and dot files that zips made on a Mac carry along."""
    parts = name.replace("\\", "/").split("/")
    return any(part.startswith(".") or part == "__MACOSX" for part in parts if part not in ("", ".", ".."))


def resolve_content(
    content: ContentSpec,
    what: str = "content",
    unzip_to: str | os.PathLike[str] | None = None,
    *,
    budget: Budget | None = None,
    cancel: Flag | None = None,
) -> list[Path]:
    """A folder, one file, a list of files, or None (built-in set) -> list of image paths, checked.

    ``what`` names the items in error messages ("content", "input"). Zip files are unpacked into numbered
    folders under ``unzip_to`` (see :func:`unpack_zip`); without it a zip is an error. All the zips share one
    ``budget`` (default: :data:`ZIP_MAX_FILES` images and :data:`ZIP_MAX_BYTES` bytes in all); when one is
    refused or ``cancel`` is set, the zips unpacked before it are removed too.
    """
    if content is None:
        return builtin_content()
    items = [content] if isinstance(content, str | os.PathLike) else list(content)
    if not items:
        raise StudioError(f"{what} list is empty: give a folder or image files")
    budget = budget if budget is not None else Budget()
    paths: list[Path] = []
    unpacked: list[Path] = []
    try:
        for item in items:
            path = Path(item)
            if path.is_file() and is_zip_path(path):
                if unzip_to is None:
                    raise StudioError(f"{what} {path} is a zip file; unpack it first")
                folder = Path(unzip_to) / f"zip-{len(unpacked)}"
                unpacked.append(folder)
                paths.extend(unpack_zip(path, folder, budget=budget, cancel=cancel))
            elif path.is_dir():
                found = sorted(p for p in path.iterdir() if p.is_file() and is_image_path(p))
                if not found:
                    exts = ", ".join(sorted(IMAGE_EXTENSIONS))
                    raise StudioError(f"no images in {what} folder {path} (looked for {exts})")
                paths.extend(found)
            elif path.is_file():
                paths.append(path)
            else:
                raise StudioError(f"{what} not found: {path}")
    except BaseException:
        for folder in unpacked:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    return paths


def _square(path: Path, size: int) -> np.ndarray:
    """Decode, shorter side -> size (antialiased), centre square: (size, size, 3) uint8."""
    img = open_image(path, size_hint=size, short_side=True)  # a large photo is decoded at a reduced scale
    rgb, _ = to_array(img)
    pil = Image.fromarray((rgb * 255.0 + 0.5).astype(np.uint8))
    w, h = pil.size
    scale = size / min(w, h)
    nw, nh = max(size, round(w * scale)), max(size, round(h * scale))
    pil = pil.resize((nw, nh), Image.Resampling.LANCZOS)
    left, top = (nw - size) // 2, (nh - size) // 2
    return np.asarray(pil.crop((left, top, left + size, top + size)))


def load_pool(paths: list[Path], crop: int, device: torch.device, cancel: Flag | None = None) -> torch.Tensor:
    """All content images as one (N, 3, P, P) uint8 tensor on ``device``, P = 1.25 * crop.

    ``cancel`` is polled before each photo is decoded: a stopped request waits for one decode at most.
    """
    size = int(round(crop * POOL_SCALE))
    workers = min(8, os.cpu_count() or 1)

    def square(path: Path) -> np.ndarray:
        check_cancel(cancel, "decoding the content photos")
        return _square(path, size)

    with ThreadPoolExecutor(workers) as pool:  # PIL releases the GIL while decoding
        arrays = list(pool.map(square, paths))
    stack = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()
    return stack.to(device)


def random_crops(pool: torch.Tensor, batch: int, crop: int, generator: torch.Generator) -> torch.Tensor:
    """(B, 3, crop, crop) float crops in [0, 1]: random image, scale, position and horizontal flip."""
    n, _, size, _ = pool.shape
    dev = pool.device
    idx = torch.randint(n, (batch,), device=dev, generator=generator)
    u = torch.rand(batch, 4, device=dev, generator=generator)
    lo = crop / size
    scale = lo + (1.0 - lo) * u[:, 0]  # share of the square the crop covers
    tx = (1.0 - scale) * (2.0 * u[:, 1] - 1.0)
    ty = (1.0 - scale) * (2.0 * u[:, 2] - 1.0)
    flip = torch.where(u[:, 3] < 0.5, -1.0, 1.0)
    zero = torch.zeros_like(scale)
    theta = torch.stack(
        [
            torch.stack([scale * flip, zero, tx], dim=1),
            torch.stack([zero, scale, ty], dim=1),
        ],
        dim=1,
    )  # (B, 2, 3)
    images = pool[idx].float().div_(255.0)  # (B, 3, P, P)
    grid = F.affine_grid(theta, [batch, 3, crop, crop], align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
