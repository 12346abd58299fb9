"""Shared helpers for the bench scripts (not part of the package)."""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from studio.config import RECIPES, LossRecipe  # noqa: E402


def parse_variant(spec: str) -> tuple[str, LossRecipe, dict[str, str]]:
    """'studio' or 'plain:style_weight=8,iterations=1500' -> (label, recipe, extra settings).

    Keys that are LossRecipe fields override the recipe; others (iterations, density, strength) are
    returned for the caller.
    """
    name, _, rest = spec.partition(":")
    recipe = RECIPES[name]
    fields = {f.name: f for f in dataclasses.fields(LossRecipe)}
    overrides: dict[str, object] = {}
    extra: dict[str, str] = {}
    for item in filter(None, rest.split(",")):
        key, _, value = item.partition("=")
        if key in fields:
            current = getattr(recipe, key)
            if isinstance(current, tuple):
                overrides[key] = tuple(type(current[0])(v) if current else v for v in value.split("/"))
            elif isinstance(current, bool):
                overrides[key] = value.lower() in ("1", "true", "yes")
            else:
                overrides[key] = type(current)(value)
        else:
            extra[key] = value
    return spec, dataclasses.replace(recipe, **overrides), extra


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class Timer:
    def __init__(self, device: torch.device) -> None:
        self.device = device

    def __enter__(self) -> Timer:
        sync(self.device)
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        sync(self.device)
        self.seconds = time.perf_counter() - self.start


def table(rows: list[dict[str, object]]) -> str:
    keys = list(rows[0])
    widths = {k: max(len(k), *(len(f"{r[k]}") for r in rows)) for k in keys}
    line = " | ".join(k.ljust(widths[k]) for k in keys)
    sep = "-+-".join("-" * widths[k] for k in keys)
    body = "\n".join(" | ".join(f"{r[k]}".ljust(widths[k]) for k in keys) for r in rows)
    return f"{line}\n{sep}\n{body}"
