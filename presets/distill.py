"""The all-presets model distilled from the presets' own models: each preset in it looks like its own model.

    python presets/distill.py --content PHOTOS [--use-case image,video] [--iterations 1200] [--batch 4]
                              [--crop 256] [--device auto]

A multi-style network (conditional instance norm, Dumoulin et al. 2017) trained on the style losses of all
presets at once shares its weights between them, so each preset comes out a little different from the model
trained for it alone: trained so, the all-presets image model kept up to 0.09 more or 0.16 less SSIM of a photo
than a preset's own model, depending on how long it trained (bench/RESULTS.md). Here the all-presets model is taught
the presets' own models' results instead (knowledge distillation, Hinton et al. 2015; for style networks, Wang
et al. 2020, "Collaborative Distillation for Ultra-Resolution Universal Style Transfer"):

* start: the presets' models averaged (a "model soup", Wortsman et al. 2022): they were all fine-tuned from the
  studio's pre-trained start at a gentle rate, so their shared weights are close; each preset's (gamma, beta)
  becomes its row of the conditional instance norm.
* loss: for random crops of the content photos and every preset, the L1 distance between the all-presets
  model's result and the preset's own model's, plus the L1 distance of their horizontal and vertical pixel
  differences (an L1 on pixels alone lets fine strokes fade, which the style similarity punishes).
* Adam, the shared weights at ``--lr``, (gamma, beta) at 10x, cosine decay to a tenth.

``presets/train.py`` runs this after (re)making the single presets; run it alone to remake only the
all-presets models. Shipped: 1,200 iterations for both use cases (H200: 274 s image, 140 s video), every preset
within 0.032 (image) and 0.042 (video) of its own model's SSIM on every bench photo. Reads
``presets/<name>/<use case>.safetensors``, writes ``presets/all-<use case>.safetensors`` (fp16, atomically). The
saved config records each preset's strength and density; ``iterations`` is the distillation's. A GPU is
expected (a CPU run works, slowly). The content photos are only read, never copied into the repository.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import torch  # noqa: E402

from studio.config import ModelConfig  # noqa: E402
from studio.device import resolve_device  # noqa: E402
from studio.model import StyleModel  # noqa: E402
from studio.nn.networks import build_network  # noqa: E402
from studio.presets import presets  # noqa: E402
from studio.train.content import load_pool, random_crops, resolve_content  # noqa: E402
from studio.train.step import cosine_lr  # noqa: E402
from studio.version import __version__  # noqa: E402

NORM_LR_SCALE = 10.0  # the per-style parameters' rate against the shared weights', as in training
CROP = 256  # content crops' side, as training takes them
LR = 5e-4  # the shared weights' rate, as training's
ITERATIONS = 1200  # as shipped (bench/RESULTS.md, "Fourteenth round")


def soup(teachers: list[StyleModel]) -> StyleModel:
    """The all-presets model's start: the teachers' shared weights averaged, each teacher's (gamma, beta) its row."""
    first = teachers[0]
    network = dataclasses.replace(first.config.network, num_styles=len(teachers))
    states = [t.network.state_dict() for t in teachers]
    state = {}
    for key in states[0]:
        stacked = torch.stack([s[key].float() for s in states])  # (S, ...)
        # (1, C) per single-style model -> (S, C) rows of the multi-style norm; everything else averaged
        state[key] = stacked[:, 0] if key.endswith((".gamma", ".beta")) else stacked.mean(0)
    net = build_network(network, output=first.config.output)
    net.load_state_dict(state)
    config = ModelConfig(
        network=network,
        use_case=first.config.use_case,
        style_names=tuple(t.style_names[0] for t in teachers),
        style_strength=first.config.style_strength,
        style_density=first.config.style_density,
        iterations=0,
        loss_network=first.config.loss_network,
        recipe=first.config.recipe,
        output=first.config.output,
        package_version=__version__,
        style_strengths=tuple(float(t.config.style_strength) for t in teachers),
        style_densities=tuple(int(t.config.style_density) for t in teachers),
    )
    return StyleModel(net, config)


def _gradients(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return x[..., 1:, :] - x[..., :-1, :], x[..., :, 1:] - x[..., :, :-1]


def distill_loss(student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
    """L1 of the pixels plus L1 of the pixel differences (both (N, 3, H, W) in [0, 1]) -> scalar."""
    (sh, sw), (th, tw) = _gradients(student), _gradients(teacher)
    return (student - teacher).abs().mean() + (sh - th).abs().mean() + (sw - tw).abs().mean()


def distill(
    teachers: list[StyleModel],
    pool: torch.Tensor,
    *,
    iterations: int = ITERATIONS,
    batch: int = 4,
    crop: int = CROP,
    lr: float = LR,
    device: torch.device,
    seed: int = 0,
    log_every: int = 100,
    max_seconds: float | None = None,
) -> StyleModel:
    """Teach one multi-style network the teachers' results (see the module's docstring). pool: the content
    photos as :func:`studio.train.content.load_pool` gives them (on ``device``); crops as training takes them."""
    student_model = soup(teachers)
    student = student_model.network.to(device).train()
    nets = [t.network.to(device).eval() for t in teachers]
    shared = [p for n, p in student.named_parameters() if not n.endswith((".gamma", ".beta"))]
    per_style = [p for n, p in student.named_parameters() if n.endswith((".gamma", ".beta"))]
    opt = torch.optim.Adam([{"params": shared, "lr": lr}, {"params": per_style, "lr": lr * NORM_LR_SCALE}])
    base = [g["lr"] for g in opt.param_groups]
    gen = torch.Generator(device=device).manual_seed(seed)
    count = len(teachers)
    eye = torch.eye(count, device=device)
    start, running, done_its = time.perf_counter(), 0.0, iterations
    # bf16 on CUDA, as training runs there (studio.device.training_autocast_dtype); the loss in fp32
    amp = device.type == "cuda"
    for it in range(iterations):
        if max_seconds is not None and time.perf_counter() - start > max_seconds:
            done_its = it
            print(f"  stopped at {it} of {iterations} iterations: --max-seconds {max_seconds:g} reached", flush=True)
            break
        for g, b in zip(opt.param_groups, base, strict=True):
            g["lr"] = cosine_lr(it, 0, iterations, b, b * 0.1)  # cosine to a tenth, as training decays
        content = random_crops(pool, batch, crop, gen)  # (B, 3, crop, crop)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            with torch.no_grad():
                target = torch.cat([net(content) for net in nets])  # (S * B, 3, crop, crop): style-major
            style = eye.repeat_interleave(batch, dim=0)  # (S * B, S)
            out = student(content.repeat(count, 1, 1, 1), style)
        loss = distill_loss(out.float(), target.float())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        running += float(loss.detach())
        if (it + 1) % log_every == 0 or it + 1 == iterations:
            done = (it + 1) % log_every or log_every
            print(
                f"  {it + 1}/{iterations}: loss {running / done:.4f} ({time.perf_counter() - start:.1f} s)", flush=True
            )
            running = 0.0
    student.eval().cpu()
    student_model.config = dataclasses.replace(student_model.config, iterations=done_its)
    return student_model


def content_pool(content: str, device: torch.device, crop: int = CROP) -> torch.Tensor:
    """The distillation's content photos (a folder or files), as training takes them (load_pool)."""
    return load_pool(resolve_content([content], what="photo"), crop, device)


def distill_presets(use_case: str, pool: torch.Tensor, *, device: torch.device, **options: Any) -> StyleModel:
    """Every preset's own ``use_case`` model as a teacher, distilled into one all-presets model (:func:`distill`;
    ``options`` are its keywords)."""
    teachers = [p.load(use_case, device="cpu") for p in presets()]
    return distill(teachers, pool, device=device, **options)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--content", required=True)
    ap.add_argument("--use-case", default="image,video")
    ap.add_argument("--iterations", type=int, default=ITERATIONS)
    ap.add_argument("--batch", type=int, default=4, help="crops per step; each goes through every preset")
    ap.add_argument("--crop", type=int, default=CROP)
    ap.add_argument("--lr", type=float, default=LR)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--out", help="folder for the models (default: presets/)")
    ap.add_argument("--max-seconds", type=float, help="stop early (and save) after this long")
    args = ap.parse_args()
    device = resolve_device(args.device)
    pool = content_pool(args.content, device, args.crop)
    out_dir = Path(args.out) if args.out else HERE
    for use_case in args.use_case.split(","):
        start = time.perf_counter()
        model = distill_presets(
            use_case,
            pool,
            iterations=args.iterations,
            batch=args.batch,
            crop=args.crop,
            lr=args.lr,
            device=device,
            max_seconds=args.max_seconds,
        )
        path = model.save(out_dir / f"all-{use_case}.safetensors", precision="float16")
        seconds = time.perf_counter() - start
        print(f"all-presets, {use_case}, distilled {model.config.iterations} it: {seconds:.1f} s -> {path}")


if __name__ == "__main__":
    main()
