"""Exporting style models for other runtimes: ONNX here, Core ML in :mod:`studio.export.coreml`.

The exported graph wraps the network so that apps need no pre- or post-processing of their own:

* input ``image``: float32 RGB, shape (1, 3, H, W), values 0..1, any H and W from ``min_size`` to
  ``max_size`` (dynamic axes); it is reflection-padded to a multiple of 4 inside the graph and the result is
  cropped back, so the output always has the input's size;
* input ``style_weights`` (multi-style models only): float32 (1, S), one weight per style; the graph
  normalises them to sum to 1, so one-hot selects a style and other weights blend (conditional instance norm);
* output ``stylizedImage``: float32 RGB (1, 3, H, W), clamped to 0..1.

The ONNX file's metadata holds the studio model config (style names, strength, density, use case,
iterations, package version), a description and the tensor conventions. :func:`check_onnx` runs the file
with onnxruntime on a random image and returns the largest difference from PyTorch.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from studio.config import ModelConfig
from studio.errors import StudioError
from studio.export.metadata import ExportMetadata
from studio.io.fileio import atomic_path
from studio.nn.networks import TransformerNet

MIN_SIDE = 64
DESCRIPTION = "Style Studio style-transfer model: image (1,3,H,W) RGB 0..1 -> stylizedImage (1,3,H,W) RGB 0..1"


@contextlib.contextmanager
def on_cpu(net: TransformerNet) -> Iterator[TransformerNet]:
    """The network on the CPU in eval mode for the duration; then back on its device."""
    device = next(net.parameters()).device
    try:
        yield net.to("cpu").eval()
    finally:
        net.to(device)


class OnnxWrapper(nn.Module):
    """What the ONNX graph computes: the network plus the padding, style-weight normalisation and clamping an
    app would otherwise do. ``forward(image, style_weights=None)``: (1, 3, H, W) RGB 0..1 and (1, S) weights
    (None: the first style) -> (1, 3, H, W) RGB 0..1, any H and W."""

    def __init__(self, net: TransformerNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, image: torch.Tensor, style_weights: torch.Tensor | None = None) -> torch.Tensor:
        h, w = image.shape[-2], image.shape[-1]
        x = F.pad(image, (0, (4 - w % 4) % 4, 0, (4 - h % 4) % 4), mode="reflect")  # (1, 3, H4, W4)
        if style_weights is None:
            style = self.net.default_style[None]  # (1, S)
        else:
            style = style_weights / style_weights.sum(dim=1, keepdim=True)
        y = self.net(x, style)
        return y[:, :, :h, :w].clamp(0.0, 1.0)


def _check_sizes(min_size: int, max_size: int) -> None:
    for name, value in (("min_size", min_size), ("max_size", max_size)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise StudioError(f"{name} must be a whole number of pixels, got {value!r}")
    if min_size < MIN_SIDE:
        raise StudioError(f"min_size must be at least {MIN_SIDE} px (the network's receptive field), got {min_size}")
    if max_size < min_size:
        raise StudioError(f"max_size ({max_size}) must not be below min_size ({min_size})")


def export_onnx(
    net: TransformerNet,
    config: ModelConfig,
    path: str | os.PathLike[str],
    *,
    min_size: int = MIN_SIDE,
    max_size: int = 4096,
    opset: int = 18,
    metadata: ExportMetadata | None = None,
) -> Path:
    """Write ``net`` (whose config is ``config``) as an ONNX file with dynamic height and width, atomically;
    returns the path. ``metadata``: author, licence, version, description (default: :class:`ExportMetadata`)."""
    import onnx  # here, not at the top: heavy, and only exports need it

    path = Path(path)
    if path.suffix != ".onnx":
        raise StudioError(f"ONNX files end in .onnx, got {path.name!r}")
    _check_sizes(min_size, max_size)
    if isinstance(opset, bool) or not isinstance(opset, int) or opset < 17:
        raise StudioError(f"opset must be 17 or newer, got {opset!r}")
    metadata = metadata or ExportMetadata()
    num_styles = config.network.num_styles
    side = max(min_size, min(256, max_size))
    args: tuple[torch.Tensor, ...] = (torch.rand(1, 3, side, side),)
    height = torch.export.Dim("height", min=min_size, max=max_size)
    width = torch.export.Dim("width", min=min_size, max=max_size)
    shapes: dict[str, object] = {"image": {2: height, 3: width}}
    if num_styles > 1:
        args += (torch.ones(1, num_styles),)
        shapes["style_weights"] = None
    with on_cpu(net) as cpu_net, atomic_path(path) as tmp:
        torch.onnx.export(
            OnnxWrapper(cpu_net).eval(),
            args,
            str(tmp),
            dynamo=True,
            opset_version=opset,
            input_names=list(shapes),
            output_names=["stylizedImage"],
            dynamic_shapes=shapes,
            external_data=False,
            verbose=False,
        )
        proto = onnx.load(str(tmp))
        proto.doc_string = f"{metadata.describe(config)}. {DESCRIPTION}"
        proto.producer_name = "style-studio"
        proto.producer_version = config.package_version
        for key, value in onnx_properties(config, metadata, min_size, max_size).items():
            proto.metadata_props.add(key=key, value=value)
        onnx.checker.check_model(proto)
        onnx.save(proto, str(tmp))
    return path


def onnx_properties(config: ModelConfig, metadata: ExportMetadata, min_size: int, max_size: int) -> dict[str, str]:
    """The ONNX file's ``metadata_props``: who made it, the studio config and the tensors' conventions."""
    props = {
        "author": metadata.author,
        "license": metadata.license,
        "version": metadata.version,
        "studio_config": config.to_json(),
        "style_names": json.dumps(list(config.style_names)),
        "use_case": config.use_case,
        "image": f"float32 RGB (1, 3, H, W), values 0..1, {min_size} <= H, W <= {max_size}",
        "stylizedImage": "float32 RGB (1, 3, H, W), values 0..1",
    }
    num_styles = config.network.num_styles
    if num_styles > 1:
        props["style_weights"] = f"float32 (1, {num_styles}): one weight per style, normalised to sum 1"
    return props


def check_onnx(path: str | os.PathLike[str], net: TransformerNet, height: int = 131, width: int = 97) -> float:
    """Largest absolute difference between onnxruntime running the file and PyTorch running ``net`` (the
    network it was exported from) on a random image (values 0..1)."""
    import onnxruntime as ort  # here, not at the top: heavy, and only checks need it

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    image = rng.random((1, 3, height, width), dtype=np.float32)
    feeds = {"image": image}
    weights = None
    num_styles = net.config.num_styles
    if num_styles > 1:
        weights = rng.random((1, num_styles), dtype=np.float32) + 0.1
        feeds["style_weights"] = weights
    out = session.run(["stylizedImage"], feeds)[0]
    with on_cpu(net) as cpu_net, torch.no_grad():
        style = None if weights is None else torch.from_numpy(weights)
        ref = OnnxWrapper(cpu_net)(torch.from_numpy(image), style).numpy()
    if out.shape != ref.shape:
        raise StudioError(f"ONNX output shape {out.shape} differs from PyTorch's {ref.shape}")
    return float(np.abs(out - ref).max())
