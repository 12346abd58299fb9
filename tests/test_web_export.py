"""The browser's model file (studio.export.web, issue 18) and the runtime's install (ui.ortweb): the graph is
the server's frame engine (style weights, intensity and colour preservation as inputs), files are cached by
their weights, and the runtime is taken only when it matches its pinned integrity."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch
from conftest import synthetic_photo, tiny_model

from studio.errors import StudioError
from studio.export.web import INPUTS, OUTPUT, export_web, model_key, sweep
from studio.infer.frames import FrameStylizer
from ui import ortweb


def _run(path: Path, frame: np.ndarray, weights: np.ndarray, intensity: float, keep: bool) -> np.ndarray:
    """The browser's steps, in onnxruntime: uint8 RGB -> planes 0..1 -> graph -> floor(v * 255 + 0.5)."""
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feeds = {
        "image": (frame.astype(np.float32) / 255).transpose(2, 0, 1)[None],
        "style_weights": weights.astype(np.float32)[None],
        "intensity": np.array([intensity], np.float32),
        "preserve_color": np.array([float(keep)], np.float32),
    }
    y = session.run([OUTPUT], feeds)[0][0]
    return np.floor(y.transpose(1, 2, 0) * 255 + 0.5).astype(np.uint8)


@pytest.mark.parametrize(
    ("style", "intensity", "keep"), [(None, 1.0, False), (1, 0.5, True), ({0: 0.3, 2: 0.7}, 0.8, False)]
)
def test_the_browsers_graph_is_the_frame_engine(tmp_path: Path, style: object, intensity: float, keep: bool) -> None:
    model = tiny_model(num_styles=3, seed=4)
    path = export_web(model.network, model.config, tmp_path)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == list(INPUTS)
    frame = synthetic_photo(96, 72, seed=2)  # multiples of 4, as the page sends
    weights = model.style_vector(style).numpy() * 5  # unnormalised: the graph normalises
    got = _run(path, frame, weights, intensity, keep)
    want = FrameStylizer(model, style, intensity=intensity, preserve_color=keep, fast=False)(frame)  # type: ignore[arg-type]
    diff = np.abs(got.astype(int) - want.astype(int))
    assert diff.max() <= 1 and diff.mean() < 0.01, (diff.max(), diff.mean())
    assert np.abs(got.astype(int) - frame.astype(int)).mean() > 5  # stylized, not passed through


def test_one_file_per_model_found_again(tmp_path: Path) -> None:
    a, b = tiny_model(seed=1), tiny_model(seed=2)
    first = export_web(a.network, a.config, tmp_path)
    made = first.stat().st_mtime_ns
    os.utime(first, ns=(made - 10**9, made - 10**9))
    again = export_web(a.network, a.config, tmp_path)
    assert again == first and again.stat().st_mtime_ns > made - 10**9  # found (and marked used), not remade
    assert first.read_bytes() == again.read_bytes()
    other = export_web(b.network, b.config, tmp_path)
    assert other != first and model_key(b.network, b.config) != model_key(a.network, a.config)
    with torch.no_grad():
        b.network.head.bias.add_(0.01)  # the same config, other weights: another file
    assert model_key(b.network, b.config) != other.stem
    assert [p.name for p in tmp_path.iterdir() if not p.name.endswith(".onnx")] == []  # no temporary files


def test_sweep_keeps_the_most_recently_used(tmp_path: Path) -> None:
    for i in range(5):
        (tmp_path / f"{i}.onnx").write_bytes(b"x")
        os.utime(tmp_path / f"{i}.onnx", (1000 + i, 1000 + i))
    assert sweep(tmp_path, 2) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["3.onnx", "4.onnx"]


def _tarball(path: Path, files: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"package/dist/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_the_runtime_is_refused_unless_it_is_the_pinned_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STUDIO_CACHE", str(tmp_path / "cache"))
    assert ortweb.installed() is None
    fake = _tarball(tmp_path / "onnxruntime-web.tgz", {name: b"not the runtime" for name in ortweb.FILES})
    with pytest.raises(StudioError, match="differs from the pinned one"):
        ortweb.install(fake)
    assert ortweb.installed() is None and not ortweb.folder().exists()  # nothing half-installed
    assert ortweb.main([str(fake)]) == 1
    assert capsys.readouterr().err.startswith("onnxruntime-web: onnxruntime-web.tgz is not onnxruntime-web 1.30.0")


def test_an_installed_runtime_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the server checks before offering the in-browser path: every file there."""
    monkeypatch.setenv("STUDIO_CACHE", str(tmp_path))
    folder = ortweb.folder()
    folder.mkdir(parents=True)
    for name in ortweb.FILES[:-1]:
        (folder / name).write_bytes(b"x")
    assert ortweb.installed() is None  # one missing: not offered
    (folder / ortweb.FILES[-1]).write_bytes(b"x")
    assert ortweb.installed() == folder
