"""Flicker vs style: warping error and style loss of per-frame and stabilized video stylization.

    python bench/video_stability.py [--video ../shared/data/video/cutBunny.mp4] [--preset swirling-sky]
                                    [--max-size 640] [--strengths 0.5,0.7,0.8] [--out DIR] [--model M]

Warping error (Ruder et al. 2016; Lai et al. 2018): between consecutive output frames, the mean squared
difference (0..1 RGB) of frame t and frame t-1 warped onto it along OpenCV's Farneback flow of the *source*
video, over pixels where forward and backward flow agree (occlusions excluded). The stabilizer itself uses
DIS flow, so this is not its own flow grading itself. Style loss: the training loss's Gram-matrix term
(same loss network and layers) of every 10th output frame against the preset's painting, averaged.
``--out`` also writes the stylized videos (never commit them: they are made from ../shared data).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

import studio
from studio.config import TrainConfig, style_long_side
from studio.infer.temporal import mean_warping_error
from studio.infer.video import frames_of, stylize_video
from studio.io.media import open_image, to_array
from studio.nn.losses import gram, style_targets
from studio.nn.lossnet import load_vgg
from studio.presets import preset


def _tensor(rgb: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(rgb).permute(2, 0, 1)[None].float().div(255)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--video", default="../shared/data/video/cutBunny.mp4")
    ap.add_argument("--preset", default="swirling-sky")
    ap.add_argument("--use-case", default="video")
    ap.add_argument("--model", help="a trained model instead of the preset's (the preset's painting scores the style)")
    ap.add_argument("--max-size", type=int, default=640)
    ap.add_argument("--strengths", default="0.5,0.7,0.8")
    ap.add_argument("--out", default="/tmp/video-stability")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    p = preset(args.preset)
    model = studio.load(args.model) if args.model else p.load(args.use_case)
    source = list(frames_of(args.video, args.max_size))

    recipe = TrainConfig().loss_recipe
    vgg = load_vgg("hed", "cpu")
    style = _tensor(to_array(open_image(p.style_image))[0].__mul__(255).astype(np.uint8))
    style = torch.nn.functional.interpolate(
        style, scale_factor=style_long_side(p.density) / max(style.shape[-2:]), mode="bilinear", antialias=True
    )
    targets = style_targets(vgg, [style], recipe.style_layers)

    def style_loss(frames: list[np.ndarray]) -> float:
        losses = []
        with torch.no_grad():
            for f in frames[::10]:
                feats = vgg(_tensor(f), recipe.style_layers)
                losses.append(sum(float(((gram(feats[k]) - targets[k]) ** 2).sum()) for k in recipe.style_layers))
        return float(np.mean(losses))

    rows = []
    for strength in [0.0, *(float(s) for s in args.strengths.split(","))]:
        path = out / f"{args.preset}-{strength:g}.mp4"
        t = time.perf_counter()
        stylize_video(model, args.video, path, max_size=args.max_size, stabilize=strength)
        seconds = time.perf_counter() - t
        frames = list(frames_of(path))
        rows.append((strength, mean_warping_error(source, frames), style_loss(frames), len(frames) / seconds))
    base_e, base_s = rows[0][1], rows[0][2]
    which = args.model or f"preset {args.preset} ({args.use_case} model)"
    print(f"\n{args.video}, {which}, longer side {args.max_size}, {len(source)} frames, device {model.device}")
    print("| stabilize | warping error | vs per-frame | style loss | vs per-frame | fps (decode+stylize+encode) |")
    print("| --- | --- | --- | --- | --- | --- |")
    for strength, e, s, fps in rows:
        name = "off (per frame)" if strength == 0 else f"{strength:g}"
        print(f"| {name} | {e:.5f} | {e / base_e:.0%} | {s:.4f} | {s / base_s - 1:+.1%} | {fps:.1f} |")


if __name__ == "__main__":
    main()
