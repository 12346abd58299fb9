"""A training run's checkpoint: written atomically, read back and checked, and where a resumed run goes on.

``checkpoint.safetensors`` in a session folder (:mod:`studio.train.session`) holds the network's weights, Adam's
state and the run's RNG state (fp32, on the CPU); its header holds the iteration reached, the learning-rate
segment and the iteration the run trains to. :meth:`studio.Trainer.resume` reads it (:func:`read_checkpoint`),
works out where the run goes on (:func:`resume_position`), and once the run has built its network and
optimizer, loads the saved state into them (:func:`restore_checkpoint`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from studio.errors import StudioError
from studio.io.fileio import atomic_path

CHECKPOINT_FILE = "checkpoint.safetensors"
Segment = tuple[int, int, float]  # (first iteration, last iteration, learning rate at the first)


@dataclass(frozen=True)
class Checkpoint:
    """A checkpoint as read back: its tensors (``net.*``, ``opt.<i>.*``, ``rng``) and its header."""

    tensors: dict[str, torch.Tensor]
    iteration: int  # the iteration reached
    segment: Segment  # the cosine learning-rate segment the run was following
    target: int  # the iteration the run was training to


@dataclass(frozen=True)
class Position:
    """Where a run stands on its schedule: the iteration reached, the learning-rate segment it follows, and
    the iteration it trains to."""

    iteration: int
    segment: Segment
    target: int


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
    # written beside the file, then renamed over it: a crash mid-write leaves the previous checkpoint intact
    with atomic_path(folder / CHECKPOINT_FILE) as tmp:
        save_file(tensors, str(tmp), metadata=meta)


def read_checkpoint(folder: str | os.PathLike[str], default_target: int) -> Checkpoint | None:
    """The session's checkpoint, or None when it has none yet. ``default_target``: the target of a checkpoint
    whose header has none. Raises :class:`~studio.errors.StudioError` when the file is unreadable or damaged."""
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


def checkpoint_progress(folder: str | os.PathLike[str]) -> tuple[int, int] | None:
    """(iteration reached, iteration trained to) from the checkpoint's header only, no tensors read; None when
    the folder holds no readable checkpoint."""
    from safetensors import SafetensorError, safe_open

    path = Path(folder) / CHECKPOINT_FILE
    if not path.is_file():
        return None
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
        return int(meta["iteration"]), int(meta["target"])
    except (SafetensorError, OSError, KeyError, ValueError):
        return None


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


def resume_position(
    fresh: Position, checkpoint: Checkpoint | None, iterations: int | None, learning_rate: float, session: Path
) -> Position:
    """Where a resumed run goes on: from ``checkpoint``'s position (``fresh``, a new run's, when there is none
    yet), to the end of its planned run, or with ``iterations`` that many iterations further.

    Training more after a finished run starts a new cosine segment at half ``learning_rate`` (the recipe's
    base rate). Raises :class:`~studio.errors.StudioError` for ``iterations`` that is not a whole number >= 1,
    and for a finished run asked for nothing more (``session`` names the folder in the message).
    """
    if checkpoint is not None:
        done, segment, target = checkpoint.iteration, checkpoint.segment, checkpoint.target
    else:
        done, segment, target = fresh.iteration, fresh.segment, fresh.target
    if iterations is None:
        if done >= target:
            raise StudioError(
                f"session {session} finished its {done} iterations; ask for more iterations to train more"
            )
        return Position(done, segment, target)
    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 1:
        raise StudioError(f"iterations to train more must be a whole number >= 1, got {iterations!r}")
    if done >= target:
        # a finished run: a new, gentler segment, so the model is fine-tuned, not shaken up
        segment = (done, done + iterations, learning_rate * 0.5)
    else:
        # an interrupted run: finish the old schedule, then continue at its end
        start, end, lr = segment
        segment = (start, max(end, done + iterations), lr)
    return Position(done, segment, done + iterations)
