"""Choosing the compute device: CUDA, then Apple MPS, then the CPU."""

from __future__ import annotations

import torch

from studio.errors import StudioError

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


def training_autocast_dtype(device: torch.device) -> torch.dtype | None:
    """Reduced precision where it pays: bf16 autocast to train on CUDA; everything else fp32.

    Training uses bf16 for its range (no loss scaling needed). Stylizing stays fp32 (TF32 convolutions):
    on the H100, fp16 autocast measured 0.70-0.98x the fp32 speed for batch-1 images, because the fp32
    instance-norm statistics add conversions that cost more than the faster convolutions save
    (bench/stylize_speed.py). CPU and MPS stay in fp32.
    """
    return torch.bfloat16 if device.type == "cuda" else None
