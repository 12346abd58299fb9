"""Quick look timing: seconds to a preview at a few sizes (first call includes loading the loss network).

python bench/quicklook_speed.py [--style presets/neon-lines/style.jpg] [--photo PHOTO] [--device auto]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from studio.train.quicklook import quicklook  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    root = Path(__file__).resolve().parents[1]
    ap.add_argument("--style", default=str(root / "presets" / "neon-lines" / "style.jpg"))
    ap.add_argument("--photo", default=str(root / "presets" / "watercolour" / "style.jpg"))
    ap.add_argument("--device", default="auto")
    ap.add_argument("--out", help="save the 512 px preview here")
    args = ap.parse_args()
    print("| size | steps | seconds | steps/s |")
    print("| --- | --- | --- | --- |")
    for size, steps in ((256, 20), (256, 200), (512, 200), (1024, 200)):
        image = None
        start = time.perf_counter()
        image = quicklook(args.style, args.photo, size=size, iterations=steps, device=args.device, max_seconds=600)
        seconds = time.perf_counter() - start
        print(f"| {size} | {steps} | {seconds:.2f} | {steps / seconds:.0f} |", flush=True)
        if size == 512 and args.out:
            image.save(args.out)
        assert np.asarray(image).std() > 0


if __name__ == "__main__":
    main()
