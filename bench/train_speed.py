"""Training speed: plain eager fp32 PyTorch vs the studio's trainer, measured in one run.

    python bench/train_speed.py --style STYLE.jpg --content DIR [--iterations 1500] [--batch 8] [--device auto]

Variants (same network, loss network, recipe, batch, crop and data; only execution differs):
  eager-fp32      a plain loop: fp32, contiguous tensors, default Adam, loss.item() every iteration
  studio-eager    studio.Trainer without CUDA graphs: bf16 autocast, fused Adam, no host syncs
  studio          studio.Trainer as shipped: the same, with the whole step replayed from a CUDA graph
  studio+compile  studio with torch.compile on the forward pass (compiled code replayed in the graph)
  bankK           studio.train.bank.train_bank with K models at once (its it/s counts model-iterations)

Prints iterations/s in steady state (after a warm-up), seconds per `--iterations`, and the speed-up over
eager-fp32; plus each variant's one-off setup time (weights, data, compile).
"""

from __future__ import annotations

import argparse
import time

import torch
from common import Timer, table

from studio.config import STUDIO_RECIPE, NetworkConfig, TrainConfig, style_long_side
from studio.device import resolve_device
from studio.io.images import resize_long, to_tensor
from studio.io.media import open_image, to_array
from studio.nn.lossnet import load_vgg
from studio.nn.networks import build_network
from studio.train.bank import BankJob, train_bank
from studio.train.content import load_pool, random_crops, resolve_content
from studio.train.trainer import Trainer, TrainOptions, loss_for


def eager_baseline(style: str, content: str, n: int, warmup: int, batch: int, crop: int, dev: torch.device) -> dict:
    t0 = time.perf_counter()
    vgg = load_vgg("hed", dev)
    style_t = resize_long(to_tensor(to_array(open_image(style))[0]), style_long_side(256)).to(dev)
    recipe = STUDIO_RECIPE
    loss_fn = loss_for(vgg, recipe, [style_t], [5.0])
    pool = load_pool(resolve_content(content), crop, dev)
    torch.manual_seed(0)
    net = build_network(NetworkConfig(), output=recipe.output).to(dev)
    opt = torch.optim.Adam(net.parameters(), lr=recipe.learning_rate)
    gen = torch.Generator(device=dev).manual_seed(0)
    s = torch.ones(batch, 1, device=dev)
    setup = time.perf_counter() - t0
    history = []

    def step() -> None:
        x = random_crops(pool, batch, crop, gen)
        loss_fn.redraw(gen)
        total, sl, cl = loss_fn(net(x, s), x, s)
        opt.zero_grad()
        total.backward()
        opt.step()
        history.append((sl.item(), cl.item()))

    for _ in range(warmup):
        step()
    with Timer(dev) as t:
        for _ in range(n):
            step()
    return {"setup_s": setup, "steady_its": n / t.seconds, "final_style_loss": history[-1][0]}


def studio_trainer(
    style: str,
    content: str,
    n: int,
    warmup: int,
    batch: int,
    crop: int,
    dev: torch.device,
    compile: bool,
    graph: bool,
) -> dict:
    marks: dict[int, float] = {}
    losses: list[float] = []

    def on_progress(p) -> None:  # noqa: ANN001
        marks[p.iteration] = time.perf_counter()
        losses.append(p.style_loss)

    cfg = TrainConfig(iterations=warmup + n, batch_size=batch, crop_size=crop, report_interval=5, compile=compile)
    t0 = time.perf_counter()
    trainer = Trainer(style, content, cfg, device=dev, options=TrainOptions(cuda_graph=graph))
    trainer.run(on_progress)
    total = time.perf_counter() - t0
    first = min(k for k in marks if k >= warmup)
    if first >= warmup + n:
        raise SystemExit("--iterations must exceed the report interval (5)")
    steady = (warmup + n - first) / (marks[warmup + n] - marks[first])
    return {"setup_s": total - (warmup + n) / steady, "steady_its": steady, "final_style_loss": losses[-1]}


def bank_speed(style: str, content: str, n: int, warmup: int, batch: int, crop: int, dev: torch.device, k: int) -> dict:
    marks: dict[int, float] = {}

    def mark(iteration: int, models: list) -> None:  # noqa: ARG001
        if dev.type == "cuda":
            torch.cuda.synchronize()
        marks[iteration] = time.perf_counter()

    t0 = time.perf_counter()
    jobs = [BankJob(style, f"s{i}", strength=5.0 - 0.1 * i) for i in range(k)]
    train_bank(
        jobs,
        content,
        iterations=warmup + n,
        batch_size=batch,
        crop_size=crop,
        device=dev,
        snapshot_at=(warmup, warmup + n),
        on_snapshot=mark,
    )
    total = time.perf_counter() - t0
    steady = n / (marks[warmup + n] - marks[warmup])
    return {"setup_s": total - (warmup + n) / steady, "steady_its": steady * k, "final_style_loss": float("nan")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--style", required=True)
    ap.add_argument("--content", required=True)
    ap.add_argument("--iterations", type=int, default=1500)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--crop", type=int, default=256)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--variants", default="eager-fp32,studio-eager,studio,studio+compile")
    args = ap.parse_args()
    dev = resolve_device(args.device)
    rows = []
    base = None
    for variant in args.variants.split(","):
        if variant.startswith("bank"):
            r = bank_speed(
                args.style, args.content, args.iterations, args.warmup, args.batch, args.crop, dev, int(variant[4:])
            )
        elif variant == "eager-fp32":
            r = eager_baseline(args.style, args.content, args.iterations, args.warmup, args.batch, args.crop, dev)
        else:
            r = studio_trainer(
                args.style,
                args.content,
                args.iterations,
                args.warmup,
                args.batch,
                args.crop,
                dev,
                compile=variant.endswith("+compile"),
                graph=variant != "studio-eager",
            )
        base = base or r["steady_its"]
        rows.append(
            {
                "variant": variant,
                "it/s": f"{r['steady_its']:.1f}",
                f"s/{args.iterations} it": f"{args.iterations / r['steady_its']:.1f}",
                "speed-up": f"{r['steady_its'] / base:.2f}x",
                "setup s": f"{r['setup_s']:.1f}",
                "style loss": f"{r['final_style_loss']:.3f}",
            }
        )
        print(rows[-1], flush=True)
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu"
    print(f"\ntraining speed on {name}, batch {args.batch} x {args.crop}px, torch {torch.__version__}")
    print(table(rows))


if __name__ == "__main__":
    main()
