"""The starting point of every training run: a transformation network pre-trained to reproduce photos.

Create ML trains a style in 500 iterations because it does not start from random weights: Turi Create's
style transfer fine-tunes a pre-trained "resnet-16". From random weights, a Johnson-style network spends
its first thousands of iterations learning to pass the photo's structure through at all (outputs are flat
colour with a few edges), so 500 iterations cannot make a good model.

The studio does the same as Create ML with weights it makes itself: each use case's network is trained
once to reproduce content photos (perceptual loss at relu2_2 and relu3_3 plus an L1 pixel loss, no style),
and the result ships in ``studio/weights/init-<use case>.safetensors`` (fp16). Training a style starts
from it, every style's (gamma, beta) a copy of the pre-trained ones. Re-make them with::

    python -m studio.pretrain --content ../shared/data/content --use-case image -o studio/weights/init-image.safetensors
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import torch

from .config import NetworkConfig, check_choice
from .data import load_pool, random_crops, resolve_content
from .device import resolve_device, training_autocast_dtype
from .errors import StudioError
from .fileio import atomic_path
from .lossnet import load_vgg
from .networks import TransformerNet, build_network

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
LAYERS = ("relu2_2", "relu3_3")
PIXEL_WEIGHT = 10.0


def init_path(use_case: str) -> Path:
    return WEIGHTS_DIR / f"init-{use_case}.safetensors"


def load_init(net: TransformerNet, use_case: str) -> None:
    """Load the pre-trained start into ``net`` (any number of styles: each gets the same gamma and beta)."""
    from safetensors.torch import load_file

    path = init_path(use_case)
    if not path.is_file():
        raise StudioError(f"pre-trained start {path} is missing; reinstall the studio or pass init='random'")
    state = load_file(str(path))
    own = net.state_dict()
    for key, value in state.items():
        if key not in own:
            raise StudioError(f"{path} does not fit the {use_case} network (unexpected {key})")
        if key.endswith((".gamma", ".beta")):
            value = value.expand_as(own[key])
        own[key] = value.to(own[key].dtype)
    net.load_state_dict(own)


def pretrain(
    use_case: str, content: str | Path, iterations: int, device: str = "auto", batch_size: int = 8, seed: int = 0
) -> TransformerNet:
    """Train a one-style network of ``use_case`` to reproduce the content photos; returns it on the CPU."""
    from .training import _Stepper

    check_choice("use_case", use_case, ("image", "video"))
    dev = resolve_device(device)
    vgg = load_vgg("hed", dev)
    pool = load_pool(resolve_content(content), 256, dev)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = build_network(NetworkConfig.for_use_case(use_case)).to(dev)
    cuda = dev.type == "cuda"
    opt = torch.optim.Adam(net.parameters(), lr=2e-3, **({"fused": True, "capturable": True} if cuda else {}))
    for group in opt.param_groups:
        group["lr_scale"] = 1.0
    gen = torch.Generator(device=dev).manual_seed(seed)
    amp = training_autocast_dtype(dev)
    style = torch.ones(batch_size, 1, device=dev)

    def forward(x: torch.Tensor, s: torch.Tensor) -> tuple[torch.Tensor, ...]:
        with torch.autocast(dev.type, dtype=amp or torch.float32, enabled=amp is not None, cache_enabled=False):
            y = net(x, s)
            with torch.no_grad():
                target = vgg(x, LAYERS)
            feats = vgg(y, LAYERS)
        perceptual = sum(
            (feats[k].float() - target[k].float()).pow(2).mean() / target[k].float().pow(2).mean() for k in LAYERS
        )
        pixel = (y.float() - x).abs().mean()
        return perceptual + PIXEL_WEIGHT * pixel, perceptual, pixel

    stepper = _Stepper(forward, opt, graph=cuda)
    start = time.perf_counter()
    for i in range(iterations):
        lr = 2e-3 * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * i / iterations)))
        x = random_crops(pool, batch_size, 256, gen)
        perceptual, pixel = stepper.step(x, style, lr)
        if (i + 1) % 500 == 0 or i + 1 == iterations:
            print(
                f"{use_case} {i + 1}/{iterations}: perceptual {float(perceptual):.4f} "
                f"pixel L1 {float(pixel):.4f} ({time.perf_counter() - start:.0f} s)",
                flush=True,
            )
    return net.cpu().eval()


def save_init(net: TransformerNet, path: str | Path) -> None:
    from safetensors.torch import save_file

    state = {k: v.detach().to(torch.float16).contiguous() for k, v in net.state_dict().items()}
    with atomic_path(path) as tmp:
        save_file(state, str(tmp), metadata={"what": "style-studio pre-trained start", "loss": "relu2_2+relu3_3+L1"})


def main() -> None:
    ap = argparse.ArgumentParser(description="Pre-train a transformation network to reproduce photos.")
    ap.add_argument("--content", required=True)
    ap.add_argument("--use-case", default="image", choices=["image", "video"])
    ap.add_argument("--iterations", type=int, default=4000)
    ap.add_argument("--device", default="auto")
    ap.add_argument("-o", "--output", required=True)
    args = ap.parse_args()
    net = pretrain(args.use_case, args.content, args.iterations, args.device)
    save_init(net, args.output)
    print(f"saved {args.output}")


if __name__ == "__main__":
    main()
