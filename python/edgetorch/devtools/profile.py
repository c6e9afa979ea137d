"""Where the time goes: per-operator profiles of a `.pte` on the C runtime.

``profile("model.pte", iterations=10)`` runs the method with the runtime's
event tracer on (the ETDump recorder, extension/etdump.c) and returns a
:class:`Profile`: per-operator calls, total, mean and share of time
(``.table()``), a Chrome/Perfetto trace (``.write_trace(path)``) and a bar
chart of the top operators (``.plot(path)``).

Needs numpy only (matplotlib for the plot).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

PathLike = Union[str, "os.PathLike[str]"]

# Instruction kinds that are not operators of the model.
_FRAMEWORK = ("OPERATOR_CALL", "Method::execute", "Method::init",
              "Program::load_method")


@dataclass
class OpStats:
    name: str
    calls: int = 0
    total_ns: int = 0

    @property
    def mean_ns(self) -> float:
        return self.total_ns / self.calls if self.calls else 0.0


@dataclass
class TraceEvent:
    run: int
    name: str
    chain: int
    instruction: int
    start_ns: int
    end_ns: int
    depth: int  # 0: method, 1: instruction, 2: inside a delegate


@dataclass
class Profile:
    """Per-operator times over ``iterations`` runs of one method."""

    method: str
    iterations: int
    ops: List[OpStats]
    events: List[TraceEvent] = field(default_factory=list)
    execute_ns: List[int] = field(default_factory=list)
    # A backend's own events (delegate nodes), by the name the backend gives
    # (the CPU backend: the node type, "Conv2d"); their time is inside the
    # DELEGATE_CALL rows of ``ops``.
    delegate_nodes: List[OpStats] = field(default_factory=list)

    @property
    def operator_ns(self) -> int:
        return sum(o.total_ns for o in self.ops)

    def table(self, top: Optional[int] = None) -> str:
        total = self.operator_ns or 1
        rows = sorted(self.ops, key=lambda o: -o.total_ns)[:top]
        nodes = sorted(self.delegate_nodes, key=lambda o: -o.total_ns)[:top]
        w = max([len("operator")] + [len(o.name) for o in rows] +
                [2 + len(o.name) for o in nodes])
        lines = [f"{'operator':<{w}}  {'calls':>7}  {'total ms':>10}  {'mean us':>10}  "
                 f"{'share':>6}"]

        def row(label: str, o: OpStats) -> str:
            return (f"{label:<{w}}  {o.calls:>7}  {o.total_ns / 1e6:>10.3f}  "
                    f"{o.mean_ns / 1e3:>10.2f}  {100.0 * o.total_ns / total:>5.1f}%")

        for o in rows:
            lines.append(row(o.name, o))
        if nodes:
            lines.append("delegate nodes by type (their time is inside DELEGATE_CALL):")
            lines.extend(row("  " + o.name, o) for o in nodes)
        ex = self.execute_ns
        if ex:
            mean = sum(ex) / len(ex)
            over = max(0.0, mean - self.operator_ns / max(1, len(ex)))
            lines.append(f"method {self.method}: {len(ex)} run(s), mean {mean / 1e6:.3f} ms, "
                         f"of which {over / 1e6:.3f} ms outside operators")
        return "\n".join(lines)

    def chrome_trace(self) -> Dict[str, Any]:
        """Chrome trace events ("X" complete events, microseconds)."""
        if not self.events:
            return {"traceEvents": [], "displayTimeUnit": "ms"}
        t0 = min(e.start_ns for e in self.events)
        evs: List[Dict[str, Any]] = [
            {"name": "process_name", "ph": "M", "pid": 0, "tid": 0,
             "args": {"name": f"edgetorch {self.method}"}},
            {"name": "thread_name", "ph": "M", "pid": 0, "tid": 0,
             "args": {"name": "main"}}]
        for e in self.events:
            evs.append({"name": e.name, "cat": ("method", "operator", "delegate")[min(e.depth, 2)],
                        "ph": "X", "pid": 0, "tid": 0,
                        "ts": (e.start_ns - t0) / 1e3,
                        "dur": max(0, e.end_ns - e.start_ns) / 1e3,
                        "args": {"run": e.run, "chain": e.chain,
                                 "instruction": e.instruction}})
        return {"traceEvents": evs, "displayTimeUnit": "ms"}

    def write_trace(self, path: PathLike) -> None:
        with open(path, "w") as f:
            json.dump(self.chrome_trace(), f)

    def plot(self, path: PathLike, top: int = 15) -> None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        rows = sorted(self.ops, key=lambda o: -o.total_ns)[:top][::-1]
        fig, ax = plt.subplots(figsize=(8, 0.35 * len(rows) + 1.2))
        runs = max(1, self.iterations)
        ax.barh([o.name for o in rows], [o.total_ns / runs / 1e3 for o in rows],
                color="#4477aa")
        ax.set_xlabel("time per run (us)")
        ax.set_title(f"{self.method}: top {len(rows)} operators ({runs} run(s))")
        fig.tight_layout()
        fig.savefig(path, dpi=100)
        plt.close(fig)


def _op_name(name: Optional[str], delegate_name: Optional[str], did: int) -> str:
    if name and name.startswith("native_call_"):
        return name[len("native_call_"):]
    if name:
        return name
    # A backend's event: its name (the node type), else its id.
    return delegate_name if delegate_name else f"delegate node {did}"


def aggregate(events: Sequence[Tuple], method: str, iterations: int) -> Profile:
    """Build a Profile from Method.profile_events() tuples."""
    ops: Dict[str, OpStats] = {}
    nodes: Dict[str, OpStats] = {}
    trace: List[TraceEvent] = []
    execute: List[int] = []
    for run, block, name, dname, chain, instr, did, start, end in events:
        if block != "Execute":
            continue
        dur = int(end) - int(start)
        if name == "Method::execute":
            execute.append(dur)
            trace.append(TraceEvent(run, name, -1, -1, start, end, 0))
            continue
        if name == "OPERATOR_CALL":
            continue  # the same span as its native_call_* event
        label = _op_name(name, dname, did)
        if name == "DELEGATE_CALL":
            label = "DELEGATE_CALL"
        inside = name is None  # a backend's own event
        trace.append(TraceEvent(run, label, chain, instr, start, end, 2 if inside else 1))
        # Backend nodes are counted by type apart: their time is inside the
        # delegate call's.
        st = (nodes if inside else ops).setdefault(label, OpStats(label))
        st.calls += 1
        st.total_ns += dur
    return Profile(method, iterations, list(ops.values()), trace, execute,
                   list(nodes.values()))


def example_inputs(meta: Any, seed: int = 0) -> List[Any]:
    """Deterministic inputs for a method from its metadata."""
    rng = np.random.default_rng(seed)
    out: List[Any] = []
    for info in meta.inputs:
        if info.tag != "Tensor":
            out.append(info.value)
            continue
        dt = np.dtype(info.dtype) if not isinstance(info.dtype, str) else None
        shape = tuple(info.sizes)
        if dt is None:
            raise ValueError(f"cannot make an input of dtype {info.dtype}")
        if dt.kind == "f":
            out.append(rng.uniform(-1, 1, shape).astype(dt))
        elif dt.kind == "b":
            out.append(rng.integers(0, 2, shape).astype(dt))
        else:
            out.append(rng.integers(0, 4, shape).astype(dt))
    return out


def profile(program: Union[PathLike, bytes, Any], *, method: Optional[str] = None,
            iterations: int = 10, warmup: int = 1,
            inputs: Optional[Sequence[Any]] = None, seed: int = 0,
            data_files: Any = None, threads: Optional[int] = None) -> Profile:
    """Run ``method`` ``warmup + iterations`` times and profile the last ones.

    ``threads``: the runtime's thread count for these runs (restored after;
    None: as set). Events are recorded by the thread that executes the
    method: the parallel parts of a node count in that node's time."""
    from edgetorch.runtime import get_num_threads, set_num_threads

    if iterations < 1:
        raise ValueError("iterations must be at least 1")
    if threads is None:
        return _profile(program, method, iterations, warmup, inputs, seed, data_files)
    if threads < 1:
        raise ValueError("threads must be at least 1")
    before = get_num_threads()
    set_num_threads(threads)
    try:
        return _profile(program, method, iterations, warmup, inputs, seed, data_files)
    finally:
        set_num_threads(before)


def _profile(program: Any, method: Optional[str], iterations: int, warmup: int,
             inputs: Optional[Sequence[Any]], seed: int, data_files: Any) -> Profile:
    from edgetorch.runtime import load_program

    if hasattr(program, "buffer") and not isinstance(program, (bytes, bytearray)):
        program = program.buffer
    prog = load_program(program, data_files=data_files) if data_files else load_program(program)
    name = method or ("forward" if "forward" in prog.method_names else prog.method_names[0])
    m = prog.load_method(name, etdump=True)
    args = list(inputs) if inputs is not None else example_inputs(prog.metadata(name), seed)
    for _ in range(warmup):
        m.execute(args)
    m.reset_etdump()
    for _ in range(iterations):
        m.execute(args)
    return aggregate(m.profile_events(), name, iterations)
