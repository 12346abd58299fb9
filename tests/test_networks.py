from __future__ import annotations

import dataclasses

import pytest
import torch

from studio.config import NetworkConfig
from studio.nn.networks import CondInstanceNorm, build_network, count_parameters


def test_image_network_matches_create_ml_size() -> None:
    net = build_network(NetworkConfig.for_use_case("image"))
    n = count_parameters(net)
    assert 1_650_000 <= n <= 1_700_000, n  # Turi Create's resnet-16: ~1.68 M
    assert n * 4 / 1e6 == pytest.approx(6.7, abs=0.1)  # MB at fp32


def test_video_network_is_lite() -> None:
    n = count_parameters(build_network(NetworkConfig.for_use_case("video")))
    assert n <= 250_000, n
    assert n * 2 < 1_000_000  # < 1 MB at fp16


@pytest.mark.parametrize(("h", "w"), [(64, 64), (72, 120), (256, 96)])
def test_output_shape_and_range(h: int, w: int) -> None:
    torch.manual_seed(0)
    net = build_network(NetworkConfig.for_use_case("video"))
    with torch.no_grad():
        y = net(torch.rand(2, 3, h, w))
    assert y.shape == (2, 3, h, w)
    assert float(y.min()) >= 0.0 and float(y.max()) <= 1.0


def test_conditional_norm_blends_gamma_and_beta_linearly() -> None:
    torch.manual_seed(0)
    norm = CondInstanceNorm(4, num_styles=3)
    with torch.no_grad():
        norm.gamma.normal_()
        norm.beta.normal_()
    x = torch.randn(1, 4, 8, 8)
    one = [norm(x, torch.eye(3)[i : i + 1]) for i in range(3)]
    mixed = norm(x, torch.tensor([[0.25, 0.75, 0.0]]))
    # normalise(x) * gamma + beta is affine in (gamma, beta): the blend is the blend of the outputs
    assert torch.allclose(mixed, 0.25 * one[0] + 0.75 * one[1], atol=1e-5)
    assert not torch.allclose(one[0], one[1])


def test_upsampling_is_resize_convolution() -> None:
    """Odena et al. 2016: nearest-neighbour resize then convolution, never a transposed convolution."""
    net = build_network(NetworkConfig.for_use_case("image"))
    assert not any(isinstance(m, torch.nn.ConvTranspose2d) for m in net.modules())
    assert [type(m).__name__ for m in net.up] == ["UpConv", "UpConv"]
    with torch.no_grad():
        y = net.up[0](torch.rand(1, 128, 8, 8), torch.ones(1, 1))
    assert y.shape == (1, 64, 16, 16)


def test_spike_penalty_flags_a_planted_outlier() -> None:
    """The droplet guard: zero for ordinary activations, positive when one spot dominates a map."""
    torch.manual_seed(0)
    norm = CondInstanceNorm(4, num_styles=1)
    norm.spike_limit = 4.0
    x = torch.randn(1, 4, 32, 32)
    norm(x, torch.ones(1, 1))
    assert norm.spike is not None and float(norm.spike) < 1e-3
    x[0, 2, 5:7, 5:7] = 200.0  # a droplet: 4 pixels that dominate channel 2's variance
    norm(x, torch.ones(1, 1))
    assert float(norm.spike) > 0.01
    with torch.no_grad():  # inference computes nothing extra
        norm.spike = None
        norm(x, torch.ones(1, 1))
        assert norm.spike is None


def test_saturation_penalty_only_beyond_the_limit() -> None:
    """Saturated sigmoid inputs (no gradient from the other terms) are pulled back; the rest is untouched."""
    from studio.config import STUDIO_RECIPE
    from studio.nn.losses import SATURATION, PerceptualLoss, style_targets
    from studio.nn.lossnet import load_vgg

    vgg = load_vgg("hed")
    torch.manual_seed(0)
    img = torch.rand(1, 3, 32, 32)
    grams = style_targets(vgg, [torch.rand(1, 3, 32, 32)], STUDIO_RECIPE.style_layers, STUDIO_RECIPE.style_stat)
    recipe = dataclasses.replace(STUDIO_RECIPE, saturation_weight=1.5, sliced_weight=0.0)  # no random directions
    loss = PerceptualLoss(vgg, recipe, grams, recipe.style_weight)
    style = torch.ones(1, 1)
    inside = torch.full((1, 3, 32, 32), SATURATION - 0.1)
    beyond = inside.clone()
    beyond[0, 0, :8, :] = SATURATION + 2.0  # a quarter of one channel: mean excess^2 = 4 / 12
    base = float(loss(img, img, style)[0])
    assert float(loss(img, img, style, inside)[0]) == pytest.approx(base, rel=1e-6)
    expected = base + 1.5 * 4.0 / 12
    assert float(loss(img, img, style, beyond)[0]) == pytest.approx(expected, rel=1e-4)


def test_style_grid_matches_each_tile_to_the_painting() -> None:
    """style_grid=2: each quarter of the output is held to the painting's statistic. Two textures side by side
    match their own whole-crop statistic (grid 1) but not tile by tile (each quarter holds one texture); a
    texture repeated in every quarter matches the texture's statistic tile by tile."""
    from studio.config import STUDIO_RECIPE
    from studio.nn.losses import PerceptualLoss, style_targets, tiles

    x = torch.arange(2 * 3 * 4 * 6, dtype=torch.float32).reshape(2, 3, 4, 6)
    t = tiles(x, 2)  # (8, 3, 2, 3): sample-major, then tile rows, then tile columns
    assert t.shape == (8, 3, 2, 3)
    assert torch.equal(t[0], x[0, :, :2, :3]) and torch.equal(t[3], x[0, :, 2:, 3:])
    assert torch.equal(t[5], x[1, :, :2, 3:])
    assert tiles(x, 1) is x
    assert tiles(torch.zeros(1, 3, 5, 7), 2).shape == (4, 3, 2, 3)  # the odd row and column dropped

    class Identity(torch.nn.Module):  # the "features" are the pixels, so statistics are easy to reason about
        def forward(self, img: torch.Tensor, layers: tuple[str, ...]) -> dict[str, torch.Tensor]:
            return dict.fromkeys(layers, img)

    torch.manual_seed(0)
    texture = torch.rand(1, 3, 16, 16)
    repeated = texture.repeat(1, 1, 2, 2)  # the texture in every quarter
    halves = torch.cat([repeated[..., :16], torch.rand(1, 3, 32, 16) * 0.3], dim=3)  # texture | another one
    recipe = dataclasses.replace(
        STUDIO_RECIPE, style_layers=("relu1_1",), style_layer_weights=(1.0,), tv_weight=0.0, sliced_weight=0.0
    )
    one = torch.ones(1, 1)

    def style_loss(output: torch.Tensor, painting: torch.Tensor, grid: int) -> float:
        targets = style_targets(Identity(), [painting], recipe.style_layers, recipe.style_stat)  # type: ignore[arg-type]
        loss = PerceptualLoss(Identity(), dataclasses.replace(recipe, style_grid=grid), targets, 1.0)  # type: ignore[arg-type]
        return float(loss(output, output, one)[1])

    assert style_loss(halves, halves, 1) < 1e-6
    assert style_loss(halves, halves, 2) > 0.1
    assert style_loss(repeated, texture, 2) < 1e-6


def test_sliced_term_tells_apart_distributions_with_the_same_means_and_covariance() -> None:
    """The sliced Wasserstein term (Heitz et al. 2021) sees what means and covariance cannot: features that are
    either -1 or +1 (a posterized, two-tone picture) against Gaussian ones of the same mean and variance. Its own
    distribution scores about 0; a mix of two styles is held to the mix of their quantiles; the loss needs the
    samples when the recipe turns the term on."""
    from studio.config import STUDIO_RECIPE
    from studio.nn.losses import PerceptualLoss, mean_cov, sliced_error, style_samples, style_targets

    class Identity(torch.nn.Module):
        def forward(self, img: torch.Tensor, layers: tuple[str, ...]) -> dict[str, torch.Tensor]:
            return dict.fromkeys(layers, img)

    torch.manual_seed(0)
    gaussian = torch.randn(1, 4, 64, 64)
    two_tone = torch.randn(1, 4, 64, 64).sign()
    assert (mean_cov(gaussian) - mean_cov(two_tone)).abs().max() < 0.02  # the statistics agree
    samples = style_samples(Identity(), [gaussian], ("relu1_1",), count=4096)["relu1_1"]  # type: ignore[arg-type]
    assert samples.shape == (1, 4, 4096)
    one = torch.ones(1, 1)
    dirs = torch.randn(4, 4)
    dirs = dirs / dirs.norm(dim=0, keepdim=True)  # four unit directions
    assert float(sliced_error(gaussian, samples, one, dirs)[0]) < 0.01
    assert float(sliced_error(two_tone, samples, one, dirs)[0]) > 0.05
    few = torch.rand(512)  # 512 of the 4096 positions
    assert float(sliced_error(two_tone, samples, one, dirs, few)[0]) > 0.05

    shifted = style_samples(Identity(), [gaussian + 3.0], ("relu1_1",), count=4096)["relu1_1"]  # type: ignore[arg-type]
    both = torch.cat([samples, shifted])
    half = torch.full((1, 2), 0.5)
    assert float(sliced_error(gaussian + 1.5, both, half, dirs)[0]) < 0.01  # halfway between the two
    halfway = float(sliced_error(gaussian + 1.5, both, half, dirs)[0])
    assert float(sliced_error(gaussian, both, half, dirs)[0]) > 10 * halfway

    recipe = dataclasses.replace(
        STUDIO_RECIPE, style_layers=("relu1_1",), style_layer_weights=(1.0,), tv_weight=0.0, sliced_weight=1.0
    )
    targets = style_targets(Identity(), [gaussian], recipe.style_layers, recipe.style_stat)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="feature samples"):
        PerceptualLoss(Identity(), recipe, targets, 1.0)  # type: ignore[arg-type]
    loss = PerceptualLoss(Identity(), recipe, targets, 1.0, {"relu1_1": samples})  # type: ignore[arg-type]
    off = PerceptualLoss(Identity(), dataclasses.replace(recipe, sliced_weight=0.0), targets, 1.0)  # type: ignore[arg-type]
    assert float(loss(two_tone, two_tone, one)[1]) > float(off(two_tone, two_tone, one)[1]) + 0.05

    # the directions and positions come from the caller's generator: the same seed, the same loss
    gen = torch.Generator().manual_seed(7)
    loss.redraw(gen)
    first = float(loss(two_tone, two_tone, one)[1])
    loss.redraw(gen)
    assert float(loss(two_tone, two_tone, one)[1]) != first  # new directions each draw
    loss.redraw(torch.Generator().manual_seed(7))
    assert float(loss(two_tone, two_tone, one)[1]) == first
    before = gen.get_state()
    off.redraw(gen)  # without the term: nothing drawn, so a run's other draws stay as they were
    assert torch.equal(gen.get_state(), before)


def test_contextual_term_asks_for_the_paintings_own_features() -> None:
    """The contextual term (Mechrez et al. 2018) is low when every painting feature has a clear nearest match
    among the output's, high when the output's features are a blur of them with the same mean, and it is on in
    the loss only at its layers, drawing the output positions from the caller's generator."""
    from studio.config import STUDIO_RECIPE
    from studio.errors import StudioError
    from studio.nn.losses import PerceptualLoss, contextual_error, style_samples, style_targets

    class Identity(torch.nn.Module):
        def forward(self, img: torch.Tensor, layers: tuple[str, ...]) -> dict[str, torch.Tensor]:
            return dict.fromkeys(layers, img)

    torch.manual_seed(0)
    clusters = torch.randn(8, 16) * 4  # eight distinct "strokes" in a 16-channel feature space
    painting = (clusters[torch.randint(8, (32 * 32,))] + 0.1 * torch.randn(32 * 32, 16)).T.reshape(1, 16, 32, 32)
    samples = style_samples(Identity(), [painting], ("relu3_1",), count=2048)["relu3_1"]  # type: ignore[arg-type]
    which, positions = torch.zeros(1, dtype=torch.long), torch.rand(4096)
    same = painting[:, :, torch.randperm(32)]  # the same features, rearranged
    blurred = torch.nn.functional.avg_pool2d(painting, 5, 1, 2)  # the same mean, no clear matches
    few = (clusters[:2][torch.randint(2, (32 * 32,))] + 0.1 * torch.randn(32 * 32, 16)).T.reshape(1, 16, 32, 32)
    errors = [float(contextual_error(x, samples, which, positions, 0.5)[0]) for x in (same, blurred, few)]
    e_same, e_blur, e_few = errors

    assert e_same < e_blur - 0.5 and e_same < e_few - 0.5  # a blur or two of the eight strokes are far worse

    recipe = dataclasses.replace(
        STUDIO_RECIPE, style_layers=("relu3_1",), style_layer_weights=(1.0,), tv_weight=0.0, sliced_weight=0.0
    )
    with pytest.raises(StudioError, match="contextual_layers"):
        dataclasses.replace(recipe, contextual_weight=1.0, contextual_layers=("relu4_1",))
    with pytest.raises(StudioError, match="contextual_weight"):
        dataclasses.replace(recipe, contextual_weight=-1.0)
    on = dataclasses.replace(recipe, contextual_weight=1.0, contextual_layers=("relu3_1",))
    targets = style_targets(Identity(), [painting], on.style_layers, on.style_stat)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="feature samples"):
        PerceptualLoss(Identity(), on, targets, 1.0)  # type: ignore[arg-type]
    loss = PerceptualLoss(Identity(), on, targets, 1.0, {"relu3_1": samples})  # type: ignore[arg-type]
    off = PerceptualLoss(Identity(), recipe, targets, 1.0)  # type: ignore[arg-type]
    one = torch.ones(1, 1)
    assert float(loss(blurred, blurred, one)[1]) > float(off(blurred, blurred, one)[1]) + 0.5
    big = torch.nn.functional.interpolate(painting, scale_factor=2)  # 4096 positions: a drawn 1024 compared
    gen = torch.Generator().manual_seed(3)
    loss.redraw(gen)
    first = float(loss(big, big, one)[1])
    loss.redraw(torch.Generator().manual_seed(3))
    assert float(loss(big, big, one)[1]) == first
    x = blurred.clone().requires_grad_(True)
    loss(x, blurred, one)[0].backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_contrast_term_counts_flat_regions_against_a_painting_textured_everywhere() -> None:
    """The local-contrast term compares how flat or busy the output's small windows are with the painting's: a
    result that is half flat and half noisy scores worse against an evenly textured painting than an evenly
    textured result with the same overall contrast; a multi-style output's target mixes its styles' quantiles (the
    1-D Wasserstein barycentre, as the sliced term's)."""
    from studio.config import STUDIO_RECIPE
    from studio.errors import StudioError
    from studio.nn.losses import PerceptualLoss, contrast_error, contrast_targets, style_targets

    class Identity(torch.nn.Module):
        def forward(self, img: torch.Tensor, layers: tuple[str, ...]) -> dict[str, torch.Tensor]:
            return dict.fromkeys(layers, img)

    g = torch.Generator().manual_seed(0)
    painting = (0.5 + 0.15 * torch.randn(1, 3, 96, 96, generator=g)).clamp(0, 1)  # texture everywhere
    even = (0.5 + 0.15 * torch.randn(1, 3, 64, 64, generator=g)).clamp(0, 1)
    half = even.clone()
    half[..., :32] = 0.5  # the left half flat
    half[..., 32:] = (0.5 + 0.21 * torch.randn(1, 3, 64, 32, generator=g)).clamp(0, 1)  # the right half busier
    flat = torch.full((1, 3, 96, 96), 0.5)
    targets = contrast_targets([painting])
    assert targets.shape == (1, 256)
    one = torch.ones(1, 1)
    e_even, e_half = float(contrast_error(even, targets, one)[0]), float(contrast_error(half, targets, one)[0])
    assert e_even < 0.05 < e_half
    both = contrast_targets([painting, flat])
    halfway = (0.5 + 0.075 * torch.randn(1, 3, 64, 64, generator=g)).clamp(0, 1)  # half the painting's contrast
    mix = torch.tensor([[0.5, 0.5]])
    assert float(contrast_error(halfway, both, mix)[0]) < 0.05 < float(contrast_error(halfway, targets, one)[0])

    recipe = dataclasses.replace(
        STUDIO_RECIPE, style_layers=("relu1_1",), style_layer_weights=(1.0,), tv_weight=0.0, sliced_weight=0.0
    )
    with pytest.raises(StudioError, match="contrast_weight"):
        dataclasses.replace(recipe, contrast_weight=-1.0)
    on = dataclasses.replace(recipe, contrast_weight=1.0)
    stats = style_targets(Identity(), [painting], recipe.style_layers, recipe.style_stat)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="quantiles"):
        PerceptualLoss(Identity(), on, stats, 1.0)  # type: ignore[arg-type]
    loss = PerceptualLoss(Identity(), on, stats, 1.0, contrast=targets)  # type: ignore[arg-type]
    off = PerceptualLoss(Identity(), recipe, stats, 1.0)  # type: ignore[arg-type]
    assert float(loss(half, half, one)[1]) > float(off(half, half, one)[1]) + 0.05
    x = half.clone().requires_grad_(True)
    loss(x, half, one)[0].backward()
    assert x.grad is not None and bool(torch.isfinite(x.grad).all()) and float(x.grad[..., :32].abs().sum()) > 0


def test_structure_term_keeps_light_and_dark_where_the_photo_has_them() -> None:
    """The structure term (SSIM's local correlation of luminance, Wang et al. 2004) is blind to local brightness
    and contrast, so a painting may darken or flatten a photo, but it counts light and dark moved or inverted.
    In the loss its weight follows each output's style weight (the strength)."""
    from torch.nn import functional as F

    from studio.config import STUDIO_RECIPE
    from studio.nn.losses import PerceptualLoss, structure_error, style_targets

    torch.manual_seed(0)
    photo = F.interpolate(torch.rand(2, 3, 8, 8), size=32, mode="bilinear")  # smooth light and dark
    assert float(structure_error(photo, photo).max()) < 1e-4
    assert float(structure_error(photo * 0.2 + 0.05, photo).max()) < 0.01  # darker and flatter: the same structure
    assert float(structure_error(1 - photo, photo).min()) > 1.5  # light and dark swapped
    other = photo.flip(0)  # the other picture: light and dark elsewhere
    assert 0.4 < float(structure_error(other, photo).min()) < 1.6
    out = other.clone().requires_grad_()
    structure_error(out, photo).sum().backward()
    assert out.grad is not None and float(out.grad.abs().sum()) > 0
    # the scales it compares at: a pixel-level grain is felt at full size, hardly at half and quarter size
    grain = photo + 0.1 * (torch.arange(32).view(1, 1, 1, 32) % 2 - 0.5)  # 1 px columns
    fine, coarse = structure_error(grain, photo, (0, 1)), structure_error(grain, photo, (1, 2))
    assert float(fine.min()) > 5 * float(coarse.max())

    class Identity(torch.nn.Module):
        def forward(self, img: torch.Tensor, layers: tuple[str, ...]) -> dict[str, torch.Tensor]:
            return dict.fromkeys(layers, img)

    recipe = dataclasses.replace(
        STUDIO_RECIPE, style_layers=("relu1_1",), style_layer_weights=(1.0,), tv_weight=0.0, sliced_weight=0.0
    )
    targets = style_targets(Identity(), [photo[:1], photo[1:]], recipe.style_layers, recipe.style_stat)  # type: ignore[arg-type]
    weights = torch.tensor([1.0, 4.0]) * recipe.style_weight  # two styles: strength 5 and a stronger one

    def total(structure_weight: float) -> float:
        r = dataclasses.replace(recipe, structure_weight=structure_weight)
        return float(PerceptualLoss(Identity(), r, targets, weights)(other, photo, torch.eye(2))[0])  # type: ignore[arg-type]

    errors = structure_error(other, photo)
    expected = 1.5 * float((errors * torch.tensor([1.0, 4.0])).mean())
    assert total(1.5) - total(0.0) == pytest.approx(expected, rel=1e-4)


def test_style_scales_match_the_painting_also_coarser() -> None:
    """``style_scales`` (0, 1) also matches the statistics of the output and the painting 2x2-averaged: pixels
    shuffled keep every full-size statistic (the same values) but not the coarser ones (neighbours no longer
    alike), so only the multi-scale loss tells them from the painting; the trainer builds its targets."""
    from torch.nn import functional as F

    from studio.config import STUDIO_RECIPE, LossRecipe
    from studio.errors import StudioError
    from studio.nn.losses import PerceptualLoss, at_scales, samples_of, style_keys, targets_of
    from studio.train.trainer import loss_for

    class Identity(torch.nn.Module):
        def forward(self, img: torch.Tensor, layers: tuple[str, ...]) -> dict[str, torch.Tensor]:
            return dict.fromkeys(layers, img)

    torch.manual_seed(0)
    painting = F.interpolate(torch.rand(1, 3, 8, 8), size=64, mode="bilinear")  # smooth colour blocks
    shuffled = painting.flatten(2)[:, :, torch.randperm(64 * 64)].reshape(painting.shape)
    base = dataclasses.replace(
        STUDIO_RECIPE, style_layers=("relu1_1",), style_layer_weights=(1.0,), tv_weight=0.0, structure_weight=0.0
    )
    one = torch.ones(1, 1)

    def style_loss(scales: tuple[int, ...], output: torch.Tensor) -> float:
        r = dataclasses.replace(base, style_scales=scales)
        assert style_keys(r) == (("relu1_1",) if scales == (0,) else ("relu1_1", "relu1_1_x1"))
        feats = [at_scales(Identity(), painting, r)]  # type: ignore[arg-type]
        keys = style_keys(r)
        loss = PerceptualLoss(Identity(), r, targets_of(feats, keys, r.style_stat), 1.0, samples_of(feats, keys))  # type: ignore[arg-type]
        loss.redraw(torch.Generator().manual_seed(0))
        return float(loss(output, painting, one)[1])

    assert style_loss((0,), painting) < 1e-3 and style_loss((0, 1), painting) < 1e-3
    assert style_loss((0,), shuffled) < 0.01  # the same pixel values: full-size statistics agree
    assert style_loss((0, 1), shuffled) > 10 * max(style_loss((0,), shuffled), 1e-3)

    with pytest.raises(ValueError, match="relu1_1_x1"):  # targets made at full size only
        r = dataclasses.replace(base, style_scales=(0, 1), sliced_weight=0.0)
        PerceptualLoss(
            Identity(), r, targets_of([at_scales(Identity(), painting, base)], ("relu1_1",), r.style_stat), 1.0
        )  # type: ignore[arg-type]
    for bad in ((), (0, 0), (-1,)):
        with pytest.raises(StudioError, match="style_scales"):
            dataclasses.replace(base, style_scales=bad)
    assert LossRecipe().overridden("style_scales=0/1").style_scales == (0, 1)

    r = dataclasses.replace(base, style_scales=(0, 1))
    loss = loss_for(Identity(), r, [painting], [5.0])  # type: ignore[arg-type]
    loss.redraw(torch.Generator().manual_seed(0))
    assert float(loss(painting, painting, one)[1]) < 1e-3
    assert float(loss(shuffled, painting, one)[1]) > 0.01
