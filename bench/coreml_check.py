"""Core ML exports on real photos: file size and difference from PyTorch, per format and precision.

Runs each exported file with the reference interpreters (studio.export.coreml_reference; Core ML itself needs
macOS) on real photos, and prints the largest pre-normalisation activation deviation (why instance norm is
kept in fp32). Without a model it uses the pre-trained start network (it reproduces photos, so its
activations are realistic).

    python bench/coreml_check.py [--model M.safetensors] [--photos DIR] [--count 4] [--size 512]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from studio.config import ModelConfig, NetworkConfig  # noqa: E402
from studio.export.coreml import CoreMLWrapper, read_spec  # noqa: E402
from studio.export.coreml_reference import load_program, run_neural_network, run_program  # noqa: E402
from studio.io.media import open_image, to_array  # noqa: E402
from studio.model import StyleModel, load  # noqa: E402
from studio.nn.networks import build_network  # noqa: E402
from studio.train.start import load_init  # noqa: E402


def _init_model(use_case: str) -> StyleModel:
    cfg = NetworkConfig.for_use_case(use_case)
    net = build_network(cfg)
    load_init(net, use_case)
    config = ModelConfig(cfg, use_case, ("pretrained-start",), 5.0, 256, 0, "hed", "studio")
    return StyleModel(net, config, device="cpu")


def _photos(folder: Path, count: int, side: int) -> list[np.ndarray]:
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))[:count]
    out = []
    for path in files:
        rgb = to_array(open_image(path))[0]
        x = torch.from_numpy(rgb).permute(2, 0, 1)[None]
        h, w = x.shape[-2:]
        scale = side / max(h, w)
        x = F.interpolate(x, size=(round(h * scale), round(w * scale)), mode="bilinear", antialias=True)
        out.append((x.clamp(0, 1) * 255).round().numpy())
    return out


def _deviation_hook(devs: list[float]):  # noqa: ANN202
    def hook(mod: torch.nn.Module, inputs: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
        x = inputs[0].float()
        devs.append(float((x - x.mean((2, 3), keepdim=True)).abs().max()))

    return hook


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else path.stat().st_size


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", help="a .safetensors model (default: the pre-trained start, both use cases)")
    ap.add_argument("--photos", default="../shared/data/content")
    ap.add_argument("--count", type=int, default=4)
    ap.add_argument("--size", type=int, default=512, help="longer side of the test photos")
    args = ap.parse_args()
    models = [load(args.model, device="cpu")] if args.model else [_init_model("image"), _init_model("video")]
    photos = _photos(Path(args.photos), args.count, args.size)

    print("| model | file | size MB | max abs diff (0..1) | mean abs diff | seconds to export |")
    print("| --- | --- | --- | --- | --- | --- |")
    worst_dev = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for model in models:
            net = model.network.cpu().eval()
            hooks = []
            devs: list[float] = []
            for norm in net.norms():
                hooks.append(norm.register_forward_hook(_deviation_hook(devs)))
            variants = [("mlpackage", "mixed"), ("mlpackage", "float16"), ("mlpackage", "float32"), ("mlmodel", None)]
            for fmt, precision in variants:
                path = Path(tmp) / f"{model.use_case}-{precision}.{fmt}"
                start = time.perf_counter()
                kwargs = {"precision": precision} if precision else {}
                if fmt == "mlmodel":
                    kwargs["size"] = (photos[0].shape[2], photos[0].shape[3])
                model.export_coreml(path, **kwargs)
                seconds = time.perf_counter() - start
                info = read_spec(path)
                program = load_program(path) if fmt == "mlpackage" else None
                diffs, means = [], []
                for image in photos:
                    if fmt == "mlmodel" and image.shape[2:] != photos[0].shape[2:]:
                        continue
                    feeds = {"image": image}
                    if program is not None:
                        out = run_program(program, feeds)["stylizedImage"]
                    else:
                        out = run_neural_network(info["spec"], feeds)["stylizedImage"]
                    with torch.no_grad():
                        ref = CoreMLWrapper(net, info["fixed"])(torch.from_numpy(image)).numpy()
                    diffs.append(np.abs(out - ref).max() / 255)
                    means.append(np.abs(out - ref).mean() / 255)
                label = f"{model.use_case} ({model.style_names[0]})"
                name = f".{fmt}" + (f" {precision}" if precision else " fp16 weights")
                print(
                    f"| {label} | {name} | {_size(path) / 1e6:.2f} | {max(diffs):.2e} | {np.mean(means):.2e} "
                    f"| {seconds:.1f} |"
                )
            for h in hooks:
                h.remove()
            worst_dev = max([worst_dev, *devs])
    print(
        f"\nlargest |activation - channel mean| entering an instance norm: {worst_dev:.0f} "
        f"(squared {worst_dev**2:.3g}; fp16 max 65504)"
    )


if __name__ == "__main__":
    main()
