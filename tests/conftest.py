"""Shared fixtures: synthetic images and tiny seeded models, so the suite runs on a CPU in minutes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from studio.config import ModelConfig, NetworkConfig
from studio.model import StyleModel
from studio.nn.networks import build_network


def synthetic_photo(w: int, h: int, seed: int) -> np.ndarray:
    """A smooth 'photo': colour gradients, a disc and a bar, plus mild noise; uint8 (h, w, 3)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    img = np.stack([xx, yy, 1 - xx * yy], axis=-1) * rng.uniform(0.5, 1.0, 3)
    cy, cx, r = rng.uniform(0.3, 0.7) * h, rng.uniform(0.3, 0.7) * w, min(h, w) * 0.2
    disc = (np.mgrid[0:h, 0:w][0] - cy) ** 2 + (np.mgrid[0:h, 0:w][1] - cx) ** 2 < r * r
    img[disc] = rng.uniform(0, 1, 3)
    img[h // 5 : h // 5 + max(1, h // 12), :] = rng.uniform(0, 1, 3)
    img += rng.normal(0, 0.02, img.shape)
    return (np.clip(img, 0, 1) * 255).astype(np.uint8)


def stripes(w: int, h: int, period: float, seed: int = 0) -> np.ndarray:
    """Diagonal colour stripes with a given period in pixels; uint8 (h, w, 3)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    phase = (xx + yy) * (2 * np.pi / period)
    a, b = rng.uniform(0, 1, 3), rng.uniform(0, 1, 3)
    t = (0.5 + 0.5 * np.sin(phase))[..., None]
    return ((a * t + b * (1 - t)) * 255).astype(np.uint8)


@pytest.fixture
def content_dir(tmp_path: Path) -> Path:
    d = tmp_path / "content"
    d.mkdir()
    for i in range(4):
        Image.fromarray(synthetic_photo(96 + 16 * i, 80 + 8 * i, seed=i)).save(d / f"photo{i}.png")
    return d


@pytest.fixture
def style_path(tmp_path: Path) -> Path:
    p = tmp_path / "stripes.png"
    Image.fromarray(stripes(160, 128, period=12)).save(p)
    return p


def tiny_model(num_styles: int = 1, seed: int = 0, use_case: str = "video") -> StyleModel:
    """A seeded, untrained model with randomised norm parameters (so styles really differ)."""
    torch.manual_seed(seed)
    cfg = NetworkConfig.for_use_case(use_case, num_styles=num_styles)
    net = build_network(cfg)
    with torch.no_grad():
        for norm in net.norms():
            norm.gamma.normal_(1.0, 0.3)
            norm.beta.normal_(0.0, 0.3)
    config = ModelConfig(cfg, use_case, tuple(f"s{i}" for i in range(num_styles)), 5.0, 256, 0, "hed", "studio")
    return StyleModel(net, config, device="cpu")


@pytest.fixture(scope="session")
def studio_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """``python app.py`` in a sandbox of its own (see appserver.py), shared by the tests that only talk to it."""
    from appserver import AppServer

    server = AppServer(tmp_path_factory.mktemp("sandbox"), STUDIO_MAX_UPLOAD_BYTES="3000000").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a studio served from this process for the test module (the browser tests' page)."""
    from browser import served

    with served(tmp_path_factory.mktemp("data")) as address:
        yield address
