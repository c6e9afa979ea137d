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

Side effects bound the partitions. A node that writes an argument in place
(a schema argument ``Tensor(a!)``: ``llama::update_cache`` on a KV cache, an
``index_put_``) orders the later reads of that storage, and the earlier ones,
by node order alone: no data edge says so. ``side_effects`` finds, for every
storage some node writes (through views too), implicit edges writer -> later
readers, readers -> the next writer, writer -> next writer, and orders the
remaining side-effecting nodes (effectful operators that write nothing they
declare) with each other and with the writers. The partitioner then runs on
a shadow of the graph whose edges are the data edges plus these, so no
partition has a path that leaves it and comes back through them, and the
delegate calls are placed by a topological order over both kinds of edge.
A delegate's inputs are read when it runs and its outputs are fresh
tensors, so writers, other side-effecting nodes and views of a storage
that is written after them never go into one.
"""

from __future__ import annotations

import heapq
import operator
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional, Sequence, Set, Tuple

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
    """``partitioner.is_supported`` on the graph's nodes (or, through
    ``original``, on the nodes a shadow graph stands for), less the nodes
    side effects keep out of delegates."""

    def __init__(self, partitioner: Partitioner, barred: Dict[torch.fx.Node, str],
                 original: Optional[Dict[torch.fx.Node, torch.fx.Node]] = None) -> None:
        self.p = partitioner
        self.barred = barred
        self.original = original

    def is_node_supported(self, submodules: Any, node: torch.fx.Node) -> bool:
        if self.original is not None:
            node = self.original[node]
        if node.op != "call_function" or node in self.barred:
            return False
        return self.p.is_supported(node)


# ---------------------------------------------------------------------------
# side effects


@dataclass
class SideEffects:
    """What node order alone decides in a graph: ``after[n]`` holds the nodes
    that must run before ``n`` although ``n`` reads nothing they compute;
    ``barred[n]`` says why ``n`` may not go into a delegate."""

    after: Dict[torch.fx.Node, Set[torch.fx.Node]] = field(default_factory=dict)
    barred: Dict[torch.fx.Node, str] = field(default_factory=dict)

    def edges(self) -> Iterator[Tuple[torch.fx.Node, torch.fx.Node]]:
        for n, preds in self.after.items():
            for p in preds:
                yield p, n


def _nodes_in(v: Any) -> List[torch.fx.Node]:
    if isinstance(v, torch.fx.Node):
        return [v]
    if isinstance(v, (list, tuple)):
        return [n for x in v for n in _nodes_in(x)]
    return []


def _schema_args(n: torch.fx.Node, schema: Any) -> Iterator[Tuple[Any, Any]]:
    for i, a in enumerate(schema.arguments):
        if i < len(n.args) and not a.kwarg_only:
            yield a, n.args[i]
        elif a.name in n.kwargs:
            yield a, n.kwargs[a.name]


def _alias_sources(n: torch.fx.Node) -> List[torch.fx.Node]:
    """The nodes whose storage ``n``'s result may share: the arguments a
    view or an in-place / out= result aliases (schema alias sets), the
    tuple a ``getitem`` takes apart. Empty for a fresh result."""
    if n.op != "call_function":
        return []
    if n.target is operator.getitem:
        return _nodes_in(n.args[0])
    schema = getattr(n.target, "_schema", None)
    if schema is None:
        return []
    sets: Set[str] = set()
    for r in schema.returns:
        if r.alias_info is not None:
            sets |= set(r.alias_info.before_set)
    if not sets:
        return []
    return [x for a, v in _schema_args(n, schema)
            if a.alias_info is not None and sets & set(a.alias_info.before_set)
            for x in _nodes_in(v)]


def _written_args(n: torch.fx.Node) -> List[torch.fx.Node]:
    """The arguments ``n`` writes in place (schema ``Tensor(a!)``)."""
    schema = getattr(n.target, "_schema", None) if n.op == "call_function" else None
    if schema is None or not schema.is_mutable:
        return []
    return [x for a, v in _schema_args(n, schema)
            if a.alias_info is not None and a.alias_info.is_write for x in _nodes_in(v)]


def _effectful(n: torch.fx.Node) -> bool:
    if n.op not in ("call_function", "call_module", "call_method"):
        return False
    try:
        return n.is_impure(impure_random=False)
    except TypeError:   # older torch: no impure_random
        return n.is_impure()


def side_effects(graph: torch.fx.Graph) -> SideEffects:
    """The implicit edges and the barred nodes of ``graph`` (see the module
    docstring). Edges only point forward in node order, so the graph's own
    order satisfies them."""
    nodes = list(graph.nodes)
    pos = {n: i for i, n in enumerate(nodes)}
    roots: Dict[torch.fx.Node, Set[torch.fx.Node]] = {}
    for n in nodes:
        r: Set[torch.fx.Node] = set()
        for a in _alias_sources(n):
            r |= roots.get(a, {a})
        roots[n] = r or {n}
    writes: Dict[torch.fx.Node, Set[torch.fx.Node]] = {}
    last_write: Dict[torch.fx.Node, int] = {}
    for n in nodes:
        w = {r for a in _written_args(n) for r in roots.get(a, {a})}
        if w:
            writes[n] = w
            for r in w:
                last_write[r] = pos[n]
    fx = SideEffects()
    if not writes and not any(_effectful(n) for n in nodes):
        return fx

    def need(before: Optional[torch.fx.Node], n: torch.fx.Node) -> None:
        if before is not None and before is not n:
            fx.after.setdefault(n, set()).add(before)

    # per written storage: its last writer and the readers since then
    writer: Dict[torch.fx.Node, Optional[torch.fx.Node]] = {r: None for r in last_write}
    readers: Dict[torch.fx.Node, List[torch.fx.Node]] = {r: [] for r in last_write}
    last_opaque: Optional[torch.fx.Node] = None
    since_opaque: List[torch.fx.Node] = []
    for n in nodes:
        if n.op in ("placeholder", "get_attr", "output"):
            continue
        w = writes.get(n, set())
        read = {r for a in n.all_input_nodes for r in roots.get(a, {a}) if r in last_write}
        for r in read - w:
            need(writer[r], n)
            readers[r].append(n)
        for r in w:
            need(writer[r], n)
            for x in readers[r]:
                need(x, n)
            writer[r], readers[r] = n, []
        if w:
            fx.barred[n] = "writes its argument in place (a delegate's inputs are read-only)"
            need(last_opaque, n)
            since_opaque.append(n)
        elif _effectful(n):
            fx.barred[n] = "has a side effect"
            need(last_opaque, n)
            for x in since_opaque:
                need(x, n)
            last_opaque, since_opaque = n, []
        elif roots[n] != {n} and any(pos[n] < last_write.get(r, -1) for r in roots[n]):
            # inside a delegate a view becomes a copy taken when the
            # delegate runs: wrong for a reader after the later write
            fx.barred[n] = "a view of a tensor written in place later"
    return fx


def lower_method(gm: torch.fx.GraphModule, partitioner: Partitioner,
                 first_index: int = 0) -> List[LoweredDelegate]:
    """Replace every subgraph ``partitioner`` takes by a delegate call.
    Returns the delegates, in graph order."""
    from torch.fx.passes.infra.partitioner import CapabilityBasedPartitioner

    partitioner.prepare(gm)
    fx = side_effects(gm.graph)
    why_not = getattr(partitioner, "why_not", None)
    if isinstance(why_not, dict):
        for n, why in fx.barred.items():
            why_not[n.name] = why
    order = {n: i for i, n in enumerate(gm.graph.nodes)}
    if fx.after:
        # the partitioner sees data edges only: give it a shadow graph whose
        # edges are the data edges plus the side effects' implicit ones
        shadow, original = _shadow(gm.graph, fx, order)
        found = CapabilityBasedPartitioner(
            shadow, _Support(partitioner, fx.barred, original),
            allows_single_node_partition=True).propose_partitions()
        found_nodes = [[original[n] for n in p.nodes] for p in found]
    else:
        found = CapabilityBasedPartitioner(gm, _Support(partitioner, fx.barred),
                                           allows_single_node_partition=True).propose_partitions()
        found_nodes = [list(p.nodes) for p in found]
    groups = [sorted(p, key=order.__getitem__) for p in found_nodes]
    groups = [g for g in groups if partitioner.worth_delegating(g)]
    groups.sort(key=lambda g: order[g[0]])
    _check_acyclic(gm.graph, groups, fx)
    lowered = []
    unit: Dict[torch.fx.Node, torch.fx.Node] = {}   # member -> its delegate call
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
        call = _replace(gm, sub, d)
        unit.update((n, call) for n in nodes)
        lowered.append(d)
    if lowered:
        after: Dict[torch.fx.Node, Set[torch.fx.Node]] = {}
        for p, n in fx.edges():
            p, n = unit.get(p, p), unit.get(n, n)
            if p is not n:
                after.setdefault(n, set()).add(p)
        _stable_topological_sort(gm.graph, after)
        gm.graph.eliminate_dead_code()
        gm.graph.lint()
        gm.recompile()
    return lowered


class _ShadowModule:
    """What CapabilityBasedPartitioner reads of a GraphModule."""

    def __init__(self, graph: torch.fx.Graph) -> None:
        self.graph = graph

    def named_modules(self) -> Iterator[Tuple[str, Any]]:
        return iter(())


def _shadow(graph: torch.fx.Graph, fx: SideEffects, order: Dict[torch.fx.Node, int]
            ) -> Tuple[Any, Dict[torch.fx.Node, torch.fx.Node]]:
    """A stand-in graph, node for node in the same order, whose arguments are
    each node's data inputs followed by the nodes ``fx`` says must run
    before it; ``original`` maps its nodes back."""
    g = torch.fx.Graph()
    twin: Dict[torch.fx.Node, torch.fx.Node] = {}
    original: Dict[torch.fx.Node, torch.fx.Node] = {}
    for n in graph.nodes:
        if n.op == "output":
            continue
        deps = [twin[a] for a in n.all_input_nodes]
        deps += [twin[p] for p in sorted(fx.after.get(n, ()), key=order.__getitem__)]
        if n.op == "call_function":
            t = g.create_node("call_function", n.target, tuple(deps), name=n.name)
        else:   # inputs, constants: never delegated, only their edges matter
            t = g.create_node("placeholder", n.name, tuple(deps), name=n.name)
        twin[n], original[t] = t, n
    return _ShadowModule(g), original


def _check_acyclic(graph: torch.fx.Graph, groups: List[List[torch.fx.Node]],
                   fx: SideEffects) -> None:
    """Each group taken as one node, the graph with its data and implicit
    edges must stay acyclic (else no place for some delegate call exists)."""
    unit: Dict[torch.fx.Node, Any] = {}
    for i, g in enumerate(groups):
        for n in g:
            unit[n] = i
    succ: Dict[Any, Set[Any]] = {}
    indeg: Dict[Any, int] = {}
    for n in graph.nodes:
        indeg.setdefault(unit.get(n, n), 0)
    edges = [(a, n) for n in graph.nodes for a in n.all_input_nodes] + list(fx.edges())
    for a, b in edges:
        ua, ub = unit.get(a, a), unit.get(b, b)
        if ua != ub and ub not in succ.setdefault(ua, set()):
            succ[ua].add(ub)
            indeg[ub] += 1
    ready = [u for u, d in indeg.items() if d == 0]
    seen = 0
    while ready:
        u = ready.pop()
        seen += 1
        for v in succ.get(u, ()):
            indeg[v] -= 1
            if indeg[v] == 0:
                ready.append(v)
    if seen != len(indeg):
        stuck = sorted({u for u, d in indeg.items() if d > 0 and isinstance(u, int)})
        names = "; ".join(", ".join(n.name for n in groups[i][:6]) for i in stuck)
        raise ExportError(f"delegation: partition(s) [{names}] would need to run both before "
                          "and after another node (internal error)")


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


def _replace(gm: torch.fx.GraphModule, sub: Subgraph, lowered: LoweredDelegate
             ) -> torch.fx.Node:
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
    return call


def _contiguous(v: Any) -> Any:
    if isinstance(v, torch.Tensor) and not v.is_contiguous():
        return v.contiguous()
    return v


def _stable_topological_sort(graph: torch.fx.Graph,
                             after: Optional[Dict[torch.fx.Node, Set[torch.fx.Node]]] = None
                             ) -> None:
    """Order nodes so that every node follows its inputs and the nodes
    ``after`` names for it, keeping the original order where dependencies
    allow; nodes are moved in place (their identities, which the method's
    tables refer to, do not change)."""
    after = after or {}
    nodes = list(graph.nodes)
    pos = {n: i for i, n in enumerate(nodes)}
    preds = {n: set(n.all_input_nodes) | after.get(n, set()) for n in nodes}
    succs: Dict[torch.fx.Node, List[torch.fx.Node]] = {n: [] for n in nodes}
    for n, ps in preds.items():
        for p in ps:
            succs[p].append(n)
    indeg = {n: len(ps) for n, ps in preds.items()}
    ready = [(pos[n], n.name, n) for n in nodes if indeg[n] == 0]
    heapq.heapify(ready)
    out: List[torch.fx.Node] = []
    while ready:
        _, _, n = heapq.heappop(ready)
        out.append(n)
        for u in succs[n]:
            indeg[u] -= 1
            if indeg[u] == 0:
                heapq.heappush(ready, (pos[u], u.name, u))
    if len(out) != len(nodes):
        left = [n.name for n in nodes if indeg[n] > 0][:8]
        raise ExportError(f"delegation left a cycle in the graph at {left} (internal error)")
    if out == nodes:
        return
    prev = out[0]
    if prev is not nodes[0]:
        nodes[0].prepend(prev)
    for n in out[1:]:
        prev.append(n)
        prev = n
