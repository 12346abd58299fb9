"""Perceptual losses: content, style (Gram matrices) and total variation.

* Style: Gatys et al. 2015 match Gram matrices (channel correlations) of VGG activations; Johnson et al.
  2016 use them as a training loss for a feed-forward net. ``style_stat="meancov"`` matches each layer's
  channel means and covariance separately instead (the Gram is their sum, covariance + mean * mean^T; for
  ReLU features the mean term dominates it), as in Li et al. 2017, "Demystifying Neural Style Transfer".
* Content: squared distance of one VGG layer's activations (Johnson's "feature reconstruction loss").
* Total variation: a small smoothness prior against high-frequency noise (Mahendran & Vedaldi 2015).
* Structure (``LossRecipe.structure_weight``): the structure part of SSIM (Wang et al. 2004; the local
  correlation) between the output's and the photo's luminance, at two scales, as a loss (Zhao et al. 2017
  train with SSIM). It ignores local brightness and contrast, so a dark painting may darken and flatten a face
  but not erase its eyes and mouth.
* Sliced Wasserstein (``LossRecipe.sliced_weight``): the whole distribution of each style layer's features,
  compared along random directions by sorting (Heitz et al. 2021, "A Sliced Wasserstein Loss for Neural
  Texture Synthesis"; Risser et al. 2017 add histograms to the Gram for the same reason): means and
  covariance can be met by a mix of flat regions and busy ones, a distribution cannot.

* Contextual (``LossRecipe.contextual_weight``): Mechrez et al. 2018, "The Contextual Loss for Image
  Transformation with Non-Aligned Data": each painting feature should be the clear nearest neighbour of some
  output feature (cosine distances, no spatial alignment), a smooth form of Li & Wand 2016's MRF loss. Statistics
  describe the painting's features as a cloud; this asks the output to reuse its actual features.

* Local contrast (``LossRecipe.contrast_weight``): the distribution of the luminance's standard deviation in small
  windows, compared as sorted values (a 1-D optimal transport, as the sliced term; Risser et al. 2017 match
  histograms for the same reason): a painting textured everywhere has few flat windows, so the output may not have
  many either, wherever the photo is flat.

* Scales (``LossRecipe.style_scales``): the style statistics may also be matched on the output and the painting
  2x2-averaged, for structures larger than the deepest style layer sees (measured, off by default).

The studio recipe normalises each term (see :class:`studio.config.LossRecipe`): the style error of a layer
is divided by the squared norm of its target statistic and the content error by the squared norm of the
content features. That keeps every layer on one scale, which is what lets one set of weights work across
styles as different as a mosaic and a pale watercolour.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from studio.config import LossRecipe
from studio.nn.lossnet import VGGFeatures


def gram(features: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (B, C, C) Gram matrix divided by C*H*W, computed in fp32 (TF32 on CUDA).

    Autocast is switched off here: in bf16 the sums over H*W positions would lose the small differences
    between Grams that the style loss is made of.
    """
    b, c, h, w = features.shape
    with torch.autocast(features.device.type, enabled=False):
        f = features.float().reshape(b, c, h * w)
        return torch.bmm(f, f.transpose(1, 2)) / (c * h * w)


def mean_cov(features: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (B, C + 1, C): rows 0..C-1 the channel covariance / C, row C the channel means.

    Scaled like :func:`gram` (divided by C), so that ``cov + outer(mean, mean) / C`` is the Gram.
    """
    b, c, h, w = features.shape
    with torch.autocast(features.device.type, enabled=False):
        f = features.float().reshape(b, c, h * w)
        mean = f.mean(dim=2, keepdim=True)  # (B, C, 1)
        centred = f - mean
        cov = torch.bmm(centred, centred.transpose(1, 2)) / (c * h * w)
        return torch.cat([cov, mean.transpose(1, 2) / c**0.5], dim=1)


def style_statistic(features: torch.Tensor, stat: str) -> torch.Tensor:
    return gram(features) if stat == "gram" else mean_cov(features)


def tiles(features: torch.Tensor, grid: int) -> torch.Tensor:
    """(B, C, H, W) -> (B * grid * grid, C, H // grid, W // grid): the feature map cut into a grid of tiles
    (rows and columns beyond a multiple of ``grid`` dropped), tile-major within each sample."""
    if grid == 1:
        return features
    b, c, h, w = features.shape
    th, tw = h // grid, w // grid
    f = features[:, :, : th * grid, : tw * grid].reshape(b, c, grid, th, grid, tw)
    return f.permute(0, 2, 4, 1, 3, 5).reshape(b * grid * grid, c, th, tw)


SLICED_SAMPLES = 4096  # feature positions kept per style and layer for the sliced Wasserstein term
# Output positions sorted per layer and step, drawn anew each step: a quarter of relu1_1's at a 256 px crop. The
# distribution is estimated as well from 16 K points, and sorting all 64 K made a CPU step twice as long.
SLICED_POSITIONS = 16384


def sliced_error(
    features: torch.Tensor,
    samples: torch.Tensor,
    mix: torch.Tensor,
    directions: torch.Tensor,
    positions: torch.Tensor | None = None,
) -> torch.Tensor:
    """Sliced Wasserstein error of each output's features against its styles' feature samples.

    features (N, C, H, W); samples (S, C, M): each style's features at M positions; mix (N, S) the styles each
    output is trained for; directions (C, P): P unit directions to project on; positions (K,) in [0, 1): which
    of the H*W positions to compare when there are more than K of them (None: all). The output's features and
    the samples are projected on the directions, sorted, and the output's sorted projections compared with the
    target's quantiles at the same ranks (a mix of styles mixes their quantiles: the 1-D Wasserstein
    barycentre). Returns (N,): the mean squared difference divided by the target's mean square.
    """
    n, c, h, w = features.shape
    with torch.autocast(features.device.type, enabled=False):
        f = features.float().reshape(n, c, h * w)
        if positions is not None and h * w > len(positions):
            f = f[:, :, (positions * (h * w)).long().clamp_max(h * w - 1)]
        k = f.shape[2]
        out = torch.einsum("cp,nck->npk", directions, f).sort(dim=2).values  # (N, P, K)
        target = torch.einsum("cp,sck->spk", directions, samples.float()).sort(dim=2).values  # (S, P, M)
        target = torch.einsum("ns,spk->npk", mix.float(), target)  # (N, P, M)
        target = F.interpolate(target, size=k, mode="linear", align_corners=True)  # (N, P, K): quantiles
        err = (out - target).pow(2).mean(dim=(1, 2))
        return err / target.pow(2).mean(dim=(1, 2)).clamp_min(1e-12)


CONTEXTUAL_POSITIONS = 1024  # output positions a layer the contextual term compares (all of relu4_1's at 256 px)
CONTEXTUAL_SAMPLES = 2048  # painting features a layer it compares them with (the first of the sliced term's samples)


def contextual_error(
    features: torch.Tensor,
    samples: torch.Tensor,
    which: torch.Tensor,
    positions: torch.Tensor,
    bandwidth: float,
) -> torch.Tensor:
    """-log of the contextual similarity (Mechrez et al. 2018) of each output's features to its style's samples.

    features (N, C, H, W); samples (S, C, M) each style's features at M positions (the first
    CONTEXTUAL_SAMPLES used); which (N,) the style each output is compared with; positions (K,) in [0, 1): the
    output positions kept when there are more than CONTEXTUAL_POSITIONS. Both sets are centred on the style's
    mean feature; d_ij is the cosine distance of output feature i to style feature j, divided by i's distance to
    its nearest style feature; w_ij = softmax_j((1 - d_ij) / bandwidth); the similarity is the mean over style
    features j of max_i w_ij: 1 when every style feature is some output feature's unambiguous nearest match.
    Returns (N,).
    """
    n, c, h, w = features.shape
    with torch.autocast(features.device.type, enabled=False):
        f = features.float().reshape(n, c, h * w)
        if h * w > CONTEXTUAL_POSITIONS:
            f = f[:, :, (positions[:CONTEXTUAL_POSITIONS] * (h * w)).long().clamp_max(h * w - 1)]
        y = samples.float()[which][:, :, :CONTEXTUAL_SAMPLES]  # (N, C, M)
        mean = y.mean(dim=2, keepdim=True)
        x, y = F.normalize(f - mean, dim=1), F.normalize(y - mean, dim=1)
        d = 1 - torch.bmm(x.transpose(1, 2), y)  # (N, K, M): cosine distances
        d = d / (d.min(dim=2, keepdim=True).values + 1e-5)  # relative to each output feature's nearest
        cx = torch.softmax((1 - d) / bandwidth, dim=2)  # (N, K, M): how clearly j is i's match
        return -torch.log(cx.max(dim=1).values.mean(dim=1) + 1e-5)


def total_variation(x: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference of neighbouring pixels, (B, 3, H, W) -> scalar."""
    dh = (x[:, :, 1:, :] - x[:, :, :-1, :]).abs().mean()
    dw = (x[:, :, :, 1:] - x[:, :, :, :-1]).abs().mean()
    return dh + dw


LUMA = (0.299, 0.587, 0.114)  # ITU-R BT.601 luminance weights
SSIM_C3 = 0.03**2 / 2  # SSIM's stabiliser of the structure term for data in [0, 1] (Wang et al. 2004)


def structure_error(output: torch.Tensor, content: torch.Tensor, scales: tuple[int, ...] = (0, 1)) -> torch.Tensor:
    """1 - SSIM's structure term (the local correlation) between the luminance of output and content, (N, 3, H,
    W) in [0, 1] -> (N,), averaged over ``scales`` (k: the images 2^k times smaller, by 2x2 averaging; an 11-tap
    Gaussian window of sigma 1.5, as SSIM's). 0 when the output's light and dark follow the photo's everywhere,
    whatever their local brightness and contrast; 2 where they are inverted."""
    with torch.autocast(output.device.type, enabled=False):
        # Channel arithmetic, no weight tensor: a step captured in a CUDA graph may not copy from the host.
        x = sum(w * content[:, i : i + 1].float() for i, w in enumerate(LUMA))  # (N, 1, H, W)
        y = sum(w * output[:, i : i + 1].float() for i, w in enumerate(LUMA))
        t = torch.arange(11, device=output.device, dtype=torch.float32) - 5
        g = torch.exp(-(t**2) / (2 * 1.5**2))
        g = g / g.sum()
        rows, cols = g.view(1, 1, 1, 11), g.view(1, 1, 11, 1)  # the separable window
        err = output.new_zeros(len(output), dtype=torch.float32)
        for scale in range(max(scales) + 1):
            if scale:
                x, y = F.avg_pool2d(x, 2), F.avg_pool2d(y, 2)
            if scale not in scales:
                continue
            stack = torch.cat([x, y, x * x, y * y, x * y], 1)  # (N, 5, H, W)
            c = stack.shape[1]
            blur = F.conv2d(F.pad(stack, (5, 5, 0, 0), mode="reflect"), rows.expand(c, 1, 1, 11), groups=c)
            blur = F.conv2d(F.pad(blur, (0, 0, 5, 5), mode="reflect"), cols.expand(c, 1, 11, 1), groups=c)
            mx, my, xx, yy, xy = blur.unbind(1)
            vx, vy, cov = (xx - mx * mx).clamp_min(0), (yy - my * my).clamp_min(0), xy - mx * my
            s = (cov + SSIM_C3) / ((vx * vy + 1e-12).sqrt() + SSIM_C3)  # (N, H, W)
            err = err + (1 - s).mean(dim=(1, 2))
        return err / len(scales)


CONTRAST_WINDOW = 8  # px: the windows whose luminance deviation the local-contrast term compares (stride half of it)
CONTRAST_LEVELS = 256  # quantiles of a painting's local contrast kept as its target


def local_contrast(image: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) in [0, 1] -> (N, K): the luminance's standard deviation in each CONTRAST_WINDOW window."""
    with torch.autocast(image.device.type, enabled=False):
        y = sum(w * image[:, i : i + 1].float() for i, w in enumerate(LUMA))  # (N, 1, H, W)
        k, s = CONTRAST_WINDOW, CONTRAST_WINDOW // 2
        mean, square = F.avg_pool2d(y, k, s), F.avg_pool2d(y * y, k, s)
        return ((square - mean * mean).clamp_min(0) + 1e-6).sqrt().flatten(1)


@torch.no_grad()
def contrast_targets(images: list[torch.Tensor]) -> torch.Tensor:
    """Each style image's local-contrast quantiles ((1, 3, H, W) in [0, 1], any size): (S, CONTRAST_LEVELS)."""
    sorted_ = [local_contrast(img).sort(dim=1).values[:, None] for img in images]  # (1, 1, K) each
    return torch.cat([F.interpolate(q, size=CONTRAST_LEVELS, mode="linear", align_corners=True)[:, 0] for q in sorted_])


def contrast_error(output: torch.Tensor, targets: torch.Tensor, mix: torch.Tensor) -> torch.Tensor:
    """Squared distance of each output's sorted local contrast from its styles' quantiles (mixed as ``mix`` (N, S)
    says), divided by the target's mean square: (N,). 0 when the output's windows are as flat or as busy as the
    painting's, in the same proportions."""
    with torch.autocast(output.device.type, enabled=False):
        c = local_contrast(output).sort(dim=1).values  # (N, K)
        t = mix.float() @ targets.float()  # (N, LEVELS)
        t = F.interpolate(t[:, None], size=c.shape[1], mode="linear", align_corners=True)[:, 0]  # (N, K)
        return (c - t).pow(2).mean(1) / t.pow(2).mean(1).clamp_min(1e-12)


def style_key(layer: str, scale: int) -> str:
    """The name of a style layer's statistics at a scale (``LossRecipe.style_scales``): the layer's own name at
    full size, ``relu1_1_x1`` for relu1_1 on the images 2x2-averaged once, and so on."""
    return layer if scale == 0 else f"{layer}_x{scale}"


def style_keys(recipe: LossRecipe) -> tuple[str, ...]:
    """Every (layer, scale) the recipe's style statistics are matched at, named by :func:`style_key`."""
    return tuple(style_key(layer, k) for k in recipe.style_scales for layer in recipe.style_layers)


def at_scales(vgg: VGGFeatures, image: torch.Tensor, recipe: LossRecipe) -> dict[str, torch.Tensor]:
    """The loss network's style features of ``image`` at each of the recipe's style scales, by
    :func:`style_key`: what :func:`targets_of` and :func:`samples_of` take for a multi-scale recipe."""
    out: dict[str, torch.Tensor] = {}
    for k in recipe.style_scales:
        feats = vgg(F.avg_pool2d(image, 2**k) if k else image, recipe.style_layers)
        out.update({style_key(layer, k): v for layer, v in feats.items()})
    return out


SATURATION = 4.0  # |logit| beyond which sigmoid(logit) is within 2% of 0 or 1


class PerceptualLoss(nn.Module):
    """Style + content + TV (+ structure) loss against fixed style targets.

    ``style_targets[layer]`` is (S, ...): one target statistic per style (see :func:`style_targets`). At each
    step, ``style`` (N, S) says which mix of styles each output is trained for; its target is the same mix of
    the targets, and its style weight the same mix of ``style_weight`` (a number, or one weight per style:
    a multi-style model can train each style at its own strength).

    The outputs may be several networks' results for the same content crops (a bank of models trained at
    once): with N outputs for B crops, output ``i`` is compared with crop ``i % B``, whose loss-network
    features are computed once.
    """

    def __init__(
        self,
        vgg: VGGFeatures,
        recipe: LossRecipe,
        style_targets: dict[str, torch.Tensor],
        style_weight: float | torch.Tensor,
        samples: dict[str, torch.Tensor] | None = None,
        contrast: torch.Tensor | None = None,
    ) -> None:
        super().__init__()
        self.vgg = vgg
        self.recipe = recipe
        self.style_layers = recipe.style_layers
        self.layers = tuple(dict.fromkeys((*recipe.style_layers, recipe.content_layer)))
        self.keys = style_keys(recipe)
        first = style_targets[self.keys[0]]
        num_styles = len(first)
        weights = torch.as_tensor(style_weight, dtype=torch.float32, device=first.device).reshape(-1)
        if weights.numel() == 1:
            weights = weights.expand(num_styles)
        if weights.numel() != num_styles:
            raise ValueError(f"style_weight needs one value or {num_styles}, got {weights.numel()}")
        self.register_buffer("style_weights", weights.clone())  # (S,)
        for key in self.keys:
            if key not in style_targets:
                raise ValueError(f"no {key} targets: a recipe with style_scales needs them at every scale (at_scales)")
            target = style_targets[key]
            if target.shape[-2] != target.shape[-1] + (recipe.style_stat == "meancov"):
                raise ValueError(
                    f"the {key} targets are not {recipe.style_stat} statistics: "
                    f"make them with style_targets(..., stat={recipe.style_stat!r})"
                )
            self.register_buffer(f"target_{key}", target.float())
        if recipe.contrast_weight > 0:
            if contrast is None:
                raise ValueError("the local-contrast term needs the paintings' quantiles: see contrast_targets()")
            self.register_buffer("contrast_targets", contrast.float().to(first.device))  # (S, CONTRAST_LEVELS)
        if self.recipe.uses_samples:
            if samples is None:
                raise ValueError("the recipe's sliced or contextual term needs feature samples: see style_samples()")
            gen = torch.Generator().manual_seed(0)
            for key in self.keys:
                self.register_buffer(f"samples_{key}", samples[key].float())  # (S, C, M)
            if recipe.sliced_weight > 0:
                for layer in self.style_layers:  # one set of directions a layer, shared by its scales
                    c = samples[style_key(layer, recipe.style_scales[0])].shape[1]
                    self.register_buffer(f"directions_{layer}", torch.randn(c, c, generator=gen).to(first.device))
            self.register_buffer("positions", torch.rand(SLICED_POSITIONS, generator=gen).to(first.device))
            self._normalize_directions()

    @torch.no_grad()
    def redraw(self, generator: torch.Generator) -> None:
        """New random directions and positions for the sliced Wasserstein and contextual terms (nothing without
        them), drawn from ``generator`` (on this loss's device): a training run calls this before every step with
        its own seeded, checkpointed generator, so a run repeats from its seed and a resumed run continues exactly.
        The draws fill buffers in place: a step captured in a CUDA graph reads the new values."""
        if not self.recipe.uses_samples:
            return
        if self.recipe.sliced_weight > 0:
            for layer in self.style_layers:
                getattr(self, f"directions_{layer}").normal_(generator=generator)
        self.positions.uniform_(generator=generator)
        self._normalize_directions()

    def _normalize_directions(self) -> None:
        if self.recipe.sliced_weight <= 0:
            return
        for layer in self.style_layers:
            d = getattr(self, f"directions_{layer}")  # (C, P = C)
            d.div_(d.norm(dim=0, keepdim=True).clamp_min(1e-12))  # unit columns

    def forward(
        self, output: torch.Tensor, content: torch.Tensor, style: torch.Tensor, logits: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Returns (total, style_loss, content_loss); output (N, 3, H, W) and content (B, 3, H, W) in [0, 1],
        N a multiple of B; style (N, S).

        ``logits``, the network's pre-sigmoid output, feeds the saturation penalty when the recipe has one.
        The style loss returned is the unweighted mean over outputs (what progress reports show).
        """
        r = self.recipe
        repeats = len(output) // len(content)
        with torch.no_grad():
            target = self.vgg(content, (r.content_layer,))[r.content_layer]
            target = target.repeat(repeats, 1, 1, 1) if repeats > 1 else target
        feats = self.vgg(output, self.layers)

        diff = feats[r.content_layer].float() - target.float()
        content_loss = diff.pow(2).mean()
        if r.normalized:
            content_loss = content_loss / target.float().pow(2).mean().clamp_min(1e-8)

        per_sample = output.new_zeros(len(output), dtype=torch.float32)  # (N,)
        for k in r.style_scales:
            # k > 0: the output 2x2-averaged k times, against the painting's targets made the same way (at_scales)
            scaled = feats if k == 0 else self.vgg(F.avg_pool2d(output, 2**k), self.style_layers)
            for layer, w in zip(self.style_layers, r.style_layer_weights, strict=True):
                key = style_key(layer, k)
                g = style_statistic(tiles(scaled[layer], r.style_grid), r.style_stat)  # (N * G, C(+1), C), G tiles
                g = g.reshape(len(output), -1, *g.shape[1:])  # (N, G, C(+1), C)
                t = (style[:, :, None, None] * getattr(self, f"target_{key}")[None]).sum(1)  # (N, C(+1), C)
                if r.normalized:
                    err = (g - t[:, None]).pow(2).sum(dim=(2, 3)).mean(1) / t.pow(2).sum(dim=(1, 2)).clamp_min(1e-12)
                else:
                    err = (g - t[:, None]).pow(2).mean(dim=(1, 2, 3))  # (N,): the PyTorch example's mse_loss
                if r.sliced_weight > 0:
                    samples, directions = getattr(self, f"samples_{key}"), getattr(self, f"directions_{layer}")
                    sliced = sliced_error(scaled[layer], samples, style, directions, self.positions)
                    err = err + r.sliced_weight * sliced
                if r.contextual_weight > 0 and layer in r.contextual_layers:
                    # against the output's main style: nearest neighbours have no mix (a blend matches its larger part)
                    samples = getattr(self, f"samples_{key}")
                    contextual = contextual_error(
                        scaled[layer], samples, style.argmax(1), self.positions, r.contextual_bandwidth
                    )
                    err = err + r.contextual_weight * contextual
                per_sample = per_sample + w * err
        if r.contrast_weight > 0:
            per_sample = per_sample + r.contrast_weight * contrast_error(output, self.contrast_targets, style)
        style_loss = per_sample.mean()
        weighted = (per_sample * (style.float() @ self.style_weights)).mean()

        tv = total_variation(output.float())
        total = r.content_weight * content_loss + weighted + r.tv_weight * tv
        if r.structure_weight > 0:
            # Scaled like the style weight (the recipe's value is at strength 5): the guard grows with the pull.
            photos = content.repeat(repeats, 1, 1, 1) if repeats > 1 else content
            scale = (style.float() @ self.style_weights) / max(r.style_weight, 1e-12)  # (N,): the strengths
            total = total + r.structure_weight * (structure_error(output, photos, r.structure_scales) * scale).mean()
        if logits is not None and r.saturation_weight > 0:
            total = total + r.saturation_weight * (logits.float().abs() - SATURATION).clamp_min(0).pow(2).mean()
        return total, style_loss, content_loss


@torch.no_grad()
def style_targets(
    vgg: VGGFeatures, images: list[torch.Tensor], layers: tuple[str, ...], stat: str = "gram"
) -> dict[str, torch.Tensor]:
    """Target statistics for each style image ((1, 3, H, W) in [0, 1], any size): layer -> (S, ...)."""
    return targets_of([vgg(img, layers) for img in images], layers, stat)


def targets_of(per_style: list[dict[str, torch.Tensor]], layers: tuple[str, ...], stat: str) -> dict[str, torch.Tensor]:
    """:func:`style_targets` from the style images' loss-network features, already computed."""
    return {layer: torch.cat([style_statistic(f[layer], stat) for f in per_style]) for layer in layers}


@torch.no_grad()
def style_samples(
    vgg: VGGFeatures, images: list[torch.Tensor], layers: tuple[str, ...], count: int = SLICED_SAMPLES, seed: int = 0
) -> dict[str, torch.Tensor]:
    """Each style image's features at ``count`` random positions (with replacement; seeded), for the sliced
    Wasserstein term: layer -> (S, C, count)."""
    return samples_of([vgg(img, layers) for img in images], layers, count, seed)


def samples_of(
    per_style: list[dict[str, torch.Tensor]], layers: tuple[str, ...], count: int = SLICED_SAMPLES, seed: int = 0
) -> dict[str, torch.Tensor]:
    """:func:`style_samples` from the style images' loss-network features, already computed."""
    gen = torch.Generator().manual_seed(seed)
    out: dict[str, list[torch.Tensor]] = {layer: [] for layer in layers}
    for feats in per_style:
        for layer in layers:
            f = feats[layer][0].float().flatten(1)  # (C, H*W)
            idx = torch.randint(f.shape[1], (count,), generator=gen).to(f.device)
            out[layer].append(f[:, idx])
    return {layer: torch.stack(v) for layer, v in out.items()}
