"""Which kernels take channels-last tensors, and the export-time check.

With ``ExportConfig(preserve_channels_last=True)`` a 4-D (5-D) tensor that
torch lays out channels-last keeps the dim order 0, 2, 3, 1 (0, 2, 3, 4, 1)
in the program. The portable kernels index through strides, so almost all of
them take such tensors (convolution, pooling, batch norm, the elementwise
family, copies, reductions, ...: see tests/python/test_channels_last.py and
tests/c/test_kernels_layout.c). The operators below are the exceptions:
their kernels accept only the contiguous dim order (each calls
``et_k_check_contiguous`` or ``et_matmul_check``;
tests/python/test_channels_last.py checks this list against the kernel
sources). A program that would hand one of them a channels-last tensor is
refused at export, naming the node and the operator, instead of being
written into a program the runtime rejects.
"""

from __future__ import annotations

from typing import List, Tuple

import torch
import torch.fx

from .errors import ExportError, source_location

CONTIGUOUS_ONLY = frozenset({
    "aten::_native_batch_norm_legit.no_stats_out",
    "aten::_native_batch_norm_legit.out",
    "aten::addmm.out",
    "aten::bmm.out",
    "aten::convolution_backward.out",
    "aten::embedding.out",
    "aten::max_pool2d_with_indices_backward.grad_input",
    "aten::mm.out",
    "aten::native_group_norm.out",
    "aten::native_layer_norm.out",
    "executorch_prim::et_copy_index.tensor",
    "executorch_prim::et_view.default",
})


class ChannelsLastError(ExportError):
    """A channels-last tensor reaches a kernel that takes only contiguous ones."""

    def __init__(self, problems: List[Tuple[str, str, str, str]]) -> None:
        # problems: (node name, operator, tensor description, source location)
        self.nodes = [p[0] for p in problems]
        self.operators = sorted({p[1] for p in problems})
        lines = [f"{len(problems)} node(s) would pass a channels-last tensor to a kernel that "
                 "takes only the contiguous dim order:"]
        for name, op, what, loc in problems:
            lines.append(f"  node {name}: {op} ({what})")
            lines.append(f"      at {loc}")
        lines.append("Export with ExportConfig(preserve_channels_last=False) (every tensor "
                     "contiguous), or make the tensor contiguous before this operator "
                     "(x.contiguous()).")
        super().__init__("\n".join(lines))


def _is_channels_last(order) -> bool:
    return list(order) != list(range(len(order)))


def check_channels_last(gm: torch.fx.GraphModule, dim_order_of) -> None:
    """Raise ChannelsLastError if a node whose kernel is in CONTIGUOUS_ONLY
    reads or writes a tensor that the program would lay out channels-last.

    ``dim_order_of(t)`` is the dim order the emitter gives tensor value t.
    Call after kernel selection (meta["et_kernel"])."""
    from .passes import subgraphs

    problems = []
    for sub in subgraphs(gm):
        for n in sub.graph.nodes:
            if n.op != "call_function":
                continue
            k = n.meta.get("et_kernel")
            name = k.name if k is not None else None
            if n.meta.get("et_alias"):
                name = "executorch_prim::et_view.default"
            if name not in CONTIGUOUS_ONLY:
                continue
            found = None
            for a in n.all_input_nodes:
                for v in torch.utils._pytree.tree_leaves(a.meta.get("val")):
                    if isinstance(v, torch.Tensor) and _is_channels_last(dim_order_of(v)):
                        found = f"input {a.name} of shape {list(v.shape)} is channels-last"
                        break
                if found:
                    break
            if not found:
                for v in torch.utils._pytree.tree_leaves(n.meta.get("val")):
                    if isinstance(v, torch.Tensor) and _is_channels_last(dim_order_of(v)):
                        found = f"its output of shape {list(v.shape)} is channels-last"
                        break
            if found:
                problems.append((n.name, name, found, source_location(n)))
    if problems:
        raise ChannelsLastError(problems)
