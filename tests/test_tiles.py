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


def test_tiles_use_whole_image_statistics(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without shared statistics every tile would normalise itself; check the recorded path is used."""
    model = tiny_model()
    net = model.network
    x = torch.from_numpy(synthetic_photo(256, 256, seed=4)).permute(2, 0, 1)[None].float() / 255
    style = model.style_vector()[None]
    calls: list[str | None] = []
    original = engine.forward_padded

    def spy(n, t, s, stats=None):  # noqa: ANN001, ANN202
        calls.append(None if stats is None else "record" if stats.recording else "use")
        return original(n, t, s, stats)

    def attributes() -> list[dict[str, object]]:
        return [{k: v for k, v in vars(n).items() if not k.startswith("_")} for n in net.norms()]

    before = attributes()
    monkeypatch.setattr(engine, "forward_padded", spy)
    engine.run_network(net, x, style, tile=128)
    assert calls[0] == "record" and set(calls[1:]) == {"use"} and len(calls) == 1 + 9
    assert attributes() == before  # the statistics were the call's own: nothing written onto the network


def test_out_of_memory_retries_with_smaller_tiles(monkeypatch: pytest.MonkeyPatch) -> None:
    model = tiny_model()
    x = torch.rand(1, 3, 300, 300)
    style = model.style_vector()[None]
    original = engine.forward_padded
    sizes: list[int] = []

    def picky(n, t, s, stats=None):  # noqa: ANN001, ANN202
        sizes.append(max(t.shape[-2:]))
        if max(t.shape[-2:]) > 160:
            raise torch.OutOfMemoryError("fake")
        return original(n, t, s, stats)

    monkeypatch.setattr(engine, "forward_padded", picky)
    y = engine.run_network(model.network, x, style, tile=512)
    assert y.shape == x.shape and max(sizes) > 160 and sizes[-1] <= 128


def test_out_of_memory_at_every_tile_size_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from studio import StudioError

    def full(n, t, s, stats=None):  # noqa: ANN001, ANN202
        raise torch.OutOfMemoryError("fake")

    monkeypatch.setattr(engine, "forward_padded", full)
    model = tiny_model()
    with pytest.raises(StudioError, match="out of memory on cpu even in 128 px tiles"):
        engine.run_network(model.network, torch.rand(1, 3, 300, 300), model.style_vector()[None], tile=512)


def test_threads_stylizing_one_model_get_the_serial_results() -> None:
    """Tiled stylizing keeps its statistics per call: threads sharing one model (no lock) get exactly what
    one thread gets, each with its own style and intensity."""
    from concurrent.futures import ThreadPoolExecutor

    model = tiny_model(num_styles=2)
    photos = [synthetic_photo(200, 150, seed=s).astype(np.float32) / 255 for s in range(2)]  # 2 x 2 tiles
    jobs = [(photo, style, amount) for photo in photos for style, amount in ((0, 1.0), (1, 0.6), ([0.3, 0.7], 0.8))]

    def run(job: tuple[np.ndarray, object, float]) -> np.ndarray:
        photo, style, amount = job
        return model.stylize(photo, style, intensity=amount, tile_size=128)

    serial = [run(job) for job in jobs]
    with ThreadPoolExecutor(max_workers=6) as pool:
        for _ in range(2):
            together = list(pool.map(run, jobs))
            assert all(np.array_equal(a, b) for a, b in zip(serial, together, strict=True))
