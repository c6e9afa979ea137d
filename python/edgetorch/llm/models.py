"""Decoder-only transformers with a static KV cache, written for export.

One compact module family covers the Hugging Face checkpoints edgetorch
exports: the Llama family (Llama 2/3 shapes, Mistral-style grouped-query
attention, RoPE with linear or llama3 scaling, RMSNorm, SwiGLU), Qwen2 (the
same with q/k/v biases) and GPT-2 (learned positions, LayerNorm, GELU, Conv1D
weights). Parameter names follow the Hugging Face checkpoints, so weights
load by name with ``load_state_dict(..., assign=True)``: the module holds the
very tensors it is given (no copy).

The graph the exporter sees::

    forward(tokens int64[1, S], input_pos int64[1]) -> logits float[1, vocab]
                                                      (or [1, S, vocab])

``S`` is dynamic (1..max_seq_len). Each attention layer keeps ``k_cache`` and
``v_cache`` buffers written in place at positions ``input_pos .. input_pos +
S - 1``. With ``custom_ops`` (what ``edgetorch.llm.export`` uses by
default) they have upstream's custom-op layout (1, max_context_len,
n_kv_heads, head_dim) and attention is ``llama::update_cache`` +
``llama::custom_sdpa`` (``edgetorch.llm.ops``; the fused attention of
kernels/llm at run time). Without, they are (1, n_kv_heads,
max_context_len, head_dim), written by ``index_put_`` and read whole under
a causal mask computed from the positions, so nothing in the graph depends
on data-dependent sizes.
Positions outside ``0 .. max_context_len - 1`` are sent to index
``max_context_len``, which the cache update's bounds check rejects on every
runtime: such a call fails instead of wrapping around.

Linear layers keep Hugging Face's ``[out, in]`` weights and compute
``(W @ x^T)^T``: the exported program uses the weight bytes as they are (no
transposed copy, and a tied embedding is stored once). A weight that is not a
plain tensor (a quantized tensor subclass) goes through ``F.linear``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils._python_dispatch import is_traceable_wrapper_subclass

from .errors import LlmExportError, UnsupportedModelError

# ---------------------------------------------------------------------------
# configuration


@dataclass
class DecoderConfig:
    """What the module needs from a Hugging Face ``config.json``."""

    arch: str                      # "llama" | "qwen2" | "gpt2"
    vocab_size: int
    dim: int
    n_layers: int
    n_heads: int
    n_kv_heads: int
    head_dim: int
    hidden_dim: int                # feed-forward width
    norm_eps: float
    max_position_embeddings: int
    tie_embeddings: bool
    qkv_bias: bool = False
    o_bias: bool = False
    mlp_bias: bool = False
    act: str = "silu"              # silu | gelu | gelu_tanh | relu
    rope_theta: float = 10000.0
    rope: Dict[str, Any] = field(default_factory=dict)  # rope_type and its parameters
    attn_scale: float = 0.0        # 0: head_dim ** -0.5
    scale_by_layer: bool = False   # GPT-2 scale_attn_by_inverse_layer_idx
    bos_id: Optional[int] = None
    eos_ids: List[int] = field(default_factory=list)


_LLAMA_TYPES = ("llama", "mistral", "qwen2")
SUPPORTED_MODEL_TYPES = ("llama", "mistral", "qwen2", "gpt2")

_ACTS = {"silu": "silu", "swish": "silu", "gelu": "gelu", "gelu_new": "gelu_tanh",
         "gelu_pytorch_tanh": "gelu_tanh", "gelu_fast": "gelu_tanh", "relu": "relu"}


def _ids(v: Any) -> List[int]:
    if v is None:
        return []
    if isinstance(v, (list, tuple)):
        return [int(x) for x in v]
    return [int(v)]


def _act(name: str, model_type: str) -> str:
    a = _ACTS.get(str(name))
    if a is None:
        raise UnsupportedModelError(
            f"{model_type}: activation {name!r} is not supported (supported: "
            f"{', '.join(sorted(_ACTS))})")
    return a


def _rope_params(cfg: Mapping[str, Any]) -> Tuple[float, Dict[str, Any]]:
    """(rope_theta, scaling parameters) from either transformers' v5
    ``rope_parameters`` or the older ``rope_theta`` + ``rope_scaling``."""
    params = dict(cfg.get("rope_parameters") or {})
    scaling = cfg.get("rope_scaling")
    if isinstance(scaling, Mapping):
        params = {**dict(scaling), **params}
    theta = params.pop("rope_theta", None)
    if theta is None:
        theta = cfg.get("rope_theta", 10000.0)
    rope_type = params.get("rope_type", params.get("type", "default")) or "default"
    params["rope_type"] = rope_type
    if rope_type not in ("default", "linear", "llama3"):
        raise UnsupportedModelError(
            f"RoPE scaling {rope_type!r} is not supported (supported: default, linear, "
            "llama3)")
    if float(params.get("partial_rotary_factor", 1.0)) != 1.0:
        raise UnsupportedModelError("partial rotary embeddings (partial_rotary_factor != 1) "
                                    "are not supported")
    return float(theta), params


def config_from_hf(cfg: Mapping[str, Any], generation: Optional[Mapping[str, Any]] = None
                   ) -> DecoderConfig:
    """A DecoderConfig from a Hugging Face config (``config.json`` as a dict).

    ``generation`` (``generation_config.json``) supplies EOS ids when it has
    them (Llama 3 instruct models list several there)."""
    mt = cfg.get("model_type")
    archs = cfg.get("architectures") or []
    if mt not in SUPPORTED_MODEL_TYPES:
        raise UnsupportedModelError(
            f"model_type {mt!r} ({', '.join(archs) or 'no architectures listed'}) is not "
            f"supported by edgetorch.llm.export; supported: {', '.join(SUPPORTED_MODEL_TYPES)}")
    gen = dict(generation or {})
    bos = gen.get("bos_token_id", cfg.get("bos_token_id"))
    eos = _ids(gen.get("eos_token_id", cfg.get("eos_token_id")))
    if isinstance(bos, (list, tuple)):
        bos = bos[0] if bos else None
    if mt == "gpt2":
        dim = int(cfg["n_embd"])
        heads = int(cfg["n_head"])
        if cfg.get("reorder_and_upcast_attn"):
            pass  # same arithmetic at fp32
        if cfg.get("add_cross_attention"):
            raise UnsupportedModelError("gpt2 with cross attention is not supported")
        return DecoderConfig(
            arch="gpt2", vocab_size=int(cfg["vocab_size"]), dim=dim,
            n_layers=int(cfg["n_layer"]), n_heads=heads, n_kv_heads=heads,
            head_dim=dim // heads, hidden_dim=int(cfg.get("n_inner") or 4 * dim),
            norm_eps=float(cfg.get("layer_norm_epsilon", 1e-5)),
            max_position_embeddings=int(cfg["n_positions"]),
            tie_embeddings=True, qkv_bias=True, o_bias=True, mlp_bias=True,
            act=_act(cfg.get("activation_function", "gelu_new"), mt),
            attn_scale=(dim // heads) ** -0.5 if cfg.get("scale_attn_weights", True) else 1.0,
            scale_by_layer=bool(cfg.get("scale_attn_by_inverse_layer_idx", False)),
            bos_id=None if bos is None else int(bos), eos_ids=eos)
    dim = int(cfg["hidden_size"])
    heads = int(cfg["num_attention_heads"])
    kv = int(cfg.get("num_key_value_heads") or heads)
    head_dim = int(cfg.get("head_dim") or dim // heads)
    if heads % kv:
        raise UnsupportedModelError(f"{mt}: {heads} attention heads are not a multiple of "
                                    f"{kv} key/value heads")
    if mt == "qwen2" and cfg.get("use_sliding_window") and cfg.get("sliding_window"):
        raise UnsupportedModelError("qwen2 with use_sliding_window=true is not supported "
                                    "(sliding-window attention layers)")
    if mt == "mistral" and cfg.get("sliding_window"):
        raise UnsupportedModelError("mistral with a sliding_window is not supported")
    theta, rope = _rope_params(cfg)
    bias = bool(cfg.get("attention_bias", False))
    return DecoderConfig(
        arch="qwen2" if mt == "qwen2" else "llama", vocab_size=int(cfg["vocab_size"]),
        dim=dim, n_layers=int(cfg["num_hidden_layers"]), n_heads=heads, n_kv_heads=kv,
        head_dim=head_dim, hidden_dim=int(cfg["intermediate_size"]),
        norm_eps=float(cfg.get("rms_norm_eps", 1e-6)),
        max_position_embeddings=int(cfg.get("max_position_embeddings") or 0),
        tie_embeddings=bool(cfg.get("tie_word_embeddings", False)),
        qkv_bias=True if mt == "qwen2" else bias, o_bias=bias,
        mlp_bias=bool(cfg.get("mlp_bias", False)),
        act=_act(cfg.get("hidden_act", "silu"), mt), rope_theta=theta, rope=rope,
        bos_id=None if bos is None else int(bos), eos_ids=eos)


def rope_inv_freq(c: DecoderConfig) -> torch.Tensor:
    """RoPE inverse frequencies, computed as transformers computes them
    (``modeling_rope_utils``), so that cos/sin agree to the last bit."""
    dim = c.head_dim
    inv = 1.0 / (c.rope_theta ** (torch.arange(0, dim, 2, dtype=torch.int64)
                                  .to(dtype=torch.float) / dim))
    kind = c.rope.get("rope_type", "default")
    if kind == "linear":
        inv = inv / float(c.rope["factor"])
    elif kind == "llama3":
        factor = c.rope["factor"]
        low, high = c.rope["low_freq_factor"], c.rope["high_freq_factor"]
        old = c.rope["original_max_position_embeddings"]
        low_wl, high_wl = old / low, old / high
        wavelen = 2 * math.pi / inv
        inv_l = torch.where(wavelen > low_wl, inv / factor, inv)
        smooth = (old / wavelen - low) / (high - low)
        smoothed = (1 - smooth) * inv_l / factor + smooth * inv_l
        medium = ~(wavelen < high_wl) * ~(wavelen > low_wl)
        inv = torch.where(medium, smoothed, inv_l)
    return inv


# ---------------------------------------------------------------------------
# layers


class Linear(nn.Linear):
    """nn.Linear whose exported form reads the [out, in] weight in place."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.weight
        if is_traceable_wrapper_subclass(w):
            return F.linear(x, w, self.bias)  # tensor subclasses (quantized weights)
        x2 = x.reshape(-1, x.shape[-1])
        y = torch.mm(w, x2.t()).t()
        if self.bias is not None:
            y = y + self.bias
        return y.reshape(*x.shape[:-1], w.shape[0])


class Conv1D(nn.Module):
    """GPT-2's Conv1D: y = x @ W + b with W stored [in, out]."""

    def __init__(self, n_in: int, n_out: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_in, n_out))
        self.bias = nn.Parameter(torch.empty(n_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.addmm(self.bias, x.reshape(-1, x.shape[-1]), self.weight)
        return y.reshape(*x.shape[:-1], self.weight.shape[1])


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dtype = x.dtype
        h = x.to(torch.float32)
        var = h.pow(2).mean(-1, keepdim=True)
        h = h * torch.rsqrt(var + self.eps)
        return self.weight * h.to(dtype)


def _activation(name: str, x: torch.Tensor) -> torch.Tensor:
    if name == "silu":
        return F.silu(x)
    if name == "gelu_tanh":
        return F.gelu(x, approximate="tanh")
    if name == "gelu":
        return F.gelu(x)
    return F.relu(x)


def _rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class KVCache(nn.Module):
    """Static cache updated in place: (1, n_kv_heads, max_context_len,
    head_dim), or with ``seq_major`` upstream's custom-op layout (1,
    max_context_len, n_kv_heads, head_dim)."""

    def __init__(self, n_kv_heads: int, max_context_len: int, head_dim: int,
                 dtype: torch.dtype, seq_major: bool = False) -> None:
        super().__init__()
        shape = ((1, max_context_len, n_kv_heads, head_dim) if seq_major
                 else (1, n_kv_heads, max_context_len, head_dim))
        self.register_buffer("k_cache", torch.zeros(shape, dtype=dtype), persistent=False)
        self.register_buffer("v_cache", torch.zeros(shape, dtype=dtype), persistent=False)

    def update(self, index: torch.Tensor, k: torch.Tensor, v: torch.Tensor
               ) -> Tuple[torch.Tensor, torch.Tensor]:
        # k, v: [1, n_kv_heads, S, head_dim]; index: [S] cache rows. Called
        # directly (not cache[:, :, index] = k, which drops k's leading 1):
        # upstream's index_put_ wants values of the cache's rank.
        torch.ops.aten.index_put_(self.k_cache, [None, None, index], k)
        torch.ops.aten.index_put_(self.v_cache, [None, None, index], v)
        return self.k_cache, self.v_cache

    def attend_custom(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                      start_pos: Any, scale: float) -> torch.Tensor:
        """upstream's custom ops: q, k, v [1, S, heads, D] (seq-major cache);
        writes rows start_pos .. start_pos + S - 1, then attends causally
        over the cache. Returns [1, S, H * D]."""
        torch.ops.llama.update_cache(k, self.k_cache, start_pos)
        torch.ops.llama.update_cache(v, self.v_cache, start_pos)
        out = torch.ops.llama.custom_sdpa(q, self.k_cache, self.v_cache, start_pos, None,
                                          0.0, True, scale)
        return out.reshape(1, q.shape[1], q.shape[2] * q.shape[3])


def attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor,
           scale: float) -> torch.Tensor:
    """Scaled dot-product attention over the whole cache with grouped heads.

    q: [1, H, S, D]; k, v: [1, Hkv, C, D]; mask: [S, C] (0 or -inf).
    Query heads are grouped under their key/value head (head h reads kv head
    h // (H / Hkv), as transformers' repeat_kv does) so the cache is never
    repeated. Returns [1, S, H * D]."""
    _, h, s, d = q.shape
    hkv, c = k.shape[1], k.shape[2]
    rep = h // hkv
    qg = q.reshape(1, hkv, rep * s, d)
    scores = torch.matmul(qg, k.transpose(2, 3)) * scale
    scores = scores.reshape(1, hkv, rep, s, c) + mask
    p = torch.softmax(scores.to(torch.float32), dim=-1).to(q.dtype)
    out = torch.matmul(p.reshape(1, hkv, rep * s, c), v)
    return out.reshape(1, h, s, d).transpose(1, 2).reshape(1, s, h * d)


class Attention(nn.Module):
    def __init__(self, c: DecoderConfig, max_context_len: int, dtype: torch.dtype,
                 layer_idx: int, custom_ops: bool = False) -> None:
        super().__init__()
        self.n_heads, self.n_kv_heads, self.head_dim = c.n_heads, c.n_kv_heads, c.head_dim
        self.q_proj = Linear(c.dim, c.n_heads * c.head_dim, bias=c.qkv_bias)
        self.k_proj = Linear(c.dim, c.n_kv_heads * c.head_dim, bias=c.qkv_bias)
        self.v_proj = Linear(c.dim, c.n_kv_heads * c.head_dim, bias=c.qkv_bias)
        self.o_proj = Linear(c.n_heads * c.head_dim, c.dim, bias=c.o_bias)
        self.scale = c.head_dim ** -0.5
        self.custom = custom_ops
        self.kv = KVCache(c.n_kv_heads, max_context_len, c.head_dim, dtype, custom_ops)

    def forward(self, x: torch.Tensor, index: Any, cos: torch.Tensor,
                sin: torch.Tensor, mask: Optional[torch.Tensor]) -> torch.Tensor:
        s = x.shape[1]
        if self.custom:  # index is start_pos; cos, sin [S, 1, D]
            q = self.q_proj(x).reshape(1, s, self.n_heads, self.head_dim)
            k = self.k_proj(x).reshape(1, s, self.n_kv_heads, self.head_dim)
            v = self.v_proj(x).reshape(1, s, self.n_kv_heads, self.head_dim)
            q = q * cos + _rotate_half(q) * sin
            k = k * cos + _rotate_half(k) * sin
            return self.o_proj(self.kv.attend_custom(q, k, v, index, self.scale))
        q = self.q_proj(x).reshape(1, s, self.n_heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).reshape(1, s, self.n_kv_heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).reshape(1, s, self.n_kv_heads, self.head_dim).transpose(1, 2)
        q = q * cos + _rotate_half(q) * sin
        k = k * cos + _rotate_half(k) * sin
        kc, vc = self.kv.update(index, k, v)
        return self.o_proj(attend(q, kc, vc, mask, self.scale))


class MLP(nn.Module):
    def __init__(self, c: DecoderConfig) -> None:
        super().__init__()
        self.gate_proj = Linear(c.dim, c.hidden_dim, bias=c.mlp_bias)
        self.up_proj = Linear(c.dim, c.hidden_dim, bias=c.mlp_bias)
        self.down_proj = Linear(c.hidden_dim, c.dim, bias=c.mlp_bias)
        self.act = c.act

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down_proj(_activation(self.act, self.gate_proj(x)) * self.up_proj(x))


class LlamaLayer(nn.Module):
    def __init__(self, c: DecoderConfig, max_context_len: int, dtype: torch.dtype,
                 i: int, custom_ops: bool = False) -> None:
        super().__init__()
        self.self_attn = Attention(c, max_context_len, dtype, i, custom_ops)
        self.mlp = MLP(c)
        self.input_layernorm = RMSNorm(c.dim, c.norm_eps)
        self.post_attention_layernorm = RMSNorm(c.dim, c.norm_eps)

    def forward(self, x, index, cos, sin, mask):
        h = x + self.self_attn(self.input_layernorm(x), index, cos, sin, mask)
        return h + self.mlp(self.post_attention_layernorm(h))


class _LlamaBody(nn.Module):
    def __init__(self, c: DecoderConfig, max_context_len: int, dtype: torch.dtype,
                 custom_ops: bool = False) -> None:
        super().__init__()
        self.embed_tokens = nn.Embedding(c.vocab_size, c.dim)
        self.layers = nn.ModuleList(LlamaLayer(c, max_context_len, dtype, i, custom_ops)
                                    for i in range(c.n_layers))
        self.norm = RMSNorm(c.dim, c.norm_eps)


class GPT2Attention(nn.Module):
    def __init__(self, c: DecoderConfig, max_context_len: int, dtype: torch.dtype,
                 layer_idx: int, custom_ops: bool = False) -> None:
        super().__init__()
        self.n_heads, self.head_dim, self.dim = c.n_heads, c.head_dim, c.dim
        self.c_attn = Conv1D(c.dim, 3 * c.dim)
        self.c_proj = Conv1D(c.dim, c.dim)
        self.scale = c.attn_scale / (layer_idx + 1 if c.scale_by_layer else 1)
        self.custom = custom_ops
        self.kv = KVCache(c.n_heads, max_context_len, c.head_dim, dtype, custom_ops)

    def forward(self, x, index, mask):
        s = x.shape[1]
        q, k, v = self.c_attn(x).split(self.dim, dim=2)
        if self.custom:  # index is start_pos
            shape = (1, s, self.n_heads, self.head_dim)
            return self.c_proj(self.kv.attend_custom(q.reshape(shape), k.reshape(shape),
                                                     v.reshape(shape), index, self.scale))
        q = q.reshape(1, s, self.n_heads, self.head_dim).transpose(1, 2)
        k = k.reshape(1, s, self.n_heads, self.head_dim).transpose(1, 2)
        v = v.reshape(1, s, self.n_heads, self.head_dim).transpose(1, 2)
        kc, vc = self.kv.update(index, k, v)
        return self.c_proj(attend(q, kc, vc, mask, self.scale))


class GPT2MLP(nn.Module):
    def __init__(self, c: DecoderConfig) -> None:
        super().__init__()
        self.c_fc = Conv1D(c.dim, c.hidden_dim)
        self.c_proj = Conv1D(c.hidden_dim, c.dim)
        self.act = c.act

    def forward(self, x):
        return self.c_proj(_activation(self.act, self.c_fc(x)))


class GPT2Block(nn.Module):
    def __init__(self, c: DecoderConfig, max_context_len: int, dtype: torch.dtype,
                 i: int, custom_ops: bool = False) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(c.dim, eps=c.norm_eps)
        self.attn = GPT2Attention(c, max_context_len, dtype, i, custom_ops)
        self.ln_2 = nn.LayerNorm(c.dim, eps=c.norm_eps)
        self.mlp = GPT2MLP(c)

    def forward(self, x, index, mask):
        h = x + self.attn(self.ln_1(x), index, mask)
        return h + self.mlp(self.ln_2(h))


class _GPT2Body(nn.Module):
    def __init__(self, c: DecoderConfig, max_context_len: int, dtype: torch.dtype,
                 custom_ops: bool = False) -> None:
        super().__init__()
        self.wte = nn.Embedding(c.vocab_size, c.dim)
        self.wpe = nn.Embedding(c.max_position_embeddings, c.dim)
        self.h = nn.ModuleList(GPT2Block(c, max_context_len, dtype, i, custom_ops)
                               for i in range(c.n_layers))
        self.ln_f = nn.LayerNorm(c.dim, eps=c.norm_eps)


# ---------------------------------------------------------------------------
# the decoder


class Decoder(nn.Module):
    """A decoder-only LM with a static KV cache (see the module docstring).

    ``full_logits``: return logits for every position ([1, S, vocab]) rather
    than the last one ([1, vocab], what upstream's llama export returns and
    its runner reads).

    ``custom_ops``: attention through upstream's ``llama::update_cache`` and
    ``llama::custom_sdpa`` (``edgetorch.llm.ops``) on seq-major caches
    (1, max_context_len, n_kv_heads, head_dim), as upstream's llama export
    with its custom SDPA; else ``index_put_`` and matmul/softmax over
    head-major caches."""

    def __init__(self, config: DecoderConfig, max_context_len: int,
                 dtype: torch.dtype = torch.float32, full_logits: bool = False,
                 custom_ops: bool = False) -> None:
        super().__init__()
        self.config = config
        self.max_context_len = int(max_context_len)
        self.full_logits = full_logits
        self.custom_ops = bool(custom_ops)
        self.act_dtype = dtype  # the embedding's weight may be quantized (int8)
        if self.custom_ops:
            from . import ops  # noqa: F401  (defines the llama:: operators)
        c = config
        if c.arch == "gpt2":
            self.transformer = _GPT2Body(c, max_context_len, dtype, self.custom_ops)
        else:
            self.model = _LlamaBody(c, max_context_len, dtype, self.custom_ops)
            inv = rope_inv_freq(c)
            self.register_buffer("inv_freq", inv, persistent=False)
        self.lm_head = Linear(c.dim, c.vocab_size, bias=False)
        self.register_buffer("cache_rows", torch.arange(max_context_len, dtype=torch.int64),
                             persistent=False)

    @property
    def embedding(self) -> nn.Embedding:
        return self.transformer.wte if self.config.arch == "gpt2" else self.model.embed_tokens

    def tie_weights(self) -> None:
        if self.config.tie_embeddings:
            self.lm_head.weight = self.embedding.weight

    def kv_caches(self) -> List[KVCache]:
        return [m for m in self.modules() if isinstance(m, KVCache)]

    def reset_cache(self) -> None:
        for kv in self.kv_caches():
            kv.k_cache.zero_()
            kv.v_cache.zero_()

    def forward(self, tokens: torch.Tensor, input_pos: torch.Tensor) -> torch.Tensor:
        s = tokens.shape[1]
        c = self.config
        pos = input_pos + torch.arange(s, dtype=torch.int64)            # [S]
        mask: Optional[torch.Tensor] = None
        if self.custom_ops:
            # start_pos for the custom ops; their kernels reject a chunk
            # outside the cache (no silent wrap-around). A negative position
            # becomes max_context_len first: upstream's update_cache checks
            # only the upper end.
            first = input_pos[:1]
            first = torch.where(first < 0, torch.full_like(first, self.max_context_len), first)
            index: Any = first[0].item()
            torch._check(index >= 0)
            torch._check(index + s <= self.max_context_len)
        else:
            # Cache rows to write: a position outside the cache becomes row
            # max_context_len, which index_put_ rejects (no silent wrap-around).
            invalid = (pos < 0) | (pos >= self.max_context_len)
            index = torch.where(invalid, torch.full_like(pos, self.max_context_len), pos)
            allowed = self.cache_rows.unsqueeze(0) <= pos.unsqueeze(1)      # [S, C]
            mask = torch.where(allowed, 0.0, float("-inf")).to(self.act_dtype)
        if c.arch == "gpt2":
            t = self.transformer
            x = t.wte(tokens) + t.wpe(pos).unsqueeze(0)
            for blk in t.h:
                x = blk(x, index, mask)
            norm = t.ln_f
        else:
            m = self.model
            x = m.embed_tokens(tokens)
            freqs = pos.unsqueeze(1).to(torch.float32) * self.inv_freq.unsqueeze(0)
            emb = torch.cat((freqs, freqs), dim=-1)
            cos, sin = emb.cos().to(x.dtype), emb.sin().to(x.dtype)     # [S, D]
            if self.custom_ops:  # q, k are [1, S, heads, D]
                cos, sin = cos.unsqueeze(1), sin.unsqueeze(1)
            for layer in m.layers:
                x = layer(x, index, cos, sin, mask)
            norm = m.norm
        if not self.full_logits:
            x = x[:, -1, :]
        return self.lm_head(norm(x))


# ---------------------------------------------------------------------------
# weights


_PREFIXES = {"gpt2": ("transformer.", ""), "llama": ("", ), "qwen2": ("", )}


def _hf_key(arch: str, key: str) -> Optional[str]:
    """Our parameter name for a checkpoint key (None: not a weight we use)."""
    if arch == "gpt2":
        if key.endswith((".attn.bias", ".attn.masked_bias")):
            return None  # causal-mask buffers of old checkpoints
        if key.startswith("lm_head."):
            return key
        if not key.startswith("transformer."):
            key = "transformer." + key
        return key
    if key.endswith("rotary_emb.inv_freq"):
        return None
    return key


def build_decoder(config: DecoderConfig, weights: Mapping[str, torch.Tensor], *,
                  max_context_len: int, dtype: torch.dtype = torch.float32,
                  full_logits: bool = False, custom_ops: bool = False) -> Decoder:
    """A Decoder holding ``weights`` (Hugging Face names) without copying them
    when they already have ``dtype``."""
    with torch.device("meta"):
        dec = Decoder(config, max_context_len, dtype, full_logits, custom_ops)
    state: Dict[str, torch.Tensor] = {}
    for k, t in weights.items():
        name = _hf_key(config.arch, k)
        if name is None:
            continue
        if t.dtype != dtype and t.is_floating_point():
            t = t.to(dtype)
        state[name] = t
    if config.tie_embeddings:
        state.pop("lm_head.weight", None)
    expected = set(dec.state_dict().keys())
    if config.tie_embeddings:
        expected.discard("lm_head.weight")
    missing = sorted(expected - set(state))
    unexpected = sorted(set(state) - expected)
    if missing or unexpected:
        parts = []
        if missing:
            parts.append("missing " + ", ".join(missing[:6]) + (" ..." if len(missing) > 6 else ""))
        if unexpected:
            parts.append("unexpected " + ", ".join(unexpected[:6])
                         + (" ..." if len(unexpected) > 6 else ""))
        raise LlmExportError(f"{config.arch} weights do not match the configuration: "
                             + "; ".join(parts))
    for k, t in state.items():
        want = dec.get_parameter(k).shape if k in dict(dec.named_parameters()) else None
        if want is not None and tuple(want) != tuple(t.shape):
            raise LlmExportError(f"weight {k} has shape {tuple(t.shape)}, the configuration "
                                 f"says {tuple(want)}")
    dec.load_state_dict(state, strict=False, assign=True)
    dec.tie_weights()
    # Buffers built on the meta device get real values.
    for kv in dec.kv_caches():
        kv.k_cache = torch.zeros(kv.k_cache.shape, dtype=dtype)
        kv.v_cache = torch.zeros(kv.v_cache.shape, dtype=dtype)
    dec.cache_rows = torch.arange(max_context_len, dtype=torch.int64)
    if config.arch != "gpt2":
        dec.inv_freq = rope_inv_freq(config)
    for n, p in dec.named_parameters():
        if p.is_meta:
            raise LlmExportError(f"weight {n} was not loaded")
        p.requires_grad_(False)
    return dec.eval()


def from_hf_model(model: nn.Module, *, max_context_len: int,
                  dtype: torch.dtype = torch.float32, full_logits: bool = False,
                  custom_ops: bool = False) -> Decoder:
    """A Decoder sharing a transformers model's weights (no copy at its dtype)."""
    cfg = getattr(model, "config", None)
    if cfg is None or not hasattr(cfg, "to_dict"):
        raise UnsupportedModelError(
            f"{type(model).__name__} is not a transformers model with a config; give a "
            "LlamaForCausalLM, Qwen2ForCausalLM or GPT2LMHeadModel (or an "
            "edgetorch.llm.Decoder)")
    gen = getattr(model, "generation_config", None)
    dc = config_from_hf(cfg.to_dict(), gen.to_dict() if gen is not None else None)
    sd = {k: v.detach() for k, v in model.state_dict().items()}
    return build_decoder(dc, sd, max_context_len=max_context_len, dtype=dtype,
                         full_logits=full_logits, custom_ops=custom_ops)


def load_hf_dir(path: Any, *, max_context_len: int, dtype: torch.dtype = torch.float32,
                full_logits: bool = False, custom_ops: bool = False) -> Decoder:
    """A Decoder from what ``save_pretrained`` writes: config.json and
    ``*.safetensors`` (one file or shards), read one tensor at a time."""
    d = Path(path)
    cfg_path = d / "config.json"
    if not cfg_path.is_file():
        raise LlmExportError(f"{d}: no config.json (expected a directory written by "
                             "transformers' save_pretrained)")
    try:
        cfg = json.loads(cfg_path.read_text())
    except json.JSONDecodeError as e:
        raise LlmExportError(f"{cfg_path}: not valid JSON ({e})") from e
    gen = None
    gp = d / "generation_config.json"
    if gp.is_file():
        gen = json.loads(gp.read_text())
    dc = config_from_hf(cfg, gen)
    files = sorted(d.glob("*.safetensors"))
    if not files:
        raise LlmExportError(f"{d}: no .safetensors files (save the model with "
                             "save_pretrained(..., safe_serialization=True))")
    from safetensors import safe_open

    weights: Dict[str, torch.Tensor] = {}
    for f in files:
        with safe_open(str(f), framework="pt") as st:
            for k in st.keys():
                if _hf_key(dc.arch, k) is None:
                    continue
                t = st.get_tensor(k)
                if t.dtype != dtype and t.is_floating_point():
                    t = t.to(dtype)
                weights[k] = t
    return build_decoder(dc, weights, max_context_len=max_context_len, dtype=dtype,
                         full_logits=full_logits, custom_ops=custom_ops)
