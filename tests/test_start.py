"""The pre-trained start: per-style parameters mixed from the styles it knows that look most like the new one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from studio.config import NetworkConfig
from studio.errors import StudioError
from studio.io.images import resize_long, to_tensor
from studio.nn.lossnet import load_vgg
from studio.nn.networks import build_network
from studio.train.start import DESCRIPTOR_KEY, load_init, mixing_weights, save_init, style_descriptors


def three_style_start(path: Path) -> tuple[torch.nn.Module, torch.Tensor]:
    """A video-net start of 3 styles whose gammas are 1, 2 and 3 everywhere, with orthogonal descriptors."""
    torch.manual_seed(0)
    net = build_network(NetworkConfig.for_use_case("video", num_styles=3))
    with torch.no_grad():
        for norm in net.norms():
            norm.gamma.copy_(torch.arange(1.0, 4.0)[:, None].expand_as(norm.gamma))
            norm.beta.normal_()
    descriptors = torch.eye(3, 8)
    save_init(net, path, descriptors, ["a", "b", "c"])
    return net, descriptors


def test_a_new_style_starts_from_the_known_style_it_resembles(tmp_path: Path) -> None:
    src, descriptors = three_style_start(tmp_path / "start.safetensors")
    dst = build_network(NetworkConfig.for_use_case("video", num_styles=2))
    # style 0 looks like known style "b", style 1 halfway between "b" and "c"
    wanted = torch.stack([descriptors[1], descriptors[1] + descriptors[2]])
    load_init(dst, "video", wanted, path=tmp_path / "start.safetensors")
    for norm in dst.norms():
        assert torch.allclose(norm.gamma[0], torch.full_like(norm.gamma[0], 2.0), atol=1e-3)
        assert torch.allclose(norm.gamma[1], torch.full_like(norm.gamma[1], 2.5), atol=1e-3)  # (2 + 3) / 2
    b = {k: v for k, v in src.state_dict().items() if k.endswith(".beta")}
    for key, value in dst.state_dict().items():
        if key.endswith(".beta"):
            assert torch.allclose(value[0], b[key][1].half().float(), atol=1e-3)
        elif not key.endswith(".gamma"):  # shared weights as they are (fp16 in the file)
            assert torch.allclose(value, src.state_dict()[key].half().float())


def test_without_a_descriptor_the_start_is_the_mean_of_its_styles(tmp_path: Path) -> None:
    three_style_start(tmp_path / "start.safetensors")
    dst = build_network(NetworkConfig.for_use_case("video"))
    load_init(dst, "video", None, path=tmp_path / "start.safetensors")
    assert all(torch.allclose(n.gamma, torch.full_like(n.gamma, 2.0), atol=1e-3) for n in dst.norms())


def test_mixing_weights_sharpen_with_the_temperature() -> None:
    known = torch.tensor([[1.0, 0.0], [0.8, 0.6]])
    query = torch.tensor([[0.9, 0.1]])
    soft, sharp = mixing_weights(query, known, 2, 1.0), mixing_weights(query, known, 2, 0.01)
    assert torch.allclose(soft.sum(1), torch.ones(1)) and torch.allclose(sharp.sum(1), torch.ones(1))
    assert 0.5 < soft[0, 0] < 0.6 and sharp[0, 0] > 0.99


def test_a_start_that_does_not_fit_is_named(tmp_path: Path) -> None:
    three_style_start(tmp_path / "start.safetensors")
    with pytest.raises(StudioError, match="does not fit the image network"):
        load_init(build_network(NetworkConfig.for_use_case("image")), "image", path=tmp_path / "start.safetensors")
    (tmp_path / "bad.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(StudioError, match="unreadable"):
        load_init(build_network(NetworkConfig.for_use_case("video")), "video", path=tmp_path / "bad.safetensors")


def test_descriptors_tell_styles_apart() -> None:
    """A painting's descriptor is closer to a recoloured crop of itself than to a different painting's."""
    from conftest import stripes

    vgg = load_vgg("hed")
    a = stripes(96, 96, period=8, seed=1).astype(np.float32) / 255
    b = stripes(96, 96, period=24, seed=2).astype(np.float32) / 255
    a2 = a[8:88, 8:88] * 0.9
    d = style_descriptors(vgg, [resize_long(to_tensor(x), 96) for x in (a, a2, b)])
    assert d.shape == (3, 2 * (64 + 128 + 256 + 512))
    assert torch.allclose(d.norm(dim=1), torch.ones(3), atol=1e-5)
    assert float(d[0] @ d[1]) > float(d[0] @ d[2])


def test_the_shipped_starts_know_many_styles() -> None:
    from safetensors import safe_open

    from studio.train.start import init_path

    for use_case in ("image", "video"):
        with safe_open(str(init_path(use_case)), framework="pt") as f:
            assert f.get_slice(DESCRIPTOR_KEY).get_shape()[0] >= 50
            assert f.get_slice("down.0.norm.gamma").get_shape()[0] == f.get_slice(DESCRIPTOR_KEY).get_shape()[0]
