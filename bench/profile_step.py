"""Where a training step's GPU time goes: torch.profiler over eager steps, top kernels by CUDA time.

python bench/profile_step.py --style STYLE.jpg --content DIR [--iterations 20]
"""

from __future__ import annotations

import argparse

import torch
from common import Timer  # noqa: F401  (puts the repo on sys.path)
from torch.profiler import ProfilerActivity, profile

from studio.config import TrainConfig
from studio.train.trainer import Trainer, TrainOptions


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--style", required=True)
    ap.add_argument("--content", required=True)
    ap.add_argument("--iterations", type=int, default=20)
    args = ap.parse_args()
    eager = TrainOptions(cuda_graph=False)  # the profiler sees each kernel of an eager step
    trainer = Trainer(args.style, args.content, TrainConfig(iterations=args.iterations), device="cuda", options=eager)
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        trainer.run()
        torch.cuda.synchronize()
    print(prof.key_averages().table(sort_by="cuda_time_total", row_limit=25, max_name_column_width=60))


if __name__ == "__main__":
    main()
