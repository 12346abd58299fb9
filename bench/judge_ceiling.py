"""What the style similarity gives a painting's own pieces: the judge of bench/quality.py, scored on parts of the
painting itself against the whole painting, on the CPU.

    python bench/judge_ceiling.py --styles PAINTINGS/ --photos PHOTOS/ --faces FACES/

For each painting: its left and right halves, its top and bottom halves (each as a picture of its own) and the
painting at half its size, each scored as bench/quality.py scores a result (Magenta style embeddings centred on the
photos' mean; the photos at 512 px as there). The mean over the halves says how far "another part of the same
painting" lies from the whole in that embedding: a reference for the 0.9-0.94 the stylized photos reach. Prints
one row per painting and the mean. Nothing is written.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import table  # noqa: E402
from quality import Judge, load_images  # noqa: E402

from studio.train.content import resolve_content  # noqa: E402


def pieces(p: Image.Image) -> dict[str, Image.Image]:
    w, h = p.size
    return {
        "left": p.crop((0, 0, w // 2, h)),
        "right": p.crop((w // 2, 0, w, h)),
        "top": p.crop((0, 0, w, h // 2)),
        "bottom": p.crop((0, h // 2, w, h)),
        "half size": p.resize((max(1, w // 2), max(1, h // 2)), Image.Resampling.LANCZOS),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--styles", nargs="+", required=True)
    ap.add_argument("--photos", nargs="+", required=True)
    ap.add_argument("--faces", nargs="*", default=[])
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    photos = load_images(resolve_content(args.photos + args.faces, what="photo"), 512)
    paths = resolve_content(args.styles, what="style")
    judge = Judge(photos, args.threads)
    rows = []
    for path, painting in zip(paths, load_images(paths, 1024), strict=True):
        target = judge.embed(painting)
        scores = {k: judge.style(v, target) for k, v in pieces(painting).items()}
        halves = statistics.mean(scores[k] for k in ("left", "right", "top", "bottom"))
        rows.append({"painting": path.stem[:32], **{k: f"{v:.3f}" for k, v in scores.items()}, "halves": halves})
    mean = {k: f"{statistics.mean(float(r[k]) for r in rows):.3f}" for k in rows[0] if k != "painting"}
    for r in rows:
        r["halves"] = f"{r['halves']:.3f}"
    print(table([*rows, {"painting": "mean", **mean}]))


if __name__ == "__main__":
    main()
