"""The ``studio`` command line: train, stylize and inspect style models.

Bad input exits with status 2 and one line on stderr naming the problem; no tracebacks (argparse's own
errors too). Numbers are read as ASCII digits only (``²`` or ``٣`` are refused, not misread). Outputs are
checked before any work: their folder must exist and take files, an existing file is replaced only with
``--overwrite`` (``train`` also replaces a style-studio model, so a run can be redone or resumed into the same
file), and an input is never replaced. ``stylize`` never overwrites without ``--overwrite``: it writes the
next free ``<name>-stylized-2.<ext>``… instead. Text read from files (style names, file names) is printed
with control characters escaped. Ctrl-C during training stops cleanly at the next iteration, writes the
checkpoint and saves the model so far; a model that cannot be saved is kept in the temp folder.
"""

from __future__ import annotations

import argparse
import re
import signal
import sys
import tempfile
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from PIL import Image
from tqdm import tqdm

from studio.config import DEFAULT_ITERATIONS, TrainConfig
from studio.device import resolve_device
from studio.errors import StudioError, printable
from studio.export.coreml import check_coreml, export_coreml
from studio.export.metadata import ExportMetadata
from studio.export.onnx import MIN_SIDE, check_onnx, export_onnx
from studio.io.fileio import check_output_dir, check_output_file, short_name
from studio.io.media import save_image
from studio.presets import load_spec, presets, presets_dir
from studio.progress import Cancelled
from studio.train.content import resolve_content
from studio.version import __version__

EXIT_ERROR = 2
EXPORT_FORMATS = ("mlpackage", "mlmodel", "onnx")
EXIT_INTERRUPTED = 130


_WHOLE = re.compile(r"[+-]?[0-9]+")
_NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")


def whole_number(text: str) -> int:
    """argparse type: a whole number in ASCII digits (``int()`` would take ``٣``; ``²`` would crash it)."""
    if not _WHOLE.fullmatch(text.strip()):
        raise argparse.ArgumentTypeError(f"expected a whole number, got {printable(repr(text))}")
    return int(text)


def number(text: str) -> float:
    """argparse type: a finite decimal number in ASCII (no ``nan``, ``inf`` or other scripts' digits)."""
    if not _NUMBER.fullmatch(text.strip()):
        raise argparse.ArgumentTypeError(f"expected a number, got {printable(repr(text))}")
    return float(text)


class _Parser(argparse.ArgumentParser):
    """argparse with the studio's error style: one line, ``studio COMMAND: error: ...``, status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {printable(message)} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="studio", description="Style Studio: train and use style-transfer models.")
    p.add_argument("--version", action="store_true", help="print the version and exit")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    _add_train(sub.add_parser("train", help="train a style model from one or more style images"))
    _add_stylize(sub.add_parser("stylize", help="stylize images with a trained model or a preset"))
    _add_video(sub.add_parser("video", help="stylize a video file (H.264 mp4 out, sound kept)"))
    _add_export(sub.add_parser("export", help="export a model as Core ML (.mlpackage, .mlmodel) or ONNX"))
    _add_quicklook(sub.add_parser("quicklook", help="preview a style on one photo without training (optimisation)"))
    sub.add_parser("presets", help="list the preset styles")
    i = sub.add_parser("info", help="describe a model file")
    i.add_argument("model", metavar="MODEL")
    return p


def _add_train(t: argparse.ArgumentParser) -> None:
    t.add_argument("styles", nargs="*", metavar="STYLE_IMAGE", help="style image(s); several make a multi-style model")
    t.add_argument("--content", nargs="+", metavar="DIR|FILE", help="content photos (default: the built-in set)")
    t.add_argument(
        "--iterations",
        type=whole_number,
        help=f"iterations to train (default {DEFAULT_ITERATIONS}; with --resume: how many more)",
    )
    t.add_argument("--strength", type=number, default=5, help="style strength 1-10 (default 5)")
    t.add_argument("--density", type=whole_number, default=256, help="style density 64-1024, steps of 4 (default 256)")
    t.add_argument(
        "--use-case",
        choices=["image", "video"],
        help="image (Create ML's 1.7 M-parameter net) or video (a fast 69 K-parameter net); default: image on a GPU, "
        "video on the CPU, where it trains in about half the time",
    )
    t.add_argument("--validation", metavar="IMG", help="image to preview during training")
    t.add_argument("--session", metavar="DIR", help="folder for checkpoints, so the run can be resumed")
    t.add_argument("--resume", action="store_true", help="continue the session in --session (Train More)")
    t.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    t.add_argument("--seed", type=whole_number, default=0)
    t.add_argument("--batch-size", type=whole_number, help="crops per iteration (default 8 on GPUs, 2 on the CPU)")
    t.add_argument("--checkpoint-interval", type=whole_number, default=100)
    t.add_argument("--loss-network", default="hed", choices=["hed", "torchvision"])
    t.add_argument("--compile", action="store_true", help="use torch.compile for the training step")
    t.add_argument("-o", "--output", required=True, metavar="MODEL.safetensors")
    t.add_argument("--overwrite", action="store_true", help="replace -o even if it is not a style-studio model")


def _add_stylize(s: argparse.ArgumentParser) -> None:
    s.add_argument("model", metavar="MODEL", help="a .safetensors model, preset:NAME, or preset:all to blend presets")
    s.add_argument("--use-case", default="image", choices=["image", "video"], help="which preset model (presets only)")
    s.add_argument("inputs", nargs="+", metavar="INPUT", help="image files or folders of images")
    s.add_argument("-o", "--out-dir", metavar="OUT_DIR", help="where results go (default: beside each input)")
    s.add_argument("--style", help="style index or name, or blend weights like 0:0.7,2:0.3")
    s.add_argument("--max-size", type=whole_number, metavar="PX", help="cap the longer side of the result")
    s.add_argument("--intensity", type=number, default=1.0, help="0-1 blend with the original (default 1)")
    s.add_argument("--preserve-color", action="store_true", help="keep the photo's colours (luminance-only)")
    s.add_argument(
        "--overwrite",
        action="store_true",
        help="replace existing NAME-stylized files (default: write NAME-stylized-2 and so on)",
    )
    s.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])


def _add_video(v: argparse.ArgumentParser) -> None:
    v.add_argument("model", metavar="MODEL", help="a .safetensors model, preset:NAME, or preset:all")
    v.add_argument("input", metavar="IN", help="a video: mp4, mov, webm, mkv, avi…")
    v.add_argument("-o", "--output", required=True, metavar="OUT.mp4")
    v.add_argument("--use-case", default="video", choices=["image", "video"], help="which preset model (presets only)")
    v.add_argument("--style", help="style index or name, or blend weights like 0:0.7,2:0.3")
    v.add_argument("--max-size", type=whole_number, metavar="PX", help="cap the longer side of the frames")
    v.add_argument("--intensity", type=number, default=1.0, help="0-1 blend with the original (default 1)")
    v.add_argument("--preserve-color", action="store_true", help="keep the video's colours (luminance-only)")
    v.add_argument("--overwrite", action="store_true", help="replace OUT.mp4 if it exists")
    v.add_argument(
        "--stabilize",
        nargs="?",
        const=True,
        type=number,
        metavar="STRENGTH",
        help="steady the result along the optical flow (strength 0-1, default 0.6)",
    )
    v.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])


def _add_export(e: argparse.ArgumentParser) -> None:
    e.add_argument("model", metavar="MODEL")
    e.add_argument("-o", "--output", required=True, metavar="PATH", help="Style.mlpackage, Style.mlmodel or style.onnx")
    e.add_argument("--format", choices=EXPORT_FORMATS, help="default: from the output's suffix")
    e.add_argument("--min-size", type=whole_number, help="smallest image side accepted (default 64)")
    e.add_argument("--max-size", type=whole_number, help="largest image side (default 2048 for Core ML, 4096 for ONNX)")
    e.add_argument("--size", metavar="WxH", help="one fixed size, e.g. 512 or 640x480 (.mlmodel default 512)")
    e.add_argument("--sizes", metavar="WxH,WxH", help=".mlpackage only: enumerated sizes, e.g. 512x512,1024x768")
    e.add_argument("--precision", choices=["mixed", "float16", "float32"], help="Core ML only (default mixed)")
    e.add_argument("--author", help="author shown in Xcode / stored in the file (default 'Style Studio user')")
    e.add_argument("--license", help="licence text (default: unspecified)")
    e.add_argument("--model-version", metavar="VERSION", help="the model's version string (default 1.0)")
    e.add_argument("--description", help="short description (default: styles, use case, strength, density)")
    e.add_argument("--overwrite", action="store_true", help="replace -o if it exists")


def _add_quicklook(q: argparse.ArgumentParser) -> None:
    q.add_argument("style", metavar="STYLE_IMAGE")
    q.add_argument("content", metavar="PHOTO")
    q.add_argument("-o", "--output", required=True, metavar="OUT.png|jpg")
    q.add_argument("--strength", type=number, default=5, help="style strength 1-10 (default 5)")
    q.add_argument("--density", type=whole_number, default=256, help="style density 64-1024 (default 256)")
    q.add_argument(
        "--size", type=whole_number, help="longer side of the preview (default 512 on a GPU, 256 on the CPU)"
    )
    q.add_argument("--iterations", type=whole_number, help="optimisation steps (default 200 on a GPU, 100 on the CPU)")
    q.add_argument("--max-seconds", type=number, help="time limit (default 60 on the CPU, none on a GPU)")
    q.add_argument("--overwrite", action="store_true", help="replace -o if it exists (never one of the inputs)")
    q.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])


def parse_style(text: str | None) -> Any:
    """'2' -> 2, 'mosaic' -> 'mosaic', '0:0.7,mosaic:0.3' -> {0: 0.7, 'mosaic': 0.3}."""
    if text is None:
        return None
    if ":" not in text:
        return int(text) if _ascii_digits(text.strip()) else text.strip()
    weights: dict[int | str, float] = {}
    for part in text.split(","):
        key, sep, value = part.rpartition(":")
        key = key.strip()
        try:
            weight = float(value) if _NUMBER.fullmatch(value.strip()) else float("nan")
        except ValueError:
            weight = float("nan")
        if not sep or not key or weight != weight:
            raise StudioError(f"--style blend must look like 0:0.7,1:0.3; could not read {part!r}")
        weights[int(key) if _ascii_digits(key) else key] = weight
    return weights


def _ascii_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _check_output(path: str, overwrite: bool, inputs: Sequence[str]) -> Path:
    """train's -o: a .safetensors file in a writable folder; an existing file only if it is a studio model
    (a run redone or resumed into the same file) or with --overwrite."""
    from studio.model import is_model_file  # looked up at the call, so tests can stand in for it

    out = Path(path)
    if out.suffix != ".safetensors":
        raise StudioError(f"-o must name a .safetensors file, got {path!r}")
    if out.is_dir():
        raise StudioError(f"-o {path} is a folder; give a file name ending in .safetensors")
    if out.is_file() and not overwrite and not is_model_file(out):
        raise StudioError(f"{path} exists and is not a style-studio model; add --overwrite to replace it")
    return check_output_file(out, overwrite=True, inputs=tuple(inputs))


def _save_model(model: Any, out: Path) -> Path:
    """Save the trained model; if that fails (disk full, folder gone), keep it in the temp folder and say so."""
    try:
        return model.save(out)
    except (OSError, StudioError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        rescue = Path(tempfile.gettempdir()) / f"{short_name(out.stem)}-{time.strftime('%Y%m%d-%H%M%S')}.safetensors"
        try:
            model.save(rescue)
        except (OSError, StudioError) as again:
            more = again.strerror if isinstance(again, OSError) and again.strerror else str(again)
            raise StudioError(f"cannot save {out} ({why}); nor in {rescue.parent} ({more})") from None
        raise StudioError(f"cannot save {out} ({why}); the trained model was kept as {rescue}") from None


def device_words(kind: str) -> str:
    """How the CLI names a torch device type to people: "GPU (CUDA)", "Apple GPU (MPS)", "CPU"."""
    return {"cuda": "GPU (CUDA)", "mps": "Apple GPU (MPS)"}.get(kind, kind.upper())


def _train(args: argparse.Namespace) -> int:
    from studio.train.estimate import default_use_case, describe_seconds
    from studio.train.trainer import Trainer  # looked up at the call (tests)

    inputs = [*args.styles, *(args.content or []), *([args.validation] if args.validation else [])]
    out = _check_output(args.output, args.overwrite, inputs)  # before any work: never train into the void
    device = resolve_device(args.device)
    if args.resume:
        if not args.session:
            raise StudioError("--resume needs --session DIR (the session to continue)")
        if args.styles:
            raise StudioError("--resume continues the session's own styles; leave out the style images")
        trainer = Trainer.resume(args.session, args.iterations, device=device)
    else:
        if not args.styles:
            raise StudioError("give at least one style image (or --resume with --session)")
        batch = args.batch_size or (2 if device.type == "cpu" else 8)
        use_case = args.use_case or default_use_case(device)
        if args.use_case is None and use_case == "video":
            print("no GPU: training the video model, which is faster on a CPU (--use-case image for the larger one)")
        config = TrainConfig(
            iterations=DEFAULT_ITERATIONS if args.iterations is None else args.iterations,
            style_strength=args.strength,
            style_density=args.density,
            use_case=use_case,
            batch_size=batch,
            seed=args.seed,
            checkpoint_interval=args.checkpoint_interval,
            loss_network=args.loss_network,
            compile=args.compile,
        )
        trainer = Trainer(
            args.styles, args.content, config, validation=args.validation, device=device, session_dir=args.session
        )

    seconds = trainer.estimated_seconds()
    todo = trainer.target - trainer.iteration
    guess = f": {describe_seconds(seconds)}" if seconds is not None else ""
    where = device_words(device.type)
    print(f"training {todo} iterations of the {trainer.config.use_case} model on the {where}{guess}")
    bar = tqdm(total=trainer.target, initial=trainer.iteration, unit="it", desc=f"training on {device.type}")

    def on_progress(p: Any) -> None:
        bar.update(p.iteration - bar.n)
        bar.set_postfix(style=f"{p.style_loss:.3f}", content=f"{p.content_loss:.3f}")

    def on_sigint(signum: int, frame: Any) -> None:
        bar.write("stopping after this iteration (Ctrl-C again to abort without saving)")
        trainer.cancel()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        model = trainer.run(on_progress)
    finally:
        signal.signal(signal.SIGINT, previous)
        bar.close()
    _save_model(model, out)
    if trainer.cancelled:
        hint = f"; continue with: studio train --session {args.session} --resume -o {out}" if args.session else ""
        print(f"cancelled at iteration {trainer.iteration}: saved the model so far to {out}{hint}")
        return EXIT_INTERRUPTED
    print(f"saved {out} ({model.num_parameters:,} parameters, {trainer.iteration} iterations)")
    return 0


def _stylize(args: argparse.Namespace) -> int:
    inputs = resolve_content(args.inputs, what="input")
    style = parse_style(args.style)
    for folder in [args.out_dir] if args.out_dir else sorted({p.parent for p in inputs}):
        check_output_dir(folder)  # before any work
    model = _model(args, default_use_case="image")
    model.style_vector(style)  # validate before any work
    written: list[Path] = []
    for path in tqdm(inputs, unit="img", desc="stylizing", disable=len(inputs) < 2):
        result = model.stylize(
            path,
            style,
            max_size=args.max_size,
            intensity=args.intensity,
            preserve_color=args.preserve_color,
            out_dir=args.out_dir,
            overwrite=args.overwrite,
            avoid=[*inputs, *written],  # never an input, nor a result of this run
        )
        written.append(result)
        print(printable(result))
    return 0


def parse_size(text: str, option: str) -> tuple[int, int]:
    """'512' -> (512, 512); '640x480' (width x height) -> (480, 640), as (height, width)."""
    parts = text.lower().replace("×", "x").split("x")
    if len(parts) in (1, 2) and all(_ascii_digits(p.strip()) for p in parts):
        w, h = int(parts[0]), int(parts[-1])
        return h, w
    raise StudioError(f"{option} takes sizes like 512 or 640x480 (width x height), got {text!r}")


def _export(args: argparse.Namespace) -> int:
    from studio.model import load  # looked up at the call, so tests can stand in for it

    out = Path(args.output)
    fmt = args.format or out.suffix.lstrip(".")
    if fmt not in EXPORT_FORMATS:
        raise StudioError(f"cannot tell the format from {out.name!r}: end -o in .mlpackage, .mlmodel or .onnx")
    if out.suffix != f".{fmt}":
        raise StudioError(f"--format {fmt} writes a .{fmt} file, but -o is {out.name!r}")
    # bad metadata and sizes are refused before any work
    metadata = ExportMetadata.of(
        author=args.author, license=args.license, version=args.model_version, description=args.description
    )
    size = parse_size(args.size, "--size") if args.size else None
    sizes = [parse_size(part, "--sizes") for part in args.sizes.split(",")] if args.sizes else None
    check_output_file(out, overwrite=args.overwrite, inputs=(args.model,), folder_ok=fmt == "mlpackage")
    model = load(args.model, device="cpu")
    if fmt == "onnx":
        for option, value in (("--size", args.size), ("--sizes", args.sizes), ("--precision", args.precision)):
            if value is not None:
                raise StudioError(f"{option} applies to Core ML exports; ONNX files take any size (--min/--max-size)")
        min_size, max_size = args.min_size or MIN_SIDE, args.max_size or 4096
        path = export_onnx(model.network, model.config, out, min_size=min_size, max_size=max_size, metadata=metadata)
        diff = check_onnx(path, model.network)
        print(f"{printable(path)}: {_size_mb(path):.2f} MB, onnxruntime vs PyTorch max abs difference {diff:.2e}")
        return 0
    path = export_coreml(
        model.network,
        model.config,
        out,
        min_size=args.min_size,
        max_size=args.max_size,
        sizes=sizes,
        size=size,
        precision=args.precision or "mixed",
        metadata=metadata,
    )
    diff = check_coreml(path, model.network)
    print(
        f"{printable(path)}: {_size_mb(path):.2f} MB; reference run of the file vs PyTorch: max abs difference "
        f"{diff:.2e} (0..1 scale; Core ML itself runs only on macOS)"
    )
    return 0


def _size_mb(path: Path) -> float:
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files) / 1e6


def _quicklook(args: argparse.Namespace) -> int:
    from studio.train.quicklook import quicklook  # looked up at the call, so tests can stand in for it

    out = Path(args.output)
    if out.suffix.lower() not in (".png", ".jpg", ".jpeg", ".webp"):
        raise StudioError(f"-o must end in .png, .jpg or .webp, got {out.name!r}")
    check_output_file(out, overwrite=args.overwrite, inputs=(args.style, args.content))
    bar = tqdm(desc="quick look", unit="step", leave=False)

    def progress(p: object) -> None:
        bar.total = p.total  # type: ignore[attr-defined]
        bar.n = p.iteration  # type: ignore[attr-defined]
        bar.set_postfix(style=f"{p.style_loss:.3f}", refresh=True)  # type: ignore[attr-defined]

    try:
        image = quicklook(
            args.style,
            args.content,
            style_strength=args.strength,
            style_density=args.density,
            size=args.size,
            iterations=args.iterations,
            max_seconds=args.max_seconds,
            device=args.device,
            on_progress=progress,
        )
    finally:
        bar.close()
    print(printable(save_image(image, out)))
    return 0


def _model(args: argparse.Namespace, default_use_case: str) -> Any:
    """A model file, or a preset's model for ``--use-case``."""
    if args.model.startswith("preset:"):
        return load_spec(args.model, use_case=args.use_case, device=args.device)
    if args.use_case != default_use_case:
        raise StudioError("--use-case picks a preset's model; a model file has its own use case")
    from studio.model import load  # looked up at the call, so tests can stand in for it

    return load(args.model, device=args.device)


def _video(args: argparse.Namespace) -> int:
    from studio.infer.video import probe, stylize_video  # looked up at the call, so tests can stand in for them

    check_output_file(args.output, overwrite=args.overwrite, inputs=(args.input,))
    info = probe(args.input)  # a clear error before the model loads
    model = _model(args, default_use_case="video")
    style = parse_style(args.style)
    model.style_vector(style)
    bar = tqdm(total=info.frames, unit="frame", desc="stylizing", dynamic_ncols=True)
    try:
        out = stylize_video(
            model,
            args.input,
            args.output,
            style=style,
            intensity=args.intensity,
            preserve_color=args.preserve_color,
            max_size=args.max_size,
            stabilize=args.stabilize or False,
            on_progress=lambda p: bar.update(p.frame - bar.n) and None,
        )
    finally:
        bar.close()
    print(printable(out))
    return 0


def _presets(args: argparse.Namespace) -> int:
    found = presets()
    if not found:
        raise StudioError(f"no presets found in {presets_dir()}")
    width = max(len(p.name) for p in found)
    for p in found:
        name, uses = printable(p.name), "+".join(p.use_cases)
        print(
            f"{name:{width}s}  {uses:11s}  strength {p.strength:g}, density {p.density:4d}  {printable(p.description)}"
        )
    print("\nuse: studio stylize preset:NAME PHOTO  |  blend: studio stylize preset:all PHOTO --style a:0.6,b:0.4")
    return 0


def _info(args: argparse.Namespace) -> int:
    from studio.model import load  # looked up at the call, so tests can stand in for it

    model = load(args.model, device="cpu")  # checks the header against the file before reading anything big
    c = model.config
    size = Path(args.model).stat().st_size
    names = [printable(n) for n in c.style_names]  # text from the file: no terminal control sequences
    print(f"{printable(args.model)}: {c.use_case} model, {model.num_parameters:,} parameters, {size / 1e6:.1f} MB")
    if c.style_strengths is not None and c.style_densities is not None:  # each style at its own settings
        settings = zip(names, c.style_strengths, c.style_densities, strict=True)
        described = (f"{i}:{n} (strength {s:g}, density {d})" for i, (n, s, d) in enumerate(settings))
        print(f"  styles: {', '.join(described)}")
        print(f"  {c.iterations} iterations")
    else:
        print(f"  styles: {', '.join(f'{i}:{n}' for i, n in enumerate(names))}")
        print(f"  strength {c.style_strength}, density {c.style_density}, {c.iterations} iterations")
    print(
        f"  loss network {c.loss_network}, recipe {c.recipe}, studio {printable(c.package_version)}, "
        f"format v{c.format_version}"
    )
    return 0


def _one_line_warning(message: Warning | str, category: type[Warning], *args: object, **kwargs: object) -> None:
    print(f"studio: warning: {printable(message)}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        if exc.code in (0, None):  # --help: argparse's own exit
            raise
        return EXIT_ERROR  # a bad option, its one line printed: a status, as for every other error
    if args.version:
        print(f"studio {__version__}")
        return 0
    if args.command is None:
        parser.print_help()
        return 0
    handlers = {"train": _train, "stylize": _stylize, "export": _export, "info": _info}
    handlers |= {"quicklook": _quicklook, "presets": _presets, "video": _video}
    handler = handlers[args.command]
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _one_line_warning  # e.g. a broken preset skipped: one line, no source dump
            # images over the studio's pixel limit are refused with their own error: no second line from PIL
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return handler(args)
    except StudioError as exc:
        print(f"studio {args.command}: error: {printable(exc)}", file=sys.stderr)
        return EXIT_ERROR
    except Cancelled as exc:  # Ctrl-C before training's first iteration: nothing was made
        print(f"studio {args.command}: {printable(exc)}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as exc:  # disk full, permissions…: still one line, no traceback
        name = f": {exc.filename}" if getattr(exc, "filename", None) else ""
        print(f"studio {args.command}: error: {printable(f'{exc.strerror or exc}{name}')}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print(f"studio {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
