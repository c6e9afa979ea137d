"""Graph passes from a torch.export program to the edge form the emitter reads.

Every pass is a small function over a ``torch.fx.GraphModule`` (and, where
it matters, the nested cond branches).  Conventions of the edge graph:

* constants (parameters, non-mutated buffers, lifted tensor constants, folded
  values) are ``get_attr`` nodes whose ``meta["val"]`` is the real tensor;
* placeholders are user inputs (``meta["et_kind"] == "input"``) or mutated
  buffers (``"buffer"``, with ``meta["et_fqn"]`` and ``meta["et_init"]``);
* ``meta["et_alias"] = True`` on a static reshape-like view means "no
  instruction: share the base's bytes";
* ``meta["et_kernel"]`` (set by ``kernel_selection.select_kernels`` after
  these passes) is the out-variant or functional kernel the emitter calls.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional, Tuple

import torch
import torch.fx
from torch._subclasses.fake_tensor import FakeTensor

from . import oplib
from .errors import ExportError

aten = torch.ops.aten

# ---------------------------------------------------------------------------
# helpers


def subgraphs(gm: torch.fx.GraphModule) -> Iterator[torch.fx.GraphModule]:
    """The module and every nested GraphModule (cond branches), depth first."""
    yield gm
    for node in gm.graph.nodes:
        if node.op == "get_attr":
            sub = getattr(gm, node.target, None)
            if isinstance(sub, torch.fx.GraphModule):
                yield from subgraphs(sub)


def is_sym(v: Any) -> bool:
    return isinstance(v, (torch.SymInt, torch.SymFloat, torch.SymBool))


def tensor_is_static(t: Any) -> bool:
    return isinstance(t, torch.Tensor) and not any(is_sym(s) for s in t.shape)


def node_val(n: Any) -> Any:
    return n.meta.get("val") if isinstance(n, torch.fx.Node) else n


def is_const(n: Any) -> bool:
    return isinstance(n, torch.fx.Node) and n.op == "get_attr" and isinstance(
        n.meta.get("val"), torch.Tensor) and not isinstance(n.meta.get("val"), FakeTensor)


_const_counter = [0]


def add_constant(gm: torch.fx.GraphModule, tensor: torch.Tensor, before: torch.fx.Node,
                 fqn: Optional[str] = None) -> torch.fx.Node:
    _const_counter[0] += 1
    name = f"_et_const_{_const_counter[0]}"
    while hasattr(gm, name):
        _const_counter[0] += 1
        name = f"_et_const_{_const_counter[0]}"
    gm.register_buffer(name, tensor.detach().contiguous() if tensor.dim() else tensor.detach())
    with gm.graph.inserting_before(before):
        n = gm.graph.get_attr(name)
    n.meta["val"] = getattr(gm, name)
    if fqn:
        n.meta["et_fqn"] = fqn
    return n


def first_node(gm: torch.fx.GraphModule) -> torch.fx.Node:
    for n in gm.graph.nodes:
        if n.op != "placeholder":
            return n
    return next(iter(gm.graph.nodes))


# ---------------------------------------------------------------------------
# lifting an ExportedProgram into an edge graph


@dataclass
class EdgeMethod:
    """One method in edge form: a graph plus what its inputs and outputs mean."""

    name: str
    gm: torch.fx.GraphModule
    in_spec: Any
    out_spec: Any
    # Output positions (in the output node's args) that are user outputs.
    user_outputs: List[int] = field(default_factory=list)
    # (output position, placeholder node of the mutated buffer or input)
    mutations: List[Tuple[int, torch.fx.Node]] = field(default_factory=list)
    range_constraints: Dict[Any, Any] = field(default_factory=dict)
    # Upper bounds of data-dependent sizes (sympy symbol -> int) that replace
    # torch's own where its shape inference bounds them too tightly.
    size_bounds: Dict[Any, int] = field(default_factory=dict)


def remove_effect_tokens(ep: torch.export.ExportedProgram) -> torch.export.ExportedProgram:
    """torch.export threads an effect token through operators with side
    effects (``with_effects``; the linalg error checks, for one). A program's
    instructions already run in graph order, so the tokens are dropped (with
    torch's own pass) and the operators stay as plain calls; each must still
    have a kernel like any other operator, or the export names it."""
    from torch.export.graph_signature import InputKind

    if not any(s.kind == InputKind.TOKEN for s in ep.graph_signature.input_specs):
        return ep
    from torch.export._remove_effect_tokens_pass import _remove_effect_tokens

    return _remove_effect_tokens(ep)


def remove_auto_functionalized(ep: torch.export.ExportedProgram
                               ) -> torch.export.ExportedProgram:
    """Custom operators that write an argument (``llama::update_cache``'s
    cache) come out of torch.export wrapped in ``auto_functionalized``, whose
    result is then copied back into the buffer. torch's own pass puts the
    writing operator back in place (as upstream's to_executorch does), so
    the buffer is written directly and its write-back disappears."""
    hops = {getattr(torch.ops.higher_order, n, None)
            for n in ("auto_functionalized", "auto_functionalized_v2")} - {None}
    if not any(n.op == "call_function" and n.target in hops
               for n in ep.graph_module.graph.nodes):
        return ep
    from torch.export._remove_auto_functionalized_pass import (
        unsafe_remove_auto_functionalized_pass)

    return unsafe_remove_auto_functionalized_pass(ep)


def lift(ep: torch.export.ExportedProgram, name: str) -> EdgeMethod:
    """Turn parameters/constants into get_attr constants; tag placeholders."""
    from torch.export.graph_signature import InputKind, OutputKind

    gm = ep.graph_module
    sig = ep.graph_signature
    state = dict(ep.state_dict)
    consts = dict(ep.constants)
    placeholders = [n for n in gm.graph.nodes if n.op == "placeholder"]
    mutated = {spec.target for spec in sig.output_specs
               if spec.kind == OutputKind.BUFFER_MUTATION}
    anchor = first_node(gm)
    by_name: Dict[str, torch.fx.Node] = {}
    for node, spec in zip(placeholders, sig.input_specs):
        by_name[spec.arg.name] = node
        kind = spec.kind
        if kind == InputKind.USER_INPUT:
            node.meta["et_kind"] = "input"
        elif kind == InputKind.BUFFER and spec.target in mutated:
            node.meta["et_kind"] = "buffer"
            node.meta["et_fqn"] = spec.target
            init = state.get(spec.target, consts.get(spec.target))
            if init is None:  # non-persistent buffers live on the module
                init = consts.get(spec.target)
            node.meta["et_init"] = None if init is None else init.detach().clone()
        elif kind in (InputKind.PARAMETER, InputKind.BUFFER, InputKind.CONSTANT_TENSOR):
            t = state.get(spec.target)
            if t is None:
                t = consts.get(spec.target)
            if t is None:
                raise ExportError(f"no value for {kind.name.lower()} {spec.target}")
            if not isinstance(t, torch.Tensor):
                raise ExportError(f"constant {spec.target} is not a tensor ({type(t)})")
            c = add_constant(gm, t, anchor, fqn=spec.target)
            node.replace_all_uses_with(c)
            gm.graph.erase_node(node)
        else:
            raise ExportError(f"unsupported graph input kind {kind.name} ({spec.arg.name})")

    out_node = next(n for n in gm.graph.nodes if n.op == "output")
    user_outputs, mutations = [], []
    for i, spec in enumerate(sig.output_specs):
        if spec.kind == OutputKind.USER_OUTPUT:
            user_outputs.append(i)
        elif spec.kind == OutputKind.BUFFER_MUTATION:
            ph = next(n for n in gm.graph.nodes if n.op == "placeholder"
                      and n.meta.get("et_fqn") == spec.target)
            mutations.append((i, ph))
        elif spec.kind == OutputKind.USER_INPUT_MUTATION:
            mutations.append((i, by_name[spec.target]))
        else:
            raise ExportError(f"unsupported graph output kind {spec.kind.name}")
    del out_node
    gm.graph.lint()
    gm.recompile()
    return EdgeMethod(name=name, gm=gm, in_spec=ep.call_spec.in_spec,
                      out_spec=ep.call_spec.out_spec, user_outputs=user_outputs,
                      mutations=mutations, range_constraints=dict(ep.range_constraints))


# ---------------------------------------------------------------------------
# clean-up passes

_ASSERTS = {
    aten._assert_tensor_metadata.default, aten._assert_scalar.default,
    aten.sym_constrain_range_for_size.default, aten.sym_constrain_range.default,
    aten._assert_async.msg, aten._assert_async.default,
}
_IDENTITY = {aten.alias.default, aten.detach.default, aten.lift_fresh_copy.default,
             aten.lift_fresh.default}


def _same_layout(a: Any, b: Any) -> bool:
    """Same dtype, sizes and strides, as far as is known at export: a size
    computed from data (an unbacked symbol) that is not provably equal
    counts as different, so the op stays."""
    from torch.fx.experimental.symbolic_shapes import statically_known_true

    def same(x: Any, y: Any) -> bool:
        return len(x) == len(y) and all(statically_known_true(p == q) for p, q in zip(x, y))

    return (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)
            and a.dtype == b.dtype and same(a.shape, b.shape)
            and same(a.stride(), b.stride()))


def remove_noops(gm: torch.fx.GraphModule) -> int:
    """Drop asserts and ops whose output equals their input. Returns #removed."""
    removed = 0
    for sub in subgraphs(gm):
        for n in list(sub.graph.nodes):
            if n.op != "call_function":
                continue
            t = n.target
            if t in _ASSERTS:
                sub.graph.erase_node(n)
                removed += 1
                continue
            src = n.args[0] if n.args else None
            noop = False
            if t in _IDENTITY:
                noop = True
            elif t in (aten.clone.default, aten._to_copy.default, aten.view.default,
                       aten._unsafe_view.default, aten.expand.default, aten.slice.Tensor,
                       aten.contiguous.default, aten.squeeze.dims, aten.squeeze.dim,
                       aten.permute.default):
                if isinstance(src, torch.fx.Node) and _same_layout(node_val(src), node_val(n)):
                    if t == aten._to_copy.default:
                        noop = set(n.kwargs) <= {"dtype", "layout", "device", "memory_format",
                                                 "non_blocking", "pin_memory"}
                    elif t == aten.permute.default:
                        noop = list(n.args[1]) == list(range(len(n.args[1])))
                    elif t == aten.slice.Tensor:
                        noop = (len(n.args) < 5 or n.args[4] == 1)
                    else:
                        noop = True
            if noop and isinstance(src, torch.fx.Node):
                n.replace_all_uses_with(src)
                sub.graph.erase_node(n)
                removed += 1
        sub.graph.eliminate_dead_code()
        sub.recompile()
    return removed


# ---------------------------------------------------------------------------
# Python scalars in Tensor slots


def _scalar_overload(op: torch._ops.OpOverload, positions: List[int]
                     ) -> Optional[torch._ops.OpOverload]:
    """An overload of ``op`` identical except that ``positions`` take Scalars."""
    schema = op._schema
    ns, _, name = schema.name.partition("::")
    packet = getattr(getattr(torch.ops, ns), name)
    want = []
    for i, a in enumerate(schema.arguments):
        want.append("number" if i in positions else str(a.type))
    for ov in packet.overloads():
        cand = getattr(packet, ov)
        cs = cand._schema
        if any(a.is_out for a in cs.arguments):
            continue
        if [str(a.type) for a in cs.arguments] == want and len(cs.returns) == len(schema.returns):
            return cand
    return None


def _scalar_dtype(value: Any, ref: Optional[torch.dtype]) -> torch.dtype:
    if isinstance(value, bool):
        kind_ok = ref == torch.bool
        default = torch.bool
    elif isinstance(value, int):
        kind_ok = ref is not None and not ref.is_floating_point and ref != torch.bool \
            and not ref.is_complex
        default = torch.int64
    else:
        kind_ok = ref is not None and ref.is_floating_point
        default = torch.float32
    return ref if kind_ok else default


def scalars_to_overloads(gm: torch.fx.GraphModule, library: frozenset) -> int:
    """``add.Tensor(x, 2)`` -> ``add.Scalar(x, 2)`` when the kernel exists,
    else the scalar becomes a 0-dim constant tensor."""
    changed = 0
    for sub in subgraphs(gm):
        for n in list(sub.graph.nodes):
            if n.op != "call_function" or not isinstance(n.target, torch._ops.OpOverload):
                continue
            schema = n.target._schema
            positions = []
            for i, a in enumerate(schema.arguments):
                if i < len(n.args) and a.type.kind() == "TensorType" and isinstance(
                        n.args[i], (int, float, bool)):
                    positions.append(i)
            if not positions:
                continue
            alt = _scalar_overload(n.target, positions)
            if alt is not None:
                out = oplib.out_variant(alt)
                if out is not None and oplib.schema_kernel_name(out._schema) in library:
                    n.target = alt
                    changed += 1
                    continue
            ref = None
            for a in list(n.args) + list(n.kwargs.values()):
                v = node_val(a)
                if isinstance(v, torch.Tensor):
                    ref = v.dtype
                    break
            args = list(n.args)
            for i in positions:
                v = args[i]
                args[i] = add_constant(sub, torch.tensor(v, dtype=_scalar_dtype(v, ref)), n)
            n.args = tuple(args)
            changed += 1
        sub.recompile()
    return changed


# ---------------------------------------------------------------------------
# memory format -> dim order


def dim_order_of(t: torch.Tensor, channels_last: bool = False) -> List[int]:
    """Contiguous, or channels-last when allowed and the strides say so.

    Kernels write outputs in the dim order they are given, so any consistent
    choice is correct; torch's meta often reports channels-last only because
    an input with one channel is ambiguous, so contiguous is the default."""
    n = t.dim()
    if n == 0:
        return []
    if not channels_last:
        return list(range(n))
    try:
        if t.is_contiguous():  # also when channels-last is equivalent (C == 1)
            return list(range(n))
    except Exception:  # symbolic strides
        pass
    try:
        order = list(t.dim_order())
    except Exception:  # ambiguous strides
        order = list(range(n))
    if (n == 4 and order == [0, 2, 3, 1]) or (n == 5 and order == [0, 2, 3, 4, 1]):
        return order
    return list(range(n))


def to_dim_order_ops(gm: torch.fx.GraphModule, channels_last: bool = False) -> int:
    """_to_copy / clone with a memory format -> dim_order_ops edge ops."""
    changed = 0
    for sub in subgraphs(gm):
        for n in list(sub.graph.nodes):
            if n.op != "call_function":
                continue
            if n.target == aten._to_copy.default:
                out = node_val(n)
                kw = dict(n.kwargs)
                kw.pop("memory_format", None)
                kw.pop("device", None)
                kw.pop("layout", None)
                kw.pop("pin_memory", None)
                kw["dim_order"] = dim_order_of(out, channels_last)
                n.target = oplib.TO_DIM_ORDER_COPY
                n.kwargs = kw
                changed += 1
            elif n.target == aten.clone.default:
                out = node_val(n)
                n.target = oplib.CLONE_DIM_ORDER
                n.kwargs = {"dim_order": dim_order_of(out, channels_last)}
                changed += 1
        sub.recompile()
    return changed


# ---------------------------------------------------------------------------
# constant folding

_NO_FOLD = {aten.rand.default, aten.randn.default, aten.rand_like.default,
            aten.randn_like.default, aten.randint.default, aten.randperm.default,
            aten.bernoulli.default, aten.native_dropout.default, aten.empty.memory_format,
            aten.empty_strided.default, aten.empty_like.default}
_SMALL_FOLD_BYTES = 256


def _nbytes(t: torch.Tensor) -> int:
    return t.numel() * t.element_size()


def _foldable(n: torch.fx.Node) -> bool:
    """A pure operator call whose tensor inputs are all constants."""
    return (n.op == "call_function" and n.target not in _NO_FOLD
            and isinstance(n.target, (torch._ops.OpOverload, oplib.EdgeOp))
            and all(is_const(i) for i in n.all_input_nodes))


def _merge_repeated(sub: torch.fx.GraphModule) -> None:
    """Merge calls of the same operator on the same constants and arguments.

    The LSTM decomposition transposes the recurrent weight once per time
    step; merged, the transpose has one user and folds (below) instead of
    copying the weight at every step."""
    first: Dict[Tuple[Any, str, str], torch.fx.Node] = {}
    for n in list(sub.graph.nodes):
        if not n.all_input_nodes or not _foldable(n):
            continue
        key = (n.target, repr(n.args), repr(n.kwargs))  # nodes repr as their unique names
        seen = first.setdefault(key, n)
        if seen is not n:
            n.replace_all_uses_with(seen)
            sub.graph.erase_node(n)


def fold_constants(gm: torch.fx.GraphModule) -> int:
    """Evaluate ops whose inputs are all constants, without growing the file.

    A result is kept when it is small, or when every constant it consumes has
    no other user (those die) and it is not larger than them.  Weight
    transposes of linear layers disappear this way (stored pre-transposed).
    Repeated calls on the same constants are merged first.
    """
    folded = 0
    for sub in subgraphs(gm):
        _merge_repeated(sub)
        for n in list(sub.graph.nodes):
            if not _foldable(n):
                continue
            out_val = node_val(n)
            if not isinstance(out_val, torch.Tensor):
                continue
            ins = n.all_input_nodes
            if any(is_sym(a) for a in torch.utils._pytree.tree_leaves((n.args, n.kwargs))):
                continue

            def real(a):
                return a.meta["val"] if isinstance(a, torch.fx.Node) else a

            args = torch.fx.node.map_arg(n.args, real)
            kwargs = torch.fx.node.map_arg(n.kwargs, real)
            try:
                with torch.no_grad():
                    res = n.target(*args, **kwargs)
            except Exception:
                continue
            if not isinstance(res, torch.Tensor):
                continue
            out_b = _nbytes(res)
            in_b = sum(_nbytes(i.meta["val"]) for i in ins)
            sole = all(len(i.users) == 1 for i in ins)
            if not (out_b <= _SMALL_FOLD_BYTES or (sole and out_b <= in_b)):
                continue
            res = res.contiguous().clone() if res.dim() else res.clone()
            fqn = None
            if len(ins) == 1 and ins[0].meta.get("et_fqn"):
                fqn = ins[0].meta["et_fqn"] + ".folded"
            c = add_constant(sub, res, n, fqn=fqn)
            n.replace_all_uses_with(c)
            sub.graph.erase_node(n)
            for i in ins:
                if not i.users:
                    sub.graph.erase_node(i)
            folded += 1
        sub.recompile()
    return folded


# ---------------------------------------------------------------------------
# batch norm folded into the convolution before it


def fuse_conv_batch_norm(gm: torch.fx.GraphModule) -> int:
    """conv -> batch_norm (inference, constant statistics) becomes one conv
    with scaled weights and a shifted bias: one op and one tensor fewer."""
    fused = 0
    for sub in subgraphs(gm):
        for bn in list(sub.graph.nodes):
            if bn.op != "call_function" or \
                    bn.target != aten._native_batch_norm_legit_no_training.default:
                continue
            conv, w, b, mean, var = bn.args[:5]
            eps = bn.args[6] if len(bn.args) > 6 else bn.kwargs.get("eps", 1e-5)
            if not (isinstance(conv, torch.fx.Node) and conv.op == "call_function"
                    and conv.target == aten.convolution.default and len(conv.users) == 1):
                continue
            cargs = list(conv.args)
            weight, bias, transposed = cargs[1], cargs[2], cargs[6]
            if transposed or not all(is_const(x) for x in (weight, w, b, mean, var)):
                continue
            if bias is not None and not is_const(bias):
                continue
            users = list(bn.users)
            if not all(u.target is operator.getitem for u in users):
                continue
            if any(u.args[1] != 0 and u.users for u in users):
                continue
            W = weight.meta["val"].double()
            scale = w.meta["val"].double() / torch.sqrt(var.meta["val"].double() + eps)
            B = bias.meta["val"].double() if bias is not None else torch.zeros_like(scale)
            dtype = weight.meta["val"].dtype
            new_w = (W * scale.reshape(-1, *([1] * (W.dim() - 1)))).to(dtype)
            new_b = ((B - mean.meta["val"].double()) * scale + b.meta["val"].double()).to(dtype)
            # New values under new names: a .ptd key never names a tensor
            # whose bytes differ from the module's state_dict entry.
            wname = weight.meta.get("et_fqn")
            bname = bias.meta.get("et_fqn") if bias is not None else w.meta.get("et_fqn")
            cargs[1] = add_constant(sub, new_w, conv, fqn=wname and wname + ".bn_fused")
            cargs[2] = add_constant(sub, new_b, conv, fqn=bname and bname + ".bn_fused")
            conv.args = tuple(cargs)
            for u in users:
                if u.args[1] == 0:
                    u.replace_all_uses_with(conv)
                sub.graph.erase_node(u)
            sub.graph.erase_node(bn)
            for c in (weight, bias, w, b, mean, var):
                if c is not None and not c.users:
                    sub.graph.erase_node(c)
            fused += 1
        sub.recompile()
    return fused


# ---------------------------------------------------------------------------
# views

RESHAPE_VIEWS = {aten.view.default, aten._unsafe_view.default, aten.squeeze.dim,
                 aten.squeeze.dims, aten.squeeze.default, aten.unsqueeze.default,
                 aten.reshape.default, aten.view_copy.default}
_VIEW_TO_COPY = {
    aten.view.default: aten.view_copy.default,
    aten._unsafe_view.default: aten.view_copy.default,
    aten.reshape.default: aten.view_copy.default,
    aten.squeeze.dim: aten.squeeze_copy.dim,
    aten.squeeze.dims: aten.squeeze_copy.dims,
    aten.squeeze.default: aten.squeeze_copy.default,
    aten.unsqueeze.default: aten.unsqueeze_copy.default,
    aten.permute.default: aten.permute_copy.default,
    aten.t.default: aten.t_copy.default,
    aten.transpose.int: aten.transpose_copy.int,
    aten.expand.default: aten.expand_copy.default,
    aten.slice.Tensor: aten.slice_copy.Tensor,
    aten.select.int: aten.select_copy.int,
    aten.split.Tensor: aten.split_copy.Tensor,
    aten.split_with_sizes.default: aten.split_with_sizes_copy.default,
    aten.unbind.int: aten.unbind_copy.int,
    aten.diagonal.default: aten.diagonal_copy.default,
    aten.as_strided.default: aten.as_strided_copy.default,
    aten.unfold.default: aten.unfold_copy.default,
    aten.alias.default: aten.alias_copy.default,
    aten.view_as_real.default: aten.view_as_real_copy.default,
}


def _root_kind(n: torch.fx.Node) -> Optional[str]:
    """Follow aliasing views back to their base; return its placeholder kind."""
    while n.op == "call_function" and n.meta.get("et_alias"):
        n = n.args[0]
    if n.op == "placeholder":
        return n.meta.get("et_kind")
    return None


def lower_views(gm: torch.fx.GraphModule, plan_inputs: bool = True) -> Tuple[int, int]:
    """Static reshape-like views become aliases (no instruction); every other
    view op becomes its ``*_copy`` op.  Returns (aliased, copied)."""
    aliased = copied = 0
    for sub in subgraphs(gm):
        for n in list(sub.graph.nodes):
            if n.op != "call_function" or n.target not in _VIEW_TO_COPY and \
                    n.target not in RESHAPE_VIEWS:
                continue
            base = n.args[0]
            out = node_val(n)
            alias_ok = (n.target in RESHAPE_VIEWS and isinstance(base, torch.fx.Node)
                        and tensor_is_static(out) and tensor_is_static(node_val(base))
                        and node_val(base).is_contiguous() and out.is_contiguous())
            if alias_ok:
                root = _root_kind(base)
                if root == "buffer" or (root == "input" and not plan_inputs):
                    alias_ok = False
                if base.op == "placeholder" and sub is not gm:
                    alias_ok = False  # branch operand: its storage is the caller's
            if alias_ok:
                n.meta["et_alias"] = True
                aliased += 1
            else:
                n.target = _VIEW_TO_COPY[n.target]
                copied += 1
        sub.recompile()
    return aliased, copied


# ---------------------------------------------------------------------------
# shape/stride propagation


def _fake_mode(gm: torch.fx.GraphModule):
    from torch._guards import detect_fake_mode
    vals = [n.meta.get("val") for sub in subgraphs(gm) for n in sub.graph.nodes]
    mode = detect_fake_mode([v for v in vals if isinstance(v, FakeTensor)])
    if mode is None:
        from torch._subclasses.fake_tensor import FakeTensorMode
        mode = FakeTensorMode()
    return mode


def _has_sym(n: torch.fx.Node) -> bool:
    leaves = torch.utils._pytree.tree_leaves(n.meta.get("val"))
    for a in n.all_input_nodes:
        leaves += torch.utils._pytree.tree_leaves(a.meta.get("val"))
    for v in leaves:
        if is_sym(v) or (isinstance(v, torch.Tensor) and not tensor_is_static(v)):
            return True
    return False


def refresh_meta(gm: torch.fx.GraphModule) -> None:
    """Recompute ``meta["val"]`` of every op node with fake tensors.

    After views became ``*_copy`` ops, outputs are contiguous where the view
    had the base's strides; the emitter reads dim orders from these values.
    """
    mode = _fake_mode(gm)
    from torch.fx.experimental.symbolic_shapes import ShapeEnv  # noqa: F401

    def run(g: torch.fx.GraphModule, inputs: Optional[List[Any]]) -> List[Any]:
        env: Dict[torch.fx.Node, Any] = {}
        ph = 0
        for n in g.graph.nodes:
            if n.op == "placeholder":
                if inputs is not None:
                    n.meta["val"] = inputs[ph]
                env[n] = n.meta.get("val")
                ph += 1
            elif n.op == "get_attr":
                v = n.meta.get("val")
                if isinstance(v, torch.Tensor) and not isinstance(v, FakeTensor):
                    env[n] = mode.from_tensor(v, static_shapes=True)
                else:
                    env[n] = getattr(g, n.target)
            elif n.op == "call_function":
                args = torch.fx.node.map_arg(n.args, lambda a: env[a])
                kwargs = torch.fx.node.map_arg(n.kwargs, lambda a: env[a])
                if n.target is torch.ops.higher_order.cond:
                    pred, tg, fg, ops = args
                    out = run(tg, list(ops))
                    run(fg, list(ops))
                    val = tuple(out) if isinstance(n.meta.get("val"), tuple) else list(out)
                elif n.target is operator.getitem:
                    val = args[0][args[1]]
                elif isinstance(n.target, (torch._ops.OpOverload, oplib.EdgeOp)) and \
                        isinstance(n.meta.get("val"), (torch.Tensor, tuple, list)) and \
                        not _has_sym(n):
                    try:
                        with mode:
                            val = n.target(*args, **kwargs)
                    except Exception:  # keep what torch.export recorded
                        val = n.meta.get("val")
                else:
                    val = n.meta.get("val")
                n.meta["val"] = val
                env[n] = val
            elif n.op == "output":
                return [env[a] if isinstance(a, torch.fx.Node) else a for a in n.args[0]]
        return []

    run(gm, None)


# ---------------------------------------------------------------------------
# bounds of data-dependent sizes


def sym_upper_bound(s: Any, bounds: Optional[Dict[Any, int]] = None) -> Optional[int]:
    """An int size, or a SymInt's upper bound over its shape env's value
    ranges with ``bounds`` overriding the upper end of some symbols (None:
    no finite bound)."""
    if not isinstance(s, torch.SymInt):
        return int(s)
    from torch.utils._sympy.value_ranges import ValueRanges, bound_sympy
    node = s.node
    ranges = node.shape_env.var_to_range
    if bounds and node.expr.free_symbols & bounds.keys():
        ranges = dict(ranges)
        for sym in node.expr.free_symbols & bounds.keys():
            low = ranges[sym].lower if sym in ranges else 0
            ranges[sym] = ValueRanges(low, bounds[sym])
    upper = bound_sympy(node.expr, ranges).upper
    if getattr(upper, "is_finite", None) is False:
        return None
    try:
        return int(upper)
    except (TypeError, ValueError, OverflowError, AttributeError):
        return None


def bound_masked_select(method: EdgeMethod) -> int:
    """Bound masked_select's length by the broadcast numel of self and mask.

    torch's shape inference bounds the data-dependent length by
    ``self.numel()`` (or leaves it unbounded when that is at most 2), but a
    mask that broadcasts self selects up to the broadcast shape's numel:
    ``masked_select(x[10], m[10, 10])`` can give 100 elements.  A tighter
    bound from the user (torch._check) is kept.  Returns the number of
    lengths bounded.
    """
    count = 0
    for sub in subgraphs(method.gm):
        for n in sub.graph.nodes:
            if n.op != "call_function" or n.target is not aten.masked_select.default:
                continue
            out, a, b = node_val(n), node_val(n.args[0]), node_val(n.args[1])
            if not all(isinstance(t, torch.Tensor) for t in (out, a, b)) or out.dim() != 1 \
                    or not isinstance(out.shape[0], torch.SymInt):
                continue
            sym = out.shape[0].node.expr
            if not sym.is_Symbol:
                continue
            dims_a = [sym_upper_bound(d) for d in a.shape]
            dims_b = [sym_upper_bound(d) for d in b.shape]
            if None in dims_a or None in dims_b:
                continue
            rank = max(len(dims_a), len(dims_b))
            dims_a = [1] * (rank - len(dims_a)) + dims_a
            dims_b = [1] * (rank - len(dims_b)) + dims_b
            numel = 1
            for x, y in zip(dims_a, dims_b):
                numel *= max(x, y)
            upper, numel_a = sym_upper_bound(out.shape[0]), sym_upper_bound(a.numel())
            if upper is not None and numel_a is not None and upper < numel_a:
                continue  # narrowed below anything torch derives: the user's bound
            method.size_bounds[sym] = numel
            count += 1
    return count


# ---------------------------------------------------------------------------
# buffers updated in place


def reinplace_buffer_updates(method: EdgeMethod) -> int:
    """``index_put(buf, indices, values)`` on a mutable buffer becomes
    ``index_put_``, writing the buffer in place, when nothing else reads the
    buffer's old value and the result is what the method writes back into
    the buffer. The write-back copy then disappears too (its source is the
    buffer itself): a KV cache update costs the rows written, not two copies
    of the cache. Returns the number of updates made in place."""
    out_node = next(n for n in method.gm.graph.nodes if n.op == "output")
    written = {ph: out_node.args[0][pos] for pos, ph in method.mutations}
    count = 0
    for n in list(method.gm.graph.nodes):
        if n.op != "call_function" or n.target is not aten.index_put.default:
            continue
        buf = n.args[0]
        if (not isinstance(buf, torch.fx.Node) or buf.op != "placeholder"
                or buf.meta.get("et_kind") != "buffer" or len(buf.users) != 1
                or written.get(buf) is not n):
            continue
        n.target = aten.index_put_.default
        count += 1
    if count:
        method.gm.recompile()
    return count


# ---------------------------------------------------------------------------
# the whole pipeline


def record_layouts(gm: torch.fx.GraphModule, channels_last: bool = False) -> None:
    """meta["et_dtype"] and meta["et_dim_order"] on every tensor-valued node."""
    for sub in subgraphs(gm):
        for n in sub.graph.nodes:
            v = n.meta.get("val")
            if isinstance(v, torch.Tensor):
                n.meta["et_dtype"] = v.dtype
                n.meta["et_dim_order"] = dim_order_of(v, channels_last)


def edge_passes(method: EdgeMethod, library: frozenset, channels_last: bool = False) -> None:
    """Target-independent clean-up run by ``to_edge``."""
    remove_noops(method.gm)
    to_dim_order_ops(method.gm, channels_last)
    scalars_to_overloads(method.gm, library)
    record_layouts(method.gm, channels_last)


def executorch_passes(method: EdgeMethod, library: frozenset, *, fold: bool,
                      plan_inputs: bool, fuse_bn: bool = True) -> Dict[str, int]:
    stats = {}
    if fuse_bn:
        stats["fused_bn"] = fuse_conv_batch_norm(method.gm)
    if fold:
        stats["folded"] = fold_constants(method.gm)
    stats["noops"] = remove_noops(method.gm)
    stats["aliased_views"], stats["copied_views"] = lower_views(method.gm, plan_inputs)
    refresh_meta(method.gm)
    stats["bounded_sizes"] = bound_masked_select(method)
    stats["inplace_buffer_updates"] = reinplace_buffer_updates(method)
    return stats
