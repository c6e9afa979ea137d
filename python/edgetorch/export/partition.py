"""Delegation: subgraphs of an edge graph handed to a backend.

A partitioner (``XnnpackPartitioner`` in ``export/xnnpack.py``) says which
nodes its backend runs (``is_supported``) and turns one connected subgraph
into the backend's processed bytes (``preprocess``).  ``lower_method`` finds
the subgraphs with torch's ``CapabilityBasedPartitioner`` (maximal groups of
supported nodes that merge only where no path leaves the group and comes
back, so the graph stays acyclic), asks the partitioner for each payload and
replaces the subgraph by one call node whose target is a ``LoweredDelegate``
and whose value is the tuple of the subgraph's outputs (``getitem`` nodes
take them apart).  The emitter writes that node as a ``DelegateCall`` with
the inputs, then the outputs, as its arguments, and a ``BackendDelegate``
naming the backend and its payload.
"""

from __future__ import annotations

import heapq
import operator
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
import torch.fx

from .errors import ExportError


class LoweredDelegate:
    """The fx call target standing for a delegated subgraph.

    ``processed`` is the backend's payload; ``named_data`` the constants it
    reads from the program's named data (key -> (bytes, alignment));
    ``ops`` names the operators it replaced (reports)."""

    def __init__(self, backend_id: str, processed: bytes, index: int, *,
                 named_data: Optional[Dict[str, Tuple[bytes, int]]] = None,
                 compile_specs: Sequence[Tuple[str, bytes]] = (),
                 ops: Sequence[str] = ()) -> None:
        self.backend_id = backend_id
        self.processed = bytes(processed)
        self.named_data = dict(named_data or {})
        self.compile_specs = list(compile_specs)
        self.ops = list(ops)
        self.__name__ = f"{backend_id}_delegate_{index}"

    def __call__(self, *args: Any) -> Any:
        raise ExportError(f"{self.__name__} runs only in the exported program "
                          f"(backend {self.backend_id})")

    def __repr__(self) -> str:
        return f"<{self.__name__}: {len(self.ops)} ops, {len(self.processed)} bytes>"


@dataclass
class Subgraph:
    """One partition, ready for a backend: ``nodes`` in graph order, the
    outside ``inputs`` it reads (activations only: constants are the
    backend's to embed) and the ``outputs`` read outside it."""

    nodes: List[torch.fx.Node]
    inputs: List[torch.fx.Node]
    outputs: List[torch.fx.Node]


@dataclass
class Preprocessed:
    processed: bytes
    named_data: Dict[str, Tuple[bytes, int]] = field(default_factory=dict)
    compile_specs: List[Tuple[str, bytes]] = field(default_factory=list)


class Partitioner:
    """Base of edgetorch's partitioners (upstream's ``Partitioner`` role)."""

    backend_id = ""

    def prepare(self, gm: torch.fx.GraphModule) -> None:
        """Graph rewrites wanted before partitioning (fusions)."""

    def is_supported(self, node: torch.fx.Node) -> bool:
        raise NotImplementedError

    def is_constant(self, node: Any) -> bool:
        """Whether a node is a constant the backend embeds (not an input)."""
        return False

    def worth_delegating(self, nodes: Sequence[torch.fx.Node]) -> bool:
        return True

    def preprocess(self, sub: Subgraph) -> Preprocessed:
        raise NotImplementedError


class _Support(torch.fx.passes.operator_support.OperatorSupportBase):
    def __init__(self, partitioner: Partitioner) -> None:
        self.p = partitioner

    def is_node_supported(self, submodules: Any, node: torch.fx.Node) -> bool:
        return node.op == "call_function" and self.p.is_supported(node)


def lower_method(gm: torch.fx.GraphModule, partitioner: Partitioner,
                 first_index: int = 0) -> List[LoweredDelegate]:
    """Replace every subgraph ``partitioner`` takes by a delegate call.
    Returns the delegates, in graph order."""
    from torch.fx.passes.infra.partitioner import CapabilityBasedPartitioner

    partitioner.prepare(gm)
    found = CapabilityBasedPartitioner(gm, _Support(partitioner),
                                       allows_single_node_partition=True).propose_partitions()
    order = {n: i for i, n in enumerate(gm.graph.nodes)}
    groups = [sorted(p.nodes, key=order.__getitem__) for p in found]
    groups = [g for g in groups if partitioner.worth_delegating(g)]
    groups.sort(key=lambda g: order[g[0]])
    lowered = []
    for nodes in groups:
        sub = _subgraph(nodes, partitioner, order)
        try:
            result = partitioner.preprocess(sub)
        except ExportError:
            raise
        except Exception as e:  # a backend's bug must name what it was lowering
            names = ", ".join(f"{n.name} ({_op_name(n)})" for n in nodes[:8])
            raise ExportError(f"{partitioner.backend_id}: lowering the subgraph of "
                              f"{len(nodes)} nodes [{names}{', ...' if len(nodes) > 8 else ''}] "
                              f"failed: {type(e).__name__}: {e}") from e
        d = LoweredDelegate(partitioner.backend_id, result.processed,
                            first_index + len(lowered), named_data=result.named_data,
                            compile_specs=result.compile_specs,
                            ops=[_op_name(n) for n in nodes if n.target is not operator.getitem])
        _replace(gm, sub, d)
        lowered.append(d)
    if lowered:
        _stable_topological_sort(gm.graph)
        gm.graph.eliminate_dead_code()
        gm.graph.lint()
        gm.recompile()
    return lowered


def _op_name(n: torch.fx.Node) -> str:
    s = getattr(n.target, "_schema", None)
    if s is not None:
        return s.name + (f".{s.overload_name}" if s.overload_name else "")
    return getattr(n.target, "__name__", str(n.target))


def _subgraph(nodes: List[torch.fx.Node], partitioner: Partitioner,
              order: Dict[torch.fx.Node, int]) -> Subgraph:
    inside = set(nodes)
    inputs: List[torch.fx.Node] = []
    outputs: List[torch.fx.Node] = []
    for n in nodes:
        for a in n.all_input_nodes:
            # Only tensors cross into a delegate: a symbolic size read by a
            # reshape is the backend's to infer at run time.
            if a not in inside and a not in inputs and not partitioner.is_constant(a) \
                    and isinstance(a.meta.get("val"), torch.Tensor):
                inputs.append(a)
        if any(u not in inside for u in n.users):
            if isinstance(n.meta.get("val"), (tuple, list)):
                raise ExportError(f"{n.name}: a multi-output node cannot be a delegate output")
            outputs.append(n)
    return Subgraph(nodes=nodes, inputs=inputs, outputs=outputs)


def _replace(gm: torch.fx.GraphModule, sub: Subgraph, lowered: LoweredDelegate) -> None:
    graph = gm.graph
    with graph.inserting_before(sub.nodes[0]):
        call = graph.call_function(lowered, tuple(sub.inputs))
    call.meta["val"] = tuple(_contiguous(o.meta["val"]) for o in sub.outputs)
    call.meta["et_delegate_ops"] = list(lowered.ops)
    if sub.nodes[0].meta.get("stack_trace"):
        call.meta["stack_trace"] = sub.nodes[0].meta["stack_trace"]
    anchor = call
    inside = set(sub.nodes)
    for i, o in enumerate(sub.outputs):
        with graph.inserting_after(anchor):
            item = graph.call_function(operator.getitem, (call, i))
        anchor = item
        item.meta = {k: v for k, v in o.meta.items() if k not in ("et_kernel", "et_alias")}
        item.meta["val"] = call.meta["val"][i]
        o.replace_all_uses_with(item, delete_user_cb=lambda u: u not in inside)
    for n in reversed(sub.nodes):
        graph.erase_node(n)


def _contiguous(v: Any) -> Any:
    if isinstance(v, torch.Tensor) and not v.is_contiguous():
        return v.contiguous()
    return v


def _stable_topological_sort(graph: torch.fx.Graph) -> None:
    """Order nodes so that every node follows its inputs, keeping the
    original order where dependencies allow; nodes are moved in place (their
    identities, which the method's tables refer to, do not change)."""
    nodes = list(graph.nodes)
    pos = {n: i for i, n in enumerate(nodes)}
    indeg = {n: len(set(n.all_input_nodes)) for n in nodes}
    ready = [(pos[n], n.name, n) for n in nodes if indeg[n] == 0]
    heapq.heapify(ready)
    out: List[torch.fx.Node] = []
    while ready:
        _, _, n = heapq.heappop(ready)
        out.append(n)
        for u in n.users:
            indeg[u] -= 1
            if indeg[u] == 0:
                heapq.heappush(ready, (pos[u], u.name, u))
    if len(out) != len(nodes):
        raise ExportError("delegation left a cycle in the graph (internal error)")
    if out == nodes:
        return
    prev = out[0]
    if prev is not nodes[0]:
        nodes[0].prepend(prev)
    for n in out[1:]:
        prev.append(n)
        prev = n
