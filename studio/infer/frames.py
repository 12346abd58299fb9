"""Fast stylizing of many same-size frames: the inference engine behind videos and the webcam.

Photos go through :meth:`StyleModel.stylize` (any size, tiling, EXIF, alpha). Frames are different: the
same size over and over, where per-call overhead matters more than flexibility. :class:`FrameStylizer`
takes uint8 RGB frames, (H, W, 3) or a batch (B, H, W, 3), and returns the same shape and dtype.

On CUDA (``fast=True``, the default) it runs:

* fp16 weights and activations, with instance-norm statistics taken in fp32 by a general reduction
  (squared deviations from the mean reach fp16's limit of 65,504 on real photos: bench/RESULTS.md,
  "Activations entering instance norm"; and the fused norm kernel gives each of the few channels one
  block, slow on 2-megapixel planes).
* the two 9x9 convolutions on RGB reordered as 9x1 convolutions over shifted copies (:class:`_SplitIn`,
  :class:`_SplitOut`): the same sums, but on channel counts tensor cores handle well.
* the decoder's upsample-then-convolve layers as sub-pixel convolutions (:class:`_SubpixelUp`): the same
  sums at a quarter of the positions, and no upsampled copy in memory.
* the whole pass, from uint8 upload to uint8 result (normalisation, padding, network, intensity, colour
  preservation, quantisation), captured once per frame shape in a CUDA graph and replayed; the network
  is small, so at batch 1 launching ~60 kernels one by one costs more than running them.
* optionally ``torch.compile`` (``compile=True``), which fuses the norms, pads and activations: 2-3x more
  frames a second, after a one-off 10-20 s per frame size. Long videos use it; the webcam does not.

On the CPU (``fast=True``) it runs the network with the sub-pixel decoder on onnxruntime, which measured
faster than PyTorch on a 2-core CPU (``bench/cpu_speed.py``); without onnxruntime, in PyTorch.

``fast=False`` (and MPS) is plain fp32 PyTorch, exactly :meth:`StyleModel.stylize`: the reference the fast
paths are tested against. ``bench/frame_speed.py`` (GPU) and ``bench/cpu_speed.py`` measure them side by side.
"""

from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from studio.config import check_choice, check_number
from studio.errors import StudioError
from studio.infer.stylize import blend, forward_padded, preserve_color
from studio.limits import limits
from studio.model import StyleModel, StyleSpec
from studio.nn.networks import CondInstanceNorm, NormStatistics, TransformerNet
from studio.settings import compile_mode

GRAPH_WARMUP = 3  # eager runs on a side stream before capture (cuDNN picks its algorithms there)
MAX_GRAPHS = 4  # frame shapes kept captured at once (a webcam may switch resolution)
COMPILE_LIMIT = 64  # compiled (model, frame size) pairs per process before torch.compile gives up


@dataclass(frozen=True)
class FrameOptions:
    """How :class:`FrameStylizer`'s fast paths run the network. The defaults are the fastest measured
    (``bench/frame_speed.py`` on a GPU, ``bench/cpu_speed.py`` on a CPU); the benches and tests switch parts
    off to compare them. ``fast=False`` ignores all of these.

    * ``edges`` (CUDA): "split" runs the two 9x9 RGB convolutions as 9x1 convolutions over shifted copies
      (:class:`_SplitIn`, :class:`_SplitOut`); "plain" keeps them as they are.
    * ``upsample``: "subpixel" runs the decoder's upsample-then-convolve layers as sub-pixel convolutions
      (:func:`use_subpixel_decoder`); "plain" keeps them.
    * ``norm`` (CUDA): "general" takes instance-norm statistics by a general fp32 reduction; "fused" by
      PyTorch's fused kernel (see the module docstring).
    * ``channels_last`` (CUDA): run the network in NHWC memory layout.
    * ``cpu_backend`` (CPU): "onnxruntime", or "torch" (PyTorch with the same rewrites).
    """

    edges: Literal["split", "plain"] = "split"
    upsample: Literal["subpixel", "plain"] = "subpixel"
    norm: Literal["general", "fused"] = "general"
    channels_last: bool = False
    cpu_backend: Literal["onnxruntime", "torch"] = "onnxruntime"

    def __post_init__(self) -> None:
        check_choice("FrameOptions.edges", self.edges, ("split", "plain"))
        check_choice("FrameOptions.upsample", self.upsample, ("subpixel", "plain"))
        check_choice("FrameOptions.norm", self.norm, ("general", "fused"))
        if not isinstance(self.channels_last, bool):
            raise StudioError(f"FrameOptions.channels_last must be True or False; got {self.channels_last!r}")
        check_choice("FrameOptions.cpu_backend", self.cpu_backend, ("onnxruntime", "torch"))


@dataclass(frozen=True)
class _Settings:
    style: torch.Tensor  # (S,) style weights
    intensity: float
    preserve_color: bool


class FrameStylizer:
    """Stylize uint8 RGB frames with ``model``; see the module docstring for what ``fast`` does.

    ``compile`` (CUDA only) adds ``torch.compile``: 2-3x faster frames after a one-off 10-20 s per frame size
    (measured, bench/frame_speed.py), so it pays off only for long work; a mode name ("max-autotune-no-
    cudagraphs") may be given instead of True. ``STUDIO_COMPILE=0`` forbids it, ``=max-autotune`` tunes.

    ``style``, ``intensity`` and ``preserve_color`` are as in :meth:`StyleModel.stylize` and can be changed
    between frames with :meth:`configure` (the webcam's controls). ``options``: see :class:`FrameOptions`.

    Not thread-safe: it holds per-stream state (the settings, and on CUDA each captured graph's input and
    output buffers); use one per stream, or a lock around :meth:`configure` and the call. The model itself
    is not touched (the engine runs a private copy of its network), so other threads may use it meanwhile.
    """

    def __init__(
        self,
        model: StyleModel,
        style: StyleSpec = None,
        *,
        intensity: float = 1.0,
        preserve_color: bool = False,
        fast: bool = True,
        compile: bool | str = False,
        options: FrameOptions | None = None,
    ) -> None:
        options = FrameOptions() if options is None else options
        if not isinstance(options, FrameOptions):
            raise StudioError(f"options must be a FrameOptions; got {type(options).__name__}")
        self.model = model
        self.device = model.device
        self.options = options
        self.fast = bool(fast) and self.device.type == "cuda"
        cpu_fast = bool(fast) and self.device.type == "cpu"
        self._net = _prepared_network(model, options, cuda=self.fast, cpu=cpu_fast)
        # Which path runs the frames: "cuda" (fp16 graphs), "onnxruntime" or "torch" (see the module doc).
        self.backend = "cuda" if self.fast else "torch"
        self._forward: Any = self._net
        if cpu_fast and options.cpu_backend == "onnxruntime":
            try:
                self._forward = OnnxRuntimeNet(self._net, model.num_styles)
                self.backend = "onnxruntime"
            except ImportError:  # onnxruntime is a dependency, but the PyTorch path works without it
                pass
        setting = compile_mode()
        mode = compile if isinstance(compile, str) else "default"
        if setting == "max-autotune":  # slower start (~90 s per size), a few % faster frames
            mode = "max-autotune-no-cudagraphs"
        if self.fast and compile and setting != "0":
            # Dynamo guards on each network's parameters, so every (model, frame size) is one more compile of
            # TransformerNet.forward; past the default limit of 8 it would quietly run uncompiled.
            dynamo = torch._dynamo.config
            dynamo.recompile_limit = max(dynamo.recompile_limit, COMPILE_LIMIT)
            dynamo.accumulated_recompile_limit = max(dynamo.accumulated_recompile_limit, 4 * COMPILE_LIMIT)
            self._forward = torch.compile(self._net, mode=mode, dynamic=False)
        self._graphs: dict[tuple[int, int, int], _Graph] = {}
        self._settings = _Settings(torch.zeros(0), 1.0, False)
        self.configure(style, intensity=intensity, preserve_color=preserve_color)

    def configure(self, style: StyleSpec = None, *, intensity: float = 1.0, preserve_color: bool = False) -> None:
        """Change the style, intensity or colour preservation for the next frames."""
        check_number("intensity", intensity, 0.0, 1.0)
        vector = self.model.style_vector(style).to(self.device)
        self._settings = _Settings(vector, float(intensity), bool(preserve_color))
        for graph in self._graphs.values():
            graph.set_style(vector)

    # --- frames ---------------------------------------------------------------------------------------------
    def __call__(self, frames: np.ndarray) -> np.ndarray:
        """(H, W, 3) or (B, H, W, 3) uint8 RGB -> the same shape, stylized."""
        arr = np.asarray(frames)
        single = arr.ndim == 3
        batch = arr[None] if single else arr
        if batch.ndim != 4 or batch.shape[-1] != 3 or batch.dtype != np.uint8:
            raise StudioError(f"frames must be uint8 RGB, (H, W, 3) or (B, H, W, 3); got {arr.dtype} {arr.shape}")
        if min(batch.shape[1:3]) < 1 or batch.shape[0] < 1:
            raise StudioError(f"empty frame batch {arr.shape}")
        check_frame_size(batch.shape[2], batch.shape[1])  # before the copies and tensors sized by it
        if not batch.flags.writeable or not batch.flags.c_contiguous:  # e.g. np.asarray(PIL image)
            batch = np.array(batch, order="C")
        x = torch.from_numpy(batch)
        y = self.run(x.to(self.device, non_blocking=True)).cpu().numpy()
        return y[0] if single else y

    @torch.inference_mode()
    def run(self, frames: torch.Tensor) -> torch.Tensor:
        """(B, H, W, 3) uint8 on the model's device -> (B, H, W, 3) uint8 on the device."""
        if not self.fast:
            return _pipeline(self._forward, frames, self._settings, torch.float32)
        key = tuple(frames.shape[:3])
        graph = self._graphs.get(key)  # type: ignore[call-overload]
        if graph is None:
            while len(self._graphs) >= MAX_GRAPHS:
                self._graphs.pop(next(iter(self._graphs)))
            try:
                graph = _Graph(self._forward, frames, self._settings)
            except Exception as exc:  # torch.compile needs a working Triton/C compiler: fall back, still fast
                if self._forward is self._net:
                    raise
                reason = str(exc).splitlines()[0][:120]
                warnings.warn(f"torch.compile failed ({reason}); running uncompiled", stacklevel=2)
                self._forward = self._net
                graph = _Graph(self._forward, frames, self._settings)
            self._graphs[key] = graph  # type: ignore[index]
        return graph(frames, self._settings)


def _prepared_network(model: StyleModel, options: FrameOptions, *, cuda: bool, cpu: bool) -> nn.Module:
    """A private copy of ``model``'s network, rewritten for the fast path chosen (``cuda``: fp16 on the GPU;
    ``cpu``: the CPU's fast path; neither: the plain fp32 network). The model's own network is never changed."""
    net = copy.deepcopy(model.network).eval()
    if (cuda or cpu) and options.upsample == "subpixel":
        use_subpixel_decoder(net)
    if not cuda:
        return net
    if options.edges == "split":
        use_split_edges(net)
    net = net.half()
    if options.channels_last:
        net = net.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    if options.norm == "general":
        net.set_fused_norm(False)
    return net


def check_frame_size(width: int, height: int, max_pixels: int | None = None) -> None:
    """Refuse a frame above ``max_pixels`` (default ``STUDIO_MAX_VIDEO_PIXELS``, the limit per video frame:
    every frame the engine sees is one, or a webcam frame held to it) with one line naming its size."""
    max_pixels = limits().video_pixels if max_pixels is None else max_pixels
    if width * height > max_pixels:
        raise StudioError(f"a {width}x{height} frame is too large: frames up to {max_pixels:,} pixels are accepted")


class _SplitIn(nn.Module):
    """A k x k convolution on few input channels as a k x 1 convolution on k horizontally shifted copies.

    Same sums, reordered: out[o] = sum over (c, dy, dx) of w[o, c, dy, dx] * x[c, y + dy, x + dx]. Stacking
    the k shifts of x as channels (c * k + dx) leaves a k x 1 convolution over C * k channels (27 -> 32 for
    RGB at k = 9), which tensor cores run well; the direct 9x9 convolution on 3 channels was the slowest
    kernel of the frame pass (1.5 ms of 3.6 at 1080p for the video model). Expects the input already padded
    (the layer's reflection pad runs first), like the convolution it replaces.
    """

    def __init__(self, conv: nn.Conv2d) -> None:
        super().__init__()
        out, cin, k, _ = conv.weight.shape
        self.k = k
        width = -(-cin * k // 8) * 8
        self.extra = width - cin * k
        like = {"device": conv.weight.device, "dtype": conv.weight.dtype}
        self.conv = nn.Conv2d(width, out, (k, 1), **like)
        with torch.no_grad():
            w = conv.weight.permute(0, 1, 3, 2).reshape(out, cin * k, k)  # [o, c * k + dx, dy]
            self.conv.weight.zero_()
            self.conv.weight[:, : cin * k, :, 0] = w
            self.conv.bias.copy_(conv.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = x.shape[-1] - self.k + 1
        shifted = torch.stack([x[..., dx : dx + w] for dx in range(self.k)], dim=2)  # (B, C, k, H + k - 1, W)
        stacked = shifted.flatten(1, 2)
        if self.extra:
            stacked = F.pad(stacked, (0, 0, 0, 0, 0, self.extra))
        return self.conv(stacked)


class _SplitOut(nn.Module):
    """A k x k convolution to few output channels as a k x 1 convolution to out * k channels, then a sum of
    horizontally shifted groups: the head's 9x9 convolution to RGB, reordered the same way as _SplitIn."""

    def __init__(self, conv: nn.Conv2d) -> None:
        super().__init__()
        out, cin, k, _ = conv.weight.shape
        self.k, self.out = k, out
        width = -(-out * k // 8) * 8
        like = {"device": conv.weight.device, "dtype": conv.weight.dtype}
        self.conv = nn.Conv2d(cin, width, (k, 1), bias=False, **like)
        self.bias = nn.Parameter(conv.bias.detach().clone())
        with torch.no_grad():
            w = conv.weight.permute(0, 3, 1, 2).reshape(out * k, cin, k)  # [o * k + dx, c, dy]
            self.conv.weight.zero_()
            self.conv.weight[: out * k, :, :, 0] = w

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.conv(x)[:, : self.out * self.k]  # (B, out * k, H, W + k - 1)
        b, _, h, wide = z.shape
        w = wide - self.k + 1
        z = z.view(b, self.out, self.k, h, wide)
        y = sum(z[:, :, dx, :, dx : dx + w] for dx in range(self.k))
        return y + self.bias.view(1, -1, 1, 1)  # type: ignore[union-attr]


class _SubpixelUp(nn.Module):
    """An :class:`~studio.nn.networks.UpConv` (nearest 2x upsampling, reflection pad, 3x3 convolution, norm,
    ReLU) computed without the upsampled copy: the same sums, as one 3x3 convolution at the low resolution
    to 4 phases per output channel, then a pixel shuffle (Shi et al. 2016's sub-pixel layout).

    After nearest upsampling, output row 2i + a (a = 0 or 1) sees input rows i - 1 + a .. i + a with the
    kernel's rows folded onto them: a = 0 takes w[0] on row i - 1 and w[1] + w[2] on row i; a = 1 takes
    w[0] + w[1] on row i and w[2] on row i + 1 (columns the same). Reflecting the upsampled map by one
    pixel repeats the low-resolution edge, so the low-resolution input is edge-padded.
    """

    # FOLD[a, low-res offset (-1, 0, +1), kernel tap]: which taps of the 3x3 kernel land on which input row.
    FOLD = torch.tensor(
        [
            [[1.0, 0.0, 0.0], [0.0, 1.0, 1.0], [0.0, 0.0, 0.0]],
            [[0.0, 0.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
        ]
    )

    def __init__(self, up: nn.Module) -> None:
        super().__init__()
        conv = up.conv
        out, cin = conv.weight.shape[:2]
        assert conv.kernel_size == (3, 3) and conv.stride == (1, 1), "sub-pixel rewrite expects a 3x3 UpConv"
        fold = self.FOLD.to(conv.weight)
        with torch.no_grad():
            w = torch.einsum("aur,bvs,oirs->oabiuv", fold, fold, conv.weight)  # (out, 2, 2, cin, 3, 3)
            self.conv = nn.Conv2d(cin, out * 4, 3, device=conv.weight.device, dtype=conv.weight.dtype)
            self.conv.weight.copy_(w.reshape(out * 4, cin, 3, 3))
            self.conv.bias.copy_(conv.bias.repeat_interleave(4))
        self.norm = up.norm
        self.act = up.act

    def forward(self, x: torch.Tensor, style: torch.Tensor, stats: NormStatistics | None = None) -> torch.Tensor:
        # x: (B, C, h, w) -> (B, out, 2h, 2w)
        y = F.pixel_shuffle(self.conv(F.pad(x, (1, 1, 1, 1), mode="replicate")), 2)
        y = self.norm(y, style, stats)
        return F.relu(y) if self.act else y


def use_subpixel_decoder(net: TransformerNet) -> None:
    """Rewrite ``net``'s decoder in place: each :class:`~studio.nn.networks.UpConv` becomes a sub-pixel
    convolution computing the same sums (:class:`_SubpixelUp`). For a copy of a network: the frame engine's,
    or a bench's (``bench/video_arch.py``)."""
    net.up = nn.ModuleList([_SubpixelUp(layer) for layer in net.up])


class _FoldedNorm(nn.Module):
    """A CondInstanceNorm for the onnxruntime engine: the style's gamma and beta become the scale and bias
    of one InstanceNormalization node instead of a Mul and an Add over the whole map after it (~5 % of a
    CPU pass at 512 px). One style for the batch: the frame engine stylizes every frame of a call alike."""

    def __init__(self, norm: CondInstanceNorm) -> None:
        super().__init__()
        self.norm = norm

    def forward(self, x: torch.Tensor, style: torch.Tensor, stats: None = None) -> torch.Tensor:
        gamma = (style[0, :, None] * self.norm.gamma).sum(0)  # (C,)
        beta = (style[0, :, None] * self.norm.beta).sum(0)
        return F.instance_norm(x, weight=gamma, bias=beta, eps=self.norm.eps)


def fold_norms(net: nn.Module) -> None:
    """Rewrite ``net``'s conditional instance norms in place as :class:`_FoldedNorm` (one style per call,
    one InstanceNormalization node each when exported to ONNX). For a copy of a network: the onnxruntime
    engine's here, the browser's (:mod:`studio.export.web`)."""
    for module in list(net.modules()):
        for name, child in list(module.named_children()):
            if isinstance(child, CondInstanceNorm):
                setattr(module, name, _FoldedNorm(child))


def quick_onnx(
    module: nn.Module,
    args: tuple[torch.Tensor, ...],
    inputs: list[str],
    outputs: list[str],
    dynamic_axes: dict[str, dict[int, str]],
    opset: int = 18,
) -> bytes:
    """``module`` as ONNX bytes, by the TorchScript exporter: under a second, where the dynamo exporter of
    :func:`studio.export.onnx.export_onnx` takes ~15 s (too slow to start a stream or a video job)."""
    import io

    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the exporter's deprecation and instance-norm notices
        torch.onnx.export(
            module,
            args,
            buffer,
            dynamo=False,
            opset_version=opset,
            input_names=inputs,
            output_names=outputs,
            dynamic_axes=dynamic_axes,
        )
    return buffer.getvalue()


class OnnxRuntimeNet:
    """A network (as the frame engine rewrote it, or as it is) run by an onnxruntime session on the CPU:
    ``(x, style) -> y`` like the module, on CPU tensors. The frame engine's CPU path; ``bench/video_arch.py``
    times candidate networks with it. Raises ImportError without onnxruntime.

    Exported by :func:`quick_onnx`.
    """

    def __init__(self, net: nn.Module, num_styles: int) -> None:
        import onnxruntime as ort

        net = copy.deepcopy(net)
        fold_norms(net)
        x = torch.rand(1, 3, 64, 64)
        style = torch.full((1, num_styles), 1.0 / num_styles)
        graph = quick_onnx(net, (x, style), ["x", "style"], ["y"], {"x": {0: "b", 2: "h", 3: "w"}, "style": {0: "b"}})
        options = ort.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()  # what the studio allows PyTorch
        options.log_severity_level = 3
        self.session = ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])

    def __call__(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        # x: (B, 3, H, W), style: (B, S) with equal rows (the engine's one setting for the batch)
        feed = {"x": x.float().contiguous().numpy(), "style": style.float().contiguous().numpy()}
        return torch.from_numpy(self.session.run(None, feed)[0])


def use_split_edges(net: TransformerNet) -> None:
    """Rewrite ``net``'s 9x9 (or 5x5) convolutions on RGB in place as k x 1 convolutions over shifted copies
    (:class:`_SplitIn`, :class:`_SplitOut`): the same sums, on channel counts tensor cores handle well."""
    first = net.down[0]
    if first.conv.kernel_size[0] > 3:
        first.conv = _SplitIn(first.conv)
    if net.head.kernel_size[0] > 3:
        net.head = _SplitOut(net.head)


def _pipeline(net: torch.nn.Module, frames: torch.Tensor, s: _Settings, dtype: torch.dtype) -> torch.Tensor:
    """uint8 (B, H, W, 3) -> uint8 (B, H, W, 3): the same steps as StyleModel.stylize, minus tiling."""
    x = frames.permute(0, 3, 1, 2).to(dtype).div_(255.0)  # (B, 3, H, W), a channels_last view
    if dtype == torch.float32:
        x = x.contiguous()
    style = s.style.to(dtype)[None].expand(len(x), -1)
    y = forward_padded(net, x, style)  # type: ignore[arg-type]
    if s.preserve_color:
        y = preserve_color(y.float(), x.float()).to(dtype)
    y = blend(y, x, s.intensity)
    return y.mul(255.0).add_(0.5).clamp_(0, 255).to(torch.uint8).permute(0, 2, 3, 1)


class _Graph:
    """One captured pass for one frame shape: copy in, replay, read out."""

    def __init__(self, net: torch.nn.Module, frames: torch.Tensor, s: _Settings) -> None:
        self.net = net
        self.input = torch.empty_like(frames)
        self.input.copy_(frames)
        self.style = s.style.clone()
        self.captured = (s.intensity, s.preserve_color)
        self._capture(s)

    def _capture(self, s: _Settings) -> None:
        settings = _Settings(self.style, s.intensity, s.preserve_color)
        stream = torch.cuda.Stream(self.input.device)
        stream.wait_stream(torch.cuda.current_stream(self.input.device))
        with torch.cuda.stream(stream):
            for _ in range(GRAPH_WARMUP):
                _pipeline(self.net, self.input, settings, torch.float16)
        torch.cuda.current_stream(self.input.device).wait_stream(stream)
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph):
            self.output = _pipeline(self.net, self.input, settings, torch.float16)
        self.captured = (s.intensity, s.preserve_color)

    def set_style(self, vector: torch.Tensor) -> None:
        with torch.inference_mode():  # the buffer was made inside inference mode
            self.style.copy_(vector)  # the graph reads this buffer: no recapture needed

    def __call__(self, frames: torch.Tensor, s: _Settings) -> torch.Tensor:
        if (s.intensity, s.preserve_color) != self.captured:  # baked into the graph as constants
            self._capture(s)
        self.input.copy_(frames)
        self.graph.replay()
        return self.output.clone()
