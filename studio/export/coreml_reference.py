"""Reference interpreters for Core ML files, so exports can be checked where Core ML cannot run.

Core ML itself only predicts on macOS. This module reads a saved model back and runs it with PyTorch on the
CPU, and so checks the *file* (not just the traced PyTorch graph it came from): padding order, slicing,
upsampling, normalisation, image scaling, stored weights.

* ``.mlpackage`` (ML Program): :func:`load_program` reads the MIL program and its weight file;
  :func:`run_program` runs it op by op. Precision model: every op computes in fp32 and rounds its result to
  the dtype the program declares for it (fp16 results are rounded to fp16, and overflow to inf exactly as
  fp16 storage would). What Core ML does *inside* one op (accumulation precision, fused kernels) is
  device-specific and not modelled.
* ``.mlmodel`` (neural network): :func:`run_neural_network` runs the spec's layers in fp32 with the stored
  (possibly fp16) weights.

Only the ops and layers this project's networks use are implemented; anything else raises
``NotImplementedError`` naming it, so a model that uses something new fails its check loudly instead of
passing unchecked.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

_Op = Any  # coremltools.converters.mil.mil.Operation
_DTYPES = {"fp16": torch.float16, "fp32": torch.float32, "int32": torch.int64, "bool": torch.bool}


def load_program(path: str | os.PathLike[str]) -> Any:
    """The MIL program of a saved ML Program package, weights included (works without macOS)."""
    import coremltools as ct
    from coremltools.converters.mil.frontend.milproto.load import load as load_milproto

    model = ct.models.MLModel(str(path), skip_model_load=True)
    spec = model.get_spec()
    if spec.WhichOneof("Type") != "mlProgram":
        raise ValueError(f"{path} is not an ML Program (it is {spec.WhichOneof('Type')!r})")
    return load_milproto(spec, spec.specificationVersion, file_weights_dir=model.weights_dir)


def run_program(program: Any, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Run ``program``'s main function on ``inputs`` (name -> array); returns its outputs as float32/int arrays."""
    func = program.functions["main"]
    env: dict[str, torch.Tensor] = {}
    for name, var in func.inputs.items():
        if name not in inputs:
            raise ValueError(f"input {name!r} is missing")
        env[name] = _round(torch.as_tensor(np.asarray(inputs[name])).clone(), _dtype_name(var.dtype))
    for op in func.operations:
        if op.op_type == "const":  # constants are read from their Var when an op uses them
            continue
        handler = _HANDLERS.get(op.op_type)
        if handler is None:
            raise NotImplementedError(f"the reference interpreter has no {op.op_type!r} op")
        results = handler(op, lambda name, op=op: _value(op, name, env))
        if not isinstance(results, tuple):
            results = (results,)
        for var, value in zip(op.outputs, results, strict=True):
            env[var.name] = _round(value, _dtype_name(var.dtype))
    return {var.name: env[var.name].numpy() for var in func.outputs}


def _dtype_name(dtype: Any) -> str:
    from coremltools.converters.mil.mil import types

    return types.builtin_to_string(dtype)


def _round(value: torch.Tensor, dtype: str) -> torch.Tensor:
    """Store ``value`` as the program's dtype would: fp16 rounding (inf on overflow), ints exact; compute in fp32."""
    if dtype == "fp16":
        return value.to(torch.float16).to(torch.float32)
    if dtype in ("fp32", "fp64"):
        return value.to(torch.float32)
    if dtype.startswith("int") or dtype.startswith("uint"):
        return value.to(torch.int64)
    if dtype == "bool":
        return value.to(torch.bool)
    raise NotImplementedError(f"the reference interpreter has no {dtype!r} values")


def _value(op: _Op, name: str, env: dict[str, torch.Tensor]) -> Any:
    """An op's input: a tensor, a tuple of tensors (variadic inputs), or None when the input is absent."""
    var = getattr(op, name, None)
    if var is None:
        return None
    if isinstance(var, tuple | list):
        return tuple(_one(v, env) for v in var)
    return _one(var, env)


def _one(var: Any, env: dict[str, torch.Tensor]) -> torch.Tensor:
    if var.name in env:
        return env[var.name]
    if var.val is not None:  # a constant, possibly a string or a scalar
        val = var.val
        if isinstance(val, str):
            return val
        array = np.array(val)
        if all(isinstance(d, int) for d in var.shape) and array.size == int(np.prod(var.shape)):
            array = array.reshape(var.shape)  # scalars the program declares as shape (1,)
        return _round(torch.as_tensor(array), _dtype_name(var.dtype))
    raise ValueError(f"value {var.name!r} is used before it is computed")


def _ints(value: torch.Tensor | None) -> list[int]:
    return [] if value is None else [int(v) for v in value.reshape(-1).tolist()]


def _cast(op: _Op, get: Callable[[str], Any]) -> torch.Tensor:
    return get("x").to(torch.float32) if get("dtype") in ("fp16", "fp32") else get("x")


def _shape(op: _Op, get: Callable[[str], Any]) -> torch.Tensor:
    return torch.tensor(get("x").shape, dtype=torch.int64)


def _gather(op: _Op, get: Callable[[str], Any]) -> torch.Tensor:
    x, indices = get("x"), get("indices").to(torch.int64)
    axis = int(get("axis")) % x.dim()
    if int(get("batch_dims") or 0) != 0:
        raise NotImplementedError("gather with batch_dims")
    indices = torch.where(indices < 0, indices + x.shape[axis], indices)
    picked = torch.index_select(x, axis, indices.reshape(-1))
    return picked.reshape((*x.shape[:axis], *indices.shape, *x.shape[axis + 1 :]))


def _expand_dims(op: _Op, get: Callable[[str], Any]) -> torch.Tensor:
    x = get("x")
    rank = x.dim() + len(_ints(get("axes")))
    for axis in sorted(a % rank for a in _ints(get("axes"))):
        x = x.unsqueeze(axis)
    return x


def _squeeze(op: _Op, get: Callable[[str], Any]) -> torch.Tensor:
    x = get("x")
    axes = _ints(get("axes"))
    if not axes:
        return x.squeeze()
    for axis in sorted((a % x.dim() for a in axes), reverse=True):
        x = x.squeeze(axis)
    return x


def _reduce(fn: Callable[..., torch.Tensor]) -> Callable[[_Op, Callable[[str], Any]], torch.Tensor]:
    def handler(op: _Op, get: Callable[[str], Any]) -> torch.Tensor:
        x = get("x").to(torch.float32)
        axes = _ints(get("axes")) or list(range(x.dim()))
        keep = bool(get("keep_dims")) if get("keep_dims") is not None else False
        return fn(x, dim=axes, keepdim=keep)

    return handler


def _binary(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> Callable[[_Op, Any], torch.Tensor]:
    return lambda op, get: fn(get("x"), get("y"))


def _pad(op: _Op, get: Callable[[str], Any]) -> torch.Tensor:
    # MIL order: (before, after) for each of the last N dimensions, first padded dimension first;
    # torch's F.pad wants the last dimension first.
    x, pad = get("x").to(torch.float32), _ints(get("pad"))
    pairs = [(pad[2 * i], pad[2 * i + 1]) for i in range(len(pad) // 2)]
    torch_pad = [p for pair in reversed(pairs) for p in pair]
    while torch_pad and torch_pad[-2:] == [0, 0]:  # drop unpadded leading dimensions (reflect allows 2 at most)
        torch_pad = torch_pad[:-2]
    mode = {"constant": "constant", "reflect": "reflect", "replicate": "replicate"}[get("mode") or "constant"]
    if mode == "constant":
        return F.pad(x, torch_pad, value=float(get("constant_val") or 0.0))
    return F.pad(x, torch_pad, mode=mode)


def _conv(op: _Op, get: Callable[[str], Any]) -> torch.Tensor:
    x, weight, bias = get("x").to(torch.float32), get("weight").to(torch.float32), get("bias")
    if x.dim() != 4:
        raise NotImplementedError("conv other than 2-D")
    strides = _ints(get("strides")) or [1, 1]
    dilations = _ints(get("dilations")) or [1, 1]
    groups = int(get("groups")) if get("groups") is not None else 1
    pad_type = get("pad_type") or "valid"
    if pad_type == "custom":
        pad = _ints(get("pad"))
    elif pad_type == "valid":
        pad = [0, 0, 0, 0]
    else:
        raise NotImplementedError(f"conv pad_type {pad_type!r}")
    x = F.pad(x, [pad[2], pad[3], pad[0], pad[1]])
    return F.conv2d(x, weight, None if bias is None else bias.to(torch.float32), strides, 0, dilations, groups)


def _instance_norm(op: _Op, get: Callable[[str], Any]) -> torch.Tensor:
    gamma, beta = get("gamma"), get("beta")
    return F.instance_norm(
        get("x").to(torch.float32),
        weight=None if gamma is None else gamma.to(torch.float32),
        bias=None if beta is None else beta.to(torch.float32),
        eps=float(get("epsilon")),
    )


def _batch_norm(op: _Op, get: Callable[[str], Any]) -> torch.Tensor:
    gamma, beta = get("gamma"), get("beta")
    return F.batch_norm(
        get("x").to(torch.float32),
        get("mean").to(torch.float32),
        get("variance").to(torch.float32),
        None if gamma is None else gamma.to(torch.float32),
        None if beta is None else beta.to(torch.float32),
        training=False,
        eps=float(get("epsilon")),
    )


def _upsample_nearest(op: _Op, get: Callable[[str], Any]) -> torch.Tensor:
    x = get("x").to(torch.float32)
    sh, sw = float(get("scale_factor_height")), float(get("scale_factor_width"))
    size = (int(np.floor(x.shape[-2] * sh)), int(np.floor(x.shape[-1] * sw)))
    return F.interpolate(x, size=size, mode="nearest")


def _concat(op: _Op, get: Callable[[str], Any]) -> torch.Tensor:
    if get("interleave") is not None and bool(get("interleave")):
        raise NotImplementedError("interleaved concat")
    values = [v.reshape(1) if v.dim() == 0 else v for v in get("values")]  # scalars join as 1-element vectors
    return torch.cat([v.to(values[0].dtype) for v in values], dim=int(get("axis")))


def _slice_by_index(op: _Op, get: Callable[[str], Any]) -> torch.Tensor:
    x = get("x")
    rank = x.dim()
    begin, end = _ints(get("begin")), _ints(get("end"))
    stride = _ints(get("stride")) or [1] * rank
    begin_mask = _ints(get("begin_mask")) or [0] * rank
    end_mask = _ints(get("end_mask")) or [0] * rank
    squeeze = _ints(get("squeeze_mask")) or [0] * rank
    index: list[slice | int] = []
    for i in range(rank):
        if squeeze[i]:
            index.append(begin[i])
            continue
        if stride[i] != 1:
            raise NotImplementedError("slice_by_index with a stride")
        index.append(slice(None if begin_mask[i] else begin[i], None if end_mask[i] else end[i]))
    return x[tuple(index)]


def _clip(op: _Op, get: Callable[[str], Any]) -> torch.Tensor:
    return get("x").clamp(float(get("alpha")), float(get("beta")))


_HANDLERS: dict[str, Callable[[_Op, Callable[[str], Any]], Any]] = {
    "cast": _cast,
    "shape": _shape,
    "gather": _gather,
    "expand_dims": _expand_dims,
    "squeeze": _squeeze,
    "reduce_sum": _reduce(torch.sum),
    "reduce_mean": _reduce(torch.mean),
    "add": _binary(torch.add),
    "sub": _binary(torch.sub),
    "mul": _binary(torch.mul),
    "real_div": _binary(lambda x, y: x.to(torch.float32) / y.to(torch.float32)),
    "maximum": _binary(torch.maximum),
    "minimum": _binary(torch.minimum),
    "pad": _pad,
    "conv": _conv,
    "instance_norm": _instance_norm,
    "batch_norm": _batch_norm,
    "relu": lambda op, get: F.relu(get("x")),
    "sigmoid": lambda op, get: torch.sigmoid(get("x").to(torch.float32)),
    "clip": _clip,
    "upsample_nearest_neighbor": _upsample_nearest,
    "concat": _concat,
    "slice_by_index": _slice_by_index,
}


# --- neural network (.mlmodel) ----------------------------------------------------------------------------


def run_neural_network(spec: Any, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Run a neural-network-format spec (``MLModel.get_spec()``) on ``inputs``; images as (1, 3, H, W) 0..255."""
    net = spec.neuralNetwork
    env: dict[str, torch.Tensor] = {}
    for feature in spec.description.input:
        if feature.name not in inputs:
            raise ValueError(f"input {feature.name!r} is missing")
        env[feature.name] = torch.as_tensor(np.asarray(inputs[feature.name], np.float32))
    for pre in net.preprocessing:
        kind = pre.WhichOneof("preprocessor")
        if kind != "scaler":
            raise NotImplementedError(f"the reference interpreter has no {kind!r} preprocessing")
        s = pre.scaler
        bias = torch.tensor([s.redBias, s.greenBias, s.blueBias]).reshape(1, 3, 1, 1)
        env[pre.featureName] = env[pre.featureName] * s.channelScale + bias
    for layer in net.layers:
        kind = layer.WhichOneof("layer")
        handler = _LAYERS.get(kind)
        if handler is None:
            raise NotImplementedError(f"the reference interpreter has no {kind!r} layer")
        args = [env[name] for name in layer.input]
        out = handler(getattr(layer, kind), args)
        env[layer.output[0]] = out.to(torch.float32)
    return {o.name: env[o.name].numpy() for o in spec.description.output}


def _weights(params: Any) -> torch.Tensor:
    """A WeightParams' values as fp32, whether stored as fp32 or as fp16 bytes."""
    if len(params.floatValue):
        return torch.tensor(list(params.floatValue), dtype=torch.float32)
    if params.float16Value:
        return torch.from_numpy(np.frombuffer(params.float16Value, dtype=np.float16).astype(np.float32))
    raise NotImplementedError("weights stored other than as fp32 or fp16")


def _layer_conv(p: Any, args: list[torch.Tensor]) -> torch.Tensor:
    if p.isDeconvolution or p.WhichOneof("ConvolutionPaddingType") != "valid":
        raise NotImplementedError("convolution other than a valid-padded forward one")
    if any(a.startEdgeSize or a.endEdgeSize for a in p.valid.paddingAmounts.borderAmounts):
        raise NotImplementedError("convolution with padding amounts")
    kh, kw = p.kernelSize
    weight = _weights(p.weights).reshape(p.outputChannels, p.kernelChannels, kh, kw)
    bias = _weights(p.bias) if p.hasBias else None
    return F.conv2d(args[0], weight, bias, tuple(p.stride), 0, tuple(p.dilationFactor), p.nGroups or 1)


def _layer_batchnorm(p: Any, args: list[torch.Tensor]) -> torch.Tensor:
    gamma, beta = _weights(p.gamma), _weights(p.beta)
    if p.instanceNormalization and p.computeMeanVar:
        return F.instance_norm(args[0], weight=gamma, bias=beta, eps=p.epsilon)
    mean, var = _weights(p.mean), _weights(p.variance)
    return F.batch_norm(args[0], mean, var, gamma, beta, training=False, eps=p.epsilon)


def _layer_padding(p: Any, args: list[torch.Tensor]) -> torch.Tensor:
    (top, bottom), (left, right) = [(a.startEdgeSize, a.endEdgeSize) for a in p.paddingAmounts.borderAmounts]
    kind = p.WhichOneof("PaddingType")
    if kind == "reflection":
        return F.pad(args[0], (left, right, top, bottom), mode="reflect")
    if kind == "replication":
        return F.pad(args[0], (left, right, top, bottom), mode="replicate")
    return F.pad(args[0], (left, right, top, bottom), value=p.constant.value)


def _layer_activation(p: Any, args: list[torch.Tensor]) -> torch.Tensor:
    kind = p.WhichOneof("NonlinearityType")
    x = args[0]
    if kind == "ReLU":
        return F.relu(x)
    if kind == "sigmoid":
        return torch.sigmoid(x)
    if kind == "linear":
        return x * p.linear.alpha + p.linear.beta
    raise NotImplementedError(f"the reference interpreter has no {kind!r} activation")


def _layer_upsample(p: Any, args: list[torch.Tensor]) -> torch.Tensor:
    if p.mode != 0 or len(p.fractionalScalingFactor):  # 0 = NN (nearest neighbour)
        raise NotImplementedError("upsampling other than nearest neighbour by whole factors")
    sh, sw = p.scalingFactor
    return F.interpolate(args[0], scale_factor=(float(sh), float(sw)), mode="nearest")


_Layer = Callable[[Any, list[torch.Tensor]], torch.Tensor]


def _fold(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> _Layer:
    """Legacy add/multiply/max: combine all inputs; one input is combined with the layer's alpha instead."""

    def handler(p: Any, args: list[torch.Tensor]) -> torch.Tensor:
        if len(args) == 1:
            return fn(args[0], torch.tensor(p.alpha)) if hasattr(p, "alpha") else args[0]
        out = args[0]
        for arg in args[1:]:
            out = fn(out, arg)
        return out

    return handler


def _layer_reduce_sum(p: Any, args: list[torch.Tensor]) -> torch.Tensor:
    x = args[0]
    if p.reduceAll:
        return x.sum().reshape((1,) * x.dim() if p.keepDims else (1,))
    return x.sum(dim=list(p.axes), keepdim=p.keepDims)


def _layer_expand_dims(p: Any, args: list[torch.Tensor]) -> torch.Tensor:
    x = args[0]
    rank = x.dim() + len(p.axes)
    for axis in sorted(a % rank for a in p.axes):
        x = x.unsqueeze(axis)
    return x


def _layer_slice(p: Any, args: list[torch.Tensor]) -> torch.Tensor:
    """Legacy slice: one of the channel, height or width axes of a (…, C, H, W) blob; endIndex -1 = to the end."""
    axis = {0: -3, 1: -2, 2: -1}[p.axis]  # CHANNEL_AXIS, HEIGHT_AXIS, WIDTH_AXIS
    x = args[0]
    end = x.shape[axis] + 1 + p.endIndex if p.endIndex < 0 else p.endIndex
    start = x.shape[axis] + p.startIndex if p.startIndex < 0 else p.startIndex
    index = [slice(None)] * x.dim()
    index[axis] = slice(start, end, p.stride or 1)
    return x[tuple(index)]


def _layer_constant(p: Any, args: list[torch.Tensor]) -> torch.Tensor:
    return _weights(p.data).reshape(tuple(p.shape))


_LAYERS: dict[str, _Layer] = {
    "convolution": _layer_conv,
    "batchnorm": _layer_batchnorm,
    "padding": _layer_padding,
    "activation": _layer_activation,
    "upsample": _layer_upsample,
    "add": _fold(torch.add),
    "multiply": _fold(torch.mul),
    "max": _fold(torch.maximum),
    "addBroadcastable": lambda p, a: a[0] + a[1],
    "multiplyBroadcastable": lambda p, a: a[0] * a[1],
    "divideBroadcastable": lambda p, a: a[0] / a[1],
    "reduceSum": _layer_reduce_sum,
    "expandDims": _layer_expand_dims,
    "loadConstantND": _layer_constant,
    "slice": _layer_slice,
    "clip": lambda p, a: a[0].clamp(p.minVal, p.maxVal),
}
