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

from studio.errors import StudioError
from studio.io.fileio import atomic_path
from studio.model import StyleModel
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


class _Exportable(nn.Module):
    """The network plus the padding, style-weight normalisation and clamping an app would otherwise do."""

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


def check_metadata(
    model: StyleModel,
    *,
    author: str | None,
    license: str | None,
    version: str | None,
    description: str | None,
) -> dict[str, str]:
    """The descriptive fields every export carries, with defaults; each must be a one-line string if given."""
    given = {"author": author, "license": license, "version": version, "description": description}
    for name, value in given.items():
        if value is not None and (not isinstance(value, str) or "\n" in value or len(value) > 1000):
            raise StudioError(f"{name} must be one line of text (up to 1000 characters), got {value!r}")
    c = model.config
    styles = ", ".join(c.style_names)
    default_description = (
        f"Style transfer ({styles}): {c.use_case} model, style strength {c.style_strength:g}, "
        f"density {c.style_density}, {c.iterations} iterations; made with Style Studio"
    )
    return {
        "author": author if author is not None else "Style Studio user",
        "license": license if license is not None else "Unspecified: ask the model's author",
        "version": version if version is not None else "1.0",
        "description": description if description is not None else default_description,
    }


def _check_sizes(min_size: int, max_size: int) -> None:
    for name, value in (("min_size", min_size), ("max_size", max_size)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise StudioError(f"{name} must be a whole number of pixels, got {value!r}")
    if min_size < MIN_SIDE:
        raise StudioError(f"min_size must be at least {MIN_SIDE} px (the network's receptive field), got {min_size}")
    if max_size < min_size:
        raise StudioError(f"max_size ({max_size}) must not be below min_size ({min_size})")


def export_onnx(
    model: StyleModel,
    path: str | os.PathLike[str],
    *,
    min_size: int = MIN_SIDE,
    max_size: int = 4096,
    opset: int = 18,
    author: str | None = None,
    license: str | None = None,
    version: str | None = None,
    description: str | None = None,
) -> Path:
    """Write ``model`` as an ONNX file with dynamic height and width (atomically); returns the path."""
    import onnx

    path = Path(path)
    if path.suffix != ".onnx":
        raise StudioError(f"ONNX files end in .onnx, got {path.name!r}")
    _check_sizes(min_size, max_size)
    if isinstance(opset, bool) or not isinstance(opset, int) or opset < 17:
        raise StudioError(f"opset must be 17 or newer, got {opset!r}")
    info = check_metadata(model, author=author, license=license, version=version, description=description)
    side = max(min_size, min(256, max_size))
    image = torch.rand(1, 3, side, side)
    height = torch.export.Dim("height", min=min_size, max=max_size)
    width = torch.export.Dim("width", min=min_size, max=max_size)
    multi = model.num_styles > 1
    args: tuple[torch.Tensor, ...] = (image, torch.ones(1, model.num_styles)) if multi else (image,)
    shapes: dict[str, object] = {"image": {2: height, 3: width}}
    names = ["image"]
    if multi:
        shapes["style_weights"] = None
        names.append("style_weights")
    with on_cpu(model.network) as net, atomic_path(path) as tmp:
        torch.onnx.export(
            _Exportable(net).eval(),
            args,
            str(tmp),
            dynamo=True,
            opset_version=opset,
            input_names=names,
            output_names=["stylizedImage"],
            dynamic_shapes=shapes,
            external_data=False,
            verbose=False,
        )
        proto = onnx.load(str(tmp))
        proto.doc_string = f"{info['description']}. {DESCRIPTION}"
        proto.producer_name = "style-studio"
        proto.producer_version = model.config.package_version
        meta = {
            "author": info["author"],
            "license": info["license"],
            "version": info["version"],
            "studio_config": model.config.to_json(),
            "style_names": json.dumps(list(model.style_names)),
            "use_case": model.use_case,
            "image": f"float32 RGB (1, 3, H, W), values 0..1, {min_size} <= H, W <= {max_size}",
            "stylizedImage": "float32 RGB (1, 3, H, W), values 0..1",
        }
        if multi:
            meta["style_weights"] = f"float32 (1, {model.num_styles}): one weight per style, normalised to sum 1"
        for key, value in meta.items():
            proto.metadata_props.add(key=key, value=value)
        onnx.checker.check_model(proto)
        onnx.save(proto, str(tmp))
    return path


def check_onnx(path: str | os.PathLike[str], model: StyleModel, height: int = 131, width: int = 97) -> float:
    """Largest absolute difference between onnxruntime and PyTorch on a random image (values 0..1)."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    image = rng.random((1, 3, height, width), dtype=np.float32)
    feeds = {"image": image}
    weights = None
    if model.num_styles > 1:
        weights = rng.random((1, model.num_styles), dtype=np.float32) + 0.1
        feeds["style_weights"] = weights
    out = session.run(["stylizedImage"], feeds)[0]
    with on_cpu(model.network) as net, torch.no_grad():
        ref = _Exportable(net)(torch.from_numpy(image), None if weights is None else torch.from_numpy(weights)).numpy()
    if out.shape != ref.shape:
        raise StudioError(f"ONNX output shape {out.shape} differs from PyTorch's {ref.shape}")
    return float(np.abs(out - ref).max())
