"""Upstream ExecuTorch's LLM custom operators (namespace ``llama``), defined
with ``torch.library`` so that edgetorch's exporter can emit them without
importing ``executorch``.

The schemas and names are upstream's (``extension/llm/custom_ops``,
``op_sdpa_aot.cpp``), so a program using them runs on edgetorch's runtime
(``kernels/llm``) and on upstream's (with its custom ops library linked):

* ``llama::update_cache(Tensor value, Tensor(a!) cache, SymInt start_pos)``:
  value ``[B, S, H, D]`` into cache rows ``start_pos .. start_pos + S - 1``
  of ``cache [B, C, H, D]``.
* ``llama::update_cache_with_indices(value, cache, start_pos, Tensor indices)``:
  row ``s`` of batch ``b`` to cache row ``indices[b, s]``.
* ``llama::custom_sdpa(Tensor query, Tensor key, Tensor value, SymInt start_pos,
  Tensor? attn_mask=None, float drpout_p=0., bool is_causal=False, float? scale=None)``:
  query ``[B, S, H, D]`` at positions ``start_pos ..`` over the caches
  ``[B, C, Hkv, D]`` (grouped heads). Without a mask, keys
  ``0 .. start_pos + S - 1`` take part and ``is_causal`` limits row ``i`` to
  keys ``0 .. start_pos + i``; a float ``attn_mask [S, C]`` covers the whole
  cache and excludes ``is_causal``.
* ``llama::sdpa_with_kv_cache(q, k, v, Tensor(a!) key_cache, Tensor(b!)
  value_cache, SymInt start_pos, SymInt seq_len, mask?, dropout, is_causal,
  scale?)``: both cache updates, then ``custom_sdpa`` over the caches.

Each has its ``.out`` overload (what a program calls), an eager reference
implementation (plain PyTorch) and a Meta kernel for export. When upstream's
own library already defined the namespace in this process (its
``custom_ops_aot_lib``), nothing is registered: the two are interchangeable.
"""

from __future__ import annotations

import math
from typing import Optional

import torch

from .errors import LlmExportError

_SCHEMAS = {
    "sdpa_with_kv_cache": (
        "(Tensor query, Tensor key, Tensor value, Tensor(a!) key_cache, "
        "Tensor(b!) value_cache, SymInt start_pos, SymInt seq_len, Tensor? attn_mask=None, "
        "float drpout_p=0.0, bool is_causal=False, float? scale=None)"),
    "custom_sdpa": (
        "(Tensor query, Tensor key, Tensor value, SymInt start_pos, Tensor? attn_mask=None, "
        "float drpout_p=0.0, bool is_causal=False, float? scale=None)"),
    "update_cache": "(Tensor value, Tensor(a!) cache, SymInt start_pos)",
    "update_cache_with_indices": (
        "(Tensor value, Tensor(a!) cache, SymInt start_pos, Tensor indices)"),
}
_OUT_ALIAS = {"sdpa_with_kv_cache": "c", "custom_sdpa": "a", "update_cache": "b",
              "update_cache_with_indices": "b"}

_lib: Optional[torch.library.Library] = None


class LlamaOpError(LlmExportError, ValueError):
    """Arguments a llama:: operator refuses (the eager reference's checks,
    the same as the C kernels')."""


def _defined(name: str) -> bool:
    try:
        getattr(torch.ops.llama, name)
        return True
    except (AttributeError, RuntimeError):
        return False


# ---------------------------------------------------------------------------
# checks shared by the eager and meta kernels


def _check_4d(t: torch.Tensor, name: str) -> None:
    if t.dim() != 4:
        raise LlamaOpError(f"llama op: {name} must have 4 dimensions ([batch, seq, heads, "
                           f"head_dim]), got {tuple(t.shape)}")


def _check_fits(value: torch.Tensor, cache: torch.Tensor, vname: str, cname: str) -> None:
    _check_4d(value, vname)
    _check_4d(cache, cname)
    if value.dtype != cache.dtype:
        raise LlamaOpError(f"llama op: {vname} has dtype {value.dtype}, {cname} {cache.dtype}")
    for d in (0, 2, 3):
        if value.shape[d] != cache.shape[d]:
            raise LlamaOpError(f"llama op: {vname} {tuple(value.shape)} does not fit {cname} "
                               f"{tuple(cache.shape)} (dimension {d})")


def _check_positions(start_pos: int, seq_len: int, cache: torch.Tensor, name: str) -> None:
    if isinstance(start_pos, int) and isinstance(seq_len, int) and not (
            0 <= start_pos and start_pos + seq_len <= cache.shape[1]):
        raise LlamaOpError(f"llama op: start_pos {start_pos} + seq_len {seq_len} is outside "
                           f"{name}'s {cache.shape[1]} positions")
    torch._check(start_pos >= 0)
    torch._check(start_pos + seq_len <= cache.shape[1])


def _check_sdpa(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, start_pos: int,
                attn_mask: Optional[torch.Tensor], is_causal: bool) -> None:
    for t, n in ((q, "query"), (k, "key"), (v, "value")):
        _check_4d(t, n)
        if t.dtype not in (torch.float32, torch.float16, torch.bfloat16):
            raise LlamaOpError(f"llama op: {n} has dtype {t.dtype}; expected a float dtype")
        if t.dtype != q.dtype:
            raise LlamaOpError(f"llama op: {n} has dtype {t.dtype}, query {q.dtype}")
    if k.shape != v.shape:
        raise LlamaOpError(f"llama op: key {tuple(k.shape)} and value {tuple(v.shape)} differ")
    if k.shape[0] != q.shape[0] or k.shape[3] != q.shape[3]:
        raise LlamaOpError(f"llama op: query {tuple(q.shape)} and key {tuple(k.shape)} differ "
                           "in batch or head_dim")
    if q.shape[2] % k.shape[2] != 0:
        raise LlamaOpError(f"llama op: {q.shape[2]} query heads are not a multiple of "
                           f"{k.shape[2]} key/value heads")
    if attn_mask is not None:
        if is_causal:
            raise LlamaOpError("llama op: attn_mask and is_causal cannot both be set")
        if attn_mask.dim() != 2 or attn_mask.dtype != torch.float32:
            raise LlamaOpError("llama op: attn_mask must be a 2-d float32 tensor")
    _check_positions(start_pos, q.shape[1], k, "the key cache")


# ---------------------------------------------------------------------------
# eager reference implementations (plain PyTorch, float64 softmax-free path)


def reference_sdpa(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, start_pos: int,
                   attn_mask: Optional[torch.Tensor] = None, is_causal: bool = False,
                   scale: Optional[float] = None) -> torch.Tensor:
    """custom_sdpa's semantics with F.scaled_dot_product_attention."""
    b, s, h, d = q.shape
    c, hkv = k.shape[1], k.shape[2]
    n_keys = c if attn_mask is not None else start_pos + s
    kk = k[:, :n_keys].transpose(1, 2).repeat_interleave(h // hkv, dim=1)
    vv = v[:, :n_keys].transpose(1, 2).repeat_interleave(h // hkv, dim=1)
    qq = q.transpose(1, 2)
    mask = None
    if attn_mask is not None:
        mask = attn_mask.to(q.dtype)
    elif is_causal:
        rows = torch.arange(s).unsqueeze(1) + start_pos
        mask = torch.where(torch.arange(n_keys).unsqueeze(0) <= rows, 0.0,
                           float("-inf")).to(q.dtype)
    sc = (1.0 / math.sqrt(d)) if scale is None else scale
    out = torch.nn.functional.scaled_dot_product_attention(qq, kk, vv, attn_mask=mask,
                                                           scale=sc)
    return out.transpose(1, 2).contiguous()


def _custom_sdpa(query, key, value, start_pos, attn_mask=None, drpout_p=0.0,
                 is_causal=False, scale=None):
    _check_sdpa(query, key, value, start_pos, attn_mask, is_causal)
    return reference_sdpa(query, key, value, start_pos, attn_mask, is_causal, scale)


def _custom_sdpa_out(query, key, value, start_pos, attn_mask=None, drpout_p=0.0,
                     is_causal=False, scale=None, *, out):
    r = _custom_sdpa(query, key, value, start_pos, attn_mask, drpout_p, is_causal, scale)
    out.resize_(r.shape).copy_(r)
    return out


def _update_cache(value, cache, start_pos):
    _check_fits(value, cache, "value", "cache")
    _check_positions(start_pos, value.shape[1], cache, "cache")
    cache[:, start_pos:start_pos + value.shape[1]] = value
    return torch.empty((1,), dtype=value.dtype)


def _update_cache_out(value, cache, start_pos, *, out):
    _update_cache(value, cache, start_pos)
    return out


def _update_cache_with_indices(value, cache, start_pos, indices):
    _check_fits(value, cache, "value", "cache")
    if indices.dim() != 2 or indices.dtype != torch.int64 or \
            tuple(indices.shape) != tuple(value.shape[:2]):
        raise LlamaOpError("llama op: indices must be int64 [batch, seq_len]")
    if bool(((indices < 0) | (indices >= cache.shape[1])).any()):
        raise LlamaOpError(f"llama op: an index is outside the cache's {cache.shape[1]} "
                           "positions")
    for b in range(value.shape[0]):
        cache[b, indices[b]] = value[b]
    return torch.empty((1,), dtype=value.dtype)


def _update_cache_with_indices_out(value, cache, start_pos, indices, *, out):
    _update_cache_with_indices(value, cache, start_pos, indices)
    return out


def _sdpa_with_kv_cache(query, key, value, key_cache, value_cache, start_pos, seq_len,
                        attn_mask=None, drpout_p=0.0, is_causal=False, scale=None):
    _check_fits(key, key_cache, "key", "key_cache")
    _check_fits(value, value_cache, "value", "value_cache")
    _check_sdpa(query, key_cache, value_cache, start_pos, attn_mask, is_causal)
    _update_cache(key, key_cache, start_pos)
    _update_cache(value, value_cache, start_pos)
    return reference_sdpa(query, key_cache, value_cache, start_pos, attn_mask, is_causal,
                          scale)


def _sdpa_with_kv_cache_out(query, key, value, key_cache, value_cache, start_pos, seq_len,
                            attn_mask=None, drpout_p=0.0, is_causal=False, scale=None, *,
                            out):
    r = _sdpa_with_kv_cache(query, key, value, key_cache, value_cache, start_pos, seq_len,
                            attn_mask, drpout_p, is_causal, scale)
    out.resize_(r.shape).copy_(r)
    return out


# meta kernels: shapes only (checks that need no data)

def _custom_sdpa_meta(query, key, value, start_pos, attn_mask=None, drpout_p=0.0,
                      is_causal=False, scale=None):
    _check_sdpa(query, key, value, start_pos, attn_mask, is_causal)
    return torch.empty(query.shape, dtype=query.dtype, device=query.device)


def _sdpa_with_kv_cache_meta(query, key, value, key_cache, value_cache, start_pos, seq_len,
                             attn_mask=None, drpout_p=0.0, is_causal=False, scale=None):
    _check_fits(key, key_cache, "key", "key_cache")
    _check_fits(value, value_cache, "value", "value_cache")
    _check_sdpa(query, key_cache, value_cache, start_pos, attn_mask, is_causal)
    return torch.empty(query.shape, dtype=query.dtype, device=query.device)


def _update_cache_meta(value, cache, start_pos):
    _check_fits(value, cache, "value", "cache")
    _check_positions(start_pos, value.shape[1], cache, "cache")
    return torch.empty((1,), dtype=value.dtype, device="meta")


def _update_cache_with_indices_meta(value, cache, start_pos, indices):
    _check_fits(value, cache, "value", "cache")
    return torch.empty((1,), dtype=value.dtype, device="meta")


_IMPLS = {
    "sdpa_with_kv_cache": (_sdpa_with_kv_cache, _sdpa_with_kv_cache_out,
                           _sdpa_with_kv_cache_meta),
    "custom_sdpa": (_custom_sdpa, _custom_sdpa_out, _custom_sdpa_meta),
    "update_cache": (_update_cache, _update_cache_out, _update_cache_meta),
    "update_cache_with_indices": (_update_cache_with_indices, _update_cache_with_indices_out,
                                  _update_cache_with_indices_meta),
}


def register() -> None:
    """Define the llama:: operators (idempotent; a no-op when upstream's
    library defined them first)."""
    global _lib
    if _lib is not None:
        return
    if all(_defined(n) for n in _SCHEMAS):
        _lib = torch.library.Library("llama", "FRAGMENT")  # upstream's own
        return
    lib = torch.library.Library("llama", "FRAGMENT")
    for name, args in _SCHEMAS.items():
        alias = _OUT_ALIAS[name]
        lib.define(f"{name}{args} -> Tensor")
        lib.define(f"{name}.out{args[:-1]}, *, Tensor({alias}!) out) -> Tensor({alias}!)")
        fn, out_fn, meta = _IMPLS[name]
        lib.impl(name, fn, "CompositeExplicitAutograd")
        lib.impl(name, meta, "Meta")
        lib.impl(f"{name}.out", out_fn, "CompositeExplicitAutograd")
    _lib = lib


register()
