"""More styles from the same paintings, for re-making the pre-trained start (issue 14, sixteenth round).

Each painting in IN gives four styles in OUT: the painting as it is, two opposite corners (55 % of each side: at
the same style density a corner's strokes are shown 1.8x larger) and the painting with its hues turned by a third of
the circle (a palette the set does not have). Usage: ``python bench/augment_styles.py IN OUT``. The images are made
from ../shared/data and stay out of the repository.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image

SIDE = 0.55


def variants(painting: Image.Image) -> dict[str, Image.Image]:
    w, h = painting.size
    cw, ch = round(w * SIDE), round(h * SIDE)
    out = {"": painting}
    # two opposite corners: four styles a painting keep the start within NetworkConfig's 256 styles
    for i, (x, y) in enumerate([(0, 0), (w - cw, h - ch)]):
        out[f"-c{i}"] = painting.crop((x, y, x + cw, y + ch))
    hsv = np.asarray(painting.convert("HSV")).copy()
    hsv[..., 0] = (hsv[..., 0].astype(np.int32) + 85) % 256
    out["-h1"] = Image.fromarray(hsv, "HSV").convert("RGB")
    return out


def main() -> None:
    src, dst = Path(sys.argv[1]), Path(sys.argv[2])
    dst.mkdir(parents=True, exist_ok=True)
    n = 0
    for path in sorted(p for p in src.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png")):
        with Image.open(path) as im:
            painting = im.convert("RGB")
        for suffix, image in variants(painting).items():
            image.save(dst / f"{path.stem}{suffix}.jpg", quality=92)
            n += 1
    print(f"{n} styles in {dst}")


if __name__ == "__main__":
    main()
