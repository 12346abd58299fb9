"""Progress and cancelling: one convention for every long job (training, quick look, video files, exports).

* **Progress.** A job takes ``on_progress`` and calls it with a typed event, a subclass of :class:`Event`
  (:class:`studio.Progress` for training, :class:`studio.QuickLookProgress`, :class:`studio.VideoProgress`).
  Every event says how far the job is (:attr:`Event.done` of :attr:`Event.total`) and for how long it has run.
  The callback returning ``False`` asks the job to stop; any other value (``None``, ``True``) lets it go on.
* **Cancelling from elsewhere.** A job also takes ``cancel=``: a :class:`CancelToken` (which can carry a time
  limit) or any object with ``is_set()``, such as a ``threading.Event``. Another thread sets it; the job polls it
  between steps, so it stops within one step.
* **What a stopped job gives.** A job stopped before it made anything raises :class:`Cancelled`. A training run
  stopped after its first iteration returns the model trained so far (``Trainer.cancelled`` is True) and a quick
  look its current image: what they made is worth keeping. A video or an export writes nothing.

:class:`Cancelled` is not a ``ValueError`` (nor a :class:`~studio.StudioError`): stopping is not bad input, so code
that reports bad input does not report a Stop as an error by mistake.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Protocol


class Cancelled(Exception):
    """The job was stopped (by its caller, its progress callback or its time limit) before it made anything.

    ``timed_out`` is True when the time limit stopped it.
    """

    def __init__(self, message: str = "cancelled", timed_out: bool = False) -> None:
        super().__init__(message)
        self.timed_out = timed_out


class Flag(Protocol):
    """Anything a job can poll for a stop: a :class:`CancelToken`, a ``threading.Event``."""

    def is_set(self) -> bool: ...


class Event:
    """A progress event: how far a job is. Subclasses are frozen dataclasses with their own fields; these
    properties give every kind the same view (a progress bar needs nothing else)."""

    elapsed: float  # seconds since the job started

    @property
    def done(self) -> int:
        """Steps done: iterations trained, frames written."""
        raise NotImplementedError

    @property
    def total(self) -> int | None:
        """Steps the job expects to do; None when unknown (a video whose container does not say)."""
        raise NotImplementedError

    @property
    def fraction(self) -> float | None:
        """``done / total`` in [0, 1]; None when the total is unknown."""
        total = self.total
        return None if not total else min(1.0, max(0.0, self.done / total))


def wants_stop(answer: Any) -> bool:
    """Whether a progress callback's return value asks the job to stop: only ``False`` does."""
    return answer is False


class CancelToken:
    """Stops a job: its caller (:meth:`set`, e.g. a Stop button) or its time limit, counted from the token's
    creation (a request's start, not training's first iteration). Quacks like ``threading.Event`` (``set``,
    ``is_set``), so a :class:`~studio.Trainer` polls it every iteration; slow steps poll :meth:`check`.

    ``limit`` names the setting behind ``seconds``, for the message (``STUDIO_MAX_TRAIN_SECONDS``).
    """

    def __init__(self, seconds: float | None = None, limit: str = "STUDIO_MAX_TRAIN_SECONDS") -> None:
        self._event = threading.Event()
        self.seconds, self.limit = seconds, limit
        self._deadline = None if seconds is None else time.monotonic() + seconds
        self.timed_out = False

    def set(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        if not self._event.is_set() and self._deadline is not None and time.monotonic() >= self._deadline:
            self.timed_out = True
            self._event.set()
        return self._event.is_set()

    def check(self, what: str = "") -> None:
        """Raise :class:`Cancelled` once set; ``what``: the step it stopped in, for the message."""
        if self.is_set():
            during = f" while {what}" if what else ""
            if self.timed_out:
                raise Cancelled(
                    f"stopped{during}: this studio's limit of {self.seconds:g} s a job ran out ({self.limit})",
                    timed_out=True,
                )
            raise Cancelled(f"stopped{during}")


def check_cancel(cancel: Flag | None, what: str = "") -> None:
    """:meth:`CancelToken.check` for any flag with ``is_set()`` (None never stops)."""
    if cancel is None:
        return
    if isinstance(cancel, CancelToken):
        cancel.check(what)
    elif cancel.is_set():
        raise Cancelled(f"stopped while {what}" if what else "stopped")
