"""How long a training run takes, for people deciding whether to start one, and which model suits a device.

Rough guides from the studio's own measurements, scaled by batch and crop size: shown before and during a
run (:meth:`studio.Trainer.estimated_seconds`); the training itself never depends on them.
"""

from __future__ import annotations

import functools
import time

import torch
import torch.nn.functional as F

from studio.config import TrainConfig
from studio.device import resolve_device

# Seconds per iteration at the device's default batch (8 on a GPU, 2 on the CPU; one model, 256 px crops) and the
# seconds around the iterations (imports, loss network, content, warm-up). GPU: an H200, the steady rates of `studio
# train` with the sliced Wasserstein term, Python's bytecode cached as an install leaves it (bench/train_latency.py;
# bench/RESULTS.md, "Sixth round" and "Eighth round"). CPU: the 2-core x86-64 (AVX2) machine of 2026-12-03; video the
# median of three measurements (4.15 and 5.78 s by bench/cpu_pace.py, 4.59 s by `studio train`), image the mean of two
# (7.10 and 9.88 s, bench/cpu_pace.py; bench/RESULTS.md, "Sixteenth round").
_ITERATION_SECONDS = {
    ("cuda", "image"): 1 / 34.0,
    ("cuda", "video"): 1 / 40.0,
    ("cpu", "image"): 8.5,
    ("cpu", "video"): 4.6,
}
_SETUP_SECONDS = {"cuda": 5.0, "cpu": 12.0}
_MEASURED_BATCH = {"cuda": 8, "cpu": 2}
# CPUs differ by several times, and so does one shared machine from day to day (the same 2-core machine type measured
# 1.4 s a video iteration in the sixth round and 4.2-5.8 s on 2026-12-03), so the CPU's numbers are scaled by how long
# this CPU takes for a probe (cpu_probe_seconds) against this, the probe's seconds where they were measured, taken as
# the studio takes it: once, in a fresh process (0.10-0.12 s; 0.066 s in a process warmed up by training).
_PROBE_SECONDS = 0.10


def estimate_seconds(
    config: TrainConfig, device: str | torch.device | None = "auto", iterations: int | None = None
) -> float | None:
    """About how long ``iterations`` (default: all of ``config``'s) will take on ``device``, start-up included.

    Scaled from the studio's own measurements (an H200; a 2-core CPU, by how long this CPU takes for a probe,
    :func:`cpu_slowness`) by batch and crop size; a rough guide before a run starts, None where nothing was measured
    (Apple MPS). Other GPUs differ.
    """
    dev = resolve_device(device)
    if dev.type not in _SETUP_SECONDS:
        return None
    batch = config.batch_size or _MEASURED_BATCH[dev.type]
    per = _ITERATION_SECONDS[(dev.type, config.use_case)] * batch / _MEASURED_BATCH[dev.type]
    per *= (config.crop_size / 256) ** 2
    setup = _SETUP_SECONDS[dev.type]
    if dev.type == "cpu":
        speed = cpu_slowness()
        per, setup = per * speed, setup * speed
    n = config.iterations if iterations is None else iterations
    return setup + n * per


def cpu_probe_seconds() -> float:
    """Seconds this CPU takes for a fixed slice of a training step: a 3x3 convolution of 64 channels at 128 x 128
    (as the loss network's), forward and backward in fp32, with the threads PyTorch is allowed; the best of three,
    after one that warms the kernels up. Its own seeded generator: torch's global random state is left alone."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(1, 64, 128, 128, generator=gen, requires_grad=True)
    weight = (torch.randn(64, 64, 3, 3, generator=gen) * 0.05).requires_grad_(True)
    times = []
    for _ in range(4):
        start = time.perf_counter()
        F.conv2d(x, weight, padding=1).square().mean().backward()
        times.append(time.perf_counter() - start)
    return min(times[1:])


@functools.cache
def cpu_slowness() -> float:
    """How many times longer than the measured CPU a training takes on this one (once a process; 0.1 to 20)."""
    return min(20.0, max(0.1, cpu_probe_seconds() / _PROBE_SECONDS))


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
