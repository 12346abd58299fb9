"""The one exception type the engine raises for bad input.

Every message names the offending value, so the CLI can print it as one line and the UI can show it as
``gr.Error`` without a traceback.
"""

from __future__ import annotations


class StudioError(ValueError):
    """Bad input or an impossible request: the message says what and why, in one line."""
