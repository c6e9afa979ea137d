"""Program features beyond the acceptance models, on programs written by
upstream's exporter (the format oracle): delegates through the backend
interface (processed data in a segment and inline), the deprecated inline
constant buffers, the instruction-loop guard, and the error that lists every
missing operator.
"""
from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import torch

from runtime_harness import cli_error, run_binding, run_cli
from upstream_corpus import corpus  # noqa: F401  (session fixture)

from executorch.exir import to_edge
from executorch.exir._serialize._program import (
    _program_to_flatbuffer,
    deserialize_pte_binary,
    serialize_pte_binary,
)
from executorch.exir import schema


class _Linear(torch.nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.fc = torch.nn.Linear(8, 4)

    def forward(self, x):
        return torch.relu(self.fc(x))


X = np.linspace(-2.0, 2.0, 6, dtype=np.float32).reshape(2, 3)


def _run_both(tmp_path: Path, pte_bytes: bytes, inputs, name: str = "forward"):
    pte = tmp_path / "model.pte"
    pte.write_bytes(pte_bytes)
    paths = []
    for k, arr in enumerate(inputs):
        p = tmp_path / f"in{k}.npy"
        np.save(p, arr)
        paths.append(p)
    cli = run_cli(pte, name, paths, tmp_path / "out")
    binding = run_binding(pte_bytes, name, [inputs])
    return cli, binding


@pytest.mark.parametrize("name,extract_segments", [("delegated", True), ("delegated_inline", False)],
                         ids=["segment", "inline"])
def test_demo_backend_delegate(corpus, tmp_path, name, extract_segments):  # noqa: F811
    """The corpus's demo-delegated programs keep their payload where their
    name says (after the flatbuffer in a segment, or inline in it). The
    demo backend is test support: tests/c/test_delegates.c runs these
    programs and checks their numbers; the hosted CLI and binding do not
    register it and must name it."""
    data = corpus[name].pte.read_bytes()
    prog = deserialize_pte_binary(data).program
    assert prog.execution_plan[0].delegates[0].id == "BackendWithCompilerDemo"
    at = data.find(b"version:0#")
    has_header = data[8:12] == b"eh00"
    program_size = int.from_bytes(data[16:24], "little") if has_header else len(data)
    assert at > 0 and (at >= program_size) == extract_segments
    x = corpus[name].calls[0].load_inputs()
    cli, binding = _run_both(tmp_path, data, x)
    err = cli_error(cli)
    assert cli.returncode == 1 and err is not None and err.status == "NotFound", cli.stderr
    assert "'BackendWithCompilerDemo', which is not registered" in err.message
    assert binding.status == "NotFound"


def test_unknown_backend_is_named(corpus, tmp_path):  # noqa: F811
    data = bytearray(corpus["delegated"].pte.read_bytes())
    # Rename the backend id in place (same length keeps every offset valid).
    old = b"BackendWithCompilerDemo"
    at = data.find(old)
    assert at > 0
    data[at:at + len(old)] = b"BackendWithCompilerXxxx"
    cli, binding = _run_both(tmp_path, bytes(data), [X])
    err = cli_error(cli)
    assert cli.returncode != 0 and err is not None, cli.stderr
    assert err.status == "NotFound"
    assert "BackendWithCompilerXxxx" in err.message
    assert binding.status == "NotFound"


def _linear_program() -> tuple[bytes, np.ndarray, np.ndarray]:
    model = _Linear().eval()
    x = np.random.default_rng(1).standard_normal((3, 8)).astype(np.float32)
    et = to_edge(torch.export.export(model, (torch.from_numpy(x),))).to_executorch()
    with torch.no_grad():
        want = model(torch.from_numpy(x)).numpy()
    return et.buffer, x, want


def test_deprecated_inline_constant_buffers(tmp_path):
    """Files from before the constant segment kept constants in
    Program.constant_buffer inside the flatbuffer."""
    data, x, want = _linear_program()
    program = deserialize_pte_binary(data).program
    old = copy.deepcopy(program)
    # Deserialization restores constants as buffers; keep them inline.
    assert len(old.constant_buffer) > 1
    old.constant_segment = schema.SubsegmentOffsets(segment_index=0, offsets=[])
    old.segments = []
    inline = bytes(_program_to_flatbuffer(old).data)
    assert inline[8:12] != b"eh00"  # no extended header, no segments
    cli, binding = _run_both(tmp_path, inline, [x])
    assert cli.returncode == 0, cli.stderr
    np.testing.assert_allclose(cli.outputs[0], want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(binding[0][0], want, rtol=1e-5, atol=1e-6)


def test_missing_operators_are_all_listed(tmp_path):
    data, x, _ = _linear_program()
    pte = deserialize_pte_binary(data)
    for op in pte.program.execution_plan[0].operators:
        op.name = op.name.replace("aten::", "aten::nosuch_")
    bad = bytes(serialize_pte_binary(pte))
    cli, binding = _run_both(tmp_path, bad, [x])
    err = cli_error(cli)
    assert err is not None and err.status == "OperatorMissing", cli.stderr
    names = {f"{o.name}.{o.overload}" for o in pte.program.execution_plan[0].operators}
    assert len(names) >= 3
    for n in names:
        assert n in err.message, (n, err.message)
    assert binding.status == "OperatorMissing"


def test_instruction_loop_guard(tmp_path):
    """A JumpFalse onto itself on a false condition never ends; the runtime
    stops it with OutOfResources instead of hanging."""
    data, x, _ = _linear_program()
    pte = deserialize_pte_binary(data)
    plan = pte.program.execution_plan[0]
    plan.values.append(schema.EValue(val=schema.Bool(bool_val=False)))
    cond = len(plan.values) - 1
    plan.chains[0].instructions.insert(
        0, schema.Instruction(instr_args=schema.JumpFalseCall(
            cond_value_index=cond, destination_instruction=0)))
    looping = bytes(serialize_pte_binary(pte))
    cli, binding = _run_both(tmp_path, looping, [x])
    err = cli_error(cli)
    assert err is not None and err.status == "OutOfResources", cli.stderr
    assert "loops" in err.message
    assert binding.status == "OutOfResources"


def test_write_into_constant_through_move_is_refused(tmp_path):
    """A move can make a written value alias a constant; the runtime catches
    the write at run time instead of scribbling on the program bytes."""
    data, x, _ = _linear_program()
    pte = deserialize_pte_binary(data)
    plan = pte.program.execution_plan[0]
    kernel_calls = [i.instr_args for i in plan.chains[0].instructions
                    if isinstance(i.instr_args, schema.KernelCall)]
    # The first kernel's out argument (its second-to-last) is a planned tensor.
    first = kernel_calls[0]
    out_value = first.args[-2]
    const_value = next(i for i, v in enumerate(plan.values)
                       if isinstance(v.val, schema.Tensor) and v.val.data_buffer_idx > 0
                       and v.val.allocation_info is None)
    assert plan.values[out_value].val.allocation_info is not None
    plan.chains[0].instructions.insert(0, schema.Instruction(
        instr_args=schema.MoveCall(move_from=const_value, move_to=out_value)))
    bad = bytes(serialize_pte_binary(pte))
    cli, binding = _run_both(tmp_path, bad, [x])
    err = cli_error(cli)
    assert err is not None and err.status == "InvalidProgram", cli.stderr
    assert "constant" in err.message
    assert binding.status == "InvalidProgram"
