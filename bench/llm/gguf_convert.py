"""A Hugging Face Llama directory (save_pretrained: config.json +
safetensors) to a GGUF file llama.cpp loads, written with the `gguf`
package's GGUFWriter: F32, or Q4_0 for every matrix (llama-quantize's
``--pure`` Q4_0: the embedding and output matrices too; norms stay F32).

What llama.cpp's own convert_hf_to_gguf.py does for a Llama, and this
converter does too:
  - tensor names: token_embd, blk.N.{attn_norm, attn_q, attn_k, attn_v,
    attn_output, ffn_norm, ffn_gate, ffn_up, ffn_down}, output_norm, output
    (no output when the embeddings are tied);
  - the rows of q_proj and k_proj are permuted from HF's rotary layout
    (rotate_half: the first and second halves of each head pair up) to
    GGML's (adjacent pairs): per head, rows (2, head_dim/2) become
    (head_dim/2, 2); q with the attention heads, k with the kv heads;
  - the llama.* hyperparameters and a tokenizer in the metadata
    (tokenizer.ggml.model "llama": pieces, scores, token types).

Tensors are streamed: header and tensor table first, then one tensor at a
time read from the safetensors file, so a 1B model is never held twice.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

HERE = Path(__file__).resolve().parent
if str(HERE.parents[1]) not in sys.path:
    sys.path.insert(0, str(HERE.parents[1]))

OUTTYPES = ("f32", "q4_0")


def permute_rotary(w: np.ndarray, n_head: int) -> np.ndarray:
    """HF rotate_half row order to GGML's interleaved pairs, per head."""
    rows = w.shape[0]
    return (w.reshape(n_head, 2, rows // n_head // 2, *w.shape[1:])
            .swapaxes(1, 2)
            .reshape(w.shape))


def _tensor_map(n_layers: int, tied: bool) -> List[Tuple[str, str]]:
    """(HF name, GGUF name) in the order llama.cpp's converter writes them."""
    out = [("model.embed_tokens.weight", "token_embd.weight")]
    for i in range(n_layers):
        p = f"model.layers.{i}."
        b = f"blk.{i}."
        out += [
            (p + "input_layernorm.weight", b + "attn_norm.weight"),
            (p + "self_attn.q_proj.weight", b + "attn_q.weight"),
            (p + "self_attn.k_proj.weight", b + "attn_k.weight"),
            (p + "self_attn.v_proj.weight", b + "attn_v.weight"),
            (p + "self_attn.o_proj.weight", b + "attn_output.weight"),
            (p + "post_attention_layernorm.weight", b + "ffn_norm.weight"),
            (p + "mlp.gate_proj.weight", b + "ffn_gate.weight"),
            (p + "mlp.up_proj.weight", b + "ffn_up.weight"),
            (p + "mlp.down_proj.weight", b + "ffn_down.weight"),
        ]
    out.append(("model.norm.weight", "output_norm.weight"))
    if not tied:
        out.append(("lm_head.weight", "output.weight"))
    return out


class _Weights:
    """Lazy reads from the directory's safetensors file(s)."""

    def __init__(self, hf_dir: Path):
        from safetensors import safe_open

        files = sorted(hf_dir.glob("*.safetensors"))
        if not files:
            raise FileNotFoundError(f"{hf_dir}: no .safetensors file (save_pretrained with "
                                    "safe_serialization)")
        self._handles = [safe_open(str(f), framework="numpy") for f in files]
        self._where: Dict[str, int] = {}
        for i, h in enumerate(self._handles):
            for k in h.keys():
                self._where[k] = i

    def __contains__(self, name: str) -> bool:
        return name in self._where

    def shape(self, name: str) -> Tuple[int, ...]:
        return tuple(self._handles[self._where[name]].get_slice(name).get_shape())

    def get(self, name: str) -> np.ndarray:
        return self._handles[self._where[name]].get_tensor(name)


def _qtype(outtype: str, gguf_name: str, ndim: int):
    import gguf

    if outtype == "q4_0" and ndim == 2:
        return gguf.GGMLQuantizationType.Q4_0
    return gguf.GGMLQuantizationType.F32


def convert(hf_dir: Path, out: Path, outtype: str = "f32",
            pieces: Optional[Sequence[str]] = None, bos_id: int = 1, eos_id: int = 2) -> Path:
    """Write ``out`` (GGUF) from ``hf_dir``. ``pieces``: the vocabulary in id
    order (Llama 2 layout: <unk> <s> </s>, <0xNN> byte pieces, the rest);
    default: synthetic pieces of that layout for the config's vocab_size."""
    import gguf

    if outtype not in OUTTYPES:
        raise ValueError(f"outtype {outtype!r}: one of {OUTTYPES}")
    cfg = json.loads((hf_dir / "config.json").read_text())
    if cfg.get("model_type") != "llama":
        raise ValueError(f"{hf_dir}: model_type {cfg.get('model_type')!r}, only llama")
    if cfg.get("rope_scaling"):
        raise ValueError("rope_scaling is not converted (the benchmark models have none)")
    dim = int(cfg["hidden_size"])
    n_layers = int(cfg["num_hidden_layers"])
    n_head = int(cfg["num_attention_heads"])
    n_kv = int(cfg.get("num_key_value_heads") or n_head)
    head_dim = int(cfg.get("head_dim") or dim // n_head)
    vocab = int(cfg["vocab_size"])
    tied = bool(cfg.get("tie_word_embeddings", False))
    rope_theta = float(cfg.get("rope_theta") or (cfg.get("rope_parameters") or {}).get(
        "rope_theta", 10000.0))
    w = _Weights(hf_dir)
    if not tied and "lm_head.weight" not in w:
        tied = True

    if pieces is None:
        pieces = synthetic_pieces(vocab)
    if len(pieces) != vocab:
        raise ValueError(f"{len(pieces)} vocabulary pieces for vocab_size {vocab}")

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    wr = gguf.GGUFWriter(str(tmp), "llama")
    wr.add_name(hf_dir.name)
    wr.add_context_length(int(cfg.get("max_position_embeddings", 2048)))
    wr.add_embedding_length(dim)
    wr.add_block_count(n_layers)
    wr.add_feed_forward_length(int(cfg["intermediate_size"]))
    wr.add_head_count(n_head)
    wr.add_head_count_kv(n_kv)
    wr.add_rope_dimension_count(head_dim)
    wr.add_rope_freq_base(rope_theta)
    wr.add_layer_norm_rms_eps(float(cfg.get("rms_norm_eps", 1e-5)))
    wr.add_vocab_size(vocab)
    wr.add_file_type(int(gguf.LlamaFileType.ALL_F32 if outtype == "f32"
                         else gguf.LlamaFileType.MOSTLY_Q4_0))
    _add_vocab(wr, pieces, bos_id, eos_id)

    names = _tensor_map(n_layers, tied)
    plan = []
    for hf_name, gg_name in names:
        shape = w.shape(hf_name)
        qt = _qtype(outtype, gg_name, len(shape))
        numel = int(np.prod(shape))
        if qt == gguf.GGMLQuantizationType.Q4_0:
            if shape[-1] % 32:
                raise ValueError(f"{hf_name}: row length {shape[-1]} is not a multiple of 32")
            nbytes = numel // 32 * 18
        else:
            nbytes = numel * 4
        # the writer takes numpy (rows, cols) order and reverses it for ggml
        wr.add_tensor_info(gg_name, shape, np.dtype(np.float32), nbytes, raw_dtype=qt)
        plan.append((hf_name, gg_name, qt))
    wr.write_header_to_file()
    wr.write_kv_data_to_file()
    wr.write_ti_data_to_file()
    for hf_name, gg_name, qt in plan:
        data = np.ascontiguousarray(w.get(hf_name), dtype=np.float32)
        if gg_name.endswith("attn_q.weight"):
            data = permute_rotary(data, n_head)
        elif gg_name.endswith("attn_k.weight"):
            data = permute_rotary(data, n_kv)
        if qt == gguf.GGMLQuantizationType.Q4_0:
            data = gguf.quants.quantize(data, qt)
        wr.write_tensor_data(np.ascontiguousarray(data))
        del data
    wr.close()
    tmp.replace(out)
    return out


def synthetic_pieces(vocab: int) -> List[str]:
    """Llama 2's layout with made-up pieces: the tokenizer llama.cpp loads
    when only ids matter."""
    p = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    p += [f"▁t{i}" for i in range(vocab - len(p))]
    return p[:vocab]


def _add_vocab(wr, pieces: Sequence[str], bos_id: int, eos_id: int) -> None:
    import gguf

    types: List[int] = []
    for i, p in enumerate(pieces):
        if i == 0:
            types.append(int(gguf.TokenType.UNKNOWN))
        elif p in ("<s>", "</s>"):
            types.append(int(gguf.TokenType.CONTROL))
        elif len(p) == 6 and p.startswith("<0x") and p.endswith(">"):
            types.append(int(gguf.TokenType.BYTE))
        elif p.startswith("<pad_"):
            types.append(int(gguf.TokenType.UNUSED))
        else:
            types.append(int(gguf.TokenType.NORMAL))
    wr.add_tokenizer_model("llama")
    wr.add_tokenizer_pre("default")
    wr.add_token_list(list(pieces))
    wr.add_token_scores([-float(i) for i in range(len(pieces))])
    wr.add_token_types(types)
    wr.add_bos_token_id(bos_id)
    wr.add_eos_token_id(eos_id)
    wr.add_unk_token_id(0)
    wr.add_add_bos_token(True)
    wr.add_add_eos_token(False)


def read_back(path: Path) -> Tuple[Dict[str, object], Dict[str, Tuple[Tuple[int, ...], str]]]:
    """(scalar metadata, {tensor name: (ggml ne shape, type name)}) of a GGUF
    file, read with gguf.GGUFReader."""
    import gguf

    r = gguf.GGUFReader(str(path))
    meta: Dict[str, object] = {}
    for k, f in r.fields.items():
        if k.startswith("GGUF.") or not f.types:
            continue
        if f.types[0] == gguf.GGUFValueType.ARRAY:
            meta[k] = len(f.data)
        elif f.types[0] == gguf.GGUFValueType.STRING:
            meta[k] = bytes(f.parts[f.data[0]]).decode()
        else:
            meta[k] = f.parts[f.data[0]].tolist()[0]
    tensors = {t.name: (tuple(int(x) for x in t.shape), t.tensor_type.name) for t in r.tensors}
    return meta, tensors


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("hf_dir", type=Path)
    ap.add_argument("-o", "--out", type=Path, required=True)
    ap.add_argument("--outtype", choices=OUTTYPES, default="f32")
    ap.add_argument("--tokenizer", type=Path, help="tokenizer.json whose vocabulary to embed "
                                                   "(default: synthetic pieces)")
    a = ap.parse_args(argv)
    pieces = None
    if a.tokenizer:
        vocab = json.loads(a.tokenizer.read_text())["model"]["vocab"]
        pieces = [p for p, _ in sorted(vocab.items(), key=lambda kv: kv[1])]
    convert(a.hf_dir, a.out, a.outtype, pieces)
    print(a.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
