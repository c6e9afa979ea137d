"""edgetorch's own XNNPACK delegation: ``to_edge_transform_and_lower(ep,
partitioner=[XnnpackPartitioner()])`` writes ``XnnpackBackend`` payloads in
upstream's format.

Oracles: eager PyTorch for the numbers (rtol 1e-3, atol 1e-4: both backends
may use FMA and other summation orders), upstream ExecuTorch's runtime with
its real XNNPACK for the format (our files run there), and edgetorch's runtime
(its CPU backend). Each model checks which operators went into delegates and
how many DelegateCall instructions the program has.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import struct
from typing import Dict, List, Sequence, Tuple

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import edgetorch
from edgetorch.pte import schema as S
from edgetorch.pte import xnnpack as X
from edgetorch.pte.program import read_pte

from _export_util import run_ours, run_upstream

RTOL, ATOL = 1e-3, 1e-4


# ---------------------------------------------------------------------------
# models


class MLP(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.l1 = nn.Linear(37, 64)
        self.l2 = nn.Linear(64, 33)
        self.l3 = nn.Linear(33, 10, bias=False)

    def forward(self, x):
        return self.l3(F.relu(self.l2(torch.sigmoid(self.l1(x)))))


class CNN(nn.Module):
    """Convolutions of every kind XNNPACK has, pooling, NHWC concatenation."""

    def __init__(self) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(3, 16, 3, padding=1)
        self.bn = nn.BatchNorm2d(16)
        self.dw = nn.Conv2d(16, 16, 3, stride=2, padding=1, groups=16)
        self.dw2 = nn.Conv2d(16, 32, 5, padding=2, groups=16)       # multiplier 2
        self.g = nn.Conv2d(32, 24, 3, padding=1, groups=4)
        self.pw = nn.Conv2d(24, 8, 1)
        self.dil = nn.Conv2d(24, 8, 3, padding=2, dilation=2, bias=False)
        self.up = nn.ConvTranspose2d(16, 12, 3, stride=2, padding=1, output_padding=1,
                                     groups=2)
        self.fc = nn.Linear(12, 5)
        with torch.no_grad():
            self.bn.running_mean.uniform_(-0.5, 0.5)
            self.bn.running_var.uniform_(0.5, 1.5)

    def forward(self, x):
        x = F.relu6(self.bn(self.c1(x)))
        x = F.hardtanh(self.dw(x), -1.0, 1.0)
        x = F.relu(self.dw2(x))
        x = F.max_pool2d(self.g(x), 3, stride=2, padding=1, ceil_mode=True)
        x = torch.cat([self.pw(x), F.leaky_relu(self.dil(x), 0.2)], dim=1)
        x = F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False) * 0.5 + x
        x = F.hardswish(self.up(x))
        x = F.adaptive_avg_pool2d(x, 1)
        return self.fc(torch.flatten(x, 1))


class Block(nn.Module):
    """Attention and an MLP: linear, split, heads, bmm, softmax, GELU."""

    def __init__(self, d: int = 32, heads: int = 4) -> None:
        super().__init__()
        self.h = heads
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.fc1 = nn.Linear(d, 4 * d)
        self.fc2 = nn.Linear(4 * d, d)

    def forward(self, x):
        B, T, D = x.shape
        q, k, v = self.qkv(x).split(D, dim=-1)
        q = q.reshape(B, T, self.h, D // self.h).transpose(1, 2)
        k = k.reshape(B, T, self.h, D // self.h).transpose(1, 2)
        v = v.reshape(B, T, self.h, D // self.h).transpose(1, 2)
        att = torch.softmax(q @ k.transpose(-1, -2) / (D // self.h) ** 0.5, dim=-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, D)
        x = x + self.proj(y)
        return x + self.fc2(F.gelu(self.fc1(x)))


class Several(nn.Module):
    """Portable operators (cumsum, flip, roll: an index_select) between
    delegated parts."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(16, 16)
        self.b = nn.Linear(16, 16)
        self.c = nn.Linear(16, 8)

    def forward(self, x):
        y = torch.tanh(self.a(x))
        y = torch.cumsum(y, dim=-1)
        z = self.b(y) * 2.0
        z = torch.flip(z, dims=[-1])
        w = torch.sigmoid(z - 1.0) + y
        w = torch.roll(w, 3, dims=-1)
        return self.c(w), y


class Elementwise(nn.Module):
    """Unary and binary nodes, broadcast constants, a cat of more than five
    tensors (several XNNPACK concatenations), slices, a two-output graph."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("scale", torch.linspace(0.5, 1.5, 7))

    def forward(self, x, y):
        a = torch.sqrt(torch.abs(x)) + torch.rsqrt(torch.abs(y) + 0.5)
        b = torch.floor(x * 3) - torch.ceil(y * 2) + torch.neg(x)
        c = torch.maximum(x, y) / (torch.minimum(x, y).abs() + 1.0)
        d = torch.log(torch.abs(x) + 1.0) * torch.exp(y * 0.5) * self.scale
        e = torch.clamp(x - y, min=-0.5) + torch.clamp(y, max=0.25) + F.gelu(y)
        f = F.hardtanh(x) / self.scale - 2.0 / (y.abs() + 1.0)
        out = torch.cat([a, b, c, d, e, f, x], dim=-1)
        return out[:, 2:30], torch.softmax(out, dim=-1)


class Misc(nn.Module):
    """A product of two activations (mm), softmax over a conv's channels,
    constant padding in NHWC and in NCHW."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 6, 3, padding=1)
        self.fc = nn.Linear(10, 10)

    def forward(self, x, a):
        s = torch.softmax(self.conv(x), dim=1) * 2.0
        m = torch.mm(self.fc(a), a.t())
        return F.pad(s, (1, 2, 0, 1), value=0.25), torch.relu(F.pad(m, (2, 0)))


def _inputs(*shapes: Sequence[int], seed: int = 1) -> Tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    return tuple(torch.randn(*s, generator=g) for s in shapes)


# ---------------------------------------------------------------------------
# helpers


def _lower(model: nn.Module, args: tuple, dynamic_shapes=None):
    model.eval()
    ep = torch.export.export(model, args, dynamic_shapes=dynamic_shapes)
    part = edgetorch.XnnpackPartitioner()
    edge = edgetorch.to_edge_transform_and_lower(ep, partitioner=[part])
    return edge, part, edge.to_executorch()


def _instructions(pte, method: str = "forward") -> List[str]:
    """Kernel name or "DelegateCall" per instruction of the program."""
    plan = next(p for p in pte.program.execution_plan if p.name == method)
    out = []
    for ins in plan.chains[0].instructions:
        a = ins.instr_args
        out.append("DelegateCall" if isinstance(a, S.DelegateCall)
                   else plan.operators[a.op_index].full_name)
    return out


def _delegated_ops(edge, method: str = "forward") -> List[List[str]]:
    return [d.ops for d in edge.delegates.get(method, [])]


def _eager(model: nn.Module, args: tuple) -> List[np.ndarray]:
    with torch.no_grad():
        res = model(*args)
    res = res if isinstance(res, tuple) else (res,)
    return [r.numpy() for r in res]


def _check_numbers(buf: bytes, model: nn.Module, calls: Sequence[tuple]) -> None:
    for run in (run_ours, run_upstream):
        got = run(buf, calls)
        for c, args in enumerate(calls):
            want = _eager(model, args)
            assert len(got[c]) == len(want)
            for k, (g, w) in enumerate(zip(got[c], want)):
                g = np.asarray(g)
                assert g.shape == w.shape, (run.__name__, k, g.shape, w.shape)
                np.testing.assert_allclose(g, w, rtol=RTOL, atol=ATOL,
                                           err_msg=f"{run.__name__} call {c} output {k}")


def _payloads(buf: bytes) -> List[Tuple[X.Payload, Dict[str, bytes]]]:
    f = read_pte(buf)
    named = {n.key: f.segment(n.segment_index) for n in f.program.named_data or []}
    out = []
    for plan in f.program.execution_plan:
        for d in plan.delegates:
            assert d.id == "XnnpackBackend"
            assert d.processed.location == S.DataLocation.SEGMENT
            out.append((X.read_payload(f.segment(d.processed.index)), named))
    return out


HEAVY = ("aten::convolution", "aten::addmm", "aten::mm", "aten::bmm", "aten::_softmax",
         "aten::linear", "aten::max_pool2d", "aten::avg_pool2d", "aten::mean")


def _no_heavy_kernels(pte) -> None:
    left = [k for k in _instructions(pte) if k.startswith(HEAVY)]
    assert not left, f"heavy operators left on the portable kernels: {left}"


# ---------------------------------------------------------------------------
# the models


def test_mlp() -> None:
    torch.manual_seed(0)
    model, args = MLP(), _inputs((5, 37))
    edge, part, pte = _lower(model, args)
    assert _instructions(pte) == ["DelegateCall"]
    assert _delegated_ops(edge) == [["aten::addmm", "aten::sigmoid", "aten::addmm",
                                     "aten::relu", "aten::mm"]]
    (payload, named), = _payloads(pte.buffer)
    nodes = [type(n.xnode_union).__name__ for n in payload.graph.xnodes]
    # relu folds into the fully connected node before it as its output clamp
    assert nodes == ["XNNFullyConnected", "XNNSigmoid", "XNNFullyConnected",
                     "XNNFullyConnected"]
    assert payload.graph.xnodes[2].output_min_max.output_min == 0.0
    assert payload.graph.xnodes[2].output_min_max.output_max == float("inf")
    _check_numbers(pte.buffer, model, [args])


def test_cnn() -> None:
    torch.manual_seed(0)
    model, args = CNN(), _inputs((2, 3, 20, 20))
    edge, part, pte = _lower(model, args)
    assert _instructions(pte) == ["DelegateCall"], _instructions(pte)
    (payload, named), = _payloads(pte.buffer)
    kinds = [type(n.xnode_union).__name__ for n in payload.graph.xnodes]
    for k in ("XNNConv2d", "XNNDepthwiseConv2d", "XNNConvTranspose2d", "XNNMaxPooling2d",
              "XNNAvgPooling2d", "XNNGlobalAvgPooling2d", "XNNConcatenate2",
              "XNNFullyConnected", "XNNLeakyReLU"):
        assert k in kinds, (k, kinds)
    assert kinds.count("XNNDepthwiseConv2d") == 2 and kinds.count("XNNConv2d") == 4
    # NHWC from the input's transpose on: one transpose in, one out (before
    # the flatten), none between the convolutions.
    assert kinds.count("XNNStaticTranspose") == 2, kinds
    _check_numbers(pte.buffer, model, [args])


def test_transformer_block() -> None:
    torch.manual_seed(0)
    model, args = Block(), _inputs((2, 7, 32))
    edge, part, pte = _lower(model, args)
    assert _instructions(pte) == ["DelegateCall"], _instructions(pte)
    ops = sum(_delegated_ops(edge), [])
    assert ops.count("aten::bmm") == 2 and ops.count("aten::addmm") == 4
    assert "aten::_softmax" in ops and "aten::gelu" in ops
    (payload, named), = _payloads(pte.buffer)
    kinds = [type(n.xnode_union).__name__ for n in payload.graph.xnodes]
    assert kinds.count("XNNBatchMatrixMultiply") == 2 and "XNNSoftmax" in kinds
    assert kinds.count("XNNStaticSlice") == 3   # the q, k, v split
    _check_numbers(pte.buffer, model, [args, _inputs((2, 7, 32), seed=5)])


def test_several_delegates_with_portable_ops_between() -> None:
    torch.manual_seed(0)
    model, args = Several(), _inputs((3, 16))
    edge, part, pte = _lower(model, args)
    instrs = _instructions(pte)
    assert instrs.count("DelegateCall") == 4, instrs
    assert [k for k in instrs if k != "DelegateCall"] == [
        "aten::cumsum.out", "aten::flip.out", "aten::index_select.out"], instrs
    _no_heavy_kernels(pte)
    payloads = _payloads(pte.buffer)
    assert len(payloads) == 4
    # Every constant a payload names is in the program's named data, under
    # the sha256 of its bytes, with the size the payload records.
    for payload, named in payloads:
        for e in payload.graph.constant_data[1:]:
            assert e.offset == X.UINT64_MAX and e.named_key in named
            assert hashlib.sha256(named[e.named_key]).hexdigest() == e.named_key
            assert len(named[e.named_key]) == e.size
    _check_numbers(pte.buffer, model, [args])


def test_elementwise_and_shapes() -> None:
    model, args = Elementwise(), _inputs((4, 7), (4, 7))
    edge, part, pte = _lower(model, args)
    assert _instructions(pte) == ["DelegateCall"], (_instructions(pte), part.why_not)
    (payload, named), = _payloads(pte.buffer)
    kinds = [type(n.xnode_union).__name__ for n in payload.graph.xnodes]
    assert kinds.count("XNNConcatenate5") == 1 and kinds.count("XNNConcatenate3") == 1
    assert "XNNStaticSlice" in kinds and "XNNSoftmax" in kinds and "XNNClamp" in kinds
    assert len(payload.graph.output_ids) == 2
    _check_numbers(pte.buffer, model, [args])


def test_lstm_is_one_delegate() -> None:
    """The built-in LSTM classifier: the unrolled cell (fully connected,
    sigmoid, tanh, slices, selects of time steps) is one delegate; the zero
    initial state is a constant."""
    from edgetorch import models

    model, args = models.get("lstm")
    edge, part, pte = _lower(model, args)
    assert _instructions(pte) == ["DelegateCall"], (_instructions(pte), part.why_not)
    ops = sum(_delegated_ops(edge), [])
    assert "aten::select.int" in ops and "aten::sigmoid" in ops and "aten::tanh" in ops
    _check_numbers(pte.buffer, model, [args, _inputs(tuple(args[0].shape), seed=9)])


def test_activation_products_and_channel_softmax() -> None:
    torch.manual_seed(0)
    model, args = Misc(), _inputs((2, 3, 5, 5), (4, 10))
    edge, part, pte = _lower(model, args)
    assert _instructions(pte) == ["DelegateCall"], (_instructions(pte), part.why_not)
    (payload, named), = _payloads(pte.buffer)
    kinds = [type(n.xnode_union).__name__ for n in payload.graph.xnodes]
    assert "XNNBatchMatrixMultiply" in kinds and "XNNSoftmax" in kinds
    assert kinds.count("XNNStaticConstantPad") == 2
    # the pad of the NHWC softmax output pads NHWC (H and W are dims 1, 2)
    pad = next(n.xnode_union for n in payload.graph.xnodes
               if isinstance(n.xnode_union, X.XNNStaticConstantPad)
               and len(n.xnode_union.pre_paddings) == 4)
    assert (pad.pre_paddings, pad.post_paddings) == ([0, 0, 1, 0], [0, 1, 2, 0])
    # the softmax reads the convolution's NHWC output directly
    soft = next(n.xnode_union for n in payload.graph.xnodes
                if isinstance(n.xnode_union, X.XNNSoftmax))
    conv = next(n.xnode_union for n in payload.graph.xnodes
                if isinstance(n.xnode_union, X.XNNConv2d))
    assert soft.input_id == conv.output_id
    _check_numbers(pte.buffer, model, [args])


@pytest.mark.parametrize("name", ["digits_cnn", "resnet18", "mobilenet_v2"])
def test_builtin_models_are_one_delegate(name) -> None:
    from edgetorch import models

    model, args = models.get(name)
    edge, part, pte = _lower(model, args)
    assert _instructions(pte) == ["DelegateCall"], (_instructions(pte), part.why_not)
    _check_numbers(pte.buffer, model, [args])


def test_payload_layout() -> None:
    """Header fields, 16-byte alignment of the graph, external ids in
    DelegateCall order (inputs, then outputs), dense value ids."""
    model, args = Several(), _inputs((3, 16))
    _, _, pte = _lower(model, args)
    f = read_pte(pte.buffer)
    plan = f.program.execution_plan[0]
    calls = [i.instr_args for i in plan.chains[0].instructions
             if isinstance(i.instr_args, S.DelegateCall)]
    for call in calls:
        d = plan.delegates[call.delegate_index]
        raw = f.segment(d.processed.index)
        assert raw[:4] == bytes(4) and raw[4:8] == b"XH00"
        length, fb_off, fb_size, cd_off, cd_size = struct.unpack_from("<HIIIQ", raw, 8)
        assert (length, fb_off) == (30, 32) and raw[fb_off + 4:fb_off + 8] == b"XN01"
        assert cd_off == fb_off + (fb_size + 15) // 16 * 16 and cd_size == 0
        g = X.read_payload(raw).graph
        vals = [v.xvalue_union for v in g.xvalues]
        assert [v.id_out for v in vals] == list(range(len(vals)))
        ext = sorted((v.external_id, v.flags, v.id_out) for v in vals if v.flags)
        n_in = len(g.input_ids)
        assert g.num_externs == len(ext) == len(call.args)
        assert [e[0] for e in ext] == list(range(len(ext)))
        assert [e[1] for e in ext] == [1] * n_in + [2] * (len(ext) - n_in)
        for k, (_, _, vid) in enumerate(ext):
            t = plan.values[call.args[k]].val
            assert list(vals[vid].dims) == list(t.sizes)


def test_methods_share_weights_in_named_data() -> None:
    """Two methods over one linear layer: each gets its delegate, the weight
    and bias are stored once (named data is the program's, keyed by hash)."""
    torch.manual_seed(0)
    fc = nn.Linear(24, 12)

    class Head(nn.Module):
        def __init__(self, act) -> None:
            super().__init__()
            self.fc, self.act = fc, act

        def forward(self, x):
            return self.act(self.fc(x))

    a, b = Head(torch.tanh).eval(), Head(torch.sigmoid).eval()
    xa, xb = _inputs((2, 24)), _inputs((5, 24), seed=2)
    eps = {"forward": torch.export.export(a, xa), "other": torch.export.export(b, xb)}
    edge = edgetorch.to_edge_transform_and_lower(
        eps, partitioner={"forward": [edgetorch.XnnpackPartitioner()],
                          "other": [edgetorch.XnnpackPartitioner()]})
    pte = edge.to_executorch()
    assert _instructions(pte, "forward") == ["DelegateCall"]
    assert _instructions(pte, "other") == ["DelegateCall"]
    f = read_pte(pte.buffer)
    assert len(f.program.named_data) == 2   # weight and bias, once
    for meth, model, args in (("forward", a, xa), ("other", b, xb)):
        want = _eager(model, args)[0]
        for run in (run_ours, run_upstream):
            got = np.asarray(run(pte.buffer, [args], method=meth)[0][0])
            np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL,
                                       err_msg=f"{run.__name__} {meth}")


# ---------------------------------------------------------------------------
# what stays undelegated


class Double(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(8, 4).double()

    def forward(self, x):
        return torch.relu(self.fc(x))


class Mixed(nn.Module):
    """int64 indices (an embedding) feed a float32 head."""

    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(10, 16)
        self.fc = nn.Linear(16, 4)

    def forward(self, idx):
        return torch.sigmoid(self.fc(self.emb(idx)))


def test_unsupported_dtype_stays_portable() -> None:
    torch.manual_seed(0)
    model = Double()
    args = (torch.randn(3, 8, dtype=torch.float64),)
    edge, part, pte = _lower(model, args)
    assert "DelegateCall" not in _instructions(pte)
    assert not edge.delegates.get("forward")
    assert any("float64" in why for why in part.why_not.values()), part.why_not
    _check_numbers(pte.buffer, model, [args])


def test_integer_input_is_left_to_the_kernels() -> None:
    torch.manual_seed(0)
    model = Mixed()
    args = (torch.tensor([[1, 4, 9], [0, 2, 2]]),)
    edge, part, pte = _lower(model, args)
    instrs = _instructions(pte)
    assert instrs.count("DelegateCall") == 1 and "aten::embedding.out" in instrs, instrs
    assert instrs.index("aten::embedding.out") < instrs.index("DelegateCall")
    _check_numbers(pte.buffer, model, [args])


def test_dynamic_shapes() -> None:
    """Dynamic sizes with an upper bound are delegated: the payload's dims are
    the bounds, a reshape infers its one dynamic size (0), and both runtimes
    run calls of different sizes up to the bound."""
    torch.manual_seed(0)
    batch = torch.export.Dim("batch", min=1, max=8)
    model = CNN()
    calls = [_inputs((2, 3, 20, 20)), _inputs((5, 3, 20, 20), seed=3), _inputs((1, 3, 20, 20))]
    edge, part, pte = _lower(model, calls[0], dynamic_shapes=({0: batch},))
    assert _instructions(pte).count("DelegateCall") == 1, (_instructions(pte), part.why_not)
    (payload, named), = _payloads(pte.buffer)
    ext_in = next(v.xvalue_union for v in payload.graph.xvalues if v.xvalue_union.flags == 1)
    assert ext_in.dims == [8, 3, 20, 20]   # the bound
    reshape = next(n.xnode_union for n in payload.graph.xnodes
                   if isinstance(n.xnode_union, X.XNNStaticReshape))
    assert reshape.new_shape == [0, 12]    # flatten: the batch is inferred
    _check_numbers(pte.buffer, model, calls)

    # Attention scores have two dynamic sizes (T x T): their reshapes stay
    # portable, the rest of the block is delegated around them.
    seq = torch.export.Dim("seq", min=2, max=16)
    model = Block()
    calls = [_inputs((1, 9, 32)), _inputs((1, 5, 32), seed=4)]
    edge, part, pte = _lower(model, calls[0], dynamic_shapes=({1: seq},))
    instrs = _instructions(pte)
    assert instrs.count("DelegateCall") >= 2 and "aten::view_copy.out" in instrs, instrs
    assert "a reshape to more than one dynamic size" in part.why_not.values()
    _no_heavy_kernels(pte)
    _check_numbers(pte.buffer, model, calls)


class DataDependent(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(6, 6)

    def forward(self, x):
        y = torch.relu(self.fc(x))
        z = torch.masked_select(y, y > 0.1)
        return torch.sigmoid(z) * 2.0


def test_sizes_computed_from_data_stay_portable() -> None:
    torch.manual_seed(0)
    model, args = DataDependent(), _inputs((3, 6))
    edge, part, pte = _lower(model, args)
    instrs = _instructions(pte)
    assert instrs[0] == "DelegateCall" and instrs.count("DelegateCall") == 1, instrs
    assert "aten::sigmoid.out" in instrs
    assert part.why_not["sigmoid"] == "a size computed from data"
    _check_numbers(pte.buffer, model, [args])


def test_one_call_export_and_cli_delegate(tmp_path) -> None:
    """edgetorch.export(..., partitioner=[...]) and `edgetorch export --xnnpack`
    (a built-in model: the KWS depthwise-separable CNN) delegate too."""
    from edgetorch import cli, models

    torch.manual_seed(0)
    model, args = MLP().eval(), _inputs((3, 37))
    pte = edgetorch.export(model, args, partitioner=[edgetorch.XnnpackPartitioner()])
    assert _instructions(pte) == ["DelegateCall"]
    _check_numbers(pte.buffer, model, [args])

    out = tmp_path / "kws.pte"
    assert cli.main(["export", "kws_dscnn", "-o", str(out), "--xnnpack"]) == 0
    buf = out.read_bytes()
    f = read_pte(buf)
    plan = f.program.execution_plan[0]
    assert plan.delegates and {d.id for d in plan.delegates} == {"XnnpackBackend"}
    assert not any(o.name == "aten::convolution" for o in plan.operators)
    model, example = models.get("kws_dscnn")
    _check_numbers(buf, model, [example])


def test_docs_list_every_delegated_operator() -> None:
    import pathlib

    from edgetorch.export.xnnpack import supported_operators

    doc = (pathlib.Path(__file__).resolve().parents[2] / "docs" / "delegation.md").read_text()
    missing = [op for op in supported_operators() if op != "getitem"
               and op.split("::")[-1].split(".")[0].replace("_copy", "") not in doc]
    assert not missing, f"docs/delegation.md does not mention {missing}"


def test_why_not_names_operators_without_a_lowering() -> None:
    model, args = Several(), _inputs((3, 16))
    _, part, _ = _lower(model, args)
    assert part.why_not["cumsum"] == "no XNNPACK lowering for aten::cumsum"


def test_foreign_partitioner_is_refused() -> None:
    ep = torch.export.export(MLP().eval(), _inputs((2, 37)))
    with pytest.raises(edgetorch.ExportError, match="XnnpackPartitioner"):
        edgetorch.to_edge_transform_and_lower(ep, partitioner=[object()])


# ---------------------------------------------------------------------------
# the schema, against upstream's schema.fbs and flatc


def _sample(cls, seed: int):
    """An instance of a payload table with every field set to a distinct,
    non-default value (unions get their first member)."""
    kw = {}
    for k, (name, fid, kind) in enumerate(cls._fb):
        v = seed * 100 + k + 1
        if isinstance(kind, tuple) and kind[0] == "union":
            member = kind[1].by_tag[1 + (seed + k) % len(kind[1].by_tag)]
            kw[name] = _sample(member, seed + 1)
        elif isinstance(kind, tuple) and kind[0] == "table":
            kw[name] = _sample(kind[1], seed + 1)
        elif isinstance(kind, tuple) and kind[0] == "vec":
            kw[name] = [v, v + 1, v + 2] if kind[1] != "f32" else [0.5, -1.25, 3.0]
        elif kind == "f32":
            kw[name] = v + 0.25
        elif kind == "str":
            kw[name] = f"key{v}"
        elif name == "datatype":
            kw[name] = 1 + k % 14
        else:
            kw[name] = v
    return cls(**kw)


def _as_json(obj):
    """What flatc's JSON of `obj` holds (union members by type name, enums by name)."""
    out = {}
    for name, fid, kind in type(obj)._fb:
        v = getattr(obj, name)
        if isinstance(kind, tuple) and kind[0] == "union":
            out[name + "_type"] = type(v).__name__
            out[name] = _as_json(v)
        elif isinstance(kind, tuple) and kind[0] == "table":
            out[name] = _as_json(v)
        elif isinstance(kind, tuple) and kind[0] == "vec" and isinstance(kind[1], tuple):
            out[name] = [_as_json(x) for x in v]
        elif name == "datatype":
            out[name] = "xnn_datatype_" + X.XNNDatatype(v).name
        else:
            out[name] = v
    return out


def test_schema_matches_upstream_for_every_table() -> None:
    """Every node type and value type, written by edgetorch's encoder, reads
    back through upstream's schema.fbs with flatc field for field (no field
    missing or extra); flatc's binary of the same JSON reads back through
    edgetorch's decoder as the same tables."""
    import executorch.backends.xnnpack.serialization.xnnpack_graph_serialize as ser
    from executorch.exir._serialize._flatbuffer import _get_flatc_path

    import pathlib
    import tempfile

    schema = pathlib.Path(ser.__file__).with_name("schema.fbs")
    graph = X.XNNGraph(
        version="0",
        xnodes=[X.XNode(xnode_union=_sample(cls, i), debug_handle=i + 1,
                        output_min_max=X.OutputMinMax(output_min=-1.5 - i, output_max=2.5))
                for i, cls in enumerate(X.XNODE_MEMBERS)],
        xvalues=[X.XValue(_sample(X.XNNTensorValue, 1))] + [
            X.XValue(X.XNNQuantizedTensorValue(tensor_value=_sample(X.XNNTensorValue, 2),
                                               quant_params=_sample(q, 3)))
            for q in X.XNNQuantParams.by_tag.values()],
        num_externs=3, input_ids=[0, 1], output_ids=[2],
        constant_data=[X.ConstantDataOffset(offset=0, size=0, named_key=""),
                       X.ConstantDataOffset(offset=X.UINT64_MAX, size=64, named_key="ab" * 32)])
    want = _as_json(graph)
    flatc = _get_flatc_path()
    with tempfile.TemporaryDirectory() as d:
        d = pathlib.Path(d)
        (d / "ours.bin").write_bytes(edgetorch.pte.flatbuffer.encode(graph, X.XNN_FILE_IDENTIFIER))
        subprocess.run([flatc, "--json", "--strict-json", "--defaults-json", "--raw-binary",
                        "-o", str(d), str(schema), "--", str(d / "ours.bin")], check=True)
        got = json.loads((d / "ours.json").read_text())
        assert len(got["xnodes"]) == len(X.XNODE_MEMBERS) == 47
        for k, (g, w) in enumerate(zip(got["xnodes"], want["xnodes"])):
            assert g == w, (k, g, w)
        assert got == want
        # and back: flatc's own binary of that JSON, read by our decoder
        (d / "theirs.json").write_text(json.dumps(want))
        subprocess.run([flatc, "--binary", "-o", str(d), str(schema), str(d / "theirs.json")],
                       check=True)
        theirs = edgetorch.pte.flatbuffer.decode((d / "theirs.bin").read_bytes(), X.XNNGraph,
                                                 X.XNN_FILE_IDENTIFIER)
    assert theirs == graph
