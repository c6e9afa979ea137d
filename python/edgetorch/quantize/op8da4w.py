"""8da4w linears as one operator, for the XNNPACK lowering.

``edgetorch_quant::linear_8da4w(x, qdata, scale, bias, group_size)``:
``x`` float32 ``[..., K]`` quantized per token to int8 at run time
(asymmetric, as torchao's Int8DynamicActivationIntxWeightConfig), times
``qdata`` int8 ``[N, K]`` holding int4 values in [-8, 7] (symmetric, zero
point 0) with one float32 ``scale`` per group of ``group_size`` input
channels (``[N, K / group_size]``), plus an optional float32 ``bias [N]``.

It exists so that ``XnnpackPartitioner`` sees each 8da4w linear as one node
and writes it as upstream's lowering does: an XNNConvert fp32 -> qdint8 and
an XNNFullyConnected with qbint4 blockwise weights (bf16 scales). The op has
an eager reference (for tests) and a fake kernel (for export), but no
runtime kernel: a program holding it must delegate it to XnnpackBackend.
"""

from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F

NAMESPACE = "edgetorch_quant"
QUALNAME = "edgetorch_quant::linear_8da4w"
_lib: Optional[torch.library.Library] = None


def _reference(x: torch.Tensor, qdata: torch.Tensor, scale: torch.Tensor,
               bias: Optional[torch.Tensor], group_size: int) -> torch.Tensor:
    # per-token asymmetric int8 (torchao's choose_qparams_affine, ASYMMETRIC)
    xf = x.to(torch.float32)
    lo = torch.clamp(xf.amin(dim=-1, keepdim=True), max=0.0)
    hi = torch.clamp(xf.amax(dim=-1, keepdim=True), min=0.0)
    s = torch.clamp((hi - lo) / 255.0, min=torch.finfo(torch.float32).eps)
    zp = torch.clamp(-128 - torch.round(lo / s), -128, 127)
    xq = torch.clamp(torch.round(xf / s) + zp, -128, 127)
    xd = (xq - zp) * s
    n, k = qdata.shape
    w = (qdata.to(torch.float32).reshape(n, k // group_size, group_size)
         * scale.to(torch.float32).reshape(n, k // group_size, 1)).reshape(n, k)
    return F.linear(xd, w, bias).to(x.dtype)


def register() -> None:
    """Define the operator once per process (idempotent)."""
    global _lib
    if _lib is not None or hasattr(getattr(torch.ops, NAMESPACE), "linear_8da4w"):
        return
    lib = torch.library.Library(NAMESPACE, "DEF")
    lib.define("linear_8da4w(Tensor x, Tensor qdata, Tensor scale, Tensor? bias, "
               "int group_size) -> Tensor")
    lib.impl("linear_8da4w", _reference, "CompositeExplicitAutograd")

    def fake(x, qdata, scale, bias, group_size):
        return x.new_empty((*x.shape[:-1], qdata.shape[0]))

    torch.library.register_fake(f"{NAMESPACE}::linear_8da4w", fake, lib=lib)
    _lib = lib


def op():
    register()
    return torch.ops.edgetorch_quant.linear_8da4w.default


class Linear8da4wOp(torch.nn.Module):
    """A linear layer whose forward is the single ``linear_8da4w`` node."""

    def __init__(self, qdata: torch.Tensor, scale: torch.Tensor,
                 bias: Optional[torch.Tensor], group_size: int) -> None:
        super().__init__()
        register()
        n, k = int(qdata.shape[0]), int(qdata.shape[1])
        if k % group_size:
            raise ValueError(f"8da4w: in_features {k} is not a multiple of group size "
                             f"{group_size}")
        self.out_features, self.in_features, self.group_size = n, k, int(group_size)
        self.register_buffer("qdata", qdata.detach().to(torch.int8).contiguous())
        self.register_buffer("scale", scale.detach().to(torch.float32)
                             .reshape(n, k // group_size).contiguous())
        self.register_buffer("bias", None if bias is None
                             else bias.detach().to(torch.float32).contiguous())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.ops.edgetorch_quant.linear_8da4w(x, self.qdata, self.scale, self.bias,
                                                      self.group_size)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"group_size={self.group_size}")


def swap_torchao_linears(model: torch.nn.Module) -> int:
    """Replace every linear that torchao's ``quantize_`` (Int8DynamicActivationIntxWeightConfig,
    int4, PerGroup) converted by a Linear8da4wOp with the same integers and
    scales; returns how many. Asymmetric weights (a non-zero zero point)
    are refused: XNNPACK's qbint4 is symmetric."""
    count = 0

    def walk(parent: torch.nn.Module) -> None:
        nonlocal count
        for name, child in parent.named_children():
            w = getattr(child, "weight", None)
            if isinstance(child, torch.nn.Linear) and hasattr(w, "qdata"):
                qdata, scale = w.qdata, w.scale  # type: ignore[union-attr]
                zp = getattr(w, "zero_point", None)
                if zp is not None and bool((zp != 0).any()):
                    raise ValueError(f"8da4w: {name} has asymmetric int4 weights (non-zero "
                                     "zero points); XNNPACK's qbint4 is symmetric")
                k = int(qdata.shape[1])
                g = k // int(scale.reshape(qdata.shape[0], -1).shape[1])
                if int(qdata.min()) < -8 or int(qdata.max()) > 7:
                    raise ValueError(f"8da4w: {name} weights are not int4")
                setattr(parent, name, Linear8da4wOp(qdata, scale, child.bias, g))
                count += 1
            else:
                walk(child)

    walk(model)
    return count
