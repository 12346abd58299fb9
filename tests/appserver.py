"""The studio as its users run it: ``python app.py`` in a subprocess, in a sandbox of its own.

HOME, TMPDIR and STUDIO_DATA point into ``sandbox``, so a test can see every file the studio writes (and that
it writes nowhere else); the loss network's converted weights are shared read-only through STUDIO_CACHE.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from studio.nn.lossnet import cache_dir

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppServer:
    def __init__(self, sandbox: Path, **env: str) -> None:
        self.sandbox = sandbox
        self.data = sandbox / "data"
        self.home, self.tmp = sandbox / "home", sandbox / "tmp"
        for folder in (self.home, self.tmp):
            folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.env = {
            **os.environ,
            "HOME": str(self.home),
            "TMPDIR": str(self.tmp),
            "STUDIO_DATA": str(self.data),
            "STUDIO_CACHE": str(cache_dir()),
            "GRADIO_SERVER_NAME": "127.0.0.1",
            "GRADIO_SERVER_PORT": str(self.port),
            "GRADIO_ANALYTICS_ENABLED": "False",
            "PYTHONUNBUFFERED": "1",
            **env,
        }
        self.env.pop("GRADIO_TEMP_DIR", None)
        self.process: subprocess.Popen[bytes] | None = None
        self.log = sandbox / "app.log"

    def start(self, timeout: float = 180.0) -> AppServer:
        log = open(self.log, "ab")  # noqa: SIM115 - the child writes to it for its whole life
        self.process = subprocess.Popen(  # noqa: S603
            [sys.executable, "app.py"], cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the studio exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.5).close()
                return self
            except OSError:
                time.sleep(0.3)
        raise TimeoutError(f"the studio did not start in {timeout:.0f} s:\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL: no cleanup, as a crash or an out-of-memory kill would leave it."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def rss_mb(self) -> float:
        """The studio process's resident memory now (Linux)."""
        assert self.process is not None
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS")

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def files_outside_data(self) -> list[Path]:
        """Files the studio left in its HOME or TMPDIR (everything should be under STUDIO_DATA)."""
        return sorted(p for root in (self.home, self.tmp) for p in root.rglob("*") if p.is_file())
