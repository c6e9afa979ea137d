"""`edgetorch profile` and numeric debugging (`edgetorch.debug.compare`).

Profiles: per-operator counts must equal what the program executes (one
call per kernel instruction per run); the Chrome trace must parse as JSON
trace events that nest inside their run; the plot must be a PNG.

On an upstream-lowered XNNPACK program, the CPU backend's nodes are listed
by type: as many calls of each type as the payloads hold nodes of it.

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
