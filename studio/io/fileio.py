"""Atomic file writes: a file either appears whole or not at all (no half-written models); output checks.

:func:`check_output_file` and :func:`check_output_dir` let a command refuse an unwritable or missing output
folder, or an existing file it must not replace, before it spends any time; :func:`short_name` keeps long
names (style names from file names, output file names) within what files and model configs can hold.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from studio.errors import StudioError

NAME_BYTES = 255  # the longest file name most file systems take (ext4, APFS, NTFS in UTF-16 units)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path`` in one rename.

    The temporary file keeps ``path``'s suffix so libraries that pick a format by extension still work.
    On any error the temporary file is removed and ``path`` is left as it was.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=temp_prefix(target), suffix=f".tmp{target.suffix[:16]}")
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
    work = Path(tempfile.mkdtemp(dir=target.parent, prefix=temp_prefix(target), suffix=".tmp"))
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


def temp_prefix(target: Path) -> str:
    """A hidden temporary name beside ``target`` that stays a legal file name however long ``target``'s is."""
    return f".{short_name(target.name, max_chars=100, max_bytes=100)}."


def short_name(text: str, *, max_chars: int = 100, max_bytes: int = 200, keep: int = 60) -> str:
    """``text`` unchanged when it fits ``max_chars`` characters and ``max_bytes`` UTF-8 bytes, else its first
    ``keep`` characters (at most ``2 * keep`` bytes) and 8 hex digits of its hash: readable, and still
    different for different long names (``"a very long ... name-1f3a9c0d"``)."""
    data = text.encode("utf-8", "surrogateescape")
    if len(text) <= max_chars and len(data) <= max_bytes:
        return text
    head = text[:keep]
    while len(head.encode("utf-8", "surrogateescape")) > 2 * keep:
        head = head[:-1]
    return f"{head.rstrip(' .-_')}-{hashlib.sha1(data).hexdigest()[:8]}"


def _probe(folder: Path, shown: str) -> None:
    """Create and remove a file in ``folder``: the only test of writability that also holds for root,
    read-only mounts and full disks' inode tables."""
    if not folder.exists():
        raise StudioError(f"cannot write {shown}: folder {folder} does not exist")
    if not folder.is_dir():
        raise StudioError(f"cannot write {shown}: {folder} is not a folder")
    try:
        fd, name = tempfile.mkstemp(dir=folder, prefix=".studio-write-check-")
    except OSError as exc:
        why = "the folder is read-only" if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS) else exc.strerror
        raise StudioError(f"cannot write {shown}: {why or exc} ({folder})") from None
    os.close(fd)
    Path(name).unlink(missing_ok=True)


def check_output_file(
    path: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    inputs: tuple[str | os.PathLike[str], ...] = (),
    folder_ok: bool = False,
) -> Path:
    """Refuse, before any work, an output file that could not be written or must not be replaced.

    Its folder must exist and take new files; it must not be one of ``inputs``, nor a folder (unless
    ``folder_ok``: outputs that are folders, such as a Core ML .mlpackage); an existing one is replaced only
    with ``overwrite``.
    """
    target = Path(path)
    if target.name and len(target.name.encode("utf-8", "surrogateescape")) > NAME_BYTES:
        raise StudioError(f"output file name is too long ({len(target.name)} characters): {short_name(target.name)}")
    for item in inputs:
        if _same_file(target, Path(item)):
            raise StudioError(f"{target} is an input of this command; write the result to another file")
    if target.is_dir() and not folder_ok:
        raise StudioError(f"{target} is a folder; give a file name")
    if folder_ok and target.exists() and not target.is_dir():
        raise StudioError(f"{target} exists and is not a folder")
    if target.exists() and not overwrite:
        raise StudioError(f"{target} exists; add --overwrite to replace it, or choose another name")
    _probe(target.parent if str(target.parent) else Path("."), str(target))
    return target


def check_output_dir(path: str | os.PathLike[str]) -> Path:
    """Refuse, before any work, an output folder that could not be written: it must be a writable folder, or
    not exist yet in a writable folder (it is then made when the first result is written)."""
    folder = Path(path)
    if folder.exists():
        if not folder.is_dir():
            raise StudioError(f"{folder} is a file, not a folder")
        _probe(folder, f"into {folder}")
    else:
        _probe(folder.parent if str(folder.parent) else Path("."), f"folder {folder}")
    return folder


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False
