"""Does a video model stylize as well as another? The training's own losses, per preset, on unseen photos.

    python bench/video_quality.py --baseline DIR [--size 256] [--presets a,b]

For every preset, the video model in presets/ and the one in DIR/<preset>/video.safetensors (e.g. an older
network, saved before retraining) stylize scikit-image's built-in photos (never used in training) at
--size px, centre-cropped square, the training crops' size. Each output is scored with the studio recipe's
normalised losses against that preset's style targets (style image at the preset's density, its strength):
style loss, content loss and their weighted total, the quantity training minimises. The image model is a
reference row: what the 1.7 M-parameter network reaches on the same photos. Lower is better.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from studio.config import TrainConfig, style_long_side
from studio.io.media import open_image, to_array
from studio.model import StyleModel, load
from studio.nn.losses import PerceptualLoss
from studio.nn.lossnet import load_vgg
from studio.presets import presets
from studio.train.content import builtin_content
from studio.train.trainer import loss_for


def _tensor(rgb: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)[None].float()


def _photos(size: int) -> torch.Tensor:
    out = []
    for path in builtin_content():
        x = _tensor(to_array(open_image(path))[0])
        side = min(x.shape[-2:])
        top, left = (x.shape[-2] - side) // 2, (x.shape[-1] - side) // 2
        x = x[..., top : top + side, left : left + side]
        out.append(F.interpolate(x, size=(size, size), mode="bilinear", antialias=True))
    return torch.cat(out)  # (N, 3, size, size) in [0, 1]


@torch.no_grad()
def _score(model: StyleModel, photos: torch.Tensor, loss: PerceptualLoss) -> tuple[float, float, float]:
    y = model.network(photos, torch.ones(len(photos), 1)).clamp(0, 1)
    total, style, content = loss(y, photos, torch.ones(len(photos), 1))
    return float(style), float(content), float(total)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--baseline", required=True, help="folder with <preset>/video.safetensors to compare with")
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--presets", help="comma-separated names (default: all)")
    args = ap.parse_args()
    torch.set_grad_enabled(False)
    recipe = TrainConfig().loss_recipe
    vgg = load_vgg("hed", "cpu")
    photos = _photos(args.size)
    base = Path(args.baseline)
    rows = []
    for p in presets():
        if args.presets and p.name not in args.presets.split(","):
            continue
        style = _tensor(to_array(open_image(p.style_image))[0])
        long_side = style_long_side(p.density)
        style = F.interpolate(style, scale_factor=long_side / max(style.shape[-2:]), mode="bilinear", antialias=True)
        loss = loss_for(vgg, recipe, [style], [p.strength])
        models = {
            "video (new)": p.load("video", device="cpu"),
            "video (baseline)": load(base / p.name / "video.safetensors", device="cpu"),
            "image": p.load("image", device="cpu"),
        }
        scores = {name: _score(m, photos, loss) for name, m in models.items()}
        params = {name: m.num_parameters for name, m in models.items()}
        rows.append((p.name, scores, params))
        print(p.name, {k: tuple(round(v, 4) for v in s) for k, s in scores.items()}, flush=True)
    names = list(rows[0][1])
    print(
        f"\n{len(photos)} built-in photos at {args.size} px; style / content / total (lower is better); "
        f"parameters: {', '.join(f'{n} {rows[0][2][n]:,}' for n in names)}"
    )
    print("| preset | " + " | ".join(f"{n}: style, content, total" for n in names) + " |")
    print("| --- |" + " --- |" * len(names))
    for name, scores, _ in rows:
        cells = [f"{s[0]:.3f}, {s[1]:.3f}, **{s[2]:.3f}**" for s in scores.values()]
        print(f"| {name} | " + " | ".join(cells) + " |")
    means = {n: np.mean([r[1][n][2] for r in rows]) for n in names}
    print("| mean total | " + " | ".join(f"{means[n]:.3f}" for n in names) + " |")
    new, old = means["video (new)"], means["video (baseline)"]
    print(f"\nnew video net's total loss vs the baseline's: {new / old - 1:+.1%}")


if __name__ == "__main__":
    main()
