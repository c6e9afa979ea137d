"""Upstream's LLM custom ops (llama::custom_sdpa, sdpa_with_kv_cache,
update_cache, update_cache_with_indices): edgetorch's torch.library
definitions (edgetorch.llm.ops) and its C kernels (kernels/llm) against

* a float64 reference of upstream's semantics written here,
* upstream's own eager ops (executorch's custom_ops_aot_lib), run in a
  subprocess: the two libraries define the same ``llama`` namespace and
  cannot both be loaded in one process,
* upstream's Llama export (examples/models/llama with its custom SDPA and
  custom KV cache, random weights, dynamic shape), which must run on
  edgetorch and generate the same greedy tokens as eager.

Upstream's exports are cached under build/testdata/llm_ops/, keyed by this
file and the torch/executorch versions.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np
import pytest
import torch

# Upstream's custom ops library first, when there is one: it defines the
# llama namespace in C++ and aborts the process if edgetorch.llm.ops
# defined it before; edgetorch.llm.ops then leaves upstream's definitions in
# place (same schemas). The eager tests call edgetorch's implementations
# directly; test_export_without_executorch checks edgetorch's own
# definitions in a process without executorch.
try:
    from executorch.extension.llm.custom_ops import custom_ops as _upstream_ops  # noqa: F401
except ImportError:
    pass

import edgetorch  # noqa: E402
import edgetorch.llm.ops as llama_ops  # noqa: E402
from edgetorch import runtime  # noqa: E402

warnings.filterwarnings("ignore", category=FutureWarning)
warnings.filterwarnings("ignore", category=UserWarning)

REPO = Path(__file__).resolve().parents[2]
RTOL = ATOL = 2e-5


def _cache_dir() -> Path:
    env = os.environ.get("ET_TESTDATA_DIR")
    return (Path(env) if env else REPO / "build" / "testdata") / "llm_ops"


def _key() -> str:
    h = hashlib.sha256(Path(__file__).read_bytes())
    try:
        import executorch

        h.update(str(getattr(executorch, "__version__", "")).encode())
    except ImportError:
        pass
    h.update(torch.__version__.encode())
    return h.hexdigest()[:16]


# ---- the reference ----------------------------------------------------------------------


def ref_sdpa(q, k, v, start_pos, mask=None, causal=False, scale=None) -> np.ndarray:
    """Upstream's custom_sdpa in float64: q [B, S, H, D], caches [B, C, Hkv, D]."""
    q, k, v = (np.asarray(t, dtype=np.float64) for t in (q, k, v))
    b, s, h, d = q.shape
    c, hkv = k.shape[1], k.shape[2]
    n = c if mask is not None else start_pos + s
    sc = 1.0 / math.sqrt(d) if scale is None else scale
    out = np.zeros_like(q)
    for hh in range(h):
        kk, vv = k[:, :n, hh // (h // hkv)], v[:, :n, hh // (h // hkv)]   # [B, n, D]
        sco = np.einsum("bsd,bnd->bsn", q[:, :, hh], kk) * sc
        if mask is not None:
            sco = sco + np.asarray(mask, dtype=np.float64)[None]
        elif causal:
            keep = np.arange(n)[None, :] <= (np.arange(s)[:, None] + start_pos)
            sco = np.where(keep[None], sco, -np.inf)
        sco = sco - sco.max(-1, keepdims=True)
        p = np.exp(sco)
        p /= p.sum(-1, keepdims=True)
        out[:, :, hh] = np.einsum("bsn,bnd->bsd", p, vv)
    return out


# (B, S, H, Hkv, D, C, start_pos, causal, mask, scale)
CASES = {
    "decode_first": (1, 1, 4, 4, 8, 16, 0, True, False, None),
    "decode_gqa_d13_mid": (1, 1, 6, 2, 13, 300, 211, True, False, None),
    "prefill_gqa_mid_scale": (2, 5, 6, 3, 13, 20, 7, True, False, 0.37),
    "prefill_start0": (1, 6, 4, 2, 12, 24, 0, True, False, None),
    "not_causal": (1, 4, 2, 1, 5, 9, 0, False, False, None),
    "mask_whole_cache": (1, 3, 4, 2, 24, 11, 2, False, True, None),
    "cache_full": (1, 7, 3, 3, 64, 150, 143, True, False, 0.1),
}


def _inputs(name: str) -> Dict[str, Any]:
    b, s, h, hkv, d, c, sp, causal, use_mask, scale = CASES[name]
    g = torch.Generator().manual_seed(sum(map(ord, name)))
    t = {"q": torch.randn(b, s, h, d, generator=g), "k": torch.randn(b, c, hkv, d, generator=g),
         "v": torch.randn(b, c, hkv, d, generator=g), "start_pos": sp, "causal": causal,
         "scale": scale, "mask": None}
    if use_mask:
        m = torch.randn(s, c, generator=g)
        m[:, -1] = float("-inf")
        t["mask"] = m
    return t


# ---- eager (torch.library) ops ------------------------------------------------------------


@pytest.mark.parametrize("name", list(CASES))
def test_eager_custom_sdpa_matches_reference(name: str) -> None:
    t = _inputs(name)
    got = llama_ops._custom_sdpa(t["q"], t["k"], t["v"], t["start_pos"], t["mask"], 0.0,
                                 t["causal"], t["scale"])
    want = ref_sdpa(t["q"], t["k"], t["v"], t["start_pos"], t["mask"], t["causal"], t["scale"])
    np.testing.assert_allclose(got.numpy(), want, rtol=RTOL, atol=ATOL)


def test_eager_update_cache_and_refusals() -> None:
    cache = torch.zeros(1, 8, 2, 3)
    val = torch.randn(1, 3, 2, 3)
    llama_ops._update_cache(val, cache, 5)
    assert torch.equal(cache[:, 5:], val) and not cache[:, :5].any()
    with pytest.raises(llama_ops.LlamaOpError, match="outside"):
        llama_ops._update_cache(val, cache, 6)
    with pytest.raises(llama_ops.LlamaOpError, match="4 dimensions"):
        llama_ops._update_cache(val[0], cache, 0)
    idx = torch.tensor([[7, 0, 2]])
    c2 = torch.zeros(1, 8, 2, 3)
    llama_ops._update_cache_with_indices(val, c2, 0, idx)
    assert torch.equal(c2[0, [7, 0, 2]], val[0])
    with pytest.raises(llama_ops.LlamaOpError, match="outside"):
        llama_ops._update_cache_with_indices(val, c2, 0, torch.tensor([[7, 8, 2]]))
    q = torch.randn(1, 3, 4, 3)
    with pytest.raises(llama_ops.LlamaOpError, match="is_causal"):
        llama_ops._custom_sdpa(q, cache, cache, 0, torch.zeros(3, 8), 0.0, True, None)
    with pytest.raises(llama_ops.LlamaOpError, match="float dtype"):
        llama_ops._custom_sdpa(q.to(torch.int32), cache.to(torch.int32),
                                    cache.to(torch.int32), 0, None, 0.0, True, None)


# ---- the C kernels, through exported programs ------------------------------------------------


class _Sdpa(torch.nn.Module):
    def __init__(self, causal: bool, scale: Optional[float], with_mask: bool) -> None:
        super().__init__()
        self.causal, self.scale, self.with_mask = causal, scale, with_mask

    def forward(self, q, k, v, pos, mask=None):
        sp = pos[0].item()
        torch._check(sp >= 0)
        torch._check(sp + q.shape[1] <= k.shape[1])
        return torch.ops.llama.custom_sdpa(q, k, v, sp, mask if self.with_mask else None, 0.0,
                                           self.causal, self.scale)


class _SdpaWithCache(torch.nn.Module):
    def __init__(self, b, c, hkv, d, causal, scale) -> None:
        super().__init__()
        self.register_buffer("kc", torch.zeros(b, c, hkv, d))
        self.register_buffer("vc", torch.zeros(b, c, hkv, d))
        self.causal, self.scale = causal, scale

    def forward(self, q, k, v, pos):
        sp = pos[0].item()
        torch._check(sp >= 0)
        torch._check(sp + q.shape[1] <= self.kc.shape[1])
        o = torch.ops.llama.sdpa_with_kv_cache(q, k, v, self.kc, self.vc, sp, q.shape[1], None,
                                               0.0, self.causal, self.scale)
        return o, self.kc + 0, self.vc + 0


def _export(module: torch.nn.Module, args) -> bytes:
    ep = torch.export.export(module, args, strict=False)
    return edgetorch.to_edge(ep).to_executorch().buffer


def _run(buf: bytes, inputs: List[Any]) -> List[np.ndarray]:
    m = runtime.load_program(buf).load_method("forward")
    return [np.asarray(o) for o in m.execute([np.asarray(i) for i in inputs])]


@pytest.mark.parametrize("name", list(CASES))
def test_c_custom_sdpa_matches_reference(name: str) -> None:
    t = _inputs(name)
    pos = torch.tensor([t["start_pos"]])
    args = [t["q"], t["k"], t["v"], pos] + ([t["mask"]] if t["mask"] is not None else [])
    buf = _export(_Sdpa(t["causal"], t["scale"], t["mask"] is not None), tuple(args))
    assert b"llama::custom_sdpa" in buf
    (got,) = _run(buf, [a.numpy() for a in args])
    want = ref_sdpa(t["q"], t["k"], t["v"], t["start_pos"], t["mask"], t["causal"], t["scale"])
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("name", ["decode_gqa_d13_mid", "prefill_gqa_mid_scale"])
def test_c_sdpa_with_kv_cache_writes_then_attends(name: str) -> None:
    b, s, h, hkv, d, c, sp, causal, _, scale = CASES[name]
    g = torch.Generator().manual_seed(5)
    q, k, v = (torch.randn(b, s, n, d, generator=g) for n in (h, hkv, hkv))
    pos = torch.tensor([sp])
    buf = _export(_SdpaWithCache(b, c, hkv, d, causal, scale), (q, k, v, pos))
    out, kc, vc = _run(buf, [q.numpy(), k.numpy(), v.numpy(), pos.numpy()])
    want_kc = np.zeros((b, c, hkv, d), np.float32)
    want_vc = np.zeros((b, c, hkv, d), np.float32)
    want_kc[:, sp:sp + s], want_vc[:, sp:sp + s] = k.numpy(), v.numpy()
    np.testing.assert_array_equal(kc, want_kc)
    np.testing.assert_array_equal(vc, want_vc)
    np.testing.assert_allclose(out, ref_sdpa(q, want_kc, want_vc, sp, None, causal, scale),
                               rtol=RTOL, atol=ATOL)


class _Update(torch.nn.Module):
    def __init__(self, indices: bool) -> None:
        super().__init__()
        self.register_buffer("cache", torch.zeros(1, 8, 2, 3))
        self.indices = indices

    def forward(self, value, pos, idx):
        sp = pos[0].item()
        torch._check(sp >= 0)
        torch._check(sp + value.shape[1] <= 8)
        if self.indices:
            torch.ops.llama.update_cache_with_indices(value, self.cache, sp, idx)
        else:
            torch.ops.llama.update_cache(value, self.cache, sp)
        return self.cache + 0


@pytest.mark.parametrize("indices", [False, True], ids=["update_cache", "with_indices"])
def test_c_update_cache_and_refusals(indices: bool) -> None:
    val = torch.randn(1, 3, 2, 3)
    idx = torch.tensor([[6, 0, 3]])
    buf = _export(_Update(indices), (val, torch.tensor([2]), idx))
    m = runtime.load_program(buf).load_method("forward")
    (got,) = m.execute([val.numpy(), np.array([5], np.int64), idx.numpy()])
    want = torch.zeros(1, 8, 2, 3)
    if indices:
        want[0, [6, 0, 3]] = val[0]
    else:
        want[:, 5:] = val
    np.testing.assert_array_equal(np.asarray(got), want.numpy())
    if indices:
        bad = [val.numpy(), np.array([0], np.int64), np.array([[6, 8, 3]], np.int64)]
        needle = "indices[0, 1] = 8 is outside the cache's 8 positions"
    else:
        bad = [val.numpy(), np.array([6], np.int64), idx.numpy()]
        needle = "start_pos 6 + seq_len 3 is outside the cache's 8 positions"
    with pytest.raises(Exception) as e:
        m.execute(bad)
    assert type(e.value).__name__ == "EdgetorchError"
    assert "InvalidArgument" in str(e.value) and needle in str(e.value)
    assert "llama::update_cache" in str(e.value)


def test_c_custom_sdpa_refuses_start_pos_past_the_cache() -> None:
    t = _inputs("prefill_gqa_mid_scale")
    buf = _export(_Sdpa(True, None, False), (t["q"], t["k"], t["v"], torch.tensor([0])))
    m = runtime.load_program(buf).load_method("forward")
    with pytest.raises(Exception) as e:
        m.execute([t["q"].numpy(), t["k"].numpy(), t["v"].numpy(), np.array([16], np.int64)])
    assert "InvalidArgument" in str(e.value)
    assert "start_pos 16 + seq_len 5 is outside the key cache's 20 positions" in str(e.value)


# ---- upstream's eager ops as the oracle (a subprocess) -----------------------------------------


_ORACLE = textwrap.dedent("""
    import sys, torch
    from executorch.extension.llm.custom_ops import custom_ops  # noqa: F401
    cases = torch.load(sys.argv[1])
    out = {}
    for name, t in cases.items():
        out[name] = torch.ops.llama.custom_sdpa(t["q"], t["k"], t["v"], t["start_pos"],
                                                t["mask"], 0.0, t["causal"], t["scale"])
        kc, vc = torch.zeros_like(t["k"]), torch.zeros_like(t["v"])
        s = t["q"].shape[1]
        if t["mask"] is None:
            kn, vn = t["k"][:, :s].clone(), t["v"][:, :s].clone()
            o = torch.ops.llama.sdpa_with_kv_cache(t["q"], kn, vn, kc, vc, t["start_pos"], s,
                                                   None, 0.0, t["causal"], t["scale"])
            out[name + "/with_cache"] = (o, kc, vc)
    torch.save(out, sys.argv[2])
""")


def _python() -> List[str]:
    return [sys.executable]


@pytest.fixture(scope="module")
def upstream_eager(tmp_path_factory):
    pytest.importorskip("executorch")
    d = tmp_path_factory.mktemp("oracle")
    cases = {n: _inputs(n) for n in CASES}
    torch.save(cases, d / "in.pt")
    r = subprocess.run(_python() + ["-c", _ORACLE, str(d / "in.pt"), str(d / "out.pt")],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    return cases, torch.load(d / "out.pt")


@pytest.mark.parametrize("name", list(CASES))
def test_upstream_eager_ops_agree(upstream_eager, name: str) -> None:
    """Upstream's eager custom_sdpa (its flash attention) against ours, eager
    and C, on the same inputs; sdpa_with_kv_cache's cache writes too."""
    cases, out = upstream_eager
    t = cases[name]
    theirs = out[name].numpy()
    ours = llama_ops._custom_sdpa(t["q"], t["k"], t["v"], t["start_pos"], t["mask"], 0.0,
                                  t["causal"], t["scale"]).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)
    pos = torch.tensor([t["start_pos"]])
    args = [t["q"], t["k"], t["v"], pos] + ([t["mask"]] if t["mask"] is not None else [])
    (c_out,) = _run(_export(_Sdpa(t["causal"], t["scale"], t["mask"] is not None),
                            tuple(args)), [a.numpy() for a in args])
    np.testing.assert_allclose(c_out, theirs, rtol=1e-4, atol=1e-5)
    if name + "/with_cache" in out:
        o, kc, vc = out[name + "/with_cache"]
        s, sp = t["q"].shape[1], t["start_pos"]
        want = torch.zeros_like(t["k"])
        want[:, sp:sp + s] = t["k"][:, :s]
        assert torch.equal(kc, want)
        np.testing.assert_allclose(o.numpy(), ref_sdpa(t["q"], kc, vc, sp, None, t["causal"],
                                                       t["scale"]), rtol=1e-4, atol=1e-5)


# ---- upstream's Llama export runs on edgetorch ---------------------------------------------------


_UPSTREAM_LLAMA = textwrap.dedent("""
    import json, sys, torch
    from executorch.extension.llm.custom_ops import custom_ops  # noqa: F401
    from executorch.examples.models.llama.model_args import ModelArgs
    from executorch.examples.models.llama.llama_transformer import construct_transformer
    from executorch.examples.models.llama.source_transformation.sdpa import (
        replace_sdpa_with_custom_op)
    from executorch.examples.models.llama.source_transformation.custom_kv_cache import (
        replace_kv_cache_with_custom_kv_cache)
    from executorch.exir import EdgeCompileConfig, to_edge

    MAX_SEQ, MAX_CTX = 8, 48
    args = ModelArgs(dim=64, n_layers=2, n_heads=4, n_kv_heads=2, head_dim=16,
                     vocab_size=97, hidden_dim=96, max_seq_len=MAX_SEQ,
                     max_context_len=MAX_CTX, use_kv_cache=True,
                     use_sdpa_with_kv_cache_op=True, enable_dynamic_shape=True,
                     max_batch_size=1)
    torch.manual_seed(0)
    model = construct_transformer(args).eval()
    with torch.no_grad():
        g = torch.Generator().manual_seed(1)
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * (0.2 if p.dim() >= 2 else 1.0))
    model = replace_sdpa_with_custom_op(model)
    model = replace_kv_cache_with_custom_kv_cache(model)

    class W(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m
        def forward(self, tokens, input_pos):
            return self.m(tokens, {"input_pos": input_pos})

    w = W(model).eval()
    prompt = [3, 17, 42, 5, 88, 23, 9, 61, 12, 7, 30]
    # eager greedy: prefill in chunks of MAX_SEQ, then decode one at a time
    def greedy(run, n):
        toks, pos, logits = list(prompt), 0, None
        while pos < len(prompt):
            chunk = prompt[pos:pos + MAX_SEQ]
            logits = run(torch.tensor([chunk]), torch.tensor([pos]))
            pos += len(chunk)
        out = []
        for _ in range(n):
            nxt = int(logits.reshape(-1, logits.shape[-1])[-1].argmax())
            out.append(nxt)
            logits = run(torch.tensor([[nxt]]), torch.tensor([pos]))
            pos += 1
        return out
    with torch.no_grad():
        eager = greedy(lambda t, p: w(t, p), 20)
    # fresh caches for the export
    for mod in model.modules():
        for n, b in list(mod.named_buffers(recurse=False)):
            if "cache" in n:
                b.zero_()
    seq = torch.export.Dim("seq", min=1, max=MAX_SEQ)
    with torch.no_grad():
        ep = torch.export.export(w, (torch.tensor([[1, 2]]), torch.tensor([0])),
                                 dynamic_shapes=({1: seq}, None), strict=False)
    md = {"get_max_seq_len": MAX_SEQ, "get_max_context_len": MAX_CTX,
          "get_vocab_size": 97, "get_n_layers": 2, "use_kv_cache": True,
          "use_sdpa_with_kv_cache": True, "enable_dynamic_shape": True,
          "get_bos_id": 1, "get_eos_ids": [2]}
    edge = to_edge(ep, constant_methods=md,
                   compile_config=EdgeCompileConfig(_check_ir_validity=False))
    prog = edge.to_executorch()
    with open(sys.argv[1], "wb") as f:
        f.write(prog.buffer)
    ops = sorted({o.name for p in prog.executorch_program.execution_plan
                  for o in p.operators})
    json.dump({"prompt": prompt, "eager": eager, "max_seq": MAX_SEQ, "ops": ops},
              open(sys.argv[2], "w"))
""")


@pytest.fixture(scope="module")
def upstream_llama():
    pytest.importorskip("executorch")
    d = _cache_dir()
    pte, meta = d / f"upstream_llama-{_key()}.pte", d / f"upstream_llama-{_key()}.json"
    if not (pte.exists() and meta.exists()):
        d.mkdir(parents=True, exist_ok=True)
        r = subprocess.run(_python() + ["-c", _UPSTREAM_LLAMA, str(pte) + ".tmp",
                                        str(meta) + ".tmp"],
                           capture_output=True, text=True, timeout=1200)
        assert r.returncode == 0, r.stderr[-4000:]
        os.replace(str(pte) + ".tmp", pte)
        os.replace(str(meta) + ".tmp", meta)
    return pte.read_bytes(), json.loads(meta.read_text())


def test_upstream_llama_export_generates_like_eager(upstream_llama) -> None:
    """Upstream's Llama with its custom SDPA and KV cache ops, exported by
    upstream with dynamic shape: edgetorch's runtime runs it (llama:: kernels
    from kernels/llm) and greedy decoding gives eager's tokens."""
    buf, meta = upstream_llama
    assert "llama::custom_sdpa" in meta["ops"] and "llama::update_cache" in meta["ops"]
    m = runtime.load_program(buf).load_method("forward")
    prompt, n_seq = meta["prompt"], meta["max_seq"]

    def run(toks, pos):
        return np.asarray(m.execute([np.array([toks], np.int64), np.array([pos], np.int64)])[0])

    pos, logits = 0, None
    while pos < len(prompt):
        chunk = prompt[pos:pos + n_seq]
        logits = run(chunk, pos)
        pos += len(chunk)
    out = []
    for _ in range(len(meta["eager"])):
        nxt = int(logits.reshape(-1, logits.shape[-1])[-1].argmax())
        out.append(nxt)
        logits = run([nxt], pos)
        pos += 1
    assert out == meta["eager"]


# ---- our exporter's option ------------------------------------------------------------------------


def test_export_option_custom_sdpa_off_and_on_agree() -> None:
    transformers = pytest.importorskip("transformers")
    import edgetorch.llm as llm

    torch.manual_seed(3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = transformers.LlamaForCausalLM(transformers.LlamaConfig(
            vocab_size=61, hidden_size=40, intermediate_size=64, num_hidden_layers=1,
            num_attention_heads=4, num_key_value_heads=2, head_dim=10,
            max_position_embeddings=64)).eval()
    outs = {}
    for flag in (False, True):
        prog = llm.export(model, 4, max_context_len=16, custom_sdpa=flag)
        ops = prog.memory_plan["forward"].instructions
        assert ("llama::custom_sdpa.out" in ops) == flag
        assert ("aten::index_put_" in ops) == (not flag)
        m = runtime.load_program(prog.buffer).load_method("forward")
        toks = np.array([[5, 9, 33, 2]], np.int64)
        a = np.asarray(m.execute([toks, np.array([0], np.int64)])[0])
        b = np.asarray(m.execute([np.array([[7]], np.int64), np.array([4], np.int64)])[0])
        outs[flag] = (a, b)
    np.testing.assert_allclose(outs[True][0], outs[False][0], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(outs[True][1], outs[False][1], rtol=1e-4, atol=1e-4)


_WITHOUT_EXECUTORCH = textwrap.dedent("""
    import sys, warnings
    warnings.simplefilter("ignore")
    import numpy as np, torch, transformers
    import edgetorch.llm as llm
    from edgetorch import runtime
    import edgetorch.llm.ops as ops
    torch.manual_seed(3)
    model = transformers.GPT2LMHeadModel(transformers.GPT2Config(
        vocab_size=53, n_embd=32, n_layer=1, n_head=4, n_positions=32)).eval()
    prog = llm.export(model, 4, max_context_len=12)
    assert "executorch" not in sys.modules, "the exporter imported executorch"
    assert ops._lib is not None and "llama::custom_sdpa.out" in \
        prog.memory_plan["forward"].instructions
    m = runtime.load_program(prog.buffer).load_method("forward")
    toks = torch.tensor([[5, 9, 33, 2, 7]])
    got = [np.asarray(m.execute([toks[:, :4].numpy(), np.array([0])])[0])[0],
           np.asarray(m.execute([toks[:, 4:].numpy(), np.array([4])])[0])[0]]
    with torch.no_grad():
        want = model(toks).logits[0].numpy()
    np.testing.assert_allclose(got[0], want[3], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(got[1], want[4], rtol=1e-4, atol=1e-4)
    print("ok")
""")


def test_export_without_executorch() -> None:
    """The product path: edgetorch's own llama:: definitions (torch.library,
    eager and meta kernels) in a process that never imports executorch,
    exporting a GPT-2 that then matches transformers on the runtime."""
    pytest.importorskip("transformers")
    r = subprocess.run(_python() + ["-c", _WITHOUT_EXECUTORCH], capture_output=True,
                       text=True, timeout=600, env=dict(os.environ))
    assert r.returncode == 0 and r.stdout.strip().endswith("ok"), r.stderr[-3000:]


def test_selective_build_keeps_the_llama_kernels(upstream_llama, tmp_path) -> None:
    """A selective build of a program with llama:: ops: nothing is missing
    and llm_ops.def (the table CMake builds kernels/llm from) keeps exactly
    the two it uses."""
    from edgetorch import selective

    buf, _ = upstream_llama
    p = tmp_path / "m.pte"
    p.write_bytes(buf)
    sel = selective.selective_build([str(p)], str(tmp_path / "sel"))
    assert not sel.missing
    assert {"llama::custom_sdpa.out", "llama::update_cache.out"} <= set(sel.operators)
    kept = selective.parse_ops_def((tmp_path / "sel" / "llm_ops.def").read_text())
    assert set(kept) == {"llama::custom_sdpa.out", "llama::update_cache.out"}
