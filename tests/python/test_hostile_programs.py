"""Crafted hostile programs (issue 9, items 4 and 5): each was reproduced
against the runtime before its fix (a crash, a write into memory the runtime
does not own, or minutes of work for a small file) and must now give a named
error or a correct result, through the Python binding and through
edgetorch-run, quickly, without touching the caller's bytes or inputs.

The programs start from upstream-exported corpus programs (the format oracle)
edited with upstream's (de)serializer, or are built with edgetorch's own
flatbuffer encoder where a structure must be shared between references.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import numpy as np
import pytest

import upstream_corpus as uc
from runtime_harness import cli_error, et_runtime, run_cli, status_name
from test_bad_files import _schema, plan_of, reserialize
from upstream_corpus import corpus  # noqa: F401  (session fixture)


def _error(fn):
    """Run fn(); return (status name, message) of the EdgetorchError it
    raises, or fail if it raises none."""
    rt = et_runtime()
    try:
        fn()
    except rt.EdgetorchError as e:  # type: ignore[attr-defined]
        return status_name(getattr(e, "status", None)), str(getattr(e, "message", "") or e)
    pytest.fail("expected an EdgetorchError")


def _mlp(corpus):  # noqa: F811
    prog = corpus["mlp"]
    call = prog.calls_for("forward")
    return prog.pte.read_bytes(), call[0], call[1]


def _input_value(plan) -> int:
    return plan.inputs[0]


def _tensor_like(S, t, **changes):
    """A copy of tensor t's schema entry with the given fields changed."""
    new = S.Tensor(
        scalar_type=t.scalar_type,
        storage_offset=0,
        sizes=list(t.sizes),
        dim_order=list(t.dim_order),
        requires_grad=False,
        layout=t.layout,
        data_buffer_idx=0,
        allocation_info=None,
        shape_dynamism=t.shape_dynamism,
        extra_tensor_info=None,
    )
    for k, v in changes.items():
        setattr(new, k, v)
    return new


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


# --- moves into an input -----------------------------------------------------


def test_move_of_storageless_tensor_into_input(corpus, tmp_path):  # noqa: F811
    """A MoveCall at the end of the chain re-points the input value at a
    tensor with no data; the next set_input used to memmove through NULL
    (SIGSEGV on the second execute). Inputs are restored before each set and
    each run, so every run computes the right answer."""
    data, c0, c1 = _mlp(corpus)

    def edit(program):
        S = _schema()
        plan = plan_of(program)
        x = _input_value(plan)
        plan.values.append(S.EValue(val=_tensor_like(S, plan.values[x].val)))
        plan.chains[0].instructions.append(
            S.Instruction(instr_args=S.MoveCall(move_from=len(plan.values) - 1, move_to=x)))

    bad = reserialize(data, pre=edit)
    rt = et_runtime()
    m = rt.load_program(bad).load_method("forward")
    for call in (c0, c1, c0):
        got = m.execute(call.load_inputs())
        uc.assert_outputs_close(got, call.load_expected(), "binding")
    res = run_cli(_write(tmp_path, "move.pte", bad), "forward", c0.inputs, tmp_path / "out",
                  iterations=3)
    assert res.returncode == 0, res.stderr
    uc.assert_outputs_close(res.outputs, c0.load_expected(), "cli")


def test_move_of_constant_into_input_leaves_program_bytes_alone(corpus, tmp_path):  # noqa: F811
    """A MoveCall from a constant into the input: the next set_input used to
    write the caller's data into the program's constants (the bytes object
    given to load_program changed; SIGSEGV with --mmap)."""
    data, c0, c1 = _mlp(corpus)

    def edit(program):
        S = _schema()
        plan = plan_of(program)
        x = _input_value(plan)
        t = plan.values[x].val
        n = int(np.prod(t.sizes))
        program.constant_buffer.append(S.Buffer(storage=np.arange(n, dtype=np.float32).tobytes()))
        plan.values.append(S.EValue(val=_tensor_like(S, t, data_buffer_idx=len(program.constant_buffer) - 1)))
        plan.chains[0].instructions.append(
            S.Instruction(instr_args=S.MoveCall(move_from=len(plan.values) - 1, move_to=x)))

    bad = reserialize(data, pre=edit)
    digest = hashlib.sha256(bad).hexdigest()
    rt = et_runtime()
    m = rt.load_program(bad).load_method("forward")
    for call in (c0, c1):
        uc.assert_outputs_close(m.execute(call.load_inputs()), call.load_expected(), "binding")
    assert hashlib.sha256(bad).hexdigest() == digest, "the program's bytes were written"
    pte = _write(tmp_path, "move_const.pte", bad)
    for extra in ((), ("--mmap",)):
        res = run_cli(pte, "forward", c1.inputs, tmp_path / "out", iterations=2, extra=extra)
        assert res.returncode == 0, res.stderr
        uc.assert_outputs_close(res.outputs, c1.load_expected(), f"cli {extra}")
    assert hashlib.sha256(pte.read_bytes()).hexdigest() == digest


# --- kernels writing the caller's inputs ---------------------------------------


def _unplanned_input_written(data: bytes, through_view: bool) -> bytes:
    """The MLP with its input left in the caller's memory (no allocation
    info) and a first instruction relu.out(x, out=x), or, through a view,
    et_view(x, sizes, out=v) then relu.out(v, out=v)."""

    def edit(program):
        S = _schema()
        plan = plan_of(program)
        x = _input_value(plan)
        plan.values[x].val.allocation_info = None
        relu = next(i for i, op in enumerate(plan.operators) if op.name == "aten::relu")
        target = x
        first = []
        if through_view:
            t = plan.values[x].val
            plan.values.append(S.EValue(val=_tensor_like(S, t)))
            v = len(plan.values) - 1
            ints = []
            for s in t.sizes:
                plan.values.append(S.EValue(val=S.Int(int_val=s)))
                ints.append(len(plan.values) - 1)
            plan.values.append(S.EValue(val=S.IntList(items=ints)))
            sizes = len(plan.values) - 1
            plan.operators.append(S.Operator(name="executorch_prim::et_view", overload="default"))
            first.append(S.Instruction(instr_args=S.KernelCall(
                op_index=len(plan.operators) - 1, args=[x, sizes, v])))
            target = v
        first.append(S.Instruction(instr_args=S.KernelCall(op_index=relu, args=[target, target, target])))
        plan.chains[0].instructions[0:0] = first

    return reserialize(data, pre=edit)


@pytest.mark.parametrize("through_view", [False, True], ids=["direct", "view"])
def test_kernel_cannot_write_callers_input(corpus, tmp_path, through_view):  # noqa: F811
    """The caller's input array is used in place; a kernel writing it (directly
    or through an et_view alias) used to write the caller's array (SIGSEGV for
    a read-only np.load(mmap_mode='r') array, silent change of a
    writeable=False one). It is refused at run time by name."""
    data, c0, _ = _mlp(corpus)
    bad = _unplanned_input_written(data, through_view)
    rt = et_runtime()
    m = rt.load_program(bad).load_method("forward")
    x = c0.load_inputs()[0]
    frozen = x.copy()
    frozen.flags.writeable = False
    mapped = np.load(c0.inputs[0], mmap_mode="r")
    for arr in (frozen, mapped):
        before = np.array(arr, copy=True)
        status, msg = _error(lambda: m.execute([arr]))
        assert status == "InvalidProgram", msg
        assert "caller's input" in msg, msg
        np.testing.assert_array_equal(arr, before)
    res = run_cli(_write(tmp_path, "write_input.pte", bad), "forward", c0.inputs, tmp_path / "out")
    err = cli_error(res)
    assert res.returncode == 1 and err is not None, res.stderr
    assert err.status == "InvalidProgram" and "caller's input" in err.message


# --- outputs without memory ---------------------------------------------------


def test_output_without_memory_is_refused_at_init(corpus, tmp_path):  # noqa: F811
    """No instructions and an output tensor without allocation info: execute
    used to say Ok and return an output with no storage."""
    data, c0, _ = _mlp(corpus)

    def edit(program):
        plan = plan_of(program)
        plan.chains[0].instructions = []
        plan.values[plan.outputs[0]].val.allocation_info = None

    bad = reserialize(data, pre=edit)
    rt = et_runtime()
    prog = rt.load_program(bad)
    status, msg = _error(lambda: prog.load_method("forward"))
    assert status == "InvalidProgram", msg
    assert "output 0" in msg and "no memory" in msg, msg
    res = run_cli(_write(tmp_path, "noout.pte", bad), "forward", c0.inputs, tmp_path / "out")
    err = cli_error(res)
    assert res.returncode == 1 and err is not None, res.stderr
    assert err.status == "InvalidProgram" and "output 0" in err.message


# --- bounded cost -------------------------------------------------------------


def _looping(data: bytes) -> bytes:
    """The MLP with a JumpFalse on a constant False back to instruction 0 at
    the end of its chain: every run loops forever."""

    def edit(program):
        S = _schema()
        plan = plan_of(program)
        plan.values.append(S.EValue(val=S.Bool(bool_val=False)))
        plan.chains[0].instructions.append(S.Instruction(instr_args=S.JumpFalseCall(
            cond_value_index=len(plan.values) - 1, destination_instruction=0)))

    return reserialize(data, pre=edit)


def test_backward_jump_runs_a_bounded_number_of_instructions(corpus, tmp_path):  # noqa: F811
    """The default limit is the method's length times ET_INSTRUCTION_BUDGET
    (1024), not a fixed 10M: a looping program fails in a fraction of a
    second with OutOfResources; the CLI's --max-instructions sets it."""
    data, c0, _ = _mlp(corpus)
    bad = _looping(data)
    rt = et_runtime()
    m = rt.load_program(bad).load_method("forward")
    t0 = time.perf_counter()
    status, msg = _error(lambda: m.execute(c0.load_inputs()))
    elapsed = time.perf_counter() - t0
    assert status == "OutOfResources", msg
    assert "instructions" in msg and "limit" in msg, msg
    assert elapsed < 10, f"a looping program ran {elapsed:.1f} s"
    pte = _write(tmp_path, "loop.pte", bad)
    res = run_cli(pte, "forward", c0.inputs, tmp_path / "out", extra=("--max-instructions", "50"))
    err = cli_error(res)
    assert res.returncode == 1 and err is not None, res.stderr
    assert err.status == "OutOfResources" and "over 50 instructions" in err.message


def test_huge_planned_buffer_is_refused_before_allocation(corpus, tmp_path):  # noqa: F811
    """A small file declaring a 2 GiB planned buffer used to make the module
    allocate and zero it; the module's memory limit (default 1 GiB, CLI
    --max-memory) refuses it before touching memory."""
    data, c0, _ = _mlp(corpus)

    def edit(program):
        plan_of(program).non_const_buffer_sizes[1] = 2 << 30

    bad = reserialize(data, pre=edit)
    assert len(bad) < 64 << 10
    rt = et_runtime()
    prog = rt.load_program(bad)
    t0 = time.perf_counter()
    status, msg = _error(lambda: prog.load_method("forward"))
    assert status == "MemoryAllocationFailed", msg
    assert "over the module's limit" in msg, msg
    assert time.perf_counter() - t0 < 5
    pte = _write(tmp_path, "huge.pte", bad)
    res = run_cli(pte, "forward", c0.inputs, tmp_path / "out")
    err = cli_error(res)
    assert res.returncode == 1 and err is not None and err.status == "MemoryAllocationFailed"
    assert "--max-memory" in err.message
    # The limit is the caller's: a smaller one refuses the unmodified MLP.
    res = run_cli(_write(tmp_path, "mlp.pte", data), "forward", c0.inputs, tmp_path / "out2",
                  extra=("--max-memory", "64"))
    err = cli_error(res)
    assert res.returncode == 1 and err is not None and err.status == "MemoryAllocationFailed"


def _encode_sharing(program) -> bytes:
    """Encode with edgetorch's flatbuffer encoder, writing a list object that
    several tables reference once (a legal flatbuffer: offsets may share a
    target). Breadth-first writing puts every referencing table before the
    shared vector, so all offsets point forward."""
    from edgetorch.pte import flatbuffer as fb

    class Sharing(fb._Encoder):
        def __init__(self) -> None:
            super().__init__()
            self.memo = {}

        def drain(self) -> None:
            while self.pending:
                at, kind, value = self.pending.popleft()
                key = id(value) if isinstance(value, list) and value else None
                if key is not None and key in self.memo:
                    pos = self.memo[key]
                else:
                    pos = self.write_child(kind, value)
                    if key is not None:
                        self.memo[key] = pos
                self.patch(at, pos)

    enc = Sharing()
    enc.buf += bytes(4) + b"ET12"
    enc.pad_to(8)
    import struct

    root = enc.write_table(program)
    struct.pack_into("<I", enc.buf, 0, root)
    enc.drain()
    enc.pad_to(16)
    return bytes(enc.buf)


def _int_plan(name: str, values):
    from edgetorch.pte import schema as S

    return S.ExecutionPlan(name=name, values=values, inputs=[], outputs=[],
                           chains=[S.Chain(instructions=[])], operators=[], delegates=[],
                           non_const_buffer_sizes=[0])


def _load_seconds(data: bytes, repeat: int = 3):
    """Best-of-n seconds to load `data`, and the error it gave (or None)."""
    rt = et_runtime()
    best, err = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        try:
            rt.load_program(data)
            err = None
        except rt.EdgetorchError as e:  # type: ignore[attr-defined]
            err = (status_name(getattr(e, "status", None)), str(getattr(e, "message", "") or e))
        best = min(best, time.perf_counter() - t0)
    return best, err


def test_load_time_is_linear_in_file_size():
    """4,000 methods sharing one 40,000-entry values vector (a 1 MB file)
    used to take over a minute to verify (each method re-verified the shared
    vector). Verification now has a work budget proportional to the file's
    bytes: the file is refused, in time comparable to loading a plain file
    of the same size (a generous factor, measured in the same run)."""
    from edgetorch.pte import schema as S

    n_values = 40_000
    shared = [S.EValue(val=S.Int(int_val=i)) for i in range(n_values)]
    crafted = _encode_sharing(S.Program(execution_plan=[_int_plan(f"m{k}", shared) for k in range(4000)]))
    # The plain file: one method with as many distinct values as fill the
    # same number of bytes.
    per_value = len(_encode_sharing(S.Program(execution_plan=[_int_plan("m", shared)]))) / n_values
    plain_values = [S.EValue(val=S.Int(int_val=i)) for i in range(int(len(crafted) / per_value))]
    plain = _encode_sharing(S.Program(execution_plan=[_int_plan("forward", plain_values)]))
    assert 0.5 < len(plain) / len(crafted) < 2, (len(plain), len(crafted))

    t_plain, err = _load_seconds(plain)
    assert err is None, err
    t_crafted, err = _load_seconds(crafted)
    assert err is not None and err[0] == "InvalidProgram", err
    assert "shared by too many references" in err[1], err
    assert t_crafted < 25 * t_plain + 0.5, (
        f"crafted {len(crafted)} B file took {t_crafted:.3f} s; a plain {len(plain)} B file {t_plain:.3f} s")

    # Many distinct methods are not shared structures: a file of 2,000
    # small methods loads, in time proportional to its size.
    many = _encode_sharing(S.Program(execution_plan=[
        _int_plan(f"m{k}", [S.EValue(val=S.Int(int_val=k))]) for k in range(2000)]))
    t_many, err = _load_seconds(many)
    assert err is None, err
    assert t_many / len(many) < 25 * t_plain / len(plain) + 0.5 / len(many)


def test_repeated_method_name_uses_the_first(corpus):  # noqa: F811
    """Two methods of one name are loaded, not refused (refusing needs time
    quadratic in the number of methods): the first is the one run, as
    upstream's runtime does."""
    prog = corpus["two_methods"]
    data = reserialize(prog.pte.read_bytes(), pre=lambda p: setattr(plan_of(p, "other"), "name", "forward"))
    rt = et_runtime()
    call = prog.calls_for("forward")[0]
    got = rt.load_program(data).load_method("forward").execute(call.load_inputs())
    uc.assert_outputs_close(got, call.load_expected(), "first 'forward'")

    import torch
    from executorch.runtime import Runtime

    up = Runtime.get().load_program(data).load_method("forward")
    want = up.execute([torch.from_numpy(a) for a in call.load_inputs()])
    uc.assert_outputs_close(got, [w.numpy() for w in want], "upstream")
