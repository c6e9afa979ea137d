"""Where the time goes: per-operator profiles of a `.pte` on the C runtime.

``profile("model.pte", iterations=10)`` runs the method with the runtime's
event tracer on (the ETDump recorder, extension/etdump.c) and returns a
:class:`Profile`: per-operator calls, total, mean and share of time
(``.table()``), a Chrome/Perfetto trace (``.write_trace(path)``) and a bar
chart of the top operators (``.plot(path)``).

On more than one thread the runtime's thread pool also records every
parallel-for a node issues and the chunks each thread ran
(extension/threadpool.h, ``load_method(..., thread_events=N)``), on the same
clock: the trace then has one track per thread, each worker's chunks nested
in time under the node that issued them.

Needs numpy only (matplotlib for the plot).
"""

from __future__ import annotations

import bisect
import json
import os
import warnings
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
class ParallelCall:
    """One parallel-for through the thread pool: [0, n) split into chunks."""

    call: int      # its number in the recording
    thread: int    # the thread that issued it (0: the executing thread)
    start_ns: int  # dispatch to return, on the issuing thread
    end_ns: int
    n: int
    serial: bool   # ran whole on its issuer (too little work, pool busy)
    node: Optional[str] = None  # innermost event of the executing thread around it


@dataclass
class ChunkEvent:
    """One chunk of a parallel-for, as one thread ran it."""

    call: int
    thread: int    # 0: the executing thread, k: worker k
    start_ns: int
    end_ns: int
    begin: int     # the range [begin, end) of the call's [0, n)
    end: int
    node: Optional[str] = None


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
    # The threads the runs used (the executing one included), and what the
    # thread pool ran on them (empty on one thread).
    threads: int = 1
    parallel_calls: List[ParallelCall] = field(default_factory=list)
    chunks: List[ChunkEvent] = field(default_factory=list)
    # Pool events that did not fit in the recording buffer (the trace then
    # lacks them; profile(thread_events=...) sets its size).
    dropped_thread_events: int = 0

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
        """Chrome trace events ("X" complete events, microseconds), one
        track (tid) per thread: the executing thread's method, operator and
        delegate-node events on tid 0, with the parallel-fors its nodes issue
        and the chunks it ran itself nested inside; worker k's chunks on tid
        k, labelled with the node that issued them ("Conv2d #3 [chunk
        0-12]")."""
        if not self.events:
            return {"traceEvents": [], "displayTimeUnit": "ms"}
        t0 = min(e.start_ns for e in self.events)
        evs: List[Dict[str, Any]] = [
            {"name": "process_name", "ph": "M", "pid": 0, "tid": 0,
             "args": {"name": f"edgetorch {self.method}"}}]
        tids = sorted({0} | set(range(self.threads if self.chunks else 1)) |
                      {c.thread for c in self.chunks})
        for tid in tids:
            evs.append({"name": "thread_name", "ph": "M", "pid": 0, "tid": tid,
                        "args": {"name": "main" if tid == 0 else f"worker {tid}"}})
            evs.append({"name": "thread_sort_index", "ph": "M", "pid": 0, "tid": tid,
                        "args": {"sort_index": tid}})

        def us(ns: int) -> float:
            return (ns - t0) / 1e3

        for e in self.events:
            evs.append({"name": e.name, "cat": ("method", "operator", "delegate")[min(e.depth, 2)],
                        "ph": "X", "pid": 0, "tid": 0,
                        "ts": us(e.start_ns),
                        "dur": max(0, e.end_ns - e.start_ns) / 1e3,
                        "args": {"run": e.run, "chain": e.chain,
                                 "instruction": e.instruction}})
        for pc in self.parallel_calls:
            evs.append({"name": f"{pc.node or '?'} parallel_for [0-{pc.n}]",
                        "cat": "parallel_for", "ph": "X", "pid": 0, "tid": pc.thread,
                        "ts": us(pc.start_ns), "dur": max(0, pc.end_ns - pc.start_ns) / 1e3,
                        "args": {"call": pc.call, "n": pc.n, "serial": pc.serial,
                                 "node": pc.node}})
        for c in self.chunks:
            evs.append({"name": f"{c.node or '?'} [chunk {c.begin}-{c.end}]",
                        "cat": "chunk", "ph": "X", "pid": 0, "tid": c.thread,
                        "ts": us(c.start_ns), "dur": max(0, c.end_ns - c.start_ns) / 1e3,
                        "args": {"call": c.call, "begin": c.begin, "end": c.end,
                                 "node": c.node}})
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
    for ev in events:
        run, block, name, dname, chain, instr, did, start, end = ev[:9]
        nth = ev[9] if len(ev) > 9 else 0
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
        # In the trace, a node is named as in the ETDump ("Conv2d #2": the
        # second Conv2d of its delegate call), so that nodes stay apart.
        trace.append(TraceEvent(run, f"{label} #{nth}" if inside and nth else label,
                                chain, instr, start, end, 2 if inside else 1))
        # Backend nodes are counted by type apart: their time is inside the
        # delegate call's.
        st = (nodes if inside else ops).setdefault(label, OpStats(label))
        st.calls += 1
        st.total_ns += dur
    return Profile(method, iterations, list(ops.values()), trace, execute,
                   list(nodes.values()))


def attach_thread_events(prof: Profile, thread_events: Sequence[Tuple],
                         threads: int, dropped: int = 0) -> Profile:
    """Add Method.thread_events() records to ``prof``: each parallel-for and
    chunk gets the name of the innermost event of the executing thread
    around it in time (the node that issued it; both recorders read the
    same clock)."""
    prof.threads = max(1, threads)
    prof.dropped_thread_events = int(dropped)
    spans = sorted(prof.events, key=lambda e: (e.start_ns, -e.end_ns))
    starts = [e.start_ns for e in spans]

    def around(s: int, e: int) -> Optional[str]:
        # Events of one thread nest: the latest-starting one that contains
        # [s, e] is the innermost.
        for j in range(bisect.bisect_right(starts, s) - 1, -1, -1):
            if spans[j].end_ns >= e:
                return spans[j].name if spans[j].depth > 0 else None
        return None

    calls: Dict[int, ParallelCall] = {}
    chunks: List[ChunkEvent] = []
    for kind, call, thread, start, end, begin, stop, serial in thread_events:
        if kind == "call":
            calls[call] = ParallelCall(call, thread, start, end, stop, bool(serial),
                                       around(start, end))
        else:
            chunks.append(ChunkEvent(call, thread, start, end, begin, stop))
    for c in chunks:
        pc = calls.get(c.call)
        c.node = pc.node if pc is not None else around(c.start_ns, c.end_ns)
    prof.parallel_calls = sorted(calls.values(), key=lambda c: c.call)
    prof.chunks = sorted(chunks, key=lambda c: (c.call, c.begin))
    return prof


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
            data_files: Any = None, threads: Optional[int] = None,
            thread_events: Optional[int] = None) -> Profile:
    """Run ``method`` ``warmup + iterations`` times and profile the last ones.

    ``threads``: the runtime's thread count for these runs (restored after;
    None: as set). Operator and node events are recorded by the thread that
    executes the method: the parallel parts of a node count in that node's
    time. On more than one thread the pool's parallel-fors and chunks are
    recorded too (``Profile.chunks``, the trace's worker tracks), into a
    buffer of ``thread_events`` events (None: sized from the warmup runs;
    0: not recorded); events beyond it are dropped, counted and warned
    about."""
    from edgetorch.runtime import get_num_threads, set_num_threads

    if iterations < 1:
        raise ValueError("iterations must be at least 1")
    if thread_events is not None and thread_events < 0:
        raise ValueError("thread_events must be 0 or more")
    if threads is None:
        return _profile(program, method, iterations, warmup, inputs, seed, data_files,
                        thread_events)
    if threads < 1:
        raise ValueError("threads must be at least 1")
    before = get_num_threads()
    set_num_threads(threads)
    try:
        return _profile(program, method, iterations, warmup, inputs, seed, data_files,
                        thread_events)
    finally:
        set_num_threads(before)


# Thread-event buffer for the warmup runs, and its floor when sized from them.
_WARMUP_THREAD_EVENTS = 1 << 14


def _profile(program: Any, method: Optional[str], iterations: int, warmup: int,
             inputs: Optional[Sequence[Any]], seed: int, data_files: Any,
             thread_events: Optional[int] = None) -> Profile:
    from edgetorch.runtime import get_num_threads, load_program

    if hasattr(program, "buffer") and not isinstance(program, (bytes, bytearray)):
        program = program.buffer
    prog = load_program(program, data_files=data_files) if data_files else load_program(program)
    name = method or ("forward" if "forward" in prog.method_names else prog.method_names[0])
    threads = get_num_threads()
    record = threads > 1 and thread_events != 0
    cap = thread_events if thread_events else _WARMUP_THREAD_EVENTS
    m = prog.load_method(name, etdump=True, thread_events=cap if record else 0)
    args = list(inputs) if inputs is not None else example_inputs(prog.metadata(name), seed)
    for _ in range(warmup):
        m.execute(args)
    if record and thread_events is None and warmup > 0:
        # Size the buffer for the timed runs from what the warmup ran (a
        # second Method object over the same initialized method: cheap).
        evs, dropped = m.thread_events()
        per_run = (len(evs) + dropped + warmup - 1) // warmup
        need = per_run * (iterations + 1)
        if need > cap:
            m = prog.load_method(name, etdump=True, thread_events=need)
    m.reset_etdump()
    for _ in range(iterations):
        m.execute(args)
    prof = aggregate(m.profile_events(), name, iterations)
    if record:
        evs, dropped = m.thread_events()
        attach_thread_events(prof, evs, threads, dropped)
        if dropped:
            warnings.warn(f"profile: {dropped} thread-pool events did not fit in the "
                          f"buffer and are missing from the trace (raise thread_events)",
                          RuntimeWarning, stacklevel=3)
    return prof
