"""Per-browser-session models: a diskcache store with a size cap and least-recently-used eviction.

Every browser session gets a random id (kept in its gr.State); it sees only the models stored under that
id. Models are stored as their safetensors bytes (the same self-describing files users download), so a
process restart or another worker process can read them back; nothing is pickled from user input.
"""

from __future__ import annotations

import tempfile
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

import diskcache

from studio import StudioError, StyleModel, load
from studio.limits import limits


@dataclass(frozen=True)
class Entry:
    key: str
    label: str  # what the user sees: "model", "snapshot at 300"…
    iteration: int
    size: int = 0  # bytes


class ModelStore:
    """``size_limit``: bytes of all sessions' models (diskcache evicts the least recently used);
    ``session_limit``: bytes of one session's models (its oldest go first). Defaults: the limits in force
    (``STUDIO_STORE_BYTES``, ``STUDIO_SESSION_BYTES``; :mod:`studio.limits`)."""

    def __init__(self, directory: str | Path, size_limit: int | None = None, session_limit: int | None = None) -> None:
        bounds = limits()
        size_limit = bounds.store_bytes if size_limit is None else size_limit
        self.session_limit = bounds.session_bytes if session_limit is None else session_limit
        self._cache = diskcache.Cache(str(directory), size_limit=size_limit, eviction_policy="least-recently-used")
        self._lock = threading.Lock()

    @staticmethod
    def new_session() -> str:
        return uuid.uuid4().hex

    def put(self, session: str, label: str, model: StyleModel) -> Entry:
        with tempfile.TemporaryDirectory() as tmp:
            path = model.save(Path(tmp) / "model.safetensors")
            data = path.read_bytes()
        if len(data) > self.session_limit:
            raise StudioError(
                f"this model is {len(data) / 1e6:.1f} MB; a session may keep {self.session_limit / 1e6:.1f} MB "
                "of models here (STUDIO_SESSION_BYTES)"
            )
        entry = Entry(f"{session}/{uuid.uuid4().hex[:12]}", label, model.config.iterations, len(data))
        with self._lock:
            self._cache.set(entry.key, data)
            index = [*self.entries(session), entry]
            while sum(e.size for e in index) > self.session_limit:  # the session's oldest models go first
                self._cache.delete(index.pop(0).key)
            self._cache.set(f"{session}/index", index)
        return entry

    def entries(self, session: str) -> list[Entry]:
        index = self._cache.get(f"{session}/index", default=[])
        return [e for e in index if e.key in self._cache]  # evicted models drop out of the list

    @staticmethod
    def check(session: str | None, key: str) -> None:
        """Refuse keys of other sessions (a key is ``session/id``; ids are random)."""
        if not session or not key.startswith(f"{session}/"):
            raise StudioError("that model belongs to another session")

    def load(self, session: str | None, key: str, device: str = "auto") -> StyleModel:
        self.check(session, key)
        data = self._cache.get(key)
        if data is None:
            raise StudioError("that model is no longer stored (the store keeps the most recently used); train again")
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "model.safetensors"
            path.write_bytes(data)
            return load(path, device=device)
