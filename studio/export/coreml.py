"""Core ML export: an ``.mlpackage`` (ML Program, iOS 16 / macOS 13+) or an ``.mlmodel`` (neural network, iOS 13+).

Both take and give images the way Create ML's style-transfer models do, so apps can drop them in:

* input ``image``: RGB image. An ``.mlpackage`` accepts a range of sizes (default 64-2048 px on each side),
  a list of enumerated sizes, or one fixed size; an ``.mlmodel`` has one fixed size (default 512 x 512, as
  Create ML), because the neural network format cannot have a flexible image *output*;
* input ``index`` (multi-style models only): float32 vector (S,), one weight per style. One-hot selects a
  style, other weights blend the styles' instance-norm parameters (Dumoulin et al. 2017); the model divides
  by the sum, so weights need not add up to 1. The name and shape are Turi Create's, whose multi-style
  exports apps already use;
* output ``stylizedImage``: RGB image of the input's size (the network's output clamped to 0-255).

Sizes that are not a multiple of 4: a fixed size is reflection-padded to one inside the model and cropped
back, exactly like :meth:`StyleModel.stylize`. Flexible sizes cannot be padded by an amount computed at run
time (Core ML has no dynamic reflection padding), so the network runs on the image as it is: its stride-2
convolutions round up, and the result is cropped to the input's size. At multiples of 4 the two agree
exactly; otherwise they differ only in the last rows and columns.

Precision (``precision``): ``"mixed"`` (default) stores weights in fp16 and computes in fp16, except
instance normalisation, which stays fp32: on real photos the squared deviations it sums overflow fp16
(measured by ``bench/coreml_check.py``; see ``bench/RESULTS.md``, "Core ML precision").
``"float16"`` runs everything in fp16 (all of it can run on the Neural Engine; risks that overflow);
``"float32"`` keeps everything fp32 (twice the size). An ``.mlmodel`` stores fp16 weights unless
``"float32"``; the neural network runtime picks its own compute precision.

Checking without macOS: :func:`check_coreml` runs a saved ``.mlpackage`` with :mod:`studio.export.coreml_reference`
(the MIL program read back from the file, op by op) and an ``.mlmodel`` by running its layers, and compares
each with PyTorch.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from studio.config import ModelConfig
from studio.errors import StudioError
from studio.export.coreml_reference import load_program, run_neural_network, run_program
from studio.export.metadata import ExportMetadata
from studio.export.onnx import MIN_SIDE, on_cpu
from studio.io.fileio import atomic_dir, atomic_path
from studio.nn.networks import TransformerNet

FORMATS = {".mlpackage": "mlprogram", ".mlmodel": "neuralnetwork"}
PRECISIONS = ("mixed", "float16", "float32")
DEFAULT_RANGE = (MIN_SIDE, 2048)
DEFAULT_FIXED = 512
MAX_SIDE = 16384
Size = int | tuple[int, int]


class CoreMLWrapper(nn.Module):
    """What the Core ML model computes: the network with Core ML's image conventions, RGB 0..255 in and out,
    the output cropped to the input's size. ``fixed``: (height, width) of a fixed-size model, which is
    reflection-padded to a multiple of 4 like :meth:`studio.StyleModel.stylize`; None for flexible sizes.
    ``forward(image, index=None)``: (1, 3, H, W) and (S,) style weights (None: the first style)."""

    def __init__(self, net: TransformerNet, fixed: tuple[int, int] | None) -> None:
        super().__init__()
        self.net = net
        self.fixed = fixed

    def forward(self, image: torch.Tensor, index: torch.Tensor | None = None) -> torch.Tensor:
        x = image / 255.0
        if self.fixed is not None:
            h, w = self.fixed
            pad_w, pad_h = (4 - w % 4) % 4, (4 - h % 4) % 4
            if pad_w or pad_h:
                x = F.pad(x, (0, pad_w, 0, pad_h), mode="reflect")
        else:  # run-time size: no dynamic padding in Core ML, so run as is and crop (see module doc)
            h, w = image.shape[-2], image.shape[-1]
        style = self.net.default_style[None] if index is None else (index / index.sum().clamp_min(1e-6))[None]
        y = self.net(x, style)  # (1, 3, >=H, >=W)
        return (y[:, :, :h, :w] * 255.0).clamp(0.0, 255.0)


def _pair(value: object, name: str) -> tuple[int, int]:
    """An image size as (height, width) from 512, (512, 384) or [512, 384]; checked against the limits."""
    if isinstance(value, int) and not isinstance(value, bool):
        pair: tuple[object, ...] = (value, value)
    elif isinstance(value, tuple | list) and len(value) == 2:
        pair = tuple(value)
    else:
        raise StudioError(f"{name} must be a side in pixels or a (height, width) pair, got {value!r}")
    for side in pair:
        if isinstance(side, bool) or not isinstance(side, int):
            raise StudioError(f"{name} must be whole numbers of pixels, got {value!r}")
        if not MIN_SIDE <= side <= MAX_SIDE:
            raise StudioError(f"{name} sides must be between {MIN_SIDE} and {MAX_SIDE} px, got {value!r}")
    return int(pair[0]), int(pair[1])


def _shape_spec(
    fmt: str, min_size: int | None, max_size: int | None, sizes: Sequence[Size] | None, size: Size | None
) -> tuple[str, Any]:
    """Validate the size arguments for a format: ("range", (lo, hi)), ("enumerated", [...]) or ("fixed", (h, w))."""
    ranged = min_size is not None or max_size is not None
    if fmt == "neuralnetwork":
        if ranged or sizes is not None:
            raise StudioError(
                "an .mlmodel (neural network format) has one fixed image size: give size= (default 512), "
                "or export an .mlpackage for flexible sizes"
            )
        return "fixed", _pair(DEFAULT_FIXED if size is None else size, "size")
    if sum((ranged, sizes is not None, size is not None)) > 1:
        raise StudioError("give one of: min_size/max_size (a range), sizes (enumerated) or size (fixed)")
    if size is not None:
        return "fixed", _pair(size, "size")
    if sizes is not None:
        if isinstance(sizes, str | bytes) or not isinstance(sizes, Sequence) or not sizes:
            raise StudioError(f"sizes must be a non-empty list of sizes, got {sizes!r}")
        pairs = list(dict.fromkeys(_pair(s, "sizes") for s in sizes))
        return ("fixed", pairs[0]) if len(pairs) == 1 else ("enumerated", pairs)
    lo = DEFAULT_RANGE[0] if min_size is None else min_size
    hi = DEFAULT_RANGE[1] if max_size is None else max_size
    for name, value in (("min_size", lo), ("max_size", hi)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise StudioError(f"{name} must be a whole number of pixels, got {value!r}")
    if lo < MIN_SIDE:
        raise StudioError(f"min_size must be at least {MIN_SIDE} px (the network's receptive field), got {lo}")
    if hi > MAX_SIDE:
        raise StudioError(f"max_size must be at most {MAX_SIDE} px, got {hi}")
    if hi < lo:
        raise StudioError(f"max_size ({hi}) must not be below min_size ({lo})")
    return "range", (lo, hi)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """coremltools prints progress bars and per-layer lines; a CLI export should print one line."""
    logger = logging.getLogger("coremltools")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            yield
    finally:
        logger.setLevel(level)


def _import_coremltools() -> Any:
    """coremltools, imported when first needed: it is heavy and only exports use it."""
    with warnings.catch_warnings(), _quiet():
        warnings.simplefilter("ignore")  # "torch X has not been tested": conversion is verified by our checks
        import coremltools as ct
    return ct


def export_coreml(
    net: TransformerNet,
    config: ModelConfig,
    path: str | os.PathLike[str],
    *,
    min_size: int | None = None,
    max_size: int | None = None,
    sizes: Sequence[Size] | None = None,
    size: Size | None = None,
    precision: str = "mixed",
    metadata: ExportMetadata | None = None,
) -> Path:
    """Write ``net`` (whose config is ``config``) as a Core ML ``.mlpackage`` or ``.mlmodel`` (chosen by the
    suffix), atomically; returns the path. Sizes: a range (``min_size``/``max_size``), enumerated ``sizes`` or
    one ``size`` (see the module's docstring); ``metadata``: author, licence, version, description."""
    path = Path(path)
    fmt = FORMATS.get(path.suffix)
    if fmt is None:
        raise StudioError(f"Core ML files end in .mlpackage or .mlmodel, got {path.name!r}")
    kind, shape = _shape_spec(fmt, min_size, max_size, sizes, size)
    if precision not in PRECISIONS:
        raise StudioError(f"precision must be one of {', '.join(PRECISIONS)}; got {precision!r}")
    metadata = metadata or ExportMetadata()
    ct = _import_coremltools()
    fixed = shape if kind == "fixed" else None
    example_hw = _example_size(kind, shape)
    num_styles = config.network.num_styles
    traced = _trace(net, fixed, example_hw, num_styles)
    inputs = _inputs(ct, _image_shape(ct, kind, shape, example_hw), num_styles)
    outputs = [ct.ImageType(name="stylizedImage", color_layout=ct.colorlayout.RGB)]
    with _quiet():
        mlmodel = ct.convert(traced, inputs=inputs, outputs=outputs, **_convert_options(ct, fmt, precision))
        if fmt == "neuralnetwork" and precision != "float32":
            from coremltools.models.neural_network import quantization_utils

            mlmodel = quantization_utils.quantize_weights(mlmodel, nbits=16)
    _describe(mlmodel, config, metadata, kind, shape)
    _save(ct, mlmodel, fmt, path)
    return path


def _example_size(kind: str, shape: Any) -> tuple[int, int]:
    """The size to trace at, which is also a flexible model's default: the fixed size, the first enumerated
    one, or 512 (kept inside the range)."""
    if kind == "fixed":
        return shape
    if kind == "enumerated":
        return shape[0]
    side = min(max(DEFAULT_FIXED, shape[0]), shape[1])
    return side, side


def _trace(net: TransformerNet, fixed: tuple[int, int] | None, hw: tuple[int, int], num_styles: int) -> Any:
    """The wrapped network traced with TorchScript on a random image of size ``hw``."""
    with on_cpu(net) as cpu_net:
        wrapper = CoreMLWrapper(cpu_net, fixed).eval()
        example = (torch.rand(1, 3, *hw) * 255,)
        if num_styles > 1:
            example += (torch.full((num_styles,), 1.0 / num_styles),)
        with torch.no_grad(), _quiet(), warnings.catch_warnings():
            # jit.trace is deprecated but is what coremltools converts best; instance_norm's input-size check
            # warns that it is traced as a constant, which is what we want.
            warnings.simplefilter("ignore", category=FutureWarning)
            warnings.simplefilter("ignore", category=torch.jit.TracerWarning)
            return torch.jit.trace(wrapper, example, check_trace=False)


def _image_shape(ct: Any, kind: str, shape: Any, example_hw: tuple[int, int]) -> Any:
    """The input image's shape in coremltools' terms: a range, enumerated shapes or one shape."""
    if kind == "range":
        lo, hi = shape
        return (1, 3, ct.RangeDim(lo, hi, default=example_hw[0]), ct.RangeDim(lo, hi, default=example_hw[1]))
    if kind == "enumerated":
        return ct.EnumeratedShapes(shapes=[(1, 3, h, w) for h, w in shape], default=(1, 3, *shape[0]))
    return (1, 3, *shape)


def _inputs(ct: Any, image_shape: Any, num_styles: int) -> list[Any]:
    """The model's inputs: ``image`` (RGB) and, for multi-style models, ``index`` (one weight per style)."""
    inputs = [ct.ImageType(name="image", shape=image_shape, color_layout=ct.colorlayout.RGB)]
    if num_styles > 1:
        inputs.append(ct.TensorType(name="index", shape=(num_styles,), dtype=np.float32))
    return inputs


def _convert_options(ct: Any, fmt: str, precision: str) -> dict[str, Any]:
    """``ct.convert``'s format, deployment target and (ML Program only) compute precision."""
    if fmt == "neuralnetwork":
        return {"convert_to": fmt, "minimum_deployment_target": ct.target.iOS13}
    compute = {
        "mixed": ct.transform.FP16ComputePrecision(op_selector=lambda op: op.op_type != "instance_norm"),
        "float16": ct.precision.FLOAT16,
        "float32": ct.precision.FLOAT32,
    }[precision]
    return {"convert_to": fmt, "minimum_deployment_target": ct.target.iOS16, "compute_precision": compute}


def _save(ct: Any, mlmodel: Any, fmt: str, path: Path) -> None:
    """Write the converted model atomically: an .mlmodel as one spec file, an .mlpackage as a folder."""
    spec = mlmodel.get_spec()
    if fmt == "neuralnetwork":
        with atomic_path(path) as tmp:
            ct.utils.save_spec(spec, str(tmp))
        return
    _output_range_like_input(spec)
    mlmodel = ct.models.MLModel(spec, weights_dir=mlmodel.weights_dir, skip_model_load=True)
    with atomic_dir(path) as tmp, _quiet():
        mlmodel.save(str(tmp))


def _describe(mlmodel: Any, config: ModelConfig, metadata: ExportMetadata, kind: str, shape: Any) -> None:
    """Author, licence, version, descriptions and the studio's own keys, as Xcode shows them."""
    mlmodel.author = metadata.author
    mlmodel.license = metadata.license
    mlmodel.version = metadata.version
    mlmodel.short_description = metadata.describe(config)
    if kind == "range":
        sizes = f"any size from {shape[0]} to {shape[1]} px on each side"
    elif kind == "enumerated":
        sizes = "one of " + ", ".join(f"{w}x{h}" for h, w in shape) + " (width x height)"
    else:
        sizes = f"{shape[1]}x{shape[0]} (width x height)"
    mlmodel.input_description["image"] = f"Image to stylize (RGB, {sizes})"
    mlmodel.output_description["stylizedImage"] = "Stylized image, the same size as the input"
    if config.network.num_styles > 1:
        names = ", ".join(f"{i}: {n}" for i, n in enumerate(config.style_names))
        mlmodel.input_description["index"] = (
            f"Style weights, one per style ({names}); one-hot selects a style, other weights blend styles "
            "(divided by their sum)"
        )
    mlmodel.user_defined_metadata.update(
        {
            "com.stylestudio.style_names": json.dumps(list(config.style_names)),
            "com.stylestudio.style_strength": str(config.style_strength),
            "com.stylestudio.style_density": str(config.style_density),
            "com.stylestudio.use_case": config.use_case,
            "com.stylestudio.iterations": str(config.iterations),
            "com.stylestudio.package_version": config.package_version,
            "com.stylestudio.config": config.to_json(),
        }
    )


def _output_range_like_input(spec: Any) -> None:
    """State the output image's size range as the input's (coremltools leaves it unbounded)."""
    source = spec.description.input[0].type.imageType
    target = spec.description.output[0].type.imageType
    target.width, target.height = source.width, source.height
    which = source.WhichOneof("SizeFlexibility")
    if which == "imageSizeRange":
        target.imageSizeRange.CopyFrom(source.imageSizeRange)
    elif which == "enumeratedSizes":
        target.enumeratedSizes.CopyFrom(source.enumeratedSizes)


def check_coreml(
    path: str | os.PathLike[str], net: TransformerNet, height: int | None = None, width: int | None = None
) -> float:
    """Largest difference (0..1 scale) between the saved file, run by :mod:`studio.export.coreml_reference`, and
    PyTorch running ``net`` (the network it was exported from) on a random image (and random style weights for
    multi-style models).

    ``height``/``width`` default to a size the file accepts (not a multiple of 4 where it is flexible).
    """
    path = Path(path)
    info = read_spec(path)
    h, w = height or info["example"][0], width or info["example"][1]
    rng = np.random.default_rng(0)
    image = (rng.random((1, 3, h, w), dtype=np.float32) * 255).round()
    feeds = {"image": image}
    weights = None
    num_styles = net.config.num_styles
    if num_styles > 1:
        weights = rng.random(num_styles, dtype=np.float32) + 0.1
        feeds["index"] = weights
    with _quiet():
        if info["format"] == "mlprogram":
            out = run_program(load_program(path), feeds)["stylizedImage"]
        else:
            out = run_neural_network(info["spec"], feeds)["stylizedImage"]
    with on_cpu(net) as cpu_net, torch.no_grad():
        style = None if weights is None else torch.from_numpy(weights)
        ref = CoreMLWrapper(cpu_net, info["fixed"])(torch.from_numpy(image), style).numpy()
    if out.shape != ref.shape:
        raise StudioError(f"Core ML output shape {out.shape} differs from PyTorch's {ref.shape}")
    return float(np.abs(out - ref).max()) / 255.0


def read_spec(path: str | os.PathLike[str]) -> dict[str, Any]:
    """What a saved Core ML file declares: format, spec version, inputs, outputs, sizes, ops and metadata."""
    ct = _import_coremltools()
    path = Path(path)
    with _quiet():
        mlmodel = ct.models.MLModel(str(path), skip_model_load=True)
    spec = mlmodel.get_spec()
    fmt = spec.WhichOneof("Type")
    image = spec.description.input[0].type.imageType
    flex = image.WhichOneof("SizeFlexibility")
    fixed: tuple[int, int] | None = None
    if flex == "imageSizeRange":
        r = image.imageSizeRange
        sizes: Any = {
            "height": (r.heightRange.lowerBound, r.heightRange.upperBound),
            "width": (r.widthRange.lowerBound, r.widthRange.upperBound),
        }
        lo = max(r.heightRange.lowerBound, r.widthRange.lowerBound)
        example = (min(lo + 67, r.heightRange.upperBound), min(lo + 33, r.widthRange.upperBound))
    elif flex == "enumeratedSizes":
        sizes = [(s.height, s.width) for s in image.enumeratedSizes.sizes]
        example = sizes[-1]
    else:
        sizes = fixed = (image.height, image.width)
        example = fixed
    meta = spec.description.metadata
    if fmt == "mlProgram":
        func = spec.mlProgram.functions["main"]
        ops = sorted({op.type for op in func.block_specializations[func.opset].operations})
        opset = func.opset
    else:
        ops = sorted({layer.WhichOneof("layer") for layer in spec.neuralNetwork.layers})
        opset = None
    return {
        "format": "mlprogram" if fmt == "mlProgram" else "neuralnetwork",
        "specification_version": spec.specificationVersion,
        "opset": opset,
        "inputs": {i.name: i.type.WhichOneof("Type") for i in spec.description.input},
        "outputs": {o.name: o.type.WhichOneof("Type") for o in spec.description.output},
        "input_descriptions": {i.name: i.shortDescription for i in spec.description.input},
        "output_descriptions": {o.name: o.shortDescription for o in spec.description.output},
        "color_space": ct.proto.FeatureTypes_pb2.ImageFeatureType.ColorSpace.Name(image.colorSpace),
        "sizes": sizes,
        "flexibility": flex or "fixed",
        "fixed": fixed,
        "example": example,
        "ops": ops,
        "author": meta.author,
        "license": meta.license,
        "version": meta.versionString,
        "description": meta.shortDescription,
        "user_defined": dict(meta.userDefined),
        "spec": spec,
    }
