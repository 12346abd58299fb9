"""A GPU's one-off costs paid before the first training a user asks for.

The first training in a process waits for the CUDA libraries' kernels to load (cuDNN's engines, cuBLAS) on
its first iterations: on an H200 its first progress report came 8.4 s after the start, the next training's
after 0.9 s, with every preparing step under 0.8 s (``bench/train_setup.py``; without CUDA graphs 7.4 s and
1.0 s). A browser studio on a GPU runs :func:`warm_up` once in the background when it starts, so the first
user's training reports as quickly as later ones.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
import torch

from studio.config import USE_CASES, TrainConfig, check_choice
from studio.device import resolve_device
from studio.train.trainer import Trainer

WARM_ITERATIONS = 2  # a forward, backward and optimizer step of the real shapes, twice (the CUDA graph's warm-up)


def warm_up(device: str | torch.device | None = "auto", use_cases: Sequence[str] = ("image",)) -> float:
    """Run a tiny training of each use case on ``device`` (a CUDA GPU; anything else: nothing to do) with the
    shapes a real one uses, and throw it away; returns the seconds it took."""
    for use_case in use_cases:
        check_choice("use_case", use_case, USE_CASES)
    dev = resolve_device(device)
    if dev.type != "cuda":
        return 0.0
    started = time.perf_counter()
    painting = np.random.default_rng(0).integers(0, 256, (128, 128, 3), dtype=np.uint8)
    for use_case in use_cases:
        config = TrainConfig(iterations=WARM_ITERATIONS, use_case=use_case, report_interval=1)
        Trainer(painting, None, config, device=dev).run()
    torch.cuda.empty_cache()  # the warm-up's blocks back to the GPU for whoever needs them
    return time.perf_counter() - started
