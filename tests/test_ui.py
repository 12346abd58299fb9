"""The browser studio through its API (gradio_client against the launched app): what a script or the page
can do, with engine errors arriving as clear messages."""

from __future__ import annotations

import socket
import time
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
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    demo = build_app(tmp_path_factory.mktemp("data"))
    port = _free_port()
    demo.queue().launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        yield Client(f"http://127.0.0.1:{port}/", verbose=False)
    finally:
        demo.close()


def _blend(n: int = 11) -> list[float]:
    """All blend sliders at zero (one per shipped preset)."""
    return [0.0] * n


def test_readme_documents_every_endpoint(client: Client) -> None:
    api = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    table = {line.split("`")[1] for line in readme.splitlines() if line.startswith("| `/")}
    assert table == set(api)
    assert len(api["/stylize"]["parameters"]) == 7 + len(_blend())  # as the README's example passes them
    assert len(api["/blend"]["parameters"]) == 1 + len(_blend())


def _photo(tmp_path: Path, w: int, h: int, seed: int) -> tuple[np.ndarray, object]:
    photo = synthetic_photo(w, h, seed)
    path = tmp_path / f"photo-{seed}.png"
    Image.fromarray(photo).save(path)
    return photo, handle_file(str(path))


def _rgb(path: str) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"), np.float32)


def test_stylize_a_photo_with_a_preset(client: Client, tmp_path: Path) -> None:
    photo, file = _photo(tmp_path, 200, 150, 0)
    (before, after), caption, download = client.predict(
        file, "preset:neon-lines", "before", "image", 1.0, False, 1536, *_blend(), api_name="/stylize"
    )
    result = _rgb(after)
    assert result.shape == (150, 200, 3)
    assert np.abs(result - photo).mean() > 8
    assert np.array_equal(_rgb(download), result)
    assert np.abs(_rgb(before) - photo).mean() < 1
    assert caption == "Left: **The photo** · right: **Preset: Neon lines**"


def test_compare_two_presets_side_by_side(client: Client, tmp_path: Path) -> None:
    photo, file = _photo(tmp_path, 128, 96, 4)
    (left, right), caption, _ = client.predict(
        file, "preset:ink-wash", "preset:pop-halftone", "video", 1.0, False, 512, *_blend(), api_name="/stylize"
    )
    (_, ink), _, _ = client.predict(file, "preset:ink-wash", "before", "video", 1.0, False, 512, *_blend(),
                                 api_name="/stylize")  # fmt: skip
    (_, pop), _, _ = client.predict(file, "preset:pop-halftone", "before", "video", 1.0, False, 512, *_blend(),
                                 api_name="/stylize")  # fmt: skip
    assert np.array_equal(_rgb(right), _rgb(ink)) and np.array_equal(_rgb(left), _rgb(pop))
    assert np.abs(_rgb(left) - _rgb(right)).mean() > 8
    assert caption == "Left: **Preset: Pop halftone** · right: **Preset: Ink wash**"


def test_blend_and_video_model(client: Client, tmp_path: Path) -> None:
    _, file = _photo(tmp_path, 96, 80, 1)
    weights = _blend()
    weights[0], weights[3] = 0.5, 0.5
    (_, after), _, _ = client.predict(file, "blend", "before", "video", 0.8, True, 512, *weights, api_name="/stylize")
    assert Image.open(after).size == (96, 80)
    styled = client.predict(file, *weights, api_name="/blend")  # the Styles tab's blend preview (image model)
    assert Image.open(styled).size == (96, 80)


def test_errors_reach_the_user_as_messages(client: Client, tmp_path: Path) -> None:
    _, file = _photo(tmp_path, 64, 64, 2)
    _, caption, _ = client.predict(None, "preset:neon-lines", "before", "image", 1.0, False, 1536, *_blend(),
                                   api_name="/stylize")  # fmt: skip
    assert caption.startswith("Drop a photo")  # no photo: an empty preview asking for one, not an error
    with pytest.raises(Exception, match="at least one blend weight"):
        client.predict(file, "blend", "before", "image", 1.0, False, 512, *_blend(), api_name="/stylize")
    with pytest.raises(Exception, match="unknown style 'preset:nope'"):
        client.predict(file, "preset:nope", "before", "image", 1.0, False, 512, *_blend(), api_name="/stylize")
    with pytest.raises(Exception, match="at least one blend weight"):
        client.predict(file, *_blend(), api_name="/blend")


@pytest.mark.slow  # the real loss network
def test_quicklook_endpoint(client: Client, tmp_path: Path) -> None:
    Image.fromarray(stripes(96, 96, period=10)).save(tmp_path / "s.png")
    Image.fromarray(synthetic_photo(160, 120, 3)).save(tmp_path / "p.png")
    out = client.predict(
        handle_file(str(tmp_path / "s.png")), handle_file(str(tmp_path / "p.png")), 5, 1024, 128, 5,
        api_name="/quicklook",
    )  # fmt: skip  # density 1024: the style at 128 px for the loss network, not 512 (~1 s less on a CPU)
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
    photos = [_photo(tmp_path, 96, 96, i)[1] for i in range(2)]
    import torch

    n = 200 if torch.cuda.is_available() else 10  # a GPU needs more iterations to stream several updates
    style = [handle_file(str(tmp_path / "style.png"))]
    # density 1024: the loss network sees the style at 128 px, not 512 (the run starts ~3 s sooner on a CPU)
    job = client.submit(style, photos, None, 5, 1024, "video", n, api_name="/train")
    outputs, snapshot = [], None
    for out in job:
        outputs.append(out)
        if snapshot is None and out[0].startswith("Iteration"):
            snapshot = client.predict(api_name="/snapshot")  # while training runs: same session
    streamed = [o for o in outputs if o[0].startswith("Iteration")]
    assert len(streamed) >= 2 and all(Path(o[1]).is_file() for o in streamed)  # previews with the losses
    assert all("<progress" in o[0] for o in streamed)  # the progress bar under the status line
    assert {row[2] for row in streamed[-1][2]["data"]} == {"style", "content"}
    status, _, _, models = outputs[-1]
    key = models["value"] if isinstance(models, dict) else models  # the dropdown's update: the new model
    assert f"done at iteration {n}" in status and key
    assert snapshot is not None
    choices, gallery, label = snapshot
    assert label.startswith("style · snapshot at ") and len(gallery) == 1  # named after the painting
    snap_key = next(v for _, v in choices["choices"] if v != key)

    # Preview: the trained model against its snapshot, side by side
    _, file = _photo(tmp_path, 80, 64, 7)
    (left, right), caption, _ = client.predict(
        file, f"mine:{key}", f"mine:{snap_key}", "image", 1.0, False, 512, *_blend(), api_name="/stylize"
    )
    assert _rgb(left).shape == _rgb(right).shape == (64, 80, 3)
    assert caption == f"Left: **Yours: {label}** · right: **Yours: style · video · {n} it**"
    if int(label.split()[-1]) < n:  # on a GPU ten iterations can be over before the snapshot is taken
        assert np.abs(_rgb(left) - _rgb(right)).mean() > 0.1  # the snapshot is an earlier model

    # Output: card and downloads
    assert f"**Trained for** {n} iterations" in client.predict(key, api_name="/model_card")
    weights = client.predict(key, "safetensors", api_name="/download")
    import studio

    assert studio.load(weights, device="cpu").config.use_case == "video"
    assert Path(weights).name == f"style-video-{n}it.safetensors"  # the download is named after the model
    package = client.predict(key, "Core ML (.mlpackage, zipped)", api_name="/download")
    import zipfile

    assert any(n.endswith("Manifest.json") for n in zipfile.ZipFile(package).namelist())
    assert client.predict(api_name="/stop") == "Nothing is training."
    with pytest.raises(Exception, match="at least one style image"):
        client.predict([], photos, None, 5, 256, "video", 10, api_name="/train")

    # Another browser session sees none of it
    other = Client(client.src, verbose=False)
    with pytest.raises(Exception, match="unknown style"):
        other.predict(file, f"mine:{key}", "before", "image", 1.0, False, 512, *_blend(), api_name="/stylize")
    with pytest.raises(Exception, match="belongs to another session"):
        other.predict(key, "safetensors", api_name="/download")


@pytest.mark.slow  # two real trainings, stopped early
def test_one_training_at_a_time_others_queue_and_stylizing_goes_on(client: Client, tmp_path: Path) -> None:
    from gradio_client.utils import Status

    Image.fromarray(stripes(96, 96, period=10)).save(tmp_path / "style.png")
    style = [handle_file(str(tmp_path / "style.png"))]
    photos = [_photo(tmp_path, 96, 96, 9)[1]]
    alice, bob, carol = (Client(client.src, verbose=False) for _ in range(3))
    first = alice.submit(style, photos, None, 5, 256, "video", 1000, api_name="/train")
    while not first.outputs():  # alice's training is running
        assert not first.done(), first.exception()
        time.sleep(0.2)
    second = bob.submit(style, photos, None, 5, 256, "video", 1000, api_name="/train")
    deadline = time.monotonic() + 30
    while (status := second.status()).code != Status.IN_QUEUE and time.monotonic() < deadline:
        time.sleep(0.1)
    assert status.code == Status.IN_QUEUE and status.rank == 0  # bob waits, first in line (shown in his page)
    _, file = _photo(tmp_path, 64, 64, 10)
    out = carol.predict(file, "preset:ink-wash", "before", "video", 1.0, False, 256, *_blend(), api_name="/stylize")
    assert Path(out[0][1]).is_file() and not first.done()  # stylizing was served during the training
    assert second.status().code == Status.IN_QUEUE
    assert second.cancel()  # bob leaves the queue (closing the page does the same)
    assert alice.predict(api_name="/stop") == "Stopping at the next iteration…"
    assert "Training stopped" in first.result()[0]


def test_video_endpoint_stylizes_a_clip_with_sound(client: Client, tmp_path: Path) -> None:
    from test_video import moving_scene, write_video

    from studio.infer.video import probe

    src = write_video(tmp_path / "clip.mp4", moving_scene(10, 96, 64))
    outputs = list(
        client.submit(
            handle_file(str(src)), "preset:ink-wash", "video", 0.7, 1.0, False, 1280, *_blend(), api_name="/video"
        )  # fmt: skip
    )
    status, video = outputs[-1]
    assert status.startswith("Done")
    info = probe(video["video"] if isinstance(video, dict) else video)
    assert (info.width, info.height, info.frames, info.audio) == (96, 64, 10, "aac")
    (tmp_path / "bad.mp4").write_text("no video here")
    with pytest.raises(Exception, match="bad.mp4 is not a readable video"):
        client.predict(handle_file(str(tmp_path / "bad.mp4")), "preset:ink-wash", "video", 0, 1.0, False, 1280,
                       *_blend(), api_name="/video")  # fmt: skip


def test_webcam_handler_follows_the_controls(client: Client) -> None:
    from conftest import tiny_model

    from ui.webcam_tab import STREAM_EVERY, TIME_LIMIT, WebcamFrames

    models = {"preset:a": tiny_model(seed=1), "preset:b": tiny_model(seed=2)}
    handler = WebcamFrames([], lambda spec, case, sid: models[spec], lambda sid: [("A", "preset:a"), ("B", "preset:b")])
    frame = synthetic_photo(160, 120, 5)
    a = handler(frame, None, "preset:a", "video", 1.0, False, 480)
    assert a.shape == frame.shape and a.dtype == np.uint8
    # the CPU's fast path (onnxruntime) is within one level of the photo path
    assert np.abs(a.astype(int) - models["preset:a"].stylize(frame)).max() <= 1
    b = handler(frame, None, "preset:b", "video", 1.0, False, 480)  # style switched mid-stream
    assert np.abs(a.astype(int) - b).mean() > 3
    faint = handler(frame, None, "preset:b", "video", 0.0, False, 480)  # intensity changed mid-stream
    assert np.abs(faint.astype(int) - frame).max() <= 1
    assert handler(frame, None, "preset:a", "video", 1.0, False, 80).shape == (60, 80, 3)  # longest side
    assert handler(None, None, "preset:a", "video", 1.0, False, 480) is None  # camera not started yet
    with pytest.raises(gr.Error, match="unknown style"):
        handler(frame, None, "preset:zzz", "video", 1.0, False, 480)
    # as served: a stream (frames at most every 0.1 s), limited in time
    config = client.config
    dep = next(d for d in config["dependencies"] if d.get("api_name") == "webcam")
    assert dep["trigger_mode"] == "multiple" and dep["stream_every"] == STREAM_EVERY  # "once" stops streams
    assert dep["time_limit"] == TIME_LIMIT and dep["connection"] == "stream"


@pytest.mark.slow  # a real (stopped) training on the CPU
def test_training_limits_per_job(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """STUDIO_MAX_TRAIN_SECONDS counts from the request: a limit that runs out during setup stores nothing
    (a stop mid-training keeps its model: tests/test_abuse_server.py); STUDIO_MAX_ITERATIONS bounds what can
    be asked."""
    monkeypatch.setenv("STUDIO_MAX_TRAIN_SECONDS", "0.001")  # setup takes longer on any machine (an H200 ran
    monkeypatch.setenv("STUDIO_MAX_ITERATIONS", "50")  # an iteration within 0.5 s)
    demo = build_app(tmp_path / "data")
    port = _free_port()
    demo.queue().launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        Image.fromarray(stripes(96, 96, period=10)).save(tmp_path / "style.png")
        style, photos = [handle_file(str(tmp_path / "style.png"))], [_photo(tmp_path, 96, 96, 1)[1]]
        with pytest.raises(Exception, match="greater than maximum value 50"):
            client.predict(style, photos, None, 5, 256, "video", 55, api_name="/train")
        status = client.predict(style, photos, None, 5, 256, "video", 50, api_name="/train")[0]
        assert "this studio's limit of 0.001 s a job, STUDIO_MAX_TRAIN_SECONDS" in status, status
        assert "nothing was stored" in status and "model (" not in status
    finally:
        demo.close()


def test_browser_webcam_gets_one_model_file_and_the_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the page's in-browser webcam is sent for a style choice (ui/web/webcam.js runs it)."""
    from urllib.parse import unquote

    from conftest import tiny_model

    from ui.webcam_tab import BrowserModels

    models = {"preset:a": tiny_model(seed=1), "preset:b": tiny_model(num_styles=3, seed=2)}
    names = [("Preset: A", "preset:a"), ("Preset: B", "preset:b")]
    browser = BrowserModels([], lambda spec, case, sid: models[spec], lambda sid: names, tmp_path / "web")
    a = browser(None, "preset:a", "video", 0.5, True, 320)
    assert (a["weights"], a["intensity"], a["preserve"], a["side"], a["label"]) == ([1.0], 0.5, True, 320, "A")
    path = Path(unquote(a["model"].removeprefix("gradio_api/file=")))
    assert path.parent == tmp_path / "web" and path.suffix == ".onnx" and path.stat().st_size > 10_000
    again = browser(None, "preset:a", "video", 1.0, False, 480)  # new settings, the same file
    assert again["model"] == a["model"] and (again["intensity"], again["preserve"], again["side"]) == (1.0, False, 480)
    b = browser(None, "preset:b", "video", 1.0, False, 320)
    assert b["model"] != a["model"] and len(b["weights"]) == 3 and len(list((tmp_path / "web").iterdir())) == 2
    with pytest.raises(gr.Error, match="unknown style 'preset:nope'"):
        browser(None, "preset:nope", "video", 1.0, False, 320)
    monkeypatch.setenv("STUDIO_CACHE", str(tmp_path / "no-runtime"))  # not installed: the page falls back
    assert browser(None, "preset:a", "video", 1.0, False, 320)["ortBase"] is None


def test_no_warm_up_thread_without_a_gpu() -> None:
    import torch

    from ui.app import start_warm_up

    thread = start_warm_up()
    assert (thread is None) == (not torch.cuda.is_available())  # on CUDA: a background warm-up (test_gpu.py)
    if thread is not None:
        thread.join()
