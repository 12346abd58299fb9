"""Contact sheet: every style x a set of photos, for each training recipe; to judge quality by eye.

    python bench/contact_sheet.py --styles DIR --content DIR --photos 97,90,153 --out OUT/ \
        --variants studio plain:iterations=1500 [--iterations 500] [--device auto]

A variant is a recipe name (studio, plain) with optional overrides of LossRecipe fields and of
iterations / strength / density / init / only (styles, a/b/c), e.g.
``studio:style_weight=8,tv_weight=1e-4,density=128``. Writes one JPEG per variant (rows: styles, first
column the style image; first row the photos) and prints each model's end-to-end training time
(studio.Trainer: weights, data and training) as a table.
Images made from ../shared/data stay out of the repository.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from common import parse_variant, table
from PIL import Image, ImageDraw, ImageOps

from studio.config import TrainConfig
from studio.device import resolve_device
from studio.io.media import open_image, to_array
from studio.train.content import resolve_content
from studio.train.trainer import Trainer


def tile(img: Image.Image, size: int) -> Image.Image:
    return ImageOps.pad(img.convert("RGB"), (size, size), color=(255, 255, 255))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--styles", required=True)
    ap.add_argument("--content", required=True)
    ap.add_argument(
        "--photos", default="97,90,153,5,131,30,107,79", help="indices into the sorted content folder, or file names"
    )
    ap.add_argument("--variants", nargs="+", default=["studio"])
    ap.add_argument("--only", help="comma-separated style names (file stems) to use")
    ap.add_argument("--iterations", type=int, default=500)
    ap.add_argument("--size", type=int, default=256, help="tile size in the sheet")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    dev = resolve_device(args.device)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    styles = resolve_content(args.styles)
    if args.only:
        styles = [p for p in styles if p.stem in args.only.split(",")]
    content = resolve_content(args.content)
    photos = [content[int(p)] if p.isdigit() else Path(args.content) / p for p in args.photos.split(",")]
    photo_imgs = [Image.fromarray((to_array(open_image(p))[0] * 255).astype("uint8")) for p in photos]
    rows = []
    for spec in args.variants:
        label, recipe, extra = parse_variant(spec)
        cfg = TrainConfig(
            iterations=int(extra.get("iterations", args.iterations)),
            style_strength=float(extra.get("strength", 5)),
            style_density=int(extra.get("density", 256)),
            use_case=extra.get("use_case", "image"),
            init=extra.get("init", "random" if recipe.output != "sigmoid" else "pretrained"),
        )
        styles_here = [p for p in styles if "only" not in extra or p.stem in extra["only"].split("/")]
        s = args.size
        sheet = Image.new("RGB", ((len(photos) + 1) * s, (len(styles_here) + 1) * s + 24), "white")
        ImageDraw.Draw(sheet).text(
            (4, 4),
            f"{label}  ({cfg.iterations} it, strength {cfg.style_strength}, "
            f"density {cfg.style_density}, init {cfg.init})",
            fill="black",
        )
        for j, p in enumerate(photo_imgs):
            sheet.paste(tile(p, s), ((j + 1) * s, 24))
        for i, style in enumerate(styles_here):
            t0 = time.perf_counter()
            trainer = Trainer(style, content, cfg, device=dev, recipe=recipe)
            last: list[float] = [0.0, 0.0]

            def remember(p, last=last) -> None:  # noqa: ANN001
                last[:] = [p.style_loss, p.content_loss]

            model = trainer.run(remember)
            if dev.type == "cuda":
                torch.cuda.synchronize()
            seconds = time.perf_counter() - t0
            model.to(dev)
            sheet.paste(tile(open_image(style), s), (0, (i + 1) * s + 24))
            for j, p in enumerate(photo_imgs):
                sheet.paste(tile(model.stylize(p), s), ((j + 1) * s, (i + 1) * s + 24))
            rows.append(
                {
                    "variant": label,
                    "style": style.stem,
                    "iterations": cfg.iterations,
                    "train s": f"{seconds:.1f}",
                    "style loss": f"{last[0]:.3f}",
                    "content loss": f"{last[1]:.3f}",
                }
            )
            print(rows[-1], flush=True)
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in label)
        sheet.save(out / f"sheet-{safe}.jpg", quality=88)
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu"
    print(f"\ncontact sheet training times on {name}, torch {torch.__version__}")
    print(table(rows))


if __name__ == "__main__":
    main()
