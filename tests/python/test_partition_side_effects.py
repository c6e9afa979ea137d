"""Delegation of programs with mutable state: side effects bound partitions.

A cache written in place (``llama::update_cache``, which the exporter keeps as
an in-place call on the buffer) and read later orders the two by node order
only, not by a data edge. A partitioner that sees data edges alone may fuse
nodes from both sides of the write into one delegate (or move a write past a
later one, or a read of the old value past the write), and the program then
computes something else than eager. These programs are lowered with the
general ``XnnpackPartitioner()`` and run for several calls with their state
(oracle: eager on the same module, which updates its own buffers); the Llama
one is ``edgetorch.llm``'s export with its KV cache, decoded greedily.
"""

from __future__ import annotations

import copy
import warnings
from typing import Any, List, Sequence, Tuple

import numpy as np
import pytest
import torch
from torch import nn

# upstream's custom ops library before edgetorch.llm.ops (see test_llm_export.py)
try:
    from executorch.extension.llm.custom_ops import custom_ops as _upstream_ops  # noqa: F401
except ImportError:
    _upstream_ops = None

import edgetorch  # noqa: E402
import edgetorch.llm.ops  # noqa: E402,F401  (llama:: operators)
from edgetorch.export import partition  # noqa: E402
from edgetorch.pte import schema as S  # noqa: E402

from _export_util import run_ours, run_upstream  # noqa: E402

warnings.filterwarnings("ignore", category=FutureWarning)
warnings.filterwarnings("ignore", category=DeprecationWarning)
warnings.filterwarnings("ignore", category=UserWarning)

RTOL, ATOL = 1e-4, 1e-5
C = 6     # cache rows
T = 2     # rows written per call


def _pos(x: torch.Tensor) -> int:
    p = x[0].item()
    torch._check(p >= 0)
    torch._check(p + T <= C)
    return p


class WriteThenRead(nn.Module):
    """A linear computes the rows written into the cache; another reads the
    whole cache after the write (no data edge between the two); a third
    part reads only the input, is written after the update and reaches the
    output through a portable operator (cumsum)."""

    def __init__(self) -> None:
        super().__init__()
        self.lin_in = nn.Linear(8, 8)
        self.lin_out = nn.Linear(8, 8)
        self.lin_side = nn.Linear(8, 8)
        self.register_buffer("cache", torch.zeros(1, C, 1, 8))

    def forward(self, x, pos):
        p = _pos(pos)
        v = torch.tanh(self.lin_in(x)).view(1, T, 1, 8)
        torch.ops.llama.update_cache(v, self.cache, p)
        side = torch.cumsum(torch.sigmoid(self.lin_side(x)) * 3.0, dim=-1)
        r = self.lin_out(self.cache.view(C, 8) * 2.0)
        return r + side.sum(1)


class ReadOldWriteReadNew(nn.Module):
    """The cache read before the write (the old rows) and after it (the new
    ones), both by delegated operators, summed: a delegate holding both
    reads would see one state only."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(8, 8)
        self.b = nn.Linear(8, 8)
        self.register_buffer("cache", torch.zeros(1, C, 1, 8))

    def forward(self, x, pos):
        p = _pos(pos)
        # the cache itself is the delegated operators' input (a view of it
        # would be a portable copy taken in place)
        old = self.a((self.cache * 0.5).view(C, 8))
        torch.ops.llama.update_cache(torch.relu(x).view(1, T, 1, 8), self.cache, p)
        new = self.b((self.cache + 1.0).view(C, 8))
        return old * new


class TwoWrites(nn.Module):
    """The same rows written twice; the second write's value is ready early
    (no delegate computes it) while the first write's value comes out of a
    delegate that also holds a linear of a late portable result: the writes
    must keep their order however the delegate is placed."""

    def __init__(self) -> None:
        super().__init__()
        self.first = nn.Linear(8, 8)
        self.late = nn.Linear(8, 8)
        self.register_buffer("cache", torch.zeros(1, C, 1, 8))

    def forward(self, x, pos):
        p = _pos(pos)
        torch.ops.llama.update_cache(self.first(x).view(1, T, 1, 8), self.cache, p)
        torch.ops.llama.update_cache(x.view(1, T, 1, 8), self.cache, p)
        y = self.late(torch.cumsum(x, dim=-1))
        # read by a portable operator: only the writes' order decides
        return torch.cumsum(self.cache.view(C, 8), dim=0), y


class InPlaceAten(nn.Module):
    """aten's in-place updates of a buffer (index_put_, copy_), which
    torch.export turns into data edges: delegated on both sides."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(8, 8)
        self.b = nn.Linear(8, 8)
        self.register_buffer("state", torch.zeros(C, 8))
        self.register_buffer("count", torch.zeros(8))

    def forward(self, x, pos):
        idx = pos + torch.arange(T)
        self.state.index_put_((idx,), torch.tanh(self.a(x[0])))
        self.count.copy_(self.count + x[0].sum(0))
        return self.b(self.state * 2.0) + self.count


def _calls(seed: int = 0, n: int = 3) -> List[Tuple[torch.Tensor, torch.Tensor]]:
    g = torch.Generator().manual_seed(seed)
    return [(torch.randn(1, T, 8, generator=g), torch.tensor([i * T])) for i in range(n)]


def _eager(model: nn.Module, calls: Sequence[tuple]) -> List[List[np.ndarray]]:
    model = copy.deepcopy(model)
    out = []
    with torch.no_grad():
        for args in calls:
            r = model(*args)
            out.append([t.numpy().copy() for t in (r if isinstance(r, tuple) else (r,))])
    return out


def _lower(model: nn.Module, args: tuple):
    torch.manual_seed(0)
    model.eval()
    ep = torch.export.export(copy.deepcopy(model), args, strict=False)
    edge = edgetorch.to_edge(ep)
    edge.to_backend(edgetorch.XnnpackPartitioner())
    return edge, edge.to_executorch()


def _instructions(pte, method: str = "forward") -> List[str]:
    plan = next(p for p in pte.program.execution_plan if p.name == method)
    out = []
    for ins in plan.chains[0].instructions:
        a = ins.instr_args
        out.append("DelegateCall" if isinstance(a, S.DelegateCall)
                   else plan.operators[a.op_index].name)
    return out


def _upstream_or_skip() -> Any:
    if _upstream_ops is None:
        pytest.skip("upstream executorch's llm custom ops library is not installed")
    return run_upstream


def _check(model: nn.Module, *, upstream: bool = True):
    torch.manual_seed(0)
    model = model.eval()
    calls = _calls()
    want = _eager(model, calls)
    edge, pte = _lower(model, calls[0])
    runs = [run_ours] + ([_upstream_or_skip()] if upstream else [])
    for run in runs:
        got = run(pte.buffer, calls, stateful=True)
        for c, (g, w) in enumerate(zip(got, want)):
            assert len(g) == len(w)
            for k, (a, b) in enumerate(zip(g, w)):
                np.testing.assert_allclose(np.asarray(a), b, rtol=RTOL, atol=ATOL,
                                           err_msg=f"{run.__name__} call {c} output {k}")
    return edge, pte


# ---------------------------------------------------------------------------
# programs on the runtimes


def test_read_after_a_cache_write_sees_the_write() -> None:
    edge, pte = _check(WriteThenRead())
    ins = _instructions(pte)
    upd = ins.index("llama::update_cache")
    # the rows' linear runs before the write, the cache's reader after it
    assert "DelegateCall" in ins[:upd] and "DelegateCall" in ins[upd + 1:], ins


def test_independent_operators_still_fuse_across_the_write() -> None:
    # lin_side (written after the update, not touching the cache) joins the
    # delegate before the update; splitting at the write would make three
    edge, pte = _check(WriteThenRead(), upstream=False)
    assert _instructions(pte).count("DelegateCall") == 2, _instructions(pte)
    first = edge.delegates["forward"][0].ops
    assert first.count("aten::sigmoid") == 1 and first.count("aten::tanh") == 1, first


def test_read_of_the_old_value_stays_before_the_write() -> None:
    _check(ReadOldWriteReadNew())


def test_two_writes_keep_their_order() -> None:
    _check(TwoWrites())


def test_aten_in_place_buffer_updates() -> None:
    edge, pte = _check(InPlaceAten(), upstream=False)
    assert _instructions(pte).count("DelegateCall") >= 1


# ---------------------------------------------------------------------------
# the rules on hand-made graphs


def _graph(body) -> torch.fx.Graph:
    g = torch.fx.Graph()
    a, b, x = g.placeholder("a"), g.placeholder("b"), g.placeholder("x")
    body(g, a, b, x)
    return g


def _named(g: torch.fx.Graph):
    return {n.name: n for n in g.nodes}


def test_a_view_of_storage_written_later_stays_out_of_delegates() -> None:
    aten, llama = torch.ops.aten, torch.ops.llama

    def body(g, a, b, x):
        early = g.call_function(aten.view.default, (a, [C, 8]))
        g.call_function(aten.mul.Scalar, (early, 2.0))
        g.call_function(llama.update_cache.default, (x, a, 0))
        late = g.call_function(aten.view.default, (a, [C, 8]))
        g.call_function(aten.view.default, (b, [C, 8]))      # b is never written
        g.output((late,))

    g = _graph(body)
    n = _named(g)
    fx = partition.side_effects(g)
    # a delegate would turn `view` into a copy taken before the write, while
    # its readers may run after it; views after the last write are fine
    assert set(fx.barred) == {n["view_default"], n["update_cache_default"]}, fx.barred
    assert fx.after[n["update_cache_default"]] == {n["view_default"], n["mul_scalar"]}
    assert fx.after[n["view_default_1"]] == {n["update_cache_default"]}
    assert n["view_default_2"] not in fx.after


def test_effectful_operators_are_ordered_with_the_writes() -> None:
    aten, llama = torch.ops.aten, torch.ops.llama

    def body(g, a, b, x):
        g.call_function(llama.update_cache.default, (x, a, 0))
        ok = g.call_function(aten.ones.default, ([],))
        g.call_function(aten._assert_async.msg, (ok, "checked"))
        g.call_function(llama.update_cache.default, (x, b, 0))
        g.call_function(aten.relu.default, (x,))
        g.output(())

    g = _graph(body)
    n = _named(g)
    fx = partition.side_effects(g)
    check, w0, w1 = n["_assert_async_msg"], n["update_cache_default"], n["update_cache_default_1"]
    assert fx.after[check] == {w0} and fx.after[w1] == {check}
    assert check in fx.barred and n["relu_default"] not in fx.barred and n["relu_default"] not in fx.after


def test_graph_without_side_effects_has_no_implicit_edges() -> None:
    def body(g, a, b, x):
        g.output((g.call_function(torch.ops.aten.add.Tensor, (a, x)),))

    fx = partition.side_effects(_graph(body))
    assert not fx.after and not fx.barred


# ---------------------------------------------------------------------------
# edgetorch.llm's Llama with its KV cache, lowered by the general partitioner

MAX_SEQ_LEN, MAX_CONTEXT_LEN, STEPS = 8, 24, 6


@pytest.fixture(scope="module")
def llama():
    transformers = pytest.importorskip("transformers")
    from edgetorch.export.config import ExportConfig
    from edgetorch.llm.export import as_decoder, metadata

    torch.manual_seed(4321)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        hf = transformers.LlamaForCausalLM(transformers.LlamaConfig(
            vocab_size=96, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
            num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
            tie_word_embeddings=False)).eval()
    with torch.no_grad():   # wide weights: well separated argmaxes
        g = torch.Generator().manual_seed(7)
        for p in hf.parameters():
            if p.dim() >= 2:
                p.copy_(torch.randn(p.shape, generator=g) * 0.2)
    # what edgetorch.llm.export does, with XnnpackPartitioner() over the
    # whole edge program instead of its 8da4w linears
    dec = as_decoder(hf, max_context_len=MAX_CONTEXT_LEN, custom_sdpa=True)
    example = (torch.zeros(1, 2, dtype=torch.int64), torch.zeros(1, dtype=torch.int64))
    with torch.no_grad():
        ep = torch.export.export(
            dec, example, strict=False, prefer_deferred_runtime_asserts_over_guards=True,
            dynamic_shapes=({1: torch.export.Dim("seq_len", max=MAX_SEQ_LEN)}, None))
    cfg = ExportConfig(init_mutable_buffers=False)
    edge = edgetorch.to_edge(ep, constant_methods=metadata(dec, MAX_SEQ_LEN), config=cfg)
    edge.to_backend(edgetorch.XnnpackPartitioner())
    return hf, edge, edge.to_executorch(cfg)


def _prompt() -> torch.Tensor:
    return torch.randint(0, 96, (1, 5), generator=torch.Generator().manual_seed(11))


def _greedy(run, prompt: torch.Tensor):
    logits = [run(prompt, 0)]
    toks: List[int] = []
    pos = prompt.shape[1]
    while True:
        toks.append(int(np.argmax(logits[-1])))
        if len(toks) == STEPS:
            return toks, logits
        logits.append(run(torch.tensor([[toks[-1]]]), pos))
        pos += 1


def _eager_greedy(hf, prompt: torch.Tensor):
    seq, toks, logits = prompt.clone(), [], []
    with torch.no_grad():
        for _ in range(STEPS):
            row = hf(seq).logits[0, -1]
            logits.append(row.numpy())
            toks.append(int(row.argmax()))
            seq = torch.cat([seq, torch.tensor([[toks[-1]]])], dim=1)
    return toks, logits


def _compare(run, hf) -> None:
    prompt = _prompt()
    want, wlog = _eager_greedy(hf, prompt)
    got, glog = _greedy(run, prompt)
    assert got == want
    for i, (a, b) in enumerate(zip(glog, wlog)):
        np.testing.assert_allclose(np.asarray(a).reshape(-1), b, rtol=1e-3, atol=1e-3,
                                   err_msg=f"call {i}")


def test_llama_kv_cache_delegated_greedy_equals_eager(llama) -> None:
    from edgetorch import runtime

    hf, edge, pte = llama
    ops = [op for d in edge.delegates["forward"] for op in d.ops]
    # the norms and the rotary embeddings went into delegates (its linears,
    # written mm(weight, x^T), the partitioner leaves to the kernels)
    assert ops.count("aten::rsqrt") == 5 and ops.count("aten::neg") == 4, ops
    m = runtime.load_program(pte.buffer).load_method("forward")
    _compare(lambda t, p: np.asarray(m.execute([t.numpy(), np.array([p])])[0]), hf)


def test_llama_kv_cache_delegated_runs_on_upstream(llama) -> None:
    _upstream_or_skip()
    from executorch.runtime import Runtime

    hf, edge, pte = llama
    m = Runtime.get().load_program(pte.buffer).load_method("forward")
    _compare(lambda t, p: m.execute([t, torch.tensor([p])])[0].numpy(), hf)


def test_llama_8da4w_linears_under_one_partitioner(llama) -> None:
    # the 8da4w linears of every layer offered to one partitioner: the k/v
    # projections (which feed the cache updates only) may not join a
    # delegate placed after the attention that reads the cache
    pytest.importorskip("torchao")
    from torchao.quantization import quantize_

    from edgetorch import runtime
    from edgetorch.export.config import ExportConfig
    from edgetorch.llm.export import as_decoder, config_8da4w, metadata, quantize_8da4w
    from edgetorch.quantize.op8da4w import QUALNAME

    hf = llama[0]
    dec = quantize_8da4w(as_decoder(hf, max_context_len=MAX_CONTEXT_LEN, custom_sdpa=True),
                         32, copy_first=True)
    example = (torch.zeros(1, 2, dtype=torch.int64), torch.zeros(1, dtype=torch.int64))
    with torch.no_grad():
        ep = torch.export.export(
            dec, example, strict=False, prefer_deferred_runtime_asserts_over_guards=True,
            dynamic_shapes=({1: torch.export.Dim("seq_len", max=MAX_SEQ_LEN)}, None))
    cfg = ExportConfig(init_mutable_buffers=False)
    edge = edgetorch.to_edge(ep, constant_methods=metadata(dec, MAX_SEQ_LEN), config=cfg)
    edge.to_backend(edgetorch.XnnpackPartitioner(ops=[QUALNAME]))
    # one delegate per activation the linears read: q/k/v, o, gate/up, down
    # per layer, and the output projection
    assert [len(d.ops) for d in edge.delegates["forward"]] == [3, 1, 2, 1] * 2 + [1]
    m = runtime.load_program(edge.to_executorch(cfg).buffer).load_method("forward")
    ref = copy.deepcopy(hf)
    quantize_(ref, config_8da4w(32),
              filter_fn=lambda mod, fqn: isinstance(mod, nn.Linear) and mod.in_features % 32 == 0)
    prompt = _prompt()
    want, wlog = _eager_greedy(ref.eval(), prompt)
    got, glog = _greedy(lambda t, p: np.asarray(m.execute([t.numpy(), np.array([p])])[0]),
                        prompt)
    assert got == want
    for i, (a, b) in enumerate(zip(glog, wlog)):
        np.testing.assert_allclose(np.asarray(a).reshape(-1), b, rtol=0, atol=1e-4,
                                   err_msg=f"call {i}")
