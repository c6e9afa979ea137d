"""Unit tests of the exporter passes and of the memory planner."""

from __future__ import annotations

import operator
import random

import pytest
import torch

import edgetorch
from edgetorch.export import memory_planning as mp
from edgetorch.export import kernel_selection, oplib, passes
from edgetorch.export.program import to_edge
from edgetorch.pte import read_pte, schema as S
import tolerance

aten = torch.ops.aten
UPSTREAM = oplib.upstream_portable()


def _edge(model, args, **kw):
    ep = torch.export.export(model, args, strict=False, **kw)
    return to_edge(ep, config=edgetorch.ExportConfig(operators=UPSTREAM))


def _targets(gm):
    return [n.target for sub in passes.subgraphs(gm) for n in sub.graph.nodes
            if n.op == "call_function"]


# ---------------------------------------------------------------------------
# out variants and the argument convention


@pytest.mark.parametrize("op,out", [
    (aten.add.Tensor, "aten::add.out"),
    (aten.add.Scalar, "aten::add.Scalar_out"),
    (aten.full.default, "aten::full.out"),
    (aten.arange.start_step, "aten::arange.start_out"),
    (aten._native_batch_norm_legit_no_training.default,
     "aten::_native_batch_norm_legit_no_training.out"),
    (aten.split_with_sizes_copy.default, "aten::split_with_sizes_copy.out"),
    (aten.max_pool2d_with_indices.default, "aten::max_pool2d_with_indices.out"),
])
def test_out_variant(op, out):
    v = oplib.out_variant(op)
    assert v is not None and oplib.schema_kernel_name(v._schema) == out


def _kernel_args(pte_bytes, kernel):
    f = read_pte(pte_bytes)
    plan = f.program.execution_plan[0]
    for ins in plan.chains[0].instructions:
        a = ins.instr_args
        if isinstance(a, S.KernelCall) and plan.operators[a.op_index].full_name == kernel:
            return plan, a.args
    raise AssertionError(f"{kernel} not emitted")


def test_argument_convention_single_out():
    class M(torch.nn.Module):
        def forward(self, x, y):
            return torch.add(x, y, alpha=2)

    p = edgetorch.export(M(), (torch.randn(3), torch.randn(3)),
                         config=edgetorch.ExportConfig(operators=UPSTREAM))
    plan, args = _kernel_args(p.buffer, "aten::add.out")
    # [self, other, alpha, out, return slot == out]
    assert len(args) == 5 and args[3] == args[4]
    assert plan.values[args[2]].val == S.Int(2)
    assert args[0] == plan.inputs[0] and args[1] == plan.inputs[1]


def test_argument_convention_multi_out_and_lists():
    class M(torch.nn.Module):
        def forward(self, x):
            return torch.nn.functional.layer_norm(x, [4])

    p = edgetorch.export(M(), (torch.randn(2, 4),),
                         config=edgetorch.ExportConfig(operators=UPSTREAM))
    plan, args = _kernel_args(p.buffer, "aten::native_layer_norm.out")
    # input, normalized_shape, weight, bias, eps, out0, out1, out2, TensorList
    assert len(args) == 9
    shape = plan.values[args[1]].val
    assert isinstance(shape, S.IntList)
    assert [plan.values[i].val.int_val for i in shape.items] == [4]  # boxed Ints
    assert isinstance(plan.values[args[2]].val, S.Null)  # weight=None
    assert isinstance(plan.values[args[4]].val, S.Double)
    ret = plan.values[args[8]].val
    assert isinstance(ret, S.TensorList) and ret.items == args[5:8]


def test_scalar_in_tensor_slot_uses_scalar_overload():
    class M(torch.nn.Module):
        def forward(self, x):
            return x * 3 + 1

    e = _edge(M(), (torch.randn(4),))
    ts = _targets(e.methods["forward"].gm)
    assert aten.mul.Scalar in ts and aten.add.Scalar in ts


def test_scalar_becomes_constant_tensor_without_scalar_kernel():
    g = torch.fx.Graph()
    x = g.placeholder("x")
    x.meta["val"] = torch.randn(4)
    a = g.call_function(aten.add.Tensor, (x, 0.5))
    b = g.call_function(aten.mul.Tensor, (a, 2))
    g.output((b,))
    gm = torch.fx.GraphModule(torch.nn.Module(), g)
    assert passes.scalars_to_overloads(gm, frozenset({"aten::add.out", "aten::mul.out"})) == 2
    ca, cb = a.args[1], b.args[1]
    assert ca.op == "get_attr" and ca.meta["val"].dtype == torch.float32
    assert float(ca.meta["val"]) == 0.5 and ca.meta["val"].dim() == 0
    assert cb.meta["val"].dtype == torch.int64 and int(cb.meta["val"]) == 2
    torch.testing.assert_close(gm(torch.ones(4))[0], torch.full((4,), 3.0))


def test_memory_format_ops_become_dim_order_ops():
    class M(torch.nn.Module):
        def forward(self, x):
            return x.to(torch.float16).clone(memory_format=torch.contiguous_format) + 1

    e = _edge(M(), (torch.randn(2, 3),))
    ts = _targets(e.methods["forward"].gm)
    assert oplib.TO_DIM_ORDER_COPY in ts
    assert aten._to_copy.default not in ts
    p = e.to_executorch(edgetorch.ExportConfig(operators=UPSTREAM))
    plan, args = _kernel_args(p.buffer, "dim_order_ops::_to_dim_order_copy.out")
    dims = plan.values[args[2]].val
    assert [plan.values[i].val.int_val for i in dims.items] == [0, 1]


def test_constant_folding_pre_transposes_weights():
    torch.manual_seed(0)
    m = torch.nn.Linear(8, 4)
    e = _edge(m, (torch.randn(2, 8),))
    gm = e.methods["forward"].gm
    assert aten.permute.default in _targets(gm)
    passes.fold_constants(gm)
    assert aten.permute.default not in _targets(gm)
    consts = [n.meta["val"] for n in gm.graph.nodes if passes.is_const(n)]
    assert any(c.shape == (8, 4) and torch.equal(c, m.weight.detach().t()) for c in consts)


def test_constant_folding_merges_repeated_weight_transposes():
    # nn.LSTM decomposes into one transpose of the recurrent weight per time
    # step; merged and folded, the program stores the transposed weight once
    # instead of copying it at every step.
    from edgetorch.models import LSTMClassifier
    from _export_util import run_ours

    torch.manual_seed(0)
    m = LSTMClassifier(8, 16, 1, classes=3).eval()
    x = torch.randn(1, 12, 8)
    e = _edge(m, (x,))
    gm = e.methods["forward"].gm
    weight_t = [n for n in gm.graph.nodes if n.target == aten.permute.default
                and passes.is_const(n.args[0])]
    assert len(weight_t) >= 12          # one per step before folding
    passes.fold_constants(gm)
    assert not [n for n in gm.graph.nodes if n.target == aten.permute.default
                and passes.is_const(n.args[0])]
    consts = [n.meta["val"] for n in gm.graph.nodes if passes.is_const(n)]
    w_hh_t = m.lstm.weight_hh_l0.detach().t()
    assert sum(c.shape == w_hh_t.shape and torch.equal(c, w_hh_t) for c in consts) == 1
    prog = edgetorch.export(m, (x,), config=edgetorch.ExportConfig(operators=UPSTREAM))
    got = run_ours(prog.buffer, [(x,)])[0][0]
    with torch.no_grad():
        torch.testing.assert_close(torch.from_numpy(got), m(x), rtol=1e-5, atol=1e-6)


def test_views_alias_or_copy():
    class M(torch.nn.Module):
        def forward(self, x):
            y = (x + 1).view(4, 3)        # static reshape: alias
            z = (x * 2).permute(1, 0)     # permute: a copy
            return y, z

    e = _edge(M(), (torch.randn(3, 4),))
    gm = e.methods["forward"].gm
    aliased, copied = passes.lower_views(gm)
    assert aliased == 1 and copied == 1
    assert aten.permute_copy.default in _targets(gm)
    p = e.to_executorch(edgetorch.ExportConfig(operators=UPSTREAM))
    plan = read_pte(p.buffer).program.execution_plan[0]
    names = {plan.operators[i.instr_args.op_index].full_name
             for i in plan.chains[0].instructions}
    assert "aten::view_copy.out" not in names and "aten::permute_copy.out" in names
    # the alias shares the offset of the tensor it views
    out_y = plan.values[plan.outputs[0]].val
    add = [i.instr_args for i in plan.chains[0].instructions
           if plan.operators[i.instr_args.op_index].full_name == "aten::add.Scalar_out"][0]
    assert plan.values[add.args[-1]].val.allocation_info.offset == \
        out_y.allocation_info.offset


def test_batch_norm_fused_into_conv():
    torch.manual_seed(0)
    m = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4)).eval()
    m[1].running_mean.uniform_(-1, 1)
    m[1].running_var.uniform_(0.5, 2)
    x = torch.randn(1, 3, 6, 6)
    e = _edge(m, (x,))
    gm = e.methods["forward"].gm
    assert passes.fuse_conv_batch_norm(gm) == 1
    assert aten._native_batch_norm_legit_no_training.default not in _targets(gm)
    p = e.to_executorch(edgetorch.ExportConfig(operators=UPSTREAM))
    from executorch.runtime import Runtime
    got = Runtime.get().load_program(p.buffer).load_method("forward").execute([x])[0]
    torch.testing.assert_close(got, m(x), rtol=1e-5, atol=1e-6)


def test_unsupported_ops_are_all_listed_with_source_lines():
    class M(torch.nn.Module):
        def forward(self, x):
            a = torch.special.i0(x)   # LINE-A
            return torch.cumsum(a, 0)  # LINE-B

    e = _edge(M(), (torch.randn(4),))
    lib = frozenset(UPSTREAM - {"aten::cumsum.out"})
    with pytest.raises(edgetorch.UnsupportedOperatorError) as ei:
        kernel_selection.select_kernels(e.methods["forward"].gm, lib)
    msg = str(ei.value)
    assert "aten::i0" in msg and "aten::cumsum" in msg
    assert "LINE-A" in msg and "LINE-B" in msg
    assert __file__ in msg


# ---------------------------------------------------------------------------
# decompositions: the program computes what eager computes


def _run_ours(model, args, library=UPSTREAM):
    """Export and run on edgetorch's runtime: (program, outputs as tensors)."""
    import numpy as np
    from edgetorch import runtime
    p = edgetorch.export(model, args, config=edgetorch.ExportConfig(operators=library))
    outs = []
    for g in runtime.load_program(p.buffer).load_method("forward").execute(list(args)):
        g = np.asarray(g)
        bf16 = g.dtype.name == "bfloat16"   # ml_dtypes: numpy has no bfloat16
        t = torch.from_numpy(np.array(g.view(np.uint16) if bf16 else g))
        outs.append(t.view(torch.bfloat16) if bf16 else t)
    return p, outs


def test_effect_tokens_are_dropped_and_the_effectful_op_still_needs_a_kernel():
    """torch.export threads an effect token through linalg's error check: the
    export names the operators the library lacks (the check among them)
    instead of refusing the token input."""
    class M(torch.nn.Module):
        def forward(self, x):
            return torch.linalg.inv(x)

    with pytest.raises(edgetorch.UnsupportedOperatorError) as ei:
        edgetorch.export(M(), (torch.randn(4, 4),))
    msg = str(ei.value)
    assert "aten::_linalg_check_errors" in msg and "linalg_inv_ex" in msg
    assert "TOKEN" not in msg


def test_data_dependent_sizes_are_not_compared_as_equal():
    """tensor_split at indices from a tensor: the pieces' sizes are unbacked
    symbols; the no-op pass must not guard on them (it raised
    GuardOnDataDependentSymNode) and the program runs like eager."""
    class M(torch.nn.Module):
        def forward(self, x, i):
            return torch.tensor_split(x, i, 0)

    from edgetorch import runtime as rt
    x = torch.randn(5, 3)
    p = edgetorch.export(M(), (x, torch.tensor([1, 3])))
    method = rt.load_program(p.buffer).load_method("forward")
    for idx in ([1, 3], [2, 4], [0, 5]):  # other indices, other piece sizes
        i = torch.tensor(idx)
        got, want = method.execute([x.numpy(), i.numpy()]), M()(x, i)
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert g.shape == tuple(w.shape) and (g == w.numpy()).all()


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_logit_keeps_its_kernel_which_rounds_like_eager(dtype):
    """torch's logit decomposition computes Half/BFloat16 in float and rounds
    once; eager (and aten::logit.out) round every step to the dtype."""
    class M(torch.nn.Module):
        def forward(self, x):
            return torch.logit(x), torch.logit(x, 0.2)

    torch.manual_seed(0)
    x = torch.rand(5, 5, 5).to(dtype)
    p, got = _run_ours(M(), (x,))
    plan = read_pte(p.buffer).program.execution_plan[0]
    assert [o.full_name for o in plan.operators] == ["aten::logit.out"]
    for g, w in zip(got, M()(x)):
        tolerance.assert_close_to_eager(g, w)   # a few units in the last place
    # a library without the kernel gets the decomposition
    e = _edge(M(), (x,))
    assert aten.logit.default in _targets(e.methods["forward"].gm)
    no_logit = to_edge(torch.export.export(M(), (x,), strict=False),
                       config=edgetorch.ExportConfig(operators=UPSTREAM - {"aten::logit.out"}))
    assert aten.logit.default not in _targets(no_logit.methods["forward"].gm)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_soft_margin_loss_half_overflows_like_eager(reduction):
    """Eager's soft_margin_loss computes Half in Half: exp(-x*y) overflows to
    inf; torch's decomposition computes in float and stays finite."""
    class M(torch.nn.Module):
        def forward(self, x, y):
            return torch.nn.functional.soft_margin_loss(x, y, reduction=reduction)

    torch.manual_seed(0)
    x = (torch.randn(4, 5) * 6).half()
    y = torch.randn(4, 5).half()
    x[0, 0], y[0, 0] = 8.0, -2.0     # exp(16) > 65504
    want = M()(x, y)
    assert want.dtype == torch.float16 and torch.isinf(want).any()
    _, (got,) = _run_ours(M(), (x, y))
    assert got.dtype == want.dtype
    tolerance.assert_close_to_eager(got, want, accumulates=True)
    # a float target: mul_ writes into the input's dtype
    _, (got,) = _run_ours(M(), (x, y.float()))
    want = M()(x, y.float())
    assert got.dtype == want.dtype
    tolerance.assert_close_to_eager(got, want, accumulates=True)


@pytest.mark.parametrize("dtype,start,end,steps", [
    (torch.uint8, 4.3, 50, 50), (torch.uint8, -1, 5, 3), (torch.int8, 2.7, 11.9, 7),
    (torch.int32, -3.6, 9.9, 7), (torch.int64, 4.3, 50, 50), (torch.int64, 0, 1, 50)])
def test_linspace_integer_converts_start_and_end_like_eager(dtype, start, end, steps):
    """Eager converts start and end to an integer dtype before stepping
    (4.3 -> 4, -1 -> 255 for uint8); torch's decomposition does not."""
    class M(torch.nn.Module):
        def forward(self, x):
            return x + torch.linspace(start, end, steps, dtype=dtype)

    x = torch.zeros(steps, dtype=dtype)
    _, (got,) = _run_ours(M(), (x,))
    assert torch.equal(got, M()(x))


# ---------------------------------------------------------------------------
# memory planning


def _random_blocks(rng, n, span=40):
    out = []
    for k in range(n):
        a = rng.randrange(span)
        b = a + rng.randrange(1, 12)
        out.append(mp.Block(k, 16 * rng.randrange(1, 64), a, b))
    return out


@pytest.mark.parametrize("seed", range(8))
def test_planner_valid_and_never_worse_than_greedy(seed):
    rng = random.Random(seed)
    blocks = _random_blocks(rng, 60)
    ours = mp.plan_blocks(blocks, "edgetorch")
    greedy = mp.plan_blocks(blocks, "greedy")
    naive = mp.plan_blocks(blocks, "naive")
    mp.check(blocks, ours.offsets, alignment=16)
    assert ours.lower_bound <= ours.total <= greedy.total <= naive.total
    assert all(ours.offsets[b.key] + b.size <= ours.total for b in blocks)


def test_planner_reuses_memory_of_dead_tensors():
    blocks = [mp.Block(0, 64, 0, 1), mp.Block(1, 64, 1, 2), mp.Block(2, 64, 2, 3)]
    res = mp.plan_blocks(blocks, "edgetorch")
    assert res.total == 128  # 0 and 2 share bytes; touching lifetimes conflict
    assert res.offsets[0] == res.offsets[2]


def test_check_catches_overlap():
    blocks = [mp.Block(0, 32, 0, 5), mp.Block(1, 32, 3, 8)]
    with pytest.raises(AssertionError):
        mp.check(blocks, {0: 0, 1: 16})


def test_planner_beats_greedy_on_a_known_case():
    # Greedy's shared objects cannot stack a small block above a large one
    # whose lifetime it overlaps unless they share an object; offset packing can.
    blocks = [mp.Block(0, 256, 0, 2), mp.Block(1, 128, 2, 6), mp.Block(2, 128, 3, 9),
              mp.Block(3, 256, 7, 9)]
    ours = mp.plan_blocks(blocks, "edgetorch")
    greedy = mp.plan_blocks(blocks, "greedy")
    assert ours.total < greedy.total
    assert ours.total == ours.lower_bound


def test_inplace_elementwise_shares_bytes():
    class M(torch.nn.Module):
        def forward(self, x):
            return torch.relu(torch.sigmoid(x * 2) + 1)

    x = torch.randn(64)
    cfg = edgetorch.ExportConfig(operators=UPSTREAM)
    p = edgetorch.export(M(), (x,), config=cfg)
    # the input dies at the first kernel: the whole chain works in its bytes
    assert p.planned_bytes == 256
    q = edgetorch.export(M(), (x,), config=edgetorch.ExportConfig(operators=UPSTREAM,
                                                                   inplace=False))
    assert q.planned_bytes > p.planned_bytes
    from executorch.runtime import Runtime
    got = Runtime.get().load_program(p.buffer).load_method("forward").execute([x])[0]
    torch.testing.assert_close(got, M()(x))


def test_plan_report_is_consistent():
    m, args = edgetorch.models.get("mlp")
    p = edgetorch.export(m, args, config=edgetorch.ExportConfig(operators=UPSTREAM))
    plan = p.memory_plan["forward"]
    assert plan.total_bytes == p.planned_bytes
    blocks = [mp.Block(i, t.nbytes, t.first, t.last) for i, t in enumerate(plan.tensors)]
    mp.check(blocks, {i: t.offset for i, t in enumerate(plan.tensors)}, alignment=16)
    assert max(t.offset + t.nbytes for t in plan.tensors) <= plan.total_bytes
    assert "planned bytes" in p.plan_report()
    f = read_pte(p.buffer).program.execution_plan[0]
    assert f.non_const_buffer_sizes == [0, plan.total_bytes]


def test_naive_and_greedy_configs():
    m, args = edgetorch.models.get("mlp")
    sizes = {}
    for alg in ("naive", "greedy", "edgetorch"):
        p = edgetorch.export(m, args, config=edgetorch.ExportConfig(
            operators=UPSTREAM, memory_planning=alg))
        sizes[alg] = p.planned_bytes
    assert sizes["edgetorch"] <= sizes["greedy"] <= sizes["naive"]
    assert sizes["edgetorch"] < sizes["naive"]


def test_dtype_arguments_typed_as_int_in_the_schema():
    # cumsum.out declares its dtype as ScalarType?, which TorchScript types as
    # int: the exporter got a torch.dtype where it expected an int.
    from _export_util import run_ours

    class M(torch.nn.Module):
        def forward(self, x):
            return (torch.cumsum(x, 1, dtype=torch.float64),
                    torch.zeros_like(x, dtype=torch.int32) + 1,
                    torch.ones_like(x, dtype=torch.float16))

    x = torch.randn(2, 5)
    prog = edgetorch.export(M(), (x,), config=edgetorch.ExportConfig(operators=UPSTREAM))
    got = run_ours(prog.buffer, [(x,)])[0]
    for g, want in zip(got, M()(x)):
        assert g.dtype == want.numpy().dtype
        torch.testing.assert_close(torch.from_numpy(g), want)
