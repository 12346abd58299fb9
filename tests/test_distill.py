"""presets/distill.py: the all-presets model taught the presets' own models' results."""

from __future__ import annotations

import dataclasses
import importlib.util
from pathlib import Path

import pytest
import torch
from conftest import tiny_model

from studio.model import StyleModel
from studio.train.content import load_pool, random_crops, resolve_content

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def distill():  # noqa: ANN201 - the script's module
    spec = importlib.util.spec_from_file_location("presets_distill", ROOT / "presets" / "distill.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def teacher(seed: int, name: str, strength: float, density: int) -> StyleModel:
    model = tiny_model(1, seed=seed)
    model.config = dataclasses.replace(
        model.config, style_names=(name,), style_strength=strength, style_density=density, iterations=500
    )
    return model


def test_soup_keeps_each_teachers_norm_and_averages_the_rest(distill) -> None:  # noqa: ANN001
    a, b = teacher(0, "ice", 4.0, 256), teacher(1, "ink", 2.0, 512)
    shared = {k: v for k, v in a.network.state_dict().items() if not k.endswith((".gamma", ".beta"))}
    b.network.load_state_dict(shared, strict=False)  # the same shared weights, their own (gamma, beta)
    every = distill.soup([a, b])
    assert every.style_names == ("ice", "ink")
    assert every.config.style_strengths == (4.0, 2.0) and every.config.style_densities == (256, 512)
    x = torch.rand(1, 3, 48, 64)
    with torch.no_grad():
        for i, t in enumerate((a, b)):
            style = torch.eye(2)[i]
            assert torch.allclose(every.network(x, style), t.network(x), atol=1e-5)
    # different shared weights are averaged
    c = teacher(2, "woodcut", 3.0, 384)
    key = next(k for k in shared if k.endswith("weight"))
    mixed = distill.soup([a, c]).network.state_dict()[key]
    assert torch.allclose(mixed, (a.network.state_dict()[key] + c.network.state_dict()[key]) / 2)


def test_distillation_brings_each_style_towards_its_teacher(distill, content_dir: Path) -> None:  # noqa: ANN001
    teachers = [teacher(0, "ice", 4.0, 256), teacher(1, "ink", 2.0, 512), teacher(2, "woodcut", 3.0, 384)]
    device = torch.device("cpu")
    pool = load_pool(resolve_content([content_dir], what="photo"), 64, device)
    held = random_crops(pool, 2, 64, torch.Generator().manual_seed(7))

    def gap(model: StyleModel) -> float:
        with torch.no_grad():
            return sum(
                float(distill.distill_loss(model.network(held, torch.eye(3)[i]), t.network(held)))
                for i, t in enumerate(teachers)
            )

    before = gap(distill.soup(teachers))
    torch.manual_seed(0)
    model = distill.distill(teachers, pool, iterations=80, batch=2, crop=64, lr=2e-3, device=device, log_every=1000)
    assert model.config.iterations == 80 and model.num_styles == 3
    assert gap(model) < 0.75 * before, (gap(model), before)
    # stopped by time: saved as far as it got, and says so in its config
    quick = distill.distill(teachers, pool, iterations=40, batch=1, crop=64, lr=2e-3, device=device, max_seconds=0)
    assert quick.config.iterations == 0
