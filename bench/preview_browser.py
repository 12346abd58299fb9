"""Preview latency in the browser: Chromium (Debian's, headless) against an in-process studio on this machine.

    python bench/preview_browser.py [--side 768] [--runs 3]

Measured, for a photo of --side px (scikit-image's motorcycle, resized): from setting the photo to the first
picture of it (the draft, on a CPU) and to its result (the PNG download); and from picking another preset
while a result is being made to the first picture in that style (the caption names it). Prints one table.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from browser import ARGS, CHROMIUM, serve  # noqa: E402
from playwright.sync_api import Page, sync_playwright  # noqa: E402

from studio.train.content import builtin_content  # noqa: E402

STYLES = ["Neon lines", "Ink wash", "Woodcut"]
IMAGES = "[...document.querySelectorAll('#preview-result img')]"
CAPTION = "document.querySelector('#preview-caption').innerText"


def photos(folder: Path, side: int, n: int) -> list[Path]:
    src = Image.open(next(p for p in builtin_content() if p.stem == "motorcycle_left")).convert("RGB")
    out = []
    for i in range(n):  # each a little different, so no result is cached
        path = folder / f"bike {i}.png"
        src.resize((side, round(side * src.height / src.width))).rotate(i * 0.5).save(path)
        out.append(path)
    return out


def caption_has(page: Page, text: str, timeout: float = 120_000) -> None:
    page.wait_for_function(f"() => {CAPTION}.includes({text!r})", timeout=timeout, polling=20)


def set_photo(page: Page, path: Path) -> tuple[float, float]:
    """Seconds from setting the photo to its first picture, and to its result."""
    old = page.locator("#preview-result img").evaluate_all("els => els.map(e => e.src).join()")
    start = time.perf_counter()
    page.locator("#preview-photo input[type=file]").set_input_files(str(path))
    shown = f"{IMAGES}.map(e => e.src).join()"  # the new images' sources, once all have loaded
    test = f"old => {{ const s = {shown}; return s && s !== old && {IMAGES}.every(e => e.complete); }}"
    page.wait_for_function(test, arg=old, timeout=120_000, polling=20)
    first = time.perf_counter() - start
    name = path.stem.replace(" ", "-") + "-cracked-ice.png"
    page.locator(f'#preview-download [aria-label="{name}"]').wait_for(timeout=120_000)
    return first, time.perf_counter() - start


def change_style(page: Page, photo: Path) -> list[float]:
    """Seconds from picking each of STYLES, while the previous result is being made, to its first picture."""
    out = []
    for style in STYLES:
        page.locator("#preview-photo input[type=file]").set_input_files(str(photo))
        caption_has(page, "refining")  # a draft is up: its result is being made
        page.locator("#preview-style input").click()
        option = page.get_by_role("option", name=f"Preset: {style}")
        option.wait_for()
        start = time.perf_counter()
        option.click()
        caption_has(page, style, timeout=30_000)
        out.append(time.perf_counter() - start)
    return out


def run(side: int, runs: int) -> dict[str, list[float]]:
    data = Path(tempfile.mkdtemp(prefix="preview-bench-"))
    demo, url = serve(data)
    pics = photos(data, side, runs + 1)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.goto(url)
            page.get_by_role("tab", name="Preview").click()
            page.locator('#preview-download [aria-label="astronaut-cracked-ice.png"]').wait_for(timeout=120_000)
            first, final = zip(*(set_photo(page, pic) for pic in pics[:runs]), strict=True)
            change = change_style(page, pics[runs])
            browser.close()
    finally:
        demo.close()  # type: ignore[attr-defined]
    return {"first": list(first), "final": list(final), "change": change}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--side", type=int, default=768)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    got = run(args.side, args.runs)

    def cell(xs: list[float]) -> str:
        return f"{statistics.median(xs):.2f} ({min(xs):.2f}-{max(xs):.2f})"

    print(f"\nPreview in Chromium, {args.side} px photo, seconds: median (min-max)")
    print("| | seconds |\n| --- | --- |")
    print(f"| set a photo: first picture | {cell(got['first'])} |")
    print(f"| set a photo: result | {cell(got['final'])} |")
    print(f"| another preset while a result is made: first picture | {cell(got['change'])} |")


if __name__ == "__main__":
    main()
