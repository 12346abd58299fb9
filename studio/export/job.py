"""Slow exports (ONNX, Core ML) in a child process, so that they can be cancelled at any point.

A conversion blocks its thread for up to half a minute on a CPU (coremltools longer) and nothing can interrupt
it there; a process can be stopped. The parent (:func:`run_export`) passes paths only: the child
(``python -m studio.export.job SOURCE OUT``) loads the model from its safetensors file itself, converts it,
and exits 0; on bad input it prints the engine's one-line message and exits 2. The parent polls its cancel
flag every :data:`POLL_SECONDS`; on cancel it stops the child (terminate, then kill after
:data:`GRACE_SECONDS`) and raises :class:`studio.progress.Cancelled`. The child's temporary folder
(``TMPDIR``) is a scratch folder of the parent's, removed when the export ends however it ends, so nothing it
leaves (coremltools' ``tmp*.mlpackage`` working copies) outlives it. A child whose parent dies exits too (its
stdin closes).

This module is the export's runner, above :mod:`studio.model` (the child loads a model file), whereas
:mod:`studio.export.onnx` and :mod:`studio.export.coreml` sit below it and take a network and its config.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

from studio.errors import StudioError, printable
from studio.export.coreml import export_coreml
from studio.export.onnx import export_onnx
from studio.model import load
from studio.progress import Cancelled, Flag

__all__ = ["FORMATS", "GRACE_SECONDS", "POLL_SECONDS", "Cancelled", "Flag", "main", "run_export", "running"]
log = logging.getLogger("studio.export.job")
POLL_SECONDS = 0.1  # how often the parent looks at the cancel flag
GRACE_SECONDS = 1.0  # after terminate, how long the child has before it is killed
FORMATS = (".onnx", ".mlpackage", ".mlmodel")
INPUT_ERROR = 2  # the child's exit status for bad input (its last line of stderr is the message)

_running: dict[int, subprocess.Popen[bytes]] = {}
_registry = threading.Lock()


def running() -> list[int]:
    """The process ids of the export children running now (for tests and shutdown)."""
    with _registry:
        return list(_running)


def run_export(source: str | os.PathLike[str], out: str | os.PathLike[str], *, cancel: Flag | None = None) -> Path:
    """Convert the model file ``source`` (.safetensors) to ``out`` (.onnx, .mlpackage or .mlmodel) in a child
    process; returns ``out``. ``cancel.is_set()`` stops it within :data:`POLL_SECONDS` + :data:`GRACE_SECONDS`
    (:class:`Cancelled`); a child that fails or dies raises StudioError with one line (its last line of output).

    The child works in a scratch folder beside ``out`` (removed here); ``out``'s folder should be the caller's
    own fresh folder, which the caller removes on failure (a half-written file may be left in it)."""
    source, out = Path(source), Path(out)
    if out.suffix not in FORMATS:
        raise StudioError(f"exports in a process of their own are {', '.join(FORMATS)}; got {out.name!r}")
    out.parent.mkdir(parents=True, exist_ok=True)
    scratch = out.parent / f".{out.name}.scratch"
    tmp = scratch / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    output = scratch / "output.txt"
    env = {**os.environ, "TMPDIR": str(tmp), "TEMP": str(tmp), "TMP": str(tmp), "PYTHONUNBUFFERED": "1"}
    try:
        with open(output, "wb") as said:
            child = subprocess.Popen(
                [sys.executable, "-m", "studio.export.job", str(source.resolve()), str(out.resolve())],
                stdin=subprocess.PIPE,  # held open while the parent lives: the child exits when it closes
                stdout=subprocess.DEVNULL,
                stderr=said,
                env=env,
            )
        with _registry:
            _running[child.pid] = child
        try:
            while True:
                if cancel is not None and cancel.is_set():
                    raise Cancelled(f"the {out.suffix} export was cancelled")
                try:
                    status = child.wait(POLL_SECONDS)
                    break
                except subprocess.TimeoutExpired:
                    continue
        finally:
            _stop(child)
            with _registry:
                _running.pop(child.pid, None)
        if status == 0 and out.exists():
            return out
        raise StudioError(_failure(status, output, out.suffix))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _stop(child: subprocess.Popen[bytes]) -> None:
    if child.poll() is None:
        child.terminate()
        try:
            child.wait(GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    if child.stdin is not None:
        child.stdin.close()


def _failure(status: int, output: Path, suffix: str) -> str:
    """One line on why the child failed: its own message (bad input), or its last line of output."""
    try:
        lines = [line.strip() for line in output.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        lines = []
    last = printable(lines[-1])[:300] if lines else ""
    if status == INPUT_ERROR and last:
        return last
    if status != INPUT_ERROR:  # not a refusal: a bug or a crash, whose whole output the server's log keeps
        log.warning(
            "the %s export process ended with status %s; its last output:\n%s", suffix, status, "\n".join(lines[-40:])
        )
    if status < 0:
        try:
            name = signal.Signals(-status).name
        except ValueError:
            name = f"signal {-status}"
        why = " (out of memory?)" if -status == getattr(signal, "SIGKILL", 9) else ""
        return f"the {suffix} export process was stopped by {name}{why}"
    return f"the {suffix} export failed: {last}" if last else f"the {suffix} export process failed (status {status})"


def _exit_with_parent() -> None:
    """Exit when stdin closes: the parent died (or gave up on this process)."""
    try:
        while os.read(0, 4096):  # the raw descriptor: a buffered read would hold a lock at shutdown
            pass
    except OSError:
        pass
    os._exit(3)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m studio.export.job MODEL.safetensors OUT(.onnx|.mlpackage|.mlmodel)", file=sys.stderr)
        return INPUT_ERROR
    threading.Thread(target=_exit_with_parent, daemon=True, name="parent-watch").start()
    source, out = args
    try:
        model = load(source, device="cpu")
        if Path(out).suffix == ".onnx":
            export_onnx(model.network, model.config, out)
        elif Path(out).suffix in FORMATS:
            export_coreml(model.network, model.config, out)
        else:
            raise StudioError(f"unknown export format {Path(out).suffix!r}")
    except StudioError as exc:
        print(printable(exc), file=sys.stderr)
        return INPUT_ERROR
    return 0


if __name__ == "__main__":
    sys.exit(main())
