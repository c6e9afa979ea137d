"""Numeric debugging: which operator's output first drifts from eager.

``compare(model, example_args, program)`` runs the program on the C runtime
with every operator's outputs captured (the ETDump recorder's debug buffer),
maps each instruction back to the graph node it was emitted from (the
program's debug handles: ``PteProgram.instruction_nodes``), runs the same
decomposed graph in eager PyTorch capturing every node's output, and reports
per operator the max absolute and relative error and the first operator
whose error exceeds the tolerance.

Delegated programs (upstream-lowered XNNPACK programs run on the CPU
backend) are compared at delegate-node granularity: ``compare(model, args,
pte_bytes, etrecord=...)`` captures each backend node's output (reported
through the tracer's backend_output, ETDump debug events with the node's
delegate_debug_id_int), maps the node's debug handle to the ETRecord's edge
graph node and compares against eager there (``delegate_references``:
activations the lowering fused into their producer move the reference to
the fused node; channels-last values are compared transposed back).
"""

from __future__ import annotations

import operator
import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

# et_dtype codes (upstream's ScalarType) -> numpy.
_NP_DTYPE = {0: np.uint8, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.int64,
             5: np.float16, 6: np.float32, 7: np.float64, 11: np.bool_,
             22: np.uint16, 27: np.uint16}
_TAG_TENSOR = 1


@dataclass
class OpError:
    instruction: int
    operator: str          # runtime kernel name
    node: str              # graph node name (the debug handle)
    max_abs: float
    max_rel: float
    within_tolerance: bool


@dataclass
class NodeError:
    """A delegate node's error (a row of Comparison.delegate_rows)."""

    instruction: int       # the DelegateCall instruction
    handle: int            # the node's debug handle (delegate_debug_id)
    kind: str              # the node's type ("Conv2d"), or "?"
    node: str              # the graph node its output is compared with
    max_abs: float
    max_rel: float
    within_tolerance: bool
    layout: str = ""       # "NHWC" when compared transposed back to NCHW


@dataclass
class Comparison:
    method: str
    rows: List[OpError] = field(default_factory=list)
    unmatched: List[int] = field(default_factory=list)  # instructions without a node
    # Delegate nodes, in execution order (upstream-lowered XNNPACK programs).
    delegate_rows: List[NodeError] = field(default_factory=list)

    @property
    def first_divergent(self) -> Optional[Any]:
        """The first row out of tolerance in execution order (kernel rows and
        delegate-node rows interleaved by instruction)."""
        for r in self._ordered():
            if not r.within_tolerance:
                return r
        return None

    def _ordered(self) -> List[Any]:
        rows: List[Tuple[int, int, Any]] = [(r.instruction, k, r) for k, r in enumerate(self.rows)]
        rows += [(r.instruction, k, r) for k, r in enumerate(self.delegate_rows)]
        return [r for _, _, r in sorted(rows, key=lambda t: (t[0], t[1]))]

    def table(self) -> str:
        w = max([8] + [len(r.operator) for r in self.rows]
                + [len(f"{r.kind} (handle {r.handle})") for r in self.delegate_rows])
        n = max([4] + [len(r.node) for r in self.rows + self.delegate_rows])
        lines = [f"{'instr':>5}  {'operator':<{w}}  {'node':<{n}}  {'max abs':>10}  "
                 f"{'max rel':>10}"]
        first = self.first_divergent
        for r in self._ordered():
            mark = "  <-- first divergence" if r is first else ("  !" if not r.within_tolerance else "")
            op = f"{r.kind} (handle {r.handle})" if isinstance(r, NodeError) else r.operator
            lines.append(f"{r.instruction:>5}  {op:<{w}}  {r.node:<{n}}  "
                         f"{r.max_abs:>10.3g}  {r.max_rel:>10.3g}{mark}")
        if first is None:
            lines.append("every operator is within tolerance")
        elif isinstance(first, NodeError):
            lines.append(f"first divergence: instruction {first.instruction} delegate node "
                         f"{first.kind} (handle {first.handle}, node {first.node})")
        else:
            lines.append(f"first divergence: instruction {first.instruction} "
                         f"{first.operator} (node {first.node})")
        return "\n".join(lines)


def runtime_intermediates(program: Any, args: Sequence[Any], method: str = "forward",
                          runtime_program: Any = None) -> Dict[int, List[np.ndarray]]:
    """Instruction index (chain 0) -> captured output arrays of one run."""
    from edgetorch.runtime import load_program

    buf = program.buffer if hasattr(program, "buffer") else program
    prog = runtime_program if runtime_program is not None else load_program(buf)
    m = prog.load_method(method, debug_buffer=True)
    m.execute([_to_numpy(a) for a in args])
    _, dbg = m.etdump_bytes()
    out: Dict[int, List[np.ndarray]] = {}
    for v in m.debug_values():
        run, chain, instr, tag, dtype, sizes, offset, _scalar, did = v[:9]
        dname = v[9] if len(v) > 9 else None
        # A backend node's output (by id, or by name alone) is not the
        # instruction's.
        if instr < 0 or did >= 0 or dname or tag != _TAG_TENSOR or dtype not in _NP_DTYPE:
            continue
        npd = np.dtype(_NP_DTYPE[dtype])
        n = int(np.prod(sizes)) if sizes else 1
        if offset < 0 or n == 0:
            a = np.zeros(sizes, npd)
        else:
            a = np.frombuffer(dbg, dtype=npd, count=n, offset=offset).reshape(sizes).copy()
        out.setdefault(instr, []).append(a)
    return out


def runtime_delegate_outputs(program: Any, args: Sequence[Any], method: str = "forward"
                             ) -> List[Tuple[int, int, str, np.ndarray]]:
    """(instruction, debug handle, node type, output) of every backend node
    of one run, in execution order: the outputs the CPU backend reports
    through the tracer's backend_output (its dims are the delegate graph's:
    NHWC where upstream's lowering made a value channels-last)."""
    from edgetorch.runtime import load_program

    buf = program.buffer if hasattr(program, "buffer") else program
    m = load_program(bytes(buf)).load_method(method, debug_buffer=True)
    m.execute([_to_numpy(a) for a in args])
    _, dbg = m.etdump_bytes()
    kinds: Dict[int, List[str]] = {}
    for ev in m.profile_events():
        _run, _block, _name, dname, _chain, instr, did = ev[:7]
        if did >= 0 and dname:
            kinds.setdefault(instr, []).append(dname)
    out: List[Tuple[int, int, str, np.ndarray]] = []
    seen: Dict[int, int] = {}
    for v in m.debug_values():
        _run, _chain, instr, tag, dtype, sizes, offset, _s, did = v[:9]
        if did < 0 or tag != _TAG_TENSOR or dtype not in _NP_DTYPE:
            continue
        npd = np.dtype(_NP_DTYPE[dtype])
        n = int(np.prod(sizes)) if sizes else 1
        a = (np.zeros(sizes, npd) if offset < 0 or n == 0 else
             np.frombuffer(dbg, dtype=npd, count=n, offset=offset).reshape(sizes).copy())
        k = seen.get(instr, 0)
        seen[instr] = k + 1
        names = kinds.get(instr, [])
        out.append((instr, did, names[k] if k < len(names) else "?", a))
    return out


def delegate_references(ep: Any, delegate_handles: Sequence[int],
                        node_handles: Sequence[int]) -> Dict[int, str]:
    """For each debug handle a delegate's nodes carry, the edge-graph node
    whose eager output the last node with that handle computes.

    ``delegate_handles``: the handles of the graph nodes the delegate call
    replaced (an ETRecord's debug_handle_map entry for the call);
    ``node_handles``: those its nodes carry (XNode.debug_handle). A graph
    node of the delegate whose handle no node carries was fused into its
    producer (upstream's XNNPACK lowering folds ReLU, clamps and batch norm
    into the node before them as an output clamp or into its weights), so
    the producer's output is the fused node's: the reference follows such
    single-user chains to their end. Graph nodes that share a handle (a
    matmul's expands and views) are one value: the last one's."""
    carried = set(node_handles)
    absent = set(delegate_handles) - carried
    by_handle: Dict[int, Any] = {}
    for n in ep.graph.nodes:
        h = n.meta.get("debug_handle") if n.op == "call_function" else None
        if isinstance(h, int):
            by_handle[h] = n  # nodes sharing a handle: the last one's value
    out: Dict[int, str] = {}
    for h in carried:
        node = by_handle.get(h)
        if node is None:
            continue
        while True:
            # Users whose value is used (batch norm's unused outputs are not).
            live = [u for u in node.users if u.users]
            if len(live) != 1:
                break
            (u,) = live
            uh = u.meta.get("debug_handle") if u.op == "call_function" else None
            if not u.args or u.args[0] is not node:
                break
            # A tuple result's element (batch norm's output) is the value.
            if not (u.target is operator.getitem or uh in absent):
                break
            node = u
        out[h] = node.name
    return out


def to_reference_layout(got: np.ndarray, ref_shape: Tuple[int, ...]) -> Tuple[np.ndarray, str]:
    """A delegate node's output in the reference's layout: NHWC values
    transposed back to NCHW when only that reading fits the reference's
    shape (a value whose NCHW and NHWC shapes agree, C == H == W, is read as
    it is)."""
    if tuple(got.shape) == tuple(ref_shape):
        return got, ""
    if got.ndim == 4 and len(ref_shape) == 4:
        n, c, h, w = ref_shape
        if tuple(got.shape) == (n, h, w, c):
            return np.ascontiguousarray(got.transpose(0, 3, 1, 2)), "NHWC"
    return got, ""


def _error(ref: np.ndarray, got: np.ndarray, rtol: float, atol: float
           ) -> Tuple[float, float, bool]:
    r64 = ref.astype(np.float64)
    g64 = got.astype(np.float64)
    diff = np.abs(g64 - r64)
    mag = float(np.max(np.abs(r64))) if r64.size else 0.0
    ma = float(np.nanmax(diff)) if diff.size else 0.0
    mr = ma / mag if mag > 0 else (0.0 if ma == 0 else float("inf"))
    ok = ma <= atol + rtol * mag and not np.isnan(diff).any()
    return ma, mr, ok


def _load_etrecord(etrecord: Any) -> Any:
    if hasattr(etrecord, "edge_dialect_program"):
        return etrecord
    from executorch.devtools.etrecord import parse_etrecord  # test-time dependency

    return parse_etrecord(str(etrecord))


def _compare_delegated(example_args: Tuple[Any, ...], program: Any, etrecord: Any,
                       method: str, rtol: float, atol: float) -> Comparison:
    from edgetorch.devtools.etrecord import xnnpack_delegate_handles

    if isinstance(program, (str, os.PathLike)):
        with open(program, "rb") as f:
            program = f.read()
    buf = bytes(program.buffer if hasattr(program, "buffer") else program)
    et = _load_etrecord(etrecord)
    ep = et.edge_dialect_program
    ep = ep[method] if isinstance(ep, dict) else ep
    hmap = {int(k): (list(v) if isinstance(v, (list, tuple)) else [v])
            for k, v in (et._debug_handle_map or {}).get(method, {}).items()}
    node_handles = xnnpack_delegate_handles(buf).get(method, {})
    eager = eager_intermediates(ep, example_args)
    refs: Dict[int, Dict[int, str]] = {
        i: delegate_references(ep, hmap.get(i, []), hs) for i, hs in node_handles.items()}
    res = Comparison(method)
    last: Dict[Tuple[int, int], Tuple[str, np.ndarray]] = {}
    order: List[Tuple[int, int]] = []
    for instr, did, kind, a in runtime_delegate_outputs(buf, example_args, method):
        key = (instr, did)
        if key not in last:
            order.append(key)
        last[key] = (kind, a)  # nodes sharing a handle: the last one's output
    for instr, did in order:
        kind, got = last[(instr, did)]
        name = refs.get(instr, {}).get(did)
        if name is None or name not in eager:
            continue  # nodes the lowering added (handle 65535): no graph node
        ref = _flat(eager[name])
        if not ref or ref[0].dtype.kind not in "fc":
            continue
        got, layout = to_reference_layout(got, ref[0].shape)
        if got.shape != ref[0].shape:
            res.unmatched.append(instr)
            continue
        ma, mr, ok = _error(ref[0], got, rtol, atol)
        res.delegate_rows.append(NodeError(instr, did, kind, name, ma, mr, ok, layout))
    _compare_kernels(res, buf, ep, hmap, eager, example_args, method, rtol, atol)
    return res


def _compare_kernels(res: Comparison, buf: bytes, ep: Any, hmap: Dict[int, List[int]],
                     eager: Dict[str, Any], example_args: Tuple[Any, ...], method: str,
                     rtol: float, atol: float) -> None:
    """Rows for the kernel instructions of a program lowered by upstream: an
    instruction's handle (the ETRecord's debug_handle_map) names a group of
    graph nodes; a kernel of an operator with that handle is the group's
    first node of that operator whose eager outputs have the shapes of the
    kernel's captured outputs."""
    from edgetorch.pte.program import read_pte

    plan = next((p for p in read_pte(buf).program.execution_plan if p.name == method), None)
    if plan is None or not plan.chains:
        return
    groups: Dict[Tuple[int, str], List[str]] = {}
    for n in ep.graph.nodes:
        h = n.meta.get("debug_handle") if n.op == "call_function" else None
        if isinstance(h, int):
            op = str(getattr(n.target, "__name__", n.target)).split(".")[-2:][0]
            groups.setdefault((h, op.split("::")[-1]), []).append(n.name)
    runtime = runtime_intermediates(buf, example_args, method)
    taken: set = set()
    for i, ins in enumerate(plan.chains[0].instructions):
        a = ins.instr_args
        if not hasattr(a, "op_index") or i not in runtime:
            continue
        op = plan.operators[a.op_index]
        handles = hmap.get(i, [])
        got = runtime[i]
        # The group's first node of the operator, not yet matched, whose
        # eager outputs have the captured shapes (the emitter may order a
        # group's kernels differently from the graph).
        names = [m for m in groups.get((handles[0], op.name.split("::")[-1]), [])
                 if m not in taken and m in eager] if len(set(handles)) == 1 else []
        pick = next((m for m in names if [r.shape for r in _flat(eager[m])][:len(got)]
                     == [g.shape for g in got][:len(_flat(eager[m]))]), None)
        if pick is None:
            res.unmatched.append(i)
            continue
        taken.add(pick)
        ref = _flat(eager[pick])
        max_abs = max_rel = 0.0
        ok, any_ = True, False
        for r, g in zip(ref, got):
            if r.shape != g.shape or r.dtype.kind not in "fc" or r.size == 0:
                continue
            ma, mr, o = _error(r, g, rtol, atol)
            max_abs, max_rel, ok, any_ = max(max_abs, ma), max(max_rel, mr), ok and o, True
        if any_:
            name = f"{op.name}.{op.overload}" if op.overload else op.name
            res.rows.append(OpError(i, name, pick, max_abs, max_rel, ok))


def eager_intermediates(ep: Any, args: Sequence[Any]) -> Dict[str, Any]:
    """Node name -> eager output for every call_function node of an ExportedProgram."""
    import torch
    from torch.export.graph_signature import InputKind

    inputs: List[Any] = []
    user = iter(args)
    for spec in ep.graph_signature.input_specs:
        if spec.kind == InputKind.USER_INPUT:
            inputs.append(next(user))
        elif spec.kind in (InputKind.PARAMETER, InputKind.BUFFER):
            inputs.append(ep.state_dict[spec.target] if spec.target in ep.state_dict
                          else ep.constants[spec.target])
        else:
            inputs.append(ep.constants[spec.target])
    outs: Dict[str, Any] = {}

    class Capture(torch.fx.Interpreter):
        def run_node(self, n: torch.fx.Node) -> Any:
            r = super().run_node(n)
            if n.op == "call_function":
                outs[n.name] = r
            return r

    with torch.no_grad():
        Capture(ep.graph_module).run(*inputs)
    return outs


def _to_numpy(a: Any) -> Any:
    if hasattr(a, "detach"):
        return a.detach().cpu().contiguous().numpy()
    return a


def _flat(r: Any) -> List[np.ndarray]:
    if isinstance(r, (tuple, list)):
        out: List[np.ndarray] = []
        for x in r:
            out.extend(_flat(x))
        return out
    if hasattr(r, "detach"):
        return [r.detach().cpu().contiguous().numpy()]
    return []


def compare(model: Any, example_args: Tuple[Any, ...], program: Any = None, *,
            method: str = "forward", rtol: float = 1e-4, atol: float = 1e-5,
            runtime_program: Any = None, etrecord: Any = None) -> Comparison:
    """Per-operator error of ``program`` (edgetorch.export's result) against eager.

    ``program`` must come from ``edgetorch.export`` (it carries the debug
    handles); with None the model is exported here. An operator is within
    tolerance when max|runtime - eager| <= atol + rtol * max|eager|.
    ``runtime_program``: an ``edgetorch.runtime.Program`` of the same bytes to
    run instead of a fresh one (one with extra kernel tables, say).

    ``etrecord``: for a program lowered to XNNPACK by upstream (its bytes,
    a .pte path, or an object with ``.buffer``), its ETRecord (a path, or a parsed
    upstream ETRecord): each CPU backend node is compared with eager at the
    ETRecord edge graph's node (``Comparison.delegate_rows``, one per debug
    handle, in execution order).
    """
    if not isinstance(example_args, tuple):
        example_args = (example_args,)
    if etrecord is not None:
        if program is None:
            raise ValueError("compare(..., etrecord=...) needs the delegated program")
        return _compare_delegated(example_args, program, etrecord, method, rtol, atol)
    if program is None:
        import edgetorch

        program = edgetorch.export(model, example_args)
    nodes = getattr(program, "instruction_nodes", {}).get(method)
    edge = getattr(program, "edge_program", None)
    if nodes is None or edge is None:
        raise ValueError("compare() needs a program made by edgetorch.export in this "
                         "process (it carries the instruction -> graph node map)")
    eager = eager_intermediates(edge.exported_program(method), example_args)
    runtime = runtime_intermediates(program, example_args, method, runtime_program)
    plan = next(p for p in program.program.execution_plan if p.name == method)
    kernels: Dict[int, str] = {}
    for i, ins in enumerate(plan.chains[0].instructions):
        a = ins.instr_args
        if hasattr(a, "op_index"):
            op = plan.operators[a.op_index]
            kernels[i] = f"{op.name}.{op.overload}" if op.overload else op.name
    res = Comparison(method)
    for i, node in enumerate(nodes):
        if i not in runtime:
            continue
        if node is None or node not in eager:
            res.unmatched.append(i)
            continue
        ref = _flat(eager[node])
        got = runtime[i]
        max_abs = max_rel = 0.0
        ok = True
        for r, g in zip(ref, got):
            if r.shape != g.shape or r.dtype.kind not in "fc" or r.size == 0:
                continue
            r64 = r.astype(np.float64)
            g64 = g.astype(np.float64)
            diff = np.abs(g64 - r64)
            mag = float(np.max(np.abs(r64)))
            ma = float(np.nanmax(diff)) if diff.size else 0.0
            mr = ma / mag if mag > 0 else (0.0 if ma == 0 else float("inf"))
            max_abs, max_rel = max(max_abs, ma), max(max_rel, mr)
            if not (ma <= atol + rtol * mag) or np.isnan(diff).any():
                ok = False
        res.rows.append(OpError(i, kernels.get(i, "?"), node, max_abs, max_rel, ok))
    return res
