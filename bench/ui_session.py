"""Drive a running studio (``python app.py``, the README's run command) through its API, as one user's
session, and check each step's result. One line per step (seconds, OK / FAILED / SKIPPED), then a summary
line; the exit status is 1 when any step did not pass.

    python bench/ui_session.py [--url http://127.0.0.1:7860/] [--iterations 300] [--expect-device gpu]

The session: (1) connect and read the device the server trains on (the Train tab's estimate line says "this
GPU" or "this CPU": the server's own ``torch.cuda.is_available()``); (2) pick a preset and stylize a built-in
photo with it (Preview), twice (loading the model, then loaded); (3) train an image model from a style image
for ``--iterations``, taking a snapshot on the way; (4) see its name ("<painting> · image · N it") on its
model card; (5) stylize with it beside its snapshot; (6) download it as safetensors and (7) as ONNX, each
checked as a file: size, loadable by the studio, and the ONNX run by onnxruntime on a small image against
PyTorch. Core ML is left out (coremltools is not on the GPU machine). Every step has a time limit and the
whole session ``--budget`` seconds, so a hung server fails a step instead of hanging the caller.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from gradio_client import Client, handle_file
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the studio's own loader and ONNX check, from this checkout

FIXED_STYLIZE_PARAMETERS = 7  # /stylize: photo, style, compare, use case, intensity, keep colours, longest side
CHANGED = 8.0  # mean absolute difference (0..255) that tells a stylized photo from the photo itself
MIN_MODEL_BYTES = 100_000  # a real model file (the smallest, the video model, is about 1 MB)
ONNX_TOLERANCE = 1e-3  # onnxruntime against PyTorch on the same random image (the tests ask for 1e-4)


class OutOfTime(Exception):
    """The session's budget is spent: the step did not run, or did not finish."""


class Session:
    """Runs the steps in order, prints one line for each as it ends, and keeps their results."""

    def __init__(self, budget: float) -> None:
        self.start = time.monotonic()
        self.deadline = self.start + budget
        self.results: list[tuple[str, str]] = []  # (step, OK / FAILED / SKIPPED)
        self.values: dict[str, Any] = {}

    def left(self, cap: float) -> float:
        """Seconds a step may take: ``cap``, or what is left of the budget if less."""
        left = self.deadline - time.monotonic()
        if left <= 1:
            raise OutOfTime(f"the session's budget is spent ({left:.0f} s left)")
        return min(cap, left)

    def step(self, name: str, needs: tuple[str, ...], work: Callable[[], tuple[Any, str]], gives: str = "") -> None:
        """Run ``work`` (returns (value, detail)) unless a value it ``needs`` is missing; ``gives`` names
        its value for later steps."""
        missing = [n for n in needs if n not in self.values]
        if missing:
            self._line(name, 0.0, "SKIPPED", f"needs {', '.join(missing)} (an earlier step failed)")
            self.results.append((name, "SKIPPED"))
            return
        t = time.perf_counter()
        try:
            value, detail = work()
        except Exception as exc:  # any failure is this step's result: named, not a traceback  # noqa: BLE001
            where = traceback.extract_tb(exc.__traceback__)[-1]
            at = f"{Path(where.filename).name}:{where.lineno}"
            why = f"{type(exc).__name__}: {' '.join(str(exc).split())[:400]} ({at})"
            self._line(name, time.perf_counter() - t, "FAILED", why)
            self.results.append((name, "FAILED"))
            return
        self._line(name, time.perf_counter() - t, "OK", detail)
        self.results.append((name, "OK"))
        if gives:
            self.values[gives] = value

    @staticmethod
    def _line(name: str, seconds: float, verdict: str, detail: str) -> None:
        print(f"{name:<46} {seconds:6.1f} s  {verdict:<7} {detail}", flush=True)

    def summary(self) -> int:
        failed = [name for name, verdict in self.results if verdict == "FAILED"]
        skipped = sum(verdict == "SKIPPED" for _, verdict in self.results)
        took = time.monotonic() - self.start
        device = self.values.get("device", "unknown")
        if failed or skipped:
            print(f"SUMMARY: FAILED {len(failed)} and skipped {skipped} of {len(self.results)} steps in {took:.0f} s "
                  f"(server: {device}); failed: {'; '.join(failed)}", flush=True)  # fmt: skip
            return 1
        print(f"SUMMARY: all {len(self.results)} steps OK in {took:.0f} s (server: {device})", flush=True)
        return 0


def call(session: Session, client: Client, *args: Any, api_name: str, cap: float) -> Any:
    """One API call, waited for at most ``cap`` seconds (or what is left of the budget)."""
    job = client.submit(*args, api_name=api_name)
    try:
        return job.result(timeout=session.left(cap))
    except TimeoutError:
        job.cancel()
        raise OutOfTime(f"{api_name} gave no answer in time") from None


def rgb(path: str) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"), np.float32)


def server_device(client: Client, expect: str) -> tuple[str, str]:
    """The device the server trains on, from the Train tab's estimate line as the server rendered it."""
    line = next(
        (str(c["props"].get("value")) for c in client.config["components"]
         if c.get("props", {}).get("elem_id") == "train-estimate"),
        "",
    )  # fmt: skip
    device = "GPU" if "this GPU" in line else "CPU" if "this CPU" in line else "unknown"
    if expect != "any" and device != expect.upper():
        raise AssertionError(f"the server trains on the {device}, expected the {expect.upper()}: {line!r}")
    shown = line.replace("**", "")
    return device, f"torch.cuda.is_available() on the server: {device == 'GPU'} ({shown})"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", default="http://127.0.0.1:7860/")
    ap.add_argument("--iterations", type=int, default=300, help="training iterations (default 300)")
    ap.add_argument("--use-case", choices=("image", "video"), default="image")
    ap.add_argument("--preset", default="neon-lines", help="the preset to stylize with first")
    ap.add_argument("--style", default=str(ROOT / "presets" / "swirling-sky" / "style.jpg"),
                    help="the painting to train on (default: the swirling-sky preset's drawing)")  # fmt: skip
    ap.add_argument("--photo", help="the photo to stylize (default: a built-in scikit-image photo)")
    ap.add_argument("--side", type=int, default=1024, help="longest side of the stylized photo")
    ap.add_argument("--expect-device", choices=("gpu", "cpu", "any"), default="any",
                    help="fail the first step when the server trains elsewhere")  # fmt: skip
    ap.add_argument("--budget", type=float, default=200.0, help="seconds for the whole session")
    args = ap.parse_args()
    if args.iterations < 5:
        ap.error(f"--iterations must be at least 5 (a snapshot needs a step to take), got {args.iterations}")
    if args.photo is None:
        from studio.infer.preview import sample_photos

        args.photo = str(sample_photos()[0])
    painting = Path(args.style).parent.name if Path(args.style).stem == "style" else Path(args.style).stem
    work = Path(tempfile.mkdtemp(prefix="ui-session-"))
    style = work / f"{painting}{Path(args.style).suffix}"  # the model is named after the painting's file
    shutil.copyfile(args.style, style)
    try:
        return run(args, painting, style, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(args: argparse.Namespace, painting: str, style: Path, work: Path) -> int:
    s = Session(args.budget)
    n, case = args.iterations, args.use_case
    label = f"{painting} · {case} · {n} it"
    photo = rgb(args.photo)
    print(f"session: {args.url}, {n} iterations of the {case} model on {style.name}, photo {Path(args.photo).name} "
          f"{photo.shape[1]}x{photo.shape[0]}", flush=True)  # fmt: skip
    blends: list[float] = []
    c: Client | None = None

    def connect() -> tuple[str, str]:
        nonlocal c, blends
        c = Client(args.url, verbose=False, download_files=str(work / "downloads"))  # removed at the end
        params = c.view_api(print_info=False, return_format="dict")["named_endpoints"]["/stylize"]["parameters"]
        blends = [0.0] * (len(params) - FIXED_STYLIZE_PARAMETERS)  # one blend weight per preset, all off
        return server_device(c, args.expect_device)

    s.step("connect; the server's device", (), connect, gives="device")

    def preset() -> tuple[bool, str]:
        assert c is not None
        (before, after), caption, download = call(
            s, c, handle_file(args.photo), f"preset:{args.preset}", "before", "image", 1.0, False, args.side, *blends,
            api_name="/stylize", cap=90,
        )  # fmt: skip
        result = rgb(after)
        assert result.shape == photo.shape or max(result.shape[:2]) == args.side, f"result is {result.shape}"
        if result.shape == photo.shape:
            diff = float(np.abs(result - photo).mean())
            assert diff > CHANGED, f"the result is the photo itself (mean difference {diff:.1f})"
        assert download and Path(download).stat().st_size > 10_000, f"no PNG to download: {download!r}"
        assert "right: **Preset:" in caption, f"caption {caption!r}"
        return True, f"{result.shape[1]}x{result.shape[0]}, {caption.replace('**', '')}"

    s.step(f"stylize with preset:{args.preset} (loads it)", ("device",), preset, gives="preset")
    s.step(f"stylize with preset:{args.preset} (loaded)", ("preset",), preset)

    def train() -> tuple[tuple[str, str, str], str]:
        assert c is not None
        t0 = time.perf_counter()
        until = t0 + s.left(600)
        job = c.submit([handle_file(str(style))], None, None, 5, 256, case, n, api_name="/train")
        snapshot = None
        seen: list[tuple[float, int]] = []  # (seconds, iteration) of each progress update
        last = None
        for out in job:  # the server sends an update at least once a second, so this loop keeps time
            if time.perf_counter() > until:
                c.predict(api_name="/stop")
                job.cancel()
                raise OutOfTime(f"training not done after {time.perf_counter() - t0:.0f} s (stopped): {last!r:.200}")
            last = out
            if not str(out[0]).startswith("Iteration"):
                continue
            assert out[1] and Path(out[1]).is_file(), f"an update without its validation image: {out[1]!r}"
            shown = int(str(out[0]).split()[1])
            seen.append((time.perf_counter() - t0, shown))
            if snapshot is None:  # at the first report: a GPU finishes soon after, and updates may lag
                choices, gallery, snap_label = call(s, c, None, api_name="/snapshot", cap=60)
                keys = [v for _, v in choices["choices"]]
                assert snap_label.startswith(f"{painting} · snapshot at ") and keys and len(gallery) == 1, snap_label
                snapshot = (keys[-1], snap_label, shown)
        took = time.perf_counter() - t0
        assert last is not None and f"done at iteration {n}" in str(last[0]), f"training ended with {last!r:.300}"
        assert f"**{label}**" in str(last[0]), f"not named {label!r}: {last[0]!r:.300}"
        key = last[3]["value"] if isinstance(last[3], dict) else last[3]
        assert key and snapshot is not None, f"model {key!r}, snapshot {snapshot!r}"
        assert len(seen) >= 2, f"only {len(seen)} progress updates streamed"
        (t1, i1), (t2, i2) = seen[0], seen[-1]
        rate = (i2 - i1) / max(1e-6, t2 - t1)
        return (key, snapshot[0], snapshot[1]), (
            f"{took:.1f} s in all, first progress line after {t1:.1f} s, {len(seen)} of them, {rate:.1f} it/s between "
            f"them; snapshot '{snapshot[1]}' (page at {snapshot[2]})"
        )

    s.step(f"train {n} it ({case}) with a snapshot", ("device",), train, gives="model")

    def name() -> tuple[bool, str]:
        assert c is not None
        key = s.values["model"][0]
        text = call(s, c, key, api_name="/model_card", cap=60)
        assert text.startswith(f"### {label}\n"), f"model card starts {text[:120]!r}"
        assert f"**Trained for** {n} iterations" in text, f"model card: {text[:300]!r}"
        return True, f"'{label}' (model card)"

    s.step("its name", ("model",), name)

    def mine() -> tuple[bool, str]:
        assert c is not None
        key, snap_key, snap_label = s.values["model"]
        (left, right), caption, download = call(
            s, c, handle_file(args.photo), f"mine:{key}", f"mine:{snap_key}", "image", 1.0, False, args.side,
            *blends, api_name="/stylize", cap=90,
        )  # fmt: skip
        expected = f"Left: **Yours: {snap_label}** · right: **Yours: {label}**"
        assert caption == expected, f"caption {caption!r}, expected {expected!r}"
        a, b = rgb(left), rgb(right)
        assert a.shape == b.shape, f"snapshot {a.shape} beside model {b.shape}"
        if b.shape == photo.shape:
            diff = float(np.abs(b - photo).mean())
            assert diff > CHANGED, f"the trained model left the photo as it was (mean difference {diff:.1f})"
        apart = float(np.abs(a - b).mean())
        assert download and Path(download).is_file(), f"no PNG to download: {download!r}"
        return True, f"{b.shape[1]}x{b.shape[0]} beside its snapshot (mean difference {apart:.1f})"

    s.step("stylize with it, beside its snapshot", ("model",), mine)

    def safetensors() -> tuple[str, str]:
        assert c is not None
        import studio

        path = Path(call(s, c, s.values["model"][0], "safetensors", api_name="/download", cap=60))
        stem = f"{painting}-{case}-{n}it"
        assert path.name == f"{stem}.safetensors", f"named {path.name!r}, expected {stem}.safetensors"
        size = path.stat().st_size
        assert size > MIN_MODEL_BYTES, f"{path.name} is {size} bytes"
        model = studio.load(path, device="cpu")  # checks every tensor and field
        cfg = model.config
        assert cfg.iterations == n and cfg.use_case == case, f"config: {cfg.iterations} it, {cfg.use_case}"
        return str(path), f"{path.name}, {size / 1e6:.2f} MB, loads: {model.num_parameters / 1e6:.2f} M parameters"

    s.step("download safetensors", ("model",), safetensors, gives="weights")

    def onnx_file() -> tuple[bool, str]:
        assert c is not None
        import onnx
        import onnxruntime as ort

        import studio
        from studio.export.onnx import check_onnx

        path = Path(call(s, c, s.values["model"][0], "ONNX", api_name="/download", cap=150))
        assert path.suffix == ".onnx", f"not an ONNX file: {path.name!r}"
        size = path.stat().st_size
        assert size > MIN_MODEL_BYTES, f"{path.name} is {size} bytes"
        onnx.checker.check_model(onnx.load(str(path)))
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        image = np.random.default_rng(0).random((1, 3, 96, 128), dtype=np.float32)
        out = session.run(None, {"image": image})[0]
        assert out.shape == image.shape and np.isfinite(out).all(), f"onnxruntime gave {out.shape}"
        gap = check_onnx(path, studio.load(s.values["weights"], device="cpu").network)
        assert gap < ONNX_TOLERANCE, f"onnxruntime and PyTorch differ by up to {gap:.2e}"
        return True, (
            f"{path.name}, {size / 1e6:.2f} MB, onnxruntime {ort.__version__} runs it at 128x96; "
            f"max difference from PyTorch {gap:.1e}"
        )

    s.step("download ONNX", ("model", "weights"), onnx_file)
    return s.summary()


if __name__ == "__main__":
    sys.exit(main())
