"""ETDump files from edgetorch, read by upstream's Inspector (the oracle).

A CNN and a transformer block exported by edgetorch, a program delegated
to upstream's demo backend and programs delegated to XNNPACK (exported by
upstream with its XnnpackPartitioner, run on our CPU backend), run on edgetorch-run with
``--etdump`` (and ``--debug-buffer``) and through the Python binding
(``load_method(etdump=True)``, ``Method.write_etdump``). Upstream's
``executorch.devtools.Inspector`` must open every file and find one event per
executed operator with a positive duration; captured intermediate outputs
must equal what the eager graph computes at the node each instruction came
from.

Run: .venv/bin/python -m pytest -q tests/python/test_devtools_etdump.py
"""

from __future__ import annotations

import subprocess
import warnings
from pathlib import Path
from typing import Dict

import numpy as np
import pytest
import torch

import edgetorch
from edgetorch.devtools.debug import eager_intermediates
from edgetorch.runtime import load_program
from devtools_models import CNN, MODELS, kernel_instructions, xnnpack_delegate_nodes
from runtime_harness import cli_path
from upstream_corpus import corpus  # noqa: F401  (session fixture)

warnings.filterwarnings("ignore")


def _export(kind: str):
    cls, shape = MODELS[kind]
    torch.manual_seed(0)
    model = cls().eval()
    x = torch.randn(*shape)
    return model, x, edgetorch.export(model, (x,))


def _inspector(etdp: Path, debug: Path = None):
    from executorch.devtools import Inspector

    return Inspector(etdump_path=str(etdp),
                     debug_buffer_path=str(debug) if debug else None)


def _execute_block(ins):
    blocks = [b for b in ins.event_blocks if b.name == "Execute"]
    assert len(blocks) == 1, [b.name for b in ins.event_blocks]
    return blocks[0]


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_cli_etdump_opens_in_inspector(tmp_path, kind):
    model, x, pte = _export(kind)
    path = tmp_path / "m.pte"
    pte.write_to_file(path)
    np.save(tmp_path / "x.npy", x.numpy())
    etdp, dbg = tmp_path / "m.etdp", tmp_path / "m.bin"
    r = subprocess.run([str(cli_path()), str(path), "--input", str(tmp_path / "x.npy"),
                        "--iterations", "3", "--etdump", str(etdp),
                        "--debug-buffer", str(dbg)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert etdp.read_bytes()[8:12] == b"ED00"  # size prefix, root offset, identifier
    ins = _inspector(etdp, dbg)
    block = _execute_block(ins)
    kernels = kernel_instructions(pte)
    assert kernels, "the program has no kernel instructions"
    native = [e for e in block.events if e.name.startswith("native_call_")]
    op_calls = [e for e in block.events if e.name == "OPERATOR_CALL"]
    # One event per executed operator, in instruction order, named as
    # upstream's codegen names them, three timed runs each.
    assert [e.name for e in native] == [
        "native_call_" + k.split("::", 1)[1] for k in kernels]
    assert [e._instruction_id for e in native] == list(range(len(kernels)))
    assert len(op_calls) == len(kernels)
    for e in native + op_calls:
        assert len(e.perf_data.raw) == 3
        assert min(e.perf_data.raw) > 0, (e.name, e.perf_data.raw)
    # Intermediate outputs equal the eager graph at each instruction's node.
    eager = eager_intermediates(pte.edge_program.exported_program("forward"), (x,))
    nodes = pte.instruction_nodes["forward"]
    checked = 0
    for e in native:
        node = nodes[e._instruction_id]
        assert e.debug_data, e.name
        ref = eager[node]
        ref = ref if isinstance(ref, (tuple, list)) else [ref]
        got = e.debug_data
        assert len(got) == len(ref), (e.name, len(got), len(ref))
        for g, r in zip(got, ref):
            torch.testing.assert_close(g, r, rtol=1e-4, atol=1e-5)
            checked += 1
    assert checked >= len(kernels)
    # Method-level events: init in "Default", execute in "Execute".
    names = {e.name for b in ins.event_blocks for e in b.events}
    assert {"Method::init", "Method::execute"} <= names


def test_binding_write_etdump(tmp_path):
    model, x, pte = _export("cnn")
    prog = load_program(pte.buffer)
    m = prog.load_method("forward", etdump=True, debug_buffer=True)
    for _ in range(2):
        out = m.execute([x.numpy()])
    np.testing.assert_allclose(out[0], model(x).detach().numpy(), rtol=1e-4, atol=1e-5)
    m.write_etdump(tmp_path / "b.etdp", tmp_path / "b.bin")
    ins = _inspector(tmp_path / "b.etdp", tmp_path / "b.bin")
    block = _execute_block(ins)
    native = [e for e in block.events if e.name.startswith("native_call_")]
    assert len(native) == len(kernel_instructions(pte))
    assert all(len(e.perf_data.raw) == 2 and min(e.perf_data.raw) > 0 for e in native)
    # The program output is recorded as the run's output.
    torch.testing.assert_close(block.run_output[0], model(x).detach(), rtol=1e-4, atol=1e-5)
    # Without etdump=True there is nothing to write, and the error says so.
    plain = prog.load_method("forward")
    with pytest.raises(RuntimeError, match="etdump=True"):
        plain.write_etdump(tmp_path / "c.etdp")


def test_delegated_program_has_backend_events(corpus, tmp_path):  # noqa: F811
    """The corpus's program delegated to upstream's test backend, recorded
    by tests/tools/demo_etdump (the demo backend is test support: the hosted
    CLI and binding do not register it)."""
    from runtime_harness import build_dir

    x = np.linspace(-2, 2, 6, dtype=np.float32).reshape(2, 3)
    np.save(tmp_path / "x.npy", x)
    tool = build_dir() / "bin" / "demo_etdump"
    assert tool.exists(), f"{tool} is missing: build the C tests (make build)"
    r = subprocess.run([str(tool), str(corpus["delegated"].pte), str(tmp_path / "x.npy"),
                        str(tmp_path / "d.etdp"), str(tmp_path / "d.bin")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    block = _execute_block(_inspector(tmp_path / "d.etdp", tmp_path / "d.bin"))
    by_name: Dict[str, list] = {}
    for e in block.events:
        by_name.setdefault(e.name, []).append(e)
    assert len(by_name["DELEGATE_CALL"]) == 1
    dcall = by_name["DELEGATE_CALL"][0]
    assert dcall.perf_data.raw[0] > 0
    # The demo backend reports each of its two sin nodes by id.
    nodes = [e for e in block.events if e.is_delegated_op]
    assert sorted(e.delegate_debug_identifier for e in nodes) == [0, 1]
    assert all(e._instruction_id == dcall._instruction_id for e in nodes)
    assert all(e.perf_data.raw[0] > 0 for e in nodes)
    # The delegate call's arguments (input, output) are captured.
    got = dcall.debug_data
    np.testing.assert_allclose(got[0].numpy(), x)
    np.testing.assert_allclose(got[1].numpy(), np.sin(np.sin(x)), rtol=1e-6, atol=1e-6)
    # The kernel after the delegate (mul) is there too.
    assert any(n.startswith("native_call_mul") for n in by_name)


def test_etrecord_maps_events_to_graph_nodes(tmp_path):
    torch.manual_seed(0)
    model, x = CNN().eval(), torch.randn(1, 3, 16, 16)
    pte = edgetorch.export(model, (x,), etrecord=tmp_path / "m.etrecord")
    m = load_program(pte.buffer).load_method("forward", etdump=True)
    m.execute([x.numpy()])
    m.write_etdump(tmp_path / "m.etdp")
    from executorch.devtools import Inspector

    ins = Inspector(etdump_path=str(tmp_path / "m.etdp"),
                    etrecord=str(tmp_path / "m.etrecord"))
    native = [e for e in _execute_block(ins).events if e.name.startswith("native_call_")]
    assert len(native) == len(kernel_instructions(pte))
    for e in native:
        # The node the instruction came from: same operator, one handle each.
        (op_type,) = e.op_types
        name = e.name[len("native_call_"):].split(".")[0]
        assert op_type.split(".")[0] == name, (e.name, op_type)
        assert len(e.debug_handles) == 1
    assert len({tuple(e.debug_handles) for e in native}) == len(native)


@pytest.mark.parametrize("name", ["mlp", "cnn", "block"])
def test_xnnpack_delegate_nodes_in_inspector(tmp_path, name):
    """Upstream-lowered XNNPACK programs: the CPU backend reports one event
    per node it runs, identified by the node's debug handle, named by its
    type; the Inspector lists each as a delegated event of its DELEGATE_CALL
    with a positive time in every run. The expected nodes (type, handle,
    order) are read from the payload with upstream's schema and flatc."""
    import xnnpack_corpus

    d = xnnpack_corpus.corpus_dir() / name
    pte_bytes = (d / "model.pte").read_bytes()
    call = np.load(d / "call0.npz")
    inputs = []
    for k in range(sum(1 for f in call.files if f.startswith("in_"))):
        inputs += ["--input", str(tmp_path / f"in_{k}.npy")]
        np.save(tmp_path / f"in_{k}.npy", call[f"in_{k}"])
    etdp = tmp_path / "x.etdp"
    runs = 2
    r = subprocess.run([str(cli_path()), str(d / "model.pte"), *inputs, "--iterations",
                        str(runs), "--etdump", str(etdp)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    block = _execute_block(_inspector(etdp))
    expected = xnnpack_delegate_nodes(pte_bytes)
    assert expected and sum(map(len, expected.values())) >= 4
    dcalls = {e._instruction_id: e for e in block.events if e.name == "DELEGATE_CALL"}
    assert sorted(dcalls) == sorted(expected)
    delegated = [e for e in block.events if e.is_delegated_op]
    # One event per executed node, delegate nodes included: as many as the
    # payloads hold, none merged (nodes may share a debug handle).
    assert len(delegated) == sum(map(len, expected.values()))
    for instr, nodes in expected.items():
        # In the order they ran (the Inspector groups events by handle).
        events = sorted((e for e in delegated if e._instruction_id == instr),
                        key=lambda e: e._start_time[0])
        assert [e.delegate_debug_identifier for e in events] == [h for _, h in nodes]
        # The node type rides along as the delegate debug metadata.
        assert [e.raw_delegate_debug_metadatas for e in events] == [
            [t[len("XNN"):].encode()] * runs for t, _ in nodes]
        for e in events:
            assert len(e.perf_data.raw) == runs and min(e.perf_data.raw) > 0, e
        # The nodes run inside their delegate call, one after another.
        for k in range(runs):
            inside = sum(e.perf_data.raw[k] for e in events)
            assert inside <= dcalls[instr].perf_data.raw[k] * (1 + 1e-6), (instr, k)
    # Kernels between the delegates still have their events.
    kernels = [e for e in block.events if e.name.startswith("native_call_")]
    assert len(kernels) + len(dcalls) == len(
        {e._instruction_id for e in block.events if e._instruction_id >= 0})


# Graph operators each CPU backend node type may come from (for the models
# below).
_XNN_OPS = {"Conv2d": ("convolution",), "FullyConnected": ("linear", "addmm", "mm"),
            "Sigmoid": ("sigmoid",), "MaxPooling2d": ("max_pool2d",),
            "Hardswish": ("hardswish",)}


def _upstream_lowered(tmp_path: Path, model: torch.nn.Module, x: torch.Tensor):
    """Upstream's XNNPACK lowering of ``model`` with its ETRecord; writes
    m.pte, m.etrecord and the input x.npy under tmp_path and returns (the
    program's bytes, the .pte path, the ETRecord path)."""
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import (
        XnnpackPartitioner,
    )
    from executorch.exir import to_edge_transform_and_lower

    with torch.no_grad():
        prog = to_edge_transform_and_lower(
            torch.export.export(model, (x,)), partitioner=[XnnpackPartitioner()],
            generate_etrecord=True).to_executorch()
    pte, etr = tmp_path / "m.pte", tmp_path / "m.etrecord"
    pte.write_bytes(prog.buffer)
    prog.get_etrecord().save(str(etr))
    np.save(tmp_path / "x.npy", x.numpy())
    return prog.buffer, pte, etr


def test_etrecord_maps_xnnpack_nodes(tmp_path):
    """An upstream ETRecord of an XNNPACK-lowered program, completed by
    edgetorch.devtools.etrecord.map_delegate_nodes (upstream's XNNPACK
    preprocess leaves each delegate's map empty): the Inspector maps every
    node event of the CPU backend, by its debug handle, to the graph node it
    was lowered from, an operator of the node's type."""
    from torch import nn
    from executorch.devtools import Inspector

    from edgetorch.devtools.etrecord import map_delegate_nodes

    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Hardswish(),
                          nn.Flatten(), nn.Linear(8 * 3 * 3, 10), nn.Sigmoid()).eval()
    buf, pte, etr = _upstream_lowered(tmp_path, model, torch.randn(1, 3, 8, 8))
    r = subprocess.run([str(cli_path()), str(pte), "--input", str(tmp_path / "x.npy"),
                        "--etdump", str(tmp_path / "m.etdp")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    expected = xnnpack_delegate_nodes(buf)
    real = {h for nodes in expected.values() for _, h in nodes if h != 65535}
    assert map_delegate_nodes(etr, buf, tmp_path / "mapped.etrecord") == len(real)
    ins = Inspector(etdump_path=str(tmp_path / "m.etdp"),
                    etrecord=str(tmp_path / "mapped.etrecord"))
    nodes = [e for e in _execute_block(ins).events if e.is_delegated_op]
    assert len(nodes) == sum(map(len, expected.values()))
    seen = set()
    for e in nodes:
        kind = e.raw_delegate_debug_metadatas[0].decode()
        if e.delegate_debug_identifier == 65535:  # added by the lowering
            assert not e.debug_handles, e
            continue
        assert e.delegate_backend_name == "XnnpackBackend"
        assert e.debug_handles == [e.delegate_debug_identifier], (kind, e.debug_handles)
        assert e.op_types, (kind, e.delegate_debug_identifier)
        if kind in _XNN_OPS:
            assert any(o in t for t in e.op_types for o in _XNN_OPS[kind]), (kind, e.op_types)
            seen.add(kind)
    assert {"Conv2d", "FullyConnected", "Sigmoid", "MaxPooling2d"} <= seen, seen


# ---- delegate-node intermediate outputs ------------------------------------


class _XnnCNN(torch.nn.Module):
    """Conv + batch norm + ReLU (folded into the conv by the lowering), a
    pool, hardswish, a linear head. Shapes keep C, H and W apart, so that a
    channels-last value is told from its NCHW reading by its shape."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 3)
        self.bn = torch.nn.BatchNorm2d(8)
        self.conv2 = torch.nn.Conv2d(8, 12, 3, padding=1)
        self.fc = torch.nn.Linear(12 * 5 * 3, 10)
        with torch.no_grad():
            self.bn.running_mean.uniform_(-0.5, 0.5)
            self.bn.running_var.uniform_(0.5, 1.5)

    def forward(self, x):
        x = torch.relu(self.bn(self.conv(x)))
        x = torch.nn.functional.hardswish(self.conv2(torch.nn.functional.max_pool2d(x, 2)))
        return torch.sigmoid(self.fc(torch.flatten(x, 1)))


class _XnnBlock(torch.nn.Module):
    """A transformer block's attention and MLP (the linears, softmax and
    matmuls go to XNNPACK; what it does not take runs as kernels)."""

    def __init__(self, d: int = 16) -> None:
        super().__init__()
        self.qkv = torch.nn.Linear(d, 3 * d)
        self.proj = torch.nn.Linear(d, d)
        self.fc1 = torch.nn.Linear(d, 2 * d)
        self.fc2 = torch.nn.Linear(2 * d, d)

    def forward(self, x):
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        att = torch.softmax(q @ k.transpose(-2, -1) * 0.25, dim=-1)
        x = x + self.proj(att @ v)
        return x + self.fc2(torch.relu(self.fc1(x)))


_XNN_MODELS = {"cnn": (_XnnCNN, (1, 3, 12, 8)), "block": (_XnnBlock, (1, 6, 16))}


def _lower_xnnpack(tmp_path: Path, kind: str):
    """Upstream's XNNPACK lowering of one of the models above, with its
    ETRecord (delegate maps completed by map_delegate_nodes)."""
    from edgetorch.devtools.etrecord import map_delegate_nodes

    cls, shape = _XNN_MODELS[kind]
    torch.manual_seed(0)
    model = cls().eval()
    x = torch.randn(*shape)
    buf, pte, etr = _upstream_lowered(tmp_path, model, x)
    map_delegate_nodes(etr, buf, tmp_path / "mapped.etrecord")
    return model, x, buf, pte, etr, tmp_path / "mapped.etrecord"


@pytest.mark.parametrize("kind", sorted(_XNN_MODELS))
def test_xnnpack_node_outputs_in_inspector(tmp_path, kind):
    """With --debug-buffer, the CPU backend's node outputs are debug events
    with the node's delegate_debug_id_int: upstream's Inspector attaches
    them to the node events (one per node), and each equals what the eager
    edge graph (the ETRecord's) computes at the node the handle maps to."""
    from executorch.devtools import Inspector

    from edgetorch.devtools.debug import delegate_references, to_reference_layout

    model, x, buf, pte, _etr, mapped = _lower_xnnpack(tmp_path, kind)
    etdp, dbg = tmp_path / "m.etdp", tmp_path / "m.bin"
    runs = 2
    r = subprocess.run([str(cli_path()), str(pte), "--input", str(tmp_path / "x.npy"),
                        "--iterations", str(runs), "--etdump", str(etdp),
                        "--debug-buffer", str(dbg)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    ins = Inspector(etdump_path=str(etdp), etrecord=str(mapped), debug_buffer_path=str(dbg))
    block = _execute_block(ins)
    expected = xnnpack_delegate_nodes(buf)
    delegated = [e for e in block.events if e.is_delegated_op]
    assert len(delegated) == sum(map(len, expected.values()))
    ep = ins._etrecord.edge_dialect_program
    eager = eager_intermediates(ep, (x,))
    hmap = {int(k): v if isinstance(v, list) else [v]
            for k, v in ins._etrecord._debug_handle_map["forward"].items()}
    checked = set()
    for instr, nodes in expected.items():
        handles = [h for _, h in nodes]
        refs = delegate_references(ep, hmap[instr], handles)
        for e in (e for e in delegated if e._instruction_id == instr):
            h = e.delegate_debug_identifier
            # One output per node that carries the handle (nodes sharing a
            # handle share the Inspector's event group).
            assert e.debug_data is not None and len(e.debug_data) == handles.count(h), (
                kind, h, e.debug_data and len(e.debug_data))
            if h == 65535:  # added by the lowering: no graph node
                continue
            assert e.debug_handles == [h]
            ref = eager[refs[h]]
            assert isinstance(ref, torch.Tensor), (kind, h, refs[h], type(ref))
            # The last node with the handle computes the graph node's value.
            got, _layout = to_reference_layout(e.debug_data[-1].numpy(), tuple(ref.shape))
            torch.testing.assert_close(torch.from_numpy(got), ref.detach(),
                                       rtol=1e-3, atol=1e-4, msg=f"{kind} handle {h}")
            checked.add(h)
    real = {h for nodes in expected.values() for _, h in nodes if h != 65535}
    assert checked == real and len(real) >= 4, (checked, real)
    # Without --debug-buffer nothing is captured.
    r = subprocess.run([str(cli_path()), str(pte), "--input", str(tmp_path / "x.npy"),
                        "--etdump", str(tmp_path / "p.etdp")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    plain = _execute_block(Inspector(etdump_path=str(tmp_path / "p.etdp")))
    assert not any(e.debug_data for e in plain.events if e.is_delegated_op)


def test_compare_delegated_names_perturbed_node(tmp_path):
    """edgetorch.debug.compare on an upstream XNNPACK-lowered program: one
    row per delegate node (by debug handle) with its error against eager;
    in a copy of the program whose FullyConnected weights were changed in
    the payload's constant bytes, compare names that node first."""
    from edgetorch.devtools.debug import compare

    model, x, buf, _pte, etr, _mapped = _lower_xnnpack(tmp_path, "cnn")
    expected = xnnpack_delegate_nodes(buf)
    real = [h for nodes in expected.values() for _, h in nodes if h != 65535]
    res = compare(model, (x,), buf, etrecord=etr, rtol=1e-3, atol=1e-4)
    assert [r.handle for r in res.delegate_rows] == list(dict.fromkeys(real))
    assert res.first_divergent is None, res.table()
    assert any(r.layout == "NHWC" for r in res.delegate_rows)  # conv outputs
    # The linear's weight as upstream stored it (float32, [out, in]) occurs
    # once in the file: perturb one output row of it.
    w = model.fc.weight.detach().numpy().astype(np.float32)
    at = buf.find(w.tobytes())
    assert at >= 0 and buf.find(w.tobytes(), at + 1) < 0
    bad = bytearray(buf)
    row = w[3] + 0.5
    bad[at + 3 * w.shape[1] * 4: at + 4 * w.shape[1] * 4] = row.tobytes()
    res = compare(model, (x,), bytes(bad), etrecord=etr, rtol=1e-3, atol=1e-4)
    first = res.first_divergent
    assert first is not None, res.table()
    assert first.kind == "FullyConnected", res.table()
    assert first.node.startswith("aten_linear"), res.table()
    assert "first divergence" in res.table() and "FullyConnected" in res.table()
    # Nodes before it are still right; the sigmoid after it is not.
    k = res.delegate_rows.index(first)
    assert all(r.within_tolerance for r in res.delegate_rows[:k])
    assert not res.delegate_rows[-1].within_tolerance


def test_compare_delegated_block_every_instruction(tmp_path):
    """compare on the XNNPACK-lowered transformer block: a row for every
    kernel instruction between the delegates and for every delegate node
    with a graph node, all within tolerance of eager."""
    from edgetorch.devtools.debug import compare

    model, x, buf, _pte, etr, _mapped = _lower_xnnpack(tmp_path, "block")
    res = compare(model, (x,), buf, etrecord=etr, rtol=1e-3, atol=1e-4)
    expected = xnnpack_delegate_nodes(buf)
    real = [(i, h) for i, nodes in expected.items() for _, h in nodes if h != 65535]
    assert [(r.instruction, r.handle) for r in res.delegate_rows] == list(dict.fromkeys(real))
    from types import SimpleNamespace

    from executorch.exir._serialize._program import deserialize_pte_binary

    upstream = deserialize_pte_binary(buf)  # upstream's reader, not ours
    kernels = kernel_instructions(SimpleNamespace(program=getattr(upstream, "program", upstream)))
    assert kernels and len(res.rows) == len(kernels), res.table()
    assert not res.unmatched, res.unmatched
    assert res.first_divergent is None, res.table()


_DEBUG_MODEL = '''
import torch


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 3)
        self.fc = torch.nn.Linear(8 * 5 * 3, 10)

    def forward(self, x):
        x = torch.nn.functional.max_pool2d(torch.relu(self.conv(x)), 2)
        return torch.sigmoid(self.fc(torch.flatten(x, 1)))


def make():
    torch.manual_seed(0)
    return Net().eval(), (torch.randn(1, 3, 12, 8),)
'''


def test_debug_cli_etrecord(tmp_path):
    """`edgetorch debug MODEL --program P.pte --etrecord P.etrecord` compares
    a program lowered elsewhere (upstream's XNNPACK lowering) per delegate
    node: exit 0 with every node within tolerance; on a copy whose linear
    weights were changed, exit 1 naming the FullyConnected node."""
    import sys

    from edgetorch.cli import load_model

    src = tmp_path / "net.py"
    src.write_text(_DEBUG_MODEL)
    spec = f"{src}:make"
    model, args, _ = load_model(spec)
    buf, pte, etr = _upstream_lowered(tmp_path, model, args[0])

    def debug(*extra):
        return subprocess.run([sys.executable, "-m", "edgetorch", "debug", spec,
                               "--rtol", "1e-3", "--atol", "1e-4", *map(str, extra)],
                              capture_output=True, text=True)

    r = debug("--program", pte, "--etrecord", etr)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Conv2d (handle" in r.stdout and "FullyConnected (handle" in r.stdout, r.stdout
    assert "every operator is within tolerance" in r.stdout
    w = model.fc.weight.detach().numpy().astype(np.float32)
    at = buf.find(w.tobytes())
    assert at >= 0 and buf.find(w.tobytes(), at + 1) < 0
    bad = bytearray(buf)
    bad[at + 2 * w.shape[1] * 4: at + 3 * w.shape[1] * 4] = (w[2] + 0.5).tobytes()
    (tmp_path / "bad.pte").write_bytes(bytes(bad))
    r = debug("--program", tmp_path / "bad.pte", "--etrecord", etr)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "first divergence" in r.stdout and "delegate node FullyConnected" in r.stdout, r.stdout
    # Each flag needs the other, and said so (no traceback).
    for extra in (("--etrecord", etr), ("--program", pte)):
        r = debug(*extra)
        assert r.returncode != 0 and "needs --" in r.stderr and "Traceback" not in r.stderr
