"""Operators: the kernel library's list, non-ATen schemas, out-variant lookup.

Kernel names are ``"<namespace>::<name>.<overload>"`` (``"aten::add.out"``) or
``"<namespace>::<name>"`` when the overload is empty (``"aten::copy_"``), the
same strings the runtime resolves.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, FrozenSet, Optional, Tuple

import torch

_OPS_DEF_LINE = re.compile(r'^\s*ET_OP\(\s*"([^"]+)"')


# ---------------------------------------------------------------------------
# The kernel library


def parse_ops_def(text: str) -> FrozenSet[str]:
    """Operator names from an ``ops.def`` X-macro table."""
    names = set()
    for line in text.splitlines():
        m = _OPS_DEF_LINE.match(line)
        if m:
            names.add(m.group(1))
    return frozenset(names)


def find_ops_def() -> Optional[Path]:
    """Where the kernel table is: $EDGETORCH_OPS_DEF, package data, or the repo."""
    env = os.environ.get("EDGETORCH_OPS_DEF")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parent.parent  # python/edgetorch
    for cand in (here / "ops.def", here / "_data" / "ops.def",
                 here.parent.parent / "kernels" / "portable" / "ops.def"):
        if cand.is_file():
            return cand
    return None


def _find_table_def(env_var: str, data_name: str, kernels_dir: str) -> Optional[Path]:
    """A kernel table's ops.def: $env_var, package data (``_data/<data_name>``,
    installed by the build as ops.def is), or the repo's kernels/<dir>/ops.def."""
    env = os.environ.get(env_var)
    if env:
        return Path(env)
    here = Path(__file__).resolve().parent.parent  # python/edgetorch
    for cand in (here / "_data" / data_name,
                 here.parent.parent / "kernels" / kernels_dir / "ops.def"):
        if cand.is_file():
            return cand
    return None


def find_quantized_ops_def() -> Optional[Path]:
    """The quantized kernel table ($EDGETORCH_QUANTIZED_OPS_DEF first)."""
    return _find_table_def("EDGETORCH_QUANTIZED_OPS_DEF", "quantized_ops.def", "quantized")


def find_llm_ops_def() -> Optional[Path]:
    """The LLM kernel table, llama:: ops ($EDGETORCH_LLM_OPS_DEF first)."""
    return _find_table_def("EDGETORCH_LLM_OPS_DEF", "llm_ops.def", "llm")


@functools.lru_cache(maxsize=None)
def _load(path: str) -> FrozenSet[str]:
    ops = parse_ops_def(Path(path).read_text())
    if not ops:
        raise RuntimeError(f"{path} lists no operators")
    return ops


def kernel_library() -> FrozenSet[str]:
    """The operator names edgetorch's kernel libraries implement: the
    portable table, the quantized one (kernels/quantized/ops.def) and the
    llama:: one (kernels/llm/ops.def), which the runtime's module registers
    by default."""
    p = find_ops_def()
    if p is None:
        raise RuntimeError(
            "cannot find the kernel table ops.def (package data edgetorch/_data/ops.def, "
            "the repository's kernels/portable/ops.def, or $EDGETORCH_OPS_DEF)")
    q = find_quantized_ops_def()
    lm = find_llm_ops_def()
    return (_load(str(p)) | (_load(str(q)) if q is not None else frozenset())
            | (_load(str(lm)) if lm is not None else frozenset()))


def kernel_name(name: str, overload: str) -> str:
    return f"{name}.{overload}" if overload else name


# ---------------------------------------------------------------------------
# Operators that are not torch OpOverloads (edge and prim ops)


@dataclass(frozen=True)
class EdgeOp:
    """An operator known only to the edge dialect (dim_order_ops, prims).

    Used as an fx ``call_function`` target; calling it evaluates the op with
    torch so that fake-tensor propagation and constant folding still work.
    """

    qualified: str          # "dim_order_ops::_to_dim_order_copy"
    overload: str           # as written in the file: "out", "Scalar", "default", ""
    schema_str: str
    impl: Callable[..., Any]

    @property
    def schema(self) -> torch._C.FunctionSchema:
        return _parse_schema(self.schema_str)

    @property
    def kernel(self) -> str:
        return kernel_name(self.qualified, self.overload)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.impl(*args, **kwargs)

    def __repr__(self) -> str:
        return f"{self.qualified}.{self.overload}"

    @property
    def __name__(self) -> str:  # fx codegen wants a name
        return re.sub(r"\W", "_", f"{self.qualified}_{self.overload}")


@functools.lru_cache(maxsize=None)
def _parse_schema(s: str) -> torch._C.FunctionSchema:
    return torch._C.parse_schema(s)


def _dim_order_to_memory_format(dim_order):
    if dim_order is None:
        return torch.preserve_format
    if list(dim_order) == list(range(len(dim_order))):
        return torch.contiguous_format
    if len(dim_order) == 4 and list(dim_order) == [0, 2, 3, 1]:
        return torch.channels_last
    if len(dim_order) == 5 and list(dim_order) == [0, 2, 3, 4, 1]:
        return torch.channels_last_3d
    raise ValueError(f"unsupported dim order {dim_order}")


def _to_dim_order_copy_impl(x, *, dtype=None, layout=None, device=None, pin_memory=None,
                            non_blocking=False, dim_order=None):
    return torch.ops.aten._to_copy.default(
        x, dtype=dtype, layout=layout, device=device, pin_memory=pin_memory,
        non_blocking=non_blocking, memory_format=_dim_order_to_memory_format(dim_order))


def _clone_dim_order_impl(x, *, non_blocking=False, dim_order=None):
    return torch.ops.aten.clone.default(
        x, memory_format=_dim_order_to_memory_format(dim_order))


TO_DIM_ORDER_COPY = EdgeOp(
    "dim_order_ops::_to_dim_order_copy", "",
    "dim_order_ops::_to_dim_order_copy(Tensor self, *, ScalarType? dtype=None, "
    "Layout? layout=None, Device? device=None, bool? pin_memory=None, "
    "bool non_blocking=False, int[]? dim_order=None) -> Tensor",
    _to_dim_order_copy_impl)
TO_DIM_ORDER_COPY_OUT = EdgeOp(
    "dim_order_ops::_to_dim_order_copy", "out",
    "dim_order_ops::_to_dim_order_copy.out(Tensor self, *, bool non_blocking=False, "
    "int[]? dim_order=None, Tensor(a!) out) -> Tensor(a!)", None)
CLONE_DIM_ORDER = EdgeOp(
    "dim_order_ops::_clone_dim_order", "",
    "dim_order_ops::_clone_dim_order(Tensor self, *, bool non_blocking=False, "
    "int[]? dim_order=None) -> Tensor", _clone_dim_order_impl)
CLONE_DIM_ORDER_OUT = EdgeOp(
    "dim_order_ops::_clone_dim_order", "out",
    "dim_order_ops::_clone_dim_order.out(Tensor self, *, bool non_blocking=False, "
    "int[]? dim_order=None, Tensor(a!) out) -> Tensor(a!)", None)

ET_VIEW = EdgeOp("executorch_prim::et_view", "default",
                 "executorch_prim::et_view(Tensor self, int[] size) -> Tensor",
                 lambda x, size: x.view(size))


def _prim(name: str, fn: Callable, nargs: int = 2) -> EdgeOp:
    params = ", ".join(f"Scalar {n}" for n in "abc"[:nargs])
    return EdgeOp(f"executorch_prim::{name}", "Scalar",
                  f"executorch_prim::{name}.Scalar({params}) -> Scalar", fn)


import builtins  # noqa: E402
import math  # noqa: E402
import operator  # noqa: E402

PRIM_OPS = {
    operator.add: _prim("add", operator.add),
    operator.sub: _prim("sub", operator.sub),
    operator.mul: _prim("mul", operator.mul),
    operator.floordiv: _prim("floordiv", operator.floordiv),
    operator.truediv: _prim("truediv", operator.truediv),
    operator.mod: _prim("mod", operator.mod),
    operator.eq: _prim("eq", operator.eq),
    operator.gt: _prim("gt", operator.gt),
    operator.lt: _prim("lt", operator.lt),
    operator.ge: _prim("ge", operator.ge),
    operator.le: _prim("le", operator.le),
    operator.neg: _prim("neg", operator.neg, 1),
    builtins.round: _prim("round", builtins.round, 1),
    math.ceil: _prim("ceil", math.ceil, 1),
    math.trunc: _prim("trunc", math.trunc, 1),
    torch.sym_float: _prim("sym_float", float, 1),
    torch.sym_int: _prim("sym_int", int, 1),
    torch.sym_max: _prim("sym_max", max),
    torch.sym_min: _prim("sym_min", min),
    torch.sym_not: _prim("sym_not", operator.not_, 1),
    torch.sym_ite: _prim("sym_ite", lambda b, t, f: t if b else f, 3),
}

# torch ops that produce symbolic scalars at runtime: they are emitted as-is
# (functional, with a scalar return slot).
SYM_ATEN_OPS = {
    torch.ops.aten.sym_size.int: "aten::sym_size.int",
    torch.ops.aten.sym_numel.default: "aten::sym_numel",
    torch.ops.aten._local_scalar_dense.default: "aten::_local_scalar_dense",
}


# ---------------------------------------------------------------------------
# Out variants


_TENSOR_OPTIONS = {"dtype", "layout", "device", "pin_memory"}


def _arg_sig(a: torch._C.Argument) -> tuple:
    return (a.name, str(a.type))


@functools.lru_cache(maxsize=None)
def out_variant(op: torch._ops.OpOverload) -> Optional[torch._ops.OpOverload]:
    """The ``.out`` overload of a functional ATen op, matched by arguments."""
    schema = op._schema
    if any(a.is_out for a in schema.arguments):
        return op
    ns, _, name = schema.name.partition("::")
    packet = getattr(getattr(torch.ops, ns), name, None)
    if packet is None:
        return None
    want = [_arg_sig(a) for a in schema.arguments]
    # Out variants drop TensorOptions (the out tensor carries them).
    want_no_opts = [w for w, a in zip(want, schema.arguments)
                    if not (a.kwarg_only and a.name in _TENSOR_OPTIONS)]
    nret = len(schema.returns)
    best = None
    for ov in packet.overloads():
        cand = getattr(packet, ov)
        cs = cand._schema
        outs = [a for a in cs.arguments if a.is_out]
        if not outs:
            continue
        ins = [_arg_sig(a) for a in cs.arguments if not a.is_out]
        if ins != want and ins != want_no_opts:
            continue
        if len(outs) != nret:
            continue
        best = cand
        break
    return best


# ---------------------------------------------------------------------------
# quantized_decomposed:: out variants
#
# PyTorch registers only the functional quantized_decomposed ops
# (torch/ao/quantization/fx/_decomposed.py); their out variants are
# upstream ExecuTorch's (kernels/quantized/quantized.yaml), which the
# exporter must not import. The schemas below are those of the yaml, so the
# kernel names and argument lists are the ones upstream's emitter writes.

_QD = "quantized_decomposed::"
_EMB = ("(Tensor weight, Tensor weight_scales, Tensor? weight_zero_points, "
        "int weight_quant_min, int weight_quant_max, Tensor indices")
_QUANTIZED_OUT_SCHEMAS = {
    # (functional name, its overload): out overload, out schema (after the name)
    ("add", ""): ("out", "(Tensor a, float a_scale, int a_zero_point, int a_quant_min, "
                  "int a_quant_max, Tensor b, float b_scale, int b_zero_point, "
                  "int b_quant_min, int b_quant_max, float out_scale, int out_zero_point, "
                  "int out_quant_min, int out_quant_max, *, Tensor(a!) out) -> Tensor(a!)"),
    ("choose_qparams", "tensor"): (
        "Tensor_out", "(Tensor input, int quant_min, int quant_max, float eps, "
        "ScalarType dtype, *, Tensor(a!) scale_out, Tensor(b!) zero_point_out) "
        "-> (Tensor(a!), Tensor(b!))"),
    ("dequantize_per_tensor", ""): (
        "out", "(Tensor input, float scale, int zero_point, int quant_min, int quant_max, "
        "ScalarType dtype, *, ScalarType? out_dtype=None, Tensor(a!) out) -> Tensor(a!)"),
    ("dequantize_per_tensor", "tensor"): (
        "Tensor_out", "(Tensor input, Tensor scale, Tensor zero_point, int quant_min, "
        "int quant_max, ScalarType dtype, *, ScalarType? out_dtype=None, Tensor(a!) out) "
        "-> Tensor(a!)"),
    ("quantize_per_channel", ""): (
        "out", "(Tensor input, Tensor scales, Tensor zero_points, int axis, int quant_min, "
        "int quant_max, ScalarType dtype, *, Tensor(a!) out) -> Tensor(a!)"),
    ("dequantize_per_channel", ""): (
        "out", "(Tensor input, Tensor scales, Tensor? zero_points, int axis, int quant_min, "
        "int quant_max, ScalarType dtype, *, ScalarType? out_dtype=None, Tensor(a!) out) "
        "-> Tensor(a!)"),
    ("embedding_byte", ""): ("out", _EMB + ", *, Tensor(a!) out) -> Tensor(a!)"),
    ("embedding_byte", "dtype"): (
        "dtype_out", _EMB + ", *, ScalarType? dtype=None, Tensor(a!) out) -> Tensor(a!)"),
    ("embedding_2bit", ""): ("out", _EMB + ", *, Tensor(a!) out) -> Tensor(a!)"),
    ("embedding_2bit", "dtype"): (
        "dtype_out", _EMB + ", ScalarType? dtype=None, *, Tensor(a!) out) -> Tensor(a!)"),
    ("embedding_4bit", ""): ("out", _EMB + ", *, Tensor(a!) out) -> Tensor(a!)"),
    ("embedding_4bit", "dtype"): (
        "dtype_out", _EMB + ", ScalarType? dtype=None, *, Tensor(a!) out) -> Tensor(a!)"),
    ("mixed_mm", ""): ("out", "(Tensor input, Tensor weight, Tensor weight_scales, "
                       "Tensor? weight_zero_points, *, Tensor(a!) out) -> Tensor(a!)"),
    ("mixed_linear", ""): ("out", "(Tensor input, Tensor weight, Tensor weight_scales, "
                           "Tensor? weight_zero_points, ScalarType? dtype=None, *, "
                           "Tensor(a!) out) -> Tensor(a!)"),
    ("quantize_per_tensor", ""): (
        "out", "(Tensor input, float scale, int zero_point, int quant_min, int quant_max, "
        "ScalarType dtype, *, Tensor(a!) out) -> Tensor(a!)"),
    ("quantize_per_tensor", "tensor"): (
        "Tensor_out", "(Tensor input, Tensor scale, Tensor zero_point, int quant_min, "
        "int quant_max, ScalarType dtype, *, Tensor(a!) out) -> Tensor(a!)"),
    ("choose_qparams_per_token_asymmetric", ""): (
        "out", "(Tensor input, ScalarType dtype, *, Tensor(a!) scale_out, "
        "Tensor(b!) zero_point_out) -> (Tensor(a!), Tensor(b!))"),
    ("quantize_per_token", ""): (
        "out", "(Tensor input, Tensor scales, Tensor zero_points, int quant_min, "
        "int quant_max, ScalarType dtype, *, Tensor(a!) out) -> Tensor(a!)"),
    ("dequantize_per_token", ""): (
        "out", "(Tensor input, Tensor scales, Tensor zero_points, int quant_min, "
        "int quant_max, ScalarType dtype, ScalarType output_dtype, *, Tensor(a!) out) "
        "-> Tensor(a!)"),
}

QUANTIZED_OUT: Dict[Tuple[str, str], EdgeOp] = {
    (name, ov): EdgeOp(_QD + name, out_ov, f"{_QD}{name}.{out_ov}{rest}", None)
    for (name, ov), (out_ov, rest) in _QUANTIZED_OUT_SCHEMAS.items()
}


# torchao:: affine ops (torchao/quantization/quant_primitives.py), which
# upstream keeps in edge programs (exir.operator.util._QUANT_PRIMITIVES) but
# which have no out variants anywhere: these are the schemas upstream's
# exir.operator.util.gen_out_variant_schema derives from torchao's (the
# names upstream's emitter would write), run by kernels/quantized.
_TA = "torchao::"
_TORCHAO_OUT_SCHEMAS = {
    "quantize_affine": (
        "(Tensor input, SymInt[] block_size, Tensor scale, Tensor? zero_point, "
        "ScalarType output_dtype, Scalar? quant_min=None, Scalar? quant_max=None, *, "
        "Tensor(a!) out) -> Tensor(a!)"),
    "dequantize_affine": (
        "(Tensor input, SymInt[] block_size, Tensor scale, Tensor? zero_point, "
        "ScalarType input_dtype, Scalar? quant_min=None, Scalar? quant_max=None, "
        "ScalarType output_dtype=6, *, Tensor(a!) out) -> Tensor(a!)"),
    "choose_qparams_affine": (
        "(Tensor? input, str mapping_type, SymInt[] block_size, ScalarType target_dtype, "
        "Scalar? quant_min=None, Scalar? quant_max=None, float? eps=None, "
        "ScalarType? scale_dtype=None, ScalarType? zero_point_dtype=None, bool keepdim=False, "
        "*, Tensor(a!) out0, Tensor(b!) out1) -> (Tensor(a!), Tensor(b!))"),
}
TORCHAO_OUT: Dict[str, EdgeOp] = {
    name: EdgeOp(_TA + name, "out", f"{_TA}{name}.out{rest}", None)
    for name, rest in _TORCHAO_OUT_SCHEMAS.items()
}


def torchao_affine_ops() -> list:
    """torchao's affine OpOverloads (``torch.ops.torchao.quantize_affine.default``
    ...) this process has registered (importing torchao registers them)."""
    ns = getattr(torch.ops, "torchao", None)
    ops = []
    for name in _TORCHAO_OUT_SCHEMAS:
        try:
            ops.append(getattr(ns, name).default)
        except (AttributeError, RuntimeError):
            pass
    return ops


def quantized_out_variant(op: Any) -> Optional[EdgeOp]:
    """The out variant (an EdgeOp with upstream's schema) of a functional
    quantized_decomposed op, e.g. ``quantize_per_tensor.default`` ->
    ``quantized_decomposed::quantize_per_tensor.out``, or of torchao's affine
    ops (``torchao::quantize_affine.out`` ...); None for other ops."""
    if not isinstance(op, torch._ops.OpOverload):
        return None
    ns, _, name = op._schema.name.partition("::")
    if ns == "torchao" and op._schema.overload_name == "":
        return TORCHAO_OUT.get(name)
    if ns != "quantized_decomposed":
        return None
    return QUANTIZED_OUT.get((name, op._schema.overload_name))


def schema_kernel_name(schema: torch._C.FunctionSchema) -> str:
    return kernel_name(schema.name, schema.overload_name)


def upstream_portable() -> FrozenSet[str]:
    """Operator names of upstream ExecuTorch's portable kernels + prim ops."""
    from ._upstream_ops import UPSTREAM_PORTABLE
    return UPSTREAM_PORTABLE
