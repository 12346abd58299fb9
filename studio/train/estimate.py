"""How long a training run takes, for people deciding whether to start one, and which model suits a device.

Rough guides from the studio's own measurements, scaled by batch and crop size: shown before and during a
run (:meth:`studio.Trainer.estimated_seconds`); the training itself never depends on them.
"""

from __future__ import annotations

import torch

from studio.config import TrainConfig
from studio.device import resolve_device

# Measured with bench/train_latency.py (one model; 256 px crops): seconds per iteration at the device's default
# batch (8 on a GPU, 2 on the CPU), and the seconds around the iterations (imports, loss network, content,
# warm-up; on the GPU with Python's bytecode cached, as an install leaves it: bench/RESULTS.md, "Sixth round").
# GPU: an H200, the steady rates of `studio train` with the sliced Wasserstein term (bench/RESULTS.md, "Eighth
# round"). CPU: 2 cores (x86-64, AVX2), the term's 3 % added to the sixth round's measurements.
_ITERATION_SECONDS = {
    ("cuda", "image"): 1 / 34.0,
    ("cuda", "video"): 1 / 40.0,
    ("cpu", "image"): 2.64,
    ("cpu", "video"): 1.40,
}
_SETUP_SECONDS = {"cuda": 5.0, "cpu": 8.0}
_MEASURED_BATCH = {"cuda": 8, "cpu": 2}


def estimate_seconds(
    config: TrainConfig, device: str | torch.device | None = "auto", iterations: int | None = None
) -> float | None:
    """About how long ``iterations`` (default: all of ``config``'s) will take on ``device``, start-up included.

    Scaled from the studio's own measurements (an H200; a 2-core CPU, by its thread count) by batch and crop
    size; a rough guide before a run starts, None where nothing was measured (Apple MPS). Other GPUs differ.
    """
    dev = resolve_device(device)
    if dev.type not in _SETUP_SECONDS:
        return None
    batch = config.batch_size or _MEASURED_BATCH[dev.type]
    per = _ITERATION_SECONDS[(dev.type, config.use_case)] * batch / _MEASURED_BATCH[dev.type]
    per *= (config.crop_size / 256) ** 2
    if dev.type == "cpu":
        per *= (2 / max(1, min(torch.get_num_threads(), 64))) ** 0.8  # measured on 2; more help, less than linearly
    n = config.iterations if iterations is None else iterations
    return _SETUP_SECONDS[dev.type] + n * per


def default_use_case(device: str | torch.device | None = "auto") -> str:
    """The use case to train when none is asked for: on a CPU the video model (about half the time), else image."""
    return "video" if resolve_device(device).type == "cpu" else "image"


def describe_seconds(seconds: float) -> str:
    """A duration for people: "about 40 s", "about 6 min", "about 1 h 20 min"."""
    if seconds < 90:
        return f"about {max(1, round(seconds))} s"
    minutes = round(seconds / 60)
    if minutes < 90:
        return f"about {minutes} min"
    return f"about {minutes // 60} h {minutes % 60:02d} min"
