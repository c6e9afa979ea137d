"""edgetorch.llm.export(quantize="int8") and quantized embeddings.

int8: every linear int8 weight-only per output channel (torchao's
IntxWeightOnlyConfig(int8, PerAxis(0)), what upstream's export_llama
``-qmode int8`` computes) as ``quantized_decomposed::mixed_linear``, the
embeddings 8-bit per row (``embedding_byte``). 8da4w: the embeddings 4-bit
in groups of the linear group size (``embedding_4bit``). Tiny random Llama
(tied embeddings), Qwen2 (q/k/v biases) and GPT-2 (Conv1D weights, learned
positions: both tables quantized).

Oracle: the transformers model quantized by torchao's ``quantize_`` with
the same configurations (GPT-2's Conv1D layers first made nn.Linear with
the transposed weight), run eagerly on the whole sequence. Upstream's
runtime (with its quantized kernels) runs the same files. Exports are
cached under build/testdata/llm/ as test_llm_8da4w.py does.
"""

from __future__ import annotations

import copy
import os
import warnings
from pathlib import Path
from typing import Any, Dict, Optional

import numpy as np
import pytest
import torch

transformers = pytest.importorskip("transformers")
pytest.importorskip("torchao")

# upstream's custom ops and quantized op definitions before edgetorch's (see
# test_llm_export.py and edgetorch.quantize.weight_only)
try:
    from executorch.extension.llm.custom_ops import custom_ops as _upstream_ops  # noqa: F401
    import executorch.exir.passes._quant_patterns_and_replacements  # noqa: F401
except ImportError:
    pass

import edgetorch.llm as llm  # noqa: E402
from edgetorch import runtime  # noqa: E402
from llm_testing import Ours, Upstream, cached_export, greedy  # noqa: E402

warnings.filterwarnings("ignore", category=FutureWarning)
warnings.filterwarnings("ignore", category=DeprecationWarning)
warnings.filterwarnings("ignore", category=UserWarning)

REPO = Path(__file__).resolve().parents[2]
MAX_SEQ_LEN = 8
MAX_CONTEXT_LEN = 40
GROUP = 32
ATOL = 1e-4   # same integers and scales as torchao; float summation order differs
STEPS = 8
PROMPT = "Once upon a time"


# ---- models -------------------------------------------------------------------------------

_TOK: Dict[str, Any] = {}


def tokenizer():
    """A small byte-level BPE (for the Generator test); its size is the Llama's vocab."""
    if not _TOK:
        tokenizers = pytest.importorskip("tokenizers")
        import json
        import textwrap
        tok = tokenizers.Tokenizer(tokenizers.models.BPE())
        tok.pre_tokenizer = tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = tokenizers.decoders.ByteLevel()
        tok.train_from_iterator(
            [textwrap.dedent(m.__doc__ or "") for m in (json, os, warnings, textwrap)],
            tokenizers.trainers.BpeTrainer(
                vocab_size=320, special_tokens=["<s>", "</s>"],
                initial_alphabet=tokenizers.pre_tokenizers.ByteLevel.alphabet()))
        _TOK["tok"] = tok
    return _TOK["tok"]


def _build(name: str):
    if name == "llama":
        tok = tokenizer()
        return transformers.LlamaForCausalLM(transformers.LlamaConfig(
            vocab_size=tok.get_vocab_size(), hidden_size=64, intermediate_size=128,
            num_hidden_layers=1, num_attention_heads=4, num_key_value_heads=2,
            max_position_embeddings=64, tie_word_embeddings=True,
            bos_token_id=tok.token_to_id("<s>"), eos_token_id=None))
    if name == "qwen2":
        return transformers.Qwen2ForCausalLM(transformers.Qwen2Config(
            vocab_size=97, hidden_size=64, intermediate_size=96, num_hidden_layers=1,
            num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
            bos_token_id=None, eos_token_id=None))
    return transformers.GPT2LMHeadModel(transformers.GPT2Config(
        vocab_size=101, n_embd=64, n_layer=1, n_head=4, n_positions=64,
        bos_token_id=None, eos_token_id=None))


_MODELS: Dict[str, Any] = {}


def hf_model(name: str):
    if name not in _MODELS:
        torch.manual_seed(1234)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = _build(name)
        with torch.no_grad():   # wide weights: well separated argmaxes
            g = torch.Generator().manual_seed(5)
            for n, p in m.named_parameters():
                r = torch.randn(p.shape, generator=g)
                if p.dim() >= 2:
                    p.copy_(r * 0.2)
                elif "norm" in n or "ln_" in n:
                    p.copy_(1.0 + 0.05 * r)
                else:   # biases
                    p.copy_(0.05 * r)
        _MODELS[name] = m.eval()
    return _MODELS[name]


def _conv1d_as_linear(model: torch.nn.Module) -> None:
    from transformers.pytorch_utils import Conv1D

    for parent in list(model.modules()):
        for cname, child in list(parent.named_children()):
            if isinstance(child, Conv1D):
                n_in, n_out = child.weight.shape
                lin = torch.nn.Linear(n_in, n_out)
                with torch.no_grad():
                    lin.weight.copy_(child.weight.t())
                    lin.bias.copy_(child.bias)
                setattr(parent, cname, lin)


_REFS: Dict[str, Any] = {}


def reference(name: str, mode: str):
    """torchao's quantized eager model: linears as the export's mode, every
    embedding table as its default embedding quantization."""
    key = f"{name}-{mode}"
    if key not in _REFS:
        from torchao.quantization import IntxWeightOnlyConfig, quantize_
        from torchao.quantization.granularity import PerAxis, PerGroup

        m = copy.deepcopy(hf_model(name))
        _conv1d_as_linear(m)
        is_lin = lambda mod, fqn: isinstance(mod, torch.nn.Linear)  # noqa: E731
        is_emb = lambda mod, fqn: isinstance(mod, torch.nn.Embedding)  # noqa: E731
        if mode == "int8":
            quantize_(m, IntxWeightOnlyConfig(weight_dtype=torch.int8,
                                              granularity=PerAxis(0)), filter_fn=is_lin)
            quantize_(m, IntxWeightOnlyConfig(weight_dtype=torch.int8,
                                              granularity=PerAxis(0)), filter_fn=is_emb)
        else:
            from torchao.quantization import Int8DynamicActivationIntxWeightConfig
            quantize_(m, Int8DynamicActivationIntxWeightConfig(
                weight_dtype=torch.int4, weight_granularity=PerGroup(GROUP),
                weight_scale_dtype=torch.bfloat16), filter_fn=is_lin)
            quantize_(m, IntxWeightOnlyConfig(weight_dtype=torch.int4,
                                              granularity=PerGroup(GROUP)), filter_fn=is_emb)
        _REFS[key] = m.eval()
    return _REFS[key]


# ---- exports (cached) ---------------------------------------------------------------------


def exported(name: str, mode: Optional[str], emb: Any = None) -> bytes:
    kw: Dict[str, Any] = {"quantize": mode, "quantize_embedding": emb}
    if mode == "8da4w":
        kw["group_size"] = GROUP
    return cached_export(__file__, f"{name}-{mode}-{emb}".replace(",", "_"), lambda: llm.export(
        hf_model(name), MAX_SEQ_LEN, max_context_len=MAX_CONTEXT_LEN, **kw))


def _prompt(name: str, n: int = 5) -> torch.Tensor:
    g = torch.Generator().manual_seed(11)
    return torch.randint(0, hf_model(name).config.vocab_size, (1, n), generator=g)


def _eager_greedy(model, prompt: torch.Tensor, steps: int):
    seq = prompt.clone()
    toks = []
    with torch.no_grad():
        for _ in range(steps):
            toks.append(int(model(seq).logits[0, -1].argmax()))
            seq = torch.cat([seq, torch.tensor([[toks[-1]]])], dim=1)
    return toks


def _constants(buf: bytes):
    """(dtype name, shape, bytes) of every constant tensor of forward, once each."""
    from edgetorch.pte import schema as S
    from edgetorch.pte.program import read_pte

    f = read_pte(buf)
    plan = next(p for p in f.program.execution_plan if p.name == "forward")
    seen, out = set(), []
    for v in plan.values:
        t = v.val
        if isinstance(t, S.Tensor) and t.allocation_info is None and t.data_buffer_idx > 0 \
                and t.data_buffer_idx not in seen:
            seen.add(t.data_buffer_idx)
            out.append((S.ScalarType(t.scalar_type).name, tuple(t.sizes), t.nbytes))
    return out


# ---- the programs -------------------------------------------------------------------------

INT8 = ["llama", "qwen2", "gpt2"]
Q4 = ["llama", "qwen2"]


@pytest.mark.parametrize("name", INT8)
def test_int8_operators_and_constants(name: str) -> None:
    buf = exported(name, "int8")
    ops = runtime.load_program(buf).metadata("forward").operators
    assert "quantized_decomposed::mixed_linear.out" in ops
    assert "quantized_decomposed::embedding_byte.dtype_out" in ops
    assert not any(o in ops for o in ("aten::mm.out", "aten::addmm.out", "aten::linear.out",
                                      "aten::embedding.out")), ops
    c = hf_model(name).config
    consts = _constants(buf)
    # no float table or weight left: every float constant is a vector (scales,
    # biases, norms) or the RoPE frequencies
    big_float = [x for x in consts if x[0] == "FLOAT" and len(x[1]) > 1 and min(x[1]) > 1]
    assert not big_float, big_float
    int8_mats = [x for x in consts if x[0] == "CHAR" and len(x[1]) == 2]
    n_lin = {"gpt2": 4, "qwen2": 7, "llama": 7}[name] * c.num_hidden_layers + 1
    n_emb = 2 if name == "gpt2" else 1
    if c.tie_word_embeddings:   # the head's int8 matrix is the table's: stored once
        n_emb -= 1
    assert len(int8_mats) == n_lin + n_emb, int8_mats


def test_tied_embedding_is_not_kept_in_float() -> None:
    """Tied Llama: the lm head (int8) and the table (8-bit rows) are quantized
    separately, and no float copy of the table is left: the constants shrink
    by exactly the bytes the quantized forms save (the two quantized forms
    are equal bytes, stored once)."""
    c = hf_model("llama").config
    V, D = c.vocab_size, c.hidden_size
    # the other linears' weights (the tied head is not a parameter of its own)
    L = sum(p.numel() for n, p in hf_model("llama").named_parameters()
            if p.dim() == 2 and "embed" not in n)
    lin_only = sum(b for _, _, b in _constants(exported("llama", "int8", False)))
    both = sum(b for _, _, b in _constants(exported("llama", "int8")))
    ints = [x for x in _constants(exported("llama", "int8", False)) if x[0] == "CHAR"]
    # int8 linears, float table: the head (V x D) is its own int8 matrix beside
    # the float table the lookup reads
    assert sum(b for _, _, b in ints) == L + V * D
    assert ("FLOAT", (V, D), 4 * V * D) in _constants(exported("llama", "int8", False))
    # the table quantized too (8-bit rows, the head's quantization): the
    # float table goes, and its integers and scales are the head's, which
    # the file stores once
    assert lin_only - both == 4 * V * D
    assert not [x for x in _constants(exported("llama", "int8"))
                if x[0] == "FLOAT" and x[1] == (V, D)]


@pytest.mark.parametrize("name", Q4)
def test_8da4w_embeddings_are_4bit(name: str) -> None:
    buf = exported(name, "8da4w")
    ops = runtime.load_program(buf).metadata("forward").operators
    assert "quantized_decomposed::embedding_4bit.dtype_out" in ops
    assert "aten::embedding.out" not in ops
    c = hf_model(name).config
    V, D = c.vocab_size, c.hidden_size
    consts = _constants(buf)
    assert ("BYTE", (V, D // 2), V * D // 2) in consts
    assert ("FLOAT", (V, D // GROUP), V * D // GROUP * 4) in consts
    assert not [x for x in consts if x[0] == "FLOAT" and x[1] == (V, D)]


# ---- against torchao's reference ------------------------------------------------------------


def _check_logits(name: str, mode: str, buf: bytes) -> None:
    run = Ours(buf)
    g = torch.Generator().manual_seed(3)
    toks = torch.randint(0, hf_model(name).config.vocab_size, (1, 12), generator=g)
    with torch.no_grad():
        want = reference(name, mode)(toks).logits[0].numpy()
        flt = hf_model(name)(toks).logits[0].numpy()
    got = [run(toks[:, :MAX_SEQ_LEN], 0)]
    got += [run(toks[:, p:p + 1], p) for p in range(MAX_SEQ_LEN, 12)]
    for i, o in zip(range(MAX_SEQ_LEN - 1, 12), got):
        np.testing.assert_allclose(o[0], want[i], rtol=0, atol=ATOL, err_msg=f"position {i}")
    # and it is quantized: the float model's logits are far away
    assert np.abs(flt[MAX_SEQ_LEN - 1:] - want[MAX_SEQ_LEN - 1:]).max() > 100 * ATOL


@pytest.mark.parametrize("name", INT8)
def test_int8_logits_match_torchao_reference(name: str) -> None:
    _check_logits(name, "int8", exported(name, "int8"))


@pytest.mark.parametrize("name", Q4)
def test_8da4w_4bit_embedding_logits_match_torchao_reference(name: str) -> None:
    _check_logits(name, "8da4w", exported(name, "8da4w"))


@pytest.mark.parametrize("name,mode", [("qwen2", "int8"), ("gpt2", "int8"), ("qwen2", "8da4w")])
def test_greedy_tokens_equal_quantized_eager(name: str, mode: str) -> None:
    prompt = _prompt(name)
    got, _ = greedy(Ours(exported(name, mode)), prompt, STEPS)
    assert got == _eager_greedy(reference(name, mode), prompt, STEPS)


@pytest.mark.parametrize("mode", ["int8", "8da4w"])
def test_generator_tokens_equal_quantized_eager(tmp_path: Path, mode: str) -> None:
    """edgetorch.llm.Generator (the C runner) on the exported Llama."""
    tok = tokenizer()
    pte = tmp_path / "m.pte"
    pte.write_bytes(exported("llama", mode))
    tok_path = tmp_path / "tokenizer.json"
    tok.save(str(tok_path))
    gen = llm.Generator(pte, tok_path)
    ids = [tok.token_to_id("<s>")] + tok.encode(PROMPT).ids
    assert gen.encode(PROMPT) == ids
    out = gen.generate(PROMPT, max_new_tokens=STEPS, temperature=0.0)
    assert out.ids == _eager_greedy(reference("llama", mode), torch.tensor([ids]), STEPS)


# ---- upstream's runtime ---------------------------------------------------------------------


@pytest.mark.parametrize("name,mode", [("llama", "int8"), ("gpt2", "int8"), ("qwen2", "8da4w")])
def test_upstream_runtime_runs_it(name: str, mode: str) -> None:
    buf = exported(name, mode)
    try:
        up = Upstream(buf)
    except ImportError:
        pytest.skip("upstream executorch (runtime, quantized kernels, llm custom ops) is not "
                    "installed")
    prompt = _prompt(name)
    theirs, tlog = greedy(up, prompt, STEPS)
    ours, olog = greedy(Ours(buf), prompt, STEPS)
    assert theirs == ours == _eager_greedy(reference(name, mode), prompt, STEPS)
    for a, b in zip(tlog, olog):
        np.testing.assert_allclose(a, b, rtol=0, atol=ATOL)


# ---- options --------------------------------------------------------------------------------


def test_embedding_options() -> None:
    from edgetorch.llm.export import embedding_spec

    assert embedding_spec(None, None, None) is None
    assert embedding_spec("int8", None, None) == (8, 0)
    assert embedding_spec("8da4w", 64, None, 128) == (4, 64)
    assert embedding_spec("8da4w", 64, None, 96) == (4, 0)    # dim not a multiple: per row
    assert embedding_spec("int8", None, False) is None
    assert embedding_spec("8da4w", None, "none") is None
    assert embedding_spec(None, None, "int8") == (8, 0)
    assert embedding_spec(None, None, "4bit") == (4, 32)
    assert embedding_spec("int8", None, "8,1024") == (8, 1024)
    assert embedding_spec("int8", None, "4,0") == (4, 0)
    for bad in ("3,32", "8,1", "x", "8,32,1"):
        with pytest.raises(llm.LlmExportError, match="quantize_embedding"):
            embedding_spec("int8", None, bad)
    with pytest.raises(llm.LlmExportError, match="group_size only applies"):
        llm.export(hf_model("qwen2"), 4, quantize="int8", group_size=32)
    with pytest.raises(llm.LlmExportError, match="not a multiple of the group size"):
        llm.export(hf_model("qwen2"), 4, quantize_embedding="8,48")


def test_cli_passes_quantize_embedding_through(tmp_path: Path) -> None:
    from edgetorch.cli import main

    d = tmp_path / "hf"
    torch.manual_seed(0)
    transformers.Qwen2ForCausalLM(transformers.Qwen2Config(
        vocab_size=50, hidden_size=64, intermediate_size=64, num_hidden_layers=1,
        num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=16)
    ).save_pretrained(d)
    out = tmp_path / "m.pte"
    rc = main(["llm", "export", "--hf-dir", str(d), "--max-seq-len", "2", "--quantize", "int8",
               "--quantize-embedding", "4,32", "-o", str(out)])
    assert rc in (0, None)
    ops = runtime.load_program(out.read_bytes()).metadata("forward").operators
    assert "quantized_decomposed::mixed_linear.out" in ops
    assert "quantized_decomposed::embedding_4bit.dtype_out" in ops
    assert "quantized_decomposed::embedding_byte.dtype_out" not in ops
