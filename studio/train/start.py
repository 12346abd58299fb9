"""Loading the studio's pre-trained start into a new run's network (made by :mod:`studio.train.pretrain`).

The start is a multi-style network (conditional instance norm, Dumoulin et al. 2017) trained on many styles,
saved with every style's (gamma, beta) and a descriptor of each style's look. A new style starts from the
shared weights, its (gamma, beta) a weighted mean of the known styles', weighted by how much their
descriptors resemble the new painting's (:func:`load_init`): a nearest-neighbour guess at the style's
parameters, which training then refines (MetaStyle, Zhang et al. 2019, meta-learns such a start; this is its
simplest form). The descriptor is the channel means and standard deviations of the loss network's
relu1_2..relu4_3 features (Huang & Belongie 2017's AdaIN statistics), each layer's part scaled to unit norm.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

import torch
import torch.nn.functional as F

from studio.errors import StudioError
from studio.io.fileio import atomic_path
from studio.nn.lossnet import VGGFeatures
from studio.nn.networks import TransformerNet

WEIGHTS_DIR = Path(__file__).resolve().parents[1] / "weights"
DESCRIPTOR_LAYERS = ("relu1_2", "relu2_2", "relu3_3", "relu4_3")
DESCRIPTOR_KEY = "start.descriptors"
# Softmax temperature over cosine similarities of descriptors: similarities of different paintings spread
# over about 0.5..0.98, so 0.05 gives the closest few styles most of the weight (0.05 rather than 0.02, by
# measurement: bench/RESULTS.md, "Training recipe").
TEMPERATURE = 0.05


def init_path(use_case: str) -> Path:
    return WEIGHTS_DIR / f"init-{use_case}.safetensors"


@torch.no_grad()
def style_descriptors(vgg: VGGFeatures, styles: Sequence[torch.Tensor]) -> torch.Tensor:
    """(S, D) descriptors of style images ((1, 3, h, w) each, at the scale they are trained at), fp32."""
    rows = []
    for img in styles:
        feats = vgg(img.float(), DESCRIPTOR_LAYERS)
        parts = []
        for layer in DESCRIPTOR_LAYERS:
            f = feats[layer].float().flatten(2)[0]  # (C, h*w)
            part = torch.cat([f.mean(1), f.std(1, unbiased=False)])
            parts.append(part / part.norm().clamp_min(1e-8))
        rows.append(torch.cat(parts) / math.sqrt(len(parts)))
    return torch.stack(rows)


def mixing_weights(
    descriptors: torch.Tensor | None, known: torch.Tensor | None, count: int, temperature: float
) -> torch.Tensor:
    """(S, N) weights over the ``count`` known styles for each new style; rows sum to 1.

    Without descriptors (or a start that has none) every known style weighs the same.
    """
    if descriptors is None or known is None or count == 1:
        rows = 1 if descriptors is None else len(descriptors)
        return torch.full((rows, count), 1.0 / count)
    sim = F.normalize(descriptors.float().cpu(), dim=1) @ F.normalize(known.float(), dim=1).T  # (S, N)
    return torch.softmax(sim / temperature, dim=1)


def load_init(
    net: TransformerNet,
    use_case: str,
    descriptors: torch.Tensor | None = None,
    *,
    path: str | Path | None = None,
    temperature: float = TEMPERATURE,
) -> None:
    """Load the pre-trained start into ``net``: shared weights as they are, and for each of the net's styles
    (gamma, beta) mixed from the start's styles by ``descriptors`` ((S, D), see :func:`style_descriptors`;
    None: their plain mean). A start with a single style gives every style its (gamma, beta)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = Path(path) if path is not None else init_path(use_case)
    if not path.is_file():
        raise StudioError(f"pre-trained start {path} is missing; reinstall the studio or pass init='random'")
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError) as exc:
        raise StudioError(f"pre-trained start {path} is unreadable ({exc})") from None
    known = state.pop(DESCRIPTOR_KEY, None)
    own = net.state_dict()
    count = next((v.shape[0] for k, v in state.items() if k.endswith(".gamma")), 1)
    num_styles = net.config.num_styles
    if descriptors is not None and len(descriptors) != num_styles:
        raise ValueError(f"need one descriptor per style ({num_styles}), got {len(descriptors)}")
    weights = mixing_weights(descriptors, known, count, temperature)
    weights = weights.expand(num_styles, -1) if len(weights) == 1 else weights  # (S, N)
    for key, value in state.items():
        if key not in own:
            raise StudioError(f"{path} does not fit the {use_case} network (unexpected {key})")
        if key.endswith((".gamma", ".beta")):
            value = weights @ value.float()  # (S, N) @ (N, C)
        if value.shape != own[key].shape:
            raise StudioError(f"{path} does not fit the {use_case} network ({key} is {tuple(value.shape)})")
        own[key] = value.to(own[key].dtype)
    net.load_state_dict(own)


def save_init(
    net: TransformerNet, path: str | Path, descriptors: torch.Tensor | None = None, names: Sequence[str] = ()
) -> None:
    """Save a start in fp16 (with the styles' descriptors, for a multi-style one), atomically."""
    from safetensors.torch import save_file

    state = {k: v.detach().to(torch.float16).contiguous() for k, v in net.state_dict().items()}
    meta = {"what": "style-studio pre-trained start", "styles": json.dumps(list(names))}
    if descriptors is not None:
        state[DESCRIPTOR_KEY] = descriptors.detach().float().cpu().contiguous()
        meta["descriptor"] = "AdaIN statistics of " + "+".join(DESCRIPTOR_LAYERS)
    with atomic_path(path) as tmp:
        save_file(state, str(tmp), metadata=meta)
