"""What the browser tests share: Debian's Chromium as the project runs it (a downloaded browser cannot be
installed here) and an in-process studio to point it at."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from appserver import free_port

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
needs_chromium = pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="needs Debian's chromium")


def serve(data: Path, port: int | None = None) -> tuple[object, str]:
    """The studio on the data folder ``data``, served from this process: (the app, its URL). A restart is
    ``demo.close()`` and a new app (and store) on the same folder and port."""
    from ui import build_app

    port = port or free_port()
    demo = build_app(data)
    demo.queue().launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    return demo, f"http://127.0.0.1:{port}/"


@contextmanager
def served(data: Path) -> Iterator[str]:
    """A studio on ``data`` for the block's length; yields its URL."""
    demo, url = serve(data)
    try:
        yield url
    finally:
        demo.close()  # type: ignore[attr-defined]
