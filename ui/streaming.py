"""A long job (training, a video) in a thread, its progress reports streamed to a Gradio generator handler.

The job gets a ``report`` callable that queues a report and says whether anyone still listens; the handler
iterates :meth:`Streamed.updates` (batches of reports, throttled for the page) and reads
:attr:`Streamed.outcome` once they end. When the page leaves, Gradio closes the handler's generator: the job
is told to stop (``report`` returns False from then on, and ``on_close`` runs) and is waited for.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

E = TypeVar("E")  # a progress report
R = TypeVar("R")  # the job's result

JOIN_SECONDS = 30.0  # how long a closed stream waits for its job to stop


def clock(seconds: float) -> str:
    """Time so far, for progress lines: "40 s", "3 min 20 s", "1 h 05 min"."""
    s = max(0, round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


class Streamed(Generic[E, R]):
    """``work(report)`` started in a daemon thread at once. ``on_close``: how to stop the job when the page
    leaves early (beyond ``report`` returning False), e.g. a trainer's ``cancel``."""

    def __init__(self, work: Callable[[Callable[[E], bool]], R], on_close: Callable[[], object] | None = None) -> None:
        self._events: queue.Queue[E] = queue.Queue()
        self._on_close = on_close
        self.closed = threading.Event()
        self._result: list[R | Exception] = []
        self._thread = threading.Thread(target=self._work, args=(work,), daemon=True)
        self._thread.start()

    def _work(self, work: Callable[[Callable[[E], bool]], R]) -> None:
        try:
            self._result.append(work(self.report))
        except Exception as exc:  # handed to the handler through outcome  # noqa: BLE001
            self._result.append(exc)

    def report(self, event: E) -> bool:
        """Queue a report; False once the page has left (the job should stop)."""
        self._events.put(event)
        return not self.closed.is_set()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def updates(self, every: float = 0.0, idle: float | None = None, poll: float = 0.25) -> Iterator[list[E]]:
        """Batches of reports until the job ends (every report delivered, in order). At most one batch every
        ``every`` seconds: a fast job's reports pile into the next batch, so the page shows the latest, not a
        backlog. With ``idle``, an empty batch after that many seconds without one (a clock can tick)."""
        pending: list[E] = []
        sent = time.monotonic()
        try:
            while self._thread.is_alive() or not self._events.empty():
                try:
                    pending.append(self._events.get(timeout=poll))
                    while not self._events.empty():
                        pending.append(self._events.get_nowait())
                except queue.Empty:
                    pass
                now = time.monotonic()
                if pending and (now - sent >= every or not self._thread.is_alive()):
                    batch, pending = pending, []
                    sent = now
                    yield batch
                elif not pending and idle is not None and now - sent >= idle:
                    sent = now
                    yield []
            if pending:
                yield pending
        finally:
            if self._thread.is_alive():  # the page left (Gradio closed the generator): stop the job
                self.closed.set()
                if self._on_close is not None:
                    self._on_close()
                self._thread.join(JOIN_SECONDS)

    @property
    def outcome(self) -> R | Exception:
        """The job's result or the exception it raised (after :meth:`updates` ended)."""
        self._thread.join()
        return self._result[0] if self._result else RuntimeError("the job stopped unexpectedly")
