"""The model for the visitor's browser: the webcam runs it in the page with ONNX Runtime Web (issue 18).

A camera frame then never leaves the visitor's device and costs the server nothing; the server only hands
out this file, once per model. The graph is the frame engine's whole CPU pass (:mod:`studio.infer.frames`),
so the page shows what the server's stream would:

* input ``image``: float32 RGB (1, 3, H, W), values 0..1, H and W multiples of 4 and at least
  :data:`MIN_FRAME_SIDE` (the page scales camera frames so; the graph does not pad);
* input ``style_weights``: float32 (1, S), one weight per style, normalised to sum 1 inside the graph
  (one-hot picks a style, others blend: Dumoulin et al. 2017), so a new blend needs no new file;
* input ``intensity``: float32 (1,), 0..1, 1 = fully stylized, 0 = the camera frame;
* input ``preserve_color``: float32 (1,), 1 keeps the frame's colours (luminance from the style, chrominance
  from the frame; Gatys et al. 2016), 0 does not; values between mix the two;
* output ``stylizedImage``: float32 RGB (1, 3, H, W), 0..1; the page rounds it to bytes as the server does.

The network is rewritten as the CPU frame engine runs it (sub-pixel decoder, norms folded per style:
``use_subpixel_decoder``, ``fold_norms``), the same sums in a form ONNX Runtime's CPU kernels run faster,
and exported by the frame engine's ``quick_onnx`` (under a second: a user waits for this file when they pick
a style).
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from studio.config import ModelConfig
from studio.errors import StudioError
from studio.infer.frames import fold_norms, quick_onnx, use_subpixel_decoder
from studio.infer.stylize import RGB2YIQ
from studio.io.fileio import atomic_path
from studio.nn.networks import TransformerNet

MIN_FRAME_SIDE = 64  # the network's 5x5/9x9 reflection pads need maps of a few pixels after two halvings
OPSET = 17  # ONNX Runtime Web 1.30 runs opsets up to 21; 17 has every op used here
INPUTS = ("image", "style_weights", "intensity", "preserve_color")
OUTPUT = "stylizedImage"


class WebWrapper(nn.Module):
    """What the browser's graph computes: ``forward(image, style_weights, intensity, preserve_color)``, see the
    module docstring; the same steps as the frame engine's pass (network, colour preservation, intensity)."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net
        yiq = RGB2YIQ.clone()
        # 1x1 convolutions for the colour transforms: the plainest op every ONNX Runtime backend runs
        self.register_buffer("to_yiq", yiq[:, :, None, None])  # (3, 3, 1, 1)
        self.register_buffer("from_yiq", torch.linalg.inv(yiq)[:, :, None, None])

    def forward(
        self, image: torch.Tensor, style_weights: torch.Tensor, intensity: torch.Tensor, preserve_color: torch.Tensor
    ) -> torch.Tensor:
        style = style_weights / style_weights.sum(dim=1, keepdim=True)  # (1, S)
        y = self.net(image, style)  # (1, 3, H, W)
        if getattr(self.net, "output", "linear") != "sigmoid":
            # A sigmoid output is in 0..1 already; and ONNX Runtime Web 1.30's WebGPU backend computes
            # Conv -> Sigmoid -> Clip wrongly (as if the sigmoid were not there; found with SwiftShader's WebGPU)
            y = y.clamp(0.0, 1.0)
        yiq_y, yiq_x = F.conv2d(y, self.to_yiq), F.conv2d(image, self.to_yiq)
        kept = F.conv2d(torch.cat([yiq_y[:, :1], yiq_x[:, 1:]], dim=1), self.from_yiq).clamp(0.0, 1.0)
        y = y + (kept - y) * preserve_color  # preserve_color is 0 or 1 from the page
        return image + (y - image) * intensity


def web_network(net: TransformerNet) -> nn.Module:
    """A copy of ``net`` as the browser runs it: sub-pixel decoder and folded norms, CPU, eval mode."""
    copied = copy.deepcopy(net).to("cpu").eval()
    use_subpixel_decoder(copied)
    fold_norms(copied)
    return copied


def model_key(net: TransformerNet, config: ModelConfig) -> str:
    """A name for the browser's file of this network: a hash of its config and weights (the file is served
    by this name, so a visitor cannot guess another user's model from it)."""
    digest = hashlib.sha256(json.dumps(config.network.__dict__, sort_keys=True, default=str).encode())
    for name, tensor in sorted(net.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().to("cpu", torch.float32).contiguous().numpy().tobytes())
    return digest.hexdigest()[:24]


def export_web(net: TransformerNet, config: ModelConfig, folder: str | os.PathLike[str]) -> Path:
    """The browser's ONNX file of ``net`` in ``folder``, named by :func:`model_key`: written atomically the
    first time, then found again. Returns its path."""
    folder = Path(folder)
    path = folder / f"{model_key(net, config)}.onnx"
    if path.is_file():
        os.utime(path)  # recently used: a cache sweep (oldest first) keeps it
        return path
    wrapper = WebWrapper(web_network(net)).eval()
    side = 64
    args = (torch.rand(1, 3, side, side), torch.ones(1, config.network.num_styles), torch.ones(1), torch.zeros(1))
    try:
        axes = {"image": {2: "height", 3: "width"}, OUTPUT: {2: "height", 3: "width"}}
        graph = quick_onnx(wrapper, args, list(INPUTS), [OUTPUT], axes, OPSET)
    except Exception as exc:  # the exporter's errors are internal: one line for the user
        raise StudioError(f"could not make the browser's model file: {type(exc).__name__}: {exc}") from None
    with atomic_path(path) as tmp:
        tmp.write_bytes(graph)
    return path


def sweep(folder: str | os.PathLike[str], keep: int) -> int:
    """Remove all but the ``keep`` most recently used files of ``folder``; returns how many were removed."""
    files = sorted(Path(folder).glob("*.onnx"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in files[keep:]:
        old.unlink(missing_ok=True)
    return len(files[keep:])
