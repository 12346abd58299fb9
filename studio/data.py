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
from PIL import Image

from .errors import StudioError
from .media import IMAGE_EXTENSIONS, is_image_path, open_image, to_array

# Colour and greyscale photos bundled in the scikit-image wheel (no pooch download needed).
BUILTIN_PHOTOS = (
    "astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png",
    "hubble_deep_field.jpg", "ihc.png", "camera.png", "coins.png", "moon.png",
)  # fmt: skip
POOL_SCALE = 1.25  # each pooled square is this much larger than the crop, for scale jitter

ContentSpec = str | os.PathLike[str] | list[str | os.PathLike[str]] | None

# Zip uploads: generous for photo sets, small enough that a zip bomb cannot fill the disk.
ZIP_MAX_FILES = 2000
ZIP_MAX_BYTES = 2 * 1024**3  # uncompressed, all images together


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
    path: str | os.PathLike[str], folder: str | os.PathLike[str], max_files: int = ZIP_MAX_FILES,
    max_bytes: int = ZIP_MAX_BYTES,
) -> list[Path]:  # fmt: skip
    """Extract the images of a zip into ``folder`` (flat) and return their paths.

    Only members with an image extension are read; each is written under a new name made of its index and
    its base name, so member paths (``../x``, absolute paths, links) can never point outside ``folder``.
    Limits count files and uncompressed bytes; ``zipfile`` stops reading a member at its declared size, so a
    member that lies about its size fails its CRC instead of growing without bound. On any error nothing is
    left behind.
    """
    src, dest = Path(path), Path(folder)
    try:
        archive = zipfile.ZipFile(src)
    except (zipfile.BadZipFile, OSError) as exc:
        raise StudioError(f"{src.name} is not a readable zip file ({exc})") from None
    written: list[Path] = []
    try:
        with archive:
            members = [
                m for m in archive.infolist()
                if not m.is_dir() and is_image_path(m.filename) and not _hidden(m.filename)
            ]  # fmt: skip
            if not members:
                exts = ", ".join(sorted(IMAGE_EXTENSIONS))
                raise StudioError(f"no images in {src.name} (looked for {exts})")
            if len(members) > max_files:
                raise StudioError(f"{src.name} holds {len(members)} images; the limit is {max_files}")
            total = sum(m.file_size for m in members)
            if total > max_bytes:
                raise StudioError(
                    f"{src.name} unpacks to {total / 1e6:.0f} MB of images; the limit is {max_bytes / 1e6:.0f} MB"
                )
            dest.mkdir(parents=True, exist_ok=True)
            for i, member in enumerate(members):
                base = Path(member.filename.replace("\\", "/")).name
                out = dest / f"{i:04d}-{base}"
                with archive.open(member) as fin, open(out, "xb") as fout:
                    written.append(out)
                    shutil.copyfileobj(fin, fout, 1 << 20)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, RuntimeError) as exc:
        for p in written:
            p.unlink(missing_ok=True)
        raise StudioError(f"could not unpack {src.name}: {exc}") from None
    except StudioError:
        for p in written:
            p.unlink(missing_ok=True)
        raise
    return written


def _hidden(name: str) -> bool:
    """macOS resource forks and dot files that zips made on a Mac carry along."""
    parts = name.replace("\\", "/").split("/")
    return any(part.startswith(".") or part == "__MACOSX" for part in parts if part not in ("", ".", ".."))


def resolve_content(
    content: ContentSpec, what: str = "content", unzip_to: str | os.PathLike[str] | None = None
) -> list[Path]:
    """A folder, one file, a list of files, or None (built-in set) -> list of image paths, checked.

    ``what`` names the items in error messages ("content", "input"). Zip files are unpacked into numbered
    folders under ``unzip_to`` (see :func:`unpack_zip`); without it a zip is an error.
    """
    if content is None:
        return builtin_content()
    items = [content] if isinstance(content, str | os.PathLike) else list(content)
    if not items:
        raise StudioError(f"{what} list is empty: give a folder or image files")
    paths: list[Path] = []
    zips = 0
    for item in items:
        path = Path(item)
        if path.is_file() and is_zip_path(path):
            if unzip_to is None:
                raise StudioError(f"{what} {path} is a zip file; unpack it first")
            paths.extend(unpack_zip(path, Path(unzip_to) / f"zip-{zips}"))
            zips += 1
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
    return paths


def _square(path: Path, size: int) -> np.ndarray:
    """Decode, shorter side -> size (antialiased), centre square: (size, size, 3) uint8."""
    img = open_image(path)
    rgb, _ = to_array(img)
    pil = Image.fromarray((rgb * 255.0 + 0.5).astype(np.uint8))
    w, h = pil.size
    scale = size / min(w, h)
    nw, nh = max(size, round(w * scale)), max(size, round(h * scale))
    pil = pil.resize((nw, nh), Image.Resampling.LANCZOS)
    left, top = (nw - size) // 2, (nh - size) // 2
    return np.asarray(pil.crop((left, top, left + size, top + size)))


def load_pool(paths: list[Path], crop: int, device: torch.device) -> torch.Tensor:
    """All content images as one (N, 3, P, P) uint8 tensor on ``device``, P = 1.25 * crop."""
    size = int(round(crop * POOL_SCALE))
    workers = min(8, os.cpu_count() or 1)
    with ThreadPoolExecutor(workers) as pool:  # PIL releases the GIL while decoding
        arrays = list(pool.map(lambda p: _square(p, size), paths))
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
