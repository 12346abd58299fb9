"""The one exception type the engine raises for bad input, and making text from files safe to print.

Every message names the offending value, so the CLI can print it as one line and the UI can show it as
``gr.Error`` without a traceback.
"""

from __future__ import annotations

import unicodedata


class StudioError(ValueError):
    """Bad input or an impossible request: the message says what and why, in one line."""


# Joiners shape emoji and Indic/Persian words; they cannot move or hide text.
_HARMLESS_FORMAT = frozenset("\u200c\u200d")


def printable(text: object) -> str:
    """``text`` as one line that cannot drive a terminal: control characters escaped, as Python writes them.

    Escapes C0 and C1 controls (ESC, newlines, carriage returns…), DEL, line and paragraph separators and
    format characters (bidi overrides and isolates, zero-width marks), so a style name or file name read
    from a file can neither run terminal escape sequences, nor reorder or hide what is printed around it.
    """
    out = []
    for ch in str(text):
        category = unicodedata.category(ch)
        if category in ("Cc", "Zl", "Zp", "Cs") or (category == "Cf" and ch not in _HARMLESS_FORMAT):
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
        else:
            out.append(ch)
    return "".join(out)
