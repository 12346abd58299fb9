"""Perceptual losses: content, style (Gram matrices) and total variation.

* Style: Gatys et al. 2015 match Gram matrices (channel correlations) of VGG activations; Johnson et al.
  2016 use them as a training loss for a feed-forward net.
* Content: squared distance of one VGG layer's activations (Johnson's "feature reconstruction loss").
* Total variation: a small smoothness prior against high-frequency noise (Mahendran & Vedaldi 2015).

The studio recipe normalises each term (see :class:`studio.config.LossRecipe`): the style error of a layer
is divided by the squared norm of its target Gram and the content error by the squared norm of the
content features. That keeps every layer on one scale, which is what lets one set of weights work across
styles as different as a mosaic and a pale watercolour.
"""

from __future__ import annotations

import torch
from torch import nn

from .config import LossRecipe
from .lossnet import VGGFeatures


def gram(features: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (B, C, C) Gram matrix divided by C*H*W, computed in fp32 (TF32 on CUDA).

    Autocast is switched off here: in bf16 the sums over H*W positions would lose the small differences
    between Grams that the style loss is made of.
    """
    b, c, h, w = features.shape
    with torch.autocast(features.device.type, enabled=False):
        f = features.float().reshape(b, c, h * w)
        return torch.bmm(f, f.transpose(1, 2)) / (c * h * w)


def total_variation(x: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference of neighbouring pixels, (B, 3, H, W) -> scalar."""
    dh = (x[:, :, 1:, :] - x[:, :, :-1, :]).abs().mean()
    dw = (x[:, :, :, 1:] - x[:, :, :, :-1]).abs().mean()
    return dh + dw


SATURATION = 4.0  # |logit| beyond which sigmoid(logit) is within 2% of 0 or 1


class PerceptualLoss(nn.Module):
    """Style + content + TV loss against fixed style targets.

    ``style_grams[layer]`` is (S, C, C): one target Gram per style. At each step, ``style`` (B, S) says
    which mix of styles each sample is trained for; its target Gram is the same mix of the targets.
    """

    def __init__(
        self,
        vgg: VGGFeatures,
        recipe: LossRecipe,
        style_grams: dict[str, torch.Tensor],
        style_weight: float,
    ) -> None:
        super().__init__()
        self.vgg = vgg
        self.recipe = recipe
        self.style_weight = style_weight
        self.style_layers = recipe.style_layers
        self.layers = tuple(dict.fromkeys((*recipe.style_layers, recipe.content_layer)))
        for layer in self.style_layers:
            self.register_buffer(f"target_{layer}", style_grams[layer].float())

    def forward(
        self, output: torch.Tensor, content: torch.Tensor, style: torch.Tensor, logits: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Returns (total, style_loss, content_loss); output and content are (B, 3, H, W) in [0, 1].

        ``logits``, the network's pre-sigmoid output, feeds the saturation penalty when the recipe has one.
        """
        r = self.recipe
        with torch.no_grad():
            target = self.vgg(content, (r.content_layer,))[r.content_layer]
        feats = self.vgg(output, self.layers)

        diff = feats[r.content_layer].float() - target.float()
        content_loss = diff.pow(2).mean()
        if r.normalized:
            content_loss = content_loss / target.float().pow(2).mean().clamp_min(1e-8)

        style_loss = output.new_zeros((), dtype=torch.float32)
        for layer, w in zip(self.style_layers, r.style_layer_weights, strict=True):
            g = gram(feats[layer])  # (B, C, C)
            t = (style[:, :, None, None] * getattr(self, f"target_{layer}")[None]).sum(1)  # (B, C, C)
            if r.normalized:
                err = (g - t).pow(2).sum(dim=(1, 2)) / t.pow(2).sum(dim=(1, 2)).clamp_min(1e-12)  # (B,)
            else:
                err = (g - t).pow(2).mean(dim=(1, 2))  # (B,): the PyTorch example's mse_loss
            style_loss = style_loss + w * err.mean()

        tv = total_variation(output.float())
        total = r.content_weight * content_loss + self.style_weight * style_loss + r.tv_weight * tv
        if logits is not None and r.saturation_weight > 0:
            total = total + r.saturation_weight * (logits.float().abs() - SATURATION).clamp_min(0).pow(2).mean()
        return total, style_loss, content_loss


@torch.no_grad()
def style_targets(vgg: VGGFeatures, images: list[torch.Tensor], layers: tuple[str, ...]) -> dict[str, torch.Tensor]:
    """Target Grams for each style image ((1, 3, H, W) in [0, 1], any size): layer -> (S, C, C)."""
    per_style = [vgg(img, layers) for img in images]
    return {layer: torch.cat([gram(f[layer]) for f in per_style]) for layer in layers}
