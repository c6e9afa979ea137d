"""The benchmark's Llama shapes, their random weights (transformers, fixed
seed, saved with save_pretrained) and one tokenizer per vocabulary size.

Nothing is downloaded. The tokenizer is Llama 2's layout in a
tokenizer.json (SentencePiece-style BPE: <unk> <s> </s>, the 256 byte
tokens, trained pieces), trained with the `tokenizers` package on Python's
own docstrings, then padded with unused pieces ``<pad_N>`` up to the
model's vocabulary size: a vocabulary of 32000 or 128256 real pieces cannot
be learned from that little text, and the benchmark only needs the ids to
be the same on both sides (it feeds llama.cpp token ids, not text).
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / "bench" / ".cache" / "llm"

BOS_ID = 1
EOS_ID = 2
N_SPECIAL = 3          # <unk> <s> </s>
N_BYTES = 256
TRAINED_PIECES = 6000  # learned by the BPE trainer, the rest is padding


@dataclass(frozen=True)
class LlamaSpec:
    name: str
    dim: int
    n_layers: int
    n_heads: int
    n_kv_heads: int
    ffn: int
    vocab: int
    context: int
    rope_theta: float = 10000.0
    tied: bool = False
    norm_eps: float = 1e-5
    seed: int = 0
    init_std: float = 0.02

    @property
    def head_dim(self) -> int:
        return self.dim // self.n_heads

    def params(self) -> int:
        hd = self.head_dim
        attn = self.dim * self.n_heads * hd * 2 + self.dim * self.n_kv_heads * hd * 2
        layer = attn + 3 * self.dim * self.ffn + 2 * self.dim
        emb = self.vocab * self.dim * (1 if self.tied else 2)
        return self.n_layers * layer + emb + self.dim

    def key(self) -> str:
        h = hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode())
        h.update(Path(__file__).read_bytes())
        return h.hexdigest()[:12]


# stories110M: the llama2.c TinyStories model's shape (tied classifier, rope 10000).
STORIES110M = LlamaSpec("stories110m", dim=768, n_layers=12, n_heads=12, n_kv_heads=12,
                        ffn=2048, vocab=32000, context=512, tied=True)
# Llama 3.2 1B's shape (GQA 32/8, tied embeddings, rope base 500000); its
# "llama3" RoPE frequency scaling is left out (both sides would need it and
# at a 512-token context it changes nothing that matters for speed).
LLAMA1B = LlamaSpec("llama3_2_1b", dim=2048, n_layers=16, n_heads=32, n_kv_heads=8,
                    ffn=8192, vocab=128256, context=512, rope_theta=500000.0, tied=True)
# The test's tiny model.
TINY = LlamaSpec("tiny", dim=64, n_layers=2, n_heads=4, n_kv_heads=2, ffn=128, vocab=300,
                 context=64, init_std=0.2)

SPECS: Dict[str, LlamaSpec] = {s.name: s for s in (STORIES110M, LLAMA1B, TINY)}


def hf_config(spec: LlamaSpec):
    import transformers

    return transformers.LlamaConfig(
        vocab_size=spec.vocab, hidden_size=spec.dim, intermediate_size=spec.ffn,
        num_hidden_layers=spec.n_layers, num_attention_heads=spec.n_heads,
        num_key_value_heads=spec.n_kv_heads, max_position_embeddings=spec.context,
        rms_norm_eps=spec.norm_eps, rope_theta=spec.rope_theta,
        tie_word_embeddings=spec.tied, bos_token_id=BOS_ID, eos_token_id=EOS_ID,
        initializer_range=spec.init_std, attention_bias=False, mlp_bias=False,
        torch_dtype="float32")


def build_hf_dir(spec: LlamaSpec, out: Path) -> Path:
    """Random Llama with ``spec``'s shape, seeded, saved (safetensors) to
    ``out``. transformers' init (normal, std ``init_std``; unit norms) keeps
    activations at a sane scale: the residual stream grows slowly with depth
    and the logits spread by about ``init_std * sqrt(dim)``."""
    import torch
    import transformers

    if (out / "config.json").exists() and any(out.glob("*.safetensors")):
        return out
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(spec.seed)
    model = transformers.LlamaForCausalLM(hf_config(spec)).eval()
    model.save_pretrained(out, safe_serialization=True)
    del model
    return out


# ---------------------------------------------------------------- tokenizer

def _stdlib_text() -> List[str]:
    out: List[str] = []
    for name in ["os", "json", "re", "collections", "argparse", "inspect", "subprocess",
                 "email.message", "http.client", "unittest", "logging", "pathlib", "functools",
                 "itertools", "textwrap", "string", "decimal", "fractions", "statistics",
                 "datetime", "calendar", "csv", "zipfile", "tarfile", "shutil", "tempfile",
                 "threading", "asyncio", "socket"]:
        try:
            m = importlib.import_module(name)
        except ImportError:
            continue
        docs = [inspect.getdoc(m) or ""]
        for _, obj in sorted(vars(m).items()):
            if inspect.isfunction(obj) or inspect.isclass(obj):
                docs.append(inspect.getdoc(obj) or "")
        out += [d for d in docs if d]
    return out


def tokenizer_pieces(vocab_size: int) -> Tuple[List[str], List[Tuple[str, str]]]:
    """(pieces in id order, merges) of the benchmark tokenizer with
    ``vocab_size`` ids."""
    from tokenizers import Tokenizer, models, normalizers, trainers

    if vocab_size < N_SPECIAL + N_BYTES + 1:
        raise ValueError(f"vocab_size {vocab_size} is below {N_SPECIAL + N_BYTES + 1}")
    trained = min(TRAINED_PIECES, vocab_size - N_SPECIAL - N_BYTES)
    base = Tokenizer(models.BPE())
    base.normalizer = normalizers.Sequence([normalizers.Prepend("▁"),
                                            normalizers.Replace(" ", "▁")])
    base.train_from_iterator(_stdlib_text(), trainers.BpeTrainer(vocab_size=trained,
                                                                 show_progress=False))
    model = json.loads(base.to_str())["model"]
    pieces = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    seen = set(pieces)
    for tok_str, _ in sorted(model["vocab"].items(), key=lambda kv: kv[1]):
        if tok_str not in seen and len(pieces) < vocab_size:
            pieces.append(tok_str)
            seen.add(tok_str)
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in model["merges"]]
    merges = [m for m in merges if (m[0] + m[1]) in seen]
    i = 0
    while len(pieces) < vocab_size:
        pieces.append(f"<pad_{i}>")
        i += 1
    return pieces, merges  # type: ignore[return-value]


def build_tokenizer(vocab_size: int, out: Path) -> Path:
    """tokenizer.json (Llama 2 layout) with exactly ``vocab_size`` ids."""
    from tokenizers import Tokenizer, decoders, models, normalizers, processors

    if out.exists():
        return out
    pieces, merges = tokenizer_pieces(vocab_size)
    vocab = {p: i for i, p in enumerate(pieces)}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, unk_token="<unk>",
                               byte_fallback=True, fuse_unk=True))
    tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"),
                                           normalizers.Replace(" ", "▁")])
    tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(),
                                     decoders.Fuse(), decoders.Strip(" ", 1, 0)])
    tok.add_special_tokens(["<unk>", "<s>", "</s>"])
    tok.post_processor = processors.TemplateProcessing(single="<s> $A",
                                                       special_tokens=[("<s>", BOS_ID)])
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tok.save(str(tmp))
    os.replace(tmp, out)
    return out


PROMPT_SOURCE = (
    "Return a new path with expanded ~ and ~user constructs, as returned by "
    "os.path.expanduser. The csv module implements classes to read and write tabular "
    "data in CSV format. It allows programmers to say, write this data in the format "
    "preferred by Excel, or read data from this file which was generated by Excel, "
    "without knowing the precise details of the CSV format used by Excel. Programmers "
    "can also describe the CSV formats understood by other applications or define "
    "their own special-purpose CSV formats. The json module exposes an API familiar "
    "to users of the standard library marshal and pickle modules. Decimal fixed point "
    "and floating point arithmetic: the decimal module provides support for fast "
    "correctly rounded decimal floating point arithmetic. It offers several advantages "
    "over the float datatype. A thread is a separate flow of execution; threads run "
    "concurrently and share the global state of the process that started them. "
    "Calendar printing functions: these functions output calendars like the Unix cal "
    "program, and allow additional useful functions related to the calendar. "
) * 4


def make_prompt(tokenizer_json: Path, n_tokens: int) -> Tuple[str, List[int]]:
    """A prompt text whose encoding (BOS included) is exactly ``n_tokens``
    ids, and those ids: the shortest word prefix of PROMPT_SOURCE that
    reaches the length, cut back a word at a time until it fits."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(tokenizer_json))
    words = PROMPT_SOURCE.split(" ")
    lo = 1
    while lo <= len(words):
        text = " ".join(words[:lo])
        ids = tok.encode(text).ids
        if len(ids) == n_tokens:
            return text, ids
        if len(ids) > n_tokens:
            break
        lo += 1
    # No word boundary lands exactly: trim characters of the last word.
    text = " ".join(words[:lo])
    while text:
        ids = tok.encode(text).ids
        if len(ids) == n_tokens:
            return text, ids
        if len(ids) < n_tokens:
            break
        text = text[:-1]
    raise RuntimeError(f"no prompt of exactly {n_tokens} tokens")


def model_dir(spec: LlamaSpec, root: Optional[Path] = None) -> Path:
    return (root or CACHE) / f"{spec.name}-{spec.key()}"
