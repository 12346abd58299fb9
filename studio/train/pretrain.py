"""The starting point of every training run: a network pre-trained on many styles.

Create ML trains a style in a few hundred iterations because it does not start from random weights: Turi
Create fine-tunes a pre-trained "resnet-16". From random weights, a Johnson-style network spends its first
thousands of iterations learning to pass the photo's structure through at all; from a network that only
reproduces photos, it spends them learning to paint, and a short run leaves blobs and washed-out colour.

The studio's start is made in two stages, once, on a GPU, and ships in
``studio/weights/init-<use case>.safetensors`` (fp16):

1. **Photos** (:func:`pretrain_photos`): the network learns to reproduce content photos (perceptual loss at
   relu2_2 and relu3_3 plus an L1 pixel loss, no style).
2. **Many styles** (:func:`pretrain_styles`): that network is trained as one multi-style model
   (conditional instance norm, Dumoulin et al. 2017, "A Learned Representation for Artistic Style") of many
   styles: the presets and permissively licensed paintings. Its shared convolutions learn to paint in
   general; each style's (gamma, beta) say what. The file keeps every style's (gamma, beta) and a descriptor
   of each style's look.

A new style starts from the shared weights, its (gamma, beta) mixed from the known styles' that look most
like it (:mod:`studio.train.start`).

Re-make the starts with (``--styles`` folders and files; the content photos are only read)::

    python -m studio.train.pretrain --content PHOTOS --styles presets/*/style.jpg PAINTINGS/ --use-case image \\
        -o studio/weights/init-image.safetensors

Stage 2 alone, continuing a start with the current recipe (``--photo-iterations 0 --start FILE``), is how the
shipped image start was last re-made: 1,200 more iterations on the training paintings made into four styles each by
``bench/augment_styles.py`` (the painting, two opposite corners, its hues turned; ``bench/gpu_round17a.sh``), which
kept a new style's similarity and raised its SSIM (issue 14, seventeenth round, ``bench/RESULTS.md``).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path

import torch

from studio.config import STUDIO_RECIPE, LossRecipe, NetworkConfig, TrainConfig, check_choice
from studio.device import resolve_device, training_autocast_dtype
from studio.nn.lossnet import load_vgg
from studio.nn.networks import TransformerNet, build_network
from studio.train.content import load_pool, random_crops, resolve_content
from studio.train.start import save_init, style_descriptors
from studio.train.step import TrainStep, cosine_lr
from studio.train.trainer import Progress, Trainer, style_tensors

LAYERS = ("relu2_2", "relu3_3")
PIXEL_WEIGHT = 10.0


def pretrain_photos(
    use_case: str, content: str | Path, iterations: int, device: str = "auto", batch_size: int = 8, seed: int = 0
) -> TransformerNet:
    """Stage 1: a one-style network of ``use_case`` trained to reproduce the content photos; on the CPU."""
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

    def forward(x: torch.Tensor, s: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
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

    stepper = TrainStep(forward, opt, graph=cuda)
    start = time.perf_counter()
    for i in range(iterations):
        x = random_crops(pool, batch_size, 256, gen)
        perceptual, pixel = stepper.step(x, style, cosine_lr(i, 0, iterations, 2e-3, 2e-4))
        if (i + 1) % 500 == 0 or i + 1 == iterations:
            print(
                f"{use_case} photos {i + 1}/{iterations}: perceptual {float(perceptual):.4f} "
                f"pixel L1 {float(pixel):.4f} ({time.perf_counter() - start:.0f} s)",
                flush=True,
            )
    return net.cpu().eval()


class StartTrainer(Trainer):
    """A Trainer for the start's many styles: a user's model holds at most Trainer.MAX_STYLES, the start as many as
    a network may (NetworkConfig: 256); its styles are only what a new style's (gamma, beta) are mixed from."""

    MAX_STYLES = 256


def pretrain_styles(
    use_case: str,
    styles: Sequence[str | Path],
    content: str | Path,
    iterations: int,
    *,
    start: str | Path,
    device: str = "auto",
    batch_size: int = 16,
    seed: int = 0,
    recipe: LossRecipe = STUDIO_RECIPE,
) -> tuple[TransformerNet, torch.Tensor, list[str]]:
    """Stage 2: the stage-1 network at ``start`` trained as one model of all ``styles`` (strength 5, density
    256); returns it (on the CPU), the styles' descriptors and their names."""
    config = TrainConfig(
        iterations=iterations, use_case=use_case, batch_size=batch_size, seed=seed, report_interval=100
    )
    trainer = StartTrainer(list(styles), content, config, device=device, start=start, recipe=recipe)
    begin = time.perf_counter()

    def report(p: Progress) -> None:
        if p.iteration % 500 == 0 or p.iteration == iterations:
            print(
                f"{use_case} styles {p.iteration}/{iterations}: style {p.style_loss:.4f} content "
                f"{p.content_loss:.4f} ({time.perf_counter() - begin:.0f} s)",
                flush=True,
            )

    model = trainer.run(report)
    vgg = load_vgg("hed", trainer.device)
    descriptors = style_descriptors(vgg, style_tensors(trainer.style_arrays, trainer.densities, trainer.device))
    return model.network.cpu().eval(), descriptors.cpu(), list(trainer.style_names)


def main() -> None:
    ap = argparse.ArgumentParser(description="Make the studio's pre-trained start (see the module's docstring).")
    ap.add_argument("--content", required=True)
    ap.add_argument("--styles", nargs="*", default=[], help="style images or folders (stage 2; none: stage 1 only)")
    ap.add_argument("--use-case", default="image", choices=["image", "video"])
    ap.add_argument("--photo-iterations", type=int, default=4000, help="stage 1 (0: start from --start)")
    ap.add_argument("--style-iterations", type=int, default=6000, help="stage 2")
    ap.add_argument("--batch-size", type=int, default=16, help="stage 2")
    ap.add_argument("--start", help="a stage-1 file to start stage 2 from (with --photo-iterations 0)")
    ap.add_argument("--recipe", help="stage 2: overrides of the training recipe, key=value,... (LossRecipe fields)")
    ap.add_argument("--device", default="auto")
    ap.add_argument("-o", "--output", required=True)
    args = ap.parse_args()
    out = Path(args.output)
    if args.photo_iterations > 0:
        net = pretrain_photos(args.use_case, args.content, args.photo_iterations, args.device)
        start = out.with_name(out.stem + "-photos.safetensors")
        save_init(net, start)
    elif args.start:
        start = Path(args.start)
    else:
        raise SystemExit("give --photo-iterations > 0 or --start")
    if args.styles:
        paths = resolve_content(args.styles, what="style")
        net, descriptors, names = pretrain_styles(
            args.use_case,
            paths,
            args.content,
            args.style_iterations,
            start=start,
            device=args.device,
            batch_size=args.batch_size,
            recipe=STUDIO_RECIPE.overridden(args.recipe),
        )
        save_init(net, out, descriptors, names)
    else:
        save_init(net, out)
    print(f"saved {out}")


if __name__ == "__main__":
    main()
