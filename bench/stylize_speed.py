"""Stylizing speed: eager fp32 forward vs the studio's inference path, images/s, in one run.

    python bench/stylize_speed.py [--device auto] [--sizes 512x512,1280x720,1920x1080] [--use-cases image,video]

"eager-fp32" calls the network directly in fp32; "studio" is StyleModel's path (fp16 autocast on CUDA,
padding, clamping) without the image-file I/O. Untrained (seeded) weights: speed does not depend on them.
"""

from __future__ import annotations

import argparse

import torch
from common import Timer, table

from studio.config import ModelConfig, NetworkConfig
from studio.device import resolve_device
from studio.infer.stylize import run_network
from studio.model import StyleModel
from studio.nn.networks import build_network


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--sizes", default="512x512,1280x720,1920x1080")
    ap.add_argument("--use-cases", default="image,video")
    ap.add_argument("--seconds", type=float, default=2.0, help="time per measurement")
    args = ap.parse_args()
    dev = resolve_device(args.device)
    rows = []
    for use_case in args.use_cases.split(","):
        torch.manual_seed(0)
        net_cfg = NetworkConfig.for_use_case(use_case)
        net = build_network(net_cfg)
        model = StyleModel(net, ModelConfig(net_cfg, use_case, ("s",), 5.0, 256, 0, "hed", "studio"), device=dev)
        style = model.style_vector()[None].to(dev)
        for size in args.sizes.split(","):
            w, h = map(int, size.split("x"))
            x = torch.rand(1, 3, h, w, device=dev)
            result = {}
            for variant in ("eager-fp32", "studio"):

                def once(
                    variant: str = variant, model: StyleModel = model, x: torch.Tensor = x, style: torch.Tensor = style
                ) -> None:
                    with torch.no_grad():
                        if variant == "eager-fp32":
                            model.network(x, style)
                        else:
                            run_network(model.network, x, style)

                once()
                with Timer(dev) as t:
                    once()
                reps = max(1, int(args.seconds / max(t.seconds, 1e-4)))
                with Timer(dev) as t:
                    for _ in range(reps):
                        once()
                result[variant] = reps / t.seconds
            rows.append(
                {
                    "use case": use_case,
                    "size": size,
                    "eager fp32 img/s": f"{result['eager-fp32']:.1f}",
                    "studio img/s": f"{result['studio']:.1f}",
                    "ratio": f"{result['studio'] / result['eager-fp32']:.2f}x",
                }
            )
            print(rows[-1], flush=True)
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else f"cpu ({torch.get_num_threads()} threads)"
    print(f"\nstylizing speed on {name}, batch 1, torch {torch.__version__}")
    print(table(rows))


if __name__ == "__main__":
    main()
