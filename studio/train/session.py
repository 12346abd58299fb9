"""Training sessions on disk: the session file, checkpoints, and reading them back to resume.

A session folder holds ``session.json`` (format version, the run's :class:`~studio.config.TrainConfig`,
recipe, style images saved as PNG beside it, content, validation image, planned iterations) and
``checkpoint.safetensors`` (network weights, Adam state, RNG state; iteration, learning-rate segment and
target in its header). Every file is written atomically, so a crash leaves the previous checkpoint intact.
:meth:`studio.Trainer.resume` reads them back to finish an interrupted run or to "train more".
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from studio.config import FORMAT_VERSION, TrainConfig
from studio.errors import StudioError
from studio.io.fileio import atomic_path, atomic_write_text
from studio.version import __version__

SESSION_FILE = "session.json"
CHECKPOINT_FILE = "checkpoint.safetensors"
Segment = tuple[int, int, float]  # (first iteration, last iteration, learning rate at the first)


@dataclass(frozen=True)
class SessionInfo:
    """What ``session.json`` says: enough to rebuild the run's :class:`~studio.Trainer`."""

    config: TrainConfig
    recipe: str
    style_files: tuple[Path, ...]
    style_names: tuple[str, ...]
    content: tuple[str, ...] | None  # None: the built-in content set
    validation: Path


@dataclass(frozen=True)
class Checkpoint:
    tensors: dict[str, torch.Tensor]
    iteration: int
    segment: Segment
    target: int


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


def optimizer_params(optimizer: torch.optim.Optimizer) -> list[torch.Tensor]:
    """Parameters in the optimizer's own order (its state_dict numbers them so)."""
    return [p for group in optimizer.param_groups for p in group["params"]]


def save_checkpoint(
    folder: Path,
    net: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    generator: torch.Generator,
    *,
    iteration: int,
    segment: Segment,
    target: int,
) -> None:
    """Weights, Adam state and RNG state as one safetensors file (fp32), written atomically."""
    from safetensors.torch import save_file

    tensors = {f"net.{k}": v.detach().to("cpu", torch.float32) for k, v in net.state_dict().items()}
    for i, p in enumerate(optimizer_params(optimizer)):
        state = optimizer.state.get(p, {})
        for key in ("exp_avg", "exp_avg_sq", "step"):
            if key in state:
                tensors[f"opt.{i}.{key}"] = (
                    torch.as_tensor(state[key])
                    .detach()
                    .to("cpu", torch.float32)
                    .reshape(-1 if key == "step" else state[key].shape)
                )
    tensors["rng"] = generator.get_state()
    meta = {"iteration": str(iteration), "segment": json.dumps(list(segment)), "target": str(target)}
    tensors = {k: v.contiguous() for k, v in tensors.items()}
    with atomic_path(folder / CHECKPOINT_FILE) as tmp:
        save_file(tensors, str(tmp), metadata=meta)


def read_checkpoint(folder: str | os.PathLike[str], default_target: int) -> Checkpoint | None:
    """The session's checkpoint, or None when it has none yet."""
    from safetensors import SafetensorError, safe_open

    path = Path(folder) / CHECKPOINT_FILE
    if not path.is_file():
        return None
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}
        segment = json.loads(meta["segment"])
        return Checkpoint(
            tensors=tensors,
            iteration=int(meta["iteration"]),
            segment=(int(segment[0]), int(segment[1]), float(segment[2])),
            target=int(meta.get("target", default_target)),
        )
    except (SafetensorError, OSError, KeyError, ValueError, TypeError, IndexError) as exc:
        raise StudioError(f"checkpoint {path} is unreadable ({exc})") from None


def restore_checkpoint(
    checkpoint: Checkpoint, net: torch.nn.Module, optimizer: torch.optim.Optimizer, generator: torch.Generator
) -> None:
    """Load a checkpoint's weights, Adam state and RNG state into a freshly built run."""
    tensors = checkpoint.tensors
    net_state = {k[4:]: v for k, v in tensors.items() if k.startswith("net.")}
    try:
        net.load_state_dict(net_state)
    except RuntimeError as exc:
        raise StudioError(f"checkpoint does not match the session's network: {str(exc).splitlines()[0]}") from None
    opt_state: dict[str, Any] = optimizer.state_dict()
    for i, _ in enumerate(optimizer_params(optimizer)):
        entry = {k: tensors[f"opt.{i}.{k}"] for k in ("exp_avg", "exp_avg_sq", "step") if f"opt.{i}.{k}" in tensors}
        if entry:
            entry["step"] = entry["step"].reshape(())
            opt_state["state"][i] = entry
    optimizer.load_state_dict(opt_state)
    generator.set_state(tensors["rng"])


def checkpoint_state(session_dir: str | os.PathLike[str]) -> tuple[int, int] | None:
    """(iteration reached, iterations planned) of the session's checkpoint, from its header only; None when
    the folder holds no readable checkpoint. A reached < planned session was interrupted (resume it)."""
    from safetensors import SafetensorError, safe_open

    path = Path(session_dir) / CHECKPOINT_FILE
    if not path.is_file() or not (Path(session_dir) / SESSION_FILE).is_file():
        return None
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
        return int(meta["iteration"]), int(meta["target"])
    except (SafetensorError, OSError, KeyError, ValueError):
        return None
