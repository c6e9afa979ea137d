"""edgetorch.llm.export(quantize="8da4w"): 4-bit LLM linears on XnnpackBackend.

Tiny random-weight Llamas (grouped-query attention; tied and untied
embeddings). The export quantizes every linear with torchao's
Int8DynamicActivationIntxWeightConfig(int4, PerGroup(32), bf16 scales) and
delegates each to XnnpackBackend as upstream lowers it: an XNNConvert to
qdint8 and an XNNFullyConnected with qbint4 weights. Oracle: the same torchao
quantize_ applied to the transformers model, run eagerly on the whole
sequence (torchao's reference; per-token activation quantization makes it
position-wise, so it equals cached decoding). Upstream's runtime runs the
same file. Exports are cached under build/testdata/llm/ (keyed by the
exporter's sources, this file and the package versions).
"""

from __future__ import annotations

import copy
import warnings
from pathlib import Path
from typing import Any, Dict

import numpy as np
import pytest
import torch

transformers = pytest.importorskip("transformers")
pytest.importorskip("torchao")

# upstream's custom ops library before edgetorch.llm.ops (see test_llm_export.py)
try:
    from executorch.extension.llm.custom_ops import custom_ops as _upstream_ops  # noqa: F401
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
MAX_CONTEXT_LEN = 32
GROUP = 32
# ours vs torchao's eager model: the same integers and scales, activations
# quantized per token by both; what differs is float summation order
ATOL = 1e-4
STEPS = 8


def _config(tied: bool):
    return transformers.LlamaConfig(
        vocab_size=128 if tied else 96, hidden_size=64, intermediate_size=128 if tied else 96,
        num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
        max_position_embeddings=64, rope_theta=10000.0, tie_word_embeddings=tied,
        bos_token_id=1, eos_token_id=2)


def _qwen2():   # q/k/v biases: fp32 biases of the qbint4 fully connected nodes
    return transformers.Qwen2ForCausalLM(transformers.Qwen2Config(
        vocab_size=97, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
        bos_token_id=None, eos_token_id=None))


CASES = {"llama_tied": True, "llama_untied": False}
_MODELS: Dict[str, Any] = {}


def hf_model(name: str):
    if name not in _MODELS:
        torch.manual_seed(4321)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = _qwen2() if name == "qwen2" else \
                transformers.LlamaForCausalLM(_config(CASES[name]))
        with torch.no_grad():   # wide weights: well separated argmaxes
            g = torch.Generator().manual_seed(7)
            for p in m.parameters():
                if p.dim() >= 2 or name == "qwen2":
                    p.copy_(torch.randn(p.shape, generator=g) * 0.2)
        _MODELS[name] = m.eval()
    return _MODELS[name]


def _takes(mod: torch.nn.Module, fqn: str) -> bool:
    return isinstance(mod, torch.nn.Linear) and mod.in_features % GROUP == 0


_REFS: Dict[str, Any] = {}


def reference(name: str):
    """torchao's quantized eager model (the configuration the export applies)."""
    if name not in _REFS:
        from torchao.quantization import Int8DynamicActivationIntxWeightConfig, quantize_
        from torchao.quantization.granularity import PerGroup

        m = copy.deepcopy(hf_model(name))
        quantize_(m, Int8DynamicActivationIntxWeightConfig(
            weight_dtype=torch.int4, weight_granularity=PerGroup(GROUP),
            weight_scale_dtype=torch.bfloat16), filter_fn=_takes)
        _REFS[name] = m.eval()
    return _REFS[name]


def exported(name: str) -> bytes:
    # float tables: the linears are this file's subject (test_llm_int8.py
    # checks 8da4w with its default 4-bit embeddings)
    return cached_export(__file__, f"{name}-8da4w", lambda: llm.export(
        hf_model(name), MAX_SEQ_LEN, max_context_len=MAX_CONTEXT_LEN,
        quantize="8da4w", group_size=GROUP, quantize_embedding=False))


def _upstream(buf: bytes) -> Upstream:
    try:
        return Upstream(buf)
    except ImportError:
        pytest.skip("upstream executorch (runtime + llm custom ops) is not installed")


def _prompt(name: str, n: int = 5) -> torch.Tensor:
    g = torch.Generator().manual_seed(11)
    return torch.randint(0, hf_model(name).config.vocab_size, (1, n), generator=g)


def _eager_greedy(name: str, prompt: torch.Tensor, steps: int):
    seq = prompt.clone()
    toks, logits = [], []
    with torch.no_grad():
        for _ in range(steps):
            row = reference(name)(seq).logits[0, -1]
            logits.append(row.numpy())
            toks.append(int(row.argmax()))
            seq = torch.cat([seq, torch.tensor([[toks[-1]]])], dim=1)
    return toks, logits


def _payloads(buf: bytes):
    from edgetorch.pte import read_pte, schema as S, xnnpack as X

    f = read_pte(buf)
    named = {}
    if f.program.named_data:
        for e in f.program.named_data:
            named[e.key] = f.segment(e.segment_index)
    out = []
    for plan in f.program.execution_plan:
        for d in plan.delegates:
            assert d.id == "XnnpackBackend"
            raw = f.segment(d.processed.index) if d.processed.location == \
                S.DataLocation.SEGMENT else bytes(f.program.backend_delegate_data[
                    d.processed.index].data)
            out.append((X.read_payload(raw), named))
    return out


# ---- the program ------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(CASES))
def test_linears_are_qbint4_fully_connected_nodes(name: str) -> None:
    from edgetorch.pte import xnnpack as X

    buf = exported(name)
    meta = runtime.load_program(buf).metadata("forward")
    assert not any("mm" in op or "linear" in op for op in meta.operators), meta.operators
    assert "llama::update_cache.out" in meta.operators
    assert "llama::custom_sdpa.out" in meta.operators
    c = hf_model(name).config
    n_linears = c.num_hidden_layers * 7 + 1
    # torchao's integers and bf16 scales, keyed by weight shape + first row
    ref = {}
    for mod in reference(name).modules():
        w = getattr(mod, "weight", None)
        if isinstance(mod, torch.nn.Linear) and hasattr(w, "qdata"):
            ref[(tuple(w.qdata.shape), tuple(w.qdata[0].tolist()))] = (w.qdata, w.scale)
    assert len(ref) == n_linears
    fcs, converts, checked = 0, 0, 0
    for payload, named in _payloads(buf):
        g = payload.graph
        vals = [xv.xvalue_union for xv in g.xvalues]
        for xn in g.xnodes:
            node = xn.xnode_union
            if isinstance(node, X.XNNConvert):
                converts += 1
                out = vals[node.output_id]
                assert isinstance(out, X.XNNQuantizedTensorValue)
                assert out.tensor_value.datatype == X.XNNDatatype.qdint8
                assert isinstance(out.quant_params, X.PerTokenDynamicQuant)
                continue
            assert isinstance(node, X.XNNFullyConnected), type(node)
            fcs += 1
            assert vals[node.input1_id].tensor_value.datatype == X.XNNDatatype.qdint8
            f = vals[node.filter_id]
            assert f.tensor_value.datatype == X.XNNDatatype.qbint4
            qp = f.quant_params
            assert isinstance(qp, X.PerChannelGroupQuant) and qp.group_size == GROUP
            n, k = f.tensor_value.dims
            assert qp.num_scales == n * k // GROUP
            # unpack: row-major, two per byte, even channel low, stored + 8
            ent = g.constant_data[f.tensor_value.constant_buffer_idx]
            raw = np.frombuffer(named[ent.named_key][:ent.size], dtype=np.uint8).reshape(n, k // 2)
            ints = np.empty((n, k), dtype=np.int16)
            ints[:, 0::2] = (raw & 15).astype(np.int16) - 8
            ints[:, 1::2] = (raw >> 4).astype(np.int16) - 8
            sent = g.constant_data[qp.scale_buffer_idx]
            sbits = np.frombuffer(named[sent.named_key][:sent.size], dtype=np.uint16)
            scales = (sbits.astype(np.uint32) << 16).view(np.float32).reshape(n, k // GROUP)
            qdata, scale = ref[((n, k), tuple(ints[0].tolist()))]
            np.testing.assert_array_equal(ints, qdata.numpy())
            np.testing.assert_array_equal(scales, scale.to(torch.float32).numpy())
            checked += 1
    assert fcs == checked == n_linears
    # one Convert per activation: q/k/v and gate/up share theirs
    assert converts == c.num_hidden_layers * 4 + 1


# ---- against torchao's reference ----------------------------------------------------------


@pytest.mark.parametrize("name", list(CASES) + ["qwen2"])
def test_logits_match_torchao_reference(name: str) -> None:
    run = Ours(exported(name))
    g = torch.Generator().manual_seed(3)
    toks = torch.randint(0, hf_model(name).config.vocab_size, (1, 12), generator=g)
    with torch.no_grad():
        want = reference(name)(toks).logits[0].numpy()
        flt = hf_model(name)(toks).logits[0].numpy()
    got = [run(toks[:, :MAX_SEQ_LEN], 0)]
    got += [run(toks[:, p:p + 1], p) for p in range(MAX_SEQ_LEN, 12)]
    for i, o in zip(range(MAX_SEQ_LEN - 1, 12), got):
        np.testing.assert_allclose(o[0], want[i], rtol=0, atol=ATOL,
                                   err_msg=f"position {i}")
    # and it is quantized: the float model's logits are far away
    assert np.abs(flt[MAX_SEQ_LEN - 1:] - want[MAX_SEQ_LEN - 1:]).max() > 100 * ATOL


@pytest.mark.parametrize("name", list(CASES))
def test_greedy_tokens_equal_torchao_eager(name: str) -> None:
    prompt = _prompt(name)
    want, wlog = _eager_greedy(name, prompt, STEPS)
    got, glog = greedy(Ours(exported(name)), prompt, STEPS)
    assert got == want
    for a, b in zip(glog, wlog):
        np.testing.assert_allclose(a, b, rtol=0, atol=ATOL)


# ---- upstream's runtime ---------------------------------------------------------------------


@pytest.mark.parametrize("name", list(CASES))
def test_upstream_runtime_runs_it(name: str) -> None:
    buf = exported(name)
    up = _upstream(buf)
    prompt = _prompt(name)
    theirs, tlog = greedy(up, prompt, STEPS)
    ours, olog = greedy(Ours(buf), prompt, STEPS)
    assert theirs == ours == _eager_greedy(name, prompt, STEPS)[0]
    for a, b in zip(tlog, olog):
        np.testing.assert_allclose(a, b, rtol=0, atol=ATOL)


# ---- options ------------------------------------------------------------------------------


def test_group_size_must_be_a_multiple_of_32() -> None:
    for g in (16, 48, 0):
        with pytest.raises(llm.LlmExportError, match="multiple of 32"):
            llm.export(hf_model("llama_untied"), 4, quantize="8da4w", group_size=g)


def test_cli_passes_quantize_through(tmp_path: Path) -> None:
    from edgetorch.cli import main

    d = tmp_path / "hf"
    hf_model("llama_untied").save_pretrained(d)
    out = tmp_path / "m.pte"
    rc = main(["llm", "export", "--hf-dir", str(d), "--max-seq-len", "4", "--quantize", "8da4w",
               "--group-size", "32", "-o", str(out)])
    assert rc in (0, None)
    assert any(True for _ in _payloads(out.read_bytes()))
