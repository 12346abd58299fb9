"""A trained style model: stylize images, save it, load it.

A model file is one safetensors file: the network's weights, and in the safetensors header the JSON
:class:`~studio.config.ModelConfig` (format version, use case, style names, strength, density, iterations,
loss network, package version) under the key ``"studio"``. Loading reads the header first and trusts
nothing in it: the header's length must fit the file, every tensor's bytes must lie inside the file and
match its shape, no key may appear twice, every config field is type- and range-checked, the tensors'
names, shapes and dtypes (float32, float16 or bfloat16) must be exactly the network's (compared on the
meta device, so a lying header allocates nothing), and the weights must be finite. Only then is the network
built and the weights loaded strictly. Nothing is ever unpickled.
"""

from __future__ import annotations

import json
import math
import os
import struct
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from safetensors import SafetensorError, safe_open
from safetensors import torch as safetensors_torch

from studio.config import (
    FORMAT_VERSION,
    RECIPES,
    USE_CASES,
    ModelConfig,
    NetworkConfig,
    check_choice,
    check_density,
    check_int,
    check_number,
)
from studio.device import resolve_device
from studio.errors import StudioError
from studio.export.coreml import Size, export_coreml
from studio.export.metadata import ExportMetadata
from studio.export.onnx import MIN_SIDE, export_onnx
from studio.infer.stylize import blend, preserve_color, run_network
from studio.io.fileio import atomic_path, short_name
from studio.io.media import check_aspect, fit_size, from_array, open_image, save_image, to_array
from studio.nn.networks import TransformerNet, build_network, count_parameters

FORMAT_NAME = "style-studio-model"
MAX_HEADER_BYTES = 16 * 1024**2  # a model's header is a few KB; 256 long style names stay far below this
# safetensors dtypes and their sizes in bytes; model weights must be one of WEIGHT_DTYPES
DTYPE_BYTES = {
    "BOOL": 1,
    "U8": 1,
    "I8": 1,
    "F8_E5M2": 1,
    "F8_E4M3": 1,
    "I16": 2,
    "U16": 2,
    "F16": 2,
    "BF16": 2,
    "I32": 4,
    "U32": 4,
    "F32": 4,
    "F64": 8,
    "I64": 8,
    "U64": 8,
}
WEIGHT_DTYPES = ("F32", "F16", "BF16")
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
            if key.isascii() and key.isdigit():  # "²" and "٣" are digits to str.isdigit, not indexes
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
        overwrite: bool = False,
        avoid: Collection[str | os.PathLike[str]] = (),
    ) -> Any:
        """Stylize one image or a list; returns the same kind it was given.

        ``images``: a PIL image, a numpy array (H, W[, 1|3|4], uint8/uint16/float), or a path to any image
        file (JPEG, PNG, WebP, TIFF, HEIC… with EXIF orientation applied), or a list of these. Paths give
        paths: the result is written to ``out_dir`` (default: beside the input) as ``<stem>-stylized.<ext>``
        (see :func:`result_path`: an existing file is never replaced unless ``overwrite``, and an input, a
        path in ``avoid`` or a result of the same call never is; the next free ``<stem>-stylized-2.<ext>``…
        is used instead). The size is kept unless ``max_size`` caps the longer side; alpha is kept; greyscale
        becomes colour. Images more than 100 times longer than wide (or the reverse) are refused.
        ``intensity`` 0..1 blends with the original; ``preserve_color`` keeps the original's colours
        (luminance-only transfer). Images larger than ``tile_size``² pixels are processed in seamless tiles.
        Safe to call from several threads at once: nothing of a call is kept on the model.
        """
        check_number("intensity", intensity, 0.0, 1.0)
        if max_size is not None:
            fit_size(1, 1, max_size)  # validates
        if tile_size is not None and (isinstance(tile_size, bool) or not isinstance(tile_size, int) or tile_size < 128):
            raise StudioError(f"tile_size must be a whole number of pixels >= 128, got {tile_size!r}")
        vector = self.style_vector(style)
        items = list(images) if isinstance(images, list | tuple) else [images]
        taken = [Path(a) for a in avoid] + [Path(i) for i in items if isinstance(i, str | os.PathLike)]
        options = (vector, max_size, intensity, preserve_color, out_dir, tile_size, overwrite)
        results = []
        done: dict[str, Path] = {}  # source -> its result, for a file listed twice
        for item in items:
            key = os.path.abspath(item) if isinstance(item, str | os.PathLike) else None
            one = done[key] if key in done else self._stylize_one(item, *options, taken)
            if key is not None and isinstance(one, Path):
                done[key] = one
                taken.append(one)  # a later input of the same name must not replace it
            results.append(one)
        return results if isinstance(images, list | tuple) else results[0]

    def _stylize_one(
        self,
        image: Any,
        vector: torch.Tensor,
        max_size: int | None,
        intensity: float,
        keep_color: bool,
        out_dir: str | os.PathLike[str] | None,
        tile_size: int | None,
        overwrite: bool,
        taken: Collection[Path],
    ) -> Any:
        if isinstance(image, str | os.PathLike):
            source = Path(image)
            like: Image.Image | np.ndarray = open_image(source, size_hint=max_size)
        elif isinstance(image, Image.Image | np.ndarray):
            source, like = None, image
        else:
            raise StudioError(f"cannot stylize a {type(image).__name__}: give a PIL image, a numpy array or a path")
        rgb, alpha = to_array(like)
        h, w = rgb.shape[:2]
        check_aspect(w, h, source if source is not None else "the image")
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
        return save_image(result, result_path(source, folder, ext, overwrite=overwrite, taken=taken))

    # --- files ----------------------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str], precision: str = "float32") -> Path:
        """Write the model as one safetensors file (atomically); returns the path.

        ``precision="float16"`` halves the file (the presets ship so); loading always computes in fp32.
        """
        path = Path(path)
        if path.suffix != ".safetensors":
            raise StudioError(f"model files end in .safetensors, got {path.name!r}")
        if precision not in ("float32", "float16"):
            raise StudioError(f"precision must be float32 or float16, got {precision!r}")
        dtype = torch.float16 if precision == "float16" else torch.float32
        state = {k: v.detach().to("cpu", dtype).contiguous() for k, v in self._net.state_dict().items()}
        with atomic_path(path) as tmp:
            header = {"format": FORMAT_NAME, "studio": self.config.to_json()}
            safetensors_torch.save_file(state, str(tmp), metadata=header)  # looked up here: tests stand in for it
        return path

    def export_onnx(
        self,
        path: str | os.PathLike[str],
        *,
        min_size: int = MIN_SIDE,
        max_size: int = 4096,
        opset: int = 18,
        metadata: ExportMetadata | None = None,
        author: str | None = None,
        license: str | None = None,
        version: str | None = None,
        description: str | None = None,
    ) -> Path:
        """Write an ONNX model with dynamic height and width; see :mod:`studio.export.onnx` for its inputs.

        ``author``, ``license``, ``version`` and ``description`` replace those of ``metadata`` (default:
        :class:`~studio.export.metadata.ExportMetadata`'s)."""
        given = ExportMetadata.of(metadata, author=author, license=license, version=version, description=description)
        return export_onnx(
            self._net, self.config, path, min_size=min_size, max_size=max_size, opset=opset, metadata=given
        )

    def export_coreml(
        self,
        path: str | os.PathLike[str],
        *,
        min_size: int | None = None,
        max_size: int | None = None,
        sizes: Sequence[Size] | None = None,
        size: Size | None = None,
        precision: str = "mixed",
        metadata: ExportMetadata | None = None,
        author: str | None = None,
        license: str | None = None,
        version: str | None = None,
        description: str | None = None,
    ) -> Path:
        """Write a Core ML model: ``.mlpackage`` (flexible size, default 64-2048 px; or ``sizes``/``size``) or
        ``.mlmodel`` (fixed ``size``, default 512). Input ``image`` (and ``index``, style weights, for multi-style
        models), output ``stylizedImage``; see :mod:`studio.export.coreml`. Metadata as :meth:`export_onnx`."""
        given = ExportMetadata.of(metadata, author=author, license=license, version=version, description=description)
        return export_coreml(
            self._net,
            self.config,
            path,
            min_size=min_size,
            max_size=max_size,
            sizes=sizes,
            size=size,
            precision=precision,
            metadata=given,
        )


def result_path(source: Path, folder: Path, ext: str, *, overwrite: bool = False, taken: Collection[Path] = ()) -> Path:
    """Where the stylized ``source`` goes: ``<stem>-stylized<ext>`` in ``folder``, else the first free of
    ``<stem>-stylized-2<ext>``, ``-3``… A name is not free when it is in ``taken`` (inputs and earlier results
    of the batch: never replaced) or, without ``overwrite``, when a file of that name exists. Stems too long
    for a file name are shortened to their first 60 characters and a hash."""
    stem = short_name(source.stem, max_chars=200, max_bytes=200)
    blocked = {os.path.abspath(p) for p in taken} | {os.path.abspath(source)}
    for n in range(1, 10_000):
        candidate = folder / (f"{stem}-stylized{ext}" if n == 1 else f"{stem}-stylized-{n}{ext}")
        if os.path.abspath(candidate) in blocked or (candidate.exists() and not overwrite):
            continue
        if not candidate.exists() or not _same_file(candidate, source):
            return candidate
    raise StudioError(f"no free name for the result of {source} in {folder} (tried {stem}-stylized-9999{ext})")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _weight(key: object, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value == value or value < 0:
        raise StudioError(f"style weight for {key!r} must be a number >= 0, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class TensorEntry:
    """One tensor as a safetensors header describes it; ``start``/``end`` are offsets into the data."""

    dtype: str
    shape: tuple[int, ...]
    start: int
    end: int


def read_header(path: str | os.PathLike[str]) -> tuple[dict[str, str], dict[str, TensorEntry]]:
    """The metadata and tensor entries of a safetensors file, checked against the file before use.

    Reads only the header (never more than :data:`MAX_HEADER_BYTES`, and never more than the file holds):
    a file that claims a huge header, duplicate keys, tensors outside or overlapping in the file, or shapes
    its bytes cannot hold is refused with one line, without allocating what it claims.
    """
    path = Path(path)

    def bad(why: str) -> StudioError:
        return StudioError(f"{path} is not a readable safetensors model ({why})")

    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            head = f.read(8)
            if len(head) < 8:
                raise bad(f"only {size} bytes")
            (length,) = struct.unpack("<Q", head)
            if length > size - 8:
                raise bad(f"its header claims {length:,} bytes, the file has {size:,}")
            if length > MAX_HEADER_BYTES:
                raise bad(f"a header of {length:,} bytes; model headers are below {MAX_HEADER_BYTES:,}")
            raw = f.read(length)
    except OSError as exc:
        raise StudioError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=_unique_keys)
    except StudioError as exc:
        raise bad(f"{exc} in its header") from None
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise bad(f"its header is not JSON: {' '.join(str(exc).split())[:200]}") from None
    if not isinstance(header, dict):
        raise bad("its header is not a JSON object")
    meta = header.pop("__metadata__", {})
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        raise bad("its __metadata__ is not a map of strings")
    data_bytes = size - 8 - length
    entries = {name: _entry(name, value, data_bytes, bad) for name, value in header.items()}
    end = 0
    for name, e in sorted(entries.items(), key=lambda item: (item[1].start, item[1].end)):
        if e.start < end and e.end > e.start:
            raise bad(f"tensor {name!r} overlaps another")
        end = max(end, e.end)
    return meta, entries


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise StudioError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _entry(name: str, value: object, data_bytes: int, bad: Any) -> TensorEntry:
    if not isinstance(value, dict) or set(value) != {"dtype", "shape", "data_offsets"}:
        raise bad(f"tensor {name!r} is not described by dtype, shape and data_offsets")
    dtype, shape, offsets = value["dtype"], value["shape"], value["data_offsets"]
    if dtype not in DTYPE_BYTES:
        raise bad(f"tensor {name!r} has an unknown dtype {dtype!r}")
    if not isinstance(shape, list) or len(shape) > 8 or not all(_whole(d) for d in shape):
        raise bad(f"tensor {name!r} has an invalid shape {shape!r}")
    if not isinstance(offsets, list) or len(offsets) != 2 or not all(_whole(o) for o in offsets):
        raise bad(f"tensor {name!r} has invalid data offsets {offsets!r}")
    start, end = offsets
    if not start <= end <= data_bytes:
        raise bad(f"tensor {name!r} lies outside the file (bytes {start:,} to {end:,} of {data_bytes:,})")
    need = math.prod(shape) * DTYPE_BYTES[dtype]
    if need != end - start:
        raise bad(
            f"tensor {name!r} of shape {shape} needs {need:,} bytes of {dtype}, the file gives it {end - start:,}"
        )
    return TensorEntry(dtype, tuple(shape), start, end)


def is_model_file(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a style-studio model file (by its header alone; cheap)."""
    try:
        meta, _ = read_header(path)
    except StudioError:
        return False
    return meta.get("format") == FORMAT_NAME


# Fields of a saved ModelConfig (and its NetworkConfig) that every model file has; the others have defaults.
_REQUIRED = (
    "network",
    "use_case",
    "style_names",
    "style_strength",
    "style_density",
    "iterations",
    "loss_network",
    "recipe",
)
_NETWORK_FIELDS = ("channels", "num_residual", "num_styles", "edge_kernel")


def parse_config(text: str) -> ModelConfig:
    """A model file's ``studio`` metadata -> :class:`ModelConfig`, every field checked for type and range.

    Refuses duplicate, missing and unknown keys; each message names the field and the value found.
    """
    try:
        data = json.loads(text, object_pairs_hook=_unique_keys)
    except StudioError as exc:
        raise StudioError(f"model config has a {exc}") from None
    except (ValueError, RecursionError) as exc:
        raise StudioError(f"model config is not JSON ({' '.join(str(exc).split())[:200]})") from None
    if not isinstance(data, dict):
        raise StudioError(f"model config must be a JSON object, got {type(data).__name__}")
    version = data.get("format_version")
    if version != FORMAT_VERSION:
        raise StudioError(
            f"model format version {version!r} is not supported (this studio reads version {FORMAT_VERSION}); "
            "re-export the model with a matching studio version"
        )
    _check_keys("model config", data, _REQUIRED, [f.name for f in fields(ModelConfig)])
    net = data["network"]
    if not isinstance(net, dict):
        raise StudioError(f"model config: network must be a JSON object, got {net!r}")
    _check_keys("model config network", net, _NETWORK_FIELDS, _NETWORK_FIELDS)
    channels = net["channels"]
    if not isinstance(channels, list):
        raise StudioError(f"model config: network channels must be a list of three numbers, got {channels!r}")
    try:
        network = NetworkConfig(**{**net, "channels": tuple(channels)})
        check_choice("use_case", data["use_case"], USE_CASES)
        names = data["style_names"]
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise StudioError(f"style_names must be a list of text, got {names!r}")
        check_number("style_strength", data["style_strength"], 1, 10)
        check_density(data["style_density"])
        check_int("iterations", data["iterations"], 0, 10**9)
        check_choice("loss_network", data["loss_network"], ("hed", "torchvision"))
        check_choice("recipe", data["recipe"], tuple(RECIPES))
        check_choice("output", data.get("output", "sigmoid"), ("sigmoid", "linear"))
        version_text = data.get("package_version", "")
        if not isinstance(version_text, str) or len(version_text) > 100:
            raise StudioError(f"package_version must be text of up to 100 characters, got {version_text!r}")
        for key in ("style_strengths", "style_densities"):
            values = data.get(key)
            if values is not None and not isinstance(values, list):
                raise StudioError(f"{key} must be a list with one value per style, got {values!r}")
        for v in data.get("style_strengths") or ():
            check_number("style_strengths", v, 1, 10)
        for v in data.get("style_densities") or ():
            check_density(v, "style_densities")
        lists = {
            k: tuple(data[k]) for k in ("style_names", "style_strengths", "style_densities") if data.get(k) is not None
        }
        return ModelConfig(**{**data, **lists, "network": network})
    except StudioError as exc:
        raise StudioError(f"model config: {exc}") from None


def _check_keys(what: str, data: dict[str, Any], required: Sequence[str], known: Sequence[str]) -> None:
    missing = [k for k in required if k not in data]
    if missing:
        raise StudioError(f"{what} lacks {', '.join(missing)}")
    unknown = [k for k in data if k not in known]
    if unknown:
        raise StudioError(f"{what} has unknown field(s) {', '.join(repr(k) for k in unknown[:5])}")


def load(path: str | os.PathLike[str], device: str | torch.device = "auto") -> StyleModel:
    """Load a model saved by :meth:`StyleModel.save` (safetensors only; never unpickles).

    Everything in the file is checked before anything is built (see the module's docstring); each problem is
    one :class:`StudioError` naming the file.
    """
    path = Path(path)
    if not path.is_file():
        raise StudioError(f"model not found: {path}")
    meta, entries = read_header(path)
    if meta.get("format") != FORMAT_NAME or "studio" not in meta:
        raise StudioError(f"{path} is a safetensors file but not a style-studio model")
    try:
        config = parse_config(meta["studio"])
    except StudioError as exc:
        raise StudioError(f"{path}: {exc}") from None
    if _rough_parameters(config.network) > BIG_NETWORK:  # compare on the meta device first: allocate nothing
        with torch.device("meta"):
            _check_weights(path, build_network(config.network, output=config.output), entries)
    net = build_network(config.network, output=config.output)
    _check_weights(path, net, entries)
    try:
        with safe_open(str(path), framework="pt") as f:
            state = {k: f.get_tensor(k) for k in f.keys()}
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise StudioError(f"{path} is not a readable safetensors model ({' '.join(str(exc).split())})") from None
    for name, tensor in state.items():
        values = (tensor.float() if tensor.dtype == torch.bfloat16 else tensor).numpy()  # numpy: 100x faster here
        if not np.isfinite(values).all():
            raise StudioError(f"{path}: weight {name!r} holds NaN or infinite values; the model file is damaged")
    try:
        net.load_state_dict(state, strict=True)
    except RuntimeError as exc:  # pragma: no cover - names, shapes and dtypes were checked above
        first = str(exc).strip().splitlines()
        raise StudioError(
            f"{path}: weights do not match the model config ({first[-1].strip() if first else exc})"
        ) from None
    return StyleModel(net, config, device=device)


BIG_NETWORK = 64_000_000  # parameters; the image model has 1.7 M


def _rough_parameters(c: NetworkConfig) -> int:
    """A generous guess of a network's size: a file's config may not make the studio allocate gigabytes."""
    convs = 2 * c.num_residual + 6
    return convs * (max(c.channels) ** 2 * max(9, c.edge_kernel**2) + 2 * c.num_styles * max(c.channels))


def _check_weights(path: Path, net: TransformerNet, entries: Mapping[str, TensorEntry]) -> None:
    """The file's tensors must be exactly the network's: names, shapes and float dtypes."""
    expected = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    missing = [k for k in expected if k not in entries]
    unexpected = [k for k in entries if k not in expected]
    if missing or unexpected:
        found = (("missing", missing), ("unexpected", unexpected))
        parts = [f"{what} {', '.join(names[:3])}{' …' if len(names) > 3 else ''}" for what, names in found if names]
        raise StudioError(f"{path}: weights do not match the model config ({'; '.join(parts)})")
    for name, shape in expected.items():
        e = entries[name]
        if e.dtype not in WEIGHT_DTYPES:
            raise StudioError(f"{path}: weight {name!r} is {e.dtype}; model weights are {', '.join(WEIGHT_DTYPES)}")
        if e.shape != shape:
            raise StudioError(
                f"{path}: weights do not match the model config ({name} has shape {list(e.shape)}, "
                f"the config needs {list(shape)})"
            )
