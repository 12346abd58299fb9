"""A browser session's training runs, without Gradio: the run folders on disk and each session's request
in memory.

On disk, ``workdir/<session>/run-<id>/`` holds a run's checkpoints (:mod:`studio.session`); a ``finished``
marker says its model was stored, so a restarted studio offers to resume only runs a crash cut short. A
session keeps one run folder, its latest: the one "Train more" continues.

In memory, :class:`Registry` holds each session's current (or last) request: its Stop flag, its trainer
while it trains, and the loss curve "Train more" continues. At most one request a session runs at once.
"""

from __future__ import annotations

import shutil
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio import StudioError, Trainer
from studio.limits import StopFlag
from studio.session import checkpoint_state

FINISHED = "finished"  # marker file in a run folder whose model was stored
RUNS_KEPT = 256  # finished requests remembered in memory (their loss curve, for "Train more"); older: from disk
ROWS_KEPT = 4000  # loss-curve points kept per finished request
BUSY = "A training run is already going in this session: stop it first."


class Busy(StudioError):
    """A second training request of a session while one runs."""


@dataclass
class Run:
    """One session's training request, from its start (unpacking, decoding) to its end; then, once over,
    only what "Train more" continues from (the trainer and its images are released)."""

    stop: StopFlag  # Stop, and the job's time limit from the request's start
    folder: Path
    rows: list[dict[str, Any]] = field(default_factory=list)  # the loss curve: iteration, loss, kind
    trainer: Trainer | None = None  # while it trains
    active: bool = True  # the request is running
    over: bool = False  # its outcome is known (its last status is on its way): the page may show it as ended
    started: float = field(default_factory=time.monotonic)


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
            run = self._runs[sid] = Run(StopFlag(self.seconds), folder, rows or [])
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
