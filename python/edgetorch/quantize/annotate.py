"""Annotating a captured graph for PT2E: which tensors get observers.

The patterns and the observer sharing are those of upstream's XNNPACK
quantizer, so that prepare_pt2e/convert_pt2e put the same quantize and
dequantize nodes, with the same parameters, where it would:

* conv (1-3d, transposed) and linear take quantized inputs and weights; a
  relu right after (the conv/linear's only user) is fused: the relu's
  output is observed, not the conv's. Batch norm after a conv has already
  been folded into it by prepare_pt2e.
* add and mul (and their relu) quantize both float inputs and the output;
  a scalar operand becomes a constant tensor first so it is quantized too
  (:func:`scalars_to_constants`).
* adaptive_avg_pool2d shares its input's parameters for its output; cat
  shares one input's parameters across all inputs and its output (the
  first input whose value already carries an observed output).
* layout and clamp-like ops (relu, hardtanh, max_pool2d, mean, view,
  reshape, permute, transpose, squeeze, slice, flatten, dropout) pass their
  input's parameters through to their output (:func:`propagate`).
* dynamic configs annotate only linear and 2-D non-depthwise convolutions;
  weight-only configs only their weights.

Each annotator walks the graph once and skips nodes that an earlier pattern
already claimed, so the order of PATTERNS matters (relu fusions first).
"""

from __future__ import annotations

from typing import Callable, Dict, List, Optional, Sequence

import torch
from torch.fx import GraphModule, Node

from torchao.quantization.pt2e.quantizer import (QuantizationAnnotation, QuantizationConfig,
                                                 QuantizationSpec, SharedQuantizationSpec,
                                                 get_bias_qspec, get_input_act_qspec,
                                                 get_output_act_qspec, get_weight_qspec)
from torchao.quantization.pt2e.quantizer.quantizer import Q_ANNOTATION_KEY

FilterFn = Optional[Callable[[Node], bool]]
Annotator = Callable[[GraphModule, QuantizationConfig, FilterFn], None]

aten = torch.ops.aten

_RELU = {aten.relu.default, aten.relu_.default}
_LINEAR = {aten.linear.default}
_CONV = {aten.conv1d.default, aten.conv1d.padding, aten.conv2d.default, aten.conv2d.padding,
         aten.conv3d.default, aten.conv3d.padding}
_CONV_T = {aten.conv_transpose1d.default, aten.conv_transpose2d.input,
           aten.conv_transpose3d.input}
_ADD = {aten.add.Tensor, aten.add_.Tensor}
_MUL = {aten.mul.Tensor, aten.mul_.Tensor}
_CAT = {aten.cat.default}
_AAP = {aten.adaptive_avg_pool2d.default}

#: Ops whose output keeps their (first) input's quantization parameters.
PASS_THROUGH = frozenset({
    aten.relu.default, aten.hardtanh.default, aten.hardtanh_.default,
    aten.max_pool2d.default, aten.mean.default, aten.mean.dim,
    aten.permute.default, aten.permute_copy.default, aten.transpose.int,
    aten.squeeze.dim, aten.squeeze_copy.dim, aten.adaptive_avg_pool2d.default,
    aten.view_copy.default, aten.view.default, aten.reshape.default,
    aten.slice.Tensor, aten.slice_copy.Tensor, aten.flatten.using_ints,
    aten.dropout.default, aten.dropout_.default,
})

# torch.histc (the histogram observer) fails on values beyond this.
_HISTC_LIMIT = 3.4028235e15


# ---------------------------------------------------------------------------
# Small predicates


def _call(n: object, targets) -> bool:
    return isinstance(n, Node) and n.op == "call_function" and n.target in targets


def _claimed(nodes: Sequence[Optional[Node]]) -> bool:
    for n in nodes:
        a = n.meta.get(Q_ANNOTATION_KEY) if n is not None else None
        if a is not None and a._annotated:
            return True
    return False


def _claim(nodes: Sequence[Optional[Node]]) -> None:
    for n in nodes:
        if n is None:
            continue
        a = n.meta.setdefault(Q_ANNOTATION_KEY, QuantizationAnnotation())
        a._annotated = True


def _allowed(filter_fn: FilterFn, nodes: Sequence[Node]) -> bool:
    return filter_fn is None or all(filter_fn(n) for n in nodes)


def _only_user(n: Node) -> Optional[Node]:
    return next(iter(n.users)) if len(n.users) == 1 else None


def _float_input(n: Node) -> bool:
    from torch._subclasses import FakeTensor

    v = n.meta.get("val")
    return isinstance(v, FakeTensor) and v.dtype == torch.float32


def _huge_scalar(n: Node, gm: GraphModule) -> bool:
    if n.op != "get_attr":
        return False
    path, _, name = str(n.target).rpartition(".")
    t = getattr(gm.get_submodule(path) if path else gm, name)
    return t.numel() == 1 and abs(float(t.item())) > _HISTC_LIMIT


def _groups(conv: Node, transposed: bool) -> int:
    w = conv.args[1].meta["val"]  # type: ignore[union-attr]
    if transposed:
        return int(conv.meta["val"].shape[1]) // int(w.shape[1])
    return int(conv.args[0].meta["val"].shape[1]) // int(w.shape[1])  # type: ignore[union-attr]


def _depthwise_kernel(shape: Sequence[int]) -> bool:
    # upstream asks with groups=1: one input channel per group in the kernel
    return len(shape) >= 2 and shape[1] == 1


def _is_dynamic(cfg: QuantizationConfig) -> bool:
    return cfg.input_activation is not None and cfg.input_activation.is_dynamic


def _axis1(spec: Optional[QuantizationSpec]) -> Optional[QuantizationSpec]:
    # transposed convolution weights are [in, out/groups, ...]: output channels on axis 1
    if spec is None:
        return None
    return QuantizationSpec(dtype=spec.dtype, quant_min=spec.quant_min, quant_max=spec.quant_max,
                            qscheme=spec.qscheme, ch_axis=1, is_dynamic=spec.is_dynamic,
                            observer_or_fake_quant_ctr=spec.observer_or_fake_quant_ctr)


# ---------------------------------------------------------------------------
# Weighted ops: linear, conv, transposed conv (optionally + relu)


def _weighted_inputs(op: Node, cfg: QuantizationConfig, transposed: bool = False
                     ) -> Dict[Node, Optional[QuantizationSpec]]:
    wspec = get_weight_qspec(cfg)
    m: Dict[Node, Optional[QuantizationSpec]] = {
        op.args[0]: get_input_act_qspec(cfg),  # type: ignore[dict-item]
        op.args[1]: _axis1(wspec) if transposed else wspec,  # type: ignore[dict-item]
    }
    bias = op.args[2] if len(op.args) > 2 else None
    if isinstance(bias, Node):
        m[bias] = get_bias_qspec(cfg)
    return m


def _weighted_partition(op: Node) -> List[Node]:
    part = [op, op.args[1]]  # type: ignore[list-item]
    bias = op.args[2] if len(op.args) > 2 else None
    if isinstance(bias, Node):
        part.append(bias)
    return part


def _linear(gm: GraphModule, cfg: QuantizationConfig, filter_fn: FilterFn) -> None:
    for n in gm.graph.nodes:
        if not _call(n, _LINEAR) or (filter_fn is not None and not filter_fn(n)):
            continue
        part = _weighted_partition(n)
        if _claimed([n]):
            continue
        n.meta[Q_ANNOTATION_KEY] = QuantizationAnnotation(
            input_qspec_map=_weighted_inputs(n, cfg), output_qspec=get_output_act_qspec(cfg))
        _claim(part)


def _linear_relu(gm: GraphModule, cfg: QuantizationConfig, filter_fn: FilterFn) -> None:
    for relu in gm.graph.nodes:
        if not _call(relu, _RELU) or not _call(relu.args[0], _LINEAR):
            continue
        lin = relu.args[0]
        if len(lin.users) > 1:
            continue
        part = [relu] + _weighted_partition(lin)
        if _claimed(part) or not _allowed(filter_fn, part):
            continue
        lin.meta[Q_ANNOTATION_KEY] = QuantizationAnnotation(
            input_qspec_map=_weighted_inputs(lin, cfg), _annotated=True)
        relu.meta[Q_ANNOTATION_KEY] = QuantizationAnnotation(
            output_qspec=get_output_act_qspec(cfg), _annotated=True)
        _claim(part)


def _conv_common(gm: GraphModule, cfg: QuantizationConfig, filter_fn: FilterFn,
                 transposed: bool) -> None:
    targets = _CONV_T if transposed else _CONV
    for n in gm.graph.nodes:
        if not _call(n, targets):
            continue
        user = _only_user(n)
        if user is not None and _call(user, _RELU):
            continue  # conv_relu's
        skip = transposed and _groups(n, True) != 1
        if _is_dynamic(cfg):
            shape = getattr(n.args[1].meta.get("val"), "shape", None)
            skip = skip or (shape is not None and len(shape) != 4)
            skip = skip or (not transposed and shape is not None and _depthwise_kernel(shape))
        part = _weighted_partition(n)
        if skip or _claimed(part) or not _allowed(filter_fn, part):
            continue
        n.meta[Q_ANNOTATION_KEY] = QuantizationAnnotation(
            input_qspec_map=_weighted_inputs(n, cfg, transposed),
            output_qspec=get_output_act_qspec(cfg), _annotated=True)
        _claim(part)


def _conv_relu_common(gm: GraphModule, cfg: QuantizationConfig, filter_fn: FilterFn,
                      transposed: bool) -> None:
    targets = _CONV_T if transposed else _CONV
    for relu in gm.graph.nodes:
        if not _call(relu, _RELU) or not _call(relu.args[0], targets):
            continue
        conv = relu.args[0]
        if len(conv.users) > 1:
            continue
        part = [relu] + _weighted_partition(conv)
        if _claimed(part) or (transposed and _groups(conv, True) != 1):
            continue
        if not _allowed(filter_fn, part):
            continue
        conv.meta[Q_ANNOTATION_KEY] = QuantizationAnnotation(
            input_qspec_map=_weighted_inputs(conv, cfg, transposed), _annotated=True)
        relu.meta[Q_ANNOTATION_KEY] = QuantizationAnnotation(
            output_qspec=get_output_act_qspec(cfg), _annotated=True)
        _claim(part)


def _conv(gm, cfg, f) -> None:
    _conv_common(gm, cfg, f, False)


def _conv_transpose(gm, cfg, f) -> None:
    _conv_common(gm, cfg, f, True)


def _conv_relu(gm, cfg, f) -> None:
    _conv_relu_common(gm, cfg, f, False)


def _conv_transpose_relu(gm, cfg, f) -> None:
    _conv_relu_common(gm, cfg, f, True)


# ---------------------------------------------------------------------------
# Binary ops (add, mul) and their relu


def _binary_inputs(op: Node, gm: GraphModule, cfg: QuantizationConfig
                   ) -> Optional[Dict[Node, Optional[QuantizationSpec]]]:
    """The input map of a binary op; None when an operand cannot be observed
    (an integer tensor, or a scalar constant beyond the histogram's range)."""
    m: Dict[Node, Optional[QuantizationSpec]] = {}
    for a in op.args[:2]:
        if isinstance(a, Node):
            if _huge_scalar(a, gm) or not _float_input(a):
                return None
            m[a] = get_input_act_qspec(cfg)
    return m


def _binary(targets) -> Annotator:
    def annotate(gm: GraphModule, cfg: QuantizationConfig, filter_fn: FilterFn) -> None:
        for n in gm.graph.nodes:
            if not _call(n, targets) or _claimed([n]) or not _allowed(filter_fn, [n]):
                continue
            m = _binary_inputs(n, gm, cfg)
            if m is None:
                continue
            n.meta[Q_ANNOTATION_KEY] = QuantizationAnnotation(
                input_qspec_map=m, output_qspec=get_output_act_qspec(cfg), _annotated=True)
    return annotate


def _binary_relu(targets) -> Annotator:
    def annotate(gm: GraphModule, cfg: QuantizationConfig, filter_fn: FilterFn) -> None:
        for relu in gm.graph.nodes:
            if not _call(relu, _RELU) or not _call(relu.args[0], targets):
                continue
            op = relu.args[0]
            if len(op.users) > 1 or _claimed([relu, op]) or not _allowed(filter_fn, [relu, op]):
                continue
            m = _binary_inputs(op, gm, cfg)
            if m is None:
                continue
            op.meta[Q_ANNOTATION_KEY] = QuantizationAnnotation(input_qspec_map=m, _annotated=True)
            relu.meta[Q_ANNOTATION_KEY] = QuantizationAnnotation(
                output_qspec=get_output_act_qspec(cfg), _annotated=True)
    return annotate


# ---------------------------------------------------------------------------
# Parameter-sharing ops: adaptive average pool, cat


def _observed_output(n: Node) -> bool:
    a = n.meta.get(Q_ANNOTATION_KEY)
    return a is not None and a._annotated and a.output_qspec is not None


def _adaptive_avg_pool2d(gm: GraphModule, cfg: QuantizationConfig, filter_fn: FilterFn) -> None:
    for n in gm.graph.nodes:
        if not _call(n, _AAP) or _claimed([n]) or not _allowed(filter_fn, [n]):
            continue
        x = n.args[0]
        in_spec = SharedQuantizationSpec(x) if _observed_output(x) else get_input_act_qspec(cfg)
        n.meta[Q_ANNOTATION_KEY] = QuantizationAnnotation(
            input_qspec_map={x: in_spec}, output_qspec=SharedQuantizationSpec((x, n)),
            _annotated=True)


def _traces_to_observed(n: Node) -> bool:
    seen = set()
    while n not in seen:
        seen.add(n)
        if _observed_output(n):
            return True
        if n.op != "call_function" or n.target not in PASS_THROUGH or not isinstance(n.args[0], Node):
            return False
        n = n.args[0]
    return False


def _cat(gm: GraphModule, cfg: QuantizationConfig, filter_fn: FilterFn) -> None:
    for n in gm.graph.nodes:
        if not _call(n, _CAT) or _claimed([n]) or not _allowed(filter_fn, [n]):
            continue
        inputs = list(n.args[0])
        source = next((x for x in inputs if isinstance(x, Node) and _traces_to_observed(x)),
                      inputs[0])
        shared = SharedQuantizationSpec((source, n))
        m: Dict[Node, object] = {}
        if isinstance(source, Node):
            m[source] = get_input_act_qspec(cfg)
        for x in inputs:
            m.setdefault(x, shared)
        n.meta[Q_ANNOTATION_KEY] = QuantizationAnnotation(
            input_qspec_map=m, output_qspec=shared, _annotated=True)  # type: ignore[arg-type]


def propagate(gm: GraphModule) -> None:
    """Pass-through ops share their input's parameters when the input's
    producer has an observed output and they are not annotated yet."""
    for n in gm.graph.nodes:
        if n.op != "call_function" or n.target not in PASS_THROUGH or not n.args:
            continue
        prev = n.args[0]
        if not isinstance(prev, Node):
            continue
        a = prev.meta.get(Q_ANNOTATION_KEY)
        if a is None or a.output_qspec is None or _claimed([n]):
            continue
        shared = SharedQuantizationSpec(prev)
        n.meta[Q_ANNOTATION_KEY] = QuantizationAnnotation(
            input_qspec_map={prev: shared}, output_qspec=shared, _annotated=True)


# ---------------------------------------------------------------------------
# Weight-only: weights of linear and conv, nothing else


def _weights_only(gm: GraphModule, cfg: QuantizationConfig, filter_fn: FilterFn) -> None:
    for n in gm.graph.nodes:
        transposed = _call(n, _CONV_T)
        if not (_call(n, _LINEAR) or _call(n, _CONV) or transposed):
            continue
        if not isinstance(n.args[1], Node):
            continue
        part = [n, n.args[1]]
        if _claimed(part) or not _allowed(filter_fn, part):
            continue
        if transposed and _groups(n, True) != 1:
            continue
        wspec = get_weight_qspec(cfg)
        n.meta[Q_ANNOTATION_KEY] = QuantizationAnnotation(
            input_qspec_map={n.args[1]: _axis1(wspec) if transposed else wspec}, _annotated=True)
        _claim(part)


# ---------------------------------------------------------------------------
# The tables, in application order

#: (name, annotator, runs for dynamic configs)
PATTERNS: List[tuple] = [
    ("linear_relu", _linear_relu, False),
    ("linear", _linear, True),
    ("conv", _conv, True),
    ("conv_transpose", _conv_transpose, True),
    ("conv_relu", _conv_relu, False),
    ("conv_transpose_relu", _conv_transpose_relu, False),
    ("adaptive_avg_pool2d", _adaptive_avg_pool2d, False),
    ("add_relu", _binary_relu(_ADD), False),
    ("add", _binary(_ADD), False),
    ("mul_relu", _binary_relu(_MUL), False),
    ("mul", _binary(_MUL), False),
    ("cat", _cat, False),
]


def annotate_all(gm: GraphModule, cfg: Optional[QuantizationConfig], filter_fn: FilterFn) -> None:
    """Every pattern the config takes, in order."""
    if cfg is None:
        return
    if cfg.input_activation is None:
        _weights_only(gm, cfg, filter_fn)
        return
    dynamic = _is_dynamic(cfg)
    for _name, fn, for_dynamic in PATTERNS:
        if dynamic and not for_dynamic:
            continue
        fn(gm, cfg, filter_fn)


def scalars_to_constants(gm: GraphModule) -> GraphModule:
    """Scalar operands of add/mul become 0-d float constants (get_attr), so
    that the quantizer can observe them like any other operand."""
    count = 0
    for n in list(gm.graph.nodes):
        if not _call(n, {aten.add.Tensor, aten.mul.Tensor}):
            continue
        args = list(n.args)
        changed = False
        for i, a in enumerate(args):
            if isinstance(a, Node) or not isinstance(a, (int, float, bool)):
                continue
            while hasattr(gm, f"_tensor_constant_{count}"):
                count += 1
            name = f"_tensor_constant_{count}"
            value = torch.tensor(float(a))
            gm.register_buffer(name, value)
            with gm.graph.inserting_before(n):
                attr = gm.graph.create_node("get_attr", name, (), {})
            attr.meta["val"] = n.meta["val"].fake_mode.from_tensor(value, static_shapes=True)
            args[i] = attr
            changed = True
        if changed:
            n.args = tuple(args)
    gm.recompile()
    return gm
