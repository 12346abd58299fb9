"""Atomic file writes: a file either appears whole or not at all (no half-written models)."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path`` in one rename.

    The temporary file keeps ``path``'s suffix so libraries that pick a format by extension still work.
    On any error the temporary file is removed and ``path`` is left as it was.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=f".tmp{target.suffix}")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb+") as f:  # flush to disk before the rename makes it visible
            os.fsync(f.fileno())
        os.chmod(tmp, new_file_mode(target))  # mkstemp makes 0600; a saved model should be like any new file
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def new_file_mode(target: Path) -> int:
    """Permissions for a new file at ``target``: the replaced file's, else ``0o666`` less the process umask.

    The umask is read from /proc where it can be: ``os.umask`` can only be read by setting it, which races
    with other threads creating files.
    """
    try:
        return target.stat().st_mode & 0o777
    except OSError:
        pass
    umask = 0o022
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                umask = int(line.split()[1], 8)
                break
    except (OSError, ValueError, IndexError):
        pass
    return 0o666 & ~umask


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Like :func:`atomic_path` for a folder (a Core ML .mlpackage): build it beside ``path``, then swap it in.

    A folder cannot replace a non-empty folder in one rename, so an existing one is first renamed aside and
    removed only after the new one is in place; at every moment ``path`` is either the old or the new whole.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() and not target.is_dir():
        raise FileExistsError(f"{target} exists and is not a folder")
    work = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"))
    tmp = work / target.name  # keeps the name, so libraries that pick a format by extension still work
    old = work / "previous"
    try:
        yield tmp
        if not tmp.is_dir():
            raise FileNotFoundError(f"nothing was written to {tmp}")
        if target.exists():
            os.replace(target, old)
        try:
            os.replace(tmp, target)
        except OSError:
            if old.exists():
                os.replace(old, target)  # put the previous version back before the work folder goes
            raise
    finally:
        shutil.rmtree(work, ignore_errors=True)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
