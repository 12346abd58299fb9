"""Copy the tuning data into .gpu/data for a run on the GPU machine, resized to what the runs need.

    python bench/gpu_data.py [--shared ../shared/data] [--out .gpu/data]

The device tool carries at most 64 MiB, so images are resized (JPEG): training photos to 320 px on the
shorter side (the size training crops are drawn from), photos to stylize to 512 px, paintings to 768 px on
the longer side (enough for densities down to 171). The splits:

* ``styles-train``: the paintings of styles-tune whose source repository is MIT, Apache-2.0 or BSD licensed,
  less every sixth, plus the presets' drawings: what the pre-trained start learns from;
* ``styles-bench``: every other painting (styles/, the rest of styles-tune): held out, so the quality bench
  measures paintings the start has never seen;
* ``photos`` and ``faces``: every 38th photo and every 9th portrait, held out to be stylized by the bench;
* ``content``: all other photos and portraits, the start's training photos.

Nothing here is committed: .gpu/ is ignored.
"""

from __future__ import annotations

import argparse
import csv
import shutil
from pathlib import Path

from PIL import Image, ImageOps

ROOT = Path(__file__).resolve().parents[1]
PERMISSIVE = {"MIT", "Apache-2.0", "BSD-2-Clause"}


def save(src: Path, dest: Path, *, short: int | None = None, long: int | None = None) -> None:
    img = ImageOps.exif_transpose(Image.open(src)).convert("RGB")
    w, h = img.size
    scale = (short / min(w, h)) if short else (long / max(w, h)) if long else 1.0
    if scale < 1:
        img = img.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.LANCZOS)
    dest.parent.mkdir(parents=True, exist_ok=True)
    img.save(dest.with_suffix(".jpg"), quality=92)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--out", default=str(ROOT / ".gpu" / "data"))
    args = ap.parse_args()
    shared, out = Path(args.shared), Path(args.out)
    if out.exists():
        shutil.rmtree(out)
    licences = {}
    with open(shared / "SOURCES.csv", newline="") as f:
        for row in csv.DictReader(f):
            licences[row["file"]] = row["repo_license"]
    tune = sorted((shared / "styles-tune").glob("*.jpg"))
    permissive = [p for p in tune if licences.get(f"styles-tune/{p.name}") in PERMISSIVE]
    held = set(permissive[::6])
    train = [p for p in permissive if p not in held]
    bench = sorted(shared.joinpath("styles").glob("*.jpg")) + [p for p in tune if p not in train]
    for p in train:
        save(p, out / "styles-train" / p.name, long=768)
    for p in sorted(ROOT.glob("presets/*/style.jpg")):
        save(p, out / "styles-train" / f"preset-{p.parent.name}.jpg", long=768)
    for p in bench:
        save(p, out / "styles-bench" / p.name, long=768)
    photos = sorted((shared / "content").glob("*.jpg"))
    faces = sorted((shared / "faces").glob("*.jpg"))
    for p in photos[::38]:
        save(p, out / "photos" / p.name, long=512)
    for p in faces[::9]:
        save(p, out / "faces" / p.name, long=512)
    for p in [q for q in photos if q not in photos[::38]] + [q for q in faces if q not in faces[::9]]:
        save(p, out / "content" / p.name, short=320)
    for d in sorted(out.iterdir()):
        files = list(d.iterdir())
        size = sum(f.stat().st_size for f in files)
        print(f"{d.name:14s} {len(files):4d} files {size / 1e6:6.1f} MB")


if __name__ == "__main__":
    main()
