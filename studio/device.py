"""Choosing the compute device: CUDA, then Apple MPS, then the CPU."""

from __future__ import annotations

import torch

from .errors import StudioError

DEVICES = ("auto", "cpu", "cuda", "mps")


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """``"auto"``/None picks CUDA, then MPS, then CPU; an explicit device must be available."""
    if isinstance(device, torch.device):
        device = str(device)
    if device is None or device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if not isinstance(device, str) or device.split(":")[0] not in DEVICES[1:]:
        raise StudioError(f"device must be one of {', '.join(DEVICES)}; got {device!r}")
    kind = device.split(":")[0]
    if kind == "cuda" and not torch.cuda.is_available():
        raise StudioError(f"device {device!r} was asked for, but no CUDA GPU is available; use device='auto'")
    if kind == "mps" and not _mps_available():
        raise StudioError(f"device {device!r} was asked for, but Apple MPS is not available; use device='auto'")
    return torch.device(device)


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend and backend.is_available())


def autocast_dtype(device: torch.device, training: bool) -> torch.dtype | None:
    """Reduced precision where it is fast and safe: bf16 to train on CUDA, fp16 to stylize on CUDA.

    Training uses bf16 for its range (no loss scaling needed); stylizing uses fp16 for its finer mantissa,
    safe because instance norm keeps activations small. CPU and MPS stay in fp32.
    """
    if device.type != "cuda":
        return None
    return torch.bfloat16 if training else torch.float16
