"""The command line: train -> stylize -> info, and one clear line (exit 2, no traceback) for bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import synthetic_photo, tiny_model
from PIL import Image

from studio.cli import device_words, main, parse_style
from studio.errors import StudioError


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m studio ARGS``: the console command, in a process of its own (Python and torch start: ~3 s)."""
    return subprocess.run([sys.executable, "-m", "studio", *args], capture_output=True, text=True, timeout=300)


def call(capsys: pytest.CaptureFixture[str], *args: str) -> subprocess.CompletedProcess[str]:
    """The same command run by ``studio.cli.main`` in this process (what ``python -m studio`` calls and exits
    with), its exit status and output as ``run`` gives them: no new Python and torch for every command. The
    console's own path (``-m studio``, the exit status) is checked by test_errors_exit_nonzero_*."""
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(["studio", *args], code, out, err)


def test_on_a_cpu_train_makes_the_faster_video_model_unless_told(
    tmp_path: Path, style_path: Path, content_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = tmp_path / "m.safetensors"
    # --density 1024: the loss network sees the style at 128 px, not 512 (~2 s less of a CPU's start)
    args = [
        str(style_path),
        "--content",
        str(content_dir),
        "--iterations",
        "1",
        "--batch-size",
        "1",
        "--density",
        "1024",
    ]
    r = call(capsys, "train", *args, "--device", "cpu", "-o", str(model))
    assert r.returncode == 0, r.stderr
    assert "no GPU: training the video model" in r.stdout and "video model" in call(capsys, "info", str(model)).stdout
    assert "--use-case image" in r.stdout  # how to get the other


def test_train_then_stylize_then_info(
    tmp_path: Path, style_path: Path, content_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = tmp_path / "m.safetensors"
    session = tmp_path / "session"
    r = call(
        capsys,
        "train",
        str(style_path),
        "--content",
        str(content_dir),
        "--iterations",
        "3",
        "--use-case",
        "video",
        "--density",
        "1024",
        "--batch-size",
        "1",
        "--device",
        "cpu",
        "--session",
        str(session),
        "-o",
        str(model),
    )
    assert r.returncode == 0, r.stderr
    assert model.is_file() and "saved" in r.stdout
    assert "training 3 iterations of the video model on the CPU: about" in r.stdout  # said before it starts
    r = call(
        capsys, "train", "--session", str(session), "--resume", "--iterations", "2", "--device", "cpu", "-o", str(model)
    )
    assert r.returncode == 0, r.stderr
    assert "5 iterations" in r.stdout
    photo = tmp_path / "photo.png"
    Image.fromarray(synthetic_photo(70, 50, 1)).save(photo)
    r = call(
        capsys, "stylize", str(model), str(photo), "-o", str(tmp_path / "out"), "--intensity", "0.8", "--device", "cpu"
    )
    assert r.returncode == 0, r.stderr
    out = Path(r.stdout.strip())
    assert out == tmp_path / "out" / "photo-stylized.png" and Image.open(out).size == (70, 50)
    r = call(capsys, "info", str(model))
    assert r.returncode == 0 and "video model" in r.stdout and "5 iterations" in r.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "MISSING.jpg", "-o", "m.safetensors"], "image not found: MISSING.jpg"),
        (["train", "NOTIMG.jpg", "-o", "m.safetensors"], "NOTIMG.jpg"),
        (["train", "STYLE", "--content", "EMPTY", "-o", "m.safetensors"], "no images in content folder"),
        (
            ["train", "STYLE", "--strength", "11", "-o", "m.safetensors"],
            "style_strength must be between 1 and 10, got 11",
        ),
        (["train", "STYLE", "--density", "130", "-o", "m.safetensors"], "got 130"),
        (["train", "STYLE", "-o", "model.pt"], ".safetensors"),
        (["train", "--resume", "-o", "m.safetensors"], "--resume needs --session"),
        (["train", "-o", "m.safetensors"], "give at least one style image"),
        (["stylize", "NOMODEL.safetensors", "STYLE"], "model not found"),
        (["stylize", "MODEL", "MISSING.jpg"], "input not found"),
        (["stylize", "MODEL", "STYLE", "--intensity", "2"], "intensity"),
        (["stylize", "MODEL", "STYLE", "--style", "7"], "style index"),
        (["stylize", "MODEL", "STYLE", "--style", "0:x"], "could not read"),
        (["stylize", "NOTIMG.jpg", "STYLE"], "not a readable safetensors"),
    ],
)
def test_bad_input_gives_one_clear_line(
    args: list[str],
    message: str,
    tmp_path: Path,
    style_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "EMPTY").mkdir()
    (tmp_path / "NOTIMG.jpg").write_text("hello")
    tiny_model().save(tmp_path / "MODEL.safetensors")
    args = [str(style_path) if a == "STYLE" else "MODEL.safetensors" if a == "MODEL" else a for a in args]
    code = main(args)
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, err


def test_errors_exit_nonzero_without_traceback_from_the_console() -> None:
    r = run("stylize", "missing.safetensors", "x.jpg")
    assert r.returncode == 2 and r.stderr.startswith("studio stylize: error:") and "Traceback" not in r.stderr


def test_parse_style() -> None:
    assert parse_style(None) is None and parse_style("2") == 2 and parse_style("mosaic") == "mosaic"
    assert parse_style("0:0.7,mosaic:0.3") == {0: 0.7, "mosaic": 0.3}
    with pytest.raises(StudioError):
        parse_style("0:0.5,:1")


def test_the_training_message_names_the_device_for_people() -> None:
    assert device_words("cuda") == "GPU (CUDA)"
    assert device_words("mps") == "Apple GPU (MPS)"
    assert device_words("cpu") == "CPU"
