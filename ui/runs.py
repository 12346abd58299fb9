"""A browser session's training runs, without Gradio: the run folders on disk and each session's request
in memory.

On disk, ``workdir/<session>/run-<id>/`` holds a run's checkpoints (:mod:`studio.train.session`); a ``finished``
marker says its model was stored, so a restarted studio offers to resume only runs a crash cut short. A
session keeps one run folder, its latest: the one "Train more" continues. Its ``view/`` subfolder keeps what the
Train tab showed of the run (loss rows, the last validation image, the snapshots with their labels, how it
ended), so a reloaded page or a restarted studio shows it again (:func:`save_progress`, :func:`read_view`).

In memory, :class:`Registry` holds each session's current (or last) request: its Stop flag, its trainer
while it trains, and the loss curve "Train more" continues. At most one request a session runs at once.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from studio import StudioError, Trainer
from studio.io.fileio import atomic_path, atomic_write_text
from studio.progress import CancelToken
from studio.train.session import checkpoint_state

log = logging.getLogger("studio.ui")

FINISHED = "finished"  # marker file in a run folder whose model was stored
RUNS_KEPT = 256  # finished requests remembered in memory (their loss curve, for "Train more"); older: from disk
ROWS_KEPT = 4000  # loss-curve points kept per finished request
BUSY = "A training run is already going in this session: stop it first."
SAVE_SECONDS = 2.0  # a streaming run's rows and validation image are written at most this often
# In a run folder: what the Train tab showed of the run; every file written whole or not at all (atomic_path)
VIEW, ROWS_FILE, IMAGE_FILE, SNAPSHOTS_FILE, STATUS_FILE = (
    "view",
    "rows.json",
    "latest.png",
    "snapshots.json",
    "status.json",
)
_SNAPSHOT_NAME = re.compile(r"snapshot-\d{3,}\.png")  # add_snapshot's names: a list naming others is not read
_snapshots_lock = threading.Lock()  # two snapshots at once: each is added to the list, none lost


class Busy(StudioError):
    """A second training request of a session while one runs."""


@dataclass
class Run:
    """One session's training request, from its start (unpacking, decoding) to its end; then, once over,
    only what "Train more" continues from (the trainer and its images are released)."""

    stop: CancelToken  # Stop, and the job's time limit from the request's start
    folder: Path
    rows: list[dict[str, Any]] = field(default_factory=list)  # the loss curve: iteration, loss, kind
    trainer: Trainer | None = None  # while it trains
    active: bool = True  # the request is running
    over: bool = False  # its outcome is known (its last status is on its way): the page may show it as ended
    started: float = field(default_factory=time.monotonic)
    saved: float = 0.0  # when its rows and image were last written to its folder (time.monotonic)


class RunFolders:
    """The run folders of every session under ``workdir``. Callers pass only session ids the store issued;
    anything else (a path, a made-up name) is refused here too, so no folder outside ``workdir`` is touched."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)

    def _session(self, sid: str) -> Path:
        if not (isinstance(sid, str) and sid.isascii() and sid.isalnum()):
            raise ValueError(f"not a session id: {sid!r}")
        return self.workdir / sid

    def new(self, sid: str) -> Path:
        """A fresh run folder's path (made by the trainer when it first writes)."""
        return self._session(sid) / f"run-{uuid.uuid4().hex[:8]}"

    def keep_only(self, sid: str, folder: Path) -> None:
        """Remove the session's other run folders: one is kept, the one "Train more" continues."""
        for old in self._session(sid).glob("run-*"):
            if old != folder:
                shutil.rmtree(old, ignore_errors=True)

    def saved(self, sid: str) -> list[tuple[Path, tuple[int, int]]]:
        """The session's run folders with a checkpoint, newest first: (folder, (iteration reached, target))."""
        found = [(d, checkpoint_state(d)) for d in self._session(sid).glob("run-*")]
        kept = [(d, state) for d, state in found if state is not None]
        return sorted(kept, key=lambda r: r[0].stat().st_mtime, reverse=True)

    def latest(self, sid: str) -> Path | None:
        return next((d for d, _ in self.saved(sid)), None)

    def interrupted(self, sid: str) -> tuple[Path, int, int] | None:
        """The session's run that a restart cut short, if any: (folder, iteration reached, target)."""
        for folder, (done, target) in self.saved(sid):
            if done < target and not (folder / FINISHED).exists():
                return folder, done, target
        return None

    @staticmethod
    def finish(folder: Path) -> None:
        """Mark the run's model as stored: it is no longer offered for resuming after a restart."""
        (folder / FINISHED).touch()

    @staticmethod
    def reached(folder: Path) -> int:
        """The iteration of the run's last checkpoint (0 without one)."""
        state = checkpoint_state(folder)
        return state[0] if state else 0

    @staticmethod
    def discard(folder: Path) -> None:
        shutil.rmtree(folder, ignore_errors=True)


class Registry:
    """Each session's current or last request (thread-safe). Finished requests beyond ``kept`` are forgotten,
    oldest first, so memory does not grow with the number of trainings."""

    def __init__(self, seconds: float | None, kept: int = RUNS_KEPT, rows_kept: int = ROWS_KEPT) -> None:
        self.seconds, self.kept, self.rows_kept = seconds, kept, rows_kept
        self._runs: OrderedDict[str, Run] = OrderedDict()
        self._lock = threading.Lock()  # two requests of one session at once: only one may begin

    def get(self, sid: str | None) -> Run | None:
        return self._runs.get(sid) if sid else None

    def active(self, sid: str | None) -> bool:
        run = self.get(sid)
        return run is not None and run.active

    def begin(self, sid: str, folder: Path, rows: list[dict[str, Any]] | None = None) -> Run:
        """Start the session's request, its time limit counting from now; :class:`Busy` if one runs."""
        with self._lock:
            if self.active(sid):
                raise Busy(BUSY)
            run = self._runs[sid] = Run(CancelToken(self.seconds), folder, rows or [])
            self._runs.move_to_end(sid)
        return run

    def end(self, run: Run) -> Trainer | None:
        """The request is over, however it ended: returns its trainer, for the caller to release."""
        with self._lock:
            trainer, run.trainer, run.active = run.trainer, None, False
            del run.rows[: -self.rows_kept]
            while len(self._runs) > self.kept:
                oldest = next(iter(self._runs))
                if self._runs[oldest].active:
                    break
                del self._runs[oldest]
        return trainer


# --- what the Train tab showed of a run, kept in its folder -----------------------------------------------------
@dataclass
class View:
    """A run's Train-tab view read back from its folder: what is missing or unreadable is left out."""

    rows: list[dict[str, Any]] = field(default_factory=list)  # the loss curve: iteration, loss, kind
    image: Image.Image | None = None  # the last validation image
    snapshots: list[tuple[Image.Image, str]] = field(default_factory=list)  # (validation image, label)
    status: str | None = None  # how the run ended ("Last training: …"); None while it runs, or if cut short


def _saving(what: str, folder: Path, write: Callable[[], None]) -> bool:
    """Run ``write()``; a failure (disk full, folder gone) is logged, never raised: the training goes on."""
    try:
        write()
        return True
    except OSError as exc:
        log.warning("could not keep the %s of run %s: %s", what, folder.name, exc)
        return False


def save_progress(folder: Path, rows: list[dict[str, Any]], image: Image.Image | None) -> bool:
    """Keep a streaming run's loss rows (the newest :data:`ROWS_KEPT`) and its latest validation image. The
    run goes on, so an earlier ending (a "Train more" before it) no longer says how it stands: forgotten."""
    view = folder / VIEW

    def write() -> None:
        atomic_write_text(view / ROWS_FILE, json.dumps(rows[-ROWS_KEPT:], separators=(",", ":")))
        if image is not None:
            with atomic_path(view / IMAGE_FILE) as tmp:
                image.save(tmp, format="PNG")
        (view / STATUS_FILE).unlink(missing_ok=True)

    return _saving("loss curve", folder, write)


def save_status(folder: Path, text: str) -> bool:
    """Keep how the run ended, as the page said it."""
    return _saving("status", folder, lambda: atomic_write_text(folder / VIEW / STATUS_FILE, json.dumps({"text": text})))


def add_snapshot(folder: Path, image: Image.Image, label: str) -> bool:
    """Keep a snapshot's validation image (a PNG of its own) under its label, after the run's others."""
    view = folder / VIEW

    def write() -> None:
        with _snapshots_lock:
            shots = _read_json(view / SNAPSHOTS_FILE, list) or []
            name = f"snapshot-{len(shots) + 1:03d}.png"
            with atomic_path(view / name) as tmp:
                image.save(tmp, format="PNG")
            atomic_write_text(view / SNAPSHOTS_FILE, json.dumps([*shots, {"file": name, "label": label}]))

    return _saving("snapshot", folder, write)


def _read_json(path: Path, kind: type) -> Any:
    """``path``'s JSON if it is a ``kind``; None if missing; None (and a warning) if damaged."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.warning("ignored %s: unreadable (%s)", path, exc)
        return None
    if not isinstance(data, kind):
        log.warning("ignored %s: a %s, not a %s", path, type(data).__name__, kind.__name__)
        return None
    return data


def _read_image(path: Path) -> Image.Image | None:
    try:
        with Image.open(path) as image:
            image.load()  # read now: the file is closed when the block ends
            return image.copy()
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:  # a damaged PNG (UnidentifiedImageError is an OSError)
        log.warning("ignored %s: unreadable (%s)", path, exc)
        return None


def _is_row(row: Any) -> bool:
    return (
        isinstance(row, dict)
        and isinstance(row.get("iteration"), int)
        and isinstance(row.get("loss"), int | float)
        and isinstance(row.get("kind"), str)
    )


def read_rows(folder: Path, until: int | None = None) -> list[dict[str, Any]]:
    """The run's kept loss rows; with ``until``, only those up to that iteration (a run resumed from an
    earlier checkpoint redraws the rest)."""
    rows = [r for r in _read_json(folder / VIEW / ROWS_FILE, list) or [] if _is_row(r)]
    return rows if until is None else [r for r in rows if r["iteration"] <= until]


def read_status(folder: Path) -> str | None:
    """How the run ended, as kept by :func:`save_status` (None while it runs, or if it was cut short)."""
    text = (_read_json(folder / VIEW / STATUS_FILE, dict) or {}).get("text")
    return text if isinstance(text, str) else None


def read_view(folder: Path) -> View:
    """What the Train tab showed of the run in ``folder``. Only the fixed names above are read, never a
    temporary file beside them, so a write cut short (a crash, a full disk) leaves the previous version."""
    view = folder / VIEW
    shots = []
    for shot in _read_json(view / SNAPSHOTS_FILE, list) or []:
        name, label = (shot.get("file"), shot.get("label")) if isinstance(shot, dict) else (None, None)
        if not (isinstance(name, str) and isinstance(label, str) and _SNAPSHOT_NAME.fullmatch(name)):
            log.warning("ignored a snapshot entry in %s: %r", view / SNAPSHOTS_FILE, shot)
            continue
        if (image := _read_image(view / name)) is not None:
            shots.append((image, label))
    return View(read_rows(folder), _read_image(view / IMAGE_FILE), shots, read_status(folder))
