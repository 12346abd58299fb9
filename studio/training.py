"""Training a feed-forward style network (Johnson et al. 2016) with Create ML's controls.

One :class:`Trainer` is one training run: it validates everything up front, then :meth:`Trainer.run` trains
and returns a :class:`~studio.model.StyleModel`. While it runs, from any thread:

* :meth:`Trainer.snapshot` returns a usable model of the current weights (training goes on);
* :meth:`Trainer.cancel` stops at the next iteration, keeping the last checkpoint.

With a session directory, checkpoints (weights, Adam state, RNG state, iteration) are written every
``checkpoint_interval`` iterations and at the end, atomically, as safetensors; :meth:`Trainer.resume` picks a
session up again, either to finish an interrupted run or to train more ("Train More").

Speed: content crops are made on the device (:mod:`studio.data`), the step runs under bf16 autocast on CUDA
with channels-last tensors and fused Adam, and the loop never waits for the device: losses are summed on
the device and a report's numbers and preview image are copied back asynchronously and handed to
``on_progress`` once the copy has landed (so reports trail the GPU by at most one interval).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import tempfile
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from . import __version__
from .config import (
    FORMAT_VERSION,
    LossRecipe,
    ModelConfig,
    NetworkConfig,
    TrainConfig,
    style_long_side,
    style_strength_weight,
)
from .data import ContentSpec, builtin_content, is_zip_path, load_pool, random_crops, resolve_content
from .device import resolve_device, training_autocast_dtype
from .errors import StudioError
from .fileio import atomic_path, atomic_write_text
from .losses import PerceptualLoss, style_targets
from .lossnet import load_vgg
from .media import open_image, to_array
from .model import StyleModel
from .networks import TransformerNet, build_network

SESSION_FILE = "session.json"
CHECKPOINT_FILE = "checkpoint.safetensors"
VALIDATION_SIDE = 256
ImageLike = str | os.PathLike[str] | Image.Image | np.ndarray


@dataclass(frozen=True)
class Progress:
    """One progress report: what a UI shows every ``report_interval`` iterations."""

    iteration: int
    iterations: int  # the iteration this run trains to
    style_loss: float  # mean over the iterations since the last report
    content_loss: float
    elapsed: float  # seconds since this run started
    image: Image.Image | None  # the validation image stylized with the current weights


ProgressCallback = Callable[[Progress], Any]


def _load_rgb(item: ImageLike, what: str) -> tuple[np.ndarray, str]:
    """Image-like -> (H, W, 3) float32 RGB and a name."""
    if isinstance(item, str | os.PathLike):
        path = Path(item)
        rgb, _ = to_array(open_image(path))
        return rgb, path.stem
    if isinstance(item, Image.Image | np.ndarray):
        rgb, _ = to_array(item)
        return rgb, what
    raise StudioError(f"{what} must be an image path, a PIL image or a numpy array; got {type(item).__name__}")


def _to_tensor(rgb: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)[None].float()  # (1, 3, H, W)


def _resize_long(x: torch.Tensor, long_side: int, multiple: int = 1) -> torch.Tensor:
    h, w = x.shape[-2:]
    s = long_side / max(h, w)
    nh = max(multiple, round(h * s / multiple) * multiple)
    nw = max(multiple, round(w * s / multiple) * multiple)
    return F.interpolate(x, size=(nh, nw), mode="bicubic", antialias=True, align_corners=False).clamp(0, 1)


class Trainer:
    """One training run. See :func:`studio.create` for the arguments."""

    def __init__(
        self,
        style_images: ImageLike | Sequence[ImageLike],
        content: ContentSpec = None,
        config: TrainConfig | None = None,
        *,
        validation: ImageLike | None = None,
        device: str | torch.device | None = "auto",
        session_dir: str | os.PathLike[str] | None = None,
        recipe: LossRecipe | None = None,
        style_names: Sequence[str] | None = None,
        _resuming: bool = False,
    ) -> None:
        self.config = config or TrainConfig()
        self.recipe = recipe or self.config.loss_recipe
        self.device = resolve_device(device)
        if self.config.batch_size is None:  # a CPU iteration is ~20x slower: smaller batches keep reports coming
            self.config = dataclasses.replace(self.config, batch_size=2 if self.device.type == "cpu" else 8)
        items = (
            [style_images]
            if isinstance(style_images, str | os.PathLike | Image.Image | np.ndarray)
            else list(style_images)
        )
        if not items:
            raise StudioError("give at least one style image")
        if len(items) > 64:
            raise StudioError(f"at most 64 styles in one model, got {len(items)}")
        loaded = [_load_rgb(item, f"style-{i + 1}") for i, item in enumerate(items)]
        self.style_arrays = [rgb for rgb, _ in loaded]
        self.style_names = _unique([name for _, name in loaded]) if style_names is None else _names(style_names, items)
        self.session_dir = Path(session_dir) if session_dir is not None else None
        self._unzipped: tempfile.TemporaryDirectory[str] | None = None
        if self.session_dir is not None and not _resuming:
            if (self.session_dir / SESSION_FILE).exists():
                raise StudioError(
                    f"{self.session_dir} already holds a training session: resume it or pick a new folder"
                )
            if self.session_dir.exists() and not self.session_dir.is_dir():
                raise StudioError(f"session path {self.session_dir} is a file, not a folder")
        self.content_paths = resolve_content(content, unzip_to=self._unzip_folder(content))
        self.content_is_builtin = content is None
        if validation is not None:
            self.validation_array, _ = _load_rgb(validation, "validation")
        else:
            self.validation_array = _load_rgb(self.content_paths[0], "validation")[0]

        self.network_config = NetworkConfig.for_use_case(self.config.use_case, num_styles=len(self.style_arrays))
        self.iteration = 0
        self.target = self.config.iterations
        self._segment = (0, self.config.iterations, self.recipe.learning_rate)  # (start, end, lr at start)
        self._cancel = threading.Event()
        self._lock = threading.Lock()
        self._net: TransformerNet | None = None
        self._optimizer: torch.optim.Optimizer | None = None
        self._generator: torch.Generator | None = None
        self._pending_state: dict[str, torch.Tensor] | None = None
        self.cancelled = False
        self.running = False
        self._use_cuda_graph = True  # benchmarks switch these off to measure their effect
        self._channels_last = False  # measured: 42.7 it/s without, 37.2 with (reflection pads convert layouts)

    def _unzip_folder(self, content: ContentSpec) -> Path | None:
        """Where zipped content is unpacked: inside the session (so resuming finds it), else a temporary
        folder that lives as long as this trainer."""
        items = [content] if isinstance(content, str | os.PathLike) else list(content or [])
        if not any(is_zip_path(i) for i in items):
            return None
        if self.session_dir is not None:
            return self.session_dir / "content" / uuid.uuid4().hex[:8]
        self._unzipped = tempfile.TemporaryDirectory(prefix="studio-content-")
        return Path(self._unzipped.name)

    @property
    def validation_image(self) -> Image.Image:
        """The validation image (RGB) that progress reports show stylized."""
        return Image.fromarray((self.validation_array * 255 + 0.5).astype(np.uint8))

    # --- control from other threads --------------------------------------------------------------------------
    def cancel(self) -> None:
        """Stop at the next iteration; :meth:`run` then saves a checkpoint and returns the model so far."""
        self._cancel.set()

    def snapshot(self) -> StyleModel:
        """A usable model of the current weights, while training goes on (thread-safe)."""
        with self._lock:
            if self._net is None:
                raise StudioError("nothing to snapshot yet: training has not started")
            state = {k: v.detach().to("cpu", torch.float32, copy=True) for k, v in self._net.state_dict().items()}
            iteration = self.iteration
        return self._make_model(state, iteration)

    # --- the run ---------------------------------------------------------------------------------------------
    def run(self, on_progress: ProgressCallback | None = None) -> StyleModel:
        """Train to ``self.target`` iterations; returns the model (also when cancelled).

        Out of memory, training goes on at half the batch size (from the weights and optimizer state it had
        reached), down to batch 1, and says so with a warning; ``self.config.batch_size`` shows the size used.
        """
        self.running = True  # read by UIs from other threads
        try:
            while True:
                try:
                    return self._run(on_progress)
                except torch.OutOfMemoryError:
                    batch = self.config.batch_size or 1
                    if self.device.type == "cuda":
                        torch.cuda.empty_cache()
                    if batch <= 1:
                        raise StudioError(
                            f"out of {self.device.type} memory even at batch size 1 with {self.config.crop_size} px "
                            "crops; free memory or train with a smaller crop_size"
                        ) from None
                    self.config = dataclasses.replace(self.config, batch_size=batch // 2)
                    note = f"out of memory at batch size {batch}: training goes on at {batch // 2}"
                    warnings.warn(note, stacklevel=2)
        finally:
            self.running = False

    def _run(self, on_progress: ProgressCallback | None) -> StyleModel:
        if self.iteration >= self.target:
            raise StudioError(f"nothing to train: the session is already at iteration {self.iteration}")
        cfg, recipe, dev = self.config, self.recipe, self.device
        if self.session_dir is not None:
            self._write_session()

        vgg = load_vgg(cfg.loss_network, dev)
        styles = [_resize_long(_to_tensor(a), style_long_side(cfg.style_density)).to(dev) for a in self.style_arrays]
        grams = style_targets(vgg, styles, recipe.style_layers)
        loss_fn = PerceptualLoss(vgg, recipe, grams, recipe.style_weight * style_strength_weight(cfg.style_strength))
        pool = load_pool(self.content_paths, cfg.crop_size, dev)
        val = _resize_long(_to_tensor(self.validation_array), VALIDATION_SIDE, multiple=4).to(dev)
        shown = min(self.network_config.num_styles, 4)
        val_styles = torch.eye(self.network_config.num_styles, device=dev)[:shown]

        if self._net is None:
            self._init_state()
        net, opt, gen = self._net, self._optimizer, self._generator
        assert net is not None and opt is not None and gen is not None
        memory_format = torch.channels_last if dev.type == "cuda" and self._channels_last else torch.contiguous_format
        net.to(memory_format=memory_format)
        vgg.to(memory_format=memory_format)
        amp = training_autocast_dtype(dev)

        stability = recipe.video_stability_weight if cfg.use_case == "video" else 0.0

        def forward(content: torch.Tensor, style: torch.Tensor) -> tuple[torch.Tensor, ...]:
            # content: (B, 3, H, W), or (2B, ...) with the stability loss: the crops, then their noisy copies
            b = len(content) // 2 if stability > 0 else len(content)
            # cache_enabled=False: autocast's weight cache must not outlive a CUDA graph capture
            with torch.autocast(dev.type, dtype=amp or torch.float32, enabled=amp is not None, cache_enabled=False):
                out, logits = net(content, style, return_logits=True)
                total, style_loss, content_loss = loss_fn(out[:b], content[:b], style[:b], logits[:b])
            if stability > 0:
                total = total + stability * (out[b:].float() - out[:b].float()).pow(2).mean()
            if recipe.spike_weight > 0:
                total = total + recipe.spike_weight * net.spike_penalty()
            return total, style_loss, content_loss

        net.set_spike_limit(recipe.spike_limit if recipe.spike_weight > 0 else None)
        use_graph = dev.type == "cuda" and self._use_cuda_graph
        stepper = _Stepper(torch.compile(forward) if cfg.compile else forward, opt, use_graph)
        num_styles = self.network_config.num_styles
        sums = torch.zeros(2, device=dev)
        pending: list[tuple[int, torch.Tensor, torch.Tensor, Any, float]] = []
        start_time = time.perf_counter()
        since_report = 0
        last_checkpoint = self.iteration
        matmul_precision = torch.get_float32_matmul_precision()
        torch.set_float32_matmul_precision("high")  # TF32 for the fp32 Gram matrices
        try:
            while self.iteration < self.target and not self._cancel.is_set():
                content = random_crops(pool, cfg.batch_size, cfg.crop_size, gen).contiguous(memory_format=memory_format)
                if num_styles == 1:
                    style = torch.ones(cfg.batch_size, 1, device=dev)
                else:
                    pick = torch.randint(num_styles, (cfg.batch_size,), device=dev, generator=gen)
                    style = F.one_hot(pick, num_styles).float()
                if stability > 0:  # noise drawn from the run's generator: seeded runs stay reproducible
                    noise = torch.randn(content.shape, generator=gen, device=dev) * recipe.stability_noise
                    content = torch.cat([content, (content + noise).clamp(0, 1)])
                    style = torch.cat([style, style])
                with self._lock:
                    style_loss, content_loss = stepper.step(content, style, self._lr(self.iteration))
                    self.iteration += 1
                sums += torch.stack([style_loss.detach().float(), content_loss.detach().float()])
                since_report += 1
                if self.iteration % cfg.report_interval == 0 or self.iteration == self.target:
                    pending.append(self._launch_report(sums / since_report, val, val_styles, start_time))
                    sums.zero_()
                    since_report = 0
                    self._emit_ready(pending, on_progress, wait=dev.type != "cuda")
                if self.session_dir is not None and self.iteration - last_checkpoint >= cfg.checkpoint_interval:
                    self._save_checkpoint()
                    last_checkpoint = self.iteration
        finally:
            torch.set_float32_matmul_precision(matmul_precision)
            net.to(memory_format=torch.contiguous_format)
            net.set_spike_limit(None)
        self._emit_ready(pending, on_progress, wait=True)
        self.cancelled = self._cancel.is_set()
        if self.session_dir is not None and self.iteration != last_checkpoint:
            self._save_checkpoint()
        return self.snapshot()

    def _launch_report(
        self, losses: torch.Tensor, val: torch.Tensor, val_styles: torch.Tensor, start: float
    ) -> tuple[int, torch.Tensor, torch.Tensor, Any, float]:
        """Queue the report's device work and async copies; nothing here waits for the device."""
        assert self._net is not None
        with torch.no_grad():
            out = self._net(val.expand(len(val_styles), -1, -1, -1), val_styles)
            strip = torch.cat(list(out.float().clamp(0, 1)), dim=2)  # (3, h, w * shown)
            pixels = (strip * 255.0 + 0.5).to(torch.uint8).permute(1, 2, 0)
        non_blocking = self.device.type == "cuda"
        losses_host = losses.to("cpu", non_blocking=non_blocking)
        pixels_host = pixels.to("cpu", non_blocking=non_blocking)
        event = None
        if non_blocking:
            event = torch.cuda.Event()
            event.record()
        return self.iteration, losses_host, pixels_host, event, time.perf_counter() - start

    def _emit_ready(self, pending: list, on_progress: ProgressCallback | None, wait: bool) -> None:
        while pending:
            iteration, losses, pixels, event, elapsed = pending[0]
            if event is not None:
                if wait:
                    event.synchronize()
                elif not event.query():
                    return
            pending.pop(0)
            if on_progress is not None:
                image = Image.fromarray(pixels.numpy())
                on_progress(Progress(iteration, self.target, float(losses[0]), float(losses[1]), elapsed, image))

    def _lr(self, iteration: int) -> float:
        start, end, lr_start = self._segment
        lr_end = self.recipe.learning_rate * self.recipe.lr_final_fraction
        t = min(1.0, max(0.0, (iteration - start) / max(1, end - start)))
        return lr_end + (lr_start - lr_end) * 0.5 * (1.0 + math.cos(math.pi * t))

    def _init_state(self) -> None:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.config.seed)
            net = build_network(self.network_config, output=self.recipe.output)
        if self.config.init == "pretrained":
            if self.recipe.output != "sigmoid":
                raise StudioError(
                    f"the pre-trained start has a sigmoid output; recipe {self.recipe.name!r} needs init='random'"
                )
            from .pretrain import load_init  # lazily: ``python -m studio.pretrain`` imports this module

            load_init(net, self.config.use_case)
        self._net = net.to(self.device).train()
        # fused + capturable on CUDA: one kernel per step, and safe to capture in a CUDA graph
        kwargs: dict[str, Any] = {"fused": True, "capturable": True} if self.device.type == "cuda" else {}
        # With several styles, each style's (gamma, beta) only sees its share of the batches and must travel
        # far from the shared start, so they learn 10x faster than the shared convolutions.
        style_params = [p for n, p in self._net.named_parameters() if n.endswith((".gamma", ".beta"))]
        shared = [p for n, p in self._net.named_parameters() if not n.endswith((".gamma", ".beta"))]
        scale = 10.0 if self.network_config.num_styles > 1 else 1.0
        groups = [{"params": shared, "lr_scale": 1.0}, {"params": style_params, "lr_scale": scale}]
        self._optimizer = torch.optim.Adam(groups, lr=self.recipe.learning_rate, **kwargs)
        self._generator = torch.Generator(device=self.device)
        self._generator.manual_seed(self.config.seed)
        if self._pending_state is not None:
            self._restore(self._pending_state)
            self._pending_state = None

    def _make_model(self, state: dict[str, torch.Tensor], iteration: int) -> StyleModel:
        cfg = self.config
        config = ModelConfig(
            network=self.network_config,
            use_case=cfg.use_case,
            style_names=tuple(self.style_names),
            style_strength=float(cfg.style_strength),
            style_density=cfg.style_density,
            iterations=iteration,
            loss_network=cfg.loss_network,
            recipe=self.recipe.name,
            output=self.recipe.output,
            package_version=__version__,
        )
        net = build_network(self.network_config, output=self.recipe.output)
        net.load_state_dict(state)
        return StyleModel(net, config, device="cpu")

    # --- sessions ---------------------------------------------------------------------------------------------
    def _write_session(self) -> None:
        d = self.session_dir
        assert d is not None
        d.mkdir(parents=True, exist_ok=True)
        styles = []
        for i, (arr, name) in enumerate(zip(self.style_arrays, self.style_names, strict=True)):
            file = f"style-{i:02d}.png"
            if not (d / file).exists():
                with atomic_path(d / file) as tmp:
                    Image.fromarray((arr * 255 + 0.5).astype(np.uint8)).save(tmp, format="PNG")
            styles.append({"name": name, "file": file})
        if not (d / "validation.png").exists():
            with atomic_path(d / "validation.png") as tmp:
                self.validation_image.save(tmp, format="PNG")
        content: dict[str, Any] = (
            {"builtin": True} if self.content_is_builtin else {"files": [str(p.resolve()) for p in self.content_paths]}
        )
        info = {
            "format_version": FORMAT_VERSION,
            "package_version": __version__,
            "train_config": self.config.to_dict(),
            "recipe": self.recipe.name,
            "styles": styles,
            "content": content,
            "validation": "validation.png",
            "target": self.target,
        }
        atomic_write_text(d / SESSION_FILE, json.dumps(info, indent=2))

    def _save_checkpoint(self) -> None:
        from safetensors.torch import save_file

        assert self.session_dir is not None and self._net is not None and self._optimizer is not None
        with self._lock:
            tensors = {f"net.{k}": v.detach().to("cpu", torch.float32) for k, v in self._net.state_dict().items()}
            for i, p in enumerate(self._optimizer_params()):
                state = self._optimizer.state.get(p, {})
                for key in ("exp_avg", "exp_avg_sq", "step"):
                    if key in state:
                        tensors[f"opt.{i}.{key}"] = (
                            torch.as_tensor(state[key])
                            .detach()
                            .to("cpu", torch.float32)
                            .reshape(-1 if key == "step" else state[key].shape)
                        )
            assert self._generator is not None
            tensors["rng"] = self._generator.get_state()
            start, end, lr = self._segment
            meta = {
                "iteration": str(self.iteration),
                "segment": json.dumps([start, end, lr]),
                "target": str(self.target),
            }
        tensors = {k: v.contiguous() for k, v in tensors.items()}
        with atomic_path(self.session_dir / CHECKPOINT_FILE) as tmp:
            save_file(tensors, str(tmp), metadata=meta)

    def _optimizer_params(self) -> list[torch.Tensor]:
        """Parameters in the optimizer's own order (its state_dict numbers them so)."""
        assert self._optimizer is not None
        return [p for group in self._optimizer.param_groups for p in group["params"]]

    def _restore(self, tensors: dict[str, torch.Tensor]) -> None:
        assert self._net is not None and self._optimizer is not None and self._generator is not None
        net_state = {k[4:]: v for k, v in tensors.items() if k.startswith("net.")}
        try:
            self._net.load_state_dict(net_state)
        except RuntimeError as exc:
            raise StudioError(f"checkpoint does not match the session's network: {str(exc).splitlines()[0]}") from None
        opt_state = self._optimizer.state_dict()
        for i, _ in enumerate(self._optimizer_params()):
            entry = {k: tensors[f"opt.{i}.{k}"] for k in ("exp_avg", "exp_avg_sq", "step") if f"opt.{i}.{k}" in tensors}
            if entry:
                entry["step"] = entry["step"].reshape(())
                opt_state["state"][i] = entry
        self._optimizer.load_state_dict(opt_state)
        self._generator.set_state(tensors["rng"])

    @classmethod
    def resume(
        cls,
        session_dir: str | os.PathLike[str],
        iterations: int | None = None,
        device: str | torch.device | None = "auto",
    ) -> Trainer:
        """Pick a session up: finish its planned run, or with ``iterations`` train that many more.

        Training more after a finished run restarts the cosine schedule at half the base learning rate: the
        model is fine-tuned, not shaken up.
        """
        from safetensors import SafetensorError, safe_open

        d = Path(session_dir)
        info_path, ckpt_path = d / SESSION_FILE, d / CHECKPOINT_FILE
        if not info_path.is_file():
            raise StudioError(f"no training session in {d} (missing {SESSION_FILE})")
        try:
            info = json.loads(info_path.read_text(encoding="utf-8"))
            if info.get("format_version") != FORMAT_VERSION:
                raise StudioError(
                    f"session {d} has format version {info.get('format_version')!r}, expected {FORMAT_VERSION}"
                )
            config = TrainConfig.from_dict(info["train_config"])
            content = None if info["content"].get("builtin") else info["content"]["files"]
            styles = [d / s["file"] for s in info["styles"]]
            names = [s["name"] for s in info["styles"]]
            recipe_name = info.get("recipe", config.recipe)
        except (ValueError, KeyError, TypeError) as exc:
            raise StudioError(f"session file {info_path} is damaged ({exc})") from None
        from .config import RECIPES

        trainer = cls(
            styles,
            content,
            config,
            validation=d / info["validation"],
            device=device,
            session_dir=d,
            recipe=RECIPES.get(recipe_name),
            _resuming=True,
        )
        trainer.style_names = names
        if content is None:
            trainer.content_paths = builtin_content()
            trainer.content_is_builtin = True
        if ckpt_path.is_file():
            try:
                with safe_open(str(ckpt_path), framework="pt") as f:
                    meta = f.metadata() or {}
                    tensors = {k: f.get_tensor(k) for k in f.keys()}
                done = int(meta["iteration"])
                segment = tuple(json.loads(meta["segment"]))
                target = int(meta.get("target", info.get("target", config.iterations)))
            except (SafetensorError, OSError, KeyError, ValueError) as exc:
                raise StudioError(f"checkpoint {ckpt_path} is unreadable ({exc})") from None
            trainer._pending_state = tensors
            trainer.iteration = done
            trainer._segment = (int(segment[0]), int(segment[1]), float(segment[2]))
        else:
            done, target = 0, config.iterations
        if iterations is not None:
            if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 1:
                raise StudioError(f"iterations to train more must be a whole number >= 1, got {iterations!r}")
            if done >= target:  # a finished run: a new, gentler cosine segment
                trainer._segment = (done, done + iterations, trainer.recipe.learning_rate * 0.5)
            else:  # an interrupted run: finish the old schedule, then continue at its end
                trainer._segment = (
                    trainer._segment[0],
                    max(trainer._segment[1], done + iterations),
                    trainer._segment[2],
                )
            trainer.target = done + iterations
        else:
            if done >= target:
                raise StudioError(f"session {d} finished its {done} iterations; ask for more iterations to train more")
            trainer.target = target
        return trainer


def checkpoint_state(session_dir: str | os.PathLike[str]) -> tuple[int, int] | None:
    """(iteration reached, iterations planned) of the session's checkpoint, from its header only; None when
    the folder holds no readable checkpoint. A reached < planned session was interrupted (resume it)."""
    from safetensors import SafetensorError, safe_open

    path = Path(session_dir) / CHECKPOINT_FILE
    if not path.is_file() or not (Path(session_dir) / SESSION_FILE).is_file():
        return None
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
        return int(meta["iteration"]), int(meta["target"])
    except (SafetensorError, OSError, KeyError, ValueError):
        return None


class _Stepper:
    """One optimisation step: forward, backward, Adam; replayed from a CUDA graph when possible.

    A training step launches ~1,500 small kernels; in eager mode the CPU cannot issue them as fast as an
    H100 runs them. After 3 eager warm-up steps on a side stream (real training steps), the whole step is
    captured once into a CUDA graph (PyTorch's "whole network capture") and replayed: inputs and learning
    rates are copied into static tensors, the optimizer is fused and capturable with tensor learning rates.
    If capture fails, training carries on eagerly.
    """

    WARMUP = 3

    def __init__(
        self, forward: Callable[..., tuple[torch.Tensor, ...]], opt: torch.optim.Optimizer, graph: bool
    ) -> None:
        self.forward, self.opt, self.use_graph = forward, opt, graph
        self.warm = 0
        self.graph: torch.cuda.CUDAGraph | None = None
        self.static: tuple[torch.Tensor, ...] = ()
        self.lrs: list[torch.Tensor] = []

    def _eager(self, content: torch.Tensor, style: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        self.opt.zero_grad(set_to_none=True)
        total, style_loss, content_loss = self.forward(content, style)
        total.backward()
        self.opt.step()
        return style_loss.detach().float(), content_loss.detach().float()

    def step(self, content: torch.Tensor, style: torch.Tensor, lr: float) -> tuple[torch.Tensor, torch.Tensor]:
        if not self.use_graph:
            for group in self.opt.param_groups:
                group["lr"] = lr * group["lr_scale"]
            return self._eager(content, style)
        if not self.lrs:  # tensor learning rates, so a captured step sees new values on every replay
            self.lrs = [torch.tensor(lr * g["lr_scale"], device=content.device) for g in self.opt.param_groups]
            for group, t in zip(self.opt.param_groups, self.lrs, strict=True):
                group["lr"] = t
        for group, t in zip(self.opt.param_groups, self.lrs, strict=True):
            t.fill_(lr * group["lr_scale"])
        if self.graph is None and self.warm < self.WARMUP:
            side = torch.cuda.Stream()
            side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(side), warnings.catch_warnings():
                # expected here: the previous step's gradient nodes lived on the default stream
                warnings.filterwarnings("ignore", message="The AccumulateGrad node's stream")
                losses = self._eager(content, style)
            torch.cuda.current_stream().wait_stream(side)
            self.warm += 1
            return losses
        if self.graph is None:
            try:
                static_content, static_style = content.clone(), style.clone()
                self.opt.zero_grad(set_to_none=True)
                graph = torch.cuda.CUDAGraph()
                with torch.cuda.graph(graph), warnings.catch_warnings():
                    warnings.filterwarnings("ignore", message="The AccumulateGrad node's stream")
                    total, style_loss, content_loss = self.forward(static_content, static_style)
                    total.backward()
                    self.opt.step()
                self.graph = graph
                self.static = (static_content, static_style, style_loss.detach().float(), content_loss.detach().float())
            except RuntimeError as exc:  # capture is an optimisation: never fail training over it
                warnings.warn(f"CUDA graph capture failed, training eagerly: {exc}", stacklevel=2)
                self.use_graph = False
                torch.cuda.synchronize()
                return self.step(content, style, lr)
        static_content, static_style, style_loss, content_loss = self.static
        static_content.copy_(content)
        static_style.copy_(style)
        self.graph.replay()
        return style_loss, content_loss


def _names(names: Sequence[str], items: list[object]) -> list[str]:
    """Given style names: one per style image, each a non-empty line of text, no two alike."""
    if isinstance(names, str) or len(names) != len(items):
        raise StudioError(f"give one style name per style image ({len(items)}), got {names!r}")
    for name in names:
        if not isinstance(name, str) or not name.strip() or "\n" in name or len(name) > 100:
            raise StudioError(f"style names must be one line of text (1-100 characters), got {name!r}")
    if len(set(names)) != len(names):
        raise StudioError(f"style names must differ, got {list(names)!r}")
    return [n.strip() for n in names]


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        if name in seen:
            seen[name] += 1
            out.append(f"{name}-{seen[name]}")
        else:
            seen[name] = 1
            out.append(name)
    return out
