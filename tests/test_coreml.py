"""Core ML export (.mlpackage and .mlmodel): the saved spec read back, and the saved file run by the reference
interpreters and compared with PyTorch (Core ML itself predicts only on macOS)."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import tiny_model

from studio.cli import main
from studio.errors import StudioError
from studio.export.coreml import check_coreml, read_spec
from studio.export.coreml_reference import load_program, run_neural_network, run_program
from studio.model import StyleModel

pytest.importorskip("coremltools")


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else path.stat().st_size


@pytest.fixture(scope="module")
def multi(tmp_path_factory: pytest.TempPathFactory) -> tuple[StyleModel, Path, Path]:
    """A 3-style video model exported both ways, with metadata."""
    model = tiny_model(num_styles=3, use_case="video")
    folder = tmp_path_factory.mktemp("coreml")
    meta = {"author": "Ann Artist", "license": "CC-BY-4.0", "version": "2.1", "description": "Three test styles"}
    package = model.export_coreml(folder / "Multi.mlpackage", **meta)
    legacy = model.export_coreml(folder / "Multi.mlmodel", **meta)
    return model, package, legacy


@pytest.fixture(scope="module")
def image_exports(tmp_path_factory: pytest.TempPathFactory) -> tuple[StyleModel, Path, Path]:
    """A single-style image-use-case model (the full resnet-16) exported both ways, defaults only."""
    model = tiny_model(num_styles=1, use_case="image")
    folder = tmp_path_factory.mktemp("coreml-image")
    return model, model.export_coreml(folder / "Image.mlpackage"), model.export_coreml(folder / "Image.mlmodel")


@pytest.fixture(scope="module")
def float32_export(tmp_path_factory: pytest.TempPathFactory) -> tuple[StyleModel, Path]:
    """A single-style video model exported at float32 precision (made once: two tests read it)."""
    model = tiny_model(num_styles=1, use_case="video")
    return model, model.export_coreml(tmp_path_factory.mktemp("coreml-fp32") / "P.mlpackage", precision="float32")


def test_mlpackage_spec(multi: tuple[StyleModel, Path, Path]) -> None:
    import coremltools as ct
    from coremltools.converters.mil.mil.ops.registry import SSAOpRegistry

    model, package, _ = multi
    info = read_spec(package)
    assert info["format"] == "mlprogram" and info["opset"] == "CoreML6"  # iOS 16 / macOS 13
    assert info["inputs"] == {"image": "imageType", "index": "multiArrayType"}
    assert info["outputs"] == {"stylizedImage": "imageType"}
    assert info["color_space"] == "RGB"
    assert info["flexibility"] == "imageSizeRange"
    assert info["sizes"] == {"height": (64, 2048), "width": (64, 2048)}
    out = info["spec"].description.output[0].type.imageType.imageSizeRange
    assert (out.heightRange.lowerBound, out.widthRange.upperBound) == (64, 2048)  # output range stated too
    index = info["spec"].description.input[1].type.multiArrayType
    assert list(index.shape) == [3]
    # every op exists in the iOS 16 opset
    for op in info["ops"]:
        if op == "const":
            continue
        assert op in SSAOpRegistry.core_ops, op
        assert min(SSAOpRegistry.core_ops[op]) <= ct.target.iOS16, op


def test_metadata(multi: tuple[StyleModel, Path, Path]) -> None:
    model, package, legacy = multi
    for path in (package, legacy):
        info = read_spec(path)
        assert (info["author"], info["license"], info["version"]) == ("Ann Artist", "CC-BY-4.0", "2.1")
        assert info["description"] == "Three test styles"
        user = info["user_defined"]
        assert json.loads(user["com.stylestudio.style_names"]) == ["s0", "s1", "s2"]
        assert user["com.stylestudio.style_strength"] == "5.0" and user["com.stylestudio.style_density"] == "256"
        assert user["com.stylestudio.use_case"] == "video" and user["com.stylestudio.iterations"] == "0"
        assert "com.stylestudio.package_version" in user
        assert json.loads(user["com.stylestudio.config"])["network"]["num_styles"] == 3
        assert "64 to 2048" in info["input_descriptions"]["image"] or "512x512" in info["input_descriptions"]["image"]
        assert "s2" in info["input_descriptions"]["index"]
        assert info["output_descriptions"]["stylizedImage"]


def test_default_metadata_describes_the_model(image_exports: tuple[StyleModel, Path, Path]) -> None:
    info = read_spec(image_exports[1])
    assert "s0" in info["description"] and "image model" in info["description"]
    assert info["author"] and info["license"] and info["version"] == "1.0"


@pytest.mark.parametrize(("h", "w"), [(64, 64), (131, 97), (96, 200)])
def test_mlpackage_file_matches_pytorch(multi: tuple[StyleModel, Path, Path], h: int, w: int) -> None:
    model, package, _ = multi
    assert check_coreml(package, model.network, h, w) < 0.01  # fp16 storage of every intermediate: < 2.6 of 255


def test_mlmodel_is_fixed_size_ios13_with_fp16_weights(multi: tuple[StyleModel, Path, Path]) -> None:
    model, _, legacy = multi
    info = read_spec(legacy)
    assert info["format"] == "neuralnetwork" and info["specification_version"] == 4  # iOS 13
    assert info["flexibility"] == "fixed" and info["sizes"] == (512, 512)
    assert info["inputs"] == {"image": "imageType", "index": "multiArrayType"}
    convs = [
        layer.convolution for layer in info["spec"].neuralNetwork.layers if layer.WhichOneof("layer") == "convolution"
    ]
    torch_convs = [m for m in model.network.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == len(torch_convs)
    for conv, ref in zip(convs, torch_convs, strict=True):
        stored = np.frombuffer(conv.weights.float16Value, dtype=np.float16)
        assert stored.size and np.array_equal(stored, ref.weight.detach().numpy().astype(np.float16).ravel())
    assert check_coreml(legacy, model.network) < 0.01


def test_style_index_selects_and_blends(multi: tuple[StyleModel, Path, Path]) -> None:
    model, package, legacy = multi
    image = np.random.default_rng(3).random((1, 3, 96, 128), dtype=np.float32)
    program = load_program(package)

    def run(weights: list[float]) -> np.ndarray:
        feeds = {"image": (image * 255).round(), "index": np.array(weights, np.float32)}
        return run_program(program, feeds)["stylizedImage"][0].transpose(1, 2, 0) / 255

    one_hot = run([0, 1, 0])
    expected = model.stylize((image[0].transpose(1, 2, 0) * 255).round() / 255, style=1)
    assert np.abs(one_hot - expected).max() < 0.01
    assert np.abs(run([0, 5, 0]) - one_hot).max() < 0.01  # weights are divided by their sum
    assert np.abs(run([1, 1, 0]) - one_hot).mean() > 0.01
    # the .mlmodel takes the same input
    big = np.random.default_rng(4).random((1, 3, 512, 512), dtype=np.float32)
    out = run_neural_network(read_spec(legacy)["spec"], {"image": (big * 255).round(), "index": np.eye(3)[2]})
    expected = model.stylize((big[0].transpose(1, 2, 0) * 255).round() / 255, style=2)
    assert np.abs(out["stylizedImage"][0].transpose(1, 2, 0) / 255 - expected).max() < 0.01


def test_image_use_case_sizes_and_single_input(image_exports: tuple[StyleModel, Path, Path]) -> None:
    model, package, legacy = image_exports
    assert model.num_parameters > 1_600_000
    assert _size(package) <= 3.5e6 and _size(legacy) <= 3.5e6
    for path in (package, legacy):
        assert read_spec(path)["inputs"] == {"image": "imageType"}
    assert check_coreml(package, model.network) < 0.01


def test_video_use_case_is_under_one_megabyte(multi: tuple[StyleModel, Path, Path]) -> None:
    _, package, legacy = multi
    assert _size(package) < 1e6 and _size(legacy) < 1e6


def test_mixed_precision_keeps_instance_norm_in_fp32(multi: tuple[StyleModel, Path, Path]) -> None:
    from coremltools.converters.mil.mil import types

    program = load_program(multi[1])
    ops = list(program.functions["main"].operations)
    norms = [op for op in ops if op.op_type == "instance_norm"]
    convs = [op for op in ops if op.op_type == "conv"]
    assert norms and all(op.x.dtype == types.fp32 for op in norms)
    assert convs and all(op.weight.dtype == types.fp16 for op in convs)


def test_enumerated_fixed_and_float32(tmp_path: Path, float32_export: tuple[StyleModel, Path]) -> None:
    model = tiny_model(num_styles=1, use_case="video")
    enumerated = model.export_coreml(tmp_path / "E.mlpackage", sizes=[(512, 384), 256])
    info = read_spec(enumerated)
    assert info["flexibility"] == "enumeratedSizes" and info["sizes"] == [(512, 384), (256, 256)]
    assert check_coreml(enumerated, model.network, 256, 256) < 0.01
    fixed = model.export_coreml(enumerated, size=(130, 99))  # over the enumerated one: replaced whole
    assert read_spec(fixed)["sizes"] == (130, 99)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["E.mlpackage"]  # no temporary folders left
    with torch.no_grad():  # a fixed size is padded like StyleModel.stylize, so the two agree everywhere
        image = np.random.default_rng(5).random((130, 99, 3), dtype=np.float32)
        out = run_program(load_program(fixed), {"image": (image.transpose(2, 0, 1)[None] * 255).round()})
        expected = model.stylize((image * 255).round() / 255)
        assert np.abs(out["stylizedImage"][0].transpose(1, 2, 0) / 255 - expected).max() < 0.01
    same, exact = float32_export  # tiny_model(num_styles=1, use_case="video") again, exported at float32
    assert check_coreml(exact, same.network) < 1e-4  # the interpreter follows the file to fp32 rounding


def test_check_fails_when_the_file_does_not_match(float32_export: tuple[StyleModel, Path]) -> None:
    model, path = float32_export
    network = copy.deepcopy(model.network)  # the shared model stays as exported
    with torch.no_grad():
        network.head.weight.mul_(1.5)  # the network changes after the export
    assert check_coreml(path, model.network) < 1e-4 and check_coreml(path, network) > 0.01


def test_impossible_requests_are_refused(tmp_path: Path) -> None:
    model = tiny_model(num_styles=1, use_case="video")
    cases = [
        (tmp_path / "m.mlmodel", {"min_size": 64, "max_size": 1024}, "fixed image size"),
        (tmp_path / "m.mlmodel", {"sizes": [256, 512]}, "fixed image size"),
        (tmp_path / "m.mlpackage", {"min_size": 32}, "at least 64"),
        (tmp_path / "m.mlpackage", {"size": 48}, "between 64"),
        (tmp_path / "m.mlpackage", {"min_size": 512, "max_size": 256}, "must not be below"),
        (tmp_path / "m.mlpackage", {"size": 256, "sizes": [256]}, "one of"),
        (tmp_path / "m.mlpackage", {"precision": "int8"}, "precision"),
        (tmp_path / "m.mlpackage", {"author": "two\nlines"}, "one line"),
        (tmp_path / "m.coreml", {}, r"\.mlpackage or \.mlmodel"),
    ]
    for path, kwargs, message in cases:
        with pytest.raises(StudioError, match=message):
            model.export_coreml(path, **kwargs)
    assert not list(tmp_path.iterdir())


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_cli_export_core_ml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tiny_model(num_styles=2, use_case="video").save(tmp_path / "m.safetensors")
    model = str(tmp_path / "m.safetensors")
    assert main(["export", model, "-o", str(tmp_path / "S.mlpackage"), "--sizes", "640x480,512"]) == 0
    out = capsys.readouterr().out
    assert "S.mlpackage" in out and "max abs difference" in out
    assert read_spec(tmp_path / "S.mlpackage")["sizes"] == [(480, 640), (512, 512)]
    args = ["export", model, "--format", "mlmodel", "-o", str(tmp_path / "S.mlmodel"), "--size", "301x203"]
    assert main([*args, "--author", "Ann", "--model-version", "3"]) == 0
    info = read_spec(tmp_path / "S.mlmodel")
    assert info["sizes"] == (203, 301) and info["author"] == "Ann" and info["version"] == "3"
    assert (tmp_path / "S.mlmodel").stat().st_mode & 0o777 == 0o666 & ~_umask()  # atomic, yet not private
    capsys.readouterr()
    bad = [
        ["-o", str(tmp_path / "x.mlmodel"), "--min-size", "100"],
        ["-o", str(tmp_path / "x.mlpackage"), "--format", "mlmodel"],
        ["-o", str(tmp_path / "x.onnx"), "--size", "512"],
        ["-o", str(tmp_path / "x.mlpackage"), "--size", "12x"],
        ["-o", str(tmp_path / "x.png")],
    ]
    for extra in bad:
        assert main(["export", model, *extra]) == 2
        err = capsys.readouterr().err
        assert err.startswith("studio export: error:") and len(err.strip().splitlines()) == 1
    assert not list(tmp_path.glob("x.*"))
