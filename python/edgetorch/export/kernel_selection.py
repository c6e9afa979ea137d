"""Kernel selection: which kernel of the library each edge-graph operator calls.

Runs after the executorch passes (``passes.executorch_passes``): every
``call_function`` node gets ``meta["et_kernel"]``, the out variant (or the
functional prim/sym kernel) named as in the kernel library (``oplib``), and
every operator the library lacks is reported at once, with the user's source
line.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Any, Optional, Tuple

import torch
import torch.fx

from . import oplib
from .errors import collect
from .partition import LoweredDelegate
from .passes import subgraphs


@dataclass
class Kernel:
    name: str                      # "aten::add.out"
    schema: torch._C.FunctionSchema
    out: bool                      # out variant (outs are planned tensors)
    source: Optional[torch._C.FunctionSchema] = None  # the graph node's schema
    inplace: bool = False          # writes argument 0 and returns it


# In-place operators a pass may put in the graph (passes.reinplace_buffer_updates);
# their result is argument 0's value.
INPLACE_KERNELS = {torch.ops.aten.index_put_.default: "aten::index_put_"}


def kernel_for(target: Any) -> Tuple[Optional[Kernel], str]:
    """The kernel to call for an fx target, or (None, reason)."""
    if isinstance(target, oplib.EdgeOp):
        if target is oplib.TO_DIM_ORDER_COPY:
            t = oplib.TO_DIM_ORDER_COPY_OUT
            return Kernel(t.kernel, t.schema, True, target.schema), ""
        if target is oplib.CLONE_DIM_ORDER:
            t = oplib.CLONE_DIM_ORDER_OUT
            return Kernel(t.kernel, t.schema, True, target.schema), ""
        return Kernel(target.kernel, target.schema, False, target.schema), ""
    if target in oplib.PRIM_OPS:
        p = oplib.PRIM_OPS[target]
        return Kernel(p.kernel, p.schema, False, p.schema), ""
    if target in oplib.SYM_ATEN_OPS:
        return Kernel(oplib.SYM_ATEN_OPS[target], target._schema, False,
                      target._schema), ""
    q = oplib.quantized_out_variant(target)
    if q is not None:  # upstream's out variant, not a torch op (oplib)
        return Kernel(q.kernel, q.schema, True, target._schema), ""
    if target in INPLACE_KERNELS:
        return Kernel(INPLACE_KERNELS[target], target._schema, False, target._schema,
                      inplace=True), ""
    if isinstance(target, torch._ops.OpOverload):
        if (target._schema.is_mutable and not any(a.is_out for a in target._schema.arguments)
                and target.namespace == "aten"):
            return None, "in-place op"
        # A custom op writing an argument (llama::update_cache's cache, put
        # back in place by passes.remove_auto_functionalized) calls its .out
        # overload, which writes the same argument.
        out = oplib.out_variant(target)
        if out is None:
            return None, "no out variant"
        return Kernel(oplib.schema_kernel_name(out._schema), out._schema, True,
                      target._schema), ""
    return None, "not an operator"


def display_name(target: Any) -> str:
    if isinstance(target, torch._ops.OpOverload):
        s = target._schema
        return oplib.kernel_name(s.name, s.overload_name)
    if isinstance(target, oplib.EdgeOp):
        return target.kernel
    return getattr(target, "__name__", str(target))


def select_kernels(gm: torch.fx.GraphModule, library: frozenset) -> None:
    """Set meta["et_kernel"] on every op node; raise naming every op the
    kernel library lacks (with the user's source line)."""
    problems = []
    for sub in subgraphs(gm):
        for n in sub.graph.nodes:
            if n.op != "call_function":
                continue
            if n.target is operator.getitem or n.meta.get("et_alias"):
                continue
            if n.target is torch.ops.higher_order.cond or isinstance(n.target, LoweredDelegate):
                continue  # a delegate runs in its backend, not on a kernel
            if isinstance(n.target, torch._ops.HigherOrderOperator):
                problems.append((str(n.target.name()), "control flow not supported", n))
                continue
            k, why = kernel_for(n.target)
            if k is None:
                problems.append((display_name(n.target), why, n))
                continue
            if k.name not in library:
                shown = k.name
                if shown != display_name(n.target):
                    shown = f"{display_name(n.target)} -> {k.name}"
                problems.append((shown, "", n))
                continue
            n.meta["et_kernel"] = k
    collect(problems, _library_name(library) if problems else None)


def _library_name(library: Any) -> str:
    """Which kernel library an operator set is, for error messages."""
    try:
        # Checked first: edgetorch's library may hold the same operators.
        if frozenset(library) == oplib.kernel_library():
            return ("the edgetorch kernel library (kernels/portable/ops.def and "
                    "kernels/quantized/ops.def)")
        if frozenset(library) == oplib.upstream_portable():
            return ("upstream ExecuTorch's portable kernels (the --target upstream / "
                    "oplib.upstream_portable() list)")
    except Exception:  # noqa: BLE001 - only naming the library is at stake
        pass
    return "the kernel library given in ExportConfig.operators"
