"""Exporter features: several methods, external weights (.ptd), control flow,
dynamic shapes, mutable state, I/O planning flags, and export errors."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

import edgetorch
from edgetorch.export import oplib
from edgetorch.pte import read_pte, read_ptd, schema as S

from _export_util import run_ours, run_upstream

UPSTREAM = oplib.upstream_portable()
CFG = edgetorch.ExportConfig(operators=UPSTREAM)


def _ops(plan):
    return [plan.operators[i.instr_args.op_index].full_name
            for i in plan.chains[0].instructions if isinstance(i.instr_args, S.KernelCall)]


class _Lin(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.l = torch.nn.Linear(8, 4)

    def forward(self, x):
        return torch.relu(self.l(x))


class _Scaled(torch.nn.Module):
    def __init__(self, lin) -> None:
        super().__init__()
        self.l = lin

    def forward(self, x):
        return self.l(x) * 3.0


def test_to_edge_api_and_several_methods():
    a = _Lin()
    b = _Scaled(a.l)
    x = torch.randn(2, 8)
    eps = {"forward": torch.export.export(a, (x,)), "scaled": torch.export.export(b, (x,))}
    edge = edgetorch.to_edge(eps, config=CFG)
    assert edge.method_names == ["forward", "scaled"]
    assert isinstance(edge.exported_program("scaled"), torch.export.ExportedProgram)
    assert "aten::addmm" in edge.operators()
    prog = edge.to_executorch(CFG)
    f = read_pte(prog.buffer)
    assert [p.name for p in f.program.execution_plan] == ["forward", "scaled"]  # sorted
    # the shared weight is stored once
    idx = {p.name: {v.val.data_buffer_idx for v in p.values
                    if isinstance(v.val, S.Tensor) and v.val.data_buffer_idx}
           for p in f.program.execution_plan}
    assert idx["forward"] == idx["scaled"]
    assert len(f.program.constant_segment.offsets) == 3  # placeholder + weight + bias
    for name, m in (("forward", a), ("scaled", b)):
        got = run_upstream(prog.buffer, [(x,)], method=name)[0][0]
        np.testing.assert_allclose(got, m(x).detach().numpy(), rtol=1e-6, atol=1e-6)
    # to_executorch leaves the EdgeProgram reusable
    again = edge.to_executorch(CFG)
    assert again.buffer == prog.buffer


def test_external_constants_ptd(tmp_path):
    m = _Lin()
    x = torch.randn(2, 8)
    prog = edgetorch.export(m, (x,), config=edgetorch.ExportConfig(
        operators=UPSTREAM, external_constants=True))
    pte = tmp_path / "m.pte"
    prog.write_to_file(pte)
    files = prog.write_tensor_data_to_file(tmp_path)
    assert [p.name for p in files] == ["_default_external_constant.ptd"]
    f = read_pte(pte.read_bytes())
    assert f.constant_segment_size == 0
    ext = [v.val.extra_tensor_info for v in f.program.execution_plan[0].values
           if isinstance(v.val, S.Tensor) and v.val.extra_tensor_info is not None]
    assert ext and all(e.location == S.TensorDataLocation.EXTERNAL for e in ext)
    ptd = read_ptd(files[0].read_bytes())
    assert set(ptd.keys()) == {e.fully_qualified_name for e in ext}
    np.testing.assert_array_equal(ptd.array("l.bias"), m.l.bias.detach().numpy())
    got = run_upstream(pte.read_bytes(), [(x,)], data_path=str(files[0]))[0][0]
    np.testing.assert_allclose(got, m(x).detach().numpy(), rtol=1e-6, atol=1e-6)


def test_cond_is_emitted_as_jumps():
    import zoo

    model, (x,) = zoo._cond()
    prog = edgetorch.export(model, (x,), config=CFG)
    plan = read_pte(prog.buffer).program.execution_plan[0]
    instrs = plan.chains[0].instructions
    jumps = [(i, ins.instr_args) for i, ins in enumerate(instrs)
             if isinstance(ins.instr_args, S.JumpFalseCall)]
    assert len(jumps) == 2
    (i1, j1), (i2, j2) = jumps
    assert j1.destination_instruction == i2 + 1          # pred false: skip true branch
    assert plan.values[j2.cond_value_index].val == S.Bool(False)
    assert j2.destination_instruction > i2              # after the false branch
    for arg in (x.abs() + 1, -x.abs() - 1):
        got = run_upstream(prog.buffer, [(arg,)])[0][0]
        np.testing.assert_allclose(got, model(arg).detach().numpy(), rtol=1e-6, atol=1e-6)


def test_dynamic_shapes_bound_and_runtime_sizes():
    import zoo

    model, ex = zoo._dyn()
    prog = edgetorch.export(model, ex, dynamic_shapes=zoo._dyn_shapes(), config=CFG)
    plan = read_pte(prog.buffer).program.execution_plan[0]
    inp = plan.values[plan.inputs[0]].val
    assert inp.shape_dynamism == S.TensorShapeDynamism.DYNAMIC_BOUND
    assert inp.sizes == [1, 32]  # planned at the upper bound
    assert "aten::sym_size.int" in _ops(plan)
    # a smaller export with a static shape needs less memory than the bound
    static = edgetorch.export(model, ex, config=CFG)
    assert static.planned_bytes < prog.planned_bytes
    calls = [(torch.randint(0, 64, (1, n)),) for n in (3, 16, 32)]
    got = run_upstream(prog.buffer, calls)
    for (ids,), g in zip(calls, got):
        np.testing.assert_allclose(g[0], model(ids).detach().numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("shapes", [((10,), (10, 10)), ((10, 1, 10), (10, 10)), ((), (4, 3)),
                                    ((), ()), ((3, 4), (4,))])
def test_masked_select_bound_is_the_broadcast_numel(shapes):
    """torch bounds masked_select's length by self.numel() (and leaves it
    unbounded when that is at most 2), but a broadcasting mask selects up to
    the broadcast numel; the plan must hold that many."""
    class M(torch.nn.Module):
        def forward(self, x, m):
            return torch.masked_select(x, m)

    torch.manual_seed(0)
    x = torch.randn(shapes[0])
    full = torch.ones(shapes[1], dtype=torch.bool)
    prog = edgetorch.export(M(), (x, full), config=CFG)
    plan = read_pte(prog.buffer).program.execution_plan[0]
    out = plan.values[plan.outputs[0]].val
    assert out.shape_dynamism == S.TensorShapeDynamism.DYNAMIC_BOUND
    assert out.sizes == [torch.broadcast_shapes(shapes[0], shapes[1]).numel()]
    for mask in (full, torch.rand(shapes[1]) > 0.5):
        got = run_ours(prog.buffer, [(x, mask)])[0][0]
        np.testing.assert_array_equal(got, M()(x, mask).numpy())


def test_masked_select_keeps_a_tighter_user_bound():
    class M(torch.nn.Module):
        def forward(self, x, m):
            y = torch.masked_select(x, m)
            torch._check(y.shape[0] <= 7)
            return y

    x, m = torch.randn(10), torch.zeros(10, 10, dtype=torch.bool)
    m[0, :3] = True
    prog = edgetorch.export(M(), (x, m), config=CFG)
    plan = read_pte(prog.buffer).program.execution_plan[0]
    assert plan.values[plan.outputs[0]].val.sizes == [7]
    np.testing.assert_array_equal(run_ours(prog.buffer, [(x, m)])[0][0], M()(x, m).numpy())


def test_dynamic_dim_without_upper_bound_is_an_error():
    class M(torch.nn.Module):
        def forward(self, x):
            return x * 2

    with pytest.raises(edgetorch.ExportError, match="upper bound"):
        edgetorch.export(M(), (torch.randn(4),),
                         dynamic_shapes=({0: torch.export.Dim("n")},), config=CFG)


def test_mutable_buffer_state_persists():
    import zoo

    model, ex = zoo._acc()
    prog = edgetorch.export(copy.deepcopy(model), ex, config=CFG)
    f = read_pte(prog.buffer)
    plan = f.program.execution_plan[0]
    assert _ops(plan).count("aten::copy_") == 2           # written back
    bufs = [v.val for v in plan.values if isinstance(v.val, S.Tensor)
            and v.val.allocation_info is not None and v.val.data_buffer_idx > 0]
    assert len(bufs) == 2                                 # planned, with initial state
    assert f.program.mutable_data_segments
    calls = zoo._acc_calls(ex)
    want = zoo.eager_outputs(zoo.CASES["mutable_buffer"], model, calls)
    got = run_upstream(prog.buffer, calls, stateful=True)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g[0], w[0].numpy(), rtol=1e-6, atol=1e-6)
    # outputs differ from call to call: the state really moved
    assert not np.allclose(got[0][0], got[-1][0])


def test_unplanned_inputs_and_outputs():
    m = _Lin()
    x = torch.randn(2, 8)
    prog = edgetorch.export(m, (x,), config=edgetorch.ExportConfig(
        operators=UPSTREAM, plan_inputs=False, plan_outputs=False))
    plan = read_pte(prog.buffer).program.execution_plan[0]
    assert plan.values[plan.inputs[0]].val.allocation_info is None
    assert plan.values[plan.outputs[0]].val.allocation_info is None
    planned = edgetorch.export(m, (x,), config=CFG)
    assert prog.planned_bytes < planned.planned_bytes


def test_identity_and_constant_outputs():
    class M(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("c", torch.arange(3.0))

        def forward(self, x):
            return x, x + 1, self.c

    x = torch.randn(3)
    prog = edgetorch.export(M(), (x,), config=CFG)
    plan = read_pte(prog.buffer).program.execution_plan[0]
    assert plan.outputs[0] == plan.inputs[0]
    got = run_upstream(prog.buffer, [(x,)])[0]
    np.testing.assert_allclose(got[0], x.numpy())
    np.testing.assert_allclose(got[1], x.numpy() + 1)
    np.testing.assert_allclose(got[2], np.arange(3.0))


def test_unsupported_operator_fails_export_naming_op_and_line(tmp_path):
    class Bad(torch.nn.Module):
        def forward(self, x):
            y = torch.special.bessel_j0(x)  # the unsupported line
            return y + 1

    out = tmp_path / "bad.pte"
    with pytest.raises(edgetorch.UnsupportedOperatorError) as ei:
        prog = edgetorch.export(Bad(), (torch.randn(4),))
        prog.write_to_file(out)
    msg = str(ei.value)
    assert "aten::special_bessel_j0" in msg
    assert "the unsupported line" in msg and __file__ in msg
    assert ei.value.operators and not out.exists()


def test_runs_on_edgetorch_runtime_mlp_with_state():
    """OUR runtime: a small program with state (needs copy_, add, div)."""
    import zoo

    model, ex = zoo._acc()
    prog = edgetorch.export(copy.deepcopy(model), ex)
    calls = zoo._acc_calls(ex)
    want = zoo.eager_outputs(zoo.CASES["mutable_buffer"], model, calls)
    got = run_ours(prog.buffer, calls, stateful=True)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g[0], w[0].numpy(), rtol=1e-6, atol=1e-6)


def test_alignment_options():
    m = _Lin()
    x = torch.randn(2, 8)
    prog = edgetorch.export(m, (x,), config=edgetorch.ExportConfig(
        operators=UPSTREAM, constant_tensor_alignment=64, segment_alignment=4096))
    f = read_pte(prog.buffer)
    assert f.segment_base_offset % 4096 == 0
    offs = f.program.constant_segment.offsets
    assert len(offs) >= 3 and all(o % 64 == 0 for o in offs)
    got = run_upstream(prog.buffer, [(x,)])[0][0]
    np.testing.assert_allclose(got, m(x).detach().numpy(), rtol=1e-6, atol=1e-6)
    with pytest.raises(ValueError):
        edgetorch.ExportConfig(constant_tensor_alignment=48)
