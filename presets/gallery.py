"""Make the README's preset gallery: scikit-image's bundled photos stylized with every preset.

    python presets/gallery.py [--use-case image] [--cell 180] [--out presets/gallery.jpg]

Rows are presets (the style image first), columns are the built-in photos; the last row blends the first
two presets half and half with the all-presets model. Only the studio's own content is used, so the gallery
may be committed. Runs on the CPU in about a minute.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageOps

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import studio  # noqa: E402
from studio.data import builtin_content  # noqa: E402
from studio.presets import blend_model  # noqa: E402

PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "motorcycle_left", "hubble_deep_field")


def _cell(image: Image.Image, size: int) -> Image.Image:
    return ImageOps.fit(image.convert("RGB"), (size, size), Image.Resampling.LANCZOS)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--use-case", default="image", choices=["image", "video"])
    ap.add_argument("--cell", type=int, default=180)
    ap.add_argument("--work-size", type=int, default=384, help="longer side the photos are stylized at")
    ap.add_argument("--out", default=str(Path(__file__).parent / "gallery.jpg"))
    args = ap.parse_args()
    paths = {p.stem: p for p in builtin_content()}
    photos = []
    for name in PHOTOS:
        if name in paths:
            image = Image.open(paths[name]).convert("RGB")
            image.thumbnail((args.work_size, args.work_size), Image.Resampling.LANCZOS)
            photos.append(image)
    found = studio.presets()
    c, label = args.cell, 22
    rows = [("photo", None)] + [(p.title, p) for p in found] + [("blend", None)]
    sheet = Image.new("RGB", ((len(photos) + 1) * c, len(rows) * (c + label)), "white")
    draw = ImageDraw.Draw(sheet)
    blend = blend_model(args.use_case, device="cpu")
    mix = {found[0].name: 0.5, found[1].name: 0.5}
    for r, (title, preset) in enumerate(rows):
        y = r * (c + label)
        if preset is not None:
            draw.text((4, y + 4), title, fill="black")
            sheet.paste(_cell(Image.open(preset.style_image), c), (0, y + label))
            model = preset.load(args.use_case, device="cpu")
            results = [model.stylize(p) for p in photos]
        elif title == "photo":
            draw.text((4, y + 4), "photo (scikit-image)", fill="black")
            results = photos
        else:
            draw.text((4, y + 4), f"blend: {found[0].title} + {found[1].title}", fill="black")
            results = [blend.stylize(p, style=mix) for p in photos]
        for i, image in enumerate(results):
            sheet.paste(_cell(image, c), ((i + 1) * c, y + label))
        print(title, flush=True)
    sheet.save(args.out, quality=88, optimize=True)
    print(args.out)


if __name__ == "__main__":
    main()
