"""How far activations entering instance norm stray from their channel mean, per preset model, on real photos.

    python bench/norm_range.py [--photos DIR] [--side 1080] [--count 4] [--presets NAME,NAME]

Why the frame engine's fp16 path (studio.infer.frames) takes the norm statistics in fp32: the variance sums
squares of these deviations, and fp16 ends at 65,504 (a deviation of 256). The pre-trained start networks
(what every trained model begins from) and every preset's image and video model, fp32 PyTorch on the CPU,
on the first --count photos of --photos (default: the built-in ones, scikit-image's) resized to --side on
their longer side; prints each model's largest |activation - channel mean| over all norm layers and photos.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from studio.config import NetworkConfig  # noqa: E402
from studio.nn.networks import build_network  # noqa: E402
from studio.presets import presets  # noqa: E402
from studio.train.content import builtin_content  # noqa: E402
from studio.train.start import load_init  # noqa: E402


def largest_deviation(net: torch.nn.Module, norms: list[torch.nn.Module], x: torch.Tensor) -> float:
    """The largest |input - its channel mean| entering any of ``norms`` in one pass of ``net`` over ``x``."""
    seen: list[float] = []

    def hook(module: torch.nn.Module, inputs: tuple[torch.Tensor, ...]) -> None:
        h = inputs[0].float()
        seen.append(float((h - h.mean((2, 3), keepdim=True)).abs().max()))

    hooks = [norm.register_forward_pre_hook(hook) for norm in norms]
    try:
        with torch.inference_mode():
            net(x, None)
    finally:
        for h in hooks:
            h.remove()
    return max(seen)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--side", type=int, default=1080)
    ap.add_argument("--count", type=int, default=4)
    ap.add_argument("--presets", help="comma-separated names (default: all)")
    ap.add_argument("--photos", help="a folder of .jpg/.png photos (default: the built-in ones)")
    args = ap.parse_args()
    if args.photos:
        paths = sorted(p for p in Path(args.photos).iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    else:
        paths = builtin_content()
    photos = []
    for path in paths[: args.count]:
        im = Image.open(path).convert("RGB")
        scale = args.side / max(im.size)
        im = im.resize((round(im.width * scale) // 4 * 4, round(im.height * scale) // 4 * 4), Image.Resampling.LANCZOS)
        photos.append(torch.from_numpy(np.asarray(im).copy()).permute(2, 0, 1)[None].float() / 255)
    wanted = set(args.presets.split(",")) if args.presets else None
    print(f"{len(photos)} photos, longer side {args.side}, fp32 on the CPU")
    print("| preset | model | largest deviation | its square (fp16 max 65,504) |\n| --- | --- | ---: | ---: |")
    worst = 0.0
    for use_case in ("image", "video"):
        net = build_network(NetworkConfig.for_use_case(use_case)).eval()
        load_init(net, use_case)
        dev = max(largest_deviation(net, net.norms(), x) for x in photos)
        worst = max(worst, dev)
        print(f"| (pre-trained start) | {use_case} | {dev:,.0f} | {dev**2:.2g} |", flush=True)
    for p in presets():
        if wanted is not None and p.name not in wanted:
            continue
        for use_case in ("image", "video"):
            net = p.load(use_case, device="cpu").network
            dev = max(largest_deviation(net, net.norms(), x) for x in photos)
            worst = max(worst, dev)
            print(f"| {p.name} | {use_case} | {dev:,.0f} | {dev**2:.2g} |", flush=True)
    print(f"\nlargest over all: {worst:,.0f} (squared {worst**2:.2g})")


if __name__ == "__main__":
    main()
