"""Train the preset models: every preset for both use cases, and one multi-style model of all presets.

    python presets/train.py --content PHOTOS [--use-case image,video] [--iterations 1000]
                            [--multi-iterations 3000] [--only NAME,NAME] [--skip-existing] [--device auto]

Reads ``presets/<name>/style.jpg`` and ``preset.toml`` (suggested strength and density), writes
``presets/<name>/<use case>.safetensors`` and ``presets/all-<use case>.safetensors`` (conditional instance
norm over all presets, trained at strength 5 and density 256, so presets can be blended by weights). Models
are stored in fp16 (half the size; they run in fp32). A GPU is expected: about half a minute per model on
an H100. The content photos are only read, never copied into the repository.
"""

from __future__ import annotations

import argparse
import sys
import time
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from studio import TrainConfig, Trainer  # noqa: E402


def _presets(only: str | None) -> list[Path]:
    folders = sorted(p.parent for p in HERE.glob("*/preset.toml"))
    if only:
        wanted = set(only.split(","))
        folders = [f for f in folders if f.name in wanted]
    return folders


def _train(styles: list[Path], content: str, out: Path, config: TrainConfig, device: str) -> float:
    start = time.perf_counter()
    names = [s.parent.name for s in styles]  # the preset's folder name, not "style"
    trainer = Trainer([str(s) for s in styles], content, config, device=device, style_names=names)
    model = trainer.run(None)
    model.save(out, precision="float16")
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--content", required=True)
    ap.add_argument("--use-case", default="image,video")
    ap.add_argument("--iterations", type=int, default=1000)
    ap.add_argument("--multi-iterations", type=int, default=3000)
    ap.add_argument("--only", help="comma-separated preset names (the multi-style model always takes all)")
    ap.add_argument("--skip-existing", action="store_true")
    ap.add_argument("--no-multi", action="store_true")
    ap.add_argument("--no-single", action="store_true")
    ap.add_argument("--device", default="auto")
    args = ap.parse_args()
    total = time.perf_counter()
    for use_case in args.use_case.split(","):
        if not args.no_single:
            for folder in _presets(args.only):
                out = folder / f"{use_case}.safetensors"
                if args.skip_existing and out.is_file():
                    continue
                meta = tomllib.loads((folder / "preset.toml").read_text(encoding="utf-8"))
                config = TrainConfig(
                    iterations=args.iterations,
                    style_strength=float(meta["strength"]),
                    style_density=int(meta["density"]),
                    use_case=use_case,
                )
                seconds = _train([folder / "style.jpg"], args.content, out, config, args.device)
                print(f"{folder.name:16s} {use_case:5s} {args.iterations} it  {seconds:6.1f} s", flush=True)
        out = HERE / f"all-{use_case}.safetensors"
        if args.no_multi or (args.skip_existing and out.is_file()):
            continue
        folders = _presets(None)
        config = TrainConfig(iterations=args.multi_iterations, use_case=use_case)
        seconds = _train([f / "style.jpg" for f in folders], args.content, out, config, args.device)
        print(f"{'all-presets':16s} {use_case:5s} {args.multi_iterations} it  {seconds:6.1f} s", flush=True)
    print(f"total {time.perf_counter() - total:.1f} s")


if __name__ == "__main__":
    main()
