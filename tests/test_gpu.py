"""CUDA paths: skipped on machines without a GPU (CI), run on the lent GPU machine."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import synthetic_photo, tiny_model

from studio.config import STUDIO_RECIPE, TrainConfig
from studio.train.trainer import Trainer

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def test_cuda_stylize_matches_cpu() -> None:
    model = tiny_model(use_case="image")
    img = synthetic_photo(200, 150, seed=1)
    cpu = model.stylize(img).astype(float)
    gpu = model.to("cuda").stylize(img).astype(float)  # fp16 autocast
    assert np.abs(cpu - gpu).mean() < 2.0


# the default; the style statistics also at half size (one more loss-network pass); the contextual and contrast terms;
# noise on the input crops (drawn inside the captured graph)
@pytest.mark.parametrize(
    "overrides", ["", "style_scales=0/1", "contextual_weight=1", "contrast_weight=1", "input_noise=0.1"]
)
def test_cuda_training_with_graph_capture_lowers_loss(style_path: Path, content_dir: Path, overrides: str) -> None:
    losses: list[float] = []
    config = TrainConfig(iterations=60, batch_size=4, crop_size=128)
    recipe = STUDIO_RECIPE.overridden(overrides)
    trainer = Trainer(style_path, content_dir, config, device="cuda", recipe=recipe)
    model = trainer.run(lambda p: losses.append(p.style_loss))
    assert losses[-1] < 0.7 * losses[0]
    assert model.stylize(synthetic_photo(64, 48, 2)).shape == (48, 64, 3)


def test_fast_frame_engine_matches_eager_within_fp16() -> None:
    """fp16, split edge convolutions, fp32 norm statistics, torch.compile, the sub-pixel decoder (or not) and
    CUDA graphs change no pixel by more than fp16 rounding; changing style or intensity mid-stream takes effect."""
    from studio.infer.frames import FrameOptions, FrameStylizer

    frames = np.stack([synthetic_photo(160, 96, seed=s) for s in range(2)])
    for use_case, options in [
        (u, o) for u in ("image", "video") for o in ({}, {"compile": True}, {"options": FrameOptions(upsample="plain")})
    ]:
        model = tiny_model(num_styles=2, use_case=use_case).to("cuda")
        eager = FrameStylizer(model, style=0, fast=False)
        fast = FrameStylizer(model, style=0, **options)  # type: ignore[arg-type]
        assert fast.fast and not eager.fast
        for style, intensity in [(0, 1.0), (1, 1.0), ({0: 0.5, 1: 0.5}, 0.6)]:
            eager.configure(style, intensity=intensity)
            fast.configure(style, intensity=intensity)
            want, got = eager(frames).astype(int), fast(frames).astype(int)
            assert np.abs(want - got).max() <= 2 and np.abs(want - got).mean() < 0.2, (use_case, options)
        photo = model.stylize(frames[0], style={0: 0.5, 1: 0.5}, intensity=0.6)
        assert np.abs(fast(frames[0]).astype(int) - photo).max() <= 2


def test_warm_up_runs_a_throwaway_training_on_cuda() -> None:
    """What a GPU studio runs in the background at start (ui.app.start_warm_up)."""
    from studio.train.warmup import warm_up

    assert warm_up("cuda", ["image", "video"]) > 0
