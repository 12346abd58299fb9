"""Drive a running studio (``python app.py``) through its API like a user, and time it.

    python bench/ui_session.py [--url http://127.0.0.1:7860/] [--iterations 500] [--photo PHOTO]

One session trains a model on the built-in photos (streaming previews), takes a snapshot on the way, then
stylizes a photo with the model, with the snapshot side by side, and downloads the Core ML package. A second
session stylizes with a preset before and during the training, to show that stylizing stays responsive.
Prints a table of timings. Not a test: it needs a server and (to be quick) a GPU.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

from gradio_client import Client, handle_file

N_PRESETS = 11


def stylize_times(client: Client, photo: str, n: int, style: str = "preset:neon-lines") -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        client.predict(handle_file(photo), style, "before", "image", 1.0, False, 1024, *[0.0] * N_PRESETS,
                       api_name="/stylize")  # fmt: skip
        out.append(time.perf_counter() - t)
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="http://127.0.0.1:7860/")
    ap.add_argument("--iterations", type=int, default=500)
    ap.add_argument("--photo", required=True, help="a photo to stylize (longest side used: 1024)")
    ap.add_argument("--style", required=True, help="a style painting to train on")
    args = ap.parse_args()
    user, other = Client(args.url, verbose=False), Client(args.url, verbose=False)
    rows: list[tuple[str, str]] = []

    stylize_times(other, args.photo, 2)  # warm-up: load the preset model
    idle = stylize_times(other, args.photo, 10)
    rows.append(("stylize 1024 px, idle (median of 10)", f"{statistics.median(idle) * 1000:.0f} ms"))

    busy: list[float] = []
    done = threading.Event()

    def keep_stylizing() -> None:
        while not done.is_set():
            busy.extend(stylize_times(other, args.photo, 1))

    t0 = time.perf_counter()
    job = user.submit([handle_file(args.style)], None, None, 5, 256, "image", args.iterations, api_name="/train")
    first = snap = snap_key = None
    thread = threading.Thread(target=keep_stylizing, daemon=True)
    previews = 0
    last = None
    for out in job:
        last = out
        if out[0].startswith("Iteration"):
            previews += 1
            if first is None:
                first = time.perf_counter() - t0
                thread.start()
            if snap is None and int(out[0].split()[1]) >= args.iterations // 2:
                shown = int(out[0].split()[1])
                choices, _, snap = user.predict(api_name="/snapshot")
                snap = f"{snap} (page showed iteration {shown})"
                snap_key = choices["choices"][-1][1]
    train_s = time.perf_counter() - t0
    done.set()
    thread.join()
    assert last is not None and "done" in last[0], last
    key = last[3]["value"] if isinstance(last[3], dict) else last[3]
    rows += [
        (f"train {args.iterations} iterations (image model, built-in photos)", f"{train_s:.1f} s"),
        ("first preview after", f"{first:.1f} s"),
        ("previews streamed", str(previews)),
        ("snapshot taken", str(snap)),
        (f"stylize 1024 px during training (median of {len(busy)})",
         f"{statistics.median(busy) * 1000:.0f} ms" if busy else "none ran"),
    ]  # fmt: skip
    t = time.perf_counter()
    (left, right), caption, _ = user.predict(
        handle_file(args.photo), f"mine:{key}", f"mine:{snap_key}", "image", 1.0, False, 1024, *[0.0] * N_PRESETS,
        api_name="/stylize",
    )  # fmt: skip
    ms = (time.perf_counter() - t) * 1000
    rows.append(("trained model vs its snapshot, side by side (loads both)", f"{ms:.0f} ms; {caption}"))
    t = time.perf_counter()
    package = user.predict(key, "Core ML (.mlpackage, zipped)", api_name="/download")
    size = Path(package).stat().st_size / 1e6
    rows.append(("download .mlpackage (zipped)", f"{time.perf_counter() - t:.1f} s, {size:.2f} MB"))
    print(user.predict(key, api_name="/model_card"))
    print("\n| step | result |\n| --- | --- |")
    for name, value in rows:
        print(f"| {name} | {value} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
