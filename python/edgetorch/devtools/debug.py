"""Numeric debugging: which operator's output first drifts from eager.

``compare(model, example_args, program)`` runs the program on the C runtime
with every operator's outputs captured (the ETDump recorder's debug buffer),
maps each instruction back to the graph node it was emitted from (the
program's debug handles: ``PteProgram.instruction_nodes``), runs the same
decomposed graph in eager PyTorch capturing every node's output, and reports
per operator the max absolute and relative error and the first operator
whose error exceeds the tolerance.
"""

from __future__ import annotations

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
class Comparison:
    method: str
    rows: List[OpError] = field(default_factory=list)
    unmatched: List[int] = field(default_factory=list)  # instructions without a node

    @property
    def first_divergent(self) -> Optional[OpError]:
        for r in self.rows:
            if not r.within_tolerance:
                return r
        return None

    def table(self) -> str:
        w = max([8] + [len(r.operator) for r in self.rows])
        n = max([4] + [len(r.node) for r in self.rows])
        lines = [f"{'instr':>5}  {'operator':<{w}}  {'node':<{n}}  {'max abs':>10}  "
                 f"{'max rel':>10}"]
        first = self.first_divergent
        for r in self.rows:
            mark = "  <-- first divergence" if r is first else ("  !" if not r.within_tolerance else "")
            lines.append(f"{r.instruction:>5}  {r.operator:<{w}}  {r.node:<{n}}  "
                         f"{r.max_abs:>10.3g}  {r.max_rel:>10.3g}{mark}")
        if first is None:
            lines.append("every operator is within tolerance")
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
    for run, chain, instr, tag, dtype, sizes, offset, _scalar, did in m.debug_values():
        if instr < 0 or did >= 0 or tag != _TAG_TENSOR or dtype not in _NP_DTYPE:
            continue
        npd = np.dtype(_NP_DTYPE[dtype])
        n = int(np.prod(sizes)) if sizes else 1
        if offset < 0 or n == 0:
            a = np.zeros(sizes, npd)
        else:
            a = np.frombuffer(dbg, dtype=npd, count=n, offset=offset).reshape(sizes).copy()
        out.setdefault(instr, []).append(a)
    return out


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
            runtime_program: Any = None) -> Comparison:
    """Per-operator error of ``program`` (edgetorch.export's result) against eager.

    ``program`` must come from ``edgetorch.export`` (it carries the debug
    handles); with None the model is exported here. An operator is within
    tolerance when max|runtime - eager| <= atol + rtol * max|eager|.
    ``runtime_program``: an ``edgetorch.runtime.Program`` of the same bytes to
    run instead of a fresh one (one with extra kernel tables, say).
    """
    if not isinstance(example_args, tuple):
        example_args = (example_args,)
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
