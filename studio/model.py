"""A trained style model: stylize images, save it, load it.

A model file is one safetensors file: the network's weights, and in the safetensors header the JSON
:class:`~studio.config.ModelConfig` (format version, use case, style names, strength, density, iterations,
loss network, package version) under the key ``"studio"``. Loading reads the header first, checks the
format and version, rebuilds the network from the config and loads the weights strictly. Nothing is ever
unpickled.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from .config import ModelConfig, check_number
from .device import resolve_device
from .errors import StudioError
from .fileio import atomic_path
from .media import fit_size, from_array, open_image, save_image, to_array
from .networks import TransformerNet, build_network, count_parameters
from .stylize import blend, preserve_color, run_network

FORMAT_NAME = "style-studio-model"
StyleSpec = int | str | Sequence[float] | Mapping[int | str, float] | None


class StyleModel:
    """A feed-forward style network and its config. Make one with :func:`studio.create` or :func:`load`."""

    def __init__(self, net: TransformerNet, config: ModelConfig, device: str | torch.device = "cpu") -> None:
        self.config = config
        self.device = resolve_device(device)
        self._net = net.to(self.device).eval()

    # --- description ---------------------------------------------------------------------------------------
    @property
    def style_names(self) -> tuple[str, ...]:
        return self.config.style_names

    @property
    def num_styles(self) -> int:
        return self.config.network.num_styles

    @property
    def use_case(self) -> str:
        return self.config.use_case

    @property
    def num_parameters(self) -> int:
        return count_parameters(self._net)

    @property
    def network(self) -> TransformerNet:
        """The underlying torch module (for exports and benchmarks)."""
        return self._net

    def __repr__(self) -> str:
        c = self.config
        return (
            f"StyleModel(use_case={c.use_case!r}, styles={list(c.style_names)}, strength={c.style_strength}, "
            f"density={c.style_density}, iterations={c.iterations}, params={self.num_parameters:,})"
        )

    def to(self, device: str | torch.device) -> StyleModel:
        self.device = resolve_device(device)
        self._net.to(self.device)
        return self

    # --- styles ---------------------------------------------------------------------------------------------
    def style_vector(self, style: StyleSpec = None) -> torch.Tensor:
        """Weights over the model's styles, (S,), summing to 1.

        ``None`` = the first style; an index or a style name = that style; a list of S weights, or a mapping
        {index or name: weight}, blends styles (conditional instance norm, Dumoulin et al. 2017).
        """
        n = self.num_styles
        w = torch.zeros(n)
        if style is None:
            w[0] = 1.0
        elif isinstance(style, int | str) and not isinstance(style, bool):
            w[self._style_index(style)] = 1.0
        elif isinstance(style, Mapping):
            if not style:
                raise StudioError("style weights are empty")
            for key, value in style.items():
                w[self._style_index(key)] += _weight(key, value)
        elif isinstance(style, Sequence):
            if len(style) != n:
                raise StudioError(f"style weights need {n} values (one per style), got {len(style)}: {list(style)}")
            for i, value in enumerate(style):
                w[i] = _weight(i, value)
        else:
            raise StudioError(f"style must be an index, a name, a list or a mapping of weights; got {style!r}")
        total = float(w.sum())
        if total <= 0:
            raise StudioError(f"style weights must not all be zero: {style!r}")
        return w / total

    def _style_index(self, key: int | str) -> int:
        if isinstance(key, str):
            if key in self.style_names:
                return self.style_names.index(key)
            if key.isdigit():
                key = int(key)
            else:
                raise StudioError(f"unknown style {key!r}; this model has {', '.join(self.style_names)}")
        if isinstance(key, bool) or not isinstance(key, int) or not 0 <= key < self.num_styles:
            raise StudioError(f"style index must be 0..{self.num_styles - 1}, got {key!r}")
        return key

    # --- stylizing ------------------------------------------------------------------------------------------
    def stylize(
        self,
        images: Any,
        style: StyleSpec = None,
        *,
        max_size: int | None = None,
        intensity: float = 1.0,
        preserve_color: bool = False,
        out_dir: str | os.PathLike[str] | None = None,
        tile_size: int | None = None,
    ) -> Any:
        """Stylize one image or a list; returns the same kind it was given.

        ``images``: a PIL image, a numpy array (H, W[, 1|3|4], uint8/uint16/float), or a path to any image
        file (JPEG, PNG, WebP, TIFF, HEIC… with EXIF orientation applied), or a list of these. Paths give
        paths: the result is written to ``out_dir`` (default: beside the input) as ``<stem>-stylized.<ext>``.
        The size is kept unless ``max_size`` caps the longer side; alpha is kept; greyscale becomes colour.
        ``intensity`` 0..1 blends with the original; ``preserve_color`` keeps the original's colours
        (luminance-only transfer). Images larger than ``tile_size``² pixels are processed in seamless tiles.
        """
        check_number("intensity", intensity, 0.0, 1.0)
        if max_size is not None:
            fit_size(1, 1, max_size)  # validates
        if tile_size is not None and (isinstance(tile_size, bool) or not isinstance(tile_size, int) or tile_size < 128):
            raise StudioError(f"tile_size must be a whole number of pixels >= 128, got {tile_size!r}")
        vector = self.style_vector(style)
        if isinstance(images, list | tuple):
            return [
                self._stylize_one(i, vector, max_size, intensity, preserve_color, out_dir, tile_size) for i in images
            ]
        return self._stylize_one(images, vector, max_size, intensity, preserve_color, out_dir, tile_size)

    def _stylize_one(
        self,
        image: Any,
        vector: torch.Tensor,
        max_size: int | None,
        intensity: float,
        keep_color: bool,
        out_dir: str | os.PathLike[str] | None,
        tile_size: int | None,
    ) -> Any:
        if isinstance(image, str | os.PathLike):
            source = Path(image)
            like: Image.Image | np.ndarray = open_image(source)
        elif isinstance(image, Image.Image | np.ndarray):
            source, like = None, image
        else:
            raise StudioError(f"cannot stylize a {type(image).__name__}: give a PIL image, a numpy array or a path")
        rgb, alpha = to_array(like)
        h, w = rgb.shape[:2]
        nw, nh = fit_size(w, h, max_size)
        x = torch.from_numpy(rgb).permute(2, 0, 1)[None].to(self.device)  # (1, 3, H, W)
        if (nw, nh) != (w, h):
            x = torch.nn.functional.interpolate(x, size=(nh, nw), mode="bilinear", antialias=True, align_corners=False)
        y = run_network(self._net, x, vector[None].to(self.device), tile=tile_size)
        if keep_color:
            y = preserve_color(y, x)
        y = blend(y, x, intensity)
        result = from_array(y[0].permute(1, 2, 0).cpu().numpy(), alpha, like)
        if source is None:
            return result
        ext = source.suffix.lower() if source.suffix.lower() in (".jpg", ".jpeg", ".png", ".webp") else ".png"
        if alpha is not None:
            ext = ".png"
        folder = Path(out_dir) if out_dir is not None else source.parent
        return save_image(result, folder / f"{source.stem}-stylized{ext}")

    # --- files ----------------------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str], precision: str = "float32") -> Path:
        """Write the model as one safetensors file (atomically); returns the path.

        ``precision="float16"`` halves the file (the presets ship so); loading always computes in fp32.
        """
        from safetensors.torch import save_file

        path = Path(path)
        if path.suffix != ".safetensors":
            raise StudioError(f"model files end in .safetensors, got {path.name!r}")
        if precision not in ("float32", "float16"):
            raise StudioError(f"precision must be float32 or float16, got {precision!r}")
        dtype = torch.float16 if precision == "float16" else torch.float32
        state = {k: v.detach().to("cpu", dtype).contiguous() for k, v in self._net.state_dict().items()}
        with atomic_path(path) as tmp:
            save_file(state, str(tmp), metadata={"format": FORMAT_NAME, "studio": self.config.to_json()})
        return path

    def export_onnx(
        self,
        path: str | os.PathLike[str],
        *,
        min_size: int = 64,
        max_size: int = 4096,
        opset: int = 18,
        author: str | None = None,
        license: str | None = None,
        version: str | None = None,
        description: str | None = None,
    ) -> Path:
        """Write an ONNX model with dynamic height and width; see :mod:`studio.export` for its inputs."""
        from .export import export_onnx

        return export_onnx(
            self,
            path,
            min_size=min_size,
            max_size=max_size,
            opset=opset,
            author=author,
            license=license,
            version=version,
            description=description,
        )

    def export_coreml(
        self,
        path: str | os.PathLike[str],
        *,
        min_size: int | None = None,
        max_size: int | None = None,
        sizes: Sequence[int | tuple[int, int]] | None = None,
        size: int | tuple[int, int] | None = None,
        precision: str = "mixed",
        author: str | None = None,
        license: str | None = None,
        version: str | None = None,
        description: str | None = None,
    ) -> Path:
        """Write a Core ML model: ``.mlpackage`` (flexible size, default 64-2048 px; or ``sizes``/``size``) or
        ``.mlmodel`` (fixed ``size``, default 512). Input ``image`` (and ``index``, style weights, for multi-style
        models), output ``stylizedImage``; see :mod:`studio.coreml`."""
        from .coreml import export_coreml

        return export_coreml(
            self,
            path,
            min_size=min_size,
            max_size=max_size,
            sizes=sizes,
            size=size,
            precision=precision,
            author=author,
            license=license,
            version=version,
            description=description,
        )


def _weight(key: object, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value == value or value < 0:
        raise StudioError(f"style weight for {key!r} must be a number >= 0, got {value!r}")
    return float(value)


def load(path: str | os.PathLike[str], device: str | torch.device = "auto") -> StyleModel:
    """Load a model saved by :meth:`StyleModel.save` (safetensors only; never unpickles)."""
    from safetensors import SafetensorError, safe_open

    path = Path(path)
    if not path.is_file():
        raise StudioError(f"model not found: {path}")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
            if meta.get("format") != FORMAT_NAME or "studio" not in meta:
                raise StudioError(f"{path} is a safetensors file but not a style-studio model")
            config = ModelConfig.from_json(meta["studio"])
            state = {k: f.get_tensor(k) for k in f.keys()}
    except StudioError:
        raise
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise StudioError(f"{path} is not a readable safetensors model ({exc})") from None
    net = build_network(config.network, output=config.output)
    try:
        net.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        raise StudioError(
            f"{path}: weights do not match the model config ({first[-1].strip() if first else exc})"
        ) from None
    return StyleModel(net, config, device=device)
