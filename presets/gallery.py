"""Make the README's preset gallery: scikit-image's bundled photos stylized with every preset; with
``--thumbs``, the studio's gallery thumbnails instead: ``presets/<name>/thumb.jpg``, each preset's drawing
beside the built-in sample photo (scikit-image's astronaut) stylized with it (a few KB each).

    python presets/gallery.py [--use-case image] [--cell 180] [--out presets/gallery.jpg]
    python presets/gallery.py --thumbs

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
from studio.presets import blend_model  # noqa: E402
from studio.train.content import builtin_content  # noqa: E402

THUMB_SIDE = 150  # each half of a thumbnail (drawing | stylized photo), px
PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "motorcycle_left", "hubble_deep_field")


def _cell(image: Image.Image, size: int) -> Image.Image:
    return ImageOps.fit(image.convert("RGB"), (size, size), Image.Resampling.LANCZOS)


def thumbnail(style: Image.Image, result: Image.Image, side: int = THUMB_SIDE) -> Image.Image:
    """The drawing (left) beside the photo it stylized (right), each a centred square of ``side`` px."""
    sheet = Image.new("RGB", (2 * side, side), "white")
    sheet.paste(_cell(style, side), (0, 0))
    sheet.paste(_cell(result, side), (side, 0))
    return sheet


def make_thumbs(use_case: str = "image") -> None:
    """Write ``thumb.jpg`` into every preset's folder (the sample photo: the studio's first built-in photo)."""
    photo = Image.open(builtin_content()[0]).convert("RGB")
    photo.thumbnail((2 * THUMB_SIDE, 2 * THUMB_SIDE), Image.Resampling.LANCZOS)  # stylized at 2x, then shrunk
    for preset in studio.presets():
        result = preset.load(use_case, device="cpu").stylize(photo)
        out = preset.folder / "thumb.jpg"
        thumbnail(Image.open(preset.style_image), result).save(out, quality=72, optimize=True)
        print(out, out.stat().st_size, "bytes", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--use-case", default="image", choices=["image", "video"])
    ap.add_argument("--cell", type=int, default=180)
    ap.add_argument("--work-size", type=int, default=384, help="longer side the photos are stylized at")
    ap.add_argument("--out", default=str(Path(__file__).parent / "gallery.jpg"))
    ap.add_argument("--thumbs", action="store_true", help="write each preset's thumb.jpg for the studio's gallery")
    args = ap.parse_args()
    if args.thumbs:
        make_thumbs(args.use_case)
        return
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
