"""Train the preset models: every preset for both use cases, and one multi-style model of all presets.

    python presets/train.py --content PHOTOS [--use-case image,video] [--iterations 500] [--multi-iterations 1200]
                            [--only NAME,NAME] [--skip-existing] [--recipe KEY=VALUE,...] [--device auto]

Reads ``presets/<name>/style.jpg`` and ``preset.toml`` (suggested strength and density), writes
``presets/<name>/<use case>.safetensors`` and ``presets/all-<use case>.safetensors``. The single presets of a
use case train side by side (:func:`studio.train.bank.train_bank`), each as ``studio train`` would train it (the
studio's pre-trained start and recipe) at its own strength and density, for longer than its default. The
all-presets model (conditional instance norm) is then distilled from the single presets' models
(``presets/distill.py``), so a preset picked from it, or blended, looks like its own model. Models are stored
in fp16 (half the size; they run in fp32). A GPU is expected. The content photos are only read, never copied
into the repository.
``--recipe`` overrides fields of the training recipe (studio.config.LossRecipe), e.g. ``learning_rate=0.001``.
"""

from __future__ import annotations

import argparse
import sys
import time
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from distill import content_pool, distill_presets  # noqa: E402  (presets/distill.py, beside this script)

from studio.config import STUDIO_RECIPE, LossRecipe  # noqa: E402
from studio.device import resolve_device  # noqa: E402
from studio.errors import StudioError  # noqa: E402
from studio.train.bank import BankJob, train_bank  # noqa: E402


def _presets(only: str | None) -> list[Path]:
    folders = sorted(p.parent for p in HERE.glob("*/preset.toml"))
    if only:
        wanted = set(only.split(","))
        folders = [f for f in folders if f.name in wanted]
    return folders


def _settings(folder: Path) -> tuple[float, int]:
    meta = tomllib.loads((folder / "preset.toml").read_text(encoding="utf-8"))
    return float(meta["strength"]), int(meta["density"])


def parse_recipe(text: str | None) -> LossRecipe:
    """``key=value,...`` over STUDIO_RECIPE's fields (tuples: values separated by /)."""
    try:
        return STUDIO_RECIPE.overridden(text)
    except StudioError as exc:
        raise SystemExit(f"--recipe: {exc}") from None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--content", required=True)
    ap.add_argument("--use-case", default="image,video")
    ap.add_argument("--iterations", type=int, default=500, help="per single preset (the shipped ones: 500)")
    ap.add_argument(
        "--multi-iterations",
        type=int,
        default=1200,
        help="the all-presets model's distillation (as shipped: 1,200 for both use cases; bench/RESULTS.md)",
    )
    ap.add_argument("--multi-batch", type=int, default=4, help="crops a distillation step; each through every preset")
    ap.add_argument("--only", help="comma-separated preset names (the multi-style model always takes all)")
    ap.add_argument("--skip-existing", action="store_true")
    ap.add_argument("--no-multi", action="store_true")
    ap.add_argument("--no-single", action="store_true")
    ap.add_argument("--recipe", help="overrides of the training recipe: key=value,...")
    ap.add_argument("--device", default="auto")
    args = ap.parse_args()
    recipe = parse_recipe(args.recipe)
    total = time.perf_counter()
    device = resolve_device(args.device)
    pool = None
    for use_case in args.use_case.split(","):
        folders = [
            f
            for f in _presets(args.only)
            if not (args.skip_existing and (f / f"{use_case}.safetensors").is_file()) and not args.no_single
        ]
        if folders:
            start = time.perf_counter()
            jobs = [BankJob(f / "style.jpg", f.name, *_settings(f)) for f in folders]
            models = train_bank(
                jobs, args.content, iterations=args.iterations, use_case=use_case, recipe=recipe, device=args.device
            )
            for folder, model in zip(folders, models, strict=True):
                model.save(folder / f"{use_case}.safetensors", precision="float16")
            print(f"{len(folders)} presets, {use_case}, {args.iterations} it: {time.perf_counter() - start:.1f} s")
        out = HERE / f"all-{use_case}.safetensors"
        if args.no_multi or (args.skip_existing and out.is_file()):
            continue
        start = time.perf_counter()
        if pool is None:
            pool = content_pool(args.content, device)
        # every preset's model, whatever --only says
        model = distill_presets(use_case, pool, iterations=args.multi_iterations, batch=args.multi_batch, device=device)
        model.save(out, precision="float16")
        print(f"all-presets, {use_case}, distilled {args.multi_iterations} it: {time.perf_counter() - start:.1f} s")
    print(f"total {time.perf_counter() - total:.1f} s")


if __name__ == "__main__":
    main()
