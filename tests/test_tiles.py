from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import synthetic_photo, tiny_model

from studio.infer import stylize as engine


def _boundary_step(img: np.ndarray, cols: list[int]) -> float:
    """Mean absolute jump between neighbouring columns at the given columns."""
    d = np.abs(np.diff(img.astype(float), axis=1)).mean(axis=(0, 2))
    return float(np.mean([d[c - 1] for c in cols]))


@pytest.mark.parametrize("use_case", ["video", "image"])
def test_tiles_match_the_whole_image_without_seams(use_case: str) -> None:
    model = tiny_model(use_case=use_case)
    img = synthetic_photo(300, 220, seed=3).astype(np.float32) / 255
    whole = model.stylize(img, tile_size=4096)  # one piece
    tiled = model.stylize(img, tile_size=128)  # 3 x 2 tiles with 64 px cross-fades
    assert tiled.shape == whole.shape
    # Statistics come from the image downscaled 2.3x to one tile, so the match is close, not exact.
    assert np.abs(tiled - whole).mean() < 0.05
    # tile starts for width 300, tile 128, overlap 64: 0, 64, 128, 172 -> fades end at 128, 192, 236
    seams = [128, 192, 236]
    others = [c for c in range(20, 280, 7) if all(abs(c - s) > 3 for s in seams)]
    assert _boundary_step(tiled, seams) < 1.5 * _boundary_step(tiled, others) + 0.01


def test_tiles_use_whole_image_statistics() -> None:
    """Without shared statistics every tile would normalise itself; check the recorded path is used."""
    model = tiny_model()
    net = model.network
    x = torch.from_numpy(synthetic_photo(256, 256, seed=4)).permute(2, 0, 1)[None].float() / 255
    style = model.style_vector()[None]
    calls: list[str | None] = []
    original = engine._forward_padded

    def spy(n, t, s):  # noqa: ANN001, ANN202
        calls.append(net.norms()[0].stats_mode)
        return original(n, t, s)

    engine._forward_padded = spy
    try:
        engine.run_network(net, x, style, tile=128)
    finally:
        engine._forward_padded = original
    assert calls[0] == "record" and set(calls[1:]) == {"use"} and len(calls) == 1 + 9
    assert all(norm.stats_mode is None and norm.stats is None for norm in net.norms())


def test_out_of_memory_retries_with_smaller_tiles(monkeypatch: pytest.MonkeyPatch) -> None:
    model = tiny_model()
    x = torch.rand(1, 3, 300, 300)
    style = model.style_vector()[None]
    original = engine._forward_padded
    sizes: list[int] = []

    def picky(n, t, s):  # noqa: ANN001, ANN202
        sizes.append(max(t.shape[-2:]))
        if max(t.shape[-2:]) > 160:
            raise torch.OutOfMemoryError("fake")
        return original(n, t, s)

    monkeypatch.setattr(engine, "_forward_padded", picky)
    y = engine.run_network(model.network, x, style, tile=512)
    assert y.shape == x.shape and max(sizes) > 160 and sizes[-1] <= 128


def test_out_of_memory_at_every_tile_size_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from studio import StudioError

    def full(n, t, s):  # noqa: ANN001, ANN202
        raise torch.OutOfMemoryError("fake")

    monkeypatch.setattr(engine, "_forward_padded", full)
    model = tiny_model()
    with pytest.raises(StudioError, match="out of memory on cpu even in 128 px tiles"):
        engine.run_network(model.network, torch.rand(1, 3, 300, 300), model.style_vector()[None], tile=512)
