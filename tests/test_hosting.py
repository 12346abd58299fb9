"""Hosting: the Dockerfile (checked as text: CI cannot run docker), the Space assembler, ZeroGPU, limits."""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
import types
from pathlib import Path

import pytest

from studio import StudioError
from studio.limits import ENV, Limits, limits
from ui import ortweb

ROOT = Path(__file__).resolve().parents[1]


def test_dockerfile_is_a_space_image_built_by_the_readme_setup() -> None:
    lines = [line.strip() for line in (ROOT / "Dockerfile").read_text().splitlines() if not line.startswith("#")]
    text = "\n".join(lines)
    assert "useradd -m -u 1000 user" in text and "USER user" in lines  # Spaces run as UID 1000
    assert "EXPOSE 7860" in lines and "GRADIO_SERVER_PORT=7860" in text
    assert "ffmpeg" in text
    assert "ARG TORCH=cpu" in lines and "RUN STUDIO_TORCH=$TORCH ./setup.sh" in text  # CPU torch unless asked
    assert "STUDIO_DATA=/data" in text  # everything written goes to the mounted volume
    readme = (ROOT / "README.md").read_text().splitlines()
    assert readme[1].startswith("./setup.sh && ")  # the same script the README's first command runs
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".venv" in ignored and ".git" in ignored


def test_setup_refuses_an_unknown_torch_build() -> None:
    run = subprocess.run(
        ["./setup.sh"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "STUDIO_TORCH": "rocm9"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2 and "STUDIO_TORCH must be cpu or unset, got 'rocm9'" in run.stderr


@pytest.mark.parametrize("sdk", ["gradio", "docker"])
def test_space_folder_has_front_matter_and_what_the_sdk_needs(
    tmp_path: Path, sdk: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gradio
    import yaml

    out = tmp_path / "space"
    # `python deploy/space.py OUT --sdk SDK`, run as its own __main__ in this process: a new Python would spend
    # ~5 s importing the studio (torch) before assembling anything
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(sys, "argv", ["deploy/space.py", str(out), "--sdk", sdk])
    runpy.run_path(str(ROOT / "deploy" / "space.py"), run_name="__main__")
    readme = (out / "README.md").read_text()
    assert readme.startswith("---\n")
    meta = yaml.safe_load(readme.split("---\n")[1])
    assert meta["sdk"] == sdk and meta["license"] == "mit"
    assert (out / "app.py").is_file() and (out / "studio" / "nn" / "networks.py").is_file()
    assert not (out / "tests").exists() and not (out / ".venv").exists()
    if sdk == "gradio":
        assert meta["sdk_version"] == gradio.__version__ and meta["app_file"] == "app.py"
        assert (out / "requirements.txt").read_text().split() == ["-c", "constraints.txt", "."]
        assert (out / "weights" / "vgg16-hed-relu4_3.safetensors").stat().st_size > 20_000_000
        assert "*.wasm filter=lfs" in (out / ".gitattributes").read_text()
        # the webcam's in-browser runtime, found there by the Space (which never runs ./setup.sh)
        found = subprocess.run(
            [sys.executable, "-c", "import runpy; print(runpy.run_path('ui/ortweb.py')['installed']())"],  # no app
            cwd=out,
            env={**os.environ, "STUDIO_CACHE": str(tmp_path / "empty-cache")},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        assert Path(found) == out.resolve() / "weights" / f"onnxruntime-web-{ortweb.VERSION}", found
    else:
        assert meta["app_port"] == 7860 and (out / "Dockerfile").is_file()


def test_on_gpu_is_spaces_gpu_when_available(monkeypatch: pytest.MonkeyPatch) -> None:
    from ui.gpu import on_gpu

    def handler(x: int) -> int:
        return x + 1

    monkeypatch.delitem(sys.modules, "spaces", raising=False)
    monkeypatch.setattr("builtins.__import__", _no_spaces(__import__))
    assert on_gpu(60)(handler) is handler  # no ZeroGPU: unchanged
    monkeypatch.undo()
    seen: list[int] = []

    def gpu(duration: int):  # noqa: ANN202
        seen.append(duration)
        return lambda fn: types.SimpleNamespace(wrapped=fn)

    monkeypatch.setitem(sys.modules, "spaces", types.SimpleNamespace(GPU=gpu))
    assert on_gpu(90.5)(handler).wrapped is handler and seen == [90]


def _no_spaces(real):  # noqa: ANN001, ANN202
    def fake(name, *args, **kwargs):  # noqa: ANN001, ANN202
        if name == "spaces":
            raise ImportError(name)
        return real(name, *args, **kwargs)

    return fake


def test_limits_come_from_the_environment() -> None:
    assert limits({}) == Limits()
    got = limits(
        {"STUDIO_MAX_UPLOAD_BYTES": "1_000", "STUDIO_MAX_TRAIN_SECONDS": "2.5", "STUDIO_TRAININGS_PER_GPU": "3"}
    )
    assert (got.upload_bytes, got.train_seconds, got.trainings_per_gpu) == (1000, 2.5, 3)
    for bad in ("0", "-4", "many", "nan", "inf", "1.5"):
        with pytest.raises(StudioError, match="STUDIO_MAX_IMAGE_PIXELS must be"):
            limits({"STUDIO_MAX_IMAGE_PIXELS": bad})
    readme = (ROOT / "README.md").read_text()
    assert all(f"`{var}`" in readme for var in ENV)  # every limit is documented


def test_a_malformed_limit_stops_the_start_with_its_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ui.app import launch

    monkeypatch.setenv("STUDIO_DATA", str(tmp_path / "d"))
    monkeypatch.setenv("STUDIO_MAX_VIDEO_SECONDS", "ten")
    with pytest.raises(SystemExit, match="error: STUDIO_MAX_VIDEO_SECONDS must be a number greater than 0, got 'ten'"):
        launch()  # before anything is built or served
