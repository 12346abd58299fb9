"""ZeroGPU support: on a Hugging Face Space with ZeroGPU, GPU work must run inside functions decorated with
``spaces.GPU``, which lends a GPU for the call. Elsewhere the ``spaces`` package is absent and
:func:`on_gpu` changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def on_zerogpu() -> bool:
    """Whether GPUs are lent per call (the ``spaces`` package is importable)."""
    return _spaces() is not None


def on_gpu(duration: float) -> Callable[[F], F]:
    """``spaces.GPU(duration=...)`` when the ``spaces`` package is importable, else the identity."""
    spaces = _spaces()
    if spaces is None:
        return lambda fn: fn
    return spaces.GPU(duration=int(duration))  # type: ignore[no-any-return]


def _spaces() -> Any:
    try:
        import spaces  # type: ignore[import-not-found]
    except ImportError:
        return None
    return spaces
