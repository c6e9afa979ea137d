"""Emit an edge graph as an ExecutionPlan: values, instructions, operators.

Tensors that need planned memory get a ``Storage``; several values may share
one (aliasing views, cond outputs written in place by either branch, in-place
elementwise kernels).  The memory planner later assigns each storage an
offset and the emitter's ``finish`` writes the AllocationDetails.
"""

from __future__ import annotations

import hashlib
import operator
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.fx
from torch._subclasses.fake_tensor import FakeTensor

from ..pte import schema as S
from .errors import ExportError, source_location
from .memory_planning import Storage, lifetimes, merge
from .kernel_selection import Kernel
from .partition import LoweredDelegate
from .passes import EdgeMethod, dim_order_of, node_val, sym_upper_bound

# ---------------------------------------------------------------------------
# dtype tables

TORCH_TO_SCALAR = {
    torch.uint8: S.ScalarType.BYTE, torch.int8: S.ScalarType.CHAR,
    torch.int16: S.ScalarType.SHORT, torch.int32: S.ScalarType.INT,
    torch.int64: S.ScalarType.LONG, torch.float16: S.ScalarType.HALF,
    torch.float32: S.ScalarType.FLOAT, torch.float64: S.ScalarType.DOUBLE,
    torch.complex32: S.ScalarType.COMPLEX32, torch.complex64: S.ScalarType.COMPLEX64,
    torch.complex128: S.ScalarType.COMPLEX128, torch.bool: S.ScalarType.BOOL,
    torch.qint8: S.ScalarType.QINT8, torch.quint8: S.ScalarType.QUINT8,
    torch.qint32: S.ScalarType.QINT32, torch.bfloat16: S.ScalarType.BFLOAT16,
    torch.quint4x2: S.ScalarType.QUINT4X2, torch.quint2x4: S.ScalarType.QUINT2X4,
    torch.uint16: S.ScalarType.UINT16, torch.uint32: S.ScalarType.UINT32,
    torch.uint64: S.ScalarType.UINT64,
}
for _name, _st in (("float8_e5m2", S.ScalarType.FLOAT8E5M2),
                   ("float8_e4m3fn", S.ScalarType.FLOAT8E4M3FN),
                   ("float8_e5m2fnuz", S.ScalarType.FLOAT8E5M2FNUZ),
                   ("float8_e4m3fnuz", S.ScalarType.FLOAT8E4M3FNUZ)):
    if hasattr(torch, _name):
        TORCH_TO_SCALAR[getattr(torch, _name)] = _st

MEMORY_FORMAT = {torch.contiguous_format: 0, torch.preserve_format: 1,
                 torch.channels_last: 2, torch.channels_last_3d: 3}

# Elementwise kernels whose output may share its input's bytes when the input
# dies at that kernel (element i of out depends only on element i of it).
INPLACE_SAFE = frozenset({
    "aten::add.out", "aten::sub.out", "aten::mul.out", "aten::div.out",
    "aten::add.Scalar_out", "aten::sub.Scalar_out", "aten::mul.Scalar_out",
    "aten::div.Scalar_out", "aten::rsub.Scalar_out", "aten::relu.out",
    "aten::sigmoid.out", "aten::tanh.out", "aten::gelu.out", "aten::hardtanh.out",
    "aten::clamp.out", "aten::neg.out", "aten::exp.out", "aten::sqrt.out",
    "aten::rsqrt.out", "aten::abs.out", "aten::leaky_relu.out", "aten::elu.out",
    "aten::pow.Tensor_Scalar_out", "aten::reciprocal.out", "aten::erf.out",
    "aten::log.out", "aten::sin.out", "aten::cos.out", "aten::maximum.out",
    "aten::minimum.out",
})


# Multi-output kernels: (input argument, output argument) that may share bytes.
INPLACE_NAMED = {
    "aten::_native_batch_norm_legit_no_training.out": ("input", "out0"),
}


def scalar_type(dtype: torch.dtype) -> int:
    st = TORCH_TO_SCALAR.get(dtype)
    if st is None:
        raise ExportError(f"dtype {dtype} has no ExecuTorch scalar type")
    return int(st)


def _enum_int(v: Any) -> Any:
    """The integer a dtype, layout or memory format is stored as (other
    values unchanged)."""
    if isinstance(v, torch.dtype):
        return scalar_type(v)
    if isinstance(v, torch.layout):
        return 0 if v == torch.strided else 1
    if isinstance(v, torch.memory_format):
        return MEMORY_FORMAT[v]
    return v


def tensor_buffer(t: torch.Tensor) -> memoryview:
    """A tensor's bytes in memory order, as a read-only memoryview of the
    tensor's own storage when it is a contiguous CPU tensor (no copy: a
    model's weights go to the file without being duplicated), else of a
    contiguous copy."""
    t = t.detach()
    if t.device.type != "cpu":
        t = t.cpu()
    if not t.is_contiguous():
        t = t.contiguous()
    if t.numel() == 0:
        return memoryview(b"")
    if t.dtype in (torch.bfloat16,):
        t = t.view(torch.int16)
    elif t.dtype.is_floating_point and t.dtype.itemsize == 1:
        t = t.view(torch.uint8)
    elif t.dtype in (torch.uint16, torch.uint32, torch.uint64):
        t = t.view({2: torch.int16, 4: torch.int32, 8: torch.int64}[t.dtype.itemsize])
    # The array keeps the tensor alive; the view is bytes.
    return memoryview(t.numpy().reshape(-1).view(np.uint8)).toreadonly()


def tensor_bytes(t: torch.Tensor) -> bytes:
    return bytes(tensor_buffer(t))


# ---------------------------------------------------------------------------
# program-wide state (constants are shared by all methods)


class ProgramState:
    def __init__(self, external_constants: bool) -> None:
        self.constant_buffers: List[bytes] = [b""]
        self._const_index: Dict[str, int] = {}
        self._digests: Dict[Tuple, Tuple[str, torch.Tensor]] = {}
        self.mutable_buffers: List[bytes] = [b""]
        self.external_constants = external_constants
        self.external: Dict[str, Tuple[bytes, S.TensorLayout]] = {}
        self._external_by_hash: Dict[Tuple[str, str], str] = {}
        # Backend payloads (BackendDelegate.processed refers to them INLINE
        # until serialize_pte moves them to segments) and the named data they
        # read (key -> (bytes, alignment)), shared by all methods.
        self.delegate_data: List[bytes] = []
        self._delegate_index: Dict[bytes, int] = {}
        self.named_data: Dict[str, Tuple[bytes, int]] = {}

    def digest(self, t: torch.Tensor, data: Any) -> str:
        """sha256 of a constant's bytes, computed once per tensor storage
        view (a tied weight used twice is hashed once)."""
        key = None
        if t.device.type == "cpu" and t.numel() and t.is_contiguous():
            key = (t.untyped_storage().data_ptr(), t.storage_offset(), tuple(t.shape),
                   t.dtype)
            hit = self._digests.get(key)
            if hit is not None:
                return hit[0]
        h = hashlib.sha256(data).hexdigest()
        if key is not None:
            # The tensor is kept so that its address cannot be reused by
            # another tensor while the program is emitted.
            self._digests[key] = (h, t)
        return h

    def delegate_index(self, payload: bytes) -> int:
        idx = self._delegate_index.get(payload)
        if idx is None:
            idx = self._delegate_index[payload] = len(self.delegate_data)
            self.delegate_data.append(payload)
        return idx

    def add_named_data(self, key: str, data: bytes, alignment: int) -> None:
        old = self.named_data.get(key)
        if old is not None and old[0] != data:
            raise ExportError(f"named data {key!r} is given two different values")
        self.named_data[key] = (data, max(alignment, old[1] if old else 1))

    def constant_index(self, data: Any, digest: Optional[str] = None) -> int:
        """Index of ``data`` (bytes or a buffer, kept as given) in the constant
        buffers; identical contents share one."""
        h = digest or hashlib.sha256(data).hexdigest()
        idx = self._const_index.get(h)
        if idx is None:
            idx = len(self.constant_buffers)
            self.constant_buffers.append(data)
            self._const_index[h] = idx
        return idx

    def external_key(self, fqn: str, data: bytes, layout: S.TensorLayout) -> str:
        h = hashlib.sha256(data).hexdigest()
        sig = (h, repr((layout.scalar_type, layout.sizes)))
        if sig in self._external_by_hash:
            return self._external_by_hash[sig]
        key = fqn
        n = 1
        while key in self.external:
            n += 1
            key = f"{fqn}.{n}"
        self.external[key] = (data, layout)
        self._external_by_hash[sig] = key
        return key


# ---------------------------------------------------------------------------


@dataclass
class EmittedMethod:
    plan: S.ExecutionPlan
    storages: List[Storage]          # root storages (after merges)
    instr_names: List[str]           # kernel name per instruction (report/plot)
    instr_nodes: List[Optional[torch.fx.Node]]
    num_instructions: int


class MethodEmitter:
    def __init__(self, method: EdgeMethod, state: ProgramState, *, plan_inputs: bool,
                 plan_outputs: bool, init_mutable_buffers: bool, library: frozenset,
                 inplace: bool, channels_last: bool = False) -> None:
        self.m = method
        self.channels_last = channels_last
        self.state = state
        self.plan_inputs = plan_inputs
        self.plan_outputs = plan_outputs
        self.init_mutable_buffers = init_mutable_buffers
        self.library = library
        self.inplace = inplace
        self.values: List[S.EValue] = []
        self.storage_of: Dict[int, Storage] = {}
        self.storages: List[Storage] = []
        self.instructions: List[S.Instruction] = []
        self.instr_names: List[str] = []
        self.instr_nodes: List[Optional[torch.fx.Node]] = []
        self.operators: List[S.Operator] = []
        self.delegates: List[S.BackendDelegate] = []
        self._op_index: Dict[Tuple[str, str], int] = {}
        self._const_values: Dict[Tuple, int] = {}
        self.inputs: List[int] = []
        self.outputs: List[int] = []
        self.inplace_pairs: List[Tuple[int, int, int, List[int]]] = []  # (instr, in, out, others)
        self.node: Optional[torch.fx.Node] = None
        self._placeholder_values: Dict[torch.fx.Node, int] = {}

    # -- values ----------------------------------------------------------
    def add_value(self, val: Any) -> int:
        self.values.append(S.EValue(val))
        return len(self.values) - 1

    def int_value(self, v: int) -> int:
        return self.add_value(S.Int(int(v)))

    def tensor_meta(self, t: torch.Tensor) -> Tuple[List[int], List[int], int]:
        """(sizes at their upper bound, dim order, shape dynamism)."""
        sizes, dynamic = [], False
        for s in t.shape:
            if isinstance(s, torch.SymInt):
                dynamic = True
                sizes.append(self.upper_bound(s))
            else:
                sizes.append(int(s))
        if dynamic:
            order = list(range(t.dim()))
            if t.dim() and self.channels_last and not _sym_contiguous(t):
                order = dim_order_of(t, True)
        else:
            order = dim_order_of(t, self.channels_last)
        return sizes, order, int(S.TensorShapeDynamism.DYNAMIC_BOUND if dynamic
                                 else S.TensorShapeDynamism.STATIC)

    def upper_bound(self, s: torch.SymInt) -> int:
        expr = s.node.expr
        try:
            upper = sym_upper_bound(s, self.m.size_bounds)
        except Exception as e:  # pragma: no cover - depends on torch internals
            raise ExportError(f"cannot bound symbolic size {expr}: {e}") from e
        if upper is None:
            origin = self.symbol_origin(expr)
            if origin:
                raise ExportError(
                    f"{origin} is dynamic with no upper bound (torch calls it {expr}), and "
                    "the runtime plans memory for the largest size; give its "
                    "torch.export.Dim a max, e.g. Dim('batch', max=64) "
                    f"(at {source_location(self.node)})")
            raise ExportError(
                f"a size computed from data ({expr}) has no upper bound, and the runtime "
                "plans memory for the largest size; bound it in the model with "
                "torch._check(n <= N) after the operator that makes it "
                f"(at {source_location(self.node)})")
        return upper

    def symbol_origin(self, expr: Any) -> str:
        """'input 'x' dim 0' for each user input dimension `expr` is made of,
        or '' for a size no input dimension gives (a data-dependent one)."""
        symbols = getattr(expr, "free_symbols", set())
        found: List[str] = []
        for ph in self.m.gm.graph.nodes:
            if ph.op != "placeholder" or ph.meta.get("et_kind") != "input":
                continue
            val = ph.meta.get("val")
            if not isinstance(val, torch.Tensor):
                continue
            for d, size in enumerate(val.shape):
                if isinstance(size, torch.SymInt) and size.node.expr in symbols:
                    found.append(f"input '{ph.name}' dim {d}")
                    symbols = symbols - {size.node.expr}
        if not found:
            return ""
        return found[0] if len(found) == 1 else "the size made of " + " and ".join(found)

    def planned_tensor(self, t: torch.Tensor, kind: str, name: str) -> int:
        sizes, order, dyn = self.tensor_meta(t)
        idx = self.add_value(S.Tensor(scalar_type=scalar_type(t.dtype), sizes=sizes,
                                      dim_order=order, shape_dynamism=dyn))
        nbytes = int(np.prod(sizes, dtype=np.int64)) * t.element_size() if sizes else \
            t.element_size()
        st = Storage(id=len(self.storages), nbytes=nbytes, name=name, kind=kind)
        self.storages.append(st)
        self.storage_of[idx] = st
        st.values.append(idx)
        return idx

    def alias_tensor(self, base_idx: int, t: torch.Tensor) -> int:
        sizes, order, dyn = self.tensor_meta(t)
        base = self.values[base_idx].val
        idx = self.add_value(S.Tensor(scalar_type=scalar_type(t.dtype), sizes=sizes,
                                      dim_order=order, shape_dynamism=dyn,
                                      data_buffer_idx=base.data_buffer_idx,
                                      extra_tensor_info=base.extra_tensor_info))
        st = self.storage_of.get(base_idx)
        if st is not None:
            self.storage_of[idx] = st
            st.find().values.append(idx)
        return idx

    def constant_tensor(self, t: torch.Tensor, fqn: Optional[str]) -> int:
        t = t.detach()
        if (self.channels_last and t.dim() == 4 and not t.is_contiguous()
                and t.is_contiguous(memory_format=torch.channels_last)):
            data = tensor_buffer(t.permute(0, 2, 3, 1))  # bytes in memory order
            order = [0, 2, 3, 1]
        else:
            data = tensor_buffer(t)
            order = list(range(t.dim()))
        st = scalar_type(t.dtype)
        sizes = [int(s) for s in t.shape]
        digest = self.state.digest(t, data)
        key = (digest, st, tuple(sizes), tuple(order))
        if key in self._const_values:
            return self._const_values[key]
        if self.state.external_constants and fqn:
            layout = S.TensorLayout(scalar_type=st, sizes=sizes, dim_order=order)
            k = self.state.external_key(fqn, bytes(data), layout)
            tensor = S.Tensor(scalar_type=st, sizes=sizes, dim_order=order,
                              extra_tensor_info=S.ExtraTensorInfo(
                                  fully_qualified_name=k,
                                  location=int(S.TensorDataLocation.EXTERNAL)))
        else:
            tensor = S.Tensor(scalar_type=st, sizes=sizes, dim_order=order,
                              data_buffer_idx=self.state.constant_index(data, digest))
        idx = self.add_value(tensor)
        self._const_values[key] = idx
        return idx

    def empty_tensor(self) -> int:
        return self.add_value(S.Tensor(scalar_type=int(S.ScalarType.BYTE), sizes=[0],
                                       dim_order=[0]))

    # -- operators and instructions -------------------------------------
    def operator_index(self, kernel: str) -> int:
        name, _, overload = kernel.partition(".")
        key = (name, overload)
        if key not in self._op_index:
            self._op_index[key] = len(self.operators)
            self.operators.append(S.Operator(name=name, overload=overload))
        return self._op_index[key]

    def add_instruction(self, instr: Any, name: str) -> int:
        self.instructions.append(S.Instruction(instr))
        self.instr_names.append(name)
        self.instr_nodes.append(self.node)
        return len(self.instructions) - 1

    def kernel_call(self, kernel: str, args: List[int]) -> int:
        if kernel not in self.library:
            raise ExportError(f"operator {kernel} is not in the kernel library "
                              f"(at {source_location(self.node)})")
        return self.add_instruction(S.KernelCall(op_index=self.operator_index(kernel),
                                                 args=args), kernel)

    # -- arguments -------------------------------------------------------
    def arg(self, v: Any, t: Any, env: Dict) -> int:
        kind = t.kind()
        if kind == "OptionalType":
            if v is None:
                return self.add_value(S.Null())
            t = t.getElementType()
            kind = t.kind()
        if v is None:
            if kind == "TensorType":
                return self.empty_tensor()
            return self.add_value(S.Null())
        if isinstance(v, torch.fx.Node):
            got = self.get(env, v)
            if kind == "ListType" and isinstance(got, list):
                return self.add_value(S.TensorList(items=list(got)))
            if not isinstance(got, int):
                raise ExportError(f"argument {v.name} of {self.node.name} is not a value")
            return got
        if kind == "TensorType":
            if isinstance(v, torch.Tensor):
                return self.constant_tensor(v, None)
            raise ExportError(f"expected a tensor argument, got {v!r} "
                              f"(at {source_location(self.node)})")
        if kind == "ListType":
            ek = t.getElementType().kind()
            items = list(v)
            if ek == "TensorType":
                return self.add_value(S.TensorList(items=[self.arg(x, t.getElementType(), env)
                                                          for x in items]))
            if ek == "OptionalType":
                return self.add_value(S.OptionalTensorList(
                    items=[-1 if x is None else self.arg(x, t.getElementType(), env)
                           for x in items]))
            if ek in ("IntType", "SymIntType"):
                return self.add_value(S.IntList(items=[
                    self.get(env, x) if isinstance(x, torch.fx.Node) else self.int_value(x)
                    for x in items]))
            if ek == "FloatType":
                return self.add_value(S.DoubleList(items=[float(x) for x in items]))
            if ek == "BoolType":
                return self.add_value(S.BoolList(items=[bool(x) for x in items]))
            raise ExportError(f"unsupported list argument type {t}")
        if kind in ("IntType", "SymIntType"):
            # TorchScript types some ScalarType arguments (cumsum's dtype) as
            # int: the value is then a torch.dtype.
            return self.int_value(_enum_int(v))
        if kind == "FloatType":
            return self.add_value(S.Double(float(v)))
        if kind == "BoolType":
            return self.add_value(S.Bool(bool(v)))
        if kind == "NumberType":
            if isinstance(v, bool):
                return self.add_value(S.Bool(v))
            if isinstance(v, int):
                return self.int_value(v)
            return self.add_value(S.Double(float(v)))
        if kind in ("ScalarTypeType", "LayoutType", "MemoryFormatType"):
            return self.int_value(_enum_int(v))
        if kind == "StringType":
            return self.add_value(S.String(str(v)))
        if kind == "DeviceObjType":
            return self.add_value(S.String(str(v)))
        raise ExportError(f"unsupported argument type {t} for {v!r}")

    # -- nodes -----------------------------------------------------------
    def emit_kernel(self, n: torch.fx.Node, k: Kernel, env: Dict) -> Any:
        schema = k.schema
        src = k.source or schema
        given: Dict[str, Any] = {}
        for a, v in zip([a for a in src.arguments if not a.kwarg_only], n.args):
            given[a.name] = v
        given.update(n.kwargs)
        outs_schema = [a for a in schema.arguments if a.is_out]
        val = node_val(n)
        args: List[int] = []
        out_values: List[Any] = []
        out_vals = [val] if len(outs_schema) == 1 else list(val) if outs_schema else []
        oi = 0
        for a in schema.arguments:
            if a.is_out:
                v = out_vals[oi]
                oi += 1
                if isinstance(v, (list, tuple)):
                    items = [self.planned_tensor(x, "activation", n.name) for x in v]
                    out_values.append(items)
                    args.append(self.add_value(S.TensorList(items=items)))
                else:
                    idx = self.planned_tensor(v, "activation", n.name)
                    out_values.append(idx)
                    args.append(idx)
                continue
            if a.name in given:
                v = given[a.name]
            elif a.has_default_value():
                v = a.default_value
            else:
                raise ExportError(f"{k.name}: missing argument {a.name} "
                                  f"(at {source_location(n)})")
            args.append(self.arg(v, a.type, env))
        if k.out:
            if len(out_values) == 1 and isinstance(out_values[0], int):
                ret = out_values[0]
                args.append(ret)
                result: Any = ret
            elif len(out_values) == 1:
                args.append(self.add_value(S.TensorList(items=list(out_values[0]))))
                result = list(out_values[0])
            else:
                args.append(self.add_value(S.TensorList(items=list(out_values))))
                result = list(out_values)
        else:
            rets = schema.returns
            if len(rets) != 1:
                raise ExportError(f"{k.name}: functional kernels must return one value")
            rk = rets[0].type.kind()
            if k.inplace:
                result = args[0]  # the tensor written in place is the result
            elif rk == "TensorType":
                result = self.planned_tensor(val, "activation", n.name)
            elif rk == "BoolType" or isinstance(val, (bool, torch.SymBool)):
                result = self.add_value(S.Bool(False))
            elif rk == "FloatType" or isinstance(val, (float, torch.SymFloat)):
                result = self.add_value(S.Double(0.0))
            else:
                result = self.int_value(0)
            args.append(result)
        ii = self.kernel_call(k.name, args)
        for o in (out_values if k.out else [result]):
            for idx in (o if isinstance(o, list) else [o]):
                st = self.storage_of.get(idx)
                if st is not None:
                    st.ops.append(k.name)
        inplace_out = None
        if self.inplace and k.name in INPLACE_SAFE and k.out and isinstance(result, int):
            inplace_out, candidates = result, None
        elif self.inplace and k.name in INPLACE_NAMED:
            in_name, out_name = INPLACE_NAMED[k.name]
            names = [a.name for a in schema.arguments]
            inplace_out, candidates = args[names.index(out_name)], [args[names.index(in_name)]]
        if inplace_out is not None:
            result_t = inplace_out
            out_t = self.values[result_t].val
            tensor_args = [aidx for a, aidx in zip(schema.arguments, args)
                           if a.type.kind() == "TensorType" and not a.is_out]
            for aidx in (candidates or tensor_args):
                vt = self.values[aidx].val
                others = [b for b in tensor_args if b != aidx and b in self.storage_of]
                if (isinstance(vt, S.Tensor) and aidx in self.storage_of and
                        vt.scalar_type == out_t.scalar_type and vt.sizes == out_t.sizes and
                        vt.dim_order == out_t.dim_order and
                        vt.shape_dynamism == out_t.shape_dynamism == 0):
                    self.inplace_pairs.append((ii, aidx, result_t, others))
        return result

    def emit_graph(self, gm: torch.fx.GraphModule, inputs: Optional[Sequence[Any]],
                   top: bool) -> List[Any]:
        env: Dict[torch.fx.Node, Any] = {}
        ph_i = 0
        for n in gm.graph.nodes:
            self.node = n
            if n.op == "placeholder":
                if top:
                    env[n] = self.emit_placeholder(n)
                    self._placeholder_values[n] = env[n]
                else:
                    env[n] = inputs[ph_i]
                ph_i += 1
            elif n.op == "get_attr":
                v = n.meta.get("val")
                if isinstance(v, torch.Tensor) and not isinstance(v, FakeTensor):
                    env[n] = self.constant_tensor(v, n.meta.get("et_fqn") or n.target)
                else:
                    env[n] = getattr(gm, n.target)
            elif n.op == "call_function":
                env[n] = self.emit_call(n, env)
            elif n.op == "output":
                return [self.output_arg(a, env) for a in n.args[0]]
            else:
                raise ExportError(f"unsupported node {n.op} {n.target}")
        return []

    def output_arg(self, a: Any, env: Dict) -> Any:
        if isinstance(a, torch.fx.Node):
            return self.get(env, a)
        if a is None:
            return self.add_value(S.Null())
        if isinstance(a, bool):
            return self.add_value(S.Bool(a))
        if isinstance(a, int):
            return self.int_value(a)
        if isinstance(a, float):
            return self.add_value(S.Double(a))
        if isinstance(a, torch.Tensor):
            return self.constant_tensor(a, None)
        raise ExportError(f"unsupported output {a!r}")

    def get(self, env: Dict, node: torch.fx.Node) -> Any:
        v = env[node]
        if isinstance(v, _LazyAlias):
            v = env[node] = self.materialize(v)
        return v

    def materialize(self, lazy: "_LazyAlias") -> int:
        n, bidx = lazy.node, lazy.base_idx
        bval = self.values[bidx].val
        if bidx not in self.storage_of and isinstance(bval, S.Tensor) and (
                bval.data_buffer_idx or bval.extra_tensor_info is not None):
            root = lazy.root
            return self.constant_tensor(root.meta["val"].reshape(node_val(n).shape),
                                        root.meta.get("et_fqn"))
        if bidx not in self.storage_of:
            raise ExportError(f"cannot alias view {n.name}: base is not planned "
                              f"(at {source_location(n)})")
        return self.alias_tensor(bidx, node_val(n))

    def emit_call(self, n: torch.fx.Node, env: Dict) -> Any:
        t = n.target
        if t is operator.getitem:
            return env[n.args[0]][n.args[1]]
        if n.meta.get("et_alias"):
            # Materialized only when something reads it: a chain of views
            # leaves no unused values behind.
            b = env[n.args[0]]
            if isinstance(b, _LazyAlias):
                return _LazyAlias(n, b.base_idx, b.root)
            return _LazyAlias(n, b, n.args[0])
        if t is torch.ops.higher_order.cond:
            return self.emit_cond(n, env)
        if isinstance(t, LoweredDelegate):
            return self.emit_delegate(n, t, env)
        k = n.meta.get("et_kernel")
        if k is None:
            raise ExportError(f"no kernel selected for {n.name} ({t}) at {source_location(n)}")
        return self.emit_kernel(n, k, env)

    def emit_delegate(self, n: torch.fx.Node, lowered: LoweredDelegate, env: Dict) -> List[int]:
        """A delegated subgraph: one DelegateCall whose arguments are the
        subgraph's inputs, then its outputs (planned tensors the backend
        writes), as upstream's emitter lays them out."""
        args: List[int] = []
        for a in n.args:
            idx = self.get(env, a) if isinstance(a, torch.fx.Node) else None
            if not isinstance(idx, int) or not isinstance(self.values[idx].val, S.Tensor):
                raise ExportError(f"{lowered.__name__}: input {a} is not a tensor value "
                                  f"(at {source_location(n)})")
            args.append(idx)
        outs = [self.planned_tensor(v, "activation", n.name) for v in node_val(n)]
        for key, (data, align) in lowered.named_data.items():
            self.state.add_named_data(key, data, align)
        self.delegates.append(S.BackendDelegate(
            id=lowered.backend_id,
            processed=S.BackendDelegateDataReference(
                location=int(S.DataLocation.INLINE),
                index=self.state.delegate_index(lowered.processed)),
            compile_specs=[S.CompileSpec(key=k, value=v) for k, v in lowered.compile_specs]))
        self.add_instruction(S.DelegateCall(delegate_index=len(self.delegates) - 1,
                                            args=args + outs), lowered.backend_id)
        for o in outs:
            self.storage_of[o].ops.append(lowered.backend_id)
        return outs

    def emit_placeholder(self, n: torch.fx.Node) -> int:
        kind = n.meta.get("et_kind")
        v = node_val(n)
        if kind == "buffer":
            if not isinstance(v, torch.Tensor):
                raise ExportError(f"mutable buffer {n.name} is not a tensor")
            idx = self.planned_tensor(v, "buffer", n.meta.get("et_fqn", n.name))
            st = self.storage_of[idx]
            st.persistent = True
            init = n.meta.get("et_init")
            if self.init_mutable_buffers and init is not None:
                self.state.mutable_buffers.append(tensor_bytes(init))
                self.values[idx].val.data_buffer_idx = len(self.state.mutable_buffers) - 1
            return idx
        # user input
        if isinstance(v, torch.Tensor):
            idx = self.planned_tensor(v, "input", n.name)
            if not self.plan_inputs:
                self.storage_of[idx].planned = False
        elif isinstance(v, (torch.SymInt, int)) and not isinstance(v, bool):
            idx = self.int_value(int(v.node.hint) if isinstance(v, torch.SymInt) else v)
        elif isinstance(v, (bool, torch.SymBool)):
            idx = self.add_value(S.Bool(bool(v)))
        elif isinstance(v, (float, torch.SymFloat)):
            idx = self.add_value(S.Double(float(v)))
        elif v is None:
            idx = self.add_value(S.Null())
        else:
            raise ExportError(f"unsupported input {n.name} of type {type(v).__name__}")
        self.inputs.append(idx)
        return idx

    # -- control flow ----------------------------------------------------
    def copy_kernel(self) -> str:
        for k in ("dim_order_ops::_clone_dim_order.out", "aten::clone.out"):
            if k in self.library:
                return k
        raise ExportError("the kernel library has no clone kernel (needed by cond)")

    def emit_copy(self, src: int, dst: int) -> None:
        k = self.copy_kernel()
        t = self.values[dst].val
        if k.startswith("dim_order_ops"):
            dims = self.add_value(S.IntList(items=[self.int_value(d) for d in t.dim_order]))
            args = [src, self.add_value(S.Bool(False)), dims, dst, dst]
        else:
            args = [src, self.add_value(S.Null()), dst, dst]
        self.kernel_call(k, args)
        st = self.storage_of.get(dst)
        if st is not None:
            st.ops.append(k)

    def emit_cond(self, n: torch.fx.Node, env: Dict) -> List[int]:
        pred, tnode, fnode, operands = n.args
        tgm, fgm = env[tnode], env[fnode]
        pred_idx = self.get(env, pred) if isinstance(pred, torch.fx.Node) else \
            self.add_value(S.Bool(bool(pred)))
        outs = [self.planned_tensor(v, "activation", n.name) for v in node_val(n)]
        ops_vals = [self.get(env, o) if isinstance(o, torch.fx.Node) else o for o in operands]
        jf1 = self.add_instruction(S.JumpFalseCall(cond_value_index=pred_idx,
                                                   destination_instruction=-1), "JumpFalse")
        mark = len(self.storages)
        res = self.emit_graph(tgm, ops_vals, top=False)
        self.bind_branch(res, outs, mark)
        false_idx = self.add_value(S.Bool(False))
        jf2 = self.add_instruction(S.JumpFalseCall(cond_value_index=false_idx,
                                                   destination_instruction=-1), "JumpFalse")
        self.instructions[jf1].instr_args.destination_instruction = len(self.instructions)
        self.node = n
        mark = len(self.storages)
        res = self.emit_graph(fgm, ops_vals, top=False)
        self.bind_branch(res, outs, mark)
        self.instructions[jf2].instr_args.destination_instruction = len(self.instructions)
        self.node = n
        return outs

    def bind_branch(self, res: List[Any], outs: List[int], mark: int) -> None:
        used = set()
        for r, o in zip(res, outs):
            st = self.storage_of.get(r) if isinstance(r, int) else None
            rt, ot = self.values[r].val, self.values[o].val
            if (st is not None and st.find().id >= mark and st.find().id not in used
                    and st.find().planned and rt.shape_dynamism == 0
                    and ot.shape_dynamism == 0 and rt.sizes == ot.sizes
                    and rt.scalar_type == ot.scalar_type and rt.dim_order == ot.dim_order
                    and not st.find().persistent):
                used.add(st.find().id)
                merged = merge(self.storage_of[o].find(), st)
                used.add(merged.id)
            else:
                self.emit_copy(r, o)

    # -- the method ------------------------------------------------------
    def run(self) -> List[Storage]:
        """Emit the whole method; returns the root storages with lifetimes."""
        m = self.m
        results = self.emit_graph(m.gm, None, top=True)
        self.node = None
        out_node = next(n for n in m.gm.graph.nodes if n.op == "output")
        # write back mutated buffers (state persists across calls)
        for pos, ph in m.mutations:
            src_node = out_node.args[0][pos]
            src = results[pos]
            dst = self.value_of_placeholder(ph)
            if src == dst:
                continue
            self.node = src_node if isinstance(src_node, torch.fx.Node) else None
            args = [dst, src, self.add_value(S.Bool(False)), dst]
            self.kernel_call("aten::copy_", args)
        self.node = None
        for pos in m.user_outputs:
            idx = results[pos]
            if isinstance(idx, list):
                raise ExportError("nested outputs are not supported")
            self.outputs.append(idx)
            st = self.storage_of.get(idx)
            if st is not None:
                root = st.find()
                if root.kind == "activation":
                    root.kind = "output"
                if not self.plan_outputs and root.kind not in ("input", "buffer"):
                    root.planned = False
        return self.finish_lifetimes()

    def value_of_placeholder(self, ph: torch.fx.Node) -> int:
        return self._placeholder_values[ph]

    def finish_lifetimes(self) -> List[Storage]:
        return lifetimes(self.storages, self.storage_of, self.values, self.inputs,
                         self.instructions, self.outputs, self.inplace_pairs)

    def build_plan(self, roots: List[Storage], sizes: List[int]) -> EmittedMethod:
        for idx, st in self.storage_of.items():
            r = st.find()
            t = self.values[idx].val
            if r.planned:
                t.allocation_info = S.AllocationDetails.make(1, r.offset)
        plan = S.ExecutionPlan(
            name=self.m.name,
            container_meta_type=S.ContainerMetadata(
                encoded_inp_str=_spec_str(self.m.in_spec),
                encoded_out_str=_spec_str(self.m.out_spec)),
            values=self.values, inputs=self.inputs, outputs=self.outputs,
            chains=[S.Chain(inputs=[], outputs=[], instructions=self.instructions)],
            operators=self.operators, delegates=self.delegates,
            non_const_buffer_sizes=sizes)
        return EmittedMethod(plan=plan, storages=roots, instr_names=self.instr_names,
                             instr_nodes=self.instr_nodes,
                             num_instructions=len(self.instructions))


def check_constant_method(name: str, value: Any) -> None:
    """Raise unless ``value`` is what a constant method may return: bool,
    int, float, str, dtype, layout or tensor, or lists, tuples and dicts of
    them (upstream's ``_emit_prim_getters``)."""
    leaves, _ = torch.utils._pytree.tree_flatten(value)
    for v in leaves:
        if not isinstance(v, (bool, int, float, str, torch.dtype, torch.layout, torch.Tensor)):
            raise ExportError(f"constant method {name!r} returns a {type(v).__name__} "
                              f"({v!r}); constant methods return bool, int, float, str, "
                              "dtype or tensor values, or lists/tuples/dicts of them")


def emit_constant_method(name: str, value: Any, state: ProgramState) -> S.ExecutionPlan:
    """A method with no inputs and no instructions whose outputs are
    constants, laid out as upstream's emitter lays out ``constant_methods``
    (one output per leaf of the flattened value; ``get_eos_ids`` -> [a, b]
    is two Int outputs)."""
    check_constant_method(name, value)
    leaves, spec = torch.utils._pytree.tree_flatten(value)
    values: List[S.EValue] = []
    for v in leaves:
        if isinstance(v, bool):
            values.append(S.EValue(S.Bool(v)))
        elif isinstance(v, int):
            values.append(S.EValue(S.Int(v)))
        elif isinstance(v, float):
            values.append(S.EValue(S.Double(v)))
        elif isinstance(v, str):
            values.append(S.EValue(S.String(v)))
        elif isinstance(v, (torch.dtype, torch.layout)):
            values.append(S.EValue(S.Int(_enum_int(v))))
        else:
            t = v.detach().contiguous()
            values.append(S.EValue(S.Tensor(
                scalar_type=scalar_type(t.dtype), sizes=[int(x) for x in t.shape],
                dim_order=list(range(t.dim())),
                data_buffer_idx=state.constant_index(tensor_bytes(t)))))
    return S.ExecutionPlan(
        name=name,
        container_meta_type=S.ContainerMetadata(encoded_inp_str="",
                                                encoded_out_str=_spec_str(spec)),
        values=values, inputs=[], outputs=list(range(len(values))),
        chains=[S.Chain(inputs=[], outputs=[], instructions=[])],
        operators=[], delegates=[], non_const_buffer_sizes=[0])


@dataclass
class _LazyAlias:
    node: torch.fx.Node
    base_idx: int
    root: torch.fx.Node


def _sym_contiguous(t: torch.Tensor) -> bool:
    try:
        return bool(t.is_contiguous())
    except Exception:
        return True


def _spec_str(spec: Any) -> str:
    if spec is None:
        return ""
    try:
        return torch.utils._pytree.treespec_dumps(spec)
    except Exception:
        return ""
