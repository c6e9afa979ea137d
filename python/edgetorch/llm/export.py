"""Export a decoder-only language model with a static KV cache to `.pte`.

    import edgetorch.llm
    prog = edgetorch.llm.export(hf_model, max_seq_len=128)    # or a save_pretrained dir
    prog.write_to_file("model.pte")

The program has what upstream ExecuTorch's LLM runner reads
(``extension/llm/runner``):

* ``forward(tokens int64[1, S], input_pos int64[1]) -> logits``: S is
  dynamic, 1..max_seq_len (prefill a chunk, then decode one token at a time
  with ``input_pos`` the position of the first token). Logits are
  ``float[1, vocab]`` for the last position (upstream's default; its
  sampler reads the last row either way) or ``[1, S, vocab]`` with
  ``full_logits=True``.
* the KV cache: one ``k_cache``/``v_cache`` pair per layer, mutable
  buffers in planned memory that keep their contents between calls of the
  loaded method and start as zeros (both runtimes zero planned memory;
  nothing is stored in the file). With ``custom_sdpa=True`` (the default)
  they have upstream's layout (1, max_context_len, n_kv_heads, head_dim)
  and attention is upstream's ``llama::update_cache`` +
  ``llama::custom_sdpa`` (edgetorch runs them on kernels/llm's fused
  attention; upstream's runtime with its custom ops library linked);
  with ``custom_sdpa=False``, (1, n_kv_heads, max_context_len, head_dim)
  written by ``index_put_`` and read by portable matmul/softmax.
* constant methods: ``get_max_seq_len``, ``get_max_context_len``,
  ``get_vocab_size``, ``get_n_layers``, ``use_kv_cache`` (True),
  ``use_sdpa_with_kv_cache`` (False), ``enable_dynamic_shape``, and
  ``get_bos_id`` / ``get_eos_ids`` when the checkpoint (or the caller)
  gives them.

With ``quantize="8da4w"`` every linear layer (input size a multiple of the
group size) holds torchao's int4 groupwise weights with bf16 scales and runs
on XnnpackBackend as upstream lowers it (XNNConvert to qdint8 per token +
XNNFullyConnected with qbint4 weights). With ``quantize="int8"`` every
linear holds int8 weights with a float32 scale per output channel and is
one ``quantized_decomposed::mixed_linear`` (float activations). The
embedding tables follow ``quantize_embedding`` (by default 8-bit rows with
"int8", 4-bit groups with "8da4w": ``quantized_decomposed::embedding_byte``
/ ``embedding_4bit``); everything else is as above. docs/llm.md has the
table.

A call with ``input_pos + S > max_context_len`` (or ``input_pos < 0``)
fails with InvalidArgument from the cache update's bounds check, on
edgetorch's runtime and on upstream's, before any logits are produced.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import torch

from ..export.config import ExportConfig
from .errors import LlmExportError, UnsupportedModelError
from .models import Decoder, from_hf_model, load_hf_dir

ProgressFn = Optional[Callable[[str], None]]

QUANTIZE_MODES = ("int8", "8da4w")


def _check_quantize(quantize: Optional[str], group_size: Optional[int]) -> None:
    if quantize is None or quantize == "int8":
        if group_size is not None:
            raise LlmExportError("group_size only applies to quantize='8da4w' (int8 linears "
                                 "have one scale per output channel; the embedding group "
                                 "goes in quantize_embedding='8,GROUP')")
        return
    if quantize == "8da4w":
        g = 32 if group_size is None else group_size
        if not isinstance(g, int) or g <= 0 or g % 32:
            raise LlmExportError(f"8da4w: group_size must be a positive multiple of 32 "
                                 f"(XNNPACK's blockwise 4-bit linear), got {group_size!r}")
        return
    raise LlmExportError(f"unknown quantize mode {quantize!r}; the modes are None (float), "
                         + ", ".join(repr(m) for m in QUANTIZE_MODES))


EmbeddingSpec = Optional[Tuple[int, int]]   # (bits, group size; 0: one scale per row)


def embedding_spec(quantize: Optional[str], group_size: Optional[int],
                   quantize_embedding: Union[None, bool, str], dim: Optional[int] = None
                   ) -> EmbeddingSpec:
    """(bits, group) of the embedding quantization, or None for float.

    ``quantize_embedding``: None takes the mode's default (float without
    ``quantize``; 8-bit per row with "int8"; 4-bit in groups of the linear
    group size with "8da4w", per row when the dim is not a multiple of it);
    False or "none": float; "int8" / "8bit": 8-bit per row; "4bit": 4-bit in
    groups of ``group_size`` (32 by default); "BITS,GROUP" as upstream's
    ``export_llama -E`` (BITS 8 or 4, GROUP 0 for one scale per row)."""
    g_lin = 32 if group_size is None else int(group_size)
    q = quantize_embedding
    if q is None:
        if quantize is None:
            return None
        if quantize == "int8":
            return (8, 0)
        return (4, g_lin if dim is None or dim % g_lin == 0 else 0)
    if q is False or (isinstance(q, str) and q.lower() in ("none", "false", "fp32", "float")):
        return None
    if q is True:
        return embedding_spec(quantize or "int8", group_size, None, dim)
    if not isinstance(q, str):
        raise LlmExportError(f"quantize_embedding={q!r}: give None, False, 'int8', '4bit' "
                             "or 'BITS,GROUP'")
    s = q.strip().lower()
    if s in ("int8", "8bit", "8"):
        return (8, 0)
    if s in ("4bit", "int4", "4"):
        return (4, g_lin)
    parts = s.split(",")
    try:
        bits, grp = int(parts[0]), (0 if parts[1] in ("none", "") else int(parts[1]))
        if len(parts) != 2:
            raise ValueError
    except (ValueError, IndexError):
        raise LlmExportError(f"quantize_embedding={q!r}: expected 'int8', '4bit' or "
                             "'BITS,GROUP' (e.g. '8,0', '4,32')") from None
    if bits not in (4, 8):
        raise LlmExportError(f"quantize_embedding={q!r}: {bits} bits (8 or 4)")
    if grp < 0 or grp == 1:
        raise LlmExportError(f"quantize_embedding={q!r}: the group size must be 0 (per row) "
                             "or at least 2")
    return (bits, grp)


def as_decoder(model: Any, *, max_context_len: int, dtype: torch.dtype = torch.float32,
               full_logits: bool = False, custom_sdpa: bool = False) -> Decoder:
    """The Decoder to export: ``model`` itself, a transformers causal LM
    (weights shared, not copied), or a directory written by
    ``save_pretrained``."""
    if isinstance(model, Decoder):
        if model.max_context_len != max_context_len:
            raise LlmExportError(
                f"the Decoder was built with max_context_len={model.max_context_len}, the "
                f"export asks for {max_context_len}; build it with the same value")
        if bool(model.full_logits) != bool(full_logits):
            raise LlmExportError("the Decoder's full_logits differs from the export's")
        return model  # its own custom_ops choice stands
    if isinstance(model, (str, os.PathLike)):
        return load_hf_dir(model, max_context_len=max_context_len, dtype=dtype,
                           full_logits=full_logits, custom_ops=custom_sdpa)
    if isinstance(model, torch.nn.Module):
        return from_hf_model(model, max_context_len=max_context_len, dtype=dtype,
                             full_logits=full_logits, custom_ops=custom_sdpa)
    raise UnsupportedModelError(
        f"cannot export a {type(model).__name__}: give a transformers causal LM "
        "(LlamaForCausalLM, Qwen2ForCausalLM, GPT2LMHeadModel, ...), a directory written "
        "by save_pretrained, or an edgetorch.llm.Decoder")


def metadata(dec: Decoder, max_seq_len: int, *, bos_id: Optional[int] = None,
             eos_ids: Optional[Sequence[int]] = None) -> Dict[str, Any]:
    """The constant methods upstream's runner reads (``llm_runner_helper.cpp``
    and ``export_llama_lib._load_llama_model_metadata``)."""
    c = dec.config
    md: Dict[str, Any] = {
        "get_max_seq_len": int(max_seq_len),
        "get_max_context_len": int(dec.max_context_len),
        "get_vocab_size": int(c.vocab_size),
        "get_n_layers": int(c.n_layers),
        "use_kv_cache": True,
        "use_sdpa_with_kv_cache": bool(getattr(dec, "custom_ops", False)),
        "enable_dynamic_shape": max_seq_len > 1,
    }
    bos = c.bos_id if bos_id is None else bos_id
    eos = list(c.eos_ids if eos_ids is None else eos_ids)
    if bos is not None:
        md["get_bos_id"] = int(bos)
    if eos:
        md["get_eos_ids"] = [int(e) for e in eos]
    return md


def quantize_8da4w(dec: Decoder, group_size: int = 32, *, copy_first: bool = False) -> Decoder:
    """The Decoder with its linears 8da4w-quantized by torchao (int4
    symmetric weights in groups of ``group_size``, bf16 scales, the scales
    XNNPACK's qbint4 stores) and each written as one
    ``edgetorch_quant::linear_8da4w`` node. ``quantize_`` replaces the
    Decoder's weights (those it shares with a transformers model stay as
    they are); ``copy_first`` works on a deep copy."""
    import copy as _copy

    from torchao.quantization import quantize_

    from ..quantize.op8da4w import swap_torchao_linears

    if copy_first:
        dec = _copy.deepcopy(dec)
    linearize_conv1d(dec)

    def takes(mod: torch.nn.Module, fqn: str) -> bool:
        return isinstance(mod, torch.nn.Linear) and mod.in_features % group_size == 0

    if not any(takes(m, "") for m in dec.modules()):
        raise LlmExportError(f"8da4w: no linear layer has an input size divisible by the "
                             f"group size {group_size}")
    dec.eval()
    quantize_(dec, config_8da4w(group_size), filter_fn=takes)
    dec._et_8da4w = swap_torchao_linears(dec)  # type: ignore[attr-defined]
    return dec


def linearize_conv1d(dec: Decoder) -> int:
    """GPT-2's Conv1D layers ([in, out] weights) as Linear layers with the
    transposed ([out, in]) weight, so that the linear quantizers take them;
    returns how many. The transpose is a copy (of a float weight about to
    be quantized and dropped)."""
    from .models import Conv1D, Linear

    count = 0

    def walk(parent: torch.nn.Module) -> None:
        nonlocal count
        for name, child in parent.named_children():
            if isinstance(child, Conv1D):
                n_in, n_out = child.weight.shape
                lin = Linear(n_in, n_out, bias=True, device="meta")
                lin.weight = torch.nn.Parameter(child.weight.detach().t().contiguous(),
                                                requires_grad=False)
                lin.bias = torch.nn.Parameter(child.bias.detach(), requires_grad=False)
                setattr(parent, name, lin)
                count += 1
            else:
                walk(child)

    walk(dec)
    return count


def quantize_int8(dec: Decoder) -> Decoder:
    """The Decoder with every linear int8 weight-only quantized per output
    channel by torchao (``IntxWeightOnlyConfig(int8, PerAxis(0))``, what
    upstream's ``export_llama -qmode int8`` computes: symmetric, scale =
    max|w| / 127.5) and each written as ``quantized_decomposed::mixed_linear``
    (``edgetorch.quantize.weight_only.Int8Linear``). Works in place."""
    from ..quantize.weight_only import quantize_linears_int8

    dec.eval()
    linearize_conv1d(dec)
    dec._et_int8 = quantize_linears_int8(dec)  # type: ignore[attr-defined]
    return dec


def quantize_embeddings(dec: Decoder, spec: Tuple[int, int]) -> int:
    """Every embedding table of the Decoder (tokens; GPT-2's positions too)
    quantized to ``spec`` = (bits, group size, 0 per row), as upstream's
    ``export_llama -E bits,group``. A tied output projection keeps the
    float weight unless the linears are quantized too."""
    from ..quantize.weight_only import quantize_embeddings as qe

    bits, group = spec
    try:
        return qe(dec, bits, group, dtype=dec.act_dtype)
    except ValueError as e:
        raise LlmExportError(f"embedding quantization: {e}") from None


def _is_q4(target: Any) -> bool:
    s = getattr(target, "_schema", None)
    return s is not None and s.name == "edgetorch_quant::linear_8da4w"


def config_8da4w(group_size: int = 32):
    """torchao's configuration edgetorch.llm.export(quantize="8da4w") applies
    (also the reference a test quantizes the eager model with)."""
    from torchao.quantization import Int8DynamicActivationIntxWeightConfig
    from torchao.quantization.granularity import PerGroup
    return Int8DynamicActivationIntxWeightConfig(
        weight_dtype=torch.int4, weight_granularity=PerGroup(group_size),
        weight_scale_dtype=torch.bfloat16)


def export(model: Any, max_seq_len: int, max_context_len: Optional[int] = None,
           dtype: torch.dtype = torch.float32, quantize: Optional[str] = None,
           group_size: Optional[int] = None, *,
           quantize_embedding: Union[None, bool, str] = None, full_logits: bool = False,
           bos_id: Optional[int] = None, eos_ids: Optional[Sequence[int]] = None,
           custom_sdpa: bool = True, config: Optional[ExportConfig] = None,
           progress: ProgressFn = None):
    """Export a decoder LM with a KV cache; returns an ``edgetorch.PteProgram``
    (``.buffer``, ``.write_to_file(path)``), as ``edgetorch.export`` does.

    ``model``: a transformers causal LM (Llama family, Mistral without
    sliding windows, Qwen2, GPT-2), a directory written by ``save_pretrained``
    (config.json + safetensors) or an ``edgetorch.llm.Decoder``.
    ``max_seq_len``: the longest chunk one call takes (the prefill chunk).
    ``max_context_len``: cache length, the most positions a generation may
    use (default: ``max_seq_len``). ``dtype``: float32 (other dtypes are not
    supported yet). ``quantize`` / ``group_size``: "8da4w" quantizes every linear
    whose input size the group size divides with torchao's
    ``Int8DynamicActivationIntxWeightConfig(int4, PerGroup(group_size),
    weight_scale_dtype=bfloat16)`` and delegates each to XnnpackBackend as
    upstream lowers it (Convert to qdint8 + FullyConnected with qbint4
    weights); group_size defaults to 32 and must be a multiple of 32. "int8"
    quantizes every linear to int8 per output channel (torchao's
    ``IntxWeightOnlyConfig(int8, PerAxis(0))``, upstream's ``-qmode int8``)
    as ``quantized_decomposed::mixed_linear`` on the portable/optimized
    kernels (no group_size). GPT-2's Conv1D layers are quantized as linears.
    ``quantize_embedding``: the embedding tables (``embedding_spec``): None
    for the mode's default (float without ``quantize``, 8-bit per row with
    "int8", 4-bit in groups of ``group_size`` with "8da4w"), False / "none"
    for float32, "int8", "4bit", or upstream's ``-E`` form "BITS,GROUP"
    (GROUP 0: a scale per row). A tied output projection is quantized as a
    linear and the table as an embedding; no float copy of the table stays.
    A given Decoder is copied before quantizing. ``bos_id`` / ``eos_ids``
    override the checkpoint's for ``get_bos_id`` / ``get_eos_ids``.
    ``custom_sdpa``: attention as upstream's ``llama::update_cache`` +
    ``llama::custom_sdpa`` on seq-major caches (default; a given Decoder
    keeps its own ``custom_ops``), else ``index_put_`` + matmul/softmax.
    ``config``: exporter options (default: ``ExportConfig(init_mutable_buffers=False)``,
    so that the KV cache is not stored in the file).
    """
    from ..export.program import to_edge

    say = progress or (lambda s: None)
    _check_quantize(quantize, group_size)
    if dtype != torch.float32:
        raise LlmExportError(f"dtype {dtype} is not supported by edgetorch.llm.export yet; "
                             "use torch.float32")
    max_seq_len = int(max_seq_len)
    if max_seq_len < 1:
        raise LlmExportError(f"max_seq_len must be at least 1, got {max_seq_len}")
    max_context_len = max_seq_len if max_context_len is None else int(max_context_len)
    if max_context_len < max_seq_len:
        raise LlmExportError(f"max_context_len ({max_context_len}) is shorter than "
                             f"max_seq_len ({max_seq_len})")
    t0 = time.monotonic()
    dec = as_decoder(model, max_context_len=max_context_len, dtype=dtype,
                     full_logits=full_logits, custom_sdpa=custom_sdpa)
    emb = embedding_spec(quantize, group_size, quantize_embedding, dec.config.dim)
    if (quantize or emb) and isinstance(model, Decoder):
        import copy as _copy
        dec = _copy.deepcopy(dec)  # the caller's Decoder keeps its float weights
    if quantize == "8da4w":
        dec = quantize_8da4w(dec, 32 if group_size is None else int(group_size))
        say(f"8da4w: {dec._et_8da4w} linears with int4 weights in groups of "
            f"{32 if group_size is None else group_size}")
    elif quantize == "int8":
        dec = quantize_int8(dec)
        say(f"int8: {dec._et_int8} linears with int8 weights, one scale per output channel "
            "(quantized_decomposed::mixed_linear)")
    if emb is not None:
        n = quantize_embeddings(dec, emb)
        say(f"embeddings: {n} table(s) with {emb[0]}-bit rows, "
            + (f"groups of {emb[1]}" if emb[1] else "one scale per row"))
    c = dec.config
    if c.arch == "gpt2" and max_context_len > c.max_position_embeddings:
        raise LlmExportError(f"max_context_len {max_context_len} is longer than GPT-2's "
                             f"{c.max_position_embeddings} learned positions")
    say(f"{c.arch}: {c.n_layers} layers, dim {c.dim}, {c.n_heads} heads "
        f"({c.n_kv_heads} kv), vocab {c.vocab_size}; max_seq_len {max_seq_len}, "
        f"max_context_len {max_context_len}")
    example = (torch.zeros(1, min(2, max_seq_len), dtype=torch.int64),
               torch.zeros(1, dtype=torch.int64))
    dynamic = None
    if max_seq_len > 1:
        dynamic = ({1: torch.export.Dim("seq_len", max=max_seq_len)}, None)
    with torch.no_grad():
        # Deferred asserts: torch's guards that only fail for S == 1 (stride
        # reasoning on size-1 dimensions) would otherwise refuse S in 1..max.
        ep = torch.export.export(dec, example, dynamic_shapes=dynamic, strict=False,
                                 prefer_deferred_runtime_asserts_over_guards=True)
    say(f"torch.export done in {time.monotonic() - t0:.1f}s")
    cfg = config or ExportConfig(init_mutable_buffers=False)
    md = metadata(dec, max_seq_len, bos_id=bos_id, eos_ids=eos_ids)
    edge = to_edge(ep, constant_methods=md, config=cfg, progress=progress)
    del ep
    if quantize == "8da4w":
        from ..export.xnnpack import XnnpackPartitioner
        from ..quantize.op8da4w import QUALNAME
        # One delegate per group of linears reading the same activation
        # (q/k/v, gate/up): the delegate call takes the place of the group's
        # first linear. Linears of different groups must not share one: the
        # cache updates order attention through side effects, not data edges,
        # so a fused call placed after a later group's input would move a
        # cache update past the attention that reads it.
        groups: Dict[Any, List[str]] = {}
        for n in edge.methods["forward"].gm.graph.nodes:
            if n.op == "call_function" and _is_q4(n.target):
                groups.setdefault(n.args[0], []).append(n.name)
        parts = [XnnpackPartitioner(ops=[QUALNAME], nodes=names) for names in groups.values()]
        edge.to_backend({"forward": parts})
        left = [n.name for m in edge.methods.values() for n in m.gm.graph.nodes
                if n.op == "call_function" and _is_q4(n.target)]
        if left:
            why = "; ".join(f"{k}: {v}" for p in parts for k, v in p.why_not.items()
                            if k in left)
            raise LlmExportError(f"8da4w: {len(left)} linear(s) not delegated to "
                                 f"XnnpackBackend ({why or 'no reason recorded'})")
        say(f"8da4w: {dec._et_8da4w} linears delegated to XnnpackBackend")
    pte = edge.to_executorch(cfg, progress=progress)
    say(f"exported in {time.monotonic() - t0:.1f}s")
    return pte


def export_hf_dir(hf_dir: Union[str, os.PathLike], max_seq_len: int, **kwargs: Any):
    """``export`` of a ``save_pretrained`` directory (config.json + safetensors)."""
    p = Path(hf_dir)
    if not p.is_dir():
        raise LlmExportError(f"{p}: not a directory (give the directory save_pretrained "
                             "wrote)")
    return export(p, max_seq_len, **kwargs)
