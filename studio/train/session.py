"""Training sessions on disk: the session file, and reading it back to resume.

A session folder holds ``session.json`` (format version, the run's :class:`~studio.config.TrainConfig`,
recipe, style images saved as PNG beside it, content, validation image, planned iterations) and
``checkpoint.safetensors`` (:mod:`studio.train.checkpoint`). Every file is written atomically, so a crash
leaves the previous one intact. :meth:`studio.Trainer.resume` reads them back to finish an interrupted run or
to "train more".
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from studio.config import FORMAT_VERSION, TrainConfig
from studio.errors import StudioError
from studio.io.fileio import atomic_path, atomic_write_text
from studio.train.checkpoint import checkpoint_progress
from studio.version import __version__

SESSION_FILE = "session.json"


@dataclass(frozen=True)
class SessionInfo:
    """What ``session.json`` says: enough to rebuild the run's :class:`~studio.Trainer`."""

    config: TrainConfig
    recipe: str
    style_files: tuple[Path, ...]
    style_names: tuple[str, ...]
    content: tuple[str, ...] | None  # None: the built-in content set
    validation: Path


def check_new_session(folder: Path) -> None:
    """A new run may not overwrite a session, nor use a file as its folder."""
    if (folder / SESSION_FILE).exists():
        raise StudioError(f"{folder} already holds a training session: resume it or pick a new folder")
    if folder.exists() and not folder.is_dir():
        raise StudioError(f"session path {folder} is a file, not a folder")


def write_session(
    folder: Path,
    *,
    config: TrainConfig,
    recipe: str,
    style_arrays: Sequence[np.ndarray],
    style_names: Sequence[str],
    validation: Image.Image,
    content: Sequence[Path] | None,
    target: int,
) -> None:
    """Write ``session.json`` and, once, the style and validation images it names."""
    folder.mkdir(parents=True, exist_ok=True)
    styles = []
    for i, (arr, name) in enumerate(zip(style_arrays, style_names, strict=True)):
        file = f"style-{i:02d}.png"
        if not (folder / file).exists():
            with atomic_path(folder / file) as tmp:
                Image.fromarray((arr * 255 + 0.5).astype(np.uint8)).save(tmp, format="PNG")
        styles.append({"name": name, "file": file})
    if not (folder / "validation.png").exists():
        with atomic_path(folder / "validation.png") as tmp:
            validation.save(tmp, format="PNG")
    info = {
        "format_version": FORMAT_VERSION,
        "package_version": __version__,
        "train_config": config.to_dict(),
        "recipe": recipe,
        "styles": styles,
        "content": {"builtin": True} if content is None else {"files": [str(p.resolve()) for p in content]},
        "validation": "validation.png",
        "target": target,
    }
    atomic_write_text(folder / SESSION_FILE, json.dumps(info, indent=2))


def read_session(folder: str | os.PathLike[str]) -> SessionInfo:
    """What the folder's ``session.json`` says; :class:`~studio.errors.StudioError` when it is missing, of
    another format version, or damaged."""
    d = Path(folder)
    path = d / SESSION_FILE
    if not path.is_file():
        raise StudioError(f"no training session in {d} (missing {SESSION_FILE})")
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        if info.get("format_version") != FORMAT_VERSION:
            raise StudioError(
                f"session {d} has format version {info.get('format_version')!r}, expected {FORMAT_VERSION}"
            )
        config = TrainConfig.from_dict(info["train_config"])
        content = None if info["content"].get("builtin") else tuple(str(f) for f in info["content"]["files"])
        return SessionInfo(
            config=config,
            recipe=str(info.get("recipe", config.recipe)),
            style_files=tuple(d / s["file"] for s in info["styles"]),
            style_names=tuple(str(s["name"]) for s in info["styles"]),
            content=content,
            validation=d / info["validation"],
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise StudioError(f"session file {path} is damaged ({exc})") from None


def checkpoint_state(session_dir: str | os.PathLike[str]) -> tuple[int, int] | None:
    """(iteration reached, iterations planned) of the session's checkpoint, from its header only; None when
    the folder holds no session or no readable checkpoint. A reached < planned session was interrupted (resume
    it)."""
    if not (Path(session_dir) / SESSION_FILE).is_file():
        return None
    return checkpoint_progress(session_dir)
