"""ONNX export: dynamic sizes, multi-style weights, metadata, and agreement with PyTorch (onnxruntime)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from conftest import tiny_model

from studio.cli import main
from studio.errors import StudioError
from studio.export.onnx import OnnxWrapper, check_onnx


@pytest.fixture(scope="module")
def multi_onnx(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    """A 3-style video model exported with metadata: a base ExportMetadata, some of it replaced by keywords (an
    export takes ~7 s of a 2-core CPU, so the tests share this one)."""
    from studio.export.metadata import ExportMetadata

    model = tiny_model(num_styles=3, use_case="video")
    base = ExportMetadata(author="Ann", license="CC0")
    path = model.export_onnx(
        tmp_path_factory.mktemp("onnx") / "multi.onnx",
        max_size=1024,
        metadata=base,
        version="3",
        description="Test model",
    )
    return path, model


def test_onnx_inputs_outputs_and_metadata(multi_onnx: tuple[Path, object]) -> None:
    path, model = multi_onnx
    proto = onnx.load(str(path))
    inputs = {i.name: i for i in proto.graph.input}
    assert list(inputs) == ["image", "style_weights"] and [o.name for o in proto.graph.output] == ["stylizedImage"]
    dims = inputs["image"].type.tensor_type.shape.dim
    assert dims[0].dim_value == 1 and dims[1].dim_value == 3
    assert dims[2].dim_param and dims[3].dim_param  # dynamic height and width
    assert max(op.version for op in proto.opset_import if op.domain in ("", "ai.onnx")) >= 17
    meta = {p.key: p.value for p in proto.metadata_props}
    assert json.loads(meta["style_names"]) == ["s0", "s1", "s2"] and meta["use_case"] == "video"
    assert json.loads(meta["studio_config"])["style_density"] == 256
    assert "0..1" in meta["image"] and "style_weights" in meta


@pytest.mark.parametrize(("h", "w"), [(64, 64), (131, 97), (200, 333)])
def test_onnx_matches_pytorch_at_any_size(multi_onnx: tuple[Path, object], h: int, w: int) -> None:
    path, model = multi_onnx
    assert check_onnx(path, model.network, h, w) < 1e-4


def test_onnx_style_weights_select_and_blend(multi_onnx: tuple[Path, object]) -> None:
    path, model = multi_onnx
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    image = np.random.default_rng(1).random((1, 3, 80, 72), dtype=np.float32)

    def run(weights: list[float]) -> np.ndarray:
        return session.run(None, {"image": image, "style_weights": np.array([weights], np.float32)})[0]

    one_hot = run([0, 1, 0])
    expected = model.stylize(image[0].transpose(1, 2, 0), style=1)
    assert np.abs(one_hot[0].transpose(1, 2, 0) - expected).max() < 1e-4
    assert np.allclose(run([0, 2, 0]), one_hot, atol=1e-5)  # weights are normalised
    assert np.abs(run([1, 1, 0]) - one_hot).mean() > 1e-3


def test_impossible_exports_are_refused(tmp_path: Path) -> None:
    model = tiny_model()
    with pytest.raises(StudioError, match="at least 64"):
        model.export_onnx(tmp_path / "m.onnx", min_size=32)
    with pytest.raises(StudioError, match="must not be below"):
        model.export_onnx(tmp_path / "m.onnx", min_size=256, max_size=128)
    with pytest.raises(StudioError, match=r"\.onnx"):
        model.export_onnx(tmp_path / "m.mlpackage")
    assert not list(tmp_path.iterdir())


def test_cli_export_of_a_single_style_model_has_only_the_image_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = tiny_model(num_styles=1, use_case="video")
    model.save(tmp_path / "m.safetensors")
    assert main(["export", str(tmp_path / "m.safetensors"), "--format", "onnx", "-o", str(tmp_path / "m.onnx")]) == 0
    out = capsys.readouterr().out
    assert "max abs difference" in out and (tmp_path / "m.onnx").is_file()
    assert [i.name for i in onnx.load(str(tmp_path / "m.onnx")).graph.input] == ["image"]
    assert check_onnx(tmp_path / "m.onnx", model.network, 90, 64) < 1e-4
    with torch.no_grad():  # the wrapper crops the padded result back to the input's size
        assert OnnxWrapper(model.network)(torch.rand(1, 3, 65, 70)).shape == (1, 3, 65, 70)
    assert main(["export", str(tmp_path / "m.safetensors"), "--format", "onnx", "--min-size", "8", "-o", "x.onnx"]) == 2


def test_export_metadata_is_checked_and_merged() -> None:
    from studio.export.metadata import ExportMetadata

    meta = ExportMetadata.of(author="Ann", version="2")
    assert (meta.author, meta.version, meta.license) == ("Ann", "2", ExportMetadata().license)
    assert ExportMetadata.of(meta, author="Bo") == ExportMetadata("Bo", meta.license, "2")  # the rest kept
    config = tiny_model(num_styles=2).config
    assert meta.describe(config).startswith("Style transfer (s0, s1)")
    assert ExportMetadata(description="Mine").describe(config) == "Mine"
    for bad, shown in (({"author": "two\nlines"}, "'two\\\\nlines'"), ({"license": 3}, "3"), ({"version": "x\r"}, "")):
        with pytest.raises(StudioError, match=f"{next(iter(bad))} must be one line.*{shown}"):
            ExportMetadata(**bad)
    with pytest.raises(StudioError, match="description must be one line.*…"):
        ExportMetadata(description="x" * 1001)


def test_onnx_metadata_from_the_dataclass_and_the_keywords(multi_onnx: tuple[Path, object], tmp_path: Path) -> None:
    from studio.export.onnx import export_onnx

    path, model = multi_onnx  # exported with ExportMetadata(author="Ann", license="CC0"), version and description
    proto = onnx.load(str(path))
    meta = {p.key: p.value for p in proto.metadata_props}
    assert (meta["author"], meta["license"], meta["version"]) == ("Ann", "CC0", "3")
    assert proto.doc_string.startswith("Test model. ")
    with pytest.raises(StudioError, match="author must be one line"):
        model.export_onnx(tmp_path / "n.onnx", author="a\nb")
    plain = export_onnx(model.network, model.config, tmp_path / "p.onnx")  # the function: network and config
    assert {p.key: p.value for p in onnx.load(str(plain)).metadata_props}["author"] == "Style Studio user"
    assert not (tmp_path / "n.onnx").exists()


def test_cli_refuses_bad_metadata_before_any_work(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "m.onnx"
    assert main(["export", str(tmp_path / "missing.safetensors"), "-o", str(out), "--author", "a\nb"]) == 2
    assert "author must be one line" in capsys.readouterr().err and not out.exists()
