"""Where the seconds of `studio train STYLE -o M.safetensors` go: one process, the CLI's steps, timed.

    python bench/train_latency.py STYLE [--iterations 300] [--content DIR] [--use-case image] [--recipe K=V,...]

Phases: Python start and imports, the device's first use, building the Trainer (style image, content list,
validation image), the run up to the first progress report (loss network, style targets, content pool, the
pre-trained start, warm-up steps and CUDA-graph capture), the steady iterations, and saving the model.
Print a table; the process's own start (the interpreter, before this file runs) is measured by the caller
(`time python bench/train_latency.py ...` minus the total printed here).
"""

from __future__ import annotations

import sys
import time

T0 = time.perf_counter()

import argparse  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

import torch  # noqa: E402

T_TORCH = time.perf_counter()
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a source checkout

from studio.config import TrainConfig  # noqa: E402
from studio.device import resolve_device  # noqa: E402
from studio.train.trainer import Trainer  # noqa: E402

T_STUDIO = time.perf_counter()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("style")
    ap.add_argument("--iterations", type=int, default=300)
    ap.add_argument("--content", help="default: the built-in set, as the CLI")
    ap.add_argument("--use-case", default="image")
    ap.add_argument("--recipe", help="overrides of the recipe: key=value,... (e.g. structure_weight=0)")
    args = ap.parse_args()
    config = TrainConfig(iterations=args.iterations, use_case=args.use_case)
    recipe = config.loss_recipe.overridden(args.recipe) if args.recipe else None
    dev = resolve_device("auto")
    torch.zeros(1, device=dev).sum().item()
    t_device = time.perf_counter()
    trainer = Trainer(args.style, args.content, config, device=dev, recipe=recipe)
    t_trainer = time.perf_counter()
    marks: dict[int, float] = {}
    model = trainer.run(lambda p: marks.__setitem__(p.iteration, time.perf_counter()))
    t_run = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        model.save(Path(tmp) / "m.safetensors")
    t_save = time.perf_counter()
    first = min(marks)
    rows = [
        ("imports: torch", T_TORCH - T0),
        ("imports: studio", T_STUDIO - T_TORCH),
        ("device's first use", t_device - T_STUDIO),
        ("Trainer(): style, content list, validation", t_trainer - t_device),
        (f"run to the first report (iteration {first})", marks[first] - t_trainer),
        (f"iterations {first}..{args.iterations}", marks[max(marks)] - marks[first]),
        ("run: after the last report", t_run - marks[max(marks)]),
        ("save", t_save - t_run),
        ("total (after the interpreter's start)", t_save - T0),
    ]
    speed = (max(marks) - first) / (marks[max(marks)] - marks[first])
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu"
    print(f"studio train, {args.iterations} iterations, {args.use_case} use case, on {name}: {speed:.1f} it/s steady")
    print("| phase | seconds |\n| --- | --- |")
    for label, seconds in rows:
        print(f"| {label} | {seconds:.2f} |")


if __name__ == "__main__":
    main()
