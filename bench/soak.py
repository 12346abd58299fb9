"""Soak: many simulated browser sessions for a while, then what the studio holds: memory and disk.

    python bench/soak.py [--minutes 10] [--sessions 4]            # starts its own studio, in a sandbox
    python bench/soak.py --url http://127.0.0.1:7860/ --pid PID --data STUDIO_DATA [--content-mb 2048]

Every session is a gradio_client Client (a browser session of its own) looping over a mix of requests:
stylizing an uploaded photo with a preset; training a few iterations on uploaded photos (loose or zipped),
then stylizing with the model, reading its card and downloading it; and hostile requests that must be
refused with one clear message (a zip bomb whose header lies, two zips that only together exceed the
content budget, style images whose headers claim too many pixels, another session's model key, a key
naming a session's index, a page load with a made-up session id). Anything else that fails is an error.

Prints one row per kind of request (count, refused as expected, unexpected errors, median seconds) and the
studio's resident memory and data folder size at the start and at the end. Without --url the studio is
``python app.py`` in a temporary sandbox (tests/appserver.py), started with STUDIO_MAX_CONTENT_BYTES at
--content-mb (200 MB) so the two-zip attack stays cheap; with --url, pass that studio's own value.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import shutil
import statistics
import struct
import sys
import tempfile
import threading
import time
import uuid
import zipfile
import zlib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from load_test import rss_of  # bench/ is on the path when a bench script runs
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
PRESETS = ["preset:ink-wash", "preset:pop-halftone", "preset:swirling-sky", "preset:woodcut"]
BLEND = [0.0] * 11
MB = 1 << 20


@dataclass
class Kind:
    count: int = 0
    refused: int = 0  # refused with the expected words
    errors: list[str] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)


@dataclass
class Soak:
    kinds: dict[str, Kind] = field(default_factory=lambda: defaultdict(Kind))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ok(self, kind: str, seconds: float) -> None:
        with self.lock:
            self.kinds[kind].count += 1
            self.kinds[kind].seconds.append(seconds)

    def refused(self, kind: str, seconds: float) -> None:
        with self.lock:
            self.kinds[kind].count += 1
            self.kinds[kind].refused += 1
            self.kinds[kind].seconds.append(seconds)

    def error(self, kind: str, text: str) -> None:
        with self.lock:
            self.kinds[kind].count += 1
            self.kinds[kind].errors.append(" ".join(text.split())[:200])


# --- files --------------------------------------------------------------------------------------------------
def _photo(path: Path, seed: int, size: int = 192) -> Path:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    rgb = np.stack([xx, yy, (xx * yy + rng.random()) % 1], -1) * 255
    Image.fromarray(rgb.astype(np.uint8)).save(path)
    return path


def _png_claiming(path: Path, width: int, height: int) -> Path:
    buffer = io.BytesIO()
    Image.new("RGB", (1, 1)).save(buffer, format="PNG")
    data = bytearray(buffer.getvalue())
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])) & 0xFFFFFFFF)
    path.write_bytes(bytes(data))
    return path


def _bmp_zip(path: Path, members: int, side: int) -> Path:
    """Zeroed greyscale BMPs (side x side, valid headers): megabytes that zip to kilobytes."""
    buffer = io.BytesIO()
    Image.new("L", (side, side)).save(buffer, format="BMP")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for i in range(members):
            z.writestr(f"scan-{i}.bmp", buffer.getvalue())
    return path


def _lying_zip(path: Path) -> Path:
    """One member that declares 3 GB (the classic bomb's header): refused before a byte is written."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("big.png", b"\0" * 100_000)
    data = bytearray(path.read_bytes())
    central = data.rfind(b"PK\x01\x02")
    data[central + 24 : central + 28] = struct.pack("<I", 3_000_000_000)
    path.write_bytes(bytes(data))
    return path


@dataclass
class Files:
    photos: list[Path]
    style: Path
    content_zip: Path
    bomb: Path
    halves: tuple[Path, Path]  # each within the content budget, together over it
    claims: list[Path]  # style images whose headers claim 81 MP each

    @classmethod
    def make(cls, folder: Path, content_mb: int) -> Files:
        photos = [_photo(folder / f"photo-{i}.png", i) for i in range(6)]
        style = _photo(folder / "style.png", 99, 128)
        with zipfile.ZipFile(folder / "content.zip", "w") as z:
            for p in photos[:3]:
                z.write(p, f"holiday/{p.name}")
        side = 4096  # 16 MB a member
        per_half = max(1, int(content_mb * 0.6) // 16)  # 60 % of the budget each
        halves = (_bmp_zip(folder / "half-a.zip", per_half, side), _bmp_zip(folder / "half-b.zip", per_half, side))
        claims = [_png_claiming(folder / f"claim-{i}.png", 9000, 9000) for i in range(2)]
        return cls(photos, style, folder / "content.zip", _lying_zip(folder / "bomb.zip"), halves, claims)


# --- the raw queue (what gradio_client will not send: a private event by index) -----------------------------
def queue_call(base: str, fn_index: int, data: list[Any], session_hash: str) -> tuple[bool, Any]:
    import httpx

    joined = httpx.post(
        f"{base}/gradio_api/queue/join",
        timeout=60,
        json={"data": data, "fn_index": fn_index, "session_hash": session_hash},
    )
    joined.raise_for_status()
    with httpx.stream("GET", f"{base}/gradio_api/queue/data", params={"session_hash": session_hash}, timeout=120) as s:
        for line in s.iter_lines():
            if line.startswith("data:"):
                msg = json.loads(line[5:])
                if msg.get("msg") == "process_completed":
                    output = msg.get("output") or {}
                    return bool(msg.get("success")), output.get("data") if msg.get("success") else output.get("error")
    raise RuntimeError("no answer from the queue")


# --- one simulated session ----------------------------------------------------------------------------------
def session_loop(url: str, files: Files, soak: Soak, deadline: float, seed: int, keys: list[str]) -> None:
    from gradio_client import Client, handle_file

    rng = random.Random(seed)
    client = Client(url, verbose=False)
    mine: list[str] = []
    load_index, resume_index = _index(client, None), _index(client, "resume")

    def timed(kind: str, call: Callable[..., Any], *args: Any, refusal: str | None = None, **kwargs: Any) -> Any:
        """``call(*args, **kwargs)``, sorted: done, refused with the words expected, or an error."""
        start = time.monotonic()
        try:
            out = call(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - sorted into refusals and errors
            text = str(exc)
            if refusal is not None and refusal in text:
                soak.refused(kind, time.monotonic() - start)
            else:
                soak.error(kind, text)
            return None
        if refusal is not None:
            soak.error(kind, f"accepted, expected a refusal ({refusal})")
            return None
        soak.ok(kind, time.monotonic() - start)
        return out

    def stylize(style: str) -> Any:
        photo = handle_file(str(rng.choice(files.photos)))
        return client.predict(photo, style, "before", "video", 1.0, False, 256, *BLEND, api_name="/stylize")

    def train(styles: list[Any], content: list[Any] | None, **expect: Any) -> Any:
        return timed(
            expect.pop("kind", "train (5 iterations)"),
            client.predict,
            styles,
            content,
            None,
            5,
            256,
            "video",
            5,
            api_name="/train",
            **expect,
        )

    while time.monotonic() < deadline:
        roll = rng.random()
        style = [handle_file(str(files.style))]
        if roll < 0.35:
            timed("stylize (preset)", stylize, rng.choice(PRESETS))
        elif roll < 0.50 and len(mine) < 3:
            zipped = rng.random() < 0.5
            content = [handle_file(str(p)) for p in ([files.content_zip] if zipped else files.photos[3:])]
            out = train(style, content)
            models = out[3] if out is not None else None
            key = models.get("value") if isinstance(models, dict) else models
            if key:
                mine.append(key)
                with soak.lock:
                    keys.append(key)
        elif roll < 0.65 and mine:
            key = rng.choice(mine)
            timed("stylize (own model)", stylize, f"mine:{key}")
            timed("model card", client.predict, key, api_name="/model_card")
            timed("download", client.predict, key, "safetensors", api_name="/download")
        else:
            hostile = rng.randrange(7)
            if hostile == 0:
                train(style, [handle_file(str(files.bomb))], kind="refused: zip bomb", refusal="unpacks to")
            elif hostile == 1:
                halves = [handle_file(str(p)) for p in files.halves]
                train(style, halves, kind="refused: zips over the budget together", refusal="STUDIO_MAX_CONTENT_BYTES")
            elif hostile == 2:
                claims = [handle_file(str(p)) for p in files.claims]
                train(claims, None, kind="refused: style pixels", refusal="STUDIO_MAX_STYLE_PIXELS")
            elif hostile == 3:
                with soak.lock:
                    others = [k for k in keys if k not in mine]
                key = rng.choice(others) if others else uuid.uuid4().hex[:22]
                timed(
                    "refused: another session's key",
                    client.predict,
                    key,
                    "safetensors",
                    api_name="/download",
                    refusal="belongs to another session",
                )
            elif hostile == 4:
                timed(
                    "refused: <id>/index as a key",
                    client.predict,
                    f"{uuid.uuid4().hex}/index",
                    api_name="/model_card",
                    refusal="belongs to another session",
                )
            elif hostile == 5 and load_index is not None and resume_index is not None:
                timed(
                    "refused: made-up session id", _made_up_session, url, load_index, resume_index, refusal="not taken"
                )
            else:
                timed("refused: unknown style", stylize, "mine:AAAAAAAAAAAAAAAAAAAAAA", refusal="unknown style")


def _index(client: Any, name: str | None) -> int | None:
    """An event's index in the page's config: by API name, or (None) the page-load event, which is private
    (not in the API description) but, like every event, reachable through the queue by its index."""
    for i, dep in enumerate(client.config.get("dependencies", [])):
        if name is not None and dep.get("api_name") == name:
            return int(dep.get("id", i))
        if name is None and "load" in str(dep.get("targets", "")) and len(dep.get("inputs", [])) == 2:
            return int(dep.get("id", i))
    return None


def _made_up_session(url: str, load: int, resume: int) -> None:
    """A page load carrying a made-up session id, then a resume in that page: must find nothing to resume."""
    base, page = url.rstrip("/"), uuid.uuid4().hex[:10]
    queue_call(base, load, [None, uuid.uuid4().hex], page)
    ok, out = queue_call(base, resume, [None], page)
    if not ok and "Nothing to resume" in str(out):
        raise RuntimeError("not taken")  # the expected refusal
    raise RuntimeError(f"the made-up session was taken: {out}")


# --- the studio ---------------------------------------------------------------------------------------------
def folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / MB if folder.exists() else 0.0


def run(
    url: str, rss: Callable[[], float] | None, data: Path | None, minutes: float, sessions: int, content_mb: int
) -> Soak:
    soak = Soak()
    work = Path(tempfile.mkdtemp(prefix="studio-soak-"))
    files = Files.make(work, content_mb)

    def snapshot() -> str:
        memory = f"{rss():.0f} MB" if rss else "?"
        disk = f"{folder_mb(data):.1f} MB (tmp {folder_mb(data / 'tmp'):.1f} MB)" if data else "?"
        return f"resident memory {memory}, data folder {disk}"

    start = snapshot()
    deadline = time.monotonic() + minutes * 60
    keys: list[str] = []
    threads = [
        threading.Thread(target=session_loop, args=(url, files, soak, deadline, seed, keys), daemon=True)
        for seed in range(sessions)
    ]
    began = time.monotonic()
    samples: list[tuple[float, float]] = []  # (seconds, resident MB)
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads) and time.monotonic() < deadline + 600:
        if rss is not None:
            samples.append((time.monotonic() - began, rss()))
        time.sleep(2)
    elapsed = time.monotonic() - began
    time.sleep(2)  # the last requests' folders go as their generators finish
    end = snapshot()
    print(f"\n{sessions} sessions for {elapsed / 60:.1f} min against {url}")
    print("| request | count | refused as expected | unexpected errors | median s |")
    print("| --- | --- | --- | --- | --- |")
    total = errors = refused = 0
    for name in sorted(soak.kinds):
        k = soak.kinds[name]
        median = f"{statistics.median(k.seconds):.2f}" if k.seconds else "-"
        print(f"| {name} | {k.count} | {k.refused} | {len(k.errors)} | {median} |")
        total, errors, refused = total + k.count, errors + len(k.errors), refused + k.refused
    print(f"| **all** | {total} | {refused} | {errors} | |")
    print(f"\nstart: {start}\nend:   {end}")
    if samples:
        first = max((m for t, m in samples if t <= elapsed / 4), default=samples[0][1])
        last = max((m for t, m in samples if t >= elapsed * 3 / 4), default=samples[-1][1])
        print(f"resident memory peak: first quarter {first:.0f} MB, last quarter {last:.0f} MB")
    for name, k in soak.kinds.items():
        for e in k.errors[:3]:
            print(f"error ({name}): {e}")
    shutil.rmtree(work, ignore_errors=True)
    return soak


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--sessions", type=int, default=4)
    ap.add_argument("--url", help="a running studio (default: start one in a sandbox)")
    ap.add_argument("--pid", type=int, help="with --url: the studio's process id, for its resident memory")
    ap.add_argument("--data", type=Path, help="with --url: the studio's STUDIO_DATA, for its size")
    ap.add_argument("--content-mb", type=int, default=200, help="the studio's STUDIO_MAX_CONTENT_BYTES, in MB")
    args = ap.parse_args()
    if args.url:
        run(args.url, rss_of(args.pid) if args.pid else None, args.data, args.minutes, args.sessions, args.content_mb)
        return
    from appserver import AppServer

    sandbox = Path(tempfile.mkdtemp(prefix="studio-soak-sandbox-"))
    server = AppServer(sandbox, STUDIO_MAX_CONTENT_BYTES=str(args.content_mb * MB)).start()
    try:
        run(server.url, server.rss_mb, server.data, args.minutes, args.sessions, args.content_mb)
        left = server.files_outside_data()
        print(f"files written outside the data folder: {len(left)}; studio alive: {server.alive()}")
        refusals = sum(1 for line in server.log.read_text(errors="replace").splitlines() if "refused:" in line)
        text = server.log.read_text(errors="replace")
        print(f"log: {refusals} 'refused:' lines, {text.count('Traceback')} tracebacks")
        for block in text.split("Traceback (most recent call last):")[1:]:
            # the exception's own line: the first unindented line after the frames
            lines = [line for line in block.splitlines()[1:] if line and not line.startswith(" ")]
            print(f"  traceback: {lines[0] if lines else '?'}")
    finally:
        server.stop()
        shutil.rmtree(sandbox, ignore_errors=True)


if __name__ == "__main__":
    main()
