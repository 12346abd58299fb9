"""Banks of models trained at once, per-style strengths and densities, and the loss pieces they rest on."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import stripes, synthetic_photo
from PIL import Image

from studio.config import STUDIO_RECIPE, ModelConfig, TrainConfig
from studio.errors import StudioError
from studio.model import StyleModel
from studio.nn.losses import PerceptualLoss, gram, mean_cov, style_samples, style_targets
from studio.nn.lossnet import load_vgg
from studio.train.bank import BankJob, train_bank
from studio.train.trainer import Trainer

TINY = {"use_case": "video", "batch_size": 2, "crop_size": 64}
# The loss network sees a style image at 512 px / density * 256 px: at the default density (256) a 512 px style
# costs a CPU ~2 s a run before its first step, at 1024 a 128 px one ~0.1 s. What these tests check does not
# depend on the density, only on every model getting its own.
FINE = 1024


def tiny_bank(jobs: list[BankJob], content: Path, **kw: object) -> list[StyleModel]:
    return train_bank(jobs, content, iterations=4, device="cpu", **TINY, **kw)  # type: ignore[arg-type]


def test_a_bank_of_one_is_exactly_a_training_run(style_path: Path, content_dir: Path) -> None:
    assert STUDIO_RECIPE.video_stability_weight > 0  # so TINY's video models take the stability-loss path too
    img = synthetic_photo(64, 64, seed=3)
    config = TrainConfig(iterations=4, style_strength=6, style_density=FINE, **TINY)
    alone = Trainer(style_path, content_dir, config, device="cpu").run()
    (banked,) = tiny_bank([BankJob(style_path, "stripes", 6.0, FINE)], content_dir)
    assert np.array_equal(banked.stylize(img), alone.stylize(img))
    assert banked.config.style_strength == 6.0 and banked.style_names == ("stripes",)
    assert banked.config.style_density == alone.config.style_density == FINE


def test_each_model_of_a_bank_trains_as_it_would_alone(style_path: Path, content_dir: Path, tmp_path: Path) -> None:
    """Every member gets its own loss (style, strength, density), scaled like the others: Adam hardly notices."""
    other = tmp_path / "fine.png"
    Image.fromarray(stripes(128, 128, period=5, seed=4)).save(other)
    img = synthetic_photo(64, 64, seed=3)
    solo = [
        Trainer(
            style_path,
            content_dir,
            TrainConfig(iterations=4, style_strength=6, style_density=FINE, **TINY),
            device="cpu",
        ).run(),
        Trainer(
            other, content_dir, TrainConfig(iterations=4, style_strength=3, style_density=512, **TINY), device="cpu"
        ).run(),
    ]
    snaps: list[int] = []
    bank = tiny_bank(
        [BankJob(style_path, "a", 6.0, FINE), BankJob(other, "b", 3.0, 512)],
        content_dir,
        snapshot_at=(2,),
        on_snapshot=lambda it, models: snaps.append(it) if len(models) == 2 else None,
    )
    assert snaps == [2]
    assert bank[1].config.style_density == 512 and bank[1].config.style_strength == 3.0
    assert bank[0].config.style_density == FINE and bank[0].config.style_strength == 6.0
    for model, ref in zip(bank, solo, strict=True):
        diff = np.abs(model.stylize(img).astype(int) - ref.stylize(img))
        assert diff.max() <= 8 and diff.mean() < 1.0, (diff.max(), diff.mean())
    with pytest.raises(StudioError, match="snapshot_at"):
        train_bank([BankJob(style_path, "a")], content_dir, iterations=4, snapshot_at=(5,), device="cpu")


def test_per_style_strengths_and_densities(style_path: Path, content_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(StudioError, match="style_strengths must be between 1 and 10, got 11"):
        TrainConfig(style_strengths=(5.0, 11.0))
    with pytest.raises(StudioError, match="style_densities must be a multiple of 4"):
        TrainConfig(style_densities=(256, 257))
    with pytest.raises(StudioError, match="one strength and one density per style"):
        Trainer([style_path, style_path], content_dir, TrainConfig(style_strengths=(5.0,), **TINY), device="cpu")
    config = TrainConfig(iterations=2, style_strengths=(2.0, 8.0), style_densities=(512, FINE), **TINY)
    assert TrainConfig.from_dict(config.to_dict()) == config
    model = Trainer([style_path, style_path], content_dir, config, device="cpu", style_names=["a", "b"]).run()
    assert model.config.style_strengths == (2.0, 8.0) and model.config.style_densities == (512, FINE)
    again = ModelConfig.from_json(model.config.to_json())
    assert again == model.config
    model.save(tmp_path / "m.safetensors")
    from studio.model import load

    assert load(tmp_path / "m.safetensors").config.style_strengths == (2.0, 8.0)


def test_mean_and_covariance_add_up_to_the_gram() -> None:
    f = torch.rand(2, 5, 7, 6)
    stat = mean_cov(f)
    cov, mean = stat[:, :5], stat[:, 5]  # mean row is scaled by 1/sqrt(C)
    assert torch.allclose(cov + mean[:, :, None] * mean[:, None, :], gram(f), atol=1e-6)


def test_the_loss_weighs_each_style_by_its_strength_and_shares_content_features() -> None:
    torch.manual_seed(0)
    vgg = load_vgg("hed")
    styles = [torch.rand(1, 3, 48, 48), torch.rand(1, 3, 40, 56)]
    targets = style_targets(vgg, styles, STUDIO_RECIPE.style_layers, STUDIO_RECIPE.style_stat)
    assert STUDIO_RECIPE.sliced_weight > 0  # so the sliced term's mix of styles is checked too
    samples = style_samples(vgg, styles, STUDIO_RECIPE.style_layers, count=256)
    content = torch.rand(2, 3, 32, 32)
    out = torch.rand(4, 3, 32, 32)  # two "networks" x two crops
    one_hot = torch.eye(2).repeat_interleave(2, dim=0)
    both = PerceptualLoss(vgg, STUDIO_RECIPE, targets, torch.tensor([1.0, 3.0]), samples)
    total, style_loss, content_loss = both(out, content, one_hot)
    # the same as each half alone, against its own style target, with its own weight, averaged
    parts = []
    for k, w in enumerate((1.0, 3.0)):
        own = {layer: t[k : k + 1] for layer, t in targets.items()}
        own_samples = {layer: v[k : k + 1] for layer, v in samples.items()}
        alone = PerceptualLoss(vgg, STUDIO_RECIPE, own, w, own_samples)  # the same directions: seeded alike
        parts.append(alone(out[2 * k : 2 * k + 2], content, torch.ones(2, 1)))
    assert torch.allclose(total, (parts[0][0] + parts[1][0]) / 2, rtol=1e-4)
    assert torch.allclose(style_loss, (parts[0][1] + parts[1][1]) / 2, rtol=1e-4)
    assert torch.allclose(content_loss, (parts[0][2] + parts[1][2]) / 2, rtol=1e-4)
    with pytest.raises(ValueError, match="one value or 2"):
        PerceptualLoss(vgg, STUDIO_RECIPE, targets, torch.ones(3), samples)
