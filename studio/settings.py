"""Every setting the studio reads from its environment, in one table: :data:`SETTINGS`.

A setting is an environment variable named ``STUDIO_*`` with a default. Nothing else in ``studio/`` or ``ui/``
reads one (``tests/test_settings.py`` checks): the limits (:func:`studio.limits.limits`), the folders
(:func:`folders`) and compiling (:func:`compile_mode`) are read from here, each time they are asked for, so
tests and hosts can change them without restarting. A blank variable counts as unset; a malformed one is
refused with one line naming the variable and its value, never ignored. The README's table of environment
variables is :func:`markdown_table`'s output.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.errors import StudioError

Value = int | float | str | Path


@dataclass(frozen=True)
class Setting:
    """One environment variable: its type, default and what it does.

    ``kind``: ``int`` (a whole number > 0; ``1_000`` allowed), ``float`` (a number > 0), ``Path`` (a folder; the
    default's ``~`` is the user's home) or ``str`` (one of ``choices``). ``shown``: the default as the README
    shows it, where the value alone reads badly.
    """

    variable: str
    kind: type
    default: Value
    meaning: str
    choices: tuple[str, ...] = ()
    shown: str = ""

    def read(self, env: Mapping[str, str] | None = None) -> Any:
        """The value in ``env`` (default ``os.environ``), else the default."""
        text = (os.environ if env is None else env).get(self.variable)
        if text is None or not text.strip():
            return Path(self.default).expanduser() if self.kind is Path else self.default
        if self.kind is Path:
            return Path(text)
        if self.kind is str:
            if text not in self.choices:
                raise StudioError(f"{self.variable} must be one of {', '.join(self.choices)}, got {text!r}")
            return text
        return self._number(text)

    def _number(self, text: str) -> int | float:
        number = "a whole number" if self.kind is int else "a number"
        refused = StudioError(f"{self.variable} must be {number} greater than 0, got {text!r}")
        try:
            value: int | float = int(text.replace("_", "")) if self.kind is int else float(text)
        except ValueError:
            raise refused from None
        if not value > 0 or value != value or value == float("inf"):
            raise refused
        return value


MIB, GIB = 1024**2, 1024**3
PRESETS_BESIDE_PACKAGE = Path(__file__).resolve().parents[1] / "presets"  # a source checkout, or the image

SETTINGS: tuple[Setting, ...] = (
    # What one request of the browser studio may ask (studio.limits)
    Setting(
        "STUDIO_MAX_UPLOAD_BYTES",
        int,
        512 * MIB,
        "any one uploaded file (Gradio refuses it before storing)",
        shown="536870912 (512 MiB)",
    ),
    Setting(
        "STUDIO_MAX_IMAGE_PIXELS",
        int,
        100_000_000,
        "width × height of an image, read from its header before decoding (bombs)",
    ),
    Setting("STUDIO_MAX_VIDEO_SECONDS", float, 600.0, "length of a video"),
    Setting(
        "STUDIO_MAX_VIDEO_FRAMES",
        int,
        36_000,
        "frames of a video (10 minutes at 60 fps; counted while decoding too: headers can lie)",
    ),
    Setting("STUDIO_MAX_VIDEO_PIXELS", int, 3840 * 2160, "pixels of a video frame", shown="8294400 (3840×2160)"),
    Setting(
        "STUDIO_MAX_ITERATIONS",
        int,
        5000,
        "iterations of one training job in the browser (the slider's end; Train more is a new job)",
    ),
    Setting(
        "STUDIO_MAX_TRAIN_SECONDS",
        float,
        1800.0,
        "time of one training job, from the request's start (unpacking and decoding count): then it stops "
        "and keeps the model, as Stop does",
    ),
    Setting("STUDIO_TRAININGS_PER_GPU", int, 1, "trainings at once per GPU (or on the CPU); the rest queue"),
    Setting(
        "STUDIO_SESSION_BYTES",
        int,
        256 * MIB,
        "stored models of one browser session: over it, its oldest models made before the page was last "
        "opened go; never one made since",
        shown="268435456 (256 MiB)",
    ),
    Setting(
        "STUDIO_STORE_BYTES",
        int,
        2 * GIB,
        "stored models of all sessions: when full, new trainings and snapshots are refused (no other "
        "session's model is ever evicted)",
        shown="2147483648 (2 GiB)",
    ),
    Setting(
        "STUDIO_SESSION_IDLE_SECONDS",
        float,
        7 * 24 * 3600.0,
        "a session unused this long is removed, with its models, downloads and trainings",
        shown="604800 (7 days)",
    ),
    Setting(
        "STUDIO_CHECKPOINT_INTERVAL",
        int,
        100,
        "iterations between a browser training's checkpoints (what a crash can lose)",
    ),
    Setting(
        "STUDIO_MAX_CONTENT_FILES", int, 2000, "content photos of one training, loose and in all its zips together"
    ),
    Setting(
        "STUDIO_MAX_CONTENT_BYTES",
        int,
        2 * GIB,
        "content photos of one training as unpacked, all zips together: counted while unpacking, stopped "
        "at the first megabyte over",
        shown="2147483648 (2 GiB)",
    ),
    Setting(
        "STUDIO_MAX_REQUEST_PIXELS",
        int,
        1_000_000_000,
        "width × height of all the images of one training (styles, content photos, validation), summed "
        "from their headers before any is decoded",
    ),
    Setting(
        "STUDIO_MAX_STYLE_PIXELS",
        int,
        100_000_000,
        "width × height of one training's style images together (kept decoded all run long, 12 bytes a "
        "pixel: 1.2 GB at most)",
    ),
    # Where things are, and how frames run
    Setting(
        "STUDIO_DATA",
        Path,
        "~/.local/share/style-studio",
        "the browser studio's data folder: all it writes (`store/`, `sessions/`, `tmp/`, `web/`; see Data folder)",
    ),
    Setting(
        "STUDIO_CACHE",
        Path,
        "~/.cache/style-studio",
        "the loss network's converted weights (`vgg16-<source>-relu4_3.safetensors`)",
    ),
    Setting(
        "STUDIO_PRESETS",
        Path,
        PRESETS_BESIDE_PACKAGE,
        "the preset catalog's folder",
        shown="`presets/` beside the package",
    ),
    Setting(
        "STUDIO_COMPILE",
        str,
        "1",
        "`1`: long GPU videos may use `torch.compile`; `0` forbids it; `max-autotune` tunes kernels (a "
        "slower start, a few % faster frames)",
        choices=("0", "1", "max-autotune"),
    ),
)
BY_NAME = {s.variable: s for s in SETTINGS}

# Read by ./setup.sh while installing, never at run time: listed so the README's table has every variable.
INSTALL_SWITCHES: tuple[Setting, ...] = (
    Setting(
        "STUDIO_TORCH",
        str,
        "",
        "`./setup.sh` only, not at run time: `cpu` installs PyTorch's CPU-only build (the Docker image's "
        "default); unset or `default`, pip's default build (CUDA on Linux)",
        choices=("cpu", "default"),
        shown="unset",
    ),
)


def setting(variable: str) -> Setting:
    """The table's row for ``variable``."""
    try:
        return BY_NAME[variable]
    except KeyError:
        raise StudioError(f"{variable} is not a studio setting") from None


def default(variable: str) -> Any:
    """``variable``'s default (a ``Path`` default with its ``~`` expanded)."""
    return setting(variable).read({})


def check_all(env: Mapping[str, str] | None = None) -> None:
    """Read every setting, so a malformed one stops a start at once, with its name."""
    for row in SETTINGS:
        row.read(env)


@dataclass(frozen=True)
class Folders:
    """Where the studio reads and writes."""

    data: Path  # STUDIO_DATA
    cache: Path  # STUDIO_CACHE
    presets: Path  # STUDIO_PRESETS


def folders(env: Mapping[str, str] | None = None) -> Folders:
    """The folders in force: defaults, overridden by the environment (``env``, default ``os.environ``)."""
    return Folders(
        data=setting("STUDIO_DATA").read(env),
        cache=setting("STUDIO_CACHE").read(env),
        presets=setting("STUDIO_PRESETS").read(env),
    )


def compile_mode(env: Mapping[str, str] | None = None) -> str:
    """``STUDIO_COMPILE``: "1" (compiling allowed), "0" (forbidden) or "max-autotune"."""
    return str(setting("STUDIO_COMPILE").read(env))


def markdown_table() -> str:
    """The README's table of environment variables, made from :data:`SETTINGS` and :data:`INSTALL_SWITCHES`."""
    rows = ["| variable | default | what it does |", "| --- | --- | --- |"]
    for row in (*SETTINGS, *INSTALL_SWITCHES):
        shown = row.shown or (f"`{row.default}`" if row.kind in (Path, str) else f"{row.default:.0f}")
        rows.append(f"| `{row.variable}` | {shown} | {row.meaning} |")
    return "\n".join(rows)
