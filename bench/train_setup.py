"""Where a training's first seconds go, before its first progress report (issue 16: "the first report
quickly"; issue 14: a model in 15 s): each preparing step of Trainer._prepare timed, then the first
iterations up to the first report, for two trainings in one process (the first pays the device's warm-up:
CUDA context, cuDNN autotuning, the loss network read from disk).

    .venv/bin/python bench/train_setup.py [--use-case image] [--iterations 50] [--device auto]

Prints a table of seconds per step. The painting is presets/swirling-sky/style.jpg and the content is the
built-in photos, as the Train tab's default run; timing wraps the trainer module's own functions.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

import studio  # noqa: E402
from studio import TrainOptions  # noqa: E402
from studio.config import TrainConfig  # noqa: E402
from studio.train import trainer as trainer_module  # noqa: E402
from studio.train.warmup import warm_up  # noqa: E402

# the trainer module's functions its preparation calls (looked up there at call time, so wrapping them times them)
STEPS = (
    "write_session",
    "load_vgg",
    "style_tensors",
    "loss_for",
    "load_pool",
    "style_descriptors",
    "load_init",
    "TrainStep",
)


def timed(log: dict[str, float], name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        t = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            log[name] = log.get(name, 0.0) + time.perf_counter() - t

    return wrapper


def one_run(args: argparse.Namespace, log: dict[str, float]) -> None:
    t0 = time.perf_counter()
    first: list[float] = []

    def progress(p: Any) -> bool:
        if not first:
            first.append(time.perf_counter() - t0)
            log["first report at iteration"] = float(p.iteration)
        return True

    config = TrainConfig(iterations=args.iterations, use_case=args.use_case, report_interval=5)
    session = tempfile.mkdtemp(prefix="train-setup-")  # as the Train tab runs it: a session folder on disk
    painting = str(ROOT / "presets" / "swirling-sky" / "style.jpg")
    options = TrainOptions(cuda_graph=not args.no_cuda_graph)
    trainer = studio.Trainer(
        painting, None, config, device=args.device, session_dir=Path(session) / "run", options=options
    )
    log["Trainer(...)"] = time.perf_counter() - t0
    trainer.run(progress)
    log["first report (s from start)"] = first[0] if first else float("nan")
    log["whole run"] = time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--use-case", default="image", choices=("image", "video"))
    ap.add_argument("--iterations", type=int, default=50)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--no-cuda-graph", action="store_true", help="run the steps without capturing a CUDA graph")
    ap.add_argument("--warm-up", default="", help="use cases to warm up first (studio.train.warmup), e.g. image")
    args = ap.parse_args()
    warmed = ""
    if args.warm_up:
        took = warm_up(args.device, args.warm_up.split(","))
        warmed = f", after a {took:.1f} s warm-up ({args.warm_up})"
    originals = {name: getattr(trainer_module, name) for name in STEPS}
    runs: list[dict[str, float]] = []
    for _ in range(2):
        log: dict[str, float] = {}
        for name, fn in originals.items():
            setattr(trainer_module, name, timed(log, name, fn))
        one_run(args, log)
        runs.append(log)
        for name, fn in originals.items():
            setattr(trainer_module, name, fn)
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "CPU"
    graph = "without" if args.no_cuda_graph else "with"
    print(
        f"\nTraining setup, {args.use_case} model, {args.iterations} iterations, {device}, {graph} CUDA graphs{warmed}"
    )
    print("| step | first run (s) | second run (s) |")
    print("| --- | --- | --- |")
    for key in runs[0]:
        print(f"| {key} | {runs[0][key]:.2f} | {runs[1].get(key, float('nan')):.2f} |")


if __name__ == "__main__":
    main()
