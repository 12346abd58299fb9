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

    Keys that are LossRecipe fields override the recipe (LossRecipe.overridden); others (iterations, density,
    strength) are returned for the caller.
    """
    name, _, rest = spec.partition(":")
    fields = {f.name for f in dataclasses.fields(LossRecipe)}
    pairs = [item.partition("=")[::2] for item in rest.split(",") if item]
    recipe = RECIPES[name].overridden(",".join(f"{k}={v}" for k, v in pairs if k in fields))
    return spec, recipe, {k: v for k, v in pairs if k not in fields}


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
