"""One optimisation step of a training run, replayed from a CUDA graph where possible.

A training step launches ~1,500 small kernels; in eager mode the CPU cannot issue them as fast as an H100
or H200 runs them. :class:`TrainStep` runs a few eager warm-up steps on a side stream (real training steps),
then captures the whole step (forward, backward, Adam) once into a CUDA graph (PyTorch's "whole network
capture") and replays it: inputs and learning rates are copied into static tensors; the optimizer must be
fused and capturable, with tensor learning rates (set here). If capture fails, training carries on eagerly.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import torch

# forward(content, style) -> (total loss to minimise, style loss, content loss)
StepForward = Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor, torch.Tensor]]


class TrainStep:
    """``step(content, style, lr)`` runs one step and returns (style loss, content loss) as device tensors.

    Every parameter group of ``optimizer`` needs an ``"lr_scale"`` entry: its learning rate is ``lr`` times it.
    ``graph=True`` (CUDA only) captures the step after ``WARMUP`` eager steps; ``False`` stays eager.
    """

    WARMUP = 3

    def __init__(self, forward: StepForward, optimizer: torch.optim.Optimizer, graph: bool) -> None:
        self.forward, self.opt, self.use_graph = forward, optimizer, graph
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
                self._capture(content, style)
            except RuntimeError as exc:  # capture is an optimisation: never fail training over it
                warnings.warn(f"CUDA graph capture failed, training eagerly: {exc}", stacklevel=2)
                self.use_graph = False
                torch.cuda.synchronize()
                return self.step(content, style, lr)
        assert self.graph is not None
        static_content, static_style, style_loss, content_loss = self.static
        static_content.copy_(content)
        static_style.copy_(style)
        self.graph.replay()
        return style_loss, content_loss

    def _capture(self, content: torch.Tensor, style: torch.Tensor) -> None:
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


def cosine_lr(iteration: int, start: int, end: int, lr_start: float, lr_end: float) -> float:
    """Cosine decay from ``lr_start`` at ``start`` to ``lr_end`` at ``end`` (held outside the segment)."""
    import math

    t = min(1.0, max(0.0, (iteration - start) / max(1, end - start)))
    return lr_end + (lr_start - lr_end) * 0.5 * (1.0 + math.cos(math.pi * t))
