"""The decomposition table ``to_edge`` applies: torch's core-ATen table, with
changes where a decomposition would not compute what eager PyTorch computes.

PyTorch eager is the reference for every program's values.  torch's core-ATen
decompositions are written for compilers and sometimes compute differently
from eager's kernel (in float where eager rounds every step to Half, or
without eager's conversions of Scalar arguments).  For those operators:

* when the kernel library implements the operator and its kernel follows
  eager, the operator stays whole (``KERNEL_OVER_DECOMPOSITION``);
* otherwise the table gets a decomposition here that does eager's arithmetic
  step by step (``EAGER_DECOMPOSITIONS``).
"""

from __future__ import annotations

import math
from typing import Any, Callable, Dict, FrozenSet, Optional

import torch

from . import oplib

aten = torch.ops.aten

# Core-ATen decompositions that compute Half/BFloat16 differently from eager's
# kernel, kept whole when the library has the operator's out variant.
# aten.logit: the decomposition computes in float and rounds once; eager's
# CPU kernel rounds eps, 1 - eps, 1 - x, x / (1 - x) and the log to the
# dtype, as kernels/portable/op_logit.c does.
KERNEL_OVER_DECOMPOSITION = (aten.logit.default,)


def _soft_margin_loss(input: torch.Tensor, target: torch.Tensor,
                      reduction: int = 1) -> torch.Tensor:
    """Eager's soft_margin_loss: ``neg_out(out, input).mul_(target).exp_().log1p_()``
    in the input's dtype, then mean or sum.

    torch's decomposition computes Half/BFloat16 in float, so exp(-x*y) that
    overflows Half in eager (giving inf) stays finite there.  mul_ writes
    into the input's dtype whatever the target's dtype.
    """
    loss = aten.mul.Tensor(aten.neg.default(input), target)
    if loss.dtype != input.dtype:
        loss = aten._to_copy.default(loss, dtype=input.dtype)
    loss = aten.log1p.default(aten.exp.default(loss))
    if reduction == 1:
        return aten.mean.default(loss)
    if reduction == 2:
        return aten.sum.default(loss)
    return loss


_INTEGRAL = (torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)


def _to_integral(v: Any, dtype: torch.dtype) -> int:
    """A Scalar as eager's ``Scalar::to<scalar_t>()`` gives it to an integer
    kernel: a float truncated toward zero, an int wrapped to the dtype."""
    if isinstance(v, float):
        v = math.trunc(v)
    info = torch.iinfo(dtype)
    span = info.max - info.min + 1
    return (int(v) - info.min) % span + info.min


def _linspace_integral(start: int, end: int, steps: int, dtype: torch.dtype,
                       device: Any) -> torch.Tensor:
    """Eager's CPU linspace kernel for an integer dtype: start and end in the
    dtype, the step in double, the first steps // 2 values counted from
    start and the rest back from end, each truncated to the dtype."""
    step = (float(end) - float(start)) / (steps - 1)
    idx = aten.arange.default(steps, dtype=torch.float64, device=device)
    up = aten.add.Tensor(aten.mul.Tensor(idx, step), float(start))
    # end - step * (steps - 1 - idx); the negations are exact
    left = aten.neg.default(aten.sub.Tensor(idx, steps - 1))
    back = aten.add.Tensor(aten.neg.default(aten.mul.Tensor(left, step)), float(end))
    out = aten.where.self(aten.lt.Scalar(idx, steps // 2), up, back)
    return aten._to_copy.default(out, dtype=dtype)


def _make_linspace(default: Callable[..., Any]) -> Callable[..., Any]:
    def linspace(start: Any, end: Any, steps: int, *, dtype: Optional[torch.dtype] = None,
                 layout: Any = torch.strided, device: Any = None, pin_memory: bool = False
                 ) -> torch.Tensor:
        """torch's decomposition computes an integer linspace from the
        unconverted (float) start and end in float32; eager converts start
        and end to the dtype first and steps in double."""
        plain = all(isinstance(v, (int, float)) and not isinstance(v, bool)
                    for v in (start, end)) and isinstance(steps, int)
        if dtype in _INTEGRAL and plain and steps >= 2:
            return _linspace_integral(_to_integral(start, dtype), _to_integral(end, dtype),
                                      steps, dtype, device)
        return default(start, end, steps, dtype=dtype, layout=layout, device=device,
                       pin_memory=pin_memory)
    return linspace


def _has_kernel(op: torch._ops.OpOverload, library: FrozenSet[str]) -> bool:
    out = oplib.out_variant(op)
    return out is not None and oplib.schema_kernel_name(out._schema) in library


def decomposition_table(library: Optional[FrozenSet[str]] = None) -> Dict[Any, Any]:
    """The table for ``ExportedProgram.run_decompositions``, for a kernel
    library (operator names as in ops.def; None: kernels/portable/ops.def)."""
    from torch._decomp import core_aten_decompositions

    if library is None:
        library = oplib.kernel_library()
    table = dict(core_aten_decompositions())
    for op in KERNEL_OVER_DECOMPOSITION:
        if _has_kernel(op, library):
            table.pop(op, None)
    # torchao's affine ops are CompositeImplicitAutograd (decomposed by
    # default); upstream keeps them in edge programs: so does edgetorch when
    # the library has their kernels (kernels/quantized).
    for op in oplib.torchao_affine_ops():
        out = oplib.quantized_out_variant(op)
        if out is not None and out.kernel in library:
            table.pop(op, None)
    table[aten.soft_margin_loss.default] = _soft_margin_loss
    if aten.linspace.default in table:
        table[aten.linspace.default] = _make_linspace(table[aten.linspace.default])
    return table
