"""The preset catalog: royalty-free styles drawn by the project's own code, with trained models.

A preset is a folder ``presets/<name>/`` holding ``style.jpg`` (drawn by ``presets/draw.py``),
``preset.toml`` (name, title, description, suggested strength and density, licence) and one model per use
case, ``image.safetensors`` and ``video.safetensors``. ``presets/all-<use case>.safetensors`` holds every
preset in one multi-style model (conditional instance norm), so presets blend by weights.

Listing reads only the small files and the models' safetensors headers; weights load on first use. A
broken preset (unreadable toml, missing file, a model that is not a studio model) is skipped with a
warning: one bad folder never takes the catalog, or the app, down. ``STUDIO_PRESETS`` points elsewhere.
"""

from __future__ import annotations

import functools
import os
import tomllib
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch

from studio.config import DENSITY_RANGE, STRENGTH_RANGE, USE_CASES, ModelConfig
from studio.errors import StudioError
from studio.model import FORMAT_NAME, StyleModel, load
from studio.settings import folders

PREFIX = "preset:"
ALL = "all"


def presets_dir() -> Path:
    """``STUDIO_PRESETS``, else the ``presets/`` folder beside the package (a source checkout or the image)."""
    return folders().presets


@dataclass(frozen=True)
class Preset:
    """One preset style: its description and where its style image and models are."""

    name: str
    title: str
    description: str
    strength: float
    density: int
    license: str
    folder: Path
    use_cases: tuple[str, ...]  # use cases with a trained model

    @property
    def style_image(self) -> Path:
        return self.folder / "style.jpg"

    def model_path(self, use_case: str = "image") -> Path:
        return self.folder / f"{use_case}.safetensors"

    def load(self, use_case: str = "image", device: str | torch.device = "auto") -> StyleModel:
        """The trained model for ``use_case`` ("image" or "video")."""
        if use_case not in self.use_cases:
            have = ", ".join(self.use_cases) or "none"
            raise StudioError(f"preset {self.name!r} has no {use_case!r} model (it has: {have})")
        return load(self.model_path(use_case), device=device)


def presets(folder: str | os.PathLike[str] | None = None) -> list[Preset]:
    """Every valid preset, sorted by name; invalid ones are skipped with a warning naming the problem."""
    root = Path(folder) if folder is not None else presets_dir()
    return list(_catalog(str(root.resolve()), _stamp(root)))


def preset(name: str, folder: str | os.PathLike[str] | None = None) -> Preset:
    """The preset called ``name`` (``"preset:"`` prefix allowed)."""
    name = name.removeprefix(PREFIX)
    found = {p.name: p for p in presets(folder)}
    if name not in found:
        raise StudioError(f"no preset called {name!r}; presets: {', '.join(found) or 'none installed'}")
    return found[name]


def blend_model(
    use_case: str = "image", folder: str | os.PathLike[str] | None = None, device: str | torch.device = "auto"
) -> StyleModel:
    """The multi-style model holding all presets (``presets/all-<use case>.safetensors``): blend by name."""
    if use_case not in USE_CASES:
        raise StudioError(f"use_case must be one of {', '.join(USE_CASES)}; got {use_case!r}")
    root = Path(folder) if folder is not None else presets_dir()
    path = root / f"all-{use_case}.safetensors"
    if not path.is_file():
        raise StudioError(f"the all-presets {use_case} model is missing ({path}); train it with presets/train.py")
    return load(path, device=device)


def load_spec(spec: str, use_case: str = "image", device: str | torch.device = "auto") -> StyleModel:
    """``"preset:NAME"`` -> that preset's model; ``"preset:all"`` -> the all-presets blend model."""
    name = spec.removeprefix(PREFIX)
    return blend_model(use_case, device=device) if name == ALL else preset(name).load(use_case, device=device)


def _stamp(root: Path) -> tuple[float, ...]:
    """Changes when a preset or one of its files is added, removed or rewritten: the cached listing refreshes
    (each problem is warned about once per change, not on every call)."""
    try:
        return tuple(p.stat().st_mtime for p in sorted([root, *root.glob("*"), *root.glob("*/*")]))
    except OSError:
        return ()


@functools.lru_cache(maxsize=8)
def _catalog(root: str, stamp: tuple[float, ...]) -> tuple[Preset, ...]:
    folder = Path(root)
    if not folder.is_dir():
        return ()
    found = []
    for toml in sorted(folder.glob("*/preset.toml")):
        try:
            found.append(_read(toml.parent))
        except StudioError as exc:
            warnings.warn(f"skipping preset {toml.parent.name!r}: {exc}", stacklevel=3)
    return tuple(found)


def _read(folder: Path) -> Preset:
    try:
        meta = tomllib.loads((folder / "preset.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise StudioError(f"preset.toml is unreadable ({exc})") from None
    for key, kind in (("name", str), ("title", str), ("description", str), ("license", str)):
        if not isinstance(meta.get(key), kind) or not meta[key].strip():
            raise StudioError(f"preset.toml needs a text {key!r}")
    if meta["name"] != folder.name:
        raise StudioError(f"preset.toml names {meta['name']!r} but the folder is {folder.name!r}")
    strength, density = meta.get("strength"), meta.get("density")
    if isinstance(strength, bool) or not isinstance(strength, int | float):
        raise StudioError(f"strength must be a number, got {strength!r}")
    if not STRENGTH_RANGE[0] <= strength <= STRENGTH_RANGE[1]:
        raise StudioError(f"strength must be within {STRENGTH_RANGE}, got {strength}")
    if isinstance(density, bool) or not isinstance(density, int) or not DENSITY_RANGE[0] <= density <= DENSITY_RANGE[1]:
        raise StudioError(f"density must be a whole number within {DENSITY_RANGE}, got {density!r}")
    if not (folder / "style.jpg").is_file():
        raise StudioError("style.jpg is missing")
    use_cases = tuple(uc for uc in USE_CASES if _check_model(folder / f"{uc}.safetensors", uc))
    if not use_cases:
        raise StudioError("it has no trained model (image.safetensors or video.safetensors)")
    return Preset(
        name=meta["name"],
        title=meta["title"],
        description=meta["description"],
        strength=float(strength),
        density=int(density),
        license=meta["license"],
        folder=folder,
        use_cases=use_cases,
    )


def _check_model(path: Path, use_case: str) -> bool:
    """True if ``path`` is a studio model of ``use_case`` (header only); False if absent; else StudioError."""
    if not path.is_file():
        return False
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
    except (SafetensorError, OSError, ValueError) as exc:
        raise StudioError(f"{path.name} is not a readable safetensors file ({exc})") from None
    if meta.get("format") != FORMAT_NAME or "studio" not in meta:
        raise StudioError(f"{path.name} is not a style-studio model")
    config = ModelConfig.from_json(meta["studio"])
    if config.use_case != use_case:
        raise StudioError(f"{path.name} holds a {config.use_case} model")
    return True
