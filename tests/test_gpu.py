"""CUDA paths: skipped on machines without a GPU (CI), run on the lent GPU machine."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import synthetic_photo, tiny_model

from studio.config import TrainConfig
from studio.training import Trainer

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def test_cuda_stylize_matches_cpu() -> None:
    model = tiny_model(use_case="image")
    img = synthetic_photo(200, 150, seed=1)
    cpu = model.stylize(img).astype(float)
    gpu = model.to("cuda").stylize(img).astype(float)  # fp16 autocast
    assert np.abs(cpu - gpu).mean() < 2.0


def test_cuda_training_with_graph_capture_lowers_loss(style_path: Path, content_dir: Path) -> None:
    losses: list[float] = []
    trainer = Trainer(style_path, content_dir, TrainConfig(iterations=60, batch_size=4, crop_size=128), device="cuda")
    model = trainer.run(lambda p: losses.append(p.style_loss))
    assert losses[-1] < 0.7 * losses[0]
    assert model.stylize(synthetic_photo(64, 48, 2)).shape == (48, 64, 3)
