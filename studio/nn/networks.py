"""The feed-forward style transformation network.

Johnson et al. 2016, "Perceptual Losses for Real-Time Style Transfer and Super-Resolution": an encoder
(two stride-2 convolutions), residual blocks at 1/4 resolution and a decoder, trained once per style so
stylizing is a single forward pass. With the changes the field settled on since:

* Instance normalisation instead of batch norm (Ulyanov et al. 2016, "Instance Normalization: The Missing
  Ingredient for Fast Stylization"): contrast of the content image is normalised away per image.
* Conditional instance norm (Dumoulin et al. 2017, "A Learned Representation for Artistic Style"): every
  norm layer holds one (gamma, beta) pair per style; a model trained on N styles stylizes with any of them,
  and weights over styles blend them by mixing gamma and beta.
* Resize-convolution upsampling (Odena et al. 2016, "Deconvolution and Checkerboard Artifacts") instead of
  transposed convolutions, and reflection padding so borders carry no dark frame.

Turi Create's / Create ML's image model is this network with 32-64-128 channels and 5 residual blocks
(about 1.68 M parameters); the video use case uses 8-16-32 channels, 3 blocks and 5x5 edges (about 69 K).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from studio.config import NetworkConfig


class NormStatistics:
    """Instance-norm statistics of one pass through a network, kept per norm layer, to normalise later passes with.

    Tiled stylizing of a huge image must normalise every tile with the *whole image's* statistics, or each tile
    gets its own contrast and seams show: a pass over the whole image, downscaled, records them (while
    ``recording``), then every tile's pass uses them. One object per call, handed down the network's forward:
    nothing is stored on the network, so threads sharing one model never see each other's statistics.
    """

    def __init__(self) -> None:
        self.recording = True
        self._layers: dict[nn.Module, tuple[torch.Tensor, torch.Tensor]] = {}

    def of(self, layer: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(mean, var) to normalise ``layer``'s input ``x`` with: measured on ``x`` and kept while recording,
        else the ones kept for ``layer``."""
        if self.recording:
            self._layers[layer] = instance_mean_var(x)
            return self._layers[layer]
        if layer not in self._layers:
            raise RuntimeError("no statistics recorded for this layer: record a pass over the whole image first")
        return self._layers[layer]


def instance_mean_var(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per image and channel mean and (biased) variance of (B, C, H, W), in fp32: (B, C, 1, 1) each."""
    var, mean = torch.var_mean(x.float(), dim=(2, 3), keepdim=True, unbiased=False)
    return mean, var


class CondInstanceNorm(nn.Module):
    """Instance norm with one affine (gamma, beta) per style; style weights mix them.

    ``stats`` (a :class:`NormStatistics`) normalises with the statistics of another pass (tiled stylizing).
    ``fused = False`` takes the statistics by a general fp32 reduction instead of the fused kernel: the frame
    engine's fp16 copy does (see :mod:`studio.infer.frames`).
    """

    def __init__(self, channels: int, num_styles: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps
        self.gamma = nn.Parameter(torch.ones(num_styles, channels))
        self.beta = nn.Parameter(torch.zeros(num_styles, channels))
        self.fused = True
        # Training only: penalise normalised activations beyond this many standard deviations (see
        # TransformerNet.spike_penalty); None = off.
        self.spike_limit: float | None = None
        self.spike: torch.Tensor | None = None

    def forward(self, x: torch.Tensor, style: torch.Tensor, stats: NormStatistics | None = None) -> torch.Tensor:
        # x: (B, C, H, W); style: (B, S) weights over styles (rows sum to 1)
        # Mix the styles' affine parameters elementwise, not with a matmul: autocast would run a matmul in
        # bf16/fp16, and elementwise ops trace to every export format.
        gamma = (style[:, :, None] * self.gamma.float()[None]).sum(1)[:, :, None, None]  # (B, C, 1, 1)
        beta = (style[:, :, None] * self.beta.float()[None]).sum(1)[:, :, None, None]
        if stats is None and self.fused:
            # The fused kernel (one pass for statistics, one to normalise, fp32 accumulation) instead of
            # var_mean and a chain of elementwise ops: normalisation dominated the training step's memory
            # traffic.
            xhat = F.instance_norm(x, eps=self.eps)
            if self.spike_limit is not None and torch.is_grad_enabled():
                self.spike = xhat.float().abs().sub(self.spike_limit).clamp_min(0).pow(2).mean()
            if torch.jit.is_tracing():  # Core ML's converter has no addcmul
                return (xhat * gamma + beta).to(x.dtype)
            return torch.addcmul(beta.to(xhat.dtype), xhat, gamma.to(xhat.dtype)).to(x.dtype)
        mean, var = instance_mean_var(x) if stats is None else stats.of(self, x)
        scale = gamma * torch.rsqrt(var + self.eps)
        return (x.float() * scale + (beta - mean * scale)).to(x.dtype)


class ConvNormAct(nn.Module):
    """Reflection-padded convolution, conditional instance norm, optional ReLU."""

    def __init__(self, cin: int, cout: int, kernel: int, num_styles: int, stride: int = 1, act: bool = True) -> None:
        super().__init__()
        self.pad = nn.ReflectionPad2d(kernel // 2)
        self.conv = nn.Conv2d(cin, cout, kernel, stride=stride)
        self.norm = CondInstanceNorm(cout, num_styles)
        self.act = act

    def forward(self, x: torch.Tensor, style: torch.Tensor, stats: NormStatistics | None = None) -> torch.Tensor:
        x = self.norm(self.conv(self.pad(x)), style, stats)
        return F.relu(x) if self.act else x


class UpConv(ConvNormAct):
    """Nearest-neighbour 2x upsampling, then a convolution (Odena 2016: no checkerboard artifacts)."""

    def forward(self, x: torch.Tensor, style: torch.Tensor, stats: NormStatistics | None = None) -> torch.Tensor:
        return super().forward(F.interpolate(x, scale_factor=2.0, mode="nearest"), style, stats)


class ResidualBlock(nn.Module):
    def __init__(self, channels: int, num_styles: int) -> None:
        super().__init__()
        self.a = ConvNormAct(channels, channels, 3, num_styles)
        self.b = ConvNormAct(channels, channels, 3, num_styles, act=False)

    def forward(self, x: torch.Tensor, style: torch.Tensor, stats: NormStatistics | None = None) -> torch.Tensor:
        return x + self.b(self.a(x, style, stats), style, stats)


class TransformerNet(nn.Module):
    """RGB in [0, 1], (B, 3, H, W) with H and W multiples of 4 -> stylized RGB, same shape.

    ``output="sigmoid"`` squashes into [0, 1] (no clipping, so no dead gradients at the ends);
    ``"linear"`` is Johnson's unbounded output, clamped only when images are made.
    """

    def __init__(self, config: NetworkConfig, output: str = "sigmoid") -> None:
        super().__init__()
        c1, c2, c3 = config.channels
        s, k = config.num_styles, config.edge_kernel
        self.config = config
        self.output = output
        self.down = nn.ModuleList(
            [
                ConvNormAct(3, c1, k, s),  # (B, c1, H, W)
                ConvNormAct(c1, c2, 3, s, stride=2),  # (B, c2, H/2, W/2)
                ConvNormAct(c2, c3, 3, s, stride=2),  # (B, c3, H/4, W/4)
            ]
        )
        self.res = nn.ModuleList([ResidualBlock(c3, s) for _ in range(config.num_residual)])
        self.up = nn.ModuleList(
            [
                UpConv(c3, c2, 3, s),  # (B, c2, H/2, W/2)
                UpConv(c2, c1, 3, s),  # (B, c1, H, W)
            ]
        )
        self.head_pad = nn.ReflectionPad2d(k // 2)
        self.head = nn.Conv2d(c1, 3, k)  # (B, 3, H, W)
        # One-hot on style 0 unless told otherwise; a buffer so exports can trace a default.
        self.register_buffer("default_style", torch.eye(s)[0], persistent=False)

    def forward(
        self,
        x: torch.Tensor,
        style: torch.Tensor | None = None,
        return_logits: bool = False,
        stats: NormStatistics | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        # x: (B, 3, H, W) in [0, 1]; style: (B, S) or (S,) weights over styles, or None for style 0
        # return_logits: also return the head's raw output (training penalises saturated sigmoids)
        # stats: normalise with another pass's statistics (tiles of one image; see NormStatistics)
        if style is None:
            style = self.default_style
        if style.dim() == 1:
            style = style.expand(x.shape[0], -1)
        style = style.float()
        # Centre the input: the first norm layer removes the mean anyway, this just keeps the first conv's
        # activations symmetric for fp16 exports.
        h = x * 2.0 - 1.0
        for layer in self.down:
            h = layer(h, style, stats)
        for block in self.res:
            h = block(h, style, stats)
        for layer in self.up:
            h = layer(h, style, stats)
        y = self.head(self.head_pad(h))
        out = torch.sigmoid(y) if self.output == "sigmoid" else y + 0.5  # linear: clamped by the caller
        return (out, y) if return_logits else out

    def set_spike_limit(self, limit: float | None) -> None:
        for norm in self.norms():
            norm.spike_limit = limit
            norm.spike = None

    def spike_penalty(self) -> torch.Tensor:
        """Sum over norm layers of how far normalised activations exceed ``spike_limit`` (last forward).

        Karras et al. 2020 (StyleGAN2) traced "droplet" artifacts to instance normalisation: the generator
        plants a strong, localised spike that dominates a layer's statistics and so scales the rest of the
        map down. Penalising such outliers removes the incentive; natural features rarely exceed ~6 sigma.
        """
        spikes = [n.spike for n in self.norms() if n.spike is not None]
        return torch.stack(spikes).sum() if spikes else torch.zeros(())

    def norms(self) -> list[CondInstanceNorm]:
        return [m for m in self.modules() if isinstance(m, CondInstanceNorm)]

    def set_fused_norm(self, fused: bool) -> None:
        """Every norm layer's ``fused`` (see :class:`CondInstanceNorm`); for a private copy of the network."""
        for norm in self.norms():
            norm.fused = fused


def build_network(config: NetworkConfig, output: str = "sigmoid") -> TransformerNet:
    return TransformerNet(config, output=output)


def count_parameters(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())
