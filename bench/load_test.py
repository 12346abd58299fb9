"""Many users at once on a running studio: N users stylize photos in a loop while one trains.

    python app.py &                       # or any running studio
    python bench/load_test.py --url http://127.0.0.1:7860/ [--users 4] [--pid PID] [--iterations 20]

Every user is a gradio_client Client in its own thread (its own browser session). The trainer runs one
training of the video use case on two small photos; the stylers send 256 px photos through presets until it
ends. Prints requests, errors, latency and, with --pid (the studio's process id, Linux), its resident memory
over time: the first and last quarter's peaks show whether memory grows.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

PRESETS = ["preset:ink-wash", "preset:pop-halftone", "preset:swirling-sky", "preset:woodcut"]


@dataclass
class LoadResult:
    requests: int = 0
    errors: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    rss_mb: list[tuple[float, float]] = field(default_factory=list)  # (seconds, MB)
    train_seconds: float = 0.0
    train_status: str = ""

    def rss_quarters(self) -> tuple[float, float]:
        """Peak resident memory in the first and in the last quarter of the run."""
        if not self.rss_mb:
            return 0.0, 0.0
        end = self.rss_mb[-1][0]
        first = [m for t, m in self.rss_mb if t <= end / 4] or [self.rss_mb[0][1]]
        last = [m for t, m in self.rss_mb if t >= end * 3 / 4] or [self.rss_mb[-1][1]]
        return max(first), max(last)


def _photo(folder: Path, seed: int, size: int = 256) -> Path:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    rgb = np.stack([xx, yy, (xx * yy + rng.random()) % 1], -1) * 255
    path = folder / f"photo-{seed}.png"
    Image.fromarray(rgb.astype(np.uint8)).save(path)
    return path


def run_load(
    url: str, users: int = 4, iterations: int = 20, rss: Callable[[], float] | None = None, seconds: float | None = None
) -> LoadResult:
    """``seconds``: after this long the users stop stylizing and the training is stopped (the Stop button)."""
    from gradio_client import Client, handle_file

    result = LoadResult()
    lock = threading.Lock()
    done = threading.Event()
    folder = Path(tempfile.mkdtemp(prefix="studio-load-"))
    photos = [_photo(folder, i) for i in range(users + 2)]
    start = time.perf_counter()

    def styler(i: int) -> None:
        client = Client(url, verbose=False)
        n = 0
        while not done.is_set() and (seconds is None or time.perf_counter() - start < seconds):
            t = time.perf_counter()
            try:
                client.predict(handle_file(str(photos[i])), PRESETS[n % len(PRESETS)], "before", "video", 1.0,
                               False, 512, *([0.0] * 11), api_name="/stylize")  # fmt: skip
                with lock:
                    result.latencies.append(time.perf_counter() - t)
            except Exception as exc:  # noqa: BLE001 - counted and reported
                with lock:
                    result.errors.append(f"user {i}: {str(exc).splitlines()[0][:200]}")
            with lock:
                result.requests += 1
            n += 1

    def trainer() -> None:
        client = Client(url, verbose=False)
        style = handle_file(str(_photo(folder, 99, 128)))
        content = [handle_file(str(p)) for p in photos[users:]]
        t = time.perf_counter()
        try:
            job = client.submit([style], content, None, 5, 256, "video", iterations, api_name="/train")
            while seconds is not None and not job.done() and time.perf_counter() - t < seconds:
                time.sleep(0.2)
            while seconds is not None and not job.done():  # Stop, again until the run has started and stops
                client.predict(api_name="/stop")
                time.sleep(1.0)
            result.train_status = str(job.result()[0])
        except Exception as exc:  # noqa: BLE001
            with lock:
                result.errors.append(f"trainer: {str(exc).splitlines()[0][:200]}")
        result.train_seconds = time.perf_counter() - t
        done.set()

    threads = [threading.Thread(target=styler, args=(i,)) for i in range(users)]
    threads.append(threading.Thread(target=trainer))
    for th in threads:
        th.start()
    while not done.wait(0.5):
        if rss is not None:
            result.rss_mb.append((time.perf_counter() - start, rss()))
    for th in threads:
        th.join(120)
    if rss is not None:
        result.rss_mb.append((time.perf_counter() - start, rss()))
    return result


def rss_of(pid: int) -> Callable[[], float]:
    def read() -> float:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    return read


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="http://127.0.0.1:7860/")
    ap.add_argument("--users", type=int, default=4)
    ap.add_argument("--iterations", type=int, default=20)
    ap.add_argument("--pid", type=int, help="the studio's process id, to sample its memory")
    ap.add_argument("--seconds", type=float, help="stop the training after this long")
    args = ap.parse_args()
    r = run_load(args.url, args.users, args.iterations, rss_of(args.pid) if args.pid else None, args.seconds)
    first, last = r.rss_quarters()
    lat = sorted(r.latencies)
    status = r.train_status[:60]
    print(f"{args.users} users stylizing 256 px photos while one trains {args.iterations} iterations ({status})")
    print("| requests | errors | median s | p95 s | training s | memory peak MB (first quarter -> last) |")
    print("| --- | --- | --- | --- | --- | --- |")
    p95 = lat[int(0.95 * (len(lat) - 1))] if lat else float("nan")
    median = statistics.median(lat) if lat else float("nan")
    print(f"| {r.requests} | {len(r.errors)} | {median:.2f} | {p95:.2f} | {r.train_seconds:.0f} | "
          f"{first:.0f} -> {last:.0f} |")  # fmt: skip
    for e in r.errors[:10]:
        print("error:", e)


if __name__ == "__main__":
    main()
