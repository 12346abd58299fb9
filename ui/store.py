"""Per-browser-session models: a diskcache store of sessions the server issued and the models they own.

Session ids are issued here (:meth:`ModelStore.new_session`) and nowhere else: an id a client makes up is
refused. A model's key is an opaque random token; the store records its owner, so a key reveals nothing
about its session and every use of it is checked against the caller's session. Models are stored as their
safetensors bytes (the same self-describing files users download), so a process restart or another worker
process can read them back; nothing is pickled from user input.

Room is bounded twice, and neither bound ever touches another session's models: a session over its own cap
(``STUDIO_SESSION_BYTES``) loses its oldest models made before its latest visit (the page load), never one
made since; the store over its cap (``STUDIO_STORE_BYTES``) refuses new models. Sessions unused for
``STUDIO_SESSION_IDLE_SECONDS`` go with their models, downloads and training folders.

Models are named from their painting(s) and settings (:func:`model_label`: "la_muse · image · 500 it",
"la_muse · snapshot at 300"), unique within a session; their downloads from that name (:func:`file_stem`).
The session's last picked style and model are kept too (:meth:`ModelStore.select`), so a reloaded page or a
restarted studio shows them picked again.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import shutil
import tempfile
import threading
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import diskcache

from studio import StudioError, StyleModel, load
from studio.config import ModelConfig
from studio.export.job import POLL_SECONDS, Cancelled, Flag
from studio.limits import limits

log = logging.getLogger("studio.store")
SESSION_ID = re.compile(r"[0-9a-f]{32}")  # secrets.token_hex(16)
MODEL_KEY = re.compile(r"[A-Za-z0-9_-]{22}")  # secrets.token_urlsafe(16)
NOT_YOURS = "that model belongs to another session, or was never stored here"
EXPIRE_EVERY = 600.0  # seconds between sweeps for idle sessions (one also runs at start)
SEP = " · "  # between a label's parts
CHOICE = re.compile(r"[A-Za-z0-9:_-]{1,120}")  # a remembered style choice: "preset:ink-wash", "blend", "mine:KEY"


def style_title(names: tuple[str, ...] | list[str]) -> str:
    """The painting part of a label: "la_muse", "la_muse + wave", "la_muse + 3 more" (long names cut)."""
    short = [n if len(n) <= 40 else n[:39] + "…" for n in names] or ["style"]
    return " + ".join(short) if len(short) <= 2 else f"{short[0]} + {len(short) - 1} more"


def model_label(config: ModelConfig, snapshot: bool = False) -> str:
    """A model's name from its painting(s) and settings: "la_muse · image · 500 it"; a snapshot taken while
    training, "la_muse · snapshot at 300"."""
    title = style_title(config.style_names)
    if snapshot:
        return f"{title}{SEP}snapshot at {config.iterations}"
    return f"{title}{SEP}{config.use_case}{SEP}{config.iterations} it"


def file_stem(label: str, limit: int = 80) -> str:
    """A download's file name (without suffix) from a model's label: safe characters only (ASCII letters,
    digits, ``_ -``), e.g. "la_muse · image · 500 it" -> "la_muse-image-500it". A long name is cut in its
    painting part, so the settings that tell two models apart stay."""

    def safe(text: str) -> str:
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
        text = re.sub(r"(\d+) it\b", r"\1it", text.replace("+", " "))
        return re.sub(r"[^A-Za-z0-9_]+", "-", text).strip("-")

    title, _, rest = label.partition(SEP)
    head, tail = safe(title), safe(rest)[: limit // 2]
    head = head[: max(0, limit - (len(tail) + 1 if tail else 0))].rstrip("-")
    return "-".join(part for part in (head, tail) if part) or "style"


@dataclass(frozen=True)
class Entry:
    key: str  # the model's token
    label: str  # what the user sees: "model", "snapshot at 300"…
    iteration: int
    size: int = 0  # bytes
    created: float = 0.0  # time.time()


@dataclass(frozen=True)
class Visit:
    """A session's times (time.time()): issued, last page load, last use of any kind."""

    created: float
    visited: float
    used: float


class ModelStore:
    """``size_limit``: bytes of all sessions' models; ``session_limit``: bytes of one session's models;
    ``idle_seconds``: how long an unused session is kept. Defaults: the limits in force (:mod:`studio.limits`).
    ``runs``: a folder of per-session folders (training checkpoints) removed with their sessions."""

    def __init__(
        self,
        directory: str | Path,
        size_limit: int | None = None,
        session_limit: int | None = None,
        *,
        idle_seconds: float | None = None,
        runs: Path | None = None,
    ) -> None:
        bounds = limits()
        self.size_limit = bounds.store_bytes if size_limit is None else size_limit
        self.session_limit = bounds.session_bytes if session_limit is None else session_limit
        self.idle_seconds = bounds.session_idle_seconds if idle_seconds is None else idle_seconds
        self.runs = runs
        # The store bounds itself (above): diskcache must never evict on its own, it would pick any session.
        self._cache = diskcache.Cache(str(directory), size_limit=2**62, eviction_policy="none")
        self.exports = Path(directory) / "exports"  # downloads made from models: exports/<key>/<format>/
        self.exports.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._export_locks: dict[tuple[str, str], threading.Lock] = {}
        self._last_sweep = 0.0
        self._forget_foreign_keys()
        self.expire()
        for work in self.exports.glob(".work-*"):  # a crash's half-made downloads (an hour: surely not running)
            if time.time() - work.stat().st_mtime > 3600:
                shutil.rmtree(work, ignore_errors=True)

    # --- sessions -------------------------------------------------------------------------------------------
    def new_session(self) -> str:
        """Issue a session id (the only way one comes to exist)."""
        sid = secrets.token_hex(16)
        now = time.time()
        self._cache.set(f"session:{sid}", Visit(now, now, now))
        if now - self._last_sweep > EXPIRE_EVERY:
            self.expire()
        return sid

    def known(self, sid: object) -> bool:
        """Whether ``sid`` is a session this store issued and still keeps."""
        return isinstance(sid, str) and bool(SESSION_ID.fullmatch(sid)) and f"session:{sid}" in self._cache

    def visit(self, sid: str) -> None:
        """A page load of the session: models made before now may make room for newer ones."""
        now = time.time()
        with self._lock:
            old = self._cache.get(f"session:{sid}")
            if isinstance(old, Visit):
                self._cache.set(f"session:{sid}", Visit(old.created, now, now))

    def _used(self, sid: str) -> None:
        old = self._cache.get(f"session:{sid}")
        if isinstance(old, Visit) and time.time() - old.used > 60:  # at most a write a minute per session
            self._cache.set(f"session:{sid}", Visit(old.created, old.visited, time.time()))

    def expire(self, now: float | None = None) -> list[str]:
        """Remove sessions unused for ``idle_seconds``, with their models, downloads and training folders."""
        now = time.time() if now is None else now
        self._last_sweep = now
        gone = []
        for key in list(self._cache.iterkeys()):
            if isinstance(key, str) and key.startswith("session:"):
                visit = self._cache.get(key)
                if isinstance(visit, Visit) and now - visit.used > self.idle_seconds:
                    gone.append(key.removeprefix("session:"))
        for sid in gone:
            with self._lock:
                for entry in self.entries(sid):
                    self._delete(entry.key)
                self._cache.delete(f"index:{sid}")
                self._cache.delete(f"selected:{sid}")
                self._cache.delete(f"session:{sid}")
            if self.runs is not None:
                shutil.rmtree(self.runs / sid, ignore_errors=True)
            log.info("session %s… expired after %.0f s unused", sid[:6], self.idle_seconds)
        if self.runs is not None and self.runs.is_dir():  # run folders of sessions this store never issued
            for folder in self.runs.iterdir():
                if folder.is_dir() and not self.known(folder.name):
                    shutil.rmtree(folder, ignore_errors=True)
        return gone

    def _forget_foreign_keys(self) -> None:
        """Drop what an older layout left (keys that named their session): nothing may still point at it."""
        prefixes = ("session:", "index:", "model:", "owner:", "selected:")
        for key in list(self._cache.iterkeys()):
            if not (isinstance(key, str) and key.startswith(prefixes)):
                self._cache.delete(key)

    # --- models ---------------------------------------------------------------------------------------------
    def entries(self, session: str | None) -> list[Entry]:
        if not self.known(session):
            return []
        index = self._cache.get(f"index:{session}", default=[])
        return [e for e in index if f"model:{e.key}" in self._cache]

    def _sizes(self) -> list[int]:
        sizes = []
        for key in list(self._cache.iterkeys()):
            if isinstance(key, str) and key.startswith("index:"):
                sizes += [e.size for e in self._cache.get(key, default=[])]
        return sizes

    def used_bytes(self) -> int:
        """Bytes of all sessions' models."""
        return sum(self._sizes())

    def check_room(self, session: str, expected: int | None = None) -> None:
        """Refuse new work when a model of ``expected`` bytes (default: the largest stored, a fair guess)
        could not be kept: before any time is spent on it."""
        if expected is None:
            expected = max(self._sizes(), default=0)
        with self._lock:
            self._make_room(session, expected, dry_run=True)

    def entry(self, session: str | None, key: object) -> Entry:
        """The stored entry of a model of ``session`` (its label, iteration, size); StudioError as :meth:`check`."""
        key = self.check(session, key)
        found = next((e for e in self.entries(session) if e.key == key), None)
        if found is None:
            raise StudioError("that model is no longer stored here; train again")
        return found

    def add(self, session: str, model: StyleModel, snapshot: bool = False) -> Entry:
        """Store a trained model (or a ``snapshot`` taken while training) under its :func:`model_label`, made
        unique in the session ("… (2)"), so two models never share a name or a download's file name. A model
        of zero iterations (stopped before its first step) is refused: it is the untrained start."""
        if model.config.iterations < 1:
            raise StudioError("nothing was trained yet (iteration 0): nothing to store")
        label = model_label(model.config, snapshot)
        with self._lock:
            taken = {e.label for e in self.entries(session)}
            stems = {file_stem(e.label) for e in self.entries(session)}
            unique, n = label, 1
            while unique in taken or file_stem(unique) in stems:
                n += 1
                unique = f"{label} ({n})"
            return self.put(session, unique, model)

    def select(self, session: str | None, choice: object) -> None:
        """Remember the session's last picked style (a list's value: a model key, ``mine:KEY``, ``preset:NAME``,
        ``blend``) and, when it is one of its models, its last picked model. Anything else is ignored."""
        if not self.known(session) or not isinstance(choice, str) or not CHOICE.fullmatch(choice):
            return
        key = choice.removeprefix("mine:")
        with self._lock:
            style, model = self.selection(session)
            if self._cache.get(f"owner:{key}") == session:
                style, model = f"mine:{key}", key
            elif choice.startswith("mine:") or MODEL_KEY.fullmatch(choice):
                return  # not this session's model
            else:
                style = choice
            self._cache.set(f"selected:{session}", (style, model))

    def selection(self, session: str | None) -> tuple[str | None, str | None]:
        """(last picked style, last picked model key) of ``session``, each None when not picked or gone."""
        if not self.known(session):
            return None, None
        kept = self._cache.get(f"selected:{session}")
        style, model = kept if isinstance(kept, tuple) and len(kept) == 2 else (None, None)
        mine = {e.key for e in self.entries(session)}
        if model not in mine:
            model = None
        if isinstance(style, str) and style.startswith("mine:") and style.removeprefix("mine:") not in mine:
            style = None
        return style, model

    def put(self, session: str, label: str, model: StyleModel) -> Entry:
        if not self.known(session):
            raise StudioError("this session is not known here (the studio issued no such id): reload the page")
        with tempfile.TemporaryDirectory() as tmp:
            path = model.save(Path(tmp) / "model.safetensors")
            data = path.read_bytes()
        if len(data) > self.session_limit:
            raise StudioError(
                f"this model is {len(data) / 1e6:.1f} MB; a session may keep {self.session_limit / 1e6:.1f} MB "
                "of models here (STUDIO_SESSION_BYTES)"
            )
        entry = Entry(secrets.token_urlsafe(16), label, model.config.iterations, len(data), time.time())
        with self._lock:
            self._make_room(session, len(data))
            self._cache.set(f"model:{entry.key}", data)
            self._cache.set(f"owner:{entry.key}", session)
            self._cache.set(f"index:{session}", [*self.entries(session), entry])
            self._used(session)
        return entry

    def _make_room(self, session: str, size: int, dry_run: bool = False) -> None:
        """Evict the session's own oldest models made before its latest visit until ``size`` more bytes fit
        both caps; refuse (StudioError) when they cannot. Other sessions' models are never touched."""
        index = self.entries(session)
        visit = self._cache.get(f"session:{session}")
        since = visit.visited if isinstance(visit, Visit) else 0.0
        evictable = [e for e in index if e.created < since]  # oldest first: the index is in order of making
        mine = sum(e.size for e in index)
        others = self.used_bytes() - mine
        while evictable and (mine + size > self.session_limit or others + mine + size > self.size_limit):
            entry = evictable.pop(0)
            mine -= entry.size
            if not dry_run:
                self._delete(entry.key)
                log.info("session %s… over its cap: removed its model %r", session[:6], entry.label)
        if mine + size > self.session_limit:
            raise StudioError(
                f"this session's models fill its {self.session_limit / 1e6:.0f} MB (STUDIO_SESSION_BYTES) and were "
                "all made since the page was opened: download the ones to keep, then reload the page to let the "
                "oldest make room"
            )
        if others + mine + size > self.size_limit:
            raise StudioError(
                f"this studio's model store is full ({self.size_limit / 1e6:.0f} MB, STUDIO_STORE_BYTES): "
                "try again later"
            )

    def _delete(self, key: str) -> None:
        owner = self._cache.get(f"owner:{key}")
        self._cache.delete(f"model:{key}")
        self._cache.delete(f"owner:{key}")
        if isinstance(owner, str):
            index = self._cache.get(f"index:{owner}", default=[])
            self._cache.set(f"index:{owner}", [e for e in index if e.key != key])
        shutil.rmtree(self.exports / key, ignore_errors=True)
        for lock in [k for k in self._export_locks if k[0] == key]:
            del self._export_locks[lock]

    def check(self, session: str | None, key: object) -> str:
        """``key`` if it names a model of ``session``; else StudioError (the same words whether the key is
        malformed, another session's or gone, so a key's existence is never revealed)."""
        if not isinstance(key, str) or not MODEL_KEY.fullmatch(key) or not self.known(session):
            raise StudioError(NOT_YOURS)
        if self._cache.get(f"owner:{key}") != session:
            raise StudioError(NOT_YOURS)
        return key

    def load(self, session: str | None, key: object, device: str = "auto") -> StyleModel:
        key = self.check(session, key)
        data = self._cache.get(f"model:{key}")
        if not isinstance(data, bytes):
            raise StudioError("that model is no longer stored here; train again")
        self._used(session)  # type: ignore[arg-type]
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "model.safetensors"
            path.write_bytes(data)
            return load(path, device=device)

    def export(
        self,
        session: str | None,
        key: object,
        kind: str,
        build: Callable[[StyleModel, Path], Path],
        cancel: Flag | None = None,
    ) -> Path:
        """A download of a model (``kind``: a format's folder name), made once by ``build(model, folder)`` and
        kept beside the model until the model goes: repeated downloads cost nothing, and nothing is left in
        temporary folders. ``build`` writes one file (a folder's zip) in the folder it is given.

        ``cancel``: while it is set, a request waiting for another's export of the same file gives up
        (:class:`studio.export.job.Cancelled`); ``build`` watches it too (see :func:`ui.output_tab.export`).
        A cancelled or failed build leaves nothing (its work folder goes) and lets the next request try again."""
        key = self.check(session, key)
        if not re.fullmatch(r"[a-z0-9-]{1,40}", kind):
            raise StudioError(f"unknown download kind {kind!r}")
        target = self.exports / key / kind
        with self._lock:
            lock = self._export_locks.setdefault((key, kind), threading.Lock())
        # two downloads of one model and format: the second waits and gets the first's file
        while not lock.acquire(timeout=POLL_SECONDS):
            if cancel is not None and cancel.is_set():
                raise Cancelled("the download was cancelled")
        try:
            done = sorted(target.iterdir()) if target.is_dir() else []
            if done:
                return done[0]
            model = self.load(session, key, device="cpu")
            work = Path(tempfile.mkdtemp(prefix=".work-", dir=self.exports))  # same disk: the rename is atomic
            try:
                built = build(model, work / "build")
                ready = work / "ready"
                ready.mkdir()
                os.replace(built, ready / built.name)
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(ready, target)
            finally:
                shutil.rmtree(work, ignore_errors=True)
            if f"owner:{key}" not in self._cache:  # removed while it was exported
                shutil.rmtree(self.exports / key, ignore_errors=True)
                raise StudioError("that model is no longer stored here; train again")
        finally:
            lock.release()
        return target / built.name
