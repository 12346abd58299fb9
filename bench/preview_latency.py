"""Preview latency on this machine: how soon the Preview tab's first picture and its result come, for a 768 px
photo (scikit-image's motorcycle, resized), with a preset's image and video models.

    python bench/preview_latency.py [--preset swirling-sky] [--side 768] [--runs 5]

Rows: ``studio.preview`` end to end as the tab calls it (draft, then result, photo already decoded), and the
network passes it is made of: the photo path (``StyleModel.stylize``, PyTorch; the result) and the frame engine
(``FrameStylizer``): plain PyTorch (``fast=False``, what drafts use), and its CPU fast paths, onnxruntime and
PyTorch with the sub-pixel decoder, for comparison. Medians of --runs after one warm-up; one-off set-up (model
load, onnxruntime export) is printed apart. The browser adds upload, queue and image transfer on top.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch
from PIL import Image

from studio.infer.frames import FrameOptions, FrameStylizer
from studio.infer.preview import preview
from studio.presets import load_spec
from studio.train.content import builtin_content


def median_ms(fn: Callable[[], object], runs: int) -> float:
    fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def steps_ms(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median ms to the first and to the last step of a preview generator."""
    firsts, lasts = [], []
    for i in range(runs + 1):
        start = time.perf_counter()
        marks = [time.perf_counter() - start for _ in fn()]  # type: ignore[attr-defined]
        if i:  # the first run warms up
            firsts.append(marks[0])
            lasts.append(marks[-1])
    return 1000 * statistics.median(firsts), 1000 * statistics.median(lasts)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="swirling-sky")
    ap.add_argument("--side", type=int, default=768)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    source = next(p for p in builtin_content() if p.stem == "motorcycle_left")
    photo = Image.open(source).convert("RGB")
    scale = args.side / max(photo.size)
    photo = photo.resize((round(photo.width * scale), round(photo.height * scale)), Image.Resampling.BILINEAR)
    frame = np.asarray(photo)
    spec = f"preset:{args.preset}"
    start = time.perf_counter()
    image, video = load_spec(spec, "image", "cpu"), load_spec(spec, "video", "cpu")
    print(f"{photo.width}x{photo.height} photo, preset {args.preset}, {torch.get_num_threads()} threads")
    print(f"set-up: both models loaded in {1000 * (time.perf_counter() - start):.0f} ms", end="")
    engines = {}
    for name, model in (("image", image), ("video", video)):
        engines[name, "plain torch (drafts)"] = FrameStylizer(model, fast=False)
        for backend in ("onnxruntime", "torch"):
            start = time.perf_counter()
            engines[name, backend] = FrameStylizer(model, options=FrameOptions(cpu_backend=backend))
            if backend == "onnxruntime":
                print(
                    f"; {name} model exported to onnxruntime in {1000 * (time.perf_counter() - start):.0f} ms", end=""
                )
    print()
    rows: list[tuple[str, str, float | None, float]] = []
    for name, model, draft in (("image", image, video), ("image", image, None), ("video", video, None)):
        how = "draft: video model" if draft is not None else "draft: itself, smaller"
        first, last = steps_ms(lambda m=model, d=draft: preview(m, photo, draft_model=d, max_size=1536), args.runs)
        steps = [s.final for s in preview(model, photo, draft_model=draft, max_size=1536)]
        rows.append(
            (
                f"preview(), {name} preset",
                how if len(steps) > 1 else "no draft (quick enough)",
                first if len(steps) > 1 else None,
                last,
            )
        )
    for name, model in (("image", image), ("video", video)):
        rows.append(
            (f"{name} model", "photo path, torch", None, median_ms(lambda m=model: m.stylize(photo), args.runs))
        )
        for backend in ("plain torch (drafts)", "onnxruntime", "torch"):
            engine = engines[name, backend]
            rows.append(
                (f"{name} model", f"frame engine, {backend}", None, median_ms(lambda e=engine: e(frame), args.runs))
            )
    print("\n| what | how | first picture (ms) | result (ms) |\n| --- | --- | ---: | ---: |")
    for what, how, first, last in rows:
        print(f"| {what} | {how} | {'' if first is None else f'{first:.0f}'} | {last:.0f} |")


if __name__ == "__main__":
    main()
