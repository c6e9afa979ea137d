"""edgetorch.llm.export: decoders with a KV cache against transformers.

Tiny random-weight models built from transformers configs (Llama with
grouped-query attention, llama3 RoPE scaling and tied embeddings; Llama
untied with linear RoPE scaling; Qwen2 with q/k/v biases; GPT-2), saved with
save_pretrained and exported from that directory (the ``--hf-dir`` path).
Oracles: transformers' eager logits for the whole sequence (no cache) and
its ``generate(do_sample=False)``; upstream ExecuTorch's runtime for the
format. Exports are cached under build/testdata/llm/, keyed by the exporter's
sources, this file and the torch/transformers versions.
"""

from __future__ import annotations

import json
import tempfile
import warnings
from pathlib import Path
from typing import Any, Dict, List

import numpy as np
import pytest
import torch

transformers = pytest.importorskip("transformers")

# Upstream's custom ops library (its runtime's llama:: kernels, for the
# upstream-runtime tests) before anything defines the llama namespace: it
# aborts the process if edgetorch.llm.ops came first (edgetorch then uses
# upstream's definitions, which have the same schemas).
try:
    from executorch.extension.llm.custom_ops import custom_ops as _upstream_ops  # noqa: F401
except ImportError:
    pass

import edgetorch.llm as llm  # noqa: E402
from edgetorch import runtime  # noqa: E402
from llm_testing import Ours, Upstream, cached_export  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
MAX_SEQ_LEN = 8
MAX_CONTEXT_LEN = 40
RTOL = ATOL = 1e-4

warnings.filterwarnings("ignore", category=FutureWarning)
warnings.filterwarnings("ignore", category=DeprecationWarning)
warnings.filterwarnings("ignore", category=UserWarning)


def _llama_gqa_tied():
    return transformers.LlamaForCausalLM(transformers.LlamaConfig(
        vocab_size=101, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
        rope_theta=500000.0, rope_scaling={"rope_type": "llama3", "factor": 8.0,
                                           "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                           "original_max_position_embeddings": 16},
        tie_word_embeddings=True, bos_token_id=1, eos_token_id=[2, 3]))


def _llama_untied():
    return transformers.LlamaForCausalLM(transformers.LlamaConfig(
        vocab_size=89, hidden_size=48, intermediate_size=80, num_hidden_layers=2,
        num_attention_heads=3, num_key_value_heads=3, max_position_embeddings=64,
        rope_scaling={"rope_type": "linear", "factor": 2.0}, tie_word_embeddings=False,
        bos_token_id=5, eos_token_id=6))


def _qwen2():
    return transformers.Qwen2ForCausalLM(transformers.Qwen2Config(
        vocab_size=97, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
        bos_token_id=None, eos_token_id=None))


def _gpt2():
    return transformers.GPT2LMHeadModel(transformers.GPT2Config(
        vocab_size=97, n_embd=64, n_layer=2, n_head=4, n_positions=64,
        bos_token_id=0, eos_token_id=0))


CASES = {"llama_gqa_llama3_tied": _llama_gqa_tied, "llama_untied_linear": _llama_untied,
         "qwen2": _qwen2, "gpt2": _gpt2}


def _hf_model(name: str):
    torch.manual_seed(1234)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = CASES[name]()
    # transformers initializes with std 0.02: logits of a random model are
    # then nearly flat, and greedy decoding would compare near-ties. Wider
    # weights make the argmax well separated.
    with torch.no_grad():
        g = torch.Generator().manual_seed(99)
        for p in model.parameters():
            if p.dim() >= 2:
                p.copy_(torch.randn(p.shape, generator=g) * 0.2)
    return model.eval()


_MODELS: Dict[str, Any] = {}


def hf_model(name: str):
    if name not in _MODELS:
        _MODELS[name] = _hf_model(name)
    return _MODELS[name]


def exported(name: str) -> bytes:
    """The .pte of case `name`, exported from its save_pretrained directory."""
    def make():
        with tempfile.TemporaryDirectory() as d:
            hf_model(name).save_pretrained(d)
            return llm.export_hf_dir(d, MAX_SEQ_LEN, max_context_len=MAX_CONTEXT_LEN)
    return cached_export(__file__, name, make,
                         extra_files=[REPO / "kernels" / "portable" / "ops.def"])


def _tokens(name: str, n: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, hf_model(name).config.vocab_size, (1, n), generator=g)


def _eager_logits(name: str, toks: torch.Tensor) -> np.ndarray:
    with torch.no_grad():
        return hf_model(name)(toks).logits[0].numpy()


def _prefill_then_decode(run, toks: torch.Tensor, chunks: List[int]) -> List[np.ndarray]:
    """Feed toks in chunks (prefill) then one token at a time; the logits of
    the last position of every call."""
    outs, pos = [], 0
    for c in chunks:
        outs.append(run(toks[:, pos:pos + c], pos))
        pos += c
    while pos < toks.shape[1]:
        outs.append(run(toks[:, pos:pos + 1], pos))
        pos += 1
    return outs


def _check_logits(name: str, run, chunks: List[int], n: int) -> None:
    toks = _tokens(name, n)
    want = _eager_logits(name, toks)
    got = _prefill_then_decode(run, toks, chunks)
    ends = list(np.cumsum(chunks) - 1) + list(range(sum(chunks), n))
    assert len(got) == len(ends)
    for g, e in zip(got, ends):
        assert g.shape == (1, want.shape[1]), g.shape
        np.testing.assert_allclose(g[0], want[e], rtol=RTOL, atol=ATOL,
                                   err_msg=f"{name}: logits of position {e}")


# ---- (a) numbers ------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(CASES))
def test_prefill_then_decode_matches_eager(name: str) -> None:
    """A prefill of 6 tokens then 4 single-token steps on edgetorch's runtime:
    the logits equal transformers' for the whole sequence without a cache."""
    _check_logits(name, Ours(exported(name)), [6], 10)


@pytest.mark.parametrize("name", ["llama_gqa_llama3_tied", "gpt2"])
def test_chunked_prefill_matches_eager(name: str) -> None:
    """Dynamic sequence length: chunks of 8 (max_seq_len), 3 and 1, then
    decode; the cache carries across chunks."""
    _check_logits(name, Ours(exported(name)), [8, 3, 1], 15)


@pytest.mark.parametrize("name", list(CASES))
def test_greedy_generation_equals_transformers_generate(name: str) -> None:
    model = hf_model(name)
    prompt = _tokens(name, 5, seed=7)
    gen = transformers.GenerationConfig(max_new_tokens=20, do_sample=False,
                                        eos_token_id=None, pad_token_id=0)
    with torch.no_grad():
        want = model.generate(prompt, generation_config=gen)[0, 5:].tolist()
    run = Ours(exported(name))
    logits = run(prompt, 0)
    got: List[int] = []
    for i in range(20):
        tok = int(np.argmax(logits[0]))
        got.append(tok)
        logits = run(torch.tensor([[tok]]), 5 + i)
    assert got == want
    assert len(set(want)) > 1  # the comparison is not a constant sequence


def test_state_resets_by_position() -> None:
    """A second generation on the same loaded method starts again at
    input_pos 0: rows beyond the new positions are masked, so stale cache
    contents do not leak into the result."""
    name = "llama_gqa_llama3_tied"
    run = Ours(exported(name))
    _prefill_then_decode(run, _tokens(name, 12, seed=3), [8])
    _check_logits(name, run, [6], 10)


# ---- (b) metadata -----------------------------------------------------------------------


def _constants(buf: bytes) -> Dict[str, Any]:
    prog = runtime.load_program(buf)
    names = [n for n in prog.method_names if n != "forward"]
    return {n: list(prog.load_method(n).execute([])) for n in names}


def test_constant_methods() -> None:
    assert _constants(exported("llama_gqa_llama3_tied")) == {
        "get_max_seq_len": [MAX_SEQ_LEN], "get_max_context_len": [MAX_CONTEXT_LEN],
        "get_vocab_size": [101], "get_n_layers": [2], "use_kv_cache": [True],
        "use_sdpa_with_kv_cache": [True], "enable_dynamic_shape": [True],
        "get_bos_id": [1], "get_eos_ids": [2, 3]}
    c = _constants(exported("llama_untied_linear"))
    assert c["get_bos_id"] == [5] and c["get_eos_ids"] == [6] and c["get_vocab_size"] == [89]
    c = _constants(exported("qwen2"))  # no bos/eos in its config: no methods for them
    assert "get_bos_id" not in c and "get_eos_ids" not in c
    assert c["get_max_seq_len"] == [MAX_SEQ_LEN]
    assert _constants(exported("gpt2"))["get_eos_ids"] == [0]


def test_constant_methods_on_upstream_runtime() -> None:
    from executorch.runtime import Runtime

    prog = Runtime.get().load_program(exported("llama_gqa_llama3_tied"))
    assert list(prog.load_method("get_eos_ids").execute([])) == [2, 3]
    assert list(prog.load_method("get_max_context_len").execute([])) == [MAX_CONTEXT_LEN]
    assert list(prog.load_method("enable_dynamic_shape").execute([])) == [True]


def test_kv_cache_is_planned_mutable_state_not_file_data() -> None:
    """One k/v cache pair per layer lives in planned memory as mutable
    buffers; no initial contents are stored in the file."""
    from edgetorch.pte.program import read_pte

    model = hf_model("llama_gqa_llama3_tied")
    with tempfile.TemporaryDirectory() as d:
        model.save_pretrained(d)
        prog = llm.export_hf_dir(d, MAX_SEQ_LEN, max_context_len=MAX_CONTEXT_LEN)
    bufs = [t for t in prog.memory_plan["forward"].tensors if t.kind == "buffer"]
    cfg = model.config
    cache_bytes = cfg.num_key_value_heads * MAX_CONTEXT_LEN * (cfg.hidden_size // 4) * 4
    assert len(bufs) == 2 * cfg.num_hidden_layers
    assert all(b.nbytes == cache_bytes for b in bufs)
    assert read_pte(prog.buffer).program.mutable_data_segments is None
    ops = prog.memory_plan["forward"].instructions
    # written in place by upstream's llama::update_cache (the default
    # custom_sdpa=True), no write-back copy
    assert ops.count("llama::update_cache.out") == 2 * cfg.num_hidden_layers
    assert ops.count("llama::custom_sdpa.out") == cfg.num_hidden_layers
    assert "aten::index_put.out" not in ops and "aten::copy_" not in ops


def test_weights_are_not_copied() -> None:
    """The program's constants are the model's own tensor memory until the
    file is written (a 1B model is not held twice)."""
    model = hf_model("llama_gqa_llama3_tied")
    prog = llm.export(model, MAX_SEQ_LEN, max_context_len=MAX_CONTEXT_LEN)
    addrs = {np.frombuffer(b, dtype=np.uint8).ctypes.data
             for b in prog._state.constant_buffers if memoryview(b).nbytes}
    emb = model.model.embed_tokens.weight
    assert emb.data_ptr() in addrs
    assert model.model.layers[0].mlp.down_proj.weight.data_ptr() in addrs
    # the tied lm_head is the embedding: one copy of it in the file
    n = emb.numel() * emb.element_size()
    assert sum(memoryview(b).nbytes == n for b in prog._state.constant_buffers) == 1


# ---- (c) upstream's runtime -------------------------------------------------------------


@pytest.mark.parametrize("name", list(CASES))
def test_runs_on_upstream_runtime(name: str) -> None:
    buf = exported(name)
    toks = _tokens(name, 10, seed=5)
    ours = _prefill_then_decode(Ours(buf), toks, [6])
    theirs = _prefill_then_decode(Upstream(buf), toks, [6])
    want = _eager_logits(name, toks)
    for i, (a, b) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(b, a, rtol=RTOL, atol=ATOL)
        np.testing.assert_allclose(b[0], want[5 + i], rtol=RTOL, atol=ATOL)


# ---- (d) errors -------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["ours", "upstream"])
def test_past_the_context_is_an_error(which: str) -> None:
    buf = exported("llama_gqa_llama3_tied")
    run = Ours(buf) if which == "ours" else Upstream(buf)
    toks = _tokens("llama_gqa_llama3_tied", 4)
    run(toks[:, :1], MAX_CONTEXT_LEN - 1)  # the last row is still in the cache
    for s, pos in ((2, MAX_CONTEXT_LEN - 1), (4, MAX_CONTEXT_LEN - 2), (1, MAX_CONTEXT_LEN),
                   (1, -1)):
        with pytest.raises(Exception) as e:
            run(toks[:, :s], pos)
        if which == "ours":
            assert type(e.value).__name__ == "EdgetorchError"
            assert "InvalidArgument" in str(e.value)
            assert "llama::update_cache.out" in str(e.value)
            assert "outside the cache's 40 positions" in str(e.value)


def _write_config(d: Path, cfg: Dict[str, Any]) -> None:
    (d / "config.json").write_text(json.dumps(cfg))


def test_unsupported_architecture_is_named(tmp_path: Path) -> None:
    _write_config(tmp_path, {"model_type": "bert", "architectures": ["BertForMaskedLM"]})
    with pytest.raises(llm.UnsupportedModelError, match=r"model_type 'bert' \(BertForMaskedLM\)"
                                                        r" is not supported.*llama"):
        llm.export_hf_dir(tmp_path, 8)


def test_unsupported_features_are_named() -> None:
    from edgetorch.llm.models import config_from_hf

    base = {"model_type": "llama", "hidden_size": 64, "num_attention_heads": 4,
            "num_hidden_layers": 1, "intermediate_size": 8, "vocab_size": 10}
    with pytest.raises(llm.UnsupportedModelError, match="RoPE scaling 'yarn'"):
        config_from_hf({**base, "rope_scaling": {"rope_type": "yarn", "factor": 2.0}})
    with pytest.raises(llm.UnsupportedModelError, match="activation 'mish'"):
        config_from_hf({**base, "hidden_act": "mish"})
    with pytest.raises(llm.UnsupportedModelError, match="use_sliding_window"):
        config_from_hf({**base, "model_type": "qwen2", "use_sliding_window": True,
                        "sliding_window": 16})


def test_bad_arguments_are_refused() -> None:
    model = hf_model("gpt2")
    # (8da4w and int8 are implemented: test_llm_8da4w.py, test_llm_int8.py)
    with pytest.raises(llm.LlmExportError, match="unknown quantize mode 'int4'"):
        llm.export(model, 8, quantize="int4")
    with pytest.raises(llm.LlmExportError, match="max_context_len \\(4\\) is shorter"):
        llm.export(model, 8, max_context_len=4)
    with pytest.raises(llm.LlmExportError, match="longer than GPT-2's 64 learned positions"):
        llm.export(model, 8, max_context_len=65)


def test_missing_weights_are_named(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    model = hf_model("llama_untied_linear")
    model.save_pretrained(tmp_path)
    sd = {k: v.contiguous() for k, v in model.state_dict().items() if "lm_head" not in k}
    for f in tmp_path.glob("*.safetensors"):
        f.unlink()
    save_file(sd, str(tmp_path / "model.safetensors"))
    with pytest.raises(llm.LlmExportError, match="missing lm_head.weight"):
        llm.export_hf_dir(tmp_path, 8)


# ---- the command line -------------------------------------------------------------------


def test_cli_llm_export(tmp_path: Path, capsys) -> None:
    from edgetorch.cli import main

    name = "gpt2"
    hf_model(name).save_pretrained(tmp_path / "hf")
    out = tmp_path / "m.pte"
    assert main(["llm", "export", "--hf-dir", str(tmp_path / "hf"), "--max-seq-len",
                 str(MAX_SEQ_LEN), "--max-context-len", str(MAX_CONTEXT_LEN),
                 "-o", str(out)]) == 0
    assert f"wrote {out}" in capsys.readouterr().err
    _check_logits(name, Ours(out.read_bytes()), [6], 10)
    _write_config(tmp_path / "hf", {"model_type": "t5", "architectures": ["T5Model"]})
    assert main(["llm", "export", "--hf-dir", str(tmp_path / "hf"), "--max-seq-len", "8",
                 "-o", str(tmp_path / "bad.pte")]) == 1
    err = capsys.readouterr().err
    assert "model_type 't5'" in err and "no file written" in err
    assert not (tmp_path / "bad.pte").exists()
    assert main(["llm", "export", "--hf-dir", str(tmp_path / "hf"), "--max-seq-len", "8",
                 "--quantize", "int8", "--group-size", "32"]) == 1
    assert "group_size only applies to quantize='8da4w'" in capsys.readouterr().err
