"""The browser studio (Gradio): assembles tabs; every tab gets the engine functions it needs passed in.

The UI holds no engine logic: it validates nothing the engine validates, turns ``StudioError`` into
``gr.Error`` (one clear message, no stack trace) and keeps files per browser session.
"""

from __future__ import annotations

from .app import build_app

__all__ = ["build_app"]
