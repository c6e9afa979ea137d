"""Bad files and bad inputs: every defect gets its status and a message.

Each case takes a valid corpus program (exported by upstream), makes one
defect, and checks that edgetorch refuses it with the expected status name
and a non-empty message, both through the Python binding (EdgetorchError
with .status) and through edgetorch-run (non-zero exit and an
`error: <Status>: message` line on stderr). A refused structural defect must
be refused before execution (verify once, then trust).

Defects are made by decoding the file with upstream's deserializer, changing
one field of the schema dataclasses and re-serializing with upstream's
serializer, or, where that is simpler, by patching bytes (header fields,
truncation). Fields that upstream's serializer computes itself (segments,
constant_segment, mutable_data_segments) are changed in a hook that runs
just before the flatbuffer is written.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import pytest

import upstream_corpus as uc
from runtime_harness import Failure, cli_error, run_binding, run_cli
from upstream_corpus import corpus  # noqa: F401  (session fixture)

# ---------------------------------------------------------------------------
# Editing programs with upstream's (de)serializer
# ---------------------------------------------------------------------------


def _ser():
    import executorch.exir._serialize._program as P

    return P


def reserialize(data: bytes, pre: Optional[Callable] = None, post: Optional[Callable] = None) -> bytes:
    """Decode `data`, apply pre(program) to the schema dataclasses, encode
    again; post(program) runs after upstream has laid out the segments, just
    before the flatbuffer is built."""
    P = _ser()
    pte = P.deserialize_pte_binary(data)
    if pre is not None:
        pre(pte.program)
    if post is None:
        return bytes(P.serialize_pte_binary(pte))
    original = P._program_to_flatbuffer

    def hooked(program, *args, **kwargs):
        post(program)
        return original(program, *args, **kwargs)

    P._program_to_flatbuffer = hooked
    try:
        return bytes(P.serialize_pte_binary(pte))
    finally:
        P._program_to_flatbuffer = original


def _schema():
    import executorch.exir.schema as S

    return S


def plan_of(program, name: str = "forward"):
    for p in program.execution_plan:
        if p.name == name:
            return p
    raise KeyError(name)


def values_of(plan, kind: str) -> List[int]:
    return [i for i, v in enumerate(plan.values) if type(v.val).__name__ == kind]


def kernel_calls(plan) -> List[Tuple[int, int, object]]:
    S = _schema()
    out = []
    for ci, chain in enumerate(plan.chains):
        for ii, ins in enumerate(chain.instructions):
            if isinstance(ins.instr_args, S.KernelCall):
                out.append((ci, ii, ins.instr_args))
    return out


def call_of(plan, op: str):
    """The first KernelCall of operator `op` ("aten::relu")."""
    for _, _, kc in kernel_calls(plan):
        if plan.operators[kc.op_index].name == op:
            return kc
    raise KeyError(op)


def planned_tensors(plan) -> List[int]:
    return [i for i in values_of(plan, "Tensor") if plan.values[i].val.allocation_info is not None]


def constant_tensors(plan) -> List[int]:
    return [
        i
        for i in values_of(plan, "Tensor")
        if plan.values[i].val.allocation_info is None and plan.values[i].val.data_buffer_idx > 0
    ]


def intermediate_tensor(plan) -> int:
    """A planned tensor that is neither an input nor an output, of rank 2."""
    for i in planned_tensors(plan):
        t = plan.values[i].val
        if i not in plan.inputs and i not in plan.outputs and len(t.sizes) == 2:
            return i
    raise LookupError("no planned rank-2 intermediate")


def tensor_nbytes(t) -> int:
    n = 4 if int(t.scalar_type) == 6 else 8
    for s in t.sizes:
        n *= s
    return n


# --- edits (each returns a function program -> None) -----------------------


def edit_plan(fn: Callable, method: str = "forward") -> Callable:
    return lambda program: fn(plan_of(program, method))


def set_kernel_arg(op: str, arg: int, value: Callable) -> Callable:
    def f(plan):
        kc = call_of(plan, op)
        kc.args[arg] = value(plan)

    return edit_plan(f)


def set_tensor(pick: Callable, **changes) -> Callable:
    def f(plan):
        t = plan.values[pick(plan)].val
        for k, v in changes.items():
            setattr(t, k, v(plan, t) if callable(v) else v)

    return edit_plan(f)


def set_alloc(pick: Callable, **changes) -> Callable:
    def f(plan):
        a = plan.values[pick(plan)].val.allocation_info
        for k, v in changes.items():
            setattr(a, k, v(plan, a) if callable(v) else v)

    return edit_plan(f)


def first_list_item(kind: str, value: Callable) -> Callable:
    def f(plan):
        for i in values_of(plan, kind):
            if plan.values[i].val.items:
                plan.values[i].val.items[0] = value(plan)
                return
        raise LookupError(f"no non-empty {kind}")

    return edit_plan(f)


def replace_instruction(make: Callable, index: int = 0) -> Callable:
    def f(plan):
        S = _schema()
        old = plan.chains[0].instructions[index].instr_args
        plan.chains[0].instructions[index] = S.Instruction(instr_args=make(S, plan, old))

    return edit_plan(f)


def set_jump(**changes) -> Callable:
    def f(plan):
        S = _schema()
        for ins in plan.chains[0].instructions:
            if isinstance(ins.instr_args, S.JumpFalseCall):
                for k, v in changes.items():
                    setattr(ins.instr_args, k, v(plan) if callable(v) else v)
                return
        raise LookupError("no JumpFalseCall")

    return edit_plan(f)


def set_move(**changes) -> Callable:
    def f(plan):
        S = _schema()
        for ins in plan.chains[0].instructions:
            if isinstance(ins.instr_args, S.MoveCall):
                for k, v in changes.items():
                    setattr(ins.instr_args, k, v(plan) if callable(v) else v)
                return
        raise LookupError("no MoveCall")

    return edit_plan(f)


def nvalues(plan) -> int:
    return len(plan.values)


def add_delegate(backend_id: str = "NoSuchBackend", location: int = 0, index: int = 0, inline: bytes = b"payload") -> Callable:
    """Give the plan one delegate and turn its first instruction into a
    DelegateCall of it (same arguments)."""

    def f(program):
        S = _schema()
        plan = plan_of(program)
        if inline is not None:
            program.backend_delegate_data.append(S.BackendDelegateInlineData(data=inline))
        plan.delegates.append(
            S.BackendDelegate(
                id=backend_id,
                processed=S.BackendDelegateDataReference(location=S.DataLocation(location), index=index),
                compile_specs=[],
            )
        )
        old = plan.chains[0].instructions[0].instr_args
        plan.chains[0].instructions[0] = S.Instruction(instr_args=S.DelegateCall(delegate_index=0, args=list(old.args)))

    return f


# --- byte patches -----------------------------------------------------------


def patch(offset: int, fmt: str, value: Callable) -> Callable:
    def f(data: bytes) -> bytes:
        b = bytearray(data)
        struct.pack_into(fmt, b, offset, value(data))
        return bytes(b)

    return f


def truncate(at: Callable) -> Callable:
    return lambda data: data[: at(data)]


def ext_header(data: bytes) -> Tuple[int, int, int, int]:
    assert data[8:12] == b"eh00", "corpus program without an extended header"
    return struct.unpack_from("<IQQQ", data, 12)


# ---------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------


@dataclass
class Case:
    id: str
    base: str  # corpus program
    status: str
    pre: Optional[Callable] = None  # schema edit before serialization
    post: Optional[Callable] = None  # schema edit after segment layout
    raw: Optional[Callable] = None  # bytes -> bytes
    contains: Sequence[str] = ()  # the message must mention these
    method: Optional[str] = None  # method to run (default: first call's)

    def make(self, data: bytes) -> bytes:
        if self.pre is not None or self.post is not None:
            data = reserialize(data, self.pre, self.post)
        if self.raw is not None:
            data = self.raw(data)
        return data


INVALID = "InvalidProgram"
U64 = 2**64


def _trunc_cases() -> List[Case]:
    cuts = {
        "empty": lambda d: 0,
        "4": lambda d: 4,
        "7": lambda d: 7,
        "8": lambda d: 8,
        "in-ext-header": lambda d: 20,
        "after-ext-header": lambda d: 40,
        "third": lambda d: len(d) // 3,
        "end-of-flatbuffer": lambda d: ext_header(d)[1] - 1,
        "before-segments": lambda d: ext_header(d)[2],
        "in-constant-segment": lambda d: ext_header(d)[2] + 100,
        "last-byte": lambda d: len(d) - 1,
    }
    return [Case(f"truncate-{k}", "mlp", INVALID, raw=truncate(v)) for k, v in cuts.items()]


CASES: List[Case] = _trunc_cases() + [
    # --- identifiers and headers ---
    Case("identifier-wrong", "mlp", INVALID, raw=patch(4, "4s", lambda d: b"XT12")),
    Case("identifier-zero", "mlp", INVALID, raw=patch(4, "4s", lambda d: b"\0\0\0\0")),
    Case("identifier-newer-ET13", "mlp", "NotSupported", raw=patch(4, "4s", lambda d: b"ET13"), contains=("ET13", "ET12")),
    Case("root-offset-beyond-file", "mlp", INVALID, raw=patch(0, "<I", lambda d: len(d) + 8)),
    Case("root-offset-zero", "mlp", INVALID, raw=patch(0, "<I", lambda d: 0)),
    Case("ext-header-length-below-24", "mlp", INVALID, raw=patch(12, "<I", lambda d: 16)),
    Case("ext-header-program-size-beyond-file", "mlp", INVALID, raw=patch(16, "<Q", lambda d: len(d) + 64)),
    Case("ext-header-program-size-huge", "mlp", INVALID, raw=patch(16, "<Q", lambda d: U64 - 1)),
    Case("ext-header-segment-base-beyond-file", "mlp", INVALID, raw=patch(24, "<Q", lambda d: len(d) + 128)),
    Case("ext-header-segment-size-beyond-file", "mlp", INVALID, raw=patch(32, "<Q", lambda d: ext_header(d)[3] + 1)),
    Case("ext-header-segment-base-overflow", "mlp", INVALID, raw=patch(24, "<Q", lambda d: U64 - 64)),
    # --- out-of-range indices ---
    Case("kernel-arg-value-index", "mlp", INVALID, pre=set_kernel_arg("aten::relu", 0, nvalues)),
    Case("kernel-arg-value-index-negative", "mlp", INVALID, pre=set_kernel_arg("aten::relu", 0, lambda p: -1)),
    Case("kernel-arg-value-index-int32-max", "mlp", INVALID, pre=set_kernel_arg("aten::relu", 1, lambda p: 2**31 - 1)),
    Case("operator-index", "mlp", INVALID, pre=edit_plan(lambda p: setattr(call_of(p, "aten::relu"), "op_index", len(p.operators)))),
    Case("operator-index-negative", "mlp", INVALID, pre=edit_plan(lambda p: setattr(call_of(p, "aten::relu"), "op_index", -1))),
    Case(
        "delegate-index",
        "mlp",
        INVALID,
        pre=replace_instruction(lambda S, plan, old: S.DelegateCall(delegate_index=0, args=list(old.args))),
    ),
    Case(
        "delegate-index-negative",
        "mlp",
        INVALID,
        pre=replace_instruction(lambda S, plan, old: S.DelegateCall(delegate_index=-1, args=list(old.args))),
    ),
    Case("input-index", "mlp", INVALID, pre=edit_plan(lambda p: p.inputs.__setitem__(0, len(p.values)))),
    Case("input-index-negative", "mlp", INVALID, pre=edit_plan(lambda p: p.inputs.__setitem__(0, -5))),
    Case("output-index", "mlp", INVALID, pre=edit_plan(lambda p: p.outputs.__setitem__(0, len(p.values) + 10))),
    Case("tensorlist-item", "transformer", INVALID, pre=first_list_item("TensorList", nvalues)),
    Case("tensorlist-item-negative", "transformer", INVALID, pre=first_list_item("TensorList", lambda p: -2)),
    Case("tensorlist-item-not-tensor", "transformer", INVALID, pre=first_list_item("TensorList", lambda p: values_of(p, "Int")[0])),
    Case("intlist-item", "mlp", INVALID, pre=first_list_item("IntList", nvalues)),
    Case("intlist-item-negative", "mlp", INVALID, pre=first_list_item("IntList", lambda p: -1)),
    Case("intlist-item-not-int", "mlp", INVALID, pre=first_list_item("IntList", lambda p: values_of(p, "Tensor")[0])),
    Case("data-buffer-idx", "mlp", INVALID, pre=set_tensor(lambda p: constant_tensors(p)[0], data_buffer_idx=10_000)),
    Case("data-buffer-idx-uint32-max", "mlp", INVALID, pre=set_tensor(lambda p: constant_tensors(p)[0], data_buffer_idx=2**32 - 1)),
    Case("external-location-unknown", "mlp", INVALID, contains=("bad external tensor (location 2)",),
         pre=set_tensor(lambda p: constant_tensors(p)[0], extra_tensor_info=lambda p, t: _schema().ExtraTensorInfo(fully_qualified_name="w", location=2))),
    Case("external-without-name", "mlp", INVALID, contains=("bad external tensor (location 1)",),
         pre=set_tensor(lambda p: constant_tensors(p)[0], extra_tensor_info=lambda p, t: _schema().ExtraTensorInfo(location=1))),
    Case("external-empty-name", "mlp", INVALID, contains=("bad external tensor",),
         pre=set_tensor(lambda p: constant_tensors(p)[0], extra_tensor_info=lambda p, t: _schema().ExtraTensorInfo(fully_qualified_name="", location=1))),
    Case(
        "constant-segment-index",
        "mlp",
        INVALID,
        post=lambda prog: setattr(prog.constant_segment, "segment_index", len(prog.segments) + 3),
    ),
    Case(
        "constant-offset-beyond-segment",
        "mlp",
        INVALID,
        post=lambda prog: prog.constant_segment.offsets.__setitem__(1, prog.segments[0].size + 16),
    ),
    Case("memory-id", "mlp", INVALID, pre=set_alloc(lambda p: intermediate_tensor(p), memory_id=lambda p, a: len(p.non_const_buffer_sizes))),
    Case("memory-id-zero", "mlp", INVALID, pre=set_alloc(lambda p: intermediate_tensor(p), memory_id=0)),
    Case("memory-id-uint32-max", "mlp", INVALID, pre=set_alloc(lambda p: intermediate_tensor(p), memory_id=2**32 - 1)),
    Case(
        "mutable-data-segment-index",
        "stateful_init",
        INVALID,
        post=lambda prog: setattr(prog.mutable_data_segments[0], "segment_index", len(prog.segments) + 7),
    ),
    Case(
        "mutable-data-buffer-idx",
        "stateful_init",
        INVALID,
        pre=set_tensor(lambda p: next(i for i in planned_tensors(p) if p.values[i].val.data_buffer_idx > 0), data_buffer_idx=50),
    ),
    Case(
        "mutable-data-offset-beyond-segment",
        "stateful_init",
        INVALID,
        post=lambda prog: prog.mutable_data_segments[0].offsets.__setitem__(1, prog.segments[prog.mutable_data_segments[0].segment_index].size - 4),
    ),
    # --- segments ---
    Case("segment-offset-overflow", "mlp", INVALID, post=lambda prog: setattr(prog.segments[0], "offset", U64 - 16)),
    Case("segment-size-overflow", "mlp", INVALID, post=lambda prog: setattr(prog.segments[0], "size", U64 - 1)),
    Case("segment-beyond-data", "mlp", INVALID, post=lambda prog: setattr(prog.segments[0], "offset", 1 << 20)),
    # --- tensors ---
    Case(
        "sizes-numel-overflow",
        "mlp",
        INVALID,
        pre=set_tensor(intermediate_tensor, sizes=[2**30, 2**30, 2**30], dim_order=[0, 1, 2]),
    ),
    # numel fits in 64 bits, numel * 4 bytes does not
    Case(
        "sizes-nbytes-overflow",
        "mlp",
        INVALID,
        pre=set_tensor(intermediate_tensor, sizes=[2**31 - 1, 2**31 - 1, 4], dim_order=[0, 1, 2]),
    ),
    Case(
        "constant-sizes-beyond-data",
        "mlp",
        INVALID,
        pre=set_tensor(lambda p: constant_tensors(p)[0], sizes=[4096, 4096], dim_order=[0, 1]),
    ),
    Case("rank-17", "mlp", INVALID, pre=set_tensor(intermediate_tensor, sizes=[1] * 17, dim_order=list(range(17)))),
    Case("rank-17-input", "mlp", INVALID, pre=set_tensor(lambda p: p.inputs[0], sizes=[1] * 17, dim_order=list(range(17)))),
    Case("negative-size", "mlp", INVALID, pre=set_tensor(intermediate_tensor, sizes=lambda p, t: [-1] + list(t.sizes[1:]))),
    Case("negative-size-constant", "mlp", INVALID, pre=set_tensor(lambda p: constant_tensors(p)[0], sizes=lambda p, t: [-t.sizes[0]] + list(t.sizes[1:]))),
    Case("dim-order-repeated", "mlp", INVALID, pre=set_tensor(intermediate_tensor, dim_order=[0, 0])),
    Case("dim-order-out-of-range", "mlp", INVALID, pre=set_tensor(intermediate_tensor, dim_order=[0, 2])),
    Case("dim-order-length", "mlp", INVALID, pre=set_tensor(intermediate_tensor, dim_order=[0, 1, 2])),
    Case("storage-offset", "mlp", INVALID, pre=set_tensor(intermediate_tensor, storage_offset=4)),
    Case("unknown-scalar-type", "mlp", INVALID, pre=set_tensor(intermediate_tensor, scalar_type=99)),
    Case(
        "planned-beyond-buffer",
        "mlp",
        INVALID,
        pre=set_alloc(
            intermediate_tensor,
            memory_offset_low=lambda p, a: p.non_const_buffer_sizes[1] - tensor_nbytes(p.values[intermediate_tensor(p)].val) + 16,
        ),
    ),
    Case("planned-offset-high", "mlp", INVALID, pre=set_alloc(intermediate_tensor, memory_offset_high=1)),
    Case("planned-offset-uint64-max", "mlp", INVALID, pre=set_alloc(intermediate_tensor, memory_offset_low=2**32 - 1, memory_offset_high=2**32 - 1)),
    Case("buffer-size-negative", "mlp", INVALID, pre=edit_plan(lambda p: p.non_const_buffer_sizes.__setitem__(1, -1))),
    # --- instructions ---
    Case("jump-destination-beyond-chain", "cond", INVALID, pre=set_jump(destination_instruction=lambda p: len(p.chains[0].instructions) + 5)),
    Case("jump-destination-negative", "cond", INVALID, pre=set_jump(destination_instruction=-1)),
    Case("jump-condition-index", "cond", INVALID, pre=set_jump(cond_value_index=nvalues)),
    Case("move-index", "cond", INVALID, pre=set_move(move_to=nvalues)),
    Case("free-index", "mlp", INVALID, pre=replace_instruction(lambda S, plan, old: S.FreeCall(value_index=len(plan.values) + 1))),
    Case(
        "free-not-a-tensor",
        "mlp",
        INVALID,
        pre=replace_instruction(lambda S, plan, old: S.FreeCall(value_index=values_of(plan, "Int")[0])),
    ),
    Case(
        "jump-condition-not-bool",
        "cond",
        INVALID,
        pre=set_jump(cond_value_index=lambda p: values_of(p, "IntList")[0]),
    ),
    # --- kernels and their arguments (checked when the method is loaded) ---
    Case("tensor-arg-is-int", "mlp", INVALID, pre=set_kernel_arg("aten::relu", 0, lambda p: values_of(p, "Int")[0])),
    Case("out-arg-is-int", "mlp", INVALID, pre=set_kernel_arg("aten::relu", 1, lambda p: values_of(p, "Int")[0])),
    Case("intlist-arg-is-tensor", "mlp", INVALID, pre=set_kernel_arg("aten::permute_copy", 1, lambda p: values_of(p, "Tensor")[0])),
    Case("too-few-kernel-args", "mlp", INVALID, pre=edit_plan(lambda p: call_of(p, "aten::relu").args.pop(0))),
    Case("too-many-kernel-args", "mlp", INVALID, pre=edit_plan(lambda p: call_of(p, "aten::relu").args.append(0))),
    Case(
        "unknown-operator",
        "mlp",
        "OperatorMissing",
        pre=edit_plan(lambda p: setattr(p.operators[call_of(p, "aten::relu").op_index], "name", "aten::no_such_op")),
        contains=("aten::no_such_op",),
    ),
    Case("no-chains", "mlp", INVALID, pre=edit_plan(lambda p: p.chains.clear())),
    # (Two methods of one name are not a defect: the first is used, as
    # upstream does; see test_hostile_programs.py.)
    # --- delegates ---
    Case("delegate-unknown-backend", "mlp", "NotFound", pre=add_delegate(), contains=("NoSuchBackend",)),
    Case("delegate-inline-index", "mlp", INVALID, pre=add_delegate(index=5)),
    Case("delegate-segment-index", "mlp", INVALID, pre=add_delegate(location=1, index=9, inline=None)),
    Case(
        "mutable-data-segments-missing",
        "stateful_init",
        INVALID,
        post=lambda prog: setattr(prog, "mutable_data_segments", []),
    ),
]

CASE_BY_ID: Dict[str, Case] = {c.id: c for c in CASES}
assert len(CASE_BY_ID) == len(CASES), "duplicate case ids"

_MADE: Dict[str, bytes] = {}


def made(case: Case, corpus) -> bytes:  # noqa: F811
    if case.id not in _MADE:
        original = corpus[case.base].pte.read_bytes()
        data = case.make(original)
        assert data != original, f"{case.id}: the edit changed nothing"
        _MADE[case.id] = data
    return _MADE[case.id]


def base_call(case: Case, corpus) -> uc.Call:  # noqa: F811
    prog = corpus[case.base]
    method = case.method or prog.calls[0].method
    return prog.calls_for(method)[0]


def _check_failure(case: Case, f: Failure, interface: str) -> None:
    assert f.status == case.status, f"{case.id} via {interface}: status {f.status} ({f.message!r}), expected {case.status}"
    assert f.message.strip(), f"{case.id} via {interface}: empty message"
    for word in case.contains:
        assert word in f.message, f"{case.id} via {interface}: message {f.message!r} does not mention {word!r}"


# ---------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("base", sorted({c.base for c in CASES}))
def test_roundtrip_control(corpus, base):  # noqa: F811
    """Re-serializing without edits gives a program that still runs and is
    right, so every refusal below is due to its one defect."""
    prog = corpus[base]
    call = prog.calls[0]
    data = reserialize(prog.pte.read_bytes(), pre=lambda p: None, post=lambda p: None)
    res = run_binding(data, call.method, [call.load_inputs()])
    assert not isinstance(res, Failure), f"round-tripped {base}: {res}"
    uc.assert_outputs_close(res[0], call.load_expected(), f"round-tripped {base}")


@pytest.mark.parametrize("case_id", list(CASE_BY_ID))
def test_bad_file_binding(corpus, case_id):  # noqa: F811
    case = CASE_BY_ID[case_id]
    data = made(case, corpus)
    call = base_call(case, corpus)
    res = run_binding(data, call.method, [call.load_inputs()])
    assert isinstance(res, Failure), f"{case_id}: the damaged program ran"
    assert res.stage in ("load", "method"), f"{case_id}: refused only at {res.stage}: {res.status}: {res.message}"
    _check_failure(case, res, "binding")


@pytest.mark.parametrize("case_id", list(CASE_BY_ID))
def test_bad_file_cli(corpus, case_id, tmp_path):  # noqa: F811
    case = CASE_BY_ID[case_id]
    data = made(case, corpus)
    call = base_call(case, corpus)
    pte = tmp_path / "bad.pte"
    pte.write_bytes(data)
    res = run_cli(pte, call.method, call.inputs, tmp_path / "out")
    assert res.returncode > 0, f"{case_id}: exit status {res.returncode} (negative = killed by a signal)\n{res.stderr}"
    f = cli_error(res)
    assert f is not None, f"{case_id}: no 'error: <Status>: message' line on stderr:\n{res.stderr}"
    _check_failure(case, f, "cli")


def test_bad_file_from_path_matches_bytes(corpus, tmp_path):  # noqa: F811
    """Loading a damaged file by path reports the same as loading its bytes."""
    case = CASE_BY_ID["identifier-newer-ET13"]
    data = made(case, corpus)
    pte = tmp_path / "bad.pte"
    pte.write_bytes(data)
    call = base_call(case, corpus)
    a = run_binding(data, call.method, [call.load_inputs()])
    b = run_binding(pte, call.method, [call.load_inputs()])
    assert isinstance(a, Failure) and isinstance(b, Failure)
    assert (a.stage, a.status) == (b.stage, b.status)


def test_missing_file(tmp_path):
    res = run_binding(tmp_path / "nope.pte", "forward", [[]])
    assert isinstance(res, Failure) and res.status == "NotFound" and res.message


def test_unknown_method(corpus):  # noqa: F811
    prog = corpus["mlp"]
    res = run_binding(prog.pte, "no_such_method", [prog.calls[0].load_inputs()])
    assert isinstance(res, Failure) and res.stage == "method" and res.status == "NotFound"
    assert "no_such_method" in res.message


# --- bad inputs -------------------------------------------------------------


@dataclass
class InputCase:
    id: str
    base: str
    status: str
    inputs: Callable  # list of np arrays (from the first call's inputs) -> list
    call: int = 0
    cli: bool = True  # edgetorch-run generates inputs when none are given


INPUT_CASES = [
    InputCase("wrong-dtype-float64", "mlp", "InvalidArgument", lambda xs: [xs[0].astype(np.float64)]),
    InputCase("wrong-dtype-int32", "mlp", "InvalidArgument", lambda xs: [xs[0].astype(np.int32)]),
    InputCase("wrong-rank-higher", "mlp", "InvalidArgument", lambda xs: [xs[0][..., None]]),
    InputCase("wrong-rank-lower", "mlp", "InvalidArgument", lambda xs: [xs[0].reshape(-1)]),
    InputCase("wrong-static-size", "mlp", "InvalidArgument", lambda xs: [np.concatenate([xs[0], xs[0][:1]])]),
    InputCase("dynamic-dim-above-bound", "dynamic", "InvalidArgument", lambda xs: [np.ones((9, 16), np.float32)]),
    InputCase("dynamic-static-dim-wrong", "dynamic", "InvalidArgument", lambda xs: [np.ones((2, 17), np.float32)]),
    InputCase("too-few-inputs", "two_methods", "InvalidArgument", lambda xs: xs[:1]),
    InputCase("no-inputs", "mlp", "InvalidArgument", lambda xs: [], cli=False),
    InputCase("too-many-inputs", "mlp", "InvalidArgument", lambda xs: xs + xs),
]
INPUT_BY_ID = {c.id: c for c in INPUT_CASES}


@pytest.mark.parametrize("case_id", list(INPUT_BY_ID))
def test_bad_input_binding(corpus, case_id):  # noqa: F811
    case = INPUT_BY_ID[case_id]
    prog = corpus[case.base]
    call = prog.calls[case.call]
    res = run_binding(prog.pte, call.method, [case.inputs(call.load_inputs())])
    assert isinstance(res, Failure), f"{case_id}: ran with bad inputs"
    assert res.stage == "execute", f"{case_id}: failed at {res.stage}: {res}"
    assert res.status == case.status, f"{case_id}: {res.status} ({res.message!r}), expected {case.status}"
    assert res.message.strip()


@pytest.mark.parametrize("case_id", [c.id for c in INPUT_CASES if c.cli])
def test_bad_input_cli(corpus, case_id, tmp_path):  # noqa: F811
    case = INPUT_BY_ID[case_id]
    prog = corpus[case.base]
    call = prog.calls[case.call]
    paths = []
    for k, a in enumerate(case.inputs(call.load_inputs())):
        p = tmp_path / f"in{k}.npy"
        np.save(p, a)
        paths.append(p)
    res = run_cli(prog.pte, call.method, paths, tmp_path / "out")
    assert res.returncode > 0, f"{case_id}: exit {res.returncode}\n{res.stderr}"
    f = cli_error(res)
    assert f is not None, f"{case_id}: no error line:\n{res.stderr}"
    assert f.status == case.status, f"{case_id}: {f.status} ({f.message!r}), expected {case.status}"
    assert f.message


def test_good_inputs_after_bad_ones(corpus):  # noqa: F811
    """A refused input leaves the method usable."""
    from runtime_harness import et_runtime

    rt = et_runtime()
    prog = corpus["dynamic"]
    m = rt.load_program(str(prog.pte)).load_method("forward")
    with pytest.raises(rt.EdgetorchError):
        m.execute([np.ones((9, 16), np.float32)])
    for call in prog.calls:
        uc.assert_outputs_close(m.execute(call.load_inputs()), call.load_expected(), "after a refused input")
