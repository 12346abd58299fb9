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

DEFAULT_LIMIT = 2 * 1024**3  # 2 GiB of models; the least recently used go first


@dataclass(frozen=True)
class Entry:
    key: str
    label: str  # what the user sees: "model", "snapshot at 300"…
    iteration: int


class ModelStore:
    def __init__(self, directory: str | Path, size_limit: int = DEFAULT_LIMIT) -> None:
        self._cache = diskcache.Cache(str(directory), size_limit=size_limit, eviction_policy="least-recently-used")
        self._lock = threading.Lock()

    @staticmethod
    def new_session() -> str:
        return uuid.uuid4().hex

    def put(self, session: str, label: str, model: StyleModel) -> Entry:
        entry = Entry(f"{session}/{uuid.uuid4().hex[:12]}", label, model.config.iterations)
        with tempfile.TemporaryDirectory() as tmp:
            path = model.save(Path(tmp) / "model.safetensors")
            data = path.read_bytes()
        with self._lock:
            self._cache.set(entry.key, data)
            index = [e for e in self.entries(session) if e.key in self._cache]
            self._cache.set(f"{session}/index", [*index, entry])
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
