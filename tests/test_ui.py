"""The browser studio through its API (gradio_client against the launched app): what a script or the page
can do, with engine errors arriving as clear messages."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from conftest import stripes, synthetic_photo
from PIL import Image

gr = pytest.importorskip("gradio")
from gradio_client import Client, handle_file  # noqa: E402

from ui import build_app  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    demo = build_app()
    port = _free_port()
    demo.queue().launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        yield Client(f"http://127.0.0.1:{port}/", verbose=False)
    finally:
        demo.close()


def _blend(n: int = 11) -> list[float]:
    """All blend sliders at zero (one per shipped preset)."""
    return [0.0] * n


def test_endpoints_are_named(client: Client) -> None:
    names = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert {"/stylize", "/quicklook"} <= names


def test_stylize_a_photo_with_a_preset(client: Client, tmp_path: Path) -> None:
    photo = synthetic_photo(200, 150, 0)
    Image.fromarray(photo).save(tmp_path / "photo.png")
    (before, after), download = client.predict(
        handle_file(str(tmp_path / "photo.png")), "Neon lines", "image", 1.0, False, 1536, *_blend(),
        api_name="/stylize",
    )  # fmt: skip
    result = np.asarray(Image.open(after).convert("RGB"), np.float32)
    assert result.shape == (150, 200, 3)
    assert np.abs(result - photo).mean() > 8
    assert np.array_equal(np.asarray(Image.open(download).convert("RGB")), result.astype(np.uint8))
    assert np.abs(np.asarray(Image.open(before).convert("RGB"), np.float32) - photo).mean() < 1


def test_blend_and_video_model(client: Client, tmp_path: Path) -> None:
    Image.fromarray(synthetic_photo(96, 80, 1)).save(tmp_path / "p.png")
    weights = _blend()
    weights[0], weights[3] = 0.5, 0.5
    args = (handle_file(str(tmp_path / "p.png")), "Blend presets (weights below)", "video", 0.8, True, 512)
    (_, after), _ = client.predict(*args, *weights, api_name="/stylize")
    assert Image.open(after).size == (96, 80)


def test_errors_reach_the_user_as_messages(client: Client, tmp_path: Path) -> None:
    Image.fromarray(synthetic_photo(64, 64, 2)).save(tmp_path / "p.png")
    with pytest.raises(Exception, match="Drop a photo first"):
        client.predict(None, "Neon lines", "image", 1.0, False, 1536, *_blend(), api_name="/stylize")
    with pytest.raises(Exception, match="at least one blend weight"):
        client.predict(
            handle_file(str(tmp_path / "p.png")), "Blend presets (weights below)", "image", 1.0, False, 512,
            *_blend(), api_name="/stylize",
        )  # fmt: skip


@pytest.mark.slow  # the real loss network
def test_quicklook_endpoint(client: Client, tmp_path: Path) -> None:
    Image.fromarray(stripes(96, 96, period=10)).save(tmp_path / "s.png")
    Image.fromarray(synthetic_photo(160, 120, 3)).save(tmp_path / "p.png")
    out = client.predict(
        handle_file(str(tmp_path / "s.png")), handle_file(str(tmp_path / "p.png")), 5, 256, 128, 5,
        api_name="/quicklook",
    )  # fmt: skip
    assert Image.open(out).size == (128, 96)
    Image.fromarray(stripes(8, 8, period=4)).save(tmp_path / "tiny.png")
    with pytest.raises(Exception, match="too small"):  # the engine's message, not a traceback
        client.predict(
            handle_file(str(tmp_path / "tiny.png")), handle_file(str(tmp_path / "p.png")), 5, 256, 128, 5,
            api_name="/quicklook",
        )  # fmt: skip
    with pytest.raises(Exception, match="greater than maximum"):  # the UI's own range check
        client.predict(
            handle_file(str(tmp_path / "s.png")), handle_file(str(tmp_path / "p.png")), 5, 1030, 128, 5,
            api_name="/quicklook",
        )  # fmt: skip


@pytest.mark.slow  # a real (short) training run on the CPU
def test_train_streams_previews_and_ends_with_downloads(client: Client, tmp_path: Path) -> None:
    Image.fromarray(stripes(128, 128, period=12)).save(tmp_path / "style.png")
    photos = []
    for i in range(2):
        Image.fromarray(synthetic_photo(96, 96, i)).save(tmp_path / f"c{i}.png")
        photos.append(handle_file(str(tmp_path / f"c{i}.png")))
    job = client.submit(
        [handle_file(str(tmp_path / "style.png"))], photos, None, 5, 256, "video", 10, api_name="/train"
    )
    outputs = list(job)
    streamed = [o for o in outputs if o[0].startswith("Iteration")]
    assert len(streamed) >= 2 and all(Path(o[1]).is_file() for o in streamed)  # previews with the losses
    assert {row[2] for row in streamed[-1][2]["data"]} == {"style", "content"}
    status, _, _, models = outputs[-1]
    key = models["value"] if isinstance(models, dict) else models  # the dropdown's update: the new model
    assert "done at iteration 10" in status and key
    assert "| iterations | 10 |" in client.predict(key, api_name="/model_card")
    weights = client.predict(key, "safetensors", api_name="/download")
    import studio

    assert studio.load(weights, device="cpu").config.use_case == "video"
    package = client.predict(key, "Core ML (.mlpackage, zipped)", api_name="/download")
    import zipfile

    assert any(n.endswith("Manifest.json") for n in zipfile.ZipFile(package).namelist())
    assert client.predict(api_name="/stop") == "Nothing is training."
    with pytest.raises(Exception, match="at least one style image"):
        client.predict([], photos, None, 5, 256, "video", 10, api_name="/train")
