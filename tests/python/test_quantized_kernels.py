"""The quantized kernels (kernels/quantized) against PyTorch's reference
implementations, through programs edgetorch's exporter writes.

Each case is a one-operator program: a module calling
``torch.ops.quantized_decomposed.<op>`` exported with ``edgetorch.export``
(which must emit upstream's out variant, checked in the program's operator
table), run on edgetorch's C runtime and compared with the same call in
eager PyTorch:

* torch's own reference ops (torch/ao/quantization/fx/_decomposed.py:
  quantize/dequantize per tensor, per channel and per token,
  choose_qparams, choose_qparams_per_token_asymmetric) and upstream's
  Python reference of the embedding ops (exir/passes/
  _quant_patterns_and_replacements.py) must be matched bit for bit;
* mixed_mm, mixed_linear and add have no reference in PyTorch or in
  upstream's Python: their eager implementation here (registered for this
  test process only) follows upstream's C++ kernels step by step in numpy
  float32/float16, and the same program also runs on upstream's runtime.

Every program also runs on upstream's runtime (the format oracle, with
upstream's quantized kernels registered by importing
executorch.kernels.quantized): integer outputs within one quantization step,
float outputs within 2% of their range (upstream's choose_qparams and its
1.0f / (float)scale differ from PyTorch's reference, see kernels/quantized).
Named errors: out-of-range arguments written into a valid program are
refused with the operator and the argument named.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List, Sequence

import numpy as np
import pytest
import torch

import executorch.exir.passes._quant_patterns_and_replacements  # noqa: F401  embedding/mixed/add schemas
import executorch.kernels.quantized  # noqa: F401  upstream's quantized kernels, for its runtime
import torch.ao.quantization.fx._decomposed  # noqa: F401  torch's reference ops

import edgetorch
import edgetorch.runtime as rt
from edgetorch.export import oplib
from quantized_corpus import assert_agree, upstream_isolated
from test_ops_def import expected_signature, parse_ops_def

REPO = Path(__file__).resolve().parents[2]
QOPS_DEF = REPO / "kernels" / "quantized" / "ops.def"
qd = torch.ops.quantized_decomposed


# ---------------------------------------------------------------------------
# Eager implementations of the three ops PyTorch has no reference for:
# upstream's C++ arithmetic, operation by operation, in numpy.


def _np_dtype(t: torch.Tensor):
    return np.float16 if t.dtype == torch.float16 else np.float32


def _mixed_mm_ref(x, w, s, zp):
    assert zp is None
    T = _np_dtype(x)
    xn, wn, sn = x.numpy(), w.numpy(), s.numpy()
    m, n = xn.shape
    p = wn.shape[1]
    out = np.zeros((m, p), T)
    for i in range(m):
        for j in range(p):
            acc = T(0)
            for k in range(n):
                acc = T(acc + T(T(xn[i, k] * T(wn[k, j])) * sn[k]))
            out[i, j] = acc
    return torch.from_numpy(out)


def _mixed_linear_ref(x, w, s, zp, dtype=None):
    assert zp is None
    U = _np_dtype(x)
    T = {None: U, torch.float32: np.float32, torch.float16: np.float16,
         torch.float64: np.float64}[dtype]
    TU = np.result_type(T, U).type
    xn, wn, sn = x.numpy(), w.numpy(), s.numpy().reshape(w.shape[0], -1)
    m, n = xn.shape
    p = wn.shape[0]
    G = sn.shape[1]
    g = (n + G - 1) // G
    n_over_g = (n + g - 1) // g
    flat = sn.reshape(-1)
    out = np.zeros((m, p), T)
    for i in range(m):
        for j in range(p):
            acc = T(0)
            for k in range(0, n, g):
                ps = T(0)
                for k2 in range(k, min(k + g, n)):
                    ps = T(TU(ps) + TU(U(xn[i, k2] * U(wn[j, k2]))))
                acc = T(TU(acc) + TU(TU(ps) * TU(flat[j * n_over_g + k // g])))
            out[i, j] = acc
    return torch.from_numpy(out)


def _add_ref(a, a_s, a_z, a_min, a_max, b, b_s, b_z, b_min, b_max, o_s, o_z, o_min, o_max):
    da = qd.dequantize_per_tensor(a, a_s, a_z, a_min, a_max, a.dtype)
    db = qd.dequantize_per_tensor(b, b_s, b_z, b_min, b_max, b.dtype)
    return qd.quantize_per_tensor(da + db, o_s, o_z, o_min, o_max, a.dtype)


def _register_missing_impls() -> None:
    """Eager and fake kernels for the functional mixed_mm, mixed_linear and
    add, which upstream only declares."""
    impls = {"mixed_mm": _mixed_mm_ref, "mixed_linear": _mixed_linear_ref, "add": _add_ref}
    for name, fn in impls.items():
        qualified = f"quantized_decomposed::{name}"
        if torch._C._dispatch_has_kernel_for_dispatch_key(qualified, "CompositeExplicitAutograd"):
            continue
        torch.library.impl(qualified, "CompositeExplicitAutograd")(fn)

        def fake(*args, _name=name, **kw):
            if _name == "add":
                return torch.empty_like(args[0])
            x, w = args[0], args[1]
            rows = x.shape[0]
            cols = w.shape[1] if _name == "mixed_mm" else w.shape[0]
            dt = (args[4] if len(args) > 4 else kw.get("dtype")) or x.dtype
            return x.new_empty((rows, cols), dtype=dt)

        torch.library.register_fake(qualified)(fake)


_register_missing_impls()


# ---------------------------------------------------------------------------
# Cases


@dataclass
class Case:
    name: str
    fn: Callable[..., object]
    inputs: Callable[[], Sequence[torch.Tensor]]
    op: str  # the kernel the program must call
    # The program's output dtype is what the op's fake (meta) kernel says,
    # which for embedding_2bit/4bit.out is Float whatever the scales' dtype
    # while the eager reference returns the scales' dtype: compare the
    # reference converted to the program's dtype.
    ref_to_out_dtype: bool = False


class _Fn(torch.nn.Module):
    def __init__(self, fn: Callable[..., object]) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, *args: torch.Tensor):
        out = self.fn(*args)
        return tuple(out) if isinstance(out, (tuple, list)) else out


def _g(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def rnd(*shape: int, scale: float = 1.0, seed: int = 0, dtype=torch.float32) -> torch.Tensor:
    return (torch.randn(*shape, generator=_g(seed)) * scale).to(dtype)


def rint(*shape: int, lo: int, hi: int, dtype, seed: int = 0) -> torch.Tensor:
    return torch.randint(lo, hi + 1, shape, generator=_g(seed)).to(dtype)


def ties(scale: float, n: int = 24) -> torch.Tensor:
    """x / scale exactly k + 0.5 for k in [-n/2, n/2) (scale a power of two)."""
    return (torch.arange(n, dtype=torch.float32) - n // 2 + 0.5) * scale


S_ODD = 0.054818874155076865  # (float)(1 / S_ODD) != 1.0f / (float)S_ODD
S_ODD_F = float(np.float32(S_ODD))
BOUNDS = {torch.uint8: (0, 255), torch.int8: (-128, 127), torch.int16: (-32768, 32767),
          torch.uint16: (0, 65535), torch.int32: (-2**31, 2**31 - 1)}
QPT, QPT_T = "quantized_decomposed::quantize_per_tensor.out", "quantized_decomposed::quantize_per_tensor.Tensor_out"
DPT, DPT_T = "quantized_decomposed::dequantize_per_tensor.out", "quantized_decomposed::dequantize_per_tensor.Tensor_out"
QPC, DPC = "quantized_decomposed::quantize_per_channel.out", "quantized_decomposed::dequantize_per_channel.out"
QTK, DTK = "quantized_decomposed::quantize_per_token.out", "quantized_decomposed::dequantize_per_token.out"
CQ = "quantized_decomposed::choose_qparams.Tensor_out"
CQT = "quantized_decomposed::choose_qparams_per_token_asymmetric.out"


def _cases() -> List[Case]:  # noqa: C901 - one table of every case
    cs: List[Case] = []
    add = cs.append
    # ---- quantize_per_tensor ---------------------------------------------------
    for dt, (lo, hi) in BOUNDS.items():
        big = 3e5 if dt == torch.int32 else 3.0 * max(abs(lo), hi)  # int32: see kernels/quantized
        sc = 0.37 if dt != torch.int32 else 0.5
        zp = 0 if lo == 0 else 3
        zp = 100 if dt == torch.uint8 else zp
        add(Case(f"qpt_{str(dt)[6:]}_saturate", lambda x, dt=dt, lo=lo, hi=hi, sc=sc, zp=zp:
                 qd.quantize_per_tensor(x, sc, zp, lo, hi, dt),
                 lambda big=big, sc=sc: [rnd(3, 5, 7, scale=big * sc / 2.0, seed=1)], QPT))
    add(Case("qpt_ties", lambda x: qd.quantize_per_tensor(x, 0.25, 0, -128, 127, torch.int8),
             lambda: [ties(0.25, 40)], QPT))
    add(Case("qpt_ties_zp", lambda x: qd.quantize_per_tensor(x, 0.5, -3, -128, 127, torch.int8),
             lambda: [ties(0.5, 40)], QPT))
    add(Case("qpt_narrow_range", lambda x: qd.quantize_per_tensor(x, 0.01, 5, -100, 90, torch.int8),
             lambda: [rnd(4, 9, seed=2)], QPT))
    add(Case("qpt_scale_not_a_float", lambda x: qd.quantize_per_tensor(x, 0.1, 1, -128, 127, torch.int8),
             lambda: [torch.arange(-60, 61, dtype=torch.float32) * 0.1], QPT))
    # A double scale whose float reciprocal PyTorch's (float)(1.0 / scale)
    # and upstream's 1.0f / (float)scale round differently, with inputs near
    # the rounding ties: 162 of the 256 elements tell the two apart.
    add(Case("qpt_inv_scale_rounding", lambda x: qd.quantize_per_tensor(x, S_ODD, 0, -128, 127, torch.int8),
             lambda: [((torch.arange(-128, 128, dtype=torch.float32) + 0.5) * torch.tensor(S_ODD, dtype=torch.float32))],
             QPT))
    # a * (float(S_ODD) / 2) is (k + 0.5) * float(S_ODD) for odd a: the same ties
    add(Case("add_inv_scale_rounding", lambda a, b: qd.add(a, S_ODD_F / 2, 0, 0, 255, b, 0.5, 0, 0, 255,
                                                           S_ODD, 0, 0, 255),
             lambda: [torch.arange(0, 256, dtype=torch.uint8), torch.zeros(256, dtype=torch.uint8)],
             "quantized_decomposed::add.out"))
    add(Case("qpt_scale_1_3", lambda x: qd.quantize_per_tensor(x, 1.0 / 3.0, 0, 0, 255, torch.uint8),
             lambda: [torch.arange(0, 85, dtype=torch.float32) / 3.0], QPT))
    nan, inf = float("nan"), float("inf")
    add(Case("qpt_nan_inf_int8", lambda x: qd.quantize_per_tensor(x, 0.5, 1, -128, 127, torch.int8),
             lambda: [torch.tensor([nan, inf, -inf, -0.0, 0.0, -nan])], QPT))
    add(Case("qpt_nan_inf_uint8", lambda x: qd.quantize_per_tensor(x, 0.5, 7, 0, 255, torch.uint8),
             lambda: [torch.tensor([nan, inf, -inf, -0.0, 0.0])], QPT))
    # (+inf would hit PyTorch's platform-dependent int32 conversion of 2^31)
    add(Case("qpt_nan_int32", lambda x: qd.quantize_per_tensor(x, 0.5, 1, -2**31, 2**31 - 1, torch.int32),
             lambda: [torch.tensor([nan, -inf, 7.4, -1e12])], QPT))
    add(Case("qpt_empty", lambda x: qd.quantize_per_tensor(x, 0.1, 0, -128, 127, torch.int8),
             lambda: [torch.zeros(0, 3)], QPT))
    add(Case("qpt_half", lambda x: qd.quantize_per_tensor(x, 0.05, 2, -128, 127, torch.int8),
             lambda: [rnd(5, 3, dtype=torch.float16, seed=3)], QPT))
    add(Case("qpt_bf16", lambda x: qd.quantize_per_tensor(x, 0.05, 2, -128, 127, torch.int8),
             lambda: [rnd(5, 3, dtype=torch.bfloat16, seed=3)], QPT))
    add(Case("qpt_tensor", lambda x, s, z: qd.quantize_per_tensor.tensor(x, s, z, 0, 255, torch.uint8),
             lambda: [rnd(2, 3, 5, seed=4), torch.tensor([0.013], dtype=torch.float64),
                      torch.tensor([117], dtype=torch.int64)], QPT_T))
    add(Case("qpt_tensor_f32_scale", lambda x, s, z: qd.quantize_per_tensor.tensor(x, s, z, -128, 127, torch.int8),
             lambda: [rnd(7, seed=5), torch.tensor([0.02]), torch.tensor([-4], dtype=torch.int64)], QPT_T))
    # ---- dequantize_per_tensor -------------------------------------------------
    for dt, (lo, hi) in BOUNDS.items():
        zp = 0 if lo == 0 else -7
        add(Case(f"dpt_{str(dt)[6:]}", lambda q, dt=dt, lo=lo, hi=hi, zp=zp:
                 qd.dequantize_per_tensor(q, 0.0123, zp, lo, hi, dt),
                 lambda dt=dt, lo=lo, hi=hi: [rint(3, 7, 5, lo=lo, hi=hi, dtype=dt, seed=6)], DPT))
    for odt in (torch.float16, torch.bfloat16, torch.float64):
        add(Case(f"dpt_out_{str(odt)[6:]}", lambda q, odt=odt:
                 qd.dequantize_per_tensor(q, 0.0173, 3, -128, 127, torch.int8, out_dtype=odt),
                 lambda: [rint(4, 9, lo=-128, hi=127, dtype=torch.int8, seed=7)], DPT))
    add(Case("dpt_int32_beyond_2p24", lambda q: qd.dequantize_per_tensor(q, 1.5, 1, -2**31, 2**31 - 1, torch.int32),
             lambda: [torch.tensor([2**24 + 1, 2**30 + 3, -2**31, 2**31 - 1, 0], dtype=torch.int32)], DPT))
    add(Case("dpt_empty", lambda q: qd.dequantize_per_tensor(q, 0.1, 0, -128, 127, torch.int8),
             lambda: [torch.zeros(2, 0, dtype=torch.int8)], DPT))
    add(Case("dpt_tensor", lambda q, s, z: qd.dequantize_per_tensor.tensor(q, s, z, 0, 255, torch.uint8),
             lambda: [rint(3, 4, lo=0, hi=255, dtype=torch.uint8, seed=8),
                      torch.tensor([0.031], dtype=torch.float64), torch.tensor([131])], DPT_T))
    # ---- per channel -----------------------------------------------------------
    shape = (3, 4, 5)
    for axis in (0, 1, 2, -1):
        c = shape[axis]
        add(Case(f"qpc_axis{axis}", lambda x, s, z, axis=axis:
                 qd.quantize_per_channel(x, s, z, axis, -128, 127, torch.int8),
                 lambda c=c: [rnd(*shape, scale=2, seed=9), torch.rand(c, generator=_g(1)) * 0.05 + 0.005,
                              torch.randint(-10, 10, (c,), generator=_g(2))], QPC))
        add(Case(f"dpc_axis{axis}", lambda q, s, z, axis=axis:
                 qd.dequantize_per_channel(q, s, z, axis, -128, 127, torch.int8),
                 lambda c=c: [rint(*shape, lo=-128, hi=127, dtype=torch.int8, seed=10),
                              torch.rand(c, generator=_g(3)) * 0.05 + 0.005,
                              torch.randint(-10, 10, (c,), generator=_g(4))], DPC))
    add(Case("qpc_f64_scales_uint8", lambda x, s, z: qd.quantize_per_channel(x, s, z, 1, 0, 255, torch.uint8),
             lambda: [rnd(2, 3, 7, seed=11), torch.tensor([0.011, 0.1, 1.0 / 3.0], dtype=torch.float64),
                      torch.tensor([128, 0, 255])], QPC))
    add(Case("qpc_ties_saturate", lambda x, s, z: qd.quantize_per_channel(x, s, z, 0, -128, 127, torch.int8),
             lambda: [torch.stack([ties(0.25, 20), ties(0.5, 20) * 100]), torch.tensor([0.25, 0.5]),
                      torch.tensor([0, 1], dtype=torch.int32)], QPC))
    add(Case("qpc_float_zero_points", lambda x, s, z: qd.quantize_per_channel(x, s, z, 1, -128, 127, torch.int8),
             lambda: [rnd(4, 3, seed=12), torch.tensor([0.01, 0.02, 0.03]), torch.tensor([0.0, 1.0, -2.0])], QPC))
    add(Case("dpc_no_zero_points", lambda q, s: qd.dequantize_per_channel(q, s, None, 0, -127, 127, torch.int8),
             lambda: [rint(5, 3, 3, lo=-127, hi=127, dtype=torch.int8, seed=13), torch.rand(5, generator=_g(5))], DPC))
    add(Case("dpc_f64_scales_half_out", lambda q, s, z: qd.dequantize_per_channel(
                 q, s, z, 1, 0, 255, torch.uint8, out_dtype=torch.float16),
             lambda: [rint(2, 4, lo=0, hi=255, dtype=torch.uint8, seed=14),
                      torch.tensor([0.1, 0.013, 0.7, 1.0 / 3.0], dtype=torch.float64),
                      torch.tensor([0, 128, 255, 3])], DPC))
    add(Case("qpc_int16_saturate", lambda x, s, z: qd.quantize_per_channel(x, s, z, 0, -32768, 32767, torch.int16),
             lambda: [rnd(3, 5, scale=4e4, seed=70), torch.tensor([0.5, 1.0, 2.0], dtype=torch.float64),
                      torch.tensor([0, -100, 100])], QPC))
    add(Case("dpc_int32", lambda q, s, z: qd.dequantize_per_channel(q, s, z, -1, -2**31, 2**31 - 1, torch.int32),
             lambda: [rint(2, 3, lo=-2**31, hi=2**31 - 1, dtype=torch.int32, seed=71), torch.tensor([0.5, 1e-3, 7.0]),
                      torch.tensor([0, 2**31 - 1, -2**31])], DPC))
    add(Case("dpc_empty", lambda q, s, z: qd.dequantize_per_channel(q, s, z, 1, -128, 127, torch.int8),
             lambda: [torch.zeros(0, 3, dtype=torch.int8), torch.ones(3), torch.zeros(3, dtype=torch.int64)], DPC))
    # ---- choose_qparams --------------------------------------------------------
    for tag, mk, (lo, hi), dt in [
        ("mixed", lambda: rnd(3, 5, 7, seed=15), (-128, 127), torch.int8),
        ("positive", lambda: rnd(11, seed=16).abs() + 0.5, (0, 255), torch.uint8),
        ("negative", lambda: -rnd(2, 9, seed=17).abs() - 0.1, (-128, 127), torch.int8),
        ("constant", lambda: torch.zeros(4, 4), (-128, 127), torch.int8),
        ("tiny", lambda: rnd(6, seed=18) * 1e-7, (-128, 127), torch.int8),
        ("int16", lambda: rnd(33, seed=19) * 50, (-32768, 32767), torch.int16),
    ]:
        add(Case(f"cq_{tag}", lambda x, lo=lo, hi=hi, dt=dt: qd.choose_qparams.tensor(x, lo, hi, 2**-24, dt),
                 lambda mk=mk: [mk()], CQ))
    add(Case("cq_then_quantize", lambda x: (lambda s, z: (s, z, qd.quantize_per_tensor.tensor(x, s, z, -128, 127, torch.int8)))(
                 *qd.choose_qparams.tensor(x, -128, 127, 2**-24, torch.int8)),
             lambda: [rnd(2, 17, seed=20) * 3], CQ))
    for tag, mk in [("rows", lambda: rnd(2, 3, 17, seed=21) * 4),
                    ("one_row", lambda: rnd(9, seed=22)),
                    ("zero_and_signed_rows", lambda: torch.stack([torch.zeros(5), rnd(5, seed=23).abs(),
                                                                    -rnd(5, seed=24).abs(), rnd(5, seed=25)]))]:
        add(Case(f"cqt_{tag}", lambda x: qd.choose_qparams_per_token_asymmetric(x, torch.int8),
                 lambda mk=mk: [mk()], CQT))
    # ---- per token ---------------------------------------------------------------
    def tok_params(x):
        return qd.choose_qparams_per_token_asymmetric(x, torch.int8)

    add(Case("qtk_from_choose", lambda x: (lambda s, z: qd.quantize_per_token(x, s, z, -128, 127, torch.int8))(*tok_params(x)),
             lambda: [rnd(2, 3, 13, seed=26) * 2], QTK))
    add(Case("qtk_f32_scales_ties", lambda x, s, z: qd.quantize_per_token(x, s, z, -128, 127, torch.int8),
             lambda: [torch.stack([ties(0.25, 16), ties(0.5, 16)]), torch.tensor([[0.25], [0.5]]),
                      torch.tensor([[0], [3]])], QTK))
    add(Case("qtk_uint8_saturate", lambda x, s, z: qd.quantize_per_token(x, s, z, 0, 255, torch.uint8),
             lambda: [rnd(3, 6, seed=27) * 10, torch.tensor([[0.02], [0.05], [0.1]], dtype=torch.float64),
                      torch.tensor([[128], [0], [255]])], QTK))
    add(Case("dtk_roundtrip", lambda x: (lambda s, z: qd.dequantize_per_token(
                 qd.quantize_per_token(x, s, z, -128, 127, torch.int8), s, z, -128, 127, torch.int8, torch.float32))(*tok_params(x)),
             lambda: [rnd(4, 2, 7, seed=28)], DTK))
    add(Case("dtk_half_out", lambda q, s, z: qd.dequantize_per_token(q, s, z, -128, 127, torch.int8, torch.float16),
             lambda: [rint(3, 5, lo=-128, hi=127, dtype=torch.int8, seed=29),
                      torch.tensor([[0.01], [0.3], [1.0 / 3.0]], dtype=torch.float64), torch.tensor([[0], [5], [-9]])], DTK))
    add(Case("qtk_empty", lambda x, s, z: qd.quantize_per_token(x, s, z, -128, 127, torch.int8),
             lambda: [torch.zeros(0, 5), torch.ones(0, 1, dtype=torch.float64), torch.zeros(0, 1, dtype=torch.int64)], QTK))
    add(Case("dtk_empty", lambda q, s, z: qd.dequantize_per_token(q, s, z, -128, 127, torch.int8, torch.float32),
             lambda: [torch.zeros(2, 0, dtype=torch.int8), torch.ones(2, 1, dtype=torch.float64),
                      torch.zeros(2, 1, dtype=torch.int64)], DTK))
    add(Case("cqt_empty", lambda x: qd.choose_qparams_per_token_asymmetric(x, torch.int8),
             lambda: [torch.zeros(0, 4)], CQT))
    # ---- embeddings --------------------------------------------------------------
    def emb_inputs(rows, packed, groups, wdt, sdt, zp, idx_shape, idt, seed):
        g = _g(seed)
        lo, hi = (0, 255) if wdt == torch.uint8 else (-128, 127)
        w = torch.randint(lo, hi + 1, (rows, packed), generator=g).to(wdt)
        sshape = (rows, groups) if groups else (rows,)
        s = (torch.rand(sshape, generator=g) * 0.1 + 0.01).to(sdt)
        z = (torch.randint(-5, 5, sshape, generator=g).to(sdt) if zp else None)
        idx = torch.randint(0, rows, idx_shape, generator=g).to(idt)
        return [w, s, idx] + ([z] if zp else [])

    for bits, op, (qlo, qhi) in [(8, "embedding_byte", (-128, 127)), (4, "embedding_4bit", (-8, 7)),
                                 (2, "embedding_2bit", (-2, 1))]:
        packed = {8: 12, 4: 6, 2: 3}[bits]
        fn = getattr(qd, op)
        for tag, groups, wdt, sdt, zp, idx_shape, idt in [
            ("rowwise", 0, torch.uint8, torch.float32, False, (5,), torch.int64),
            ("groups_zp", 3, torch.uint8, torch.float32, True, (2, 3), torch.int64),
            ("int8_weight_int_idx", 2, torch.int8, torch.float32, True, (4,), torch.int32),
            ("half_scales", 4, torch.uint8, torch.float16, True, (3,), torch.int64),
        ]:
            if bits == 8 and wdt == torch.uint8 and tag == "rowwise":
                qlo8, qhi8 = 0, 255
            else:
                qlo8, qhi8 = qlo, qhi
            if zp:
                f = (lambda w, s, i, z, fn=fn, a=qlo8, b=qhi8: fn.default(w, s, z, a, b, i))
            else:
                f = (lambda w, s, i, fn=fn, a=qlo8, b=qhi8: fn.default(w, s, None, a, b, i))
            add(Case(f"{op}_{tag}", f, lambda a=(7, packed, groups, wdt, sdt, zp, idx_shape, idt, 30 + bits):
                     emb_inputs(*a), f"quantized_decomposed::{op}.out",
                     ref_to_out_dtype=bits != 8 and sdt != torch.float32))
        add(Case(f"{op}_dtype_float_from_half", lambda w, s, i, z, fn=fn, a=qlo, b=qhi:
                 fn.dtype(w, s, z, a, b, i, dtype=torch.float32),
                 lambda packed=packed: emb_inputs(5, packed, 2, torch.uint8, torch.float16, True, (3,), torch.int64, 40),
                 f"quantized_decomposed::{op}.dtype_out"))
    add(Case("embedding_4bit_no_indices", lambda w, s, i: qd.embedding_4bit.default(w, s, None, -8, 7, i),
             lambda: emb_inputs(3, 4, 0, torch.uint8, torch.float32, False, (0,), torch.int64, 45),
             "quantized_decomposed::embedding_4bit.out"))
    # ---- mixed_mm / mixed_linear / add (upstream's arithmetic) ---------------------
    add(Case("mixed_mm", lambda x, w, s: qd.mixed_mm(x, w, s, None),
             lambda: [rnd(3, 11, seed=50), rint(11, 5, lo=-128, hi=127, dtype=torch.int8, seed=51),
                      torch.rand(11, generator=_g(52)) * 0.1], "quantized_decomposed::mixed_mm.out"))
    add(Case("mixed_mm_half", lambda x, w, s: qd.mixed_mm(x, w, s, None),
             lambda: [rnd(2, 9, seed=53, dtype=torch.float16), rint(9, 4, lo=-128, hi=127, dtype=torch.int8, seed=54),
                      (torch.rand(9, generator=_g(55)) * 0.1).half()], "quantized_decomposed::mixed_mm.out"))
    for tag, G, n, dt, xdt in [("per_row", 0, 13, None, torch.float32), ("groups", 4, 16, None, torch.float32),
                               ("ragged_groups", 3, 10, None, torch.float32), ("half_in_float_out", 2, 8, torch.float32, torch.float16),
                               ("half", 2, 8, None, torch.float16)]:
        def lin_inputs(G=G, n=n, xdt=xdt):
            s = torch.rand((5, G) if G else (5,), generator=_g(56)) * 0.05
            return [rnd(3, n, seed=57, dtype=xdt), rint(5, n, lo=-128, hi=127, dtype=torch.int8, seed=58), s.to(xdt)]
        add(Case(f"mixed_linear_{tag}", lambda x, w, s, dt=dt: qd.mixed_linear(x, w, s, None, dt), lin_inputs,
                 "quantized_decomposed::mixed_linear.out"))
    add(Case("mixed_linear_no_rows", lambda x, w, s: qd.mixed_linear(x, w, s, None, None),
             lambda: [torch.zeros(0, 6), rint(4, 6, lo=-128, hi=127, dtype=torch.int8, seed=72), torch.rand(4)],
             "quantized_decomposed::mixed_linear.out"))
    add(Case("add_empty", lambda a, b: qd.add(a, 0.1, 0, 0, 255, b, 0.1, 0, 0, 255, 0.2, 0, 0, 255),
             lambda: [torch.zeros(0, 3, dtype=torch.uint8), torch.zeros(0, 3, dtype=torch.uint8)],
             "quantized_decomposed::add.out"))
    add(Case("add_int8", lambda a, b: qd.add(a, 0.05, 3, -128, 127, b, 0.02, -10, -128, 127, 0.06, 1, -128, 127),
             lambda: [rint(3, 5, 7, lo=-128, hi=127, dtype=torch.int8, seed=60),
                      rint(3, 5, 7, lo=-128, hi=127, dtype=torch.int8, seed=61)], "quantized_decomposed::add.out"))
    add(Case("add_uint8_saturate", lambda a, b: qd.add(a, 0.5, 128, 0, 255, b, 0.25, 0, 0, 255, 0.1, 100, 0, 255),
             lambda: [rint(4, 9, lo=0, hi=255, dtype=torch.uint8, seed=62),
                      rint(4, 9, lo=0, hi=255, dtype=torch.uint8, seed=63)], "quantized_decomposed::add.out"))
    return cs


CASES = _cases()


# ---------------------------------------------------------------------------
# Export and run


def _export(case: Case, inputs: Sequence[torch.Tensor]) -> bytes:
    return edgetorch.export(_Fn(case.fn), tuple(inputs)).buffer


def _flat(ref) -> List[torch.Tensor]:
    return list(ref) if isinstance(ref, (tuple, list)) else [ref]


def _np(t: torch.Tensor) -> np.ndarray:
    return t.float().numpy() if t.dtype == torch.bfloat16 else t.detach().numpy()


def _as_comparable(a: np.ndarray) -> np.ndarray:
    from tolerance import dtype_name  # bfloat16 comes back as its bits or a custom dtype

    return a.astype(np.float32) if dtype_name(a) == "bfloat16" else a


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_kernel_matches_reference(case: Case) -> None:
    inputs = list(case.inputs())
    buf = _export(case, inputs)
    prog = rt.load_program(buf)
    ops = prog.metadata("forward").operators
    assert case.op in ops, f"the program lacks {case.op}: {ops}"
    outs = prog.load_method("forward").execute(inputs)
    with torch.no_grad():
        refs = _flat(_Fn(case.fn)(*[t.clone() for t in inputs]))
    assert len(outs) == len(refs)
    for k, (got, want) in enumerate(zip(outs, refs)):
        got = _as_comparable(np.asarray(got))
        if case.ref_to_out_dtype:
            assert got.dtype == np.float32, got.dtype
            want = want.float()
        w = _np(want)
        assert got.shape == w.shape, (k, got.shape, w.shape)
        assert got.dtype == w.dtype or want.dtype == torch.bfloat16, (k, got.dtype, w.dtype)
        np.testing.assert_array_equal(got, w, err_msg=f"output {k} of {case.name}")


# ---------------------------------------------------------------------------
# The same programs on upstream's runtime


# Upstream's kernels refuse (abort the process on) inputs PyTorch's
# reference accepts, their dtype lists being narrower: these cases run on
# edgetorch only. (What each refusal says, from upstream's kernels.)
UPSTREAM_REFUSES = {
    "dpt_out_bfloat16": "Unhandled output dtype 15",
    "qpc_axis0": "scale must be Double", "qpc_axis1": "scale must be Double",
    "qpc_axis2": "scale must be Double", "qpc_axis-1": "scale must be Double",
    "qtk_f32_scales_ties": "scale must be Double",
    "embedding_byte_int8_weight_int_idx": "indices must be Long",
    "embedding_4bit_int8_weight_int_idx": "packed weight must be Byte",
    "embedding_2bit_int8_weight_int_idx": "packed weight must be Byte",
    "embedding_byte_dtype_float_from_half": "zero points must have out's dtype",
    "embedding_4bit_dtype_float_from_half": "zero points must have out's dtype",
    "embedding_2bit_dtype_float_from_half": "zero points must have out's dtype",
    "embedding_4bit_half_scales": "zero points must have out's dtype",
    "embedding_2bit_half_scales": "zero points must have out's dtype",
    "qpt_bf16": "input must be Float or Half",
    "qpt_tensor_f32_scale": "scale must be Double (InvalidArgument)",
    "qpc_ties_saturate": "zero points must be Long",
    "qpc_float_zero_points": "zero points must be Long",
    "add_int8": "quant ranges must lie in [0, 255]",
}
# Where upstream's kernels compute something else than PyTorch's reference
# (and edgetorch follows PyTorch, see kernels/quantized):
UPSTREAM_DIFFERS = {
    "dpt_int32_beyond_2p24": "int32 (q - zero_point) wraps",
    "dpc_int32": "int32 (q - zero_point) wraps",
    "qpt_nan_inf_int8": "NaN quantizes to quant_min (PyTorch on x86: 0)",
    "qpt_nan_inf_uint8": "NaN quantizes to quant_min (PyTorch on x86: 0)",
    "cq_constant": "a zero range gives scale 0.1 (PyTorch: eps)",
    "cq_tiny": "scales below 6.1e-5 become 6.1e-5 (PyTorch: eps)",
    "cqt_zero_and_signed_rows": "an all-zero row gives scale 0.1 (PyTorch: FLT_EPSILON)",
}


_UPSTREAM_CASES = [c for c in CASES if c.name not in UPSTREAM_REFUSES and c.name not in UPSTREAM_DIFFERS]


@pytest.mark.parametrize("case", _UPSTREAM_CASES, ids=[c.name for c in _UPSTREAM_CASES])
def test_upstream_runtime_agrees(case: Case) -> None:
    inputs = list(case.inputs())
    buf = _export(case, inputs)
    ours = rt.load_program(buf).load_method("forward").execute(inputs)
    try:
        theirs = upstream_isolated(buf, inputs)
    except RuntimeError as e:
        pytest.fail(f"{case.name}: {e}")
    assert_agree([np.asarray(o) for o in ours], theirs, case.name)


# ---------------------------------------------------------------------------
# The kernel table


def test_table_is_upstreams_quantized_library() -> None:
    """Exactly the operators of upstream's quantized.yaml, sorted, each
    registered once, with the signature of upstream's schema and of the
    exporter's out-variant schema."""
    import executorch

    yaml_text = (Path(executorch.__path__[0]) / "kernels" / "quantized" / "quantized.yaml").read_text()
    upstream = set(re.findall(r"^- func: (quantized_decomposed::[A-Za-z0-9_.]+)\(", yaml_text, re.M))
    every = parse_ops_def(QOPS_DEF)
    assert [e[0].encode() for e in every] == sorted(e[0].encode() for e in every)
    # torchao's affine ops share the table (test_quantized_affine.py checks them)
    assert {e[0].split("::")[0] for e in every} == {"quantized_decomposed", "torchao"}
    entries = [e for e in every if e[0].startswith("quantized_decomposed::")]
    names = [e[0] for e in entries]
    assert set(names) == upstream, (set(names) ^ upstream)
    assert len(set(e[2] for e in entries)) == len(entries)
    exporter = {op.kernel: op for op in oplib.QUANTIZED_OUT.values()}
    assert set(exporter) == upstream
    for name, sig, _ in entries:
        ns_name, _, overload = name.partition(".")
        schema = getattr(getattr(torch.ops.quantized_decomposed, ns_name.split("::")[1]), overload)._schema
        assert sig == expected_signature(schema), (name, sig, str(schema))
        ours = exporter[name].schema
        assert sig == expected_signature(ours), name
        # the same arguments in the same order (upstream's Python and its
        # yaml disagree on where embedding_2bit.dtype_out's "*" goes, which
        # changes nothing in a KernelCall)
        assert [(a.name, str(a.type), a.is_out) for a in ours.arguments] == \
            [(a.name, str(a.type), a.is_out) for a in schema.arguments], name
        assert [str(r.type) for r in ours.returns] == [str(r.type) for r in schema.returns], name
    assert set(names) <= set(rt.kernel_names())
    assert set(names) <= oplib.kernel_library()


def test_functions_defined_in_op_files() -> None:
    defined = set()
    for f in sorted((REPO / "kernels" / "quantized").glob("op_*.c")):
        defined |= set(re.findall(r"^et_status\s+(et_q_[A-Za-z0-9_]+)\s*\(", f.read_text(), re.M))
    assert defined == {e[2] for e in parse_ops_def(QOPS_DEF)}


def test_tables_searched_optimized_quantized_portable() -> None:
    """The module's default registry (what kernel_names() lists, in search
    order, each name once) searches the optimized table, then the quantized
    one, then the portable one."""
    names = list(rt.kernel_names())
    optimized = REPO / "kernels" / "optimized" / "ops.def"
    opt_names = {e[0] for e in parse_ops_def(optimized)} if optimized.is_file() else set()
    # the quantized table's names the optimized table does not take first
    # (an optimized quantized_decomposed:: kernel falls back to the quantized one)
    want = [e[0] for e in parse_ops_def(QOPS_DEF) if e[0] not in opt_names]
    quantized = [names.index(n) for n in want]
    assert quantized == list(range(quantized[0], quantized[0] + len(want))), quantized
    if opt_names:
        opt = [names.index(n) for n in opt_names]
        assert max(opt) < quantized[0], (max(opt), quantized[0])
    assert quantized[-1] < names.index("aten::abs.out")  # a portable-only operator


# ---------------------------------------------------------------------------
# Named errors from damaged arguments


def _set_int_arg(buf: bytes, kernel: str, index: int, value: int) -> bytes:
    """The program with argument `index` of the first call of `kernel` (an
    Int value) set to `value`."""
    from test_bad_files import _schema, _ser

    S, P = _schema(), _ser()
    pte = P.deserialize_pte_binary(buf)
    plan = pte.program.execution_plan[0]
    ops = [o.name + ("." + o.overload if o.overload else "") for o in plan.operators]
    for ins in plan.chains[0].instructions:
        a = ins.instr_args
        if isinstance(a, S.KernelCall) and ops[a.op_index] == kernel:
            v = plan.values[a.args[index]]
            assert isinstance(v.val, S.Int), v
            v.val = S.Int(int_val=value)
            return bytes(P.serialize_pte_binary(copy.copy(pte)))
    raise LookupError(kernel)


@pytest.mark.parametrize("case_name,arg,value,needle", [
    ("qpt_ties", 3, -129, "quant_min -129 is below the lowest Char value -128"),
    ("qpt_ties", 4, 1000, "quant_max 1000 is above the highest Char value 127"),
    ("qpt_ties", 5, 6, "dtype: Float is not a quantized dtype"),
    ("qpt_ties", 5, 2, "out: dtype Char does not match the dtype argument Short"),
    ("dpt_int8", 5, 0, "input: dtype Char does not match the dtype argument Byte"),
    ("dpt_out_float64", 6, 4, "out_dtype: expected dtype Float, Double, Half or BFloat16, got Long"),
    ("qpc_axis1", 3, 3, "axis: dimension 3 out of range for rank 3"),
    ("dpc_axis0", 3, 1, "scales: 3 values for 4 channels at axis 1"),
    ("embedding_4bit_rowwise", 3, -7, "expected weight_quant_min -8 and weight_quant_max 7"),
    ("cq_mixed", 1, 5, "quant_min 5 and quant_max 127 must include 0"),
    ("mixed_linear_half_in_float_out", 4, 4, "out: dtype Float does not match dtype Long"),
])
def test_named_errors(case_name: str, arg: int, value: int, needle: str) -> None:
    case = next(c for c in CASES if c.name == case_name)
    inputs = list(case.inputs())
    buf = _set_int_arg(_export(case, inputs), case.op, arg, value)
    with pytest.raises(rt.EdgetorchError) as ei:
        rt.load_program(buf).load_method("forward").execute(inputs)
    msg = str(ei.value)
    assert needle in msg, msg
    assert case.op in msg, msg


def test_case_count_is_modest() -> None:
    assert 60 <= len(CASES) <= 120, len(CASES)
