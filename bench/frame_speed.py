"""Frames per second of the frame engine (videos, webcam): plain eager PyTorch vs the optimised path.

    python bench/frame_speed.py [--sizes 512x512,1280x720,1920x1080] [--models image,video]

Batch 1, the frame already on the device (uint8 in, uint8 out, as studio.infer.frames runs it), timed with CUDA
events over --iterations runs after warm-up; both variants in the same process, so their ratio is fair.
"host" adds the copies from and to numpy (what a video file or the webcam pays). "max diff" is the
largest difference between the two outputs in 0..255 levels. Needs CUDA.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from studio.infer.frames import FrameOptions, FrameStylizer
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


PLAIN_DECODER = FrameOptions(upsample="plain")
VARIANTS = {
    # name: FrameStylizer keyword arguments (options: the engine's switches, studio.infer.frames.FrameOptions)
    "eager fp32": {"fast": False},
    "fp16 graph": {"options": FrameOptions(edges="plain", upsample="plain")},
    "fp16 graph + split edges": {"options": PLAIN_DECODER},
    "fp16 graph + split edges + sub-pixel decoder (default)": {},
    "compiled + split edges": {"compile": True, "options": PLAIN_DECODER},
    "compiled + split edges + sub-pixel decoder": {"compile": True},
    "compiled max-autotune": {"compile": "max-autotune-no-cudagraphs"},
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="512x512,1280x720,1920x1080")
    ap.add_argument("--models", default="image,video")
    ap.add_argument("--preset", default="swirling-sky")
    ap.add_argument("--iterations", type=int, default=200)
    ap.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated names from VARIANTS")
    ap.add_argument("--compile-sizes", default="1920x1080", help="sizes at which the compile variants run")
    ap.add_argument("--profile", metavar="VARIANT", help="print the top CUDA kernels of this variant at each size")
    args = ap.parse_args()
    assert torch.cuda.is_available(), "this benchmark measures the CUDA path"
    torch.backends.cudnn.benchmark = True
    print(torch.cuda.get_device_name(), "torch", torch.__version__, flush=True)
    rows = []
    rng = np.random.default_rng(0)
    names = [v.strip() for v in args.variants.split(",")]
    for use_case in args.models.split(","):
        model = preset(args.preset).load(use_case, device="cuda")
        engines = {name: FrameStylizer(model, **VARIANTS[name]) for name in names}  # type: ignore[arg-type]
        for size in args.sizes.split(","):
            w, h = (int(v) for v in size.split("x"))
            frame = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
            on_device = torch.from_numpy(frame[None]).cuda()
            reference = engines["eager fp32"].run(on_device) if "eager fp32" in engines else None
            base = None
            for name, engine in engines.items():
                if "compile" in name and size not in args.compile_sizes.split(","):
                    continue
                t = time.perf_counter()
                out = engine.run(on_device)  # compiles / captures for this shape
                torch.cuda.synchronize()
                setup = time.perf_counter() - t
                fps = _time_cuda(engine.run, on_device, args.iterations)
                host = _time_host(engine, frame, max(20, args.iterations // 4))
                base = base or fps
                diff = mean = float("nan")
                if reference is not None:
                    d = (reference.int() - out.int()).abs()
                    diff, mean = float(d.max()), float(d.float().mean())
                rows.append((use_case, size, name, fps, fps / base, host, diff, mean, setup))
                if args.profile == name:
                    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CUDA]) as prof:
                        for _ in range(10):
                            engine.run(on_device)
                        torch.cuda.synchronize()
                    print(f"{use_case} {size} {name}: top kernels (10 frames)")
                    print(
                        prof.key_averages().table(
                            sort_by="self_cuda_time_total", row_limit=15, max_name_column_width=70
                        )
                    )
                print(rows[-1], flush=True)
    print("\n| model | size | variant | fps | vs eager | + host copies fps | max diff (levels) | mean diff | setup s |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for use_case, size, name, fps, ratio, host, d, m, setup in rows:
        cells = [
            use_case,
            size,
            name,
            f"{fps:.0f}",
            f"{ratio:.2f}x",
            f"{host:.0f}",
            f"{d:.0f}",
            f"{m:.2f}",
            f"{setup:.1f}",
        ]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
