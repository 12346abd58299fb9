"""Quick look: optimisation-based preview with the training loss; progress, time bound, stopping, CLI."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import stripes, synthetic_photo
from PIL import Image

import studio
from studio.cli import main
from studio.errors import StudioError
from studio.progress import Cancelled, Event

pytestmark = pytest.mark.slow  # needs the real loss-network weights
# Where only the mechanics are checked (time bound, stopping, the CLI), the finest style density: the loss network
# sees the style at 128 px, not the default's 512 px (a CPU saves ~1 s before each quick look's first step).
FINE = 1024


def small_look(style: np.ndarray, photo: np.ndarray, **kw: Any) -> Image.Image:
    """``studio.quicklook`` of a 64 px image on the CPU at the finest density (the mechanics' tests)."""
    return studio.quicklook(style, photo, style_density=FINE, size=64, device="cpu", **kw)


def test_quicklook_moves_towards_the_style_and_reports_progress() -> None:
    events: list[studio.QuickLookProgress] = []
    photo = synthetic_photo(120, 90, 0)
    image = studio.quicklook(
        stripes(160, 128, period=12),
        photo,
        size=96,
        iterations=50,
        device="cpu",
        on_progress=events.append,
        max_seconds=600,  # the CPU's 60 s default is not what this checks (a busy machine can reach it)
    )
    assert image.size == (96, 72)  # the photo's aspect, longer side = size
    assert [e.iteration for e in events] == [10, 20, 30, 40, 50] and all(e.image is not None for e in events)
    assert events[-1].style_loss < 0.8 * events[0].style_loss
    base = np.asarray(Image.fromarray(photo).resize((96, 72)), np.float32)
    assert np.abs(np.asarray(image, np.float32) - base).mean() > 3  # it changed the photo


def test_quicklook_is_bounded_in_time_and_can_be_stopped() -> None:
    photo, style = synthetic_photo(96, 96, 1), stripes(96, 96, period=10)
    start = time.perf_counter()
    events: list[studio.QuickLookProgress] = []
    small_look(style, photo, iterations=5000, max_seconds=1.0, on_progress=events.append)
    assert time.perf_counter() - start < 30  # includes loading the loss network
    assert events[-1].iteration < 5000 and events[-1].elapsed >= 1.0
    seen: list[int] = []

    def stop_at_two(p: studio.QuickLookProgress) -> bool:
        seen.append(p.iteration)
        return len(seen) < 2

    small_look(style, photo, iterations=100, on_progress=stop_at_two, report_interval=3)
    assert seen == [3, 6]


def test_quicklook_stops_on_its_cancel_flag_and_reports_as_an_event() -> None:
    photo, style = synthetic_photo(96, 96, 1), stripes(96, 96, period=10)
    flag = threading.Event()
    seen: list[studio.QuickLookProgress] = []

    def note(p: studio.QuickLookProgress) -> None:
        seen.append(p)
        if len(seen) == 2:
            flag.set()  # as the Styles tab's stop does when its page leaves

    image = small_look(style, photo, iterations=100, on_progress=note, report_interval=3, cancel=flag)
    assert [p.iteration for p in seen] == [3, 6] and image.size == (64, 64)  # the picture so far
    assert isinstance(seen[0], Event) and (seen[0].done, seen[0].total) == (3, 100) and seen[0].fraction == 0.03
    with pytest.raises(Cancelled, match="stopped while decoding the images"):  # nothing made yet
        studio.quicklook(style, photo, size=64, device="cpu", cancel=flag)


def test_quicklook_rejects_bad_arguments() -> None:
    photo, style = synthetic_photo(64, 64, 1), stripes(64, 64, period=10)
    with pytest.raises(StudioError, match="style_density"):
        studio.quicklook(style, photo, style_density=2000, device="cpu")
    with pytest.raises(StudioError, match="size"):
        studio.quicklook(style, photo, size=10, device="cpu")
    with pytest.raises(StudioError, match="too small"):
        studio.quicklook(np.zeros((8, 8, 3), np.uint8), photo, device="cpu")


def test_cli_quicklook(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    Image.fromarray(stripes(96, 96, period=10)).save(tmp_path / "style.png")
    Image.fromarray(synthetic_photo(80, 64, 2)).save(tmp_path / "photo.png")
    args = ["quicklook", str(tmp_path / "style.png"), str(tmp_path / "photo.png"), "-o", str(tmp_path / "look.png")]
    assert main([*args, "--size", "64", "--iterations", "3", "--density", str(FINE), "--device", "cpu"]) == 0
    assert Image.open(tmp_path / "look.png").size == (64, 51)
    assert main([*args[:-1], str(tmp_path / "look.txt")]) == 2
    assert "-o must end in" in capsys.readouterr().err
