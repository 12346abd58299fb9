"""Frames per second of the frame engine (videos, webcam): plain eager PyTorch vs the optimised path.

    python bench/frame_speed.py [--sizes 512x512,1280x720,1920x1080] [--models image,video]

Batch 1, the frame already on the device (uint8 in, uint8 out, as studio.frames runs it), timed with CUDA
events over --iterations runs after warm-up; both variants in the same process, so their ratio is fair.
"host" adds the copies from and to numpy (what a video file or the webcam pays). "max diff" is the
largest difference between the two outputs in 0..255 levels. Needs CUDA.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from studio.frames import FrameStylizer
from studio.presets import preset


def _time_cuda(fn, frames: torch.Tensor, iterations: int) -> float:  # type: ignore[no-untyped-def]
    for _ in range(5):
        fn(frames)
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(iterations):
        fn(frames)
    end.record()
    torch.cuda.synchronize()
    return iterations / (start.elapsed_time(end) / 1000)


def _time_host(fn, frame: np.ndarray, iterations: int) -> float:  # type: ignore[no-untyped-def]
    for _ in range(3):
        fn(frame)
    t = time.perf_counter()
    for _ in range(iterations):
        fn(frame)
    return iterations / (time.perf_counter() - t)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="512x512,1280x720,1920x1080")
    ap.add_argument("--models", default="image,video")
    ap.add_argument("--preset", default="swirling-sky")
    ap.add_argument("--iterations", type=int, default=200)
    args = ap.parse_args()
    assert torch.cuda.is_available(), "this benchmark measures the CUDA path"
    torch.backends.cudnn.benchmark = True
    print(torch.cuda.get_device_name(), "torch", torch.__version__)
    rows = []
    rng = np.random.default_rng(0)
    for use_case in args.models.split(","):
        model = preset(args.preset).load(use_case, device="cuda")
        eager = FrameStylizer(model, fast=False)
        fast = FrameStylizer(model, fast=True)
        for size in args.sizes.split(","):
            w, h = (int(v) for v in size.split("x"))
            frame = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
            on_device = torch.from_numpy(frame[None]).cuda()
            t = time.perf_counter()
            fast.run(on_device)  # captures the graph for this shape
            torch.cuda.synchronize()
            capture = time.perf_counter() - t
            fps_eager = _time_cuda(eager.run, on_device, args.iterations)
            fps_fast = _time_cuda(fast.run, on_device, args.iterations)
            host_fast = _time_host(fast, frame, max(20, args.iterations // 4))
            diff = int((eager.run(on_device).int() - fast.run(on_device).int()).abs().max())
            mean = float((eager.run(on_device).float() - fast.run(on_device).float()).abs().mean())
            rows.append((use_case, size, fps_eager, fps_fast, host_fast, diff, mean, capture))
    print("\n| model | size | eager fp32 fps | optimised fps | speed-up | optimised + host copies fps | "
          "max diff (levels) | mean diff | capture s |")  # fmt: skip
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for use_case, size, fe, ff, fh, d, m, c in rows:
        print(f"| {use_case} | {size} | {fe:.0f} | {ff:.0f} | {ff / fe:.1f}x | {fh:.0f} | {d} | {m:.2f} | {c:.1f} |")


if __name__ == "__main__":
    main()
