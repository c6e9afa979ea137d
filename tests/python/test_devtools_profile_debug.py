"""`edgetorch profile` and numeric debugging (`edgetorch.debug.compare`).

Profiles: per-operator counts must equal what the program executes (one
call per kernel instruction per run); the Chrome trace must parse as JSON
trace events that nest inside their run; the plot must be a PNG.

On an upstream-lowered XNNPACK program, the CPU backend's nodes are listed
by type: as many calls of each type as the payloads hold nodes of it.

Threads: at --threads 2 on an XNNPACK-delegated CNN whose convolutions are
big enough to be split, the trace has a track per thread (thread_name
metadata), worker chunks lie inside a node event of the executing thread
and carry that node's name, and the chunks of each parallel-for cover its
range exactly once; at --threads 1 there is one track. A too-small event
buffer drops events, counts them and warns.

Numeric debugging: with a deliberately wrong kernel (a kernel table put in
front of the portable one that adds 0.5 to one operator's output), compare
must name that operator's instruction as the first divergence; with the
right kernels nothing diverges.

Run: .venv/bin/python -m pytest -q tests/python/test_devtools_profile_debug.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from collections import Counter

import pytest
import torch

import edgetorch
import edgetorch.debug
from edgetorch.devtools.profile import profile
from edgetorch.runtime import load_program
from devtools_models import CNN, kernel_instructions, xnnpack_delegate_nodes

warnings.filterwarnings("ignore")


@pytest.fixture(scope="module")
def exported():
    torch.manual_seed(0)
    model = CNN(act=torch.sigmoid).eval()
    x = torch.randn(1, 3, 16, 16)
    return model, x, edgetorch.export(model, (x,))


def _kernels(pte):
    """Kernel names without the namespace, with the overload ("relu.out")."""
    return [k.split("::", 1)[1] + ("" if "." in k.split("::", 1)[1] else ".")
            for k in kernel_instructions(pte)]


def test_profile_counts_and_trace(tmp_path, exported):
    _, _, pte = exported
    prof = profile(pte, iterations=4)
    want = Counter(_kernels(pte))
    got = {o.name: o.calls for o in prof.ops}
    assert got == {k: 4 * v for k, v in want.items()}
    assert all(o.total_ns > 0 for o in prof.ops)
    assert len(prof.execute_ns) == 4
    table = prof.table()
    for k in want:
        assert k in table
    assert abs(sum(float(line.split()[-1].rstrip("%")) for line in table.splitlines()[1:-1])
               - 100.0) < 0.5
    prof.write_trace(tmp_path / "t.json")
    trace = json.loads((tmp_path / "t.json").read_text())
    xs = [e for e in trace["traceEvents"] if e["ph"] == "X"]
    runs = [e for e in xs if e["name"] == "Method::execute"]
    ops = [e for e in xs if e["cat"] == "operator"]
    assert len(runs) == 4 and len(ops) == 4 * sum(want.values())
    for e in ops:  # every operator lies inside its run
        r = runs[e["args"]["run"] - min(x["args"]["run"] for x in runs)]
        assert r["ts"] <= e["ts"] and e["ts"] + e["dur"] <= r["ts"] + r["dur"] + 1e-3
    prof.plot(tmp_path / "p.png")
    assert (tmp_path / "p.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_profile_cli(tmp_path, exported):
    _, _, pte = exported
    pte.write_to_file(tmp_path / "m.pte")
    r = subprocess.run([sys.executable, "-m", "edgetorch", "profile", str(tmp_path / "m.pte"),
                        "--iterations", "2", "--trace", str(tmp_path / "t.json"),
                        "--plot", str(tmp_path / "p.png")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "convolution.out" in r.stdout and "share" in r.stdout
    json.loads((tmp_path / "t.json").read_text())["traceEvents"]
    assert (tmp_path / "p.png").stat().st_size > 0


def test_profile_lists_delegate_nodes_by_type():
    import xnnpack_corpus

    path = xnnpack_corpus.corpus_dir() / "cnn" / "model.pte"
    nodes = xnnpack_delegate_nodes(path.read_bytes())
    want = Counter(t[len("XNN"):] for ns in nodes.values() for t, _ in ns)
    assert len(want) >= 5, want
    prof = profile(path, iterations=3)
    assert {o.name: o.calls for o in prof.delegate_nodes} == {k: 3 * v for k, v in want.items()}
    assert all(o.total_ns > 0 for o in prof.delegate_nodes)
    # At 2 threads: the same events (recorded by the executing thread), and
    # the runtime's thread count is put back afterwards.
    from edgetorch.runtime import get_num_threads, set_num_threads
    before = get_num_threads()
    set_num_threads(3)
    try:
        two = profile(path, iterations=3, threads=2)
        assert get_num_threads() == 3
    finally:
        set_num_threads(before)
    assert {o.name: o.calls for o in two.delegate_nodes} == \
        {o.name: o.calls for o in prof.delegate_nodes}
    assert {o.name: o.calls for o in two.ops} == {o.name: o.calls for o in prof.ops}
    # Node time is part of the delegate call's, not added to it.
    (dcall,) = [o for o in prof.ops if o.name == "DELEGATE_CALL"]
    assert dcall.calls == 3 * len(nodes)
    assert sum(o.total_ns for o in prof.delegate_nodes) <= dcall.total_ns
    assert abs(sum(float(line.split()[-1].rstrip("%")) for line in
                   prof.table().splitlines()[1:1 + len(prof.ops)]) - 100.0) < 0.5
    # The command prints them, by type, under the operators.
    r = subprocess.run([sys.executable, "-m", "edgetorch", "profile", str(path),
                        "--iterations", "2"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    (at,) = [i for i, line in enumerate(lines) if line.startswith("delegate nodes by type")]
    rows = {line.split()[0]: int(line.split()[1]) for line in lines[at + 1:]
            if line.startswith("  ")}
    assert rows == {k: 2 * v for k, v in want.items()}


def test_compare_clean(exported):
    model, x, pte = exported
    res = edgetorch.debug.compare(model, (x,), pte)
    assert res.first_divergent is None, res.table()
    assert [r.operator for r in res.rows] == ["aten::" + k for k in _kernels(pte)]


@pytest.mark.parametrize("op", ["aten::relu.out", "aten::sigmoid.out", "aten::mean.out"])
def test_compare_names_the_wrong_kernel(exported, op):
    model, x, pte = exported
    prog = load_program(pte.buffer)
    prog._perturb_kernel(op, 0.5)
    res = edgetorch.debug.compare(model, (x,), pte, runtime_program=prog)
    first = res.first_divergent
    assert first is not None, res.table()
    assert first.operator == op, res.table()
    assert first.max_abs == pytest.approx(0.5, abs=1e-3)
    # Everything before it agrees with eager.
    before = [r for r in res.rows if r.instruction < first.instruction]
    assert before and all(r.within_tolerance for r in before)


# ---------------------------------------------------------------------------
# Per-thread tracks


class _BigCNN(torch.nn.Module):
    """Convolutions with millions of multiply-adds each: the CPU backend
    splits every one over the pool's threads."""

    def __init__(self) -> None:
        super().__init__()
        self.c1 = torch.nn.Conv2d(3, 16, 3, padding=1)
        self.c2 = torch.nn.Conv2d(16, 32, 3, padding=1)
        self.c3 = torch.nn.Conv2d(32, 32, 3, padding=1)
        self.fc = torch.nn.Linear(32, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.c1(x))
        x = torch.relu(self.c2(x))
        x = torch.nn.functional.max_pool2d(x, 2)
        x = torch.relu(self.c3(x))
        return self.fc(x.mean((2, 3)))


@pytest.fixture(scope="module")
def xnn_cnn(tmp_path_factory):
    torch.manual_seed(0)
    model = _BigCNN().eval()
    pte = edgetorch.export(model, (torch.randn(1, 3, 64, 64),),
                           partitioner=[edgetorch.XnnpackPartitioner()])
    path = tmp_path_factory.mktemp("xnn") / "cnn.pte"
    pte.write_to_file(path)
    return path


def _profile_cli_trace(path, tmp_path, threads):
    out = tmp_path / f"t{threads}.json"
    r = subprocess.run([sys.executable, "-m", "edgetorch", "profile", str(path),
                        "--threads", str(threads), "--iterations", "5",
                        "--trace", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "DELEGATE_CALL" in r.stdout and "Conv2d" in r.stdout
    return json.loads(out.read_text())["traceEvents"]


def _inside(inner, outer):
    eps = 1e-3  # microseconds: the JSON's float rounding
    return (outer["ts"] - eps <= inner["ts"] and
            inner["ts"] + inner["dur"] <= outer["ts"] + outer["dur"] + eps)


def test_trace_has_a_track_per_thread(xnn_cnn, tmp_path):
    # A worker only shows when it won a chunk, which a busy machine can
    # deny it for a whole profile (the executing thread then takes every
    # chunk): a few tries, every check on the last.
    for _ in range(3):
        evs = _profile_cli_trace(xnn_cnn, tmp_path, 2)
        if any(e["ph"] == "X" and e["tid"] != 0 for e in evs):
            break
    names = {e["tid"]: e["args"]["name"] for e in evs
             if e["ph"] == "M" and e["name"] == "thread_name"}
    assert names == {0: "main", 1: "worker 1"}
    xs = [e for e in evs if e["ph"] == "X"]
    for e in xs:  # complete events Perfetto and Chrome read
        assert e["pid"] == 0 and isinstance(e["tid"], int)
        assert isinstance(e["ts"], (int, float)) and e["dur"] >= 0
    assert {e["tid"] for e in xs} == {0, 1}
    nodes = [e for e in xs if e["tid"] == 0 and e["cat"] in ("operator", "delegate")]
    chunks = [e for e in xs if e["cat"] == "chunk"]
    calls = {e["args"]["call"]: e for e in xs if e["cat"] == "parallel_for"}
    workers = [c for c in chunks if c["tid"] != 0]
    assert workers, "the worker ran no chunk"
    for c in chunks:
        # Inside a node of the executing thread, named after the innermost.
        around = [n for n in nodes if _inside(c, n)]
        assert around, c
        inner = max(around, key=lambda n: (n["ts"], -n["dur"]))
        assert c["name"] == f"{inner['name']} [chunk {c['args']['begin']}-{c['args']['end']}]"
        # And inside its parallel-for (on the executing thread).
        pc = calls[c["args"]["call"]]
        assert pc["tid"] == 0 and _inside(c, pc)
    # Delegate nodes are named as in the ETDump ("Conv2d #2"); the workers
    # ran parts of the convolutions.
    assert any(c["name"].startswith("Conv2d #") for c in workers)
    # The chunks of each parallel-for cover [0, n) exactly once.
    by_call = {}
    for c in chunks:
        by_call.setdefault(c["args"]["call"], []).append((c["args"]["begin"], c["args"]["end"]))
    assert set(by_call) == set(calls)
    for call, ranges in by_call.items():
        at = 0
        for b, e in sorted(ranges):
            assert b == at and e > b, (call, sorted(ranges))
            at = e
        assert at == calls[call]["args"]["n"], (call, sorted(ranges))


def test_trace_one_track_on_one_thread(xnn_cnn, tmp_path):
    evs = _profile_cli_trace(xnn_cnn, tmp_path, 1)
    names = {e["tid"]: e["args"]["name"] for e in evs
             if e["ph"] == "M" and e["name"] == "thread_name"}
    assert names == {0: "main"}
    xs = [e for e in evs if e["ph"] == "X"]
    assert xs and {e["tid"] for e in xs} == {0}
    assert not [e for e in xs if e["cat"] in ("chunk", "parallel_for")]


def test_thread_events_bounded(xnn_cnn):
    with pytest.warns(RuntimeWarning, match="did not fit"):
        small = profile(xnn_cnn, iterations=2, threads=2, thread_events=5)
    assert small.dropped_thread_events > 0
    assert len(small.chunks) + len(small.parallel_calls) == 5
    # Sized from the warmup: nothing dropped, and the same calls each run.
    full = profile(xnn_cnn, iterations=2, threads=2)
    assert full.dropped_thread_events == 0 and full.threads == 2
    assert len(full.parallel_calls) % 2 == 0 and full.parallel_calls
    # Chunking depends on the sizes and the thread count only: the small
    # buffer saw as many events as the full one holds.
    assert len(small.chunks) + len(small.parallel_calls) + small.dropped_thread_events == \
        len(full.chunks) + len(full.parallel_calls)
