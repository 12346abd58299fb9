"""Issue 15, "Hold under attack", for the engine and the command line: thin images, unicode digits, lying model
files, terminal escapes, unwritable or occupied outputs, long names, PIL's bomb warning and a full disk.

Each abuse gets one clear line (CLI: status 2, no traceback; API: StudioError), no work is done before an
output is known to be writable, and no user file is lost or overwritten. Tiny synthetic inputs only.
"""

from __future__ import annotations

import errno
import importlib
import json
import os
import re
import struct
import tempfile
import time
import warnings
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import torch
from conftest import stripes, synthetic_photo, tiny_model
from PIL import Image
from safetensors.torch import save_file

import studio
import studio.train.styles
import studio.train.trainer
from studio.cli import main
from studio.errors import StudioError, printable
from studio.io.images import load_rgb
from studio.io.media import open_image

FORMAT = "style-studio-model"


def one_line_error(capsys: pytest.CaptureFixture[str], *words: str) -> str:
    """stderr holds one line (besides training's progress bar): the error, with ``words``."""
    lines = capsys.readouterr().err.replace("\r", "\n").splitlines()
    err = "\n".join(ln for ln in lines if ln.strip() and not ln.startswith("training on "))
    assert "Traceback" not in err and len(err.splitlines()) == 1 and "error: " in err, err
    for w in words:
        assert w in err, (w, err)
    return err


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    return tiny_model().save(tmp_path / "m.safetensors")


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    path = tmp_path / "photo.png"
    Image.fromarray(synthetic_photo(40, 30, 1)).save(path)
    return path


@pytest.fixture
def read_only_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder that refuses new files. Root ignores permission bits, so there the folder also refuses them the
    way a read-only mount does (mkstemp fails for it)."""
    folder = tmp_path / "readonly"
    folder.mkdir()
    folder.chmod(0o555)
    if os.geteuid() == 0:
        real = tempfile.mkstemp

        def mkstemp(*args: Any, dir: Any = None, **kwargs: Any) -> tuple[int, str]:  # noqa: A002 - mkstemp's name
            if dir is not None and Path(dir).resolve() == folder.resolve():
                raise PermissionError(errno.EACCES, "Permission denied", str(dir))
            return real(*args, dir=dir, **kwargs)

        monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    yield folder
    folder.chmod(0o755)


class NoTraining:
    """Stands in for the Trainer where an output must be refused before any training starts."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        raise AssertionError("training started before the output was checked")

    resume = __init__


class InstantTrainer:
    """A Trainer whose run returns a tiny model at once (for what happens after training)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        self.config, self.iteration, self.target, self.cancelled = SimpleNamespace(use_case="video"), 0, 1, False

    def estimated_seconds(self) -> None:
        return None

    def run(self, on_progress: object) -> studio.StyleModel:
        self.iteration = 1
        return tiny_model()


# --- 1. extreme aspect ratios --------------------------------------------------------------------------------


@pytest.mark.parametrize(("w", "h"), [(5_000_000, 1), (2, 3_000_000)])
def test_extreme_aspect_images_are_refused_by_api_and_cli(
    w: int, h: int, tmp_path: Path, model_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    thin = tmp_path / "thin.png"
    Image.new("RGB", (w, h), (10, 20, 30)).save(thin)
    model = studio.load(model_file, device="cpu")
    for call in (lambda: open_image(thin), lambda: model.stylize(thin), lambda: load_rgb(thin, "style")):
        with pytest.raises(StudioError, match=f"image too thin: .*thin.png is {w}x{h} px"):
            call()
    array = np.zeros((1, 4000, 3) if w > h else (4000, 2, 3), np.uint8)  # arrays too
    with pytest.raises(StudioError, match=f"too thin: the image is {array.shape[1]}x{array.shape[0]} px"):
        model.stylize(array)
    assert main(["stylize", str(model_file), str(thin), "-o", str(tmp_path / "out"), "--device", "cpu"]) == 2
    one_line_error(capsys, "image too thin", f"{w}x{h}")
    assert not (tmp_path / "out").exists()


def test_thin_but_reasonable_images_still_work(model_file: Path) -> None:
    model = studio.load(model_file, device="cpu")
    assert model.stylize(np.zeros((3, 300, 3), np.uint8)).shape == (3, 300, 3)  # 100:1 is the limit
    assert model.stylize(np.zeros((1, 1, 3), np.uint8)).shape == (1, 1, 3)


# --- 2. numbers in other scripts -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "bad"),
    [
        (["stylize", "MODEL", "PHOTO", "--style", "²"], "'²'"),
        (["stylize", "MODEL", "PHOTO", "--style", "²:1"], "'²'"),
        (["stylize", "MODEL", "PHOTO", "--max-size", "²"], "'²'"),
        (["stylize", "MODEL", "PHOTO", "--max-size", "٣"], "'٣'"),  # int() would read this Arabic-Indic 3
        (["stylize", "MODEL", "PHOTO", "--intensity", "½"], "'½'"),
        (["stylize", "MODEL", "PHOTO", "--intensity", "nan"], "'nan'"),
        (["export", "MODEL", "-o", "OUT/x.mlmodel", "--size", "²"], "'²'"),
        (["export", "MODEL", "-o", "OUT/x.mlpackage", "--sizes", "512,²"], "'²'"),
        (["export", "MODEL", "-o", "OUT/x.onnx", "--min-size", "６４"], "'６４'"),
        (["quicklook", "PHOTO", "PHOTO", "-o", "OUT/q.png", "--size", "²"], "'²'"),
        (["train", "PHOTO", "--iterations", "1e3", "-o", "OUT/m.safetensors"], "'1e3'"),
        (["train", "PHOTO", "--density", "２５６", "-o", "OUT/m.safetensors"], "'２５６'"),
        (["video", "MODEL", "IN.mp4", "-o", "OUT/v.mp4", "--stabilize", "inf"], "'inf'"),
    ],
)
def test_unicode_digits_and_nonsense_numbers_give_one_line(
    args: list[str],
    bad: str,
    tmp_path: Path,
    model_file: Path,
    photo: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(studio.train.trainer, "Trainer", NoTraining)
    (tmp_path / "OUT").mkdir()
    monkeypatch.chdir(tmp_path)
    names = {"MODEL": str(model_file), "PHOTO": str(photo)}
    assert main([names.get(a, a) for a in args]) == 2
    one_line_error(capsys, bad)
    assert list((tmp_path / "OUT").iterdir()) == []


def test_style_index_in_other_digits_is_an_unknown_style_not_a_crash() -> None:
    with pytest.raises(StudioError, match="unknown style '²'"):
        tiny_model().style_vector("²")


# --- 3. model files that lie -----------------------------------------------------------------------------------


def write_raw(path: Path, header: str, data: bytes) -> Path:
    """A safetensors file by hand: 8-byte little-endian header length, JSON header, data."""
    raw = header.encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data)
    return path


def tiny_state_and_config() -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    model = tiny_model()
    state = {k: v.contiguous() for k, v in model.network.state_dict().items()}
    return state, json.loads(model.config.to_json())


def save_model(path: Path, state: dict[str, torch.Tensor], config: dict[str, Any] | str) -> Path:
    text = config if isinstance(config, str) else json.dumps(config)
    save_file(state, str(path), metadata={"format": FORMAT, "studio": text})
    return path


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ("nan", "holds NaN or infinite values"),
        ("inf", "holds NaN or infinite values"),
        ("int64", "is I64; model weights are F32, F16, BF16"),
        ("float64", "is F64; model weights are F32, F16, BF16"),
        ("missing", "do not match the model config (missing "),
        ("unexpected", "do not match the model config (unexpected extra.weight"),
        ("shape", "has shape [1, 1, 1, 1], the config needs"),
    ],
)
def test_bad_weights_are_refused_naming_the_file(tmp_path: Path, change: str, words: str) -> None:
    state, config = tiny_state_and_config()
    key = next(k for k in state if k.endswith("conv.weight"))
    if change in ("nan", "inf"):
        state[key] = state[key].clone()
        state[key].view(-1)[3] = float(change)
    elif change in ("int64", "float64"):
        state[key] = state[key].to(getattr(torch, change))
    elif change == "missing":
        del state[key]
    elif change == "unexpected":
        state["extra.weight"] = torch.zeros(2)
    else:
        state[key] = torch.zeros(1, 1, 1, 1)
    path = save_model(tmp_path / "bad.safetensors", state, config)
    with pytest.raises(StudioError, match=re.escape(words)) as info:
        studio.load(path, device="cpu")
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_a_bfloat16_model_still_loads(tmp_path: Path) -> None:
    state, config = tiny_state_and_config()
    path = save_model(tmp_path / "bf16.safetensors", {k: v.bfloat16() for k, v in state.items()}, config)
    assert studio.load(path, device="cpu").num_styles == 1


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("style_strength", "strong", "style_strength must be a number between 1 and 10, got 'strong'"),
        ("style_strength", 55, "style_strength must be between 1 and 10, got 55"),
        ("iterations", -3, "iterations must be between 0 and 1000000000, got -3"),
        ("iterations", 2.5, "iterations must be a whole number"),
        ("style_density", 130, "style_density must be a multiple of 4"),
        ("style_density", "dense", "style_density must be a whole number"),
        ("use_case", "painting", "use_case must be one of image, video; got 'painting'"),
        ("loss_network", "vgg99", "loss_network must be one of"),
        ("recipe", "secret", "recipe must be one of"),
        ("output", "tanh", "output must be one of"),
        ("package_version", 7, "package_version must be text"),
        ("style_names", "s0", "style_names must be a list of text, got 's0'"),
        ("style_strengths", [5.0, 5.0], "style_strengths must hold one value per style"),
        ("style_strengths", ["x"], "style_strengths must be a number"),
        ("style_densities", [7], "style_densities must be between 64 and 1024, got 7"),
        ("network", None, "model config lacks network"),
        ("surprise", 1, "has unknown field(s) 'surprise'"),
        ("network", {"channels": [8, 16, 32], "num_residual": 3, "num_styles": 1}, "network lacks edge_kernel"),
        ("network", [1, 2], "network must be a JSON object"),
    ],
)
def test_every_config_field_is_checked_on_load(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], field: str, value: object, words: str
) -> None:
    state, config = tiny_state_and_config()
    if value is None:
        del config[field]
    else:
        config[field] = value
    path = save_model(tmp_path / "cfg.safetensors", state, config)
    with pytest.raises(StudioError, match=re.escape(words)) as info:
        studio.load(path, device="cpu")
    assert str(path) in str(info.value)
    assert main(["info", str(path)]) == 2
    one_line_error(capsys, words)


def test_duplicate_keys_are_refused_at_every_level(tmp_path: Path) -> None:
    state, config = tiny_state_and_config()
    good = save_model(tmp_path / "good.safetensors", state, config)
    raw = good.read_bytes()
    (length,) = struct.unpack("<Q", raw[:8])
    header, data = raw[8 : 8 + length].decode(), raw[8 + length :]
    entries = json.loads(header)
    name = next(k for k in entries if k != "__metadata__")
    entry = json.dumps(entries[name], separators=(",", ":"))
    # a tensor named twice (safetensors itself only says "invalid offset"); the same "studio" key twice, the
    # second smuggling a different config in; a key twice inside the config's own JSON
    twice_tensor = header.replace("{", f'{{"{name}":{entry},', 1)
    smuggled = json.dumps(dict(config, style_names=["smuggled"]))
    twice_meta = header.replace('"__metadata__":{', f'"__metadata__":{{"studio":{json.dumps(smuggled)},', 1)
    cases = {"tensor": twice_tensor, "metadata": twice_meta}
    for what, text in cases.items():
        path = write_raw(tmp_path / f"dup-{what}.safetensors", text, data)
        with pytest.raises(StudioError, match="duplicate key"):
            studio.load(path, device="cpu")
    text = json.dumps(config).replace('"iterations": 0', '"iterations": 0, "iterations": 9')
    with pytest.raises(StudioError, match="model config has a duplicate key 'iterations'"):
        studio.load(save_model(tmp_path / "dup-config.safetensors", state, text), device="cpu")
    assert studio.load(good, device="cpu").num_styles == 1


# --- 4. studio info: terminal escapes, tiny files that claim a lot --------------------------------------------


def test_info_escapes_control_characters_from_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    evil = "\x1b]0;owned\x07\x1b[2J\u202eexe.txt\x9bname\r\n"
    model = tiny_model(num_styles=2)
    model.config = replace(model.config, style_names=(evil, "ok"), package_version="1.0\x1b[31m")
    path = model.save(tmp_path / "evil.safetensors")
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    for ch in "\x1b\x07\u202e\x9b\r":
        assert ch not in out
    assert "\\x1b]0;owned\\x07\\x1b[2J\\u202eexe.txt\\x9bname\\x0d\\x0a" in out and "1:ok" in out
    assert len(out.strip().splitlines()) == 4
    assert printable("naïve 名前 👩\u200d🎨") == "naïve 名前 👩\u200d🎨"  # ordinary text is left alone


def test_info_refuses_tiny_files_that_claim_a_lot_quickly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    meta = {"format": FORMAT, "studio": tiny_model().config.to_json()}
    big = [4_000_000_000, 4_000_000_000]
    files = {
        "header longer than the file": (struct.pack("<Q", 2**40) + b"{}" * 1400, "its header claims"),
        "shape bigger than its bytes": (
            {"__metadata__": meta, "w": {"dtype": "F32", "shape": big, "data_offsets": [0, 16]}},
            "needs 64,000,000,000,000,000,000 bytes",
        ),
        "offsets past the end": (
            {"__metadata__": meta, "w": {"dtype": "F32", "shape": [2**40], "data_offsets": [0, 2**42]}},
            "lies outside the file",
        ),
        "overlapping tensors": (
            {
                "__metadata__": meta,
                "a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
                "b": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]},
            },
            "overlaps another",
        ),
        "huge network in the config": (
            {
                "__metadata__": {
                    "format": FORMAT,
                    "studio": tiny_model()
                    .config.to_json()
                    .replace(
                        '"channels": [8, 16, 32], "edge_kernel": 5, "num_residual": 3',
                        '"channels": [1024, 1024, 1024], "edge_kernel": 15, "num_residual": 32',
                    ),
                },  # fmt: skip
                "w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
            },
            "weights do not match the model config",
        ),
    }
    for i, (what, (content, words)) in enumerate(files.items()):
        path = tmp_path / f"claim{i}.safetensors"
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            write_raw(path, json.dumps(content), bytes(16))
        assert path.stat().st_size < 3000, what
        start = time.perf_counter()
        assert main(["info", str(path)]) == 2, what
        one_line_error(capsys, words)
        assert time.perf_counter() - start < 10, what


# --- 5. outputs checked before work; a full disk; long names ----------------------------------------------------


@pytest.mark.parametrize("where", ["read-only", "missing"])
def test_train_refuses_a_bad_output_folder_before_training(
    where: str,
    tmp_path: Path,
    read_only_dir: Path,
    photo: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(studio.train.trainer, "Trainer", NoTraining)
    folder = read_only_dir if where == "read-only" else tmp_path / "no" / "such"
    assert main(["train", str(photo), "-o", str(folder / "m.safetensors"), "--device", "cpu"]) == 2
    one_line_error(capsys, "cannot write", "read-only" if where == "read-only" else "does not exist")
    assert not (tmp_path / "no").exists()


def test_other_commands_refuse_a_read_only_output_before_work(
    tmp_path: Path,
    read_only_dir: Path,
    model_file: Path,
    photo: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def no_work(*args: object, **kwargs: object) -> None:
        raise AssertionError("work started before the output was checked")

    monkeypatch.setattr(importlib.import_module("studio.train.quicklook"), "quicklook", no_work)
    monkeypatch.setattr("studio.model.load", no_work)
    monkeypatch.setattr("studio.infer.video.probe", no_work)
    ro = str(read_only_dir)
    runs = [
        ["stylize", str(model_file), str(photo), "-o", ro],
        ["stylize", str(model_file), str(photo), "-o", str(read_only_dir / "new")],
        ["quicklook", str(photo), str(photo), "-o", f"{ro}/q.png"],
        ["export", str(model_file), "-o", f"{ro}/m.onnx"],
        ["export", str(model_file), "-o", f"{ro}/M.mlpackage"],
        ["video", str(model_file), str(photo), "-o", f"{ro}/v.mp4"],
    ]
    for argv in runs:
        assert main(argv) == 2, argv
        one_line_error(capsys, "cannot write")
    # and beside the inputs (no -o): the input's own folder must take files
    inside = read_only_dir / "photo.png"
    read_only_dir.chmod(0o755)
    Image.fromarray(synthetic_photo(20, 20, 0)).save(inside)
    read_only_dir.chmod(0o555)
    assert main(["stylize", str(model_file), str(inside)]) == 2
    one_line_error(capsys, "cannot write")


def test_full_disk_at_the_end_of_training_keeps_the_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A real (one-iteration) training whose save hits ENOSPC half way: one line, nothing half-written, the model
    kept in the temp folder. Its style file's name is 230 characters long: it must not break naming either."""
    import safetensors.torch

    out_dir, rescue_dir, content = tmp_path / "out", tmp_path / "rescue", tmp_path / "content"
    for d in (out_dir, rescue_dir, content):
        d.mkdir()
    long_name = "a painting with a very long title " * 6 + "x" * 26
    assert len(long_name) == 230
    style = tmp_path / f"{long_name}.png"
    Image.fromarray(stripes(64, 64, 8)).save(style)
    Image.fromarray(synthetic_photo(64, 64, 0)).save(content / "p.png")
    real_save = safetensors.torch.save_file

    def full_disk(tensors: dict[str, torch.Tensor], filename: str, metadata: dict[str, str] | None = None) -> None:
        if Path(filename).parent == out_dir:
            Path(filename).write_bytes(b"half a model")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_save(tensors, filename, metadata=metadata)

    monkeypatch.setattr(safetensors.torch, "save_file", full_disk)
    monkeypatch.setattr(tempfile, "tempdir", str(rescue_dir))
    args = ["train", str(style), "--content", str(content), "--iterations", "1", "--batch-size", "1"]
    args += ["--density", "1024"]  # the style at 128 px for the loss network, not 512: ~2 s less of a CPU's start
    code = main([*args, "--device", "cpu", "--use-case", "video", "-o", str(out_dir / "m.safetensors")])
    capsys_err = one_line_error(capsys, "cannot save", "No space left on device", "kept as")
    assert code == 2
    assert list(out_dir.iterdir()) == []  # neither m.safetensors nor a temporary file
    (kept,) = rescue_dir.glob("m-*.safetensors")
    assert str(kept) in capsys_err
    names = studio.load(kept, device="cpu").style_names
    assert len(names[0]) <= 100 and names[0].startswith(long_name[:50]) and re.search(r"-[0-9a-f]{8}$", names[0])


def test_when_the_model_cannot_be_kept_anywhere_it_says_so(
    tmp_path: Path, photo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def no_space(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(studio.train.trainer, "Trainer", InstantTrainer)
    monkeypatch.setattr("safetensors.torch.save_file", no_space)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    assert main(["train", str(photo), "--device", "cpu", "-o", str(tmp_path / "m.safetensors")]) == 2
    one_line_error(capsys, "cannot save", "No space left on device); nor in")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photo.png"]


def test_long_style_and_photo_names_are_shortened_readably(tmp_path: Path) -> None:
    stem_a, stem_b = "b" * 60 + "-first" + "c" * 170, "b" * 60 + "-second" + "c" * 170
    for stem in (stem_a, stem_b):
        Image.fromarray(stripes(32, 32, 6)).save(tmp_path / f"{stem}.png")
    _, names = studio.train.styles.load_styles([tmp_path / f"{stem_a}.png", tmp_path / f"{stem_b}.png"], None)
    assert names[0] != names[1] and all(len(n) <= 100 and n.startswith("b" * 60) for n in names)
    assert studio.io.images.style_name("red\x1b[31m") == "red\\x1b[31m"
    # a photo whose name is 250 bytes: "-stylized.png" would pass the 255-byte limit of file names
    photo = tmp_path / f"{'p' * 246}.png"
    Image.fromarray(synthetic_photo(20, 20, 0)).save(photo)
    out = tiny_model().stylize(photo)
    assert out.is_file() and out.name.startswith("p" * 60) and len(out.name) < 100


# --- 6. never overwrite an input or a file the studio did not write ----------------------------------------------


def test_quicklook_refuses_to_write_over_its_inputs(
    tmp_path: Path, photo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def no_work(*args: object, **kwargs: object) -> None:
        raise AssertionError("quick look ran")

    monkeypatch.setattr(importlib.import_module("studio.train.quicklook"), "quicklook", no_work)
    before = photo.read_bytes()
    style = tmp_path / "style.png"
    Image.fromarray(stripes(32, 32, 6)).save(style)
    for target, extra in ((photo, []), (photo, ["--overwrite"]), (style, ["--overwrite"])):
        assert main(["quicklook", str(style), str(photo), "-o", str(target), *extra]) == 2
        one_line_error(capsys, "is an input of this command")
    assert photo.read_bytes() == before
    other = tmp_path / "mine.png"
    other.write_bytes(b"the user's own file")
    assert main(["quicklook", str(style), str(photo), "-o", str(other)]) == 2
    one_line_error(capsys, "exists; add --overwrite")
    assert other.read_bytes() == b"the user's own file"


def test_batch_stylize_never_overwrites(tmp_path: Path, model_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    for i, ext in enumerate(("png", "tif", "bmp")):
        Image.fromarray(synthetic_photo(24, 20, i)).save(folder / f"a.{ext}")
    (folder / "b.jpg").write_bytes(_jpeg(8))
    (folder / "b-stylized.jpg").write_bytes(_jpeg(9))  # the user's own photo of that name
    inputs = {p.name: p.read_bytes() for p in folder.iterdir()}

    assert main(["stylize", str(model_file), str(folder), "--device", "cpu"]) == 0
    printed = [Path(p).name for p in capsys.readouterr().out.split()]
    # sorted inputs a.bmp, a.png, a.tif -> a-stylized.png, -2, -3 (all PNG); b-stylized.jpg (an input too) ->
    # b-stylized-stylized.jpg; b.jpg, beside the user's b-stylized.jpg -> b-stylized-2.jpg
    expected = ["a-stylized.png", "a-stylized-2.png", "a-stylized-3.png", "b-stylized-stylized.jpg", "b-stylized-2.jpg"]
    assert printed == expected
    for name, data in inputs.items():
        assert (folder / name).read_bytes() == data, name

    # --overwrite replaces earlier results, but never an input, nor a result of the same run
    first = (folder / "a-stylized.png").read_bytes()
    (folder / "a-stylized-2.png").write_bytes(b"an old result")
    again = [str(folder / n) for n in ("a.png", "a.tif", "a-stylized.png")]
    assert main(["stylize", str(model_file), *again, "--overwrite", "--device", "cpu"]) == 0
    printed = [Path(p).name for p in capsys.readouterr().out.split()]
    assert printed == ["a-stylized-2.png", "a-stylized-3.png", "a-stylized-stylized.png"]
    assert (folder / "a-stylized.png").read_bytes() == first  # an input this time: kept
    assert Image.open(folder / "a-stylized-2.png").size == (24, 20)  # the old result replaced by a.png's


def _jpeg(seed: int) -> bytes:
    import io

    buffer = io.BytesIO()
    Image.fromarray(synthetic_photo(24, 20, seed)).save(buffer, "JPEG")
    return buffer.getvalue()


def test_train_and_export_replace_only_what_they_may(
    tmp_path: Path, photo: Path, model_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(studio.train.trainer, "Trainer", InstantTrainer)
    foreign = tmp_path / "foreign.safetensors"
    save_file({"x": torch.zeros(2)}, str(foreign))
    before = foreign.read_bytes()
    assert main(["train", str(photo), "--device", "cpu", "-o", str(foreign)]) == 2
    one_line_error(capsys, "is not a style-studio model; add --overwrite")
    assert foreign.read_bytes() == before
    assert main(["train", str(photo), "--device", "cpu", "-o", str(model_file)]) == 0  # a studio model: redone
    assert main(["train", str(photo), "--device", "cpu", "-o", str(foreign), "--overwrite"]) == 0
    assert studio.load(foreign, device="cpu").num_styles == 1
    onnx = tmp_path / "m.onnx"
    onnx.write_bytes(b"someone's onnx")
    assert main(["export", str(model_file), "-o", str(onnx)]) == 2
    one_line_error(capsys, "exists; add --overwrite")
    assert onnx.read_bytes() == b"someone's onnx"


# --- 7. PIL's bomb warning and reduced decoding -------------------------------------------------------------------


def test_no_decompression_bomb_warning_within_our_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """PIL warns above its own limit (89 MP) and refuses above twice that; ours (100 MP by default) decides.
    Scaled down here: PIL's limit 1,000 pixels, ours 5,000."""
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    monkeypatch.setenv("STUDIO_MAX_IMAGE_PIXELS", "5000")
    for w, h in ((50, 40), (60, 50)):  # PIL would warn about the first and refuse the second
        path = tmp_path / f"{w}x{h}.png"
        Image.fromarray(synthetic_photo(w, h, 0)).save(path)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert open_image(path).size == (w, h)
        assert not [c for c in caught if issubclass(c.category, Image.DecompressionBombWarning)]
    Image.new("L", (80, 80)).save(tmp_path / "over.png")
    with pytest.raises(StudioError, match="image too large"), warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # over our limit PIL may warn: refused
        open_image(tmp_path / "over.png")


def test_large_images_are_decoded_smaller_when_only_a_smaller_size_is_needed(tmp_path: Path) -> None:
    big = Image.fromarray(np.asarray(Image.fromarray(synthetic_photo(200, 150, 3)).resize((1600, 1200))))
    big.save(tmp_path / "big.jpg", quality=90)
    big.save(tmp_path / "big.png")
    jpeg = open_image(tmp_path / "big.jpg", size_hint=200)  # JPEG draft: decoded at 1/8 scale
    assert jpeg.size == (200, 150)
    png = open_image(tmp_path / "big.png", size_hint=300)  # Image.reduce by 5
    assert png.size == (320, 240)
    assert open_image(tmp_path / "big.png").size == (1600, 1200)
    out = tiny_model().stylize(tmp_path / "big.png", max_size=300)
    assert Image.open(out).size == (300, 225)
