"""The all-presets model against each preset's own model: content kept alike, and what a 50/50 blend shows.

    python bench/blend_check.py --photos PHOTOS/ [--use-case image] [--size 384] [--out OUT/]

For every preset and photo: luminance SSIM (bench/quality.py's) of the photo with the preset's own model's
result and with the all-presets model's result for that preset, and their difference (the presets' promise:
within 0.05), with the largest on one photo either way (the all-presets model keeping less of it, or more).
With --out, a sheet of 50/50 blends of neighbouring presets beside both ends.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from common import table
from PIL import Image, ImageDraw
from quality import load_images, ssim, tile

from studio.presets import blend_model, preset, presets
from studio.train.content import resolve_content


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", nargs="+", required=True)
    ap.add_argument("--use-case", default="image", choices=["image", "video"])
    ap.add_argument("--size", type=int, default=384)
    ap.add_argument("--out")
    args = ap.parse_args()
    photos = load_images(resolve_content(args.photos, what="photo"), args.size)
    names = [p.name for p in presets()]
    every = blend_model(args.use_case, device="cpu")
    rows, worst = [], 0.0
    with torch.inference_mode():
        for name in names:
            own = preset(name).load(args.use_case, device="cpu")
            single = [ssim(p, Image.fromarray(own.stylize(np.asarray(p)))) for p in photos]
            mixed = [ssim(p, Image.fromarray(every.stylize(np.asarray(p), style=name))) for p in photos]
            diffs = [b - a for a, b in zip(single, mixed, strict=True)]  # > 0: the all-presets model keeps more
            gaps = [abs(d) for d in diffs]
            worst = max(worst, *gaps)
            rows.append(
                {
                    "preset": name,
                    "SSIM own model": f"{np.mean(single):.3f}",
                    "SSIM all-presets": f"{np.mean(mixed):.3f}",
                    "largest gap": f"{max(gaps):.3f}",
                    "most kept less": f"{max(0.0, -min(diffs)):.3f}",
                    "most kept more": f"{max(0.0, max(diffs)):.3f}",
                }
            )
        if args.out:
            out = Path(args.out)
            out.mkdir(parents=True, exist_ok=True)
            s = 192
            pairs = list(zip(names, names[1:] + names[:1], strict=True))
            sheet = Image.new("RGB", (3 * s * len(photos[:3]), s * len(pairs) + 20), "white")
            ImageDraw.Draw(sheet).text((4, 4), f"{args.use_case}: A | 50/50 | B", fill="black")
            for i, (a, b) in enumerate(pairs):
                for j, p in enumerate(photos[:3]):
                    for k, style in enumerate(({a: 1.0}, {a: 0.5, b: 0.5}, {b: 1.0})):
                        img = Image.fromarray(every.stylize(np.asarray(p), style=style))
                        sheet.paste(tile(img, s), ((3 * j + k) * s, 20 + i * s))
            sheet.save(out / f"blends-{args.use_case}.png")
    print(f"\nall-presets model vs each preset's own ({args.use_case}), {len(photos)} photos at {args.size} px")
    print(table(rows))
    print(f"largest SSIM gap: {worst:.3f}")


if __name__ == "__main__":
    main()
