"""The CPU's training pace, for studio.train.estimate's constants: the probe's seconds and the steady seconds an
iteration of each use case at the CPU's default batch (2; 256 px crops), with the setup before the first one.

    python bench/cpu_pace.py [--iterations 8]

Prints a table; copy the numbers into studio/train/estimate.py (_PROBE_SECONDS, _ITERATION_SECONDS,
_SETUP_SECONDS) when they were measured on a new reference machine.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
from common import table

from studio.config import TrainConfig
from studio.train.estimate import cpu_probe_seconds
from studio.train.trainer import Trainer


def pace(use_case: str, iterations: int) -> tuple[float, float]:
    """(seconds from the Trainer's construction to the first iteration, median seconds an iteration; each report
    also makes a validation image, a small share of a CPU iteration)."""
    rng = np.random.default_rng(0)
    painting = (rng.random((64, 64, 3)) * 255).astype(np.uint8).repeat(4, 0).repeat(4, 1)  # blocky texture
    config = TrainConfig(iterations=iterations, use_case=use_case, report_interval=1)
    start = time.perf_counter()
    times: list[float] = []
    Trainer([painting], None, config, device="cpu").run(lambda p: times.append(time.perf_counter()))
    per = statistics.median(b - a for a, b in zip(times, times[1:], strict=False))
    return times[0] - start - per, per


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iterations", type=int, default=8)
    args = ap.parse_args()
    # the probe as the studio takes it (once), before and after the trainings: a shared machine's speed drifts
    rows = [{"what": "probe, before (s)", "seconds": f"{cpu_probe_seconds():.4f}"}]
    for use_case in ("video", "image"):
        setup, per = pace(use_case, args.iterations)
        rows.append({"what": f"{use_case}: to the first iteration (s)", "seconds": f"{setup:.1f}"})
        rows.append({"what": f"{use_case}: an iteration (s)", "seconds": f"{per:.2f}"})
    rows.append({"what": "probe, after (s)", "seconds": f"{cpu_probe_seconds():.4f}"})
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(table(rows))


if __name__ == "__main__":
    main()
