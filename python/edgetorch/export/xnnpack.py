"""``XnnpackPartitioner``: float32 subgraphs to the ``XnnpackBackend`` delegate.

The payload is upstream ExecuTorch's (``edgetorch.pte.xnnpack``), so both
upstream's runtime (with XNNPACK) and edgetorch's CPU backend run it.  The
conventions are the ones upstream's own lowering writes:

* values: ``id_out`` = position in ``xvalues``; the subgraph's inputs are
  external ids 0..n-1 and its outputs n..n+m-1, in ``DelegateCall`` order;
  internal values have external id ``XNN_INVALID_VALUE_ID``;
* weights and other constants live in the program's named data under the
  sha256 of their bytes (``ConstantDataOffset{UINT64_MAX, size, key}``);
* convolution, pooling and global average pooling run NHWC: a 4-D value
  gets an NHWC twin through ``XNNStaticTranspose`` (perm 0,2,3,1) where an
  NHWC node reads it, and an NCHW twin (perm 0,3,1,2) where anything else
  does or it leaves the subgraph.  Elementwise nodes run in whichever layout
  their input already has.  Filters are OHWI (``[oc, kh, kw, ic/groups]``),
  depthwise filters ``[1, kh, kw, oc]``, transposed-convolution filters the
  per-group swapped ``[oc, kh, kw, ic/groups]``;
* ``relu``/``hardtanh``/``clamp`` after a fully connected or convolution
  node that nothing else reads become that node's ``output_min_max``.

Only float32 tensors of rank 1 to 6 are taken, dynamic sizes when bounded
(the payload's dims are the bounds; a reshape infers one dynamic size);
anything else stays a portable operator (``XnnpackPartitioner.why_not`` says
why).
"""

from __future__ import annotations

import hashlib
import math
import operator
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import torch
import torch.fx

from ..pte import xnnpack as X
from . import oplib, passes
from .partition import Partitioner, Preprocessed, Subgraph

aten = torch.ops.aten
INF = float("inf")
NCHW_TO_NHWC = [0, 2, 3, 1]
NHWC_TO_NCHW = [0, 3, 1, 2]
CONSTANT_ALIGNMENT = 16  # upstream's CONSTANT_TENSOR_ALIGNMENT
MAX_DIMS = 6             # XNN_MAX_TENSOR_DIMS


class Unsupported(Exception):
    """Raised by a check: the node stays a portable operator (the message says why)."""


def _need(cond: Any, why: str) -> None:
    if not cond:
        raise Unsupported(why)


# ---------------------------------------------------------------------------
# constants: get_attr tensors and pure view-like chains over them

_PURE = {aten.permute.default, aten.view.default, aten._unsafe_view.default,
         aten.reshape.default, aten.t.default, aten.transpose.int, aten.unsqueeze.default,
         aten.squeeze.dim, aten.squeeze.dims, aten.squeeze.default, aten.clone.default,
         aten.contiguous.default, aten.expand.default, aten.alias.default,
         aten.slice.Tensor, aten.select.int,
         oplib.CLONE_DIM_ORDER, oplib.TO_DIM_ORDER_COPY}

try:  # the quantized_decomposed ops (registered by torch.ao on import)
    import torch.ao.quantization.fx._decomposed  # noqa: F401
    _QD = torch.ops.quantized_decomposed
    Q_PT = _QD.quantize_per_tensor.default
    DQ_PT = _QD.dequantize_per_tensor.default
    DQ_PC = _QD.dequantize_per_channel.default
    Q_PT_T = _QD.quantize_per_tensor.tensor
    DQ_PT_T = _QD.dequantize_per_tensor.tensor
    CHOOSE = _QD.choose_qparams.tensor
    # dequantizing a constant is a constant (a quantized weight); the
    # quantized lowering reads its integers and scales instead
    _PURE |= {DQ_PT, DQ_PC}
except (ImportError, AttributeError):  # pragma: no cover - torch without them
    Q_PT = DQ_PT = DQ_PC = Q_PT_T = DQ_PT_T = CHOOSE = None


# Tensor factories: constants when small (a larger one is cheaper made at run
# time by its kernel than stored in the file).
_FACTORIES = {aten.full.default, aten.zeros.default, aten.ones.default,
              aten.scalar_tensor.default}
_FACTORY_MAX_BYTES = 16 * 1024


class _Constants:
    """Which nodes are constants, and their values (memoized)."""

    def __init__(self) -> None:
        self.memo: Dict[torch.fx.Node, Optional[torch.Tensor]] = {}

    def value(self, n: Any) -> Optional[torch.Tensor]:
        if not isinstance(n, torch.fx.Node):
            return None
        if n in self.memo:
            return self.memo[n]
        v: Optional[torch.Tensor] = None
        if passes.is_const(n):
            v = n.meta["val"]
        elif n.op == "call_function" and n.target in _FACTORIES and not n.all_input_nodes:
            out = n.meta.get("val")
            if isinstance(out, torch.Tensor) and passes.tensor_is_static(out) and \
                    out.numel() * out.element_size() <= _FACTORY_MAX_BYTES:
                kwargs = dict(n.kwargs)
                kwargs["device"] = "cpu"
                try:
                    v = n.target(*n.args, **kwargs)
                except Exception:  # noqa: BLE001 - not evaluable here: not a constant
                    v = None
        elif n.op == "call_function" and n.target in _PURE and n.all_input_nodes and all(
                self.value(a) is not None for a in n.all_input_nodes):
            args = torch.fx.node.map_arg(n.args, lambda a: self.value(a))
            kwargs = torch.fx.node.map_arg(n.kwargs, lambda a: self.value(a))
            try:
                with torch.no_grad():
                    v = n.target(*args, **kwargs)
            except Exception:  # noqa: BLE001 - not foldable: not a constant
                v = None
            if not isinstance(v, torch.Tensor):
                v = None
        self.memo[n] = v
        return v


# ---------------------------------------------------------------------------
# the payload under construction


class _Graph:
    def __init__(self) -> None:
        self.values: List[X.XNNTensorValue] = []
        self.nodes: List[X.XNode] = []
        self.constant_data = [X.ConstantDataOffset(offset=0, size=0, named_key="")]
        self.named: Dict[str, Tuple[bytes, int]] = {}
        self._static: Dict[Tuple[str, Tuple[int, ...]], int] = {}
        self._const_idx: Dict[str, int] = {}
        self.qparams: Dict[int, Any] = {}   # value id -> XNNQuantParams member

    def value(self, dims: Sequence[int], const_idx: int = 0, datatype: int = X.XNNDatatype.fp32,
              qparams: Any = None) -> int:
        dims = [int(d) for d in dims] or [1]
        v = X.XNNTensorValue(datatype=datatype, num_dims=len(dims), dims=dims,
                             constant_buffer_idx=const_idx,
                             external_id=X.XNN_INVALID_VALUE_ID, flags=0,
                             id_out=len(self.values))
        self.values.append(v)
        if qparams is not None:
            self.qparams[v.id_out] = qparams
        return v.id_out

    def like(self, src: int, dims: Sequence[int]) -> int:
        """A new value with `src`'s datatype and quantization."""
        return self.value(dims, datatype=self.values[src].datatype, qparams=self.qparams.get(src))

    def quantize(self, vid: int, datatype: int, qparams: Any) -> None:
        self.values[vid].datatype = datatype
        self.qparams[vid] = qparams

    def data(self, raw: bytes, prefix: str = "") -> int:
        """A constant_data entry for raw bytes (named data by sha256)."""
        key = prefix + hashlib.sha256(raw).hexdigest()
        if key not in self._const_idx:
            self._const_idx[key] = len(self.constant_data)
            self.constant_data.append(X.ConstantDataOffset(offset=X.UINT64_MAX, size=len(raw),
                                                           named_key=key))
            self.named[key] = (raw, CONSTANT_ALIGNMENT)
        return self._const_idx[key]

    def static_quantized(self, t: torch.Tensor, datatype: int, qparams: Any) -> int:
        """A constant integer value (int8 weights, int32 biases)."""
        t = t.detach().contiguous()
        idx = self.data(t.numpy().tobytes())
        return self.value(list(t.shape) or [1], idx, datatype, qparams)

    def per_channel(self, scales: torch.Tensor, channel_dim: int) -> X.PerChannelQuant:
        """Per-channel parameters with the scales in constant data, as upstream
        writes them (fp32, named "scale_<sha256>")."""
        sc = scales.detach().to(torch.float32).contiguous()
        idx = self.data(sc.numpy().tobytes(), "scale_")
        return X.PerChannelQuant(scale=[], channel_dim=channel_dim, scale_buffer_idx=idx,
                                 num_scales=int(sc.numel()))

    def static(self, t: torch.Tensor) -> int:
        """A constant value (float32, contiguous) kept in named data."""
        t = t.detach().to(torch.float32).contiguous()
        data = t.numpy().tobytes()
        key = hashlib.sha256(data).hexdigest()
        dims = tuple(int(d) for d in t.shape) or (1,)
        if (key, dims) in self._static:
            return self._static[(key, dims)]
        if key not in self._const_idx:
            self._const_idx[key] = len(self.constant_data)
            self.constant_data.append(X.ConstantDataOffset(offset=X.UINT64_MAX,
                                                           size=len(data), named_key=key))
            self.named[key] = (data, CONSTANT_ALIGNMENT)
        vid = self.value(dims, self._const_idx[key])
        self._static[(key, dims)] = vid
        return vid

    def node(self, payload: Any, debug: int, minmax: Optional[Tuple[float, float]] = None
             ) -> X.XNode:
        mm = None if minmax is None else X.OutputMinMax(output_min=minmax[0],
                                                        output_max=minmax[1])
        xn = X.XNode(xnode_union=payload, debug_handle=debug, output_min_max=mm)
        self.nodes.append(xn)
        return xn


# ---------------------------------------------------------------------------
# lowering one subgraph


def _shape(n: Any) -> List[int]:
    """The sizes, a dynamic size at its upper bound (a value's dims in the
    payload are bounds; the runtimes propagate the actual sizes)."""
    v = n.meta["val"] if isinstance(n, torch.fx.Node) else n
    if isinstance(v, (tuple, list)):   # max pooling's (values, indices)
        v = v[0]
    out = []
    for s in v.shape:
        b = passes.sym_upper_bound(s)
        if b is None:
            raise Unsupported("a dynamic size without an upper bound")
        out.append(b)
    return out


def _new_shape(n: Any) -> List[int]:
    """A reshape's target sizes for XNNPACK: a dynamic size becomes 0 (the
    size XNNPACK infers); at most one may be dynamic."""
    dims = [0 if passes.is_sym(s) else int(s) for s in n.meta["val"].shape]
    _need(sum(passes.is_sym(s) for s in n.meta["val"].shape) <= 1,
          "a reshape to more than one dynamic size")
    return dims


def _dynamic(n: Any) -> bool:
    return any(passes.is_sym(s) for s in n.meta["val"].shape)


def _same_shape(a: Any, b: Any) -> bool:
    return [str(s) for s in a.meta["val"].shape] == [str(s) for s in b.meta["val"].shape]


def _norm_dim(d: int, rank: int) -> int:
    return d + rank if d < 0 else d


class _Lowering:
    """Walks a subgraph's nodes in order and writes the XNNPACK graph.

    ``self.ids[node]`` maps a layout ("nchw": the tensor as torch sees it;
    "nhwc": a 4-D tensor with its channels last) to the value holding it."""

    def __init__(self, sub: Subgraph, consts: _Constants) -> None:
        self.sub = sub
        self.consts = consts
        self.g = _Graph()
        self.ids: Dict[torch.fx.Node, Dict[str, int]] = {}
        self.producer: Dict[int, X.XNode] = {}     # value id -> node writing it
        self.tuples: Dict[torch.fx.Node, List[Any]] = {}
        self.inside = set(sub.nodes)
        self.debug = 0

    # values ------------------------------------------------------------
    def get(self, n: torch.fx.Node, layout: str = "nchw") -> int:
        c = self.consts.value(n) if n not in self.ids else None
        if c is not None:   # a constant: a static value in the layout asked for
            return self.g.static(c.permute(NCHW_TO_NHWC) if layout == "nhwc" else c)
        have = self.ids.get(n)
        if have is None:
            raise Unsupported(f"{n.name} has no value in the subgraph")
        if layout in have:
            return have[layout]
        src_layout, src = next(iter(have.items()))
        perm = NCHW_TO_NHWC if layout == "nhwc" else NHWC_TO_NCHW
        dims = [self.g.values[src].dims[p] for p in perm]
        out = self.g.like(src, dims)
        self.emit(X.XNNStaticTranspose(num_dims=4, perm=perm, input_id=src, output_id=out),
                  debug=65535)
        have[layout] = out
        return out

    def layout_of(self, n: torch.fx.Node) -> str:
        have = self.ids.get(n, {})
        return "nhwc" if "nhwc" in have and "nchw" not in have else "nchw"

    def define(self, n: torch.fx.Node, layout: str = "nchw",
               shape: Optional[List[int]] = None) -> int:
        dims = shape if shape is not None else _shape(n)
        if layout == "nhwc":
            dims = [dims[p] for p in NCHW_TO_NHWC]
        vid = self.g.value(dims)
        self.ids.setdefault(n, {})[layout] = vid
        return vid

    def alias(self, n: torch.fx.Node, src: torch.fx.Node) -> None:
        self.ids[n] = self.ids[src]

    def emit(self, payload: Any, minmax: Optional[Tuple[float, float]] = None,
             debug: Optional[int] = None) -> X.XNode:
        xn = self.g.node(payload, self.debug if debug is None else debug, minmax)
        out = getattr(payload, "output_id", None)
        if out is not None:
            self.producer[out] = xn
        return xn

    def operand(self, a: Any, layout: str, rank: int) -> int:
        """A binary node's operand in `layout` (constants laid out to match)."""
        if isinstance(a, torch.fx.Node) and self.consts.value(a) is None:
            return self.get(a, layout)
        t = self.consts.value(a) if isinstance(a, torch.fx.Node) else torch.tensor(float(a))
        t = t.to(torch.float32)
        if t.dim() == 0:
            t = t.reshape(1)
        elif layout == "nhwc":
            t = t.reshape([1] * (rank - t.dim()) + list(t.shape)).permute(NCHW_TO_NHWC)
        return self.g.static(t)

    # the walk ----------------------------------------------------------
    def run(self) -> Tuple[X.XNNGraph, Dict[str, Tuple[bytes, int]]]:
        g = self.g
        for k, n in enumerate(self.sub.inputs):
            vid = g.value(_shape(n))
            g.values[vid].external_id = k
            g.values[vid].flags = X.VALUE_FLAG_EXTERNAL_INPUT
            self.ids[n] = {"nchw": vid}
        order = {n: i for i, n in enumerate(self.sub.nodes[0].graph.nodes)}
        self.fold = _fold_plans(self)
        self.skip = {x for plan in self.fold.values() for x in plan.skipped}
        for n in self.sub.nodes:
            self.debug = order[n] + 1
            if n in self.fold:
                self.fold[n].lower(self, n, self.fold[n])
            elif n in self.skip:
                continue
            else:
                _RULES[n.target].lower(self, n)
        inputs = [self.ids[n]["nchw"] for n in self.sub.inputs]
        outputs = []
        for k, n in enumerate(self.sub.outputs):
            vid = self.get(n, "nchw")
            v = g.values[vid]
            if v.flags or v.constant_buffer_idx or vid in outputs:
                copy = g.like(vid, v.dims)
                self.emit(X.XNNCopy(input_id=vid, output_id=copy))
                vid = copy
            g.values[vid].external_id = len(inputs) + k
            g.values[vid].flags = X.VALUE_FLAG_EXTERNAL_OUTPUT
            outputs.append(vid)
        xvalues = [X.XValue(X.XNNQuantizedTensorValue(tensor_value=v, quant_params=g.qparams[i])
                            if i in g.qparams else v) for i, v in enumerate(g.values)]
        graph = X.XNNGraph(version="0", xnodes=g.nodes, xvalues=xvalues,
                           num_externs=len(inputs) + len(outputs), input_ids=inputs,
                           output_ids=outputs, constant_data=g.constant_data)
        return graph, g.named


# ---------------------------------------------------------------------------
# rules: which nodes are taken (check) and how each is written (lower)


class _Rule:
    """check(node, p) raises Unsupported; lower(L, node) writes XNNPACK nodes.
    ``compute`` says whether the node is worth a delegate on its own."""

    def __init__(self, check: Callable[..., None], lower: Callable[..., None],
                 compute: bool = True) -> None:
        self.check, self.lower, self.compute = check, lower, compute


_RULES: Dict[Any, _Rule] = {}


def _rule(targets: Sequence[Any], check: Callable[..., None], lower: Callable[..., None],
          compute: bool = True) -> None:
    for t in targets:
        _RULES[t] = _Rule(check, lower, compute)


def _act(p: "XnnpackPartitioner", a: Any, what: str = "input") -> None:
    _need(isinstance(a, torch.fx.Node) and isinstance(a.meta.get("val"), torch.Tensor),
          f"{what} is not a tensor")
    _need(p.consts.value(a) is None, f"{what} is a constant (left to constant folding)")


def _const(p: "XnnpackPartitioner", a: Any, what: str) -> torch.Tensor:
    v = p.consts.value(a)
    _need(v is not None, f"{what} is not a constant")
    return v


def _arg(n: torch.fx.Node, i: int, name: str, default: Any) -> Any:
    if len(n.args) > i:
        return n.args[i]
    return n.kwargs.get(name, default)


# -- elementwise unary ------------------------------------------------------

def _unary_check(n, p):
    _act(p, n.args[0])


def _unary(cls):
    def lower(L: _Lowering, n):
        layout = L.layout_of(n.args[0])
        x = L.get(n.args[0], layout)
        L.emit(cls(input_id=x, output_id=L.define(n, layout)))
    return lower


for _t, _cls in ((aten.sigmoid.default, X.XNNSigmoid), (aten.tanh.default, X.XNNTanh),
                 (aten.hardswish.default, X.XNNHardswish), (aten.abs.default, X.XNNAbs),
                 (aten.neg.default, X.XNNNegate), (aten.exp.default, X.XNNExp),
                 (aten.sqrt.default, X.XNNSquareRoot),
                 (aten.rsqrt.default, X.XNNReciprocalSquareRoot),
                 (aten.floor.default, X.XNNFloor), (aten.ceil.default, X.XNNCeiling),
                 (aten.log.default, X.XNNLog)):
    _rule([_t], _unary_check, _unary(_cls))


def _gelu_check(n, p):
    _act(p, n.args[0])
    _need(n.kwargs.get("approximate", _arg(n, 1, "approximate", "none")) == "none",
          "only the exact (erf) GELU")


_rule([aten.gelu.default], _gelu_check, _unary(X.XNNGelu))


def _leaky_lower(L: _Lowering, n):
    layout = L.layout_of(n.args[0])
    x = L.get(n.args[0], layout)
    L.emit(X.XNNLeakyReLU(negative_slope=float(_arg(n, 1, "negative_slope", 0.01)),
                          input_id=x, output_id=L.define(n, layout)))


_rule([aten.leaky_relu.default], _unary_check, _leaky_lower)


def _reciprocal_lower(L: _Lowering, n):   # XNNPACK has no reciprocal: 1 / x
    layout = L.layout_of(n.args[0])
    one = L.g.static(torch.ones(1))
    L.emit(X.XNNDiv(input1_id=one, input2_id=L.get(n.args[0], layout),
                    output_id=L.define(n, layout)))


_rule([aten.reciprocal.default], _unary_check, _reciprocal_lower)


def _clamp_bounds(n) -> Tuple[float, float]:
    if n.target == aten.relu.default:
        return 0.0, INF
    if n.target == aten.hardtanh.default:
        return float(_arg(n, 1, "min_val", -1.0)), float(_arg(n, 2, "max_val", 1.0))
    lo, hi = _arg(n, 1, "min", None), _arg(n, 2, "max", None)
    return (-INF if lo is None else float(lo)), (INF if hi is None else float(hi))


def _clamp_check(n, p):
    _act(p, n.args[0])
    if n.target == aten.clamp.default:
        lo, hi = _arg(n, 1, "min", None), _arg(n, 2, "max", None)
        _need(lo is not None or hi is not None, "clamp without bounds")
        _need(all(v is None or isinstance(v, (int, float)) and not isinstance(v, bool)
                  for v in (lo, hi)), "clamp bounds must be numbers")
    lo, hi = _clamp_bounds(n)
    _need(lo <= hi and not math.isnan(lo) and not math.isnan(hi),
          "clamp with min > max (eager gives max everywhere)")


_FUSES_CLAMP = (X.XNNFullyConnected, X.XNNConv2d, X.XNNDepthwiseConv2d, X.XNNConvTranspose2d)


def _keeps_int8(src, n) -> bool:
    """On int8 (a dequantize read as its int8 source, _qpass_lower): the
    source value has no other reader and the clamp writes it in the same
    parameters, so a producer may take the clamp as its output range."""
    if Q_PT is None or src.target != DQ_PT:
        return True
    users = list(n.users)
    return (len(src.args[0].users) == 1 and len(users) == 1 and users[0].target == Q_PT
            and _pt_params(users[0]) == _pt_params(src))


def _clamp_lower(L: _Lowering, n):
    lo, hi = _clamp_bounds(n)
    src = n.args[0]
    layout = L.layout_of(src)
    x = L.get(src, layout)
    prod = L.producer.get(x)
    if (src in L.inside and len(src.users) == 1 and src not in L.sub.outputs
            and prod is not None and isinstance(prod.xnode_union, _FUSES_CLAMP)
            and prod.output_min_max is None and len(L.ids[src]) == 1
            and _keeps_int8(src, n)):
        prod.output_min_max = X.OutputMinMax(output_min=lo, output_max=hi)
        L.alias(n, src)
        return
    L.emit(X.XNNClamp(input_id=x, output_id=L.define(n, layout)), minmax=(lo, hi))


_rule([aten.relu.default, aten.hardtanh.default, aten.clamp.default], _clamp_check,
      _clamp_lower)

# -- elementwise binary -----------------------------------------------------

_BINARY = {aten.add.Tensor: X.XNNAdd, aten.add.Scalar: X.XNNAdd,
           aten.sub.Tensor: X.XNNSubtract, aten.sub.Scalar: X.XNNSubtract,
           aten.mul.Tensor: X.XNNMultiply, aten.mul.Scalar: X.XNNMultiply,
           aten.div.Tensor: X.XNNDiv, aten.div.Scalar: X.XNNDiv,
           aten.maximum.default: X.XNNMaximum, aten.minimum.default: X.XNNMinimum}


def _binary_check(n, p):
    a, b = n.args[0], n.args[1]
    alpha = n.kwargs.get("alpha", n.args[2] if len(n.args) > 2 else 1)
    _need(alpha == 1, "alpha != 1")
    acts = 0
    for x in (a, b):
        if isinstance(x, torch.fx.Node) and p.consts.value(x) is None:
            _act(p, x)
            acts += 1
        elif isinstance(x, torch.fx.Node):
            c = p.consts.value(x)
            _need(c.dtype == torch.float32 or c.dim() == 0, "a constant operand that is not float32")
        else:
            _need(isinstance(x, (int, float)) and not isinstance(x, bool), "a non-numeric scalar")
    _need(acts >= 1, "no tensor operand (left to constant folding)")


def _binary_lower(L: _Lowering, n):
    a, b = n.args[0], n.args[1]
    rank = len(_shape(n))
    acts = [x for x in (a, b) if isinstance(x, torch.fx.Node) and L.consts.value(x) is None]
    layout = "nchw"
    if rank == 4 and all(len(_shape(x)) == 4 for x in acts) and \
            any(L.layout_of(x) == "nhwc" for x in acts):
        layout = "nhwc"
    cls = _BINARY[n.target]
    L.emit(cls(input1_id=L.operand(a, layout, rank), input2_id=L.operand(b, layout, rank),
               output_id=L.define(n, layout)))


_rule(list(_BINARY), _binary_check, _binary_lower)

# -- fully connected --------------------------------------------------------


def _fc_parts(n, consts) -> Tuple[Any, torch.Tensor, Optional[torch.Tensor]]:
    """(input node, filter [N, K], bias [N] or None)."""
    if n.target == aten.linear.default:
        x, w, b = n.args[0], consts.value(n.args[1]), _arg(n, 2, "bias", None)
        return x, w, None if b is None else consts.value(b)
    if n.target == aten.addmm.default:
        b, x, w = n.args[0], n.args[1], consts.value(n.args[2])
        return x, w.t(), consts.value(b)
    return n.args[0], consts.value(n.args[1]).t(), None   # mm


def _fc_check(n, p):
    if n.target == aten.addmm.default:
        _need(n.kwargs.get("beta", 1) == 1 and n.kwargs.get("alpha", 1) == 1,
              "addmm with beta or alpha != 1")
        _act(p, n.args[1])
        w = _const(p, n.args[2], "weight")
        bias = _const(p, n.args[0], "bias")
        _need(bias.numel() == w.shape[-1] and bias.dim() in (1, 2) and bias.shape[-1] == w.shape[-1],
              "bias is not one value per output")
    elif n.target == aten.mm.default:
        _act(p, n.args[0])
        if p.consts.value(n.args[1]) is None:   # two activations: a batch of one
            _act(p, n.args[1])
            for x in (n.args[0], n.args[1], n):
                _new_shape(x)
            return
        w = _const(p, n.args[1], "weight")
    else:
        _act(p, n.args[0])
        w = _const(p, n.args[1], "weight")
        b = _arg(n, 2, "bias", None)
        if b is not None:
            _need(_const(p, b, "bias").dim() == 1, "bias is not 1-D")
    _need(w.dim() == 2 and w.dtype == torch.float32, "weight is not a float32 matrix")


def _fc_lower(L: _Lowering, n):
    if n.target == aten.mm.default and L.consts.value(n.args[1]) is None:
        _mm_as_bmm(L, n)
        return
    x, w, b = _fc_parts(n, L.consts)
    filt = L.g.static(w)
    bias = X.XNN_INVALID_VALUE_ID if b is None else L.g.static(b.reshape(-1))
    L.emit(X.XNNFullyConnected(input1_id=L.get(x, "nchw"), filter_id=filt, bias_id=bias,
                               output_id=L.define(n), flags=0))


_rule([aten.addmm.default, aten.mm.default, aten.linear.default], _fc_check, _fc_lower)


def _mm_as_bmm(L: _Lowering, n):
    """mm of two activations: [1, M, K] x [1, K, N] as a batch matrix multiply."""
    ids = []
    for a in n.args[:2]:
        r = L.g.value([1] + _shape(a))
        L.emit(X.XNNStaticReshape(num_dims=3, new_shape=[1] + _new_shape(a),
                                  input_id=L.get(a), output_id=r, flags=0))
        ids.append(r)
    prod = L.g.value([1] + _shape(n))
    L.emit(X.XNNBatchMatrixMultiply(input1_id=ids[0], input2_id=ids[1], output_id=prod,
                                    flags=0))
    L.emit(X.XNNStaticReshape(num_dims=2, new_shape=_new_shape(n), input_id=prod,
                              output_id=L.define(n), flags=0))


def _bmm_check(n, p):
    _act(p, n.args[0])
    _act(p, n.args[1])


def _bmm_lower(L: _Lowering, n):
    L.emit(X.XNNBatchMatrixMultiply(input1_id=L.get(n.args[0]), input2_id=L.get(n.args[1]),
                                    output_id=L.define(n), flags=0))


_rule([aten.bmm.default], _bmm_check, _bmm_lower)

# -- convolution ------------------------------------------------------------


def _pair(v: Any) -> List[int]:
    v = [int(x) for x in v]
    return v * 2 if len(v) == 1 else v


def _conv_check(n, p):
    x, w, b, stride, padding, dilation, transposed, out_pad, groups = n.args[:9]
    _act(p, x)
    _need(len(_shape(x)) == 4, "only 2-D convolution (4-D input)")
    wt = _const(p, w, "filter")
    _need(wt.dim() == 4 and wt.dtype == torch.float32, "filter is not a 4-D float32 tensor")
    if b is not None:
        _need(_const(p, b, "bias").dim() == 1, "bias is not 1-D")
    _need(all(len(_pair(v)) == 2 for v in (stride, padding, dilation, out_pad)),
          "stride/padding/dilation must be 2-D")
    if transposed:
        _need(all(o < s for o, s in zip(_pair(out_pad), _pair(stride))),
              "output_padding must be smaller than the stride")
    else:
        _need(not any(_pair(out_pad)), "output padding on a plain convolution")


def _conv_lower(L: _Lowering, n):
    x, w, b, stride, padding, dilation, transposed, out_pad, groups = n.args[:9]
    wt = L.consts.value(w).to(torch.float32)
    groups = int(groups)
    stride, padding, dilation, out_pad = (_pair(v) for v in (stride, padding, dilation, out_pad))
    kh, kw = int(wt.shape[2]), int(wt.shape[3])
    if transposed:
        ic, ocg = int(wt.shape[0]), int(wt.shape[1])
        gic, goc = ic // groups, ocg
        # [ic, oc/g, kh, kw] -> per group swap -> [oc, ic/g, kh, kw] -> OHWI
        filt = wt.reshape(groups, gic, goc, kh, kw).permute(0, 2, 1, 3, 4) \
            .reshape(groups * goc, gic, kh, kw).permute(0, 2, 3, 1)
        cls = X.XNNConvTranspose2d
    else:
        gic, goc = int(wt.shape[1]), int(wt.shape[0]) // groups
        if gic == 1:   # depthwise: [oc, 1, kh, kw] -> [1, kh, kw, oc]
            filt = wt.permute(1, 2, 3, 0)
            cls = X.XNNDepthwiseConv2d
        else:
            filt = wt.permute(0, 2, 3, 1)
            cls = X.XNNConv2d
    bias = X.XNN_INVALID_VALUE_ID if b is None else L.g.static(L.consts.value(b))
    xin = L.get(x, "nhwc")
    L.emit(cls(padding_top=padding[0], padding_right=padding[1], padding_bottom=padding[0],
               padding_left=padding[1], kernel_height=kh, kernel_width=kw,
               subsampling_height=stride[0], subsampling_width=stride[1],
               dilation_height=dilation[0], dilation_width=dilation[1],
               group_input_channels=gic, group_output_channels=goc, groups=groups,
               adjustment_height=out_pad[0] if transposed else 0,
               adjustment_width=out_pad[1] if transposed else 0,
               input1_id=xin, filter_id=L.g.static(filt), bias_id=bias,
               output_id=L.define(n, "nhwc"), flags=0))


_rule([aten.convolution.default], _conv_check, _conv_lower)

# -- pooling ----------------------------------------------------------------


def _pool_args(n) -> Tuple[List[int], List[int], List[int], List[int], bool]:
    k = _pair(n.args[1])
    s = _pair(_arg(n, 2, "stride", []) or k)
    pad = _pair(_arg(n, 3, "padding", [0]))
    if n.target == aten.avg_pool2d.default:
        return k, s, pad, [1, 1], bool(_arg(n, 4, "ceil_mode", False))
    dil = _pair(_arg(n, 4, "dilation", [1]))
    return k, s, pad, dil, bool(_arg(n, 5, "ceil_mode", False))


def _ceil_extra(size: int, k: int, s: int, pad: int, dil: int) -> int:
    """Padding at the end that makes floor mode give ceil mode's size (the
    last window must start inside the input or the left padding)."""
    eff = dil * (k - 1) + 1
    out_floor = (size + 2 * pad - eff) // s + 1
    out_ceil = -(-(size + 2 * pad - eff) // s) + 1
    if (out_ceil - 1) * s >= size + pad:
        out_ceil -= 1
    return (out_ceil - out_floor) * s


def _maxpool_check(n, p):
    _act(p, n.args[0])
    _need(len(_shape(n.args[0])) == 4, "only 4-D input")
    if n.target == aten.max_pool2d_with_indices.default:
        _need(all(u.target is operator.getitem and u.args[1] == 0 for u in n.users),
              "the indices are used")
    k, s, pad, dil, ceil = _pool_args(n)
    _need(k[0] * k[1] > 1, "a 1x1 window")
    _need(s[0] <= k[0] and s[1] <= k[1], "stride larger than the window")
    _need(not (ceil and any(passes.is_sym(d) for d in n.args[0].meta["val"].shape[2:])),
          "ceil mode on a dynamic height or width")


def _maxpool_lower(L: _Lowering, n):
    k, s, pad, dil, ceil = _pool_args(n)
    shape = _shape(n.args[0])
    extra = [_ceil_extra(shape[2 + i], k[i], s[i], pad[i], dil[i]) if ceil else 0
             for i in range(2)]
    out_shape = _shape(n)
    L.emit(X.XNNMaxPooling2d(padding_top=pad[0], padding_right=pad[1] + extra[1],
                             padding_bottom=pad[0] + extra[0], padding_left=pad[1],
                             pooling_height=k[0], pooling_width=k[1], stride_height=s[0],
                             stride_width=s[1], dilation_height=dil[0], dilation_width=dil[1],
                             input_id=L.get(n.args[0], "nhwc"),
                             output_id=L.define(n, "nhwc", out_shape), flags=X.FLAG_KEEP_DIMS))


_rule([aten.max_pool2d_with_indices.default, aten.max_pool2d.default], _maxpool_check,
      _maxpool_lower)


def _avgpool_check(n, p):
    _act(p, n.args[0])
    _need(len(_shape(n.args[0])) == 4, "only 4-D input")
    k, s, pad, _, ceil = _pool_args(n)
    _need(not ceil, "ceil_mode")
    _need(k[0] * k[1] > 1, "a 1x1 window")
    _need(not any(pad) or not _arg(n, 5, "count_include_pad", True),
          "padding counted in the average (count_include_pad)")
    div = _arg(n, 6, "divisor_override", None)
    _need(div is None or div == k[0] * k[1], "divisor_override")


def _avgpool_lower(L: _Lowering, n):
    k, s, pad, _, _ = _pool_args(n)
    L.emit(X.XNNAvgPooling2d(padding_top=pad[0], padding_right=pad[1], padding_bottom=pad[0],
                             padding_left=pad[1], pooling_height=k[0], pooling_width=k[1],
                             stride_height=s[0], stride_width=s[1], dilation_height=0,
                             dilation_width=0, input_id=L.get(n.args[0], "nhwc"),
                             output_id=L.define(n, "nhwc"), flags=X.FLAG_KEEP_DIMS))


_rule([aten.avg_pool2d.default], _avgpool_check, _avgpool_lower)


def _gap_check(n, p):
    _act(p, n.args[0])
    _need(len(_shape(n.args[0])) == 4, "only 4-D input")
    if n.target == aten._adaptive_avg_pool2d.default:
        _need(_pair(n.args[1]) == [1, 1], "adaptive pooling to other than 1x1")
    else:
        dims = sorted(_norm_dim(int(d), 4) for d in (n.args[1] or []))
        _need(dims == [2, 3], "mean over other dimensions than H and W")
        _need(n.kwargs.get("dtype") is None, "mean with a dtype")
        if not (len(n.args) > 2 and n.args[2]):
            _new_shape(n)


def _gap_lower(L: _Lowering, n):
    shape = _shape(n.args[0])
    keep = [shape[0], shape[1], 1, 1]
    out = L.g.value([keep[p] for p in NCHW_TO_NHWC])
    L.emit(X.XNNGlobalAvgPooling2d(input_id=L.get(n.args[0], "nhwc"), output_id=out,
                                   flags=X.FLAG_KEEP_DIMS))
    if _shape(n) == keep:
        L.ids[n] = {"nhwc": out}
    else:   # keepdim=False: [N, 1, 1, C] holds the bytes of [N, C]
        L.emit(X.XNNStaticReshape(num_dims=len(_shape(n)), new_shape=_new_shape(n),
                                  input_id=out, output_id=L.define(n), flags=0))


_rule([aten.mean.dim, aten._adaptive_avg_pool2d.default], _gap_check, _gap_lower)

# -- softmax, concatenation, shapes -----------------------------------------


def _softmax_check(n, p):
    _act(p, n.args[0])
    rank = len(_shape(n.args[0]))
    dim = _norm_dim(int(n.args[1]), rank)
    _need(dim == rank - 1 or (rank == 4 and dim == 1),
          "softmax over another dim than the last (or the channels of a 4-D tensor)")
    _need(not n.args[2], "half_to_float")


def _softmax_lower(L: _Lowering, n):
    # XNNPACK's softmax runs over the innermost dim: the channels are
    # innermost in NHWC.
    rank = len(_shape(n))
    layout = "nchw" if _norm_dim(int(n.args[1]), rank) == rank - 1 else "nhwc"
    L.emit(X.XNNSoftmax(input_id=L.get(n.args[0], layout), output_id=L.define(n, layout),
                        flags=0))


_rule([aten._softmax.default], _softmax_check, _softmax_lower)


def _cat_check(n, p):
    items = n.args[0]
    _need(len(items) >= 2, "fewer than two tensors")
    for i, a in enumerate(items):
        _act(p, a, f"tensor {i}")
        _need(len(_shape(a)) == len(_shape(n)), "tensors of different ranks")


def _cat_lower(L: _Lowering, n):
    items = list(n.args[0])
    rank = len(_shape(n))
    axis = _norm_dim(int(_arg(n, 1, "dim", 0)), rank)
    layout = "nhwc" if rank == 4 and all(L.layout_of(a) == "nhwc" for a in items) else "nchw"
    xaxis = NCHW_TO_NHWC.index(axis) if layout == "nhwc" else axis
    ids = [L.get(a, layout) for a in items]
    dims = [list(L.g.values[i].dims) for i in ids]
    while True:   # XNNPACK concatenates up to 5 at a time
        take, ids = ids[:5], ids[5:]
        tdims, dims = dims[:5], dims[5:]
        out_dims = list(tdims[0])
        out_dims[xaxis] = sum(d[xaxis] for d in tdims)
        out = L.define(n, layout) if not ids else L.g.value(out_dims)
        pad = take + [X.XNN_INVALID_VALUE_ID] * (5 - len(take))
        L.emit(X.CONCATENATE[len(take)](axis=xaxis, input1_id=pad[0], input2_id=pad[1],
                                       input3_id=pad[2], input4_id=pad[3], input5_id=pad[4],
                                       output_id=out, flags=0))
        if not ids:
            return
        ids, dims = [out] + ids, [out_dims] + dims


_rule([aten.cat.default], _cat_check, _cat_lower)


def _shape_check(n, p):
    _act(p, n.args[0])


def _reshape_check(n, p):
    _act(p, n.args[0])
    _new_shape(n)


def _reshape_lower(L: _Lowering, n):
    if _same_shape(n, n.args[0]):
        L.alias(n, n.args[0])
        return
    L.emit(X.XNNStaticReshape(num_dims=len(_shape(n)), new_shape=_new_shape(n),
                              input_id=L.get(n.args[0]), output_id=L.define(n), flags=0))


_rule([aten.view.default, aten._unsafe_view.default, aten.reshape.default, aten.squeeze.dim,
       aten.squeeze.dims, aten.squeeze.default, aten.unsqueeze.default, aten.view_copy.default],
      _reshape_check, _reshape_lower, compute=False)


def _perm(n) -> List[int]:
    rank = len(_shape(n.args[0]))
    if n.target == aten.transpose.int:
        p = list(range(rank))
        a, b = _norm_dim(int(n.args[1]), rank), _norm_dim(int(n.args[2]), rank)
        p[a], p[b] = p[b], p[a]
        return p
    if n.target == aten.t.default:
        return list(reversed(range(rank)))
    return [_norm_dim(int(d), rank) for d in n.args[1]]


def _permute_lower(L: _Lowering, n):
    perm = _perm(n)
    if perm == list(range(len(perm))):
        L.alias(n, n.args[0])
        return
    L.emit(X.XNNStaticTranspose(num_dims=len(perm), perm=perm, input_id=L.get(n.args[0]),
                                output_id=L.define(n), flags=0))


_rule([aten.permute.default, aten.permute_copy.default, aten.transpose.int, aten.t.default],
      _shape_check, _permute_lower, compute=False)


def _copy_check(n, p):
    _act(p, n.args[0])
    order = n.kwargs.get("dim_order")
    _need(order is None or list(order) == list(range(len(_shape(n)))), "a dim order change")
    _need(n.kwargs.get("dtype", torch.float32) == torch.float32, "a dtype change")


def _copy_lower(L: _Lowering, n):
    L.alias(n, n.args[0])   # values are always dense in the graph


_rule([oplib.CLONE_DIM_ORDER, oplib.TO_DIM_ORDER_COPY, aten.clone.default], _copy_check,
      _copy_lower, compute=False)


def _slice(L: _Lowering, n, src, dim: int, start: int, size: int):
    shape = _shape(src)
    offsets = [0] * len(shape)
    sizes = list(shape)
    offsets[dim], sizes[dim] = start, size
    L.emit(X.XNNStaticSlice(num_dims=len(shape), offsets=offsets, sizes=sizes,
                            input_id=L.get(src), output_id=L.define(n), flags=0))


def _pad_check(n, p):
    _act(p, n.args[0])
    pad = [int(x) for x in n.args[1]]
    _need(len(pad) % 2 == 0 and len(pad) // 2 <= len(_shape(n.args[0])), "a malformed padding")
    _need(all(x >= 0 for x in pad), "negative padding (cropping)")
    _need(isinstance(_arg(n, 2, "value", 0.0), (int, float)), "a padding value that is not a number")


def _pad_lower(L: _Lowering, n):
    src = n.args[0]
    rank = len(_shape(src))
    pad = [int(x) for x in n.args[1]]
    pre, post = [0] * rank, [0] * rank
    for i in range(len(pad) // 2):   # torch lists the last dim first
        pre[rank - 1 - i], post[rank - 1 - i] = pad[2 * i], pad[2 * i + 1]
    layout = L.layout_of(src)
    if layout == "nhwc":
        pre, post = [pre[d] for d in NCHW_TO_NHWC], [post[d] for d in NCHW_TO_NHWC]
    L.emit(X.XNNStaticConstantPad(pre_paddings=pre, post_paddings=post,
                                  padding_value=float(_arg(n, 2, "value", 0.0)),
                                  input_id=L.get(src, layout), output_id=L.define(n, layout),
                                  flags=0))


_rule([aten.constant_pad_nd.default], _pad_check, _pad_lower)


def _static_input(n, p):
    _act(p, n.args[0])
    _need(not _dynamic(n.args[0]), "a slice of a dynamic size")


def _slice_check(n, p):
    _static_input(n, p)
    _need(int(_arg(n, 4, "step", 1)) == 1, "a step other than 1")


def _slice_lower(L: _Lowering, n):
    src = n.args[0]
    shape = _shape(src)
    dim = _norm_dim(int(_arg(n, 1, "dim", 0)), len(shape))
    start = _arg(n, 2, "start", None)
    start = 0 if start is None else int(start)
    start = min(max(start + shape[dim] if start < 0 else start, 0), shape[dim])
    size = _shape(n)[dim]
    if size == shape[dim]:
        L.alias(n, src)
        return
    _slice(L, n, src, dim, start, size)


_rule([aten.slice.Tensor, aten.slice_copy.Tensor], _slice_check, _slice_lower,
      compute=False)


def _select_lower(L: _Lowering, n):   # a slice of size 1, then the dim dropped
    src = n.args[0]
    shape = _shape(src)
    dim = _norm_dim(int(n.args[1]), len(shape))
    index = int(n.args[2])
    index = index + shape[dim] if index < 0 else index
    kept = list(shape)
    kept[dim] = 1
    offsets = [0] * len(shape)
    offsets[dim] = index
    part = L.g.value(kept)
    L.emit(X.XNNStaticSlice(num_dims=len(shape), offsets=offsets, sizes=kept,
                            input_id=L.get(src), output_id=part, flags=0))
    L.emit(X.XNNStaticReshape(num_dims=len(_shape(n)), new_shape=_shape(n), input_id=part,
                              output_id=L.define(n), flags=0))


_rule([aten.select.int, aten.select_copy.int], _static_input, _select_lower, compute=False)


def _split_check(n, p):
    _static_input(n, p)
    _need(all(u.target is operator.getitem for u in n.users), "a split used whole")


def _split_lower(L: _Lowering, n):
    shape = _shape(n.args[0])
    dim = _norm_dim(int(_arg(n, 2, "dim", 0)), len(shape))
    parts, start = [], 0
    for v in n.meta["val"]:
        size = int(v.shape[dim])
        parts.append(("slice", n.args[0], dim, start, size))
        start += size
    L.tuples[n] = parts


def _getitem_check(n, p):
    src = n.args[0]
    _need(isinstance(src, torch.fx.Node) and src.target in _RULES and p.is_supported(src),
          "part of an unsupported node's result")


def _getitem_lower(L: _Lowering, n):
    src, i = n.args
    if src in L.tuples:
        _, base, dim, start, size = L.tuples[src][i]
        _slice(L, n, base, dim, start, size)
    else:   # max pooling's values
        L.alias(n, src)


_rule([aten.split_with_sizes.default, aten.split.Tensor, aten.split_with_sizes_copy.default,
       aten.split_copy.Tensor], _split_check, _split_lower, compute=False)
_rule([operator.getitem], _getitem_check, _getitem_lower, compute=False)


# -- quantized: PT2E quantize/dequantize pairs folded into qint8 values ------
#
# A convolution or fully connected node whose activation comes through a
# static per-tensor dequantize and whose weight is a dequantized int8
# constant, with its result (after an optional relu/clamp) read only by a
# quantize node, runs on integers: its input is the qint8 value the
# dequantize reads, its filter qcint8 (per output channel, scales in
# constant data), its bias qcint32 (scale = input scale x weight scale), its
# output the quantize node's qint8 value. An add of two such dequantized
# values into a quantize does the same. Every other quantize or dequantize
# is an XNNConvert between fp32 and qint8. Dynamic quantization
# (choose_qparams -> quantize -> dequantize -> fully connected) becomes one
# XNNConvert to qdint8 (per token, as upstream writes it) feeding a fully
# connected node with qcint8 weights and an fp32 output.

_I8 = (-128, 127)


def _pt_params(n) -> Tuple[float, int]:
    return float(n.args[1]), int(n.args[2])


def _static_qdq_check(n, p):
    _need(len(n.args) >= 6 and isinstance(n.args[1], float) and isinstance(n.args[2], int),
          "scale and zero point are not numbers")
    _need(n.args[5] == torch.int8 and (n.args[3], n.args[4]) == _I8,
          "only int8 [-128, 127] activations")
    _need(n.args[1] > 0 and math.isfinite(n.args[1]), "scale is not positive and finite")
    _need(-128 <= n.args[2] <= 127, "zero point outside int8")
    src = n.args[0]
    _need(isinstance(src, torch.fx.Node) and isinstance(src.meta.get("val"), torch.Tensor),
          "input is not a tensor")
    _need(p.consts.value(src) is None, "input is a constant")


def _qtype(params: Tuple[float, int]) -> Tuple[int, X.PerTensorQuant]:
    return X.XNNDatatype.qint8, X.PerTensorQuant(scale=params[0], zero_point=params[1])


def _q_lower(L: _Lowering, n):
    if n in L.ids:   # written by the op it follows (folded)
        return
    src = n.args[0]
    layout = L.layout_of(src)
    x = L.get(src, layout)
    out = L.define(n, layout)
    L.g.quantize(out, *_qtype(_pt_params(n)))
    L.emit(X.XNNConvert(input_id=x, output_id=out, flags=0))


def _dq_lower(L: _Lowering, n):
    src = n.args[0]
    layout = L.layout_of(src)
    q = L.get(src, layout)
    if L.g.values[q].datatype == X.XNNDatatype.fp32:   # an int8 input of the delegate
        for lay, vid in L.ids[src].items():
            L.g.quantize(vid, *_qtype(_pt_params(n)))
    needs_float = n in L.sub.outputs or any(
        u not in L.inside or not (u in L.fold and n in L.fold[u].dqs) for u in n.users)
    if needs_float:
        L.emit(X.XNNConvert(input_id=q, output_id=L.define(n, layout), flags=0))


def _choose_check(n, p):
    # only as part of a dynamically quantized fully connected chain (see _dyn_chain)
    _need(_dyn_users_ok(n, p), "dynamic quantization that does not feed fully connected nodes")


def _dyn_users_ok(n, p) -> bool:
    """Every use of this choose_qparams / quantize.tensor / dequantize.tensor
    chain ends in a fully connected node with a quantized constant weight."""
    if n.target == CHOOSE:
        gets = list(n.users)
        return bool(gets) and all(g.target is operator.getitem and all(
            u.target in (Q_PT_T, DQ_PT_T) for u in g.users) for g in gets) and all(
            _dyn_users_ok(u, p) for g in gets for u in g.users if u.target == Q_PT_T)
    if n.target == Q_PT_T:
        return bool(n.users) and all(u.target == DQ_PT_T and _dyn_users_ok(u, p)
                                     for u in n.users)
    if n.target == DQ_PT_T:
        fcs = [next(iter(u.users)) if _is_view(u) and len(u.users) == 1 else u for u in n.users]
        return bool(n.users) and all(
            u.target in (aten.addmm.default, aten.linear.default, aten.mm.default)
            and _fc_source(u)[0] is n and _qweight(p.consts, _fc_weight_node(u)) is not None
            for u in fcs)
    return False


def _dyn_qdq_check(n, p):
    _need(n.args[-1] == torch.int8 or n.args[5] == torch.int8, "only int8")
    _need(_dyn_users_ok(n, p), "dynamic quantization that does not feed fully connected nodes")


def _dyn_getitem_check(n, p):
    src = n.args[0]
    _need(isinstance(src, torch.fx.Node) and src.target == CHOOSE and p.is_supported(src),
          "part of an unsupported node's result")


def _never(L, n):   # lowered as part of a fold plan only
    raise Unsupported(f"{n.name} outside a quantized fully connected chain")


if Q_PT is not None:
    _rule([Q_PT], _static_qdq_check, _q_lower, compute=False)
    _rule([DQ_PT], _static_qdq_check, _dq_lower, compute=False)
    _rule([CHOOSE], _choose_check, _never, compute=False)
    _rule([Q_PT_T, DQ_PT_T], _dyn_qdq_check, _never, compute=False)

QUANTIZE_OPS = {Q_PT, DQ_PT, CHOOSE, Q_PT_T, DQ_PT_T}


def _fc_activation(n):
    return n.args[1] if n.target == aten.addmm.default else n.args[0]


_VIEWS = {aten.view.default, aten._unsafe_view.default, aten.reshape.default}


def _is_view(n: Any) -> bool:
    return isinstance(n, torch.fx.Node) and n.op == "call_function" and n.target in _VIEWS


def _fc_source(n):
    """(the dequantize a fully connected node reads, through at most one
    flattening view, that view or None)."""
    a = _fc_activation(n)
    if _is_view(a) and len(a.users) == 1 and isinstance(a.args[0], torch.fx.Node) \
            and a.args[0].target in (DQ_PT, DQ_PT_T):
        src, out = _shape(a.args[0]), _shape(a)
        if len(out) == 2 and out[-1] == src[-1] and not _dynamic(a):
            return a.args[0], a
        return None, None
    return a, None


def _fc_result(n):
    """(the node holding a fully connected node's result in the activation's
    batch shape: n, or the one view unflattening it; that view or None)."""
    if len(n.users) == 1:
        u = next(iter(n.users))
        if _is_view(u) and not _dynamic(u) and _shape(u)[-1] == _shape(n)[-1]:
            return u, u
    return n, None


def _fc_weight_node(n):
    return n.args[2] if n.target == aten.addmm.default else n.args[1]


def _qweight(consts: _Constants, w: Any):
    """(int8 tensor as the node sees it, scales, axis) of a weight that is a
    dequantized int8 constant seen through view-like ops; None otherwise."""
    if not isinstance(w, torch.fx.Node):
        return None
    dq, n = None, w
    while isinstance(n, torch.fx.Node) and n.op == "call_function":
        if n.target in (DQ_PC, DQ_PT):
            dq = n
            break
        if n.target not in _PURE:
            return None
        ins = [a for a in n.all_input_nodes if consts.value(a) is not None]
        if len(ins) != 1:
            return None
        n = ins[0]
    if dq is None:
        return None
    ints = consts.value(dq.args[0])
    if ints is None or ints.dtype != torch.int8:
        return None
    if dq.target == DQ_PC:
        scales, zps = consts.value(dq.args[1]), consts.value(dq.args[2]) \
            if isinstance(dq.args[2], torch.fx.Node) else None
        axis = int(dq.args[3])
        if scales is None or (zps is not None and bool((zps != 0).any())):
            return None
        qmin, qmax, dt = dq.args[4], dq.args[5], dq.args[6]
    else:
        if not isinstance(dq.args[1], float) or dq.args[2] != 0:
            return None
        axis = 0
        scales = torch.full((ints.shape[0],), float(dq.args[1]))
        qmin, qmax, dt = dq.args[3], dq.args[4], dq.args[5]
    if dt != torch.int8 or qmin < -128 or qmax > 127:
        return None
    # the integers and a channel-index map through the same view-like ops
    shape = [1] * ints.dim()
    shape[axis] = ints.shape[axis]
    idx = torch.arange(ints.shape[axis], dtype=torch.float32).reshape(shape).expand(ints.shape)

    def through(v: torch.Tensor) -> torch.Tensor:
        sub = _Constants()
        sub.memo[dq] = v
        out = sub.value(w)
        if out is None:
            raise Unsupported("weight chain not evaluable")
        return out

    try:
        return through(ints), scales.to(torch.float32).reshape(-1), through(idx.contiguous())
    except Unsupported:
        return None


def _channel_dim(idx: torch.Tensor) -> Optional[int]:
    """The one dimension along which a channel-index map varies."""
    dims = [d for d in range(idx.dim())
            if idx.shape[d] > 1 and bool((idx.amax(dim=d) != idx.amin(dim=d)).any())]
    if not dims:
        return 0
    return dims[0] if len(dims) == 1 else None


class _Fold:
    """How one op runs quantized: the dequantize nodes it reads through, the
    quantize node it writes, the nodes lowered with it (skipped)."""

    def __init__(self, lower: Callable[..., None], dqs: List[torch.fx.Node],
                 out_q: Optional[torch.fx.Node], clamp: Optional[torch.fx.Node],
                 skipped: Sequence[torch.fx.Node] = ()) -> None:
        self.lower, self.dqs, self.out_q, self.clamp = lower, dqs, out_q, clamp
        self.skipped = list(skipped) + ([clamp] if clamp is not None else [])
        self.result: Optional[torch.fx.Node] = None
        self.flat = False   # fully connected output to reshape to the node's flat shape


def _static_in(L: _Lowering, a: Any) -> Optional[torch.fx.Node]:
    """`a` if it is a static per-tensor dequantize inside the subgraph whose
    int8 source the subgraph has (made inside, or an input)."""
    if not (isinstance(a, torch.fx.Node) and a.target == DQ_PT and a in L.inside):
        return None
    src = a.args[0]
    if src in L.inside and src.target == Q_PT and _pt_params(src) != _pt_params(a):
        return None
    return a if (src in L.inside or src in L.sub.inputs) else None


def _static_out(L: _Lowering, n: torch.fx.Node, clamp_ok: bool):
    """(quantize node, clamp node or None) when n's result, through at most
    one relu/hardtanh/clamp, is read by one quantize node inside only."""
    if n in L.sub.outputs or len(n.users) != 1:
        return None
    u = next(iter(n.users))
    clamp = None
    if clamp_ok and u.target in (aten.relu.default, aten.hardtanh.default, aten.clamp.default) \
            and u in L.inside and u not in L.sub.outputs and len(u.users) == 1:
        clamp, u = u, next(iter(u.users))
    if u.target == Q_PT and u in L.inside:
        return u, clamp
    return None


def _fold_plans(L: _Lowering) -> Dict[torch.fx.Node, _Fold]:
    plans: Dict[torch.fx.Node, _Fold] = {}
    if Q_PT is None:
        return plans
    for n in L.sub.nodes:
        if n.target in (aten.addmm.default, aten.linear.default, aten.mm.default):
            qw = _qweight(L.consts, _fc_weight_node(n))
            a, in_view = _fc_source(n)
            if qw is None or a is None or _channel_dim(_fc_w_t(n, qw[2])) != 0:
                continue
            if in_view is not None and in_view not in L.inside:
                continue
            res, out_view = _fc_result(n)
            if out_view is not None and (out_view not in L.inside or in_view is None
                                         or _shape(out_view)[:-1] != _shape(a)[:-1]):
                res, out_view = n, None
            views = [v for v in (in_view, out_view) if v is not None]
            # the activation keeps its batch dims; the graph wants them flat
            flat = in_view is not None and out_view is None
            dyn = _dyn_source(L, a)
            if dyn is not None:
                plans[n] = _Fold(_qfc_dynamic_lower, [a], None, None, dyn + views)
                plans[n].result, plans[n].flat = res, flat
                continue
            dq, out = _static_in(L, a), _static_out(L, res, True)
            if dq is not None and out is not None:
                plans[n] = _Fold(_qfc_lower, [dq], out[0], out[1], views)
                plans[n].flat = flat
        elif n.target == aten.convolution.default and not n.args[6]:
            qw = _qweight(L.consts, n.args[1])
            dq, out = _static_in(L, n.args[0]), _static_out(L, n, True)
            if qw is None or dq is None or out is None or _channel_dim(qw[2]) != 0:
                continue
            plans[n] = _Fold(_qconv_lower, [dq], out[0], out[1])
        elif n.target in _QPASS:
            plan = _pass_plan(L, n)
            if plan is not None:
                plans[n] = plan
        elif n.target == aten.add.Tensor and len(n.args) == 2 and not n.kwargs:
            a, b = (_static_in(L, x) for x in n.args)
            out = _static_out(L, n, True)
            if a is not None and b is not None and out is not None and a is not b \
                    and _same_shape(a, b):
                plans[n] = _Fold(_qadd_lower, [a, b], out[0], out[1])
    return plans


# ops that move int8 values without changing their parameters, and clamps
# (which may requantize): run on qint8 (a clamp right after a convolution or
# fully connected, in the same parameters, folds into its output range, as
# in float)
_QCLAMP = {aten.relu.default, aten.hardtanh.default, aten.clamp.default}
_QPASS = {aten.max_pool2d_with_indices.default, aten.max_pool2d.default, aten.view.default,
          aten._unsafe_view.default, aten.reshape.default, aten.view_copy.default} | _QCLAMP


def _pass_plan(L: _Lowering, n) -> Optional[_Fold]:
    dq = _static_in(L, n.args[0])
    if dq is None:
        return None
    res, skipped = n, []
    if n.target == aten.max_pool2d_with_indices.default:
        gets = list(n.users)
        if len(gets) != 1 or gets[0].target is not operator.getitem or gets[0].args[1] != 0 \
                or gets[0] not in L.inside:
            return None
        res, skipped = gets[0], [gets[0]]
    out = _static_out(L, res, False)
    if out is None or (_pt_params(out[0]) != _pt_params(dq) and n.target not in _QCLAMP):
        return None
    plan = _Fold(_qpass_lower, [dq], out[0], None, skipped)
    plan.result = res
    return plan


def _qpass_lower(L: _Lowering, n, plan: _Fold):
    dq = plan.dqs[0]
    saved = L.ids.get(dq)
    L.ids[dq] = L.ids[dq.args[0]]   # the op reads the int8 value itself
    try:
        _RULES[n.target].lower(L, n)
    finally:
        if saved is None:
            del L.ids[dq]
        else:
            L.ids[dq] = saved
    for vid in list(L.ids[n].values()):
        if L.g.values[vid].datatype == X.XNNDatatype.fp32:
            L.g.quantize(vid, *_qtype(_pt_params(plan.out_q)))
    if plan.result is not n:
        L.alias(plan.result, n)
    L.alias(plan.out_q, n)


def _dyn_source(L: _Lowering, a: Any) -> Optional[List[torch.fx.Node]]:
    """The choose_qparams chain of a dynamically quantized activation, inside."""
    if not (isinstance(a, torch.fx.Node) and a.target == DQ_PT_T and a in L.inside):
        return None
    q = a.args[0]
    if not (isinstance(q, torch.fx.Node) and q.target == Q_PT_T and q in L.inside):
        return None
    gets = [x for x in (q.args[1], q.args[2], a.args[1], a.args[2])]
    if not all(isinstance(g, torch.fx.Node) and g.target is operator.getitem and g in L.inside
               for g in gets):
        return None
    choose = {g.args[0] for g in gets}
    if len(choose) != 1:
        return None
    c = next(iter(choose))
    if c.target != CHOOSE or c not in L.inside or c.args[0] is not q.args[0]:
        return None
    return [a, q, c] + list(set(gets))


def _fc_w_t(n, w: torch.Tensor) -> torch.Tensor:
    """A weight as the node holds it -> [N, K]."""
    return w.t() if n.target in (aten.addmm.default, aten.mm.default) else w


def _out_value(L: _Lowering, plan: _Fold, layout: str) -> int:
    out = L.define(plan.out_q, layout)
    L.g.quantize(out, *_qtype(_pt_params(plan.out_q)))
    return out


def _minmax(plan: _Fold) -> Optional[Tuple[float, float]]:
    return None if plan.clamp is None else _clamp_bounds(plan.clamp)


def _qbias(L: _Lowering, b: Optional[torch.Tensor], in_scale: float, w_scales: torch.Tensor) -> int:
    if b is None:
        return X.XNN_INVALID_VALUE_ID
    sc = (w_scales.to(torch.float64) * in_scale).to(torch.float32)
    q = torch.round(b.to(torch.float64).reshape(-1) / sc.to(torch.float64))
    q = q.clamp(-(2 ** 31), 2 ** 31 - 1).to(torch.int32)
    return L.g.static_quantized(q, X.XNNDatatype.qcint32, L.g.per_channel(sc, 0))


def _fc_into(L: _Lowering, plan: _Fold, xin: int, out: int, n_out: int) -> int:
    """The value a fully connected node writes: `out`, or (flat plans) a value
    with the input's batch dims, reshaped into `out` after the node."""
    if not plan.flat:
        return out
    dims = list(L.g.values[xin].dims[:-1]) + [n_out]
    return L.g.like(out, dims)


def _fc_reshape(L: _Lowering, plan: _Fold, tmp: int, out: int, node) -> None:
    if tmp != out:
        L.emit(X.XNNStaticReshape(num_dims=len(L.g.values[out].dims), new_shape=_new_shape(node),
                                  input_id=tmp, output_id=out, flags=0))


def _qfc_lower(L: _Lowering, n, plan: _Fold):
    dq = plan.dqs[0]
    ints, scales, _idx = _qweight(L.consts, _fc_weight_node(n))
    w = _fc_w_t(n, ints).contiguous()
    filt = L.g.static_quantized(w, X.XNNDatatype.qcint8, L.g.per_channel(scales, 0))
    _x, _w, b = _fc_parts(n, L.consts)
    xin = L.get(dq.args[0], "nchw")
    out = _out_value(L, plan, "nchw")
    tmp = _fc_into(L, plan, xin, out, int(w.shape[0]))
    L.emit(X.XNNFullyConnected(input1_id=xin, filter_id=filt,
                               bias_id=_qbias(L, b, _pt_params(dq)[0], scales),
                               output_id=tmp, flags=0),
           minmax=_minmax(plan))
    _fc_reshape(L, plan, tmp, out, plan.out_q)


def _qfc_dynamic_lower(L: _Lowering, n, plan: _Fold):
    q = plan.skipped[1]   # the quantize.tensor node of the chain; its input is the float x
    x = q.args[0]
    key = ("qdint8", x)
    if key not in L.tuples:
        src = L.get(x, "nchw")
        dims = L.g.values[src].dims
        qd = L.g.value(dims, datatype=X.XNNDatatype.qdint8,
                       qparams=X.PerTokenDynamicQuant(num_nonbatch_dims=1))
        L.emit(X.XNNConvert(input_id=src, output_id=qd, flags=0))
        L.tuples[key] = [qd]   # type: ignore[index]
    ints, scales, _idx = _qweight(L.consts, _fc_weight_node(n))
    w = _fc_w_t(n, ints).contiguous()
    filt = L.g.static_quantized(w, X.XNNDatatype.qcint8, L.g.per_channel(scales, 0))
    _x, _w, b = _fc_parts(n, L.consts)
    bias = X.XNN_INVALID_VALUE_ID if b is None else L.g.static(b.reshape(-1))
    xin = L.tuples[key][0]  # type: ignore[index]
    res = plan.result or n
    out = L.define(res)
    tmp = _fc_into(L, plan, xin, out, int(w.shape[0]))
    L.emit(X.XNNFullyConnected(input1_id=xin, filter_id=filt, bias_id=bias, output_id=tmp,
                               flags=0))
    _fc_reshape(L, plan, tmp, out, res)


# -- 8da4w: edgetorch_quant::linear_8da4w -> Convert(qdint8) + FC(qbint4) --
#
# As upstream lowers torchao's Int8DynamicActivationIntxWeightConfig(int4,
# PerGroup(g)): the activation converted to qdint8 (per token, one Convert
# per activation however many linears read it), the weight a constant qbint4
# value [N, K] (two values a byte, row-major, the even input channel in the
# low nibble, stored as value + 8) with PerChannelGroupQuant scales (bf16, one
# per output channel and group, row-major [N, K / g], in named data), an fp32
# bias, an fp32 output.


def _q4_check(n, p):
    _act(p, n.args[0])
    q = _const(p, n.args[1], "int4 weight")
    s = _const(p, n.args[2], "group scales")
    b = n.args[3] if len(n.args) > 3 else None
    g = int(n.args[4])
    _need(q.dim() == 2 and q.dtype == torch.int8, "int4 weight is not an int8 [N, K] tensor")
    nn_, k = q.shape
    _need(g > 0 and k % g == 0 and k % 2 == 0, f"group size {g} does not divide K = {k}")
    _need(g % 32 == 0 or g == k, f"group size {g} (XnnpackBackend runs multiples of 32)")
    _need(s.numel() == nn_ * (k // g), "not one scale per output channel and group")
    _need(bool(torch.isfinite(s).all()) and bool((s > 0).all()), "scales not positive finite")
    if b is not None:
        _need(_const(p, b, "bias").numel() == nn_, "bias is not one value per output")
    _need(_shape(n.args[0])[-1] == k, "input channels differ from the weight's")


def _q4_lower(L: _Lowering, n):
    x, qdata, scale = n.args[0], L.consts.value(n.args[1]), L.consts.value(n.args[2])
    b = L.consts.value(n.args[3]) if len(n.args) > 3 and n.args[3] is not None else None
    g = int(n.args[4])
    key = ("qdint8", x)
    if key not in L.tuples:
        src = L.get(x, "nchw")
        qd = L.g.value(L.g.values[src].dims, datatype=X.XNNDatatype.qdint8,
                       qparams=X.PerTokenDynamicQuant(num_nonbatch_dims=1))
        L.emit(X.XNNConvert(input_id=src, output_id=qd, flags=0))
        L.tuples[key] = [qd]   # type: ignore[index]
    nn_, k = (int(d) for d in qdata.shape)
    u = (qdata.to(torch.int16) + 8).to(torch.uint8).contiguous()
    packed = (u[:, 0::2] | (u[:, 1::2] << 4)).contiguous()
    sc = scale.detach().to(torch.float32).reshape(nn_, k // g).to(torch.bfloat16)
    sidx = L.g.data(sc.contiguous().view(torch.int16).numpy().tobytes(), "scale_")
    qp = X.PerChannelGroupQuant(scale=[], channel_dim=0, group_size=g, scale_buffer_idx=sidx,
                                num_scales=nn_ * (k // g))
    filt = L.g.value([nn_, k], L.g.data(packed.numpy().tobytes()), X.XNNDatatype.qbint4, qp)
    bias = X.XNN_INVALID_VALUE_ID if b is None else L.g.static(b.reshape(-1))
    L.emit(X.XNNFullyConnected(input1_id=L.tuples[key][0], filter_id=filt,  # type: ignore[index]
                               bias_id=bias, output_id=L.define(n), flags=0))


# the operator is defined by edgetorch.quantize.op8da4w (which needs torchao's
# package to import): its rule is added when a graph first holds it
_Q4_NAME = "edgetorch_quant::linear_8da4w"


def _late_rule(target: Any) -> None:
    if target not in _RULES and isinstance(target, torch._ops.OpOverload) \
            and _target_name(target) == _Q4_NAME:
        _rule([target], _q4_check, _q4_lower)


def _qconv_lower(L: _Lowering, n, plan: _Fold):
    dq = plan.dqs[0]
    x, w, b, stride, padding, dilation, transposed, out_pad, groups = n.args[:9]
    ints, scales, _idx = _qweight(L.consts, w)
    groups = int(groups)
    stride, padding, dilation = (_pair(v) for v in (stride, padding, dilation))
    kh, kw = int(ints.shape[2]), int(ints.shape[3])
    gic, goc = int(ints.shape[1]), int(ints.shape[0]) // groups
    if gic == 1 and groups > 1:   # depthwise: [oc, 1, kh, kw] -> [1, kh, kw, oc]
        filt_t, cdim, cls = ints.permute(1, 2, 3, 0), 3, X.XNNDepthwiseConv2d
    else:
        filt_t, cdim, cls = ints.permute(0, 2, 3, 1), 0, X.XNNConv2d
    filt = L.g.static_quantized(filt_t.contiguous(), X.XNNDatatype.qcint8,
                                L.g.per_channel(scales, cdim))
    bias_t = None if b is None else L.consts.value(b)
    L.emit(cls(padding_top=padding[0], padding_right=padding[1], padding_bottom=padding[0],
               padding_left=padding[1], kernel_height=kh, kernel_width=kw,
               subsampling_height=stride[0], subsampling_width=stride[1],
               dilation_height=dilation[0], dilation_width=dilation[1],
               group_input_channels=gic, group_output_channels=goc, groups=groups,
               adjustment_height=0, adjustment_width=0,
               input1_id=L.get(dq.args[0], "nhwc"), filter_id=filt,
               bias_id=_qbias(L, bias_t, _pt_params(dq)[0], scales),
               output_id=_out_value(L, plan, "nhwc"), flags=0),
           minmax=_minmax(plan))


def _qadd_lower(L: _Lowering, n, plan: _Fold):
    a, b = (d.args[0] for d in plan.dqs)
    layout = "nhwc" if len(_shape(n)) == 4 and (L.layout_of(a) == "nhwc"
                                                 or L.layout_of(b) == "nhwc") else "nchw"
    L.emit(X.XNNAdd(input1_id=L.get(a, layout), input2_id=L.get(b, layout),
                    output_id=_out_value(L, plan, layout), flags=0), minmax=_minmax(plan))


# ---------------------------------------------------------------------------
# the partitioner


def _unbacked(t: torch.Tensor) -> bool:
    from torch.fx.experimental.symbolic_shapes import free_unbacked_symbols

    return bool(free_unbacked_symbols(t))


def _tensors(v: Any) -> List[torch.Tensor]:
    return [t for t in torch.utils._pytree.tree_leaves(v) if isinstance(t, torch.Tensor)]


class XnnpackPartitioner(Partitioner):
    """Delegates the float32 subgraphs XNNPACK runs to ``XnnpackBackend``.

    Use as upstream's: ``edgetorch.to_edge_transform_and_lower(ep,
    partitioner=[edgetorch.XnnpackPartitioner()])``.  After lowering,
    ``why_not`` maps each operator node left undelegated (of the kinds this
    backend knows) to the reason."""

    backend_id = "XnnpackBackend"

    def __init__(self, ops: Optional[Sequence[str]] = None,
                 nodes: Optional[Sequence[str]] = None) -> None:
        # ops: delegate only these operators (names as supported_operators()
        # spells them, e.g. "edgetorch_quant::linear_8da4w"); nodes: only the
        # nodes of these names; None: all known
        self.ops = None if ops is None else set(ops)
        self.nodes = None if nodes is None else set(nodes)
        self.consts = _Constants()
        self.channels_last = False
        self.why_not: Dict[str, str] = {}
        self._memo: Dict[torch.fx.Node, bool] = {}

    def prepare(self, gm: torch.fx.GraphModule) -> None:
        # Batch norm after a convolution folds into its weights first, as in
        # the portable flow, so the pair is one XNNPACK convolution.
        passes.fuse_conv_batch_norm(gm)
        self.consts = _Constants()
        self._memo = {}

    def is_constant(self, node: Any) -> bool:
        return self.consts.value(node) is not None

    def is_supported(self, node: torch.fx.Node) -> bool:
        if node in self._memo:
            return self._memo[node]
        ok = False
        _late_rule(node.target)
        rule = _RULES.get(node.target)
        if node.op == "call_function" and self.consts.value(node) is not None:
            rule = None   # a constant (a weight's transpose): embedded, not run
        elif rule is not None and ((self.ops is not None and _target_name(node.target)
                                    not in self.ops)
                                   or (self.nodes is not None and node.name not in self.nodes)):
            rule = None   # not asked for
        elif rule is None and node.op == "call_function":
            self.why_not[node.name] = f"no XNNPACK lowering for {_target_name(node.target)}"
        if rule is not None:
            try:
                self._check_common(node)
                rule.check(node, self)
                ok = True
            except Unsupported as e:
                self.why_not[node.name] = str(e)
            except Exception as e:  # noqa: BLE001 - an unexpected form: not taken
                self.why_not[node.name] = f"unexpected arguments ({type(e).__name__}: {e})"
        self._memo[node] = ok
        return ok

    @staticmethod
    def _results(node: torch.fx.Node) -> List[torch.Tensor]:
        v = node.meta.get("val")
        if node.target == aten.max_pool2d_with_indices.default and isinstance(v, (tuple, list)):
            v = v[0]   # the indices are never delegated (checked: unused)
        return _tensors(v)

    def _check_common(self, node: torch.fx.Node) -> None:
        _need(self.consts.value(node) is None, "a constant (folded instead)")
        if node.target in QUANTIZE_OPS or (node.target is operator.getitem and
                                          getattr(node.args[0], "target", None) == CHOOSE):
            return   # int8 on one side by definition; their checks see to the rest
        vals = self._results(node)
        _need(vals, "no tensor result")
        if node.target is not operator.getitem:   # its source is checked itself
            for a in node.all_input_nodes:
                if self.consts.value(a) is None:
                    vals += self._results(a)
        for t in vals:
            _need(t.dtype == torch.float32, f"dtype {t.dtype} (only float32 is delegated)")
            _need(not _unbacked(t), "a size computed from data")
            _need(all(passes.sym_upper_bound(d) is not None for d in t.shape),
                  "a dynamic size without an upper bound")
            _need(1 <= t.dim() <= MAX_DIMS, f"rank {t.dim()}")
            _need(not any(isinstance(d, int) and d == 0 for d in t.shape), "an empty tensor")
            _need(passes.dim_order_of(t, self.channels_last) == list(range(t.dim())),
                  "a channels-last tensor at the boundary")

    def worth_delegating(self, nodes: Sequence[torch.fx.Node]) -> bool:
        return any(_RULES[n.target].compute for n in nodes)

    def preprocess(self, sub: Subgraph) -> Preprocessed:
        graph, named = _Lowering(sub, self.consts).run()
        payload = X.serialize_payload(graph)
        return Preprocessed(processed=payload, named_data=named)


def _target_name(t: Any) -> str:
    s = getattr(t, "_schema", None)
    if s is not None:
        return s.name + (f".{s.overload_name}" if s.overload_name else "")
    return getattr(t, "kernel", None) or getattr(t, "__name__", str(t))


def supported_operators() -> List[str]:
    """The operators the partitioner knows (documentation and tests)."""
    return sorted({_target_name(t) for t in _RULES})
