"""Weight-only quantized linears and embeddings for the LLM exporter, as
upstream ExecuTorch's runtime kernels (kernels/quantized) take them.

* ``Int8Linear``: int8 weights ``[N, K]`` with one float32 scale per output
  channel (symmetric, zero point 0), float activations. Its forward is one
  ``quantized_decomposed::mixed_linear(x2d, weight, scales, None)`` on the
  input flattened to 2-D (the kernel takes rank 2), then the float bias.
  Upstream's ``export_llama -qmode int8`` writes ``F.linear(x,
  w.to(float)) * scales`` instead: a ``_to_copy`` of every weight to a
  planned float32 buffer at every call; ``mixed_linear`` reads the int8
  weight in place (edgetorch: kernels/optimized/op_mixed_linear.c; upstream:
  its quantized kernel library), so the program never holds a float copy.
* ``QuantizedEmbedding``: 8-bit (``quantized_decomposed::embedding_byte``)
  or 4-bit (``embedding_4bit``, two values a byte, element 2k in the high
  nibble, stored + 8: upstream's packing) rows with float32 scales per row
  or per group, as upstream's ``export_llama -E bits,group`` writes them.

The integers and scales come from torchao's ``IntxWeightOnlyConfig``
(symmetric, ``affine`` qparams: scale = max|w| / ((qmax - qmin) / 2)), the
reference tests quantize the eager model with.

Operator definitions: PyTorch itself defines none of the three functional
ops (upstream's ``exir/passes/_quant_patterns_and_replacements.py`` does).
``register()`` defines whichever is missing, with upstream's schemas, an
eager reference and a fake kernel; when upstream's module defined them
first, theirs stand. Import upstream's exir before calling ``register()``
if both live in one process (the same rule as edgetorch.llm.ops).
"""

from __future__ import annotations

from typing import Callable, Optional

import torch
import torch.nn.functional as F

_SCHEMAS = {
    "embedding_byte": ("(Tensor weight, Tensor weight_scales, Tensor? weight_zero_points, "
                       "int weight_quant_min, int weight_quant_max, Tensor indices) -> Tensor"),
    "embedding_byte.dtype": (
        "(Tensor weight, Tensor weight_scales, Tensor? weight_zero_points, "
        "int weight_quant_min, int weight_quant_max, Tensor indices, *, "
        "ScalarType? dtype=None) -> Tensor"),
    "embedding_4bit": ("(Tensor weight, Tensor weight_scales, Tensor? weight_zero_points, "
                       "int weight_quant_min, int weight_quant_max, Tensor indices) -> Tensor"),
    "embedding_4bit.dtype": (
        "(Tensor weight, Tensor weight_scales, Tensor? weight_zero_points, "
        "int weight_quant_min, int weight_quant_max, Tensor indices, *, "
        "ScalarType? dtype=None) -> Tensor"),
    "mixed_linear": ("(Tensor input, Tensor weight, Tensor weight_scales, "
                     "Tensor? weight_zero_points, ScalarType? dtype=None) -> Tensor"),
}
_libs = []


def _op_defined(qualified: str) -> bool:
    name, _, overload = qualified.partition(".")
    try:
        packet = getattr(torch.ops.quantized_decomposed, name)
    except (AttributeError, RuntimeError):
        return False
    return (overload or "default") in packet.overloads()


def unpack_4bit(packed: torch.Tensor) -> torch.Tensor:
    """[R, D/2] uint8 -> [R, D] int8 in [-8, 7] (upstream's nibble order)."""
    p = packed.to(torch.int16)
    out = torch.stack(((p >> 4) & 15, p & 15), dim=-1).reshape(packed.shape[0], -1)
    return (out - 8).to(torch.int8)


def pack_4bit(q: torch.Tensor) -> torch.Tensor:
    """[R, D] int values in [-8, 7] (D even) -> [R, D/2] uint8, element 2k in
    the high nibble, each stored + 8 (upstream's EmbeddingQuantHandler)."""
    u = (q.to(torch.int16) + 8).to(torch.uint8).reshape(q.shape[0], -1, 2)
    return (u[..., 0] << 4) | u[..., 1]


def _dequant_rows(q: torch.Tensor, scales: torch.Tensor) -> torch.Tensor:
    r, d = q.shape
    s = scales.to(torch.float32).reshape(r, -1)
    g = d // s.shape[1]
    return (q.to(torch.float32).reshape(r, s.shape[1], g) * s.unsqueeze(-1)).reshape(r, d)


def _embedding(bits: int) -> Callable:
    def fn(weight, weight_scales, weight_zero_points, weight_quant_min, weight_quant_max,
           indices, *, dtype=None):
        q = (unpack_4bit(weight) if bits == 4 else weight).to(torch.float32)
        if weight_zero_points is not None:
            r, d = q.shape
            z = weight_zero_points.to(torch.float32).reshape(r, -1)
            q = (q.reshape(r, z.shape[1], -1) - z.unsqueeze(-1)).reshape(r, d)
        return F.embedding(indices, _dequant_rows(q, weight_scales)).to(
            dtype or weight_scales.dtype)
    return fn


def _embedding_fake(bits: int) -> Callable:
    def fn(weight, weight_scales, weight_zero_points, weight_quant_min, weight_quant_max,
           indices, *, dtype=None):
        d = weight.shape[1] * (8 // bits)
        return weight.new_empty((*indices.shape, d), dtype=dtype or weight_scales.dtype)
    return fn


def _mixed_linear(input, weight, weight_scales, weight_zero_points=None, dtype=None):
    w = _dequant_rows(weight, weight_scales)
    return F.linear(input.to(torch.float32), w).to(dtype or input.dtype)


def _mixed_linear_fake(input, weight, weight_scales, weight_zero_points=None, dtype=None):
    return input.new_empty((input.shape[0], weight.shape[0]), dtype=dtype or input.dtype)


_IMPLS = {
    "embedding_byte": (_embedding(8), _embedding_fake(8)),
    "embedding_byte.dtype": (_embedding(8), _embedding_fake(8)),
    "embedding_4bit": (_embedding(4), _embedding_fake(4)),
    "embedding_4bit.dtype": (_embedding(4), _embedding_fake(4)),
    "mixed_linear": (_mixed_linear, _mixed_linear_fake),
}


def register() -> None:
    """Define the functional ops PyTorch lacks (idempotent; see the module
    docstring). An op someone else defined keeps its kernels; one without
    an eager or fake kernel (upstream declares mixed_linear bare) gets ours."""
    import torch.ao.quantization.fx._decomposed  # noqa: F401  (the namespace)

    lib = None
    for qual, schema in _SCHEMAS.items():
        name = f"quantized_decomposed::{qual}"
        eager, fake = _IMPLS[qual]
        if not _op_defined(qual):
            if lib is None:
                lib = torch.library.Library("quantized_decomposed", "FRAGMENT")
                _libs.append(lib)
            lib.define(qual + schema)
        if not torch._C._dispatch_has_kernel_for_dispatch_key(name, "CompositeExplicitAutograd"):
            if lib is None:
                lib = torch.library.Library("quantized_decomposed", "FRAGMENT")
                _libs.append(lib)
            lib.impl(qual, eager, "CompositeExplicitAutograd")
        if not torch._C._dispatch_has_kernel_for_dispatch_key(name, "Meta"):
            try:
                torch.library.register_fake(name, fake, lib=lib)
            except RuntimeError:
                pass  # a fake kernel registered some other way


class Int8Linear(torch.nn.Module):
    """A linear layer with int8 per-output-channel weights (see the module
    docstring): ``mixed_linear`` on the flattened input, then the bias."""

    def __init__(self, qdata: torch.Tensor, scale: torch.Tensor,
                 bias: Optional[torch.Tensor]) -> None:
        super().__init__()
        register()
        n, k = int(qdata.shape[0]), int(qdata.shape[1])
        self.out_features, self.in_features = n, k
        self.register_buffer("weight", qdata.detach().to(torch.int8).contiguous())
        self.register_buffer("scales", scale.detach().to(torch.float32).reshape(n).contiguous())
        self.register_buffer("bias", None if bias is None
                             else bias.detach().to(torch.float32).contiguous())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x2 = x.reshape(-1, x.shape[-1])
        y = torch.ops.quantized_decomposed.mixed_linear(x2, self.weight, self.scales, None)
        if self.bias is not None:
            y = y + self.bias
        return y.reshape(*x.shape[:-1], self.out_features)

    def dequantized_weight(self) -> torch.Tensor:
        return self.weight.to(torch.float32) * self.scales.unsqueeze(1)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}"


class QuantizedEmbedding(torch.nn.Module):
    """An embedding table of 8- or 4-bit rows (see the module docstring)."""

    def __init__(self, qdata: torch.Tensor, scale: torch.Tensor, bits: int,
                 dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        register()
        if bits not in (4, 8):
            raise ValueError(f"embedding quantization: {bits} bits (4 or 8)")
        r, d = int(qdata.shape[0]), int(qdata.shape[1])
        groups = int(scale.numel()) // r
        if groups * r != scale.numel() or d % groups:
            raise ValueError(f"embedding quantization: {scale.numel()} scales for a "
                             f"[{r}, {d}] table")
        if bits == 4 and d % 2:
            raise ValueError(f"4-bit embedding: the dim {d} is odd (two values a byte)")
        self.bits, self.num_embeddings, self.embedding_dim = bits, r, d
        self.group_size, self.dtype = d // groups, dtype
        q = qdata.detach()
        self.register_buffer("weight", pack_4bit(q) if bits == 4
                             else q.to(torch.int8).contiguous())
        s = scale.detach().to(torch.float32)
        # per row: rank 1, as upstream squeezes it
        self.register_buffer("scales", (s.reshape(r) if groups == 1 else s.reshape(r, groups))
                             .contiguous())

    def forward(self, indices: torch.Tensor) -> torch.Tensor:
        qd = torch.ops.quantized_decomposed
        if self.bits == 8:
            return qd.embedding_byte.dtype(self.weight, self.scales, None, -128, 127, indices,
                                           dtype=self.dtype)
        return qd.embedding_4bit.dtype(self.weight, self.scales, None, -8, 7, indices,
                                       dtype=self.dtype)

    def dequantized_weight(self) -> torch.Tensor:
        q = unpack_4bit(self.weight) if self.bits == 4 else self.weight
        return _dequant_rows(q, self.scales)

    def extra_repr(self) -> str:
        return (f"{self.num_embeddings}, {self.embedding_dim}, bits={self.bits}, "
                f"group_size={self.group_size}")


def intx_config(bits: int, group_size: int = 0):
    """torchao's IntxWeightOnlyConfig the exporter quantizes with: int8 or
    int4, symmetric, per row (group_size 0) or per group."""
    from torchao.quantization import IntxWeightOnlyConfig
    from torchao.quantization.granularity import PerAxis, PerGroup
    return IntxWeightOnlyConfig(weight_dtype=getattr(torch, f"int{bits}"),
                                granularity=PerAxis(0) if not group_size
                                else PerGroup(group_size))


def _torchao_weight(mod: torch.nn.Module, name: str, bits: int):
    w = mod.weight
    qdata, scale = w.qdata, w.scale  # type: ignore[union-attr]
    zp = getattr(w, "zero_point", None)
    if zp is not None and bool((zp != 0).any()):
        raise ValueError(f"{name}: asymmetric weights (non-zero zero points)")
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    if int(qdata.min()) < lo or int(qdata.max()) > hi:
        raise ValueError(f"{name}: weights are not int{bits}")
    return qdata, scale


def quantize_linears_int8(model: torch.nn.Module,
                          filter_fn: Optional[Callable[[torch.nn.Module, str], bool]] = None
                          ) -> int:
    """Quantize every ``nn.Linear`` (that ``filter_fn`` takes) to int8 per
    output channel with torchao, then replace each by an ``Int8Linear``
    holding the same integers and scales; returns how many."""
    from torchao.quantization import quantize_

    def takes(m: torch.nn.Module, fqn: str) -> bool:
        return isinstance(m, torch.nn.Linear) and (filter_fn is None or filter_fn(m, fqn))

    quantize_(model, intx_config(8), filter_fn=takes)
    count = 0

    def walk(parent: torch.nn.Module, prefix: str) -> None:
        nonlocal count
        for name, child in parent.named_children():
            if isinstance(child, torch.nn.Linear) and hasattr(child.weight, "qdata"):
                qdata, scale = _torchao_weight(child, prefix + name, 8)
                setattr(parent, name, Int8Linear(qdata, scale, child.bias))
                count += 1
            else:
                walk(child, prefix + name + ".")

    walk(model, "")
    return count


def quantize_embeddings(model: torch.nn.Module, bits: int, group_size: int = 0,
                        dtype: torch.dtype = torch.float32) -> int:
    """Replace every ``nn.Embedding`` by a ``QuantizedEmbedding`` of ``bits``
    (8 or 4) with scales per row (``group_size`` 0) or per group, quantized
    by torchao; returns how many. Each table is quantized on its own (a
    linear sharing its weight keeps its own copy: quantize it too)."""
    from torchao.quantization import quantize_

    count = 0

    def walk(parent: torch.nn.Module, prefix: str) -> None:
        nonlocal count
        for name, child in parent.named_children():
            if isinstance(child, torch.nn.Embedding):
                d = child.embedding_dim
                if group_size and d % group_size:
                    raise ValueError(f"{prefix + name}: embedding dim {d} is not a multiple "
                                     f"of the group size {group_size}")
                if group_size == 1:
                    raise ValueError("embedding group size 1: the kernels need groups of 2+")
                tmp = torch.nn.Embedding(child.num_embeddings, d)
                tmp.weight = torch.nn.Parameter(child.weight.detach(), requires_grad=False)
                quantize_(tmp, intx_config(bits, group_size),
                          filter_fn=lambda m, f: isinstance(m, torch.nn.Embedding))
                qdata, scale = _torchao_weight(tmp, prefix + name, bits)
                setattr(parent, name, QuantizedEmbedding(qdata, scale, bits, dtype))
                count += 1
            else:
                walk(child, prefix + name + ".")

    walk(model, "")
    return count
