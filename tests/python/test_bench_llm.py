"""bench/llm's pieces on a tiny Llama (dim 64, 2 layers, 4 heads / 2 kv
heads, vocab 300): the GGUF converter (metadata, tensor names, shapes and
types read back with gguf.GGUFReader, the rotary permutation of q/k), the
benchmark tokenizer and prompt, and, when llama-cpp-python is installed,
llama.cpp's greedy tokens on the converted file against transformers'.

llama-cpp-python is a bench-only dependency (`make bench-llm` builds it
from source, which `make test` must not do): without it the llama.cpp test
skips and says why. `gguf` (pure Python) is a test dependency
(tools/setup.sh), so the converter's tests always run.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import gguf  # noqa: E402  (tools/setup.sh installs it)

from bench.llm import gguf_convert, models  # noqa: E402

TINY = models.TINY
PROMPT = [1, 17, 200, 45, 45, 260, 3, 99, 150, 151, 152, 7, 280, 64, 32, 11]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("bench_llm")
    return models.build_hf_dir(TINY, d / "hf")


@pytest.fixture(scope="module")
def ggufs(tiny: Path) -> dict:
    out = {}
    for t in gguf_convert.OUTTYPES:
        out[t] = gguf_convert.convert(tiny, tiny.parent / f"tiny-{t}.gguf", t)
    return out


def test_permute_rotary_pairs_halves() -> None:
    # HF rotate_half pairs row j with row j + hd/2 of each head; GGML wants
    # them adjacent (2j, 2j + 1).
    n_head, hd, cols = 3, 8, 2
    w = np.arange(n_head * hd * cols, dtype=np.float32).reshape(n_head * hd, cols)
    p = gguf_convert.permute_rotary(w, n_head)
    for h in range(n_head):
        for j in range(hd // 2):
            np.testing.assert_array_equal(p[h * hd + 2 * j], w[h * hd + j])
            np.testing.assert_array_equal(p[h * hd + 2 * j + 1], w[h * hd + hd // 2 + j])


def test_gguf_metadata(ggufs: dict) -> None:
    for t, path in ggufs.items():
        meta, _ = gguf_convert.read_back(path)
        want = {
            "general.architecture": "llama",
            "llama.context_length": TINY.context,
            "llama.embedding_length": TINY.dim,
            "llama.block_count": TINY.n_layers,
            "llama.feed_forward_length": TINY.ffn,
            "llama.attention.head_count": TINY.n_heads,
            "llama.attention.head_count_kv": TINY.n_kv_heads,
            "llama.rope.dimension_count": TINY.head_dim,
            "llama.vocab_size": TINY.vocab,
            "tokenizer.ggml.model": "llama",
            "tokenizer.ggml.bos_token_id": models.BOS_ID,
            "tokenizer.ggml.eos_token_id": models.EOS_ID,
            "tokenizer.ggml.tokens": TINY.vocab,
            "tokenizer.ggml.scores": TINY.vocab,
            "tokenizer.ggml.token_type": TINY.vocab,
            "general.file_type": 0 if t == "f32" else 2,
        }
        for k, v in want.items():
            assert meta.get(k) == v, (t, k, meta.get(k), v)
        assert meta["llama.rope.freq_base"] == pytest.approx(TINY.rope_theta)
        assert meta["llama.attention.layer_norm_rms_epsilon"] == pytest.approx(TINY.norm_eps)


def test_gguf_tensors(tiny: Path, ggufs: dict) -> None:
    hd = TINY.head_dim
    expect = {"token_embd.weight": (TINY.dim, TINY.vocab),
              "output_norm.weight": (TINY.dim,), "output.weight": (TINY.dim, TINY.vocab)}
    for i in range(TINY.n_layers):
        b = f"blk.{i}."
        expect.update({
            b + "attn_norm.weight": (TINY.dim,), b + "ffn_norm.weight": (TINY.dim,),
            b + "attn_q.weight": (TINY.dim, TINY.n_heads * hd),
            b + "attn_k.weight": (TINY.dim, TINY.n_kv_heads * hd),
            b + "attn_v.weight": (TINY.dim, TINY.n_kv_heads * hd),
            b + "attn_output.weight": (TINY.n_heads * hd, TINY.dim),
            b + "ffn_gate.weight": (TINY.dim, TINY.ffn), b + "ffn_up.weight": (TINY.dim, TINY.ffn),
            b + "ffn_down.weight": (TINY.ffn, TINY.dim),
        })
    for t, path in ggufs.items():
        _, tensors = gguf_convert.read_back(path)
        assert set(tensors) == set(expect), t
        for name, (shape, typ) in tensors.items():
            assert shape == expect[name], (t, name, shape)
            want_type = "Q4_0" if t == "q4_0" and len(shape) == 2 else "F32"
            assert typ == want_type, (t, name, typ)

    # F32 data: the HF weights, q and k with their rows permuted.
    from safetensors.numpy import load_file

    sd = {}
    for f in tiny.glob("*.safetensors"):
        sd.update(load_file(str(f)))
    r = gguf.GGUFReader(str(ggufs["f32"]))
    data = {t.name: np.asarray(t.data).reshape(tuple(reversed(t.shape.tolist()))) for t in r.tensors}
    np.testing.assert_array_equal(data["token_embd.weight"], sd["model.embed_tokens.weight"])
    np.testing.assert_array_equal(data["blk.1.ffn_down.weight"], sd["model.layers.1.mlp.down_proj.weight"])
    np.testing.assert_array_equal(
        data["blk.0.attn_q.weight"],
        gguf_convert.permute_rotary(sd["model.layers.0.self_attn.q_proj.weight"], TINY.n_heads))
    np.testing.assert_array_equal(
        data["blk.0.attn_k.weight"],
        gguf_convert.permute_rotary(sd["model.layers.0.self_attn.k_proj.weight"], TINY.n_kv_heads))
    # Q4_0: within a block's quantization step of the weights
    rq = gguf.GGUFReader(str(ggufs["q4_0"]))
    q = next(t for t in rq.tensors if t.name == "blk.0.ffn_up.weight")
    deq = gguf.quants.dequantize(np.asarray(q.data), gguf.GGMLQuantizationType.Q4_0)
    ref = sd["model.layers.0.mlp.up_proj.weight"]
    step = np.abs(ref.reshape(-1, 32)).max(axis=1, keepdims=True) / 8
    assert np.all(np.abs(deq.reshape(-1, 32) - ref.reshape(-1, 32)) <= step * 1.01 + 1e-7)


def test_tokenizer_and_prompt(tmp_path: Path) -> None:
    tok = models.build_tokenizer(TINY.vocab, tmp_path / "tokenizer.json")
    vocab = json.loads(tok.read_text())["model"]["vocab"]
    assert sorted(vocab.values()) == list(range(TINY.vocab))
    assert vocab["<unk>"] == 0 and vocab["<s>"] == models.BOS_ID and vocab["</s>"] == models.EOS_ID
    assert vocab["<0x0A>"] == 3 + 10
    text, ids = models.make_prompt(tok, 24)
    assert len(ids) == 24 and ids[0] == models.BOS_ID
    from tokenizers import Tokenizer

    assert Tokenizer.from_file(str(tok)).encode(text).ids == ids


_HF = r"""
import json, sys, torch, transformers
m = transformers.LlamaForCausalLM.from_pretrained(sys.argv[1], torch_dtype=torch.float32).eval()
ids = torch.tensor([json.loads(sys.argv[2])])
n = int(sys.argv[3])
with torch.no_grad():
    out = m.generate(ids, max_new_tokens=n, min_new_tokens=n, do_sample=False,
                     eos_token_id=None, pad_token_id=0)
print(json.dumps(out[0, ids.shape[1]:].tolist()))
"""


@pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None,
                    reason="llama-cpp-python is not installed: it is a bench-only dependency "
                           "that `make bench-llm` builds from source (make test does not)")
def test_llamacpp_greedy_equals_transformers(tiny: Path, ggufs: dict) -> None:
    n = 16
    r = subprocess.run([sys.executable, "-c", _HF, str(tiny), json.dumps(PROMPT), str(n)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    want = json.loads(r.stdout.strip().splitlines()[-1])
    r = subprocess.run([sys.executable, str(REPO / "bench" / "llm" / "llamacpp_worker.py"),
                        "--model", str(ggufs["f32"]), "--ids", ",".join(map(str, PROMPT)),
                        "--max-new-tokens", str(n), "--threads", "1", "--n-ctx",
                        str(TINY.context)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    got = json.loads(r.stdout.strip().splitlines()[-1])
    assert got["ids"] == want
    assert got["prompt_tokens"] == len(PROMPT) and got["generated_tokens"] == n
    # the model is not degenerate: the tokens vary
    assert len(set(want)) > 1
