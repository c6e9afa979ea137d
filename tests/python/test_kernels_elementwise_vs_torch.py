"""The elementwise math kernels against PyTorch eager, through real programs.

Each case is a one-operator model exported by upstream ExecuTorch
(`executorch.exir.to_edge(torch.export.export(...)).to_executorch()`; ops
that to_edge would decompose are kept with `preserve_ops`). The program runs
on edgetorch's runtime through the Python binding and its output is compared
with eager PyTorch on the same inputs: float32 at rtol 1.3e-6 / atol 1e-5,
float64 at 1e-7, float16 and bfloat16 at the dtype-derived tolerance of
tests/python/tolerance.py (a few units in their last place; eager's
reduced-precision paths depend on the CPU), integers and Bool exactly. Inputs include NaN, +-inf, +-0 and halves,
broadcasting, empty tensors and channels-last layouts. Every case also checks
that the program really calls the operator under test (so a decomposition
cannot hide it) and that the output dtype is eager's.

Exports take a while (about 220 programs, some ten minutes on a cold
cache; under a minute once cached), so the .pte bytes are cached in
``build/testdata/kernels-elementwise/`` (ET_TESTDATA_DIR overrides
build/testdata) under a hash of the case and the torch/executorch versions.

Run: .venv/bin/python -m pytest -q tests/python/test_kernels_elementwise_vs_torch.py
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import warnings
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Tuple

import numpy as np
import pytest

import torch

import edgetorch.runtime as rt
import executorch.exir  # noqa: F401  (the exporter of every case: a required oracle)
import tolerance

REPO = Path(__file__).resolve().parents[2]

F32, F64, F16, BF16 = torch.float32, torch.float64, torch.float16, torch.bfloat16
I8, U8, I16, I32, I64, BOOL = torch.int8, torch.uint8, torch.int16, torch.int32, torch.int64, torch.bool

# float32/float64; Half/BFloat16 take tolerance.eager_tolerance's (atol 1e-5 as a floor)
TOL = {F32: (1.3e-6, 1e-5), F64: (1e-7, 1e-7), F16: (0.0, 1e-5), BF16: (0.0, 1e-5)}


@dataclass(frozen=True)
class In:
    """One input: shape, dtype, how its values are drawn, layout."""

    shape: Tuple[int, ...]
    dtype: "torch.dtype"
    kind: str = "any"
    channels_last: bool = False


@dataclass(frozen=True)
class Case:
    id: str
    op: str  # the operator the program must call, e.g. "aten::fmod.Tensor_out"
    expr: str  # body of `lambda a, b, c: ...`
    inputs: Tuple[In, ...]
    keep: Tuple[str, ...] = field(default=())  # preserve_ops, e.g. "rsub.Scalar"
    # The reference, when it is not eager on `expr` itself (see the cases).
    ref: str = ""

    def key(self) -> str:
        return repr((self.id, self.op, self.expr, self.inputs, self.keep))


SPECIALS = [0.0, -0.0, float("inf"), float("-inf"), float("nan"), 0.5, -0.5, 1.0, -1.0, 2.5, -2.5, 1.5]


def _values(spec: In, seed: int) -> "torch.Tensor":
    g = torch.Generator().manual_seed(seed)
    shape, dt, kind = spec.shape, spec.dtype, spec.kind
    n = int(np.prod(shape)) if shape else 1
    if dt == BOOL:
        t = torch.rand(n, generator=g) > 0.5
    elif dt.is_floating_point:
        if kind == "unit":
            t = torch.rand(n, generator=g, dtype=F64) * 2.4 - 1.2
        elif kind == "prob":
            t = torch.rand(n, generator=g, dtype=F64) * 1.2 - 0.1
        elif kind == "pos":
            t = torch.rand(n, generator=g, dtype=F64) * 5 + 0.01
        else:
            t = torch.randn(n, generator=g, dtype=F64) * 3
        if kind in ("any", "unit", "prob"):
            sp = torch.tensor(SPECIALS if kind == "any" else [0.0, 1.0, float("nan"), -1.0, 0.5],
                              dtype=F64)
            k = min(n // 2, len(sp))
            t[:k] = sp[:k]
        t = t.to(dt)
    else:
        info = torch.iinfo(dt)
        bits = info.bits
        if kind == "nz":
            t = torch.randint(1, 10, (n,), generator=g) * (1 - 2 * torch.randint(0, 2, (n,), generator=g))
            if dt == U8:
                t = t.abs()
        elif kind == "shift":
            t = torch.randint(-2, bits + 3, (n,), generator=g)
            if dt == U8:
                t = t.abs()
        elif kind == "small":
            t = torch.randint(0, 7, (n,), generator=g)
        elif kind == "wide":  # the whole range of the dtype
            t = torch.randint(info.min, info.max, (n,), generator=g, dtype=torch.int64)
        else:
            t = torch.randint(-10 if info.min < 0 else 0, 11, (n,), generator=g)
        t = t.to(dt)
    t = t.reshape(shape)
    if spec.channels_last:
        t = t.contiguous(memory_format=torch.channels_last)
    return t


def _inputs(case: Case) -> List["torch.Tensor"]:
    base = zlib.crc32(case.id.encode())
    return [_values(s, base + 7919 * i) for i, s in enumerate(case.inputs)]


def _fn(case: Case, expr: str = ""):
    names = ", ".join("abc"[: len(case.inputs)])
    return eval(f"lambda {names}: {expr or case.expr}", {"torch": torch, "aten": torch.ops.aten})


# ---------------------------------------------------------------------------
# The cases
# ---------------------------------------------------------------------------


def _cases() -> List[Case]:
    c: List[Case] = []
    S = (3, 17)  # 51 elements
    FLOAT_UNARY = ["expm1", "log", "log10", "log1p", "log2", "sin", "cos", "tan", "asin", "acos",
                   "atan", "sinh", "cosh", "asinh", "acosh", "atanh", "erf", "reciprocal"]
    for name in FLOAT_UNARY:
        kind = "unit" if name in ("asin", "acos", "atanh") else "any"
        # integer inputs (promoted to Float) for a third of the ops
        dts = (F32, F16, I32) if name in ("sin", "log", "reciprocal", "atan", "erf", "acosh") else (F32, F16)
        for dt in dts:
            c.append(Case(f"{name}-{dt}", f"aten::{name}.out", f"torch.{name}(a)",
                          (In(S, dt, kind if dt.is_floating_point else "any"),)))
        if name in ("sin", "log", "erf", "atanh", "reciprocal", "expm1"):
            c.append(Case(f"{name}-f64", f"aten::{name}.out", f"torch.{name}(a)", (In(S, F64, kind),)))
            c.append(Case(f"{name}-bf16", f"aten::{name}.out", f"torch.{name}(a)", (In(S, BF16, kind),)))
    c.append(Case("sin-bool", "aten::sin.out", "torch.sin(a)", (In(S, BOOL),)))
    c.append(Case("log1p-u8", "aten::log1p.out", "torch.log1p(a)", (In(S, U8),)))
    c.append(Case("cos-channels-last", "aten::cos.out", "torch.cos(a)",
                  (In((2, 3, 4, 5), F32, channels_last=True),)))
    c.append(Case("log-empty", "aten::log.out", "torch.log(a)", (In((0, 3), F32),)))

    for name in ("ceil", "floor", "round", "trunc"):
        for dt in (F32, F16, I32) + ((F64,) if name == "round" else ()):
            c.append(Case(f"{name}-{dt}", f"aten::{name}.out", f"torch.{name}(a)", (In(S, dt),)))
    c.append(Case("round-halves", "aten::round.out", "torch.round(a * 0.5)", (In(S, I32),)))

    for dt in (F32, F16, I8, U8, BOOL):
        c.append(Case(f"sign-{dt}", "aten::sign.out", "torch.sign(a)", (In(S, dt),)))
    for name in ("isinf", "isnan"):
        for dt in (F32, F16, I32):
            c.append(Case(f"{name}-{dt}", f"aten::{name}.out", f"torch.{name}(a)", (In(S, dt),)))
    for dt in (I32, U8, I8, BOOL, I64):
        c.append(Case(f"bitwise_not-{dt}", "aten::bitwise_not.out", "torch.bitwise_not(a)",
                      (In(S, dt, "wide" if dt != BOOL else "any"),)))
    for dt in (F32, I64, BOOL):
        c.append(Case(f"conj-{dt}", "aten::_conj_physical.out", "aten._conj_physical.default(a)",
                      (In(S, dt),), keep=("_conj_physical.default",)))

    B3, B2 = (2, 3, 4), (3, 1)
    for name in ("fmod", "remainder"):
        op = f"aten::{name}"
        c.append(Case(f"{name}-f32-bcast", f"{op}.Tensor_out", f"torch.{name}(a, b)",
                      (In(B3, F32), In(B2, F32))))
        c.append(Case(f"{name}-f32-specials", f"{op}.Tensor_out", f"torch.{name}(a, b)",
                      (In((12,), F32), In((12,), F32, "pos"))))
        c.append(Case(f"{name}-i32", f"{op}.Tensor_out", f"torch.{name}(a, b)",
                      (In(B3, I32, "wide"), In(B2, I32, "nz"))))
        c.append(Case(f"{name}-u8-i8", f"{op}.Tensor_out", f"torch.{name}(a, b)",
                      (In(S, U8), In(S, I8, "nz"))))
        c.append(Case(f"{name}-f16", f"{op}.Tensor_out", f"torch.{name}(a, b)",
                      (In(S, F16), In(S, F16, "pos"))))
        c.append(Case(f"{name}-s-f32", f"{op}.Scalar_out", f"torch.{name}(a, -1.5)", (In(S, F32),)))
        c.append(Case(f"{name}-s-i8", f"{op}.Scalar_out", f"torch.{name}(a, 259)", (In(S, I8),)))
        c.append(Case(f"{name}-s-i32-neg", f"{op}.Scalar_out", f"torch.{name}(a, -7)",
                      (In(S, I32, "wide"),)))
        c.append(Case(f"{name}-s-f16", f"{op}.Scalar_out", f"torch.{name}(a, 0.1)", (In(S, F16),)))
        c.append(Case(f"{name}-s-i32-float", f"{op}.Scalar_out", f"torch.{name}(a, 2.5)",
                      (In(S, I32),)))

    c.append(Case("floor_divide-f32", "aten::floor_divide.out", "torch.floor_divide(a, b)",
                  (In(B3, F32), In(B2, F32)), keep=("floor_divide.default",)))
    c.append(Case("floor_divide-i32", "aten::floor_divide.out", "torch.floor_divide(a, b)",
                  (In(B3, I32, "wide"), In(B2, I32, "nz")), keep=("floor_divide.default",)))
    c.append(Case("floor_divide-i64-u8", "aten::floor_divide.out", "torch.floor_divide(a, b)",
                  (In(S, I64), In(S, U8, "nz")), keep=("floor_divide.default",)))
    c.append(Case("floor_divide-f16", "aten::floor_divide.out", "torch.floor_divide(a, b)",
                  (In(S, F16), In(S, F16)), keep=("floor_divide.default",)))
    for mode in ("trunc", "floor"):
        c.append(Case(f"div-{mode}-f32", "aten::div.out_mode",
                      f"torch.div(a, b, rounding_mode='{mode}')", (In(B3, F32), In(B2, F32))))
        c.append(Case(f"div-{mode}-i32", "aten::div.out_mode",
                      f"torch.div(a, b, rounding_mode='{mode}')", (In(B3, I32, "wide"), In(B2, I32, "nz"))))
        c.append(Case(f"div-{mode}-f16", "aten::div.out_mode",
                      f"torch.div(a, b, rounding_mode='{mode}')", (In(S, F16), In(S, F16, "pos"))))
        c.append(Case(f"div-{mode}-i8-f64", "aten::div.out_mode",
                      f"torch.div(a, b, rounding_mode='{mode}')", (In(S, I8), In(S, F64))))
        c.append(Case(f"div-s-{mode}-f32", "aten::div.Scalar_mode_out",
                      f"aten.div.Scalar_mode(a, -0.7, rounding_mode='{mode}')", (In(S, F32),),
                      keep=("div.Scalar_mode",)))
        c.append(Case(f"div-s-{mode}-i16", "aten::div.Scalar_mode_out",
                      f"aten.div.Scalar_mode(a, 3, rounding_mode='{mode}')", (In(S, I16, "wide"),),
                      keep=("div.Scalar_mode",)))
    c.append(Case("div-s-floor-f16", "aten::div.Scalar_mode_out",
                  "aten.div.Scalar_mode(a, 0.1, rounding_mode='floor')", (In(S, F16),), keep=("div.Scalar_mode",)))

    c.append(Case("rsub-f32", "aten::rsub.Scalar_out", "torch.rsub(a, 2.0, alpha=3)", (In(S, F32),),
                  keep=("rsub.Scalar",)))
    c.append(Case("rsub-i32", "aten::rsub.Scalar_out", "torch.rsub(a, 5, alpha=2)", (In(S, I32),),
                  keep=("rsub.Scalar",)))
    c.append(Case("rsub-i8-wrap", "aten::rsub.Scalar_out", "torch.rsub(a, 300)", (In(S, I8),),
                  keep=("rsub.Scalar",)))
    c.append(Case("rsub-f16", "aten::rsub.Scalar_out", "torch.rsub(a, 0.1)", (In(S, F16),),
                  keep=("rsub.Scalar",)))

    c.append(Case("pow-s-f32", "aten::pow.Scalar_out", "torch.pow(2.0, a)", (In(S, F32),)))
    c.append(Case("pow-s-i32", "aten::pow.Scalar_out", "torch.pow(3, a)", (In(S, I32),)))
    c.append(Case("pow-s-i64-neg-base", "aten::pow.Scalar_out", "torch.pow(-2, a)", (In(S, I64, "shift"),)))
    c.append(Case("pow-s-i32-float", "aten::pow.Scalar_out", "torch.pow(2.5, a)", (In(S, I32, "small"),)))
    c.append(Case("pow-s-f16", "aten::pow.Scalar_out", "torch.pow(0.5, a)", (In(S, F16),)))

    c.append(Case("atan2-f32", "aten::atan2.out", "torch.atan2(a, b)", (In(B3, F32), In(B2, F32))))
    c.append(Case("atan2-i32", "aten::atan2.out", "torch.atan2(a, b)", (In(S, I32), In(S, I32))))
    c.append(Case("atan2-f16", "aten::atan2.out", "torch.atan2(a, b)", (In(S, F16), In(S, F16))))
    c.append(Case("atan2-f64", "aten::atan2.out", "torch.atan2(a, b)", (In(S, F64), In(S, F64))))

    for name in ("maximum", "minimum"):
        op = f"aten::{name}.out"
        c.append(Case(f"{name}-f32", op, f"torch.{name}(a, b)", (In(B3, F32), In(B2, F32))))
        c.append(Case(f"{name}-i32-f32", op, f"torch.{name}(a, b)", (In(S, I32), In(S, F32))))
        c.append(Case(f"{name}-bool", op, f"torch.{name}(a, b)", (In(S, BOOL), In(S, BOOL))))
        c.append(Case(f"{name}-u8-i8", op, f"torch.{name}(a, b)", (In(S, U8), In(S, I8))))
        c.append(Case(f"{name}-bf16", op, f"torch.{name}(a, b)", (In(S, BF16), In(S, BF16))))

    c.append(Case("clamp-f32", "aten::clamp.out", "torch.clamp(a, -0.5, 0.5)", (In(S, F32),)))
    c.append(Case("clamp-f32-min", "aten::clamp.out", "torch.clamp(a, min=0.0)", (In(S, F32),)))
    c.append(Case("clamp-f32-crossed", "aten::clamp.out", "torch.clamp(a, 2.0, -1.0)", (In(S, F32),)))
    c.append(Case("clamp-i32-float", "aten::clamp.out", "torch.clamp(a, 2.5, 7.5)", (In(S, I32),)))
    c.append(Case("clamp-i8", "aten::clamp.out", "torch.clamp(a, -3, 4)", (In(S, I8),)))
    c.append(Case("clamp-f16", "aten::clamp.out", "torch.clamp(a, -0.1, 0.3)", (In(S, F16),)))
    c.append(Case("clamp-bool-long", "aten::clamp.out", "torch.clamp(a, 0, 1)", (In(S, BOOL),)))
    c.append(Case("clampT-f32", "aten::clamp.Tensor_out", "torch.clamp(a, b, c)",
                  (In(B3, F32), In(B2, F32), In((4,), F32))))
    c.append(Case("clampT-f32-min", "aten::clamp.Tensor_out", "torch.clamp(a, min=b)",
                  (In(B3, F32), In(B2, F32))))
    c.append(Case("clampT-i32-max-i64", "aten::clamp.Tensor_out", "torch.clamp(a, max=b)",
                  (In(S, I32), In(S, I64))))
    c.append(Case("clampT-i32-f32", "aten::clamp.Tensor_out", "torch.clamp(a, b, c)",
                  (In(S, I32), In(S, F32), In((1, 17), F32))))
    # PyTorch's clamp_min/clamp_max take Bool (OR / AND)
    c.append(Case("clampT-bool-min", "aten::clamp.Tensor_out", "torch.clamp(a, min=b)",
                  (In(S, BOOL), In(S, BOOL))))
    c.append(Case("clampT-bool-max", "aten::clamp.Tensor_out", "torch.clamp(a, max=b)",
                  (In(B3, BOOL), In(B2, BOOL))))
    # hardtanh on integers truncates fractional bounds first (Scalar::toLong)
    c.append(Case("hardtanh-i8-frac", "aten::hardtanh.out",
                  "torch.nn.functional.hardtanh(a, -0.5, 0.5)", (In(S, I8),), keep=("hardtanh.default",)))
    c.append(Case("hardtanh-i64-frac", "aten::hardtanh.out",
                  "torch.nn.functional.hardtanh(a, -1.5, 2.7)", (In(S, I64),), keep=("hardtanh.default",)))
    c.append(Case("hardtanh-u8-frac", "aten::hardtanh.out",
                  "torch.nn.functional.hardtanh(a, -0.5, 4.5)", (In(S, U8),), keep=("hardtanh.default",)))
    # Byte takes alpha down to -255 (c10's checked conversion), wrapping
    c.append(Case("sub-u8-alpha-neg", "aten::sub.out", "torch.sub(a, b, alpha=-3)",
                  (In(S, U8), In(S, U8))))
    c.append(Case("add-u8-alpha-neg", "aten::add.out", "torch.add(a, b, alpha=-200)",
                  (In(S, U8), In(S, U8))))
    # Half/BFloat16 alpha (and a Scalar other) are rounded to the dtype first;
    # 64 elements, so that eager's vectorized loop (which rounds once, as the
    # kernel does) takes all of them
    c.append(Case("add-f16-alpha", "aten::add.out", "torch.add(a, b, alpha=0.1)",
                  (In((4, 16), F16), In((4, 16), F16))))
    c.append(Case("sub-bf16-alpha", "aten::sub.out", "torch.sub(a, b, alpha=2.7)",
                  (In((2, 32), BF16), In((2, 32), BF16))))
    c.append(Case("rsub-f16-alpha", "aten::rsub.Scalar_out", "torch.rsub(a, 0.7, alpha=0.3)",
                  (In((4, 16), F16),), keep=("rsub.Scalar",)))

    c.append(Case("leaky_relu-f32", "aten::leaky_relu.out", "torch.nn.functional.leaky_relu(a, 0.2)",
                  (In(S, F32),)))
    c.append(Case("leaky_relu-f16", "aten::leaky_relu.out", "torch.nn.functional.leaky_relu(a)",
                  (In(S, F16),)))
    c.append(Case("leaky_relu-f64", "aten::leaky_relu.out", "torch.nn.functional.leaky_relu(a, 3)",
                  (In(S, F64),)))
    c.append(Case("elu-f32", "aten::elu.out", "torch.nn.functional.elu(a)", (In(S, F32),)))
    c.append(Case("elu-f32-scales", "aten::elu.out", "aten.elu.default(a, 2.0, 3.0, 0.5)",
                  (In(S, F32),)))
    c.append(Case("elu-bf16", "aten::elu.out", "torch.nn.functional.elu(a, 0.5)", (In(S, BF16),)))
    c.append(Case("logit-f32", "aten::logit.out", "torch.logit(a)", (In(S, F32, "prob"),),
                  keep=("logit.default",)))
    c.append(Case("logit-f32-eps", "aten::logit.out", "torch.logit(a, 1e-3)", (In(S, F32, "prob"),),
                  keep=("logit.default",)))
    # Eager logit on Half/BFloat16 rounds to the dtype after each step (eps,
    # 1 - eps, 1 - x, x / (1 - x), log); so does the kernel.
    c.append(Case("logit-f16-eps", "aten::logit.out", "torch.logit(a, 0.25)", (In(S, F16, "prob"),),
                  keep=("logit.default",)))
    c.append(Case("logit-f16", "aten::logit.out", "torch.logit(a)", (In(S, F16, "prob"),),
                  keep=("logit.default",)))
    c.append(Case("logit-bf16-eps", "aten::logit.out", "torch.logit(a, 0.1)", (In(S, BF16, "prob"),),
                  keep=("logit.default",)))
    c.append(Case("logit-i32", "aten::logit.out", "torch.logit(a)", (In(S, I32),),
                  keep=("logit.default",)))
    for dim, shape in ((-1, (3, 4, 6)), (0, (4, 3, 5)), (1, (2, 6, 5))):
        c.append(Case(f"glu-f32-{dim}", "aten::glu.out", f"torch.nn.functional.glu(a, {dim})",
                      (In(shape, F32),), keep=("glu.default",)))
    c.append(Case("glu-f16", "aten::glu.out", "torch.nn.functional.glu(a, 1)", (In((2, 8, 3), F16),),
                  keep=("glu.default",)))
    c.append(Case("glu-channels-last", "aten::glu.out", "torch.nn.functional.glu(a, 1)",
                  (In((2, 4, 3, 5), F32, channels_last=True),), keep=("glu.default",)))

    c.append(Case("masked_fill-f32", "aten::masked_fill.Scalar_out", "a.masked_fill(b, -2.5)",
                  (In(B3, F32), In((4,), BOOL)), keep=("masked_fill.Scalar",)))
    c.append(Case("masked_fill-i32", "aten::masked_fill.Scalar_out", "a.masked_fill(b, 7)",
                  (In(S, I32), In(S, BOOL)), keep=("masked_fill.Scalar",)))
    c.append(Case("masked_fill-bool", "aten::masked_fill.Scalar_out", "a.masked_fill(b, True)",
                  (In(S, BOOL), In(S, BOOL)), keep=("masked_fill.Scalar",)))
    c.append(Case("masked_fill-f16-inf", "aten::masked_fill.Scalar_out",
                  "a.masked_fill(b, float('-inf'))", (In(S, F16), In((1, 17), BOOL)),
                  keep=("masked_fill.Scalar",)))
    c.append(Case("masked_fill-bigger-mask", "aten::masked_fill.Scalar_out", "a.masked_fill(b, 0.5)",
                  (In((4,), F32), In((3, 4), BOOL)), keep=("masked_fill.Scalar",)))

    for name in ("bitwise_or", "bitwise_xor"):
        op = f"aten::{name}"
        c.append(Case(f"{name}-i32", f"{op}.Tensor_out", f"torch.{name}(a, b)",
                      (In(B3, I32, "wide"), In(B2, I32, "wide"))))
        c.append(Case(f"{name}-bool", f"{op}.Tensor_out", f"torch.{name}(a, b)", (In(S, BOOL), In(S, BOOL))))
        c.append(Case(f"{name}-u8-i8", f"{op}.Tensor_out", f"torch.{name}(a, b)",
                      (In(S, U8, "wide"), In(S, I8, "wide"))))
        c.append(Case(f"{name}-s-i64", f"{op}.Scalar_out", f"torch.{name}(a, 12345)", (In(S, I64, "wide"),)))
        c.append(Case(f"{name}-s-bool", f"{op}.Scalar_out", f"torch.{name}(a, True)", (In(S, BOOL),)))
        c.append(Case(f"{name}-s-i8-wrap", f"{op}.Scalar_out", f"torch.{name}(a, 300)", (In(S, I8, "wide"),)))

    for name in ("bitwise_left_shift", "bitwise_right_shift"):
        op = f"aten::{name}"
        for dt in (I8, U8, I32, I64):
            c.append(Case(f"{name}-{dt}", f"{op}.Tensor_out", f"torch.{name}(a, b)",
                          (In(S, dt, "wide"), In(S, dt, "shift"))))
        c.append(Case(f"{name}-u8-i8", f"{op}.Tensor_out", f"torch.{name}(a, b)",
                      (In(S, U8, "wide"), In(S, I8, "shift"))))
        c.append(Case(f"{name}-s-i32", f"{op}.Tensor_Scalar_out", f"torch.{name}(a, 3)",
                      (In(S, I32, "wide"),)))
        c.append(Case(f"{name}-s-i8-wrap", f"{op}.Tensor_Scalar_out", f"torch.{name}(a, 257)",
                      (In(S, I8, "wide"),)))
        c.append(Case(f"{name}-s-i64-big", f"{op}.Tensor_Scalar_out", f"torch.{name}(a, 70)",
                      (In(S, I64, "wide"),)))

    # layouts and empty tensors through the binary kernels
    NCHW = (2, 3, 4, 5)
    c.append(Case("fmod-channels-last", "aten::fmod.Tensor_out", "torch.fmod(a, b)",
                  (In(NCHW, F32, channels_last=True), In(NCHW, F32, "pos", channels_last=True))))
    c.append(Case("maximum-channels-last-bcast", "aten::maximum.out", "torch.maximum(a, b)",
                  (In(NCHW, F32, channels_last=True), In((3, 1, 1), F32))))
    c.append(Case("clamp-channels-last", "aten::clamp.out", "torch.clamp(a, -1.0, 1.0)",
                  (In(NCHW, F16, channels_last=True),)))
    c.append(Case("remainder-empty", "aten::remainder.Tensor_out", "torch.remainder(a, b)",
                  (In((0, 3), F32), In((3,), F32))))
    c.append(Case("floor_divide-empty-i32", "aten::floor_divide.out", "torch.floor_divide(a, b)",
                  (In((2, 0), I32), In((1,), I32, "nz")), keep=("floor_divide.default",)))
    c.append(Case("clamp-empty", "aten::clamp.out", "torch.clamp(a, 0.0)", (In((4, 0, 2), F32),)))
    return c


CASES = _cases()
CASE_IDS = [c.id for c in CASES]
assert len(set(CASE_IDS)) == len(CASE_IDS), "duplicate case ids"


# ---------------------------------------------------------------------------
# Export (cached) and comparison
# ---------------------------------------------------------------------------


def _versions() -> str:
    import importlib.metadata as md

    out = []
    for pkg in ("torch", "executorch"):
        try:
            out.append(f"{pkg}={md.version(pkg)}")
        except Exception:  # pragma: no cover - metadata missing
            out.append(f"{pkg}=?")
    return ",".join(out)


def _cache_dir() -> Path:
    env = os.environ.get("ET_TESTDATA_DIR")
    root = Path(env) if env else REPO / "build" / "testdata"
    return root / "kernels-elementwise"


class _M(torch.nn.Module):
    def __init__(self, fn) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, *args):
        return self.fn(*args)


def _export(case: Case, inputs: List["torch.Tensor"]) -> bytes:
    key = hashlib.sha256((case.key() + _versions()).encode()).hexdigest()[:24]
    path = _cache_dir() / f"{case.id.replace('.', '_')}-{key}.pte"
    if path.exists():
        return path.read_bytes()
    from executorch.exir import EdgeCompileConfig, to_edge

    keep = [getattr(getattr(torch.ops.aten, k.split(".")[0]), k.split(".")[1]) for k in case.keep]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ep = torch.export.export(_M(_fn(case)), tuple(inputs))
        edge = to_edge(ep, compile_config=EdgeCompileConfig(_check_ir_validity=False, preserve_ops=keep))
        buf = edge.to_executorch().buffer
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "wb") as f:
        f.write(buf)
    os.replace(tmp, path)
    return buf


def _np(t: "torch.Tensor") -> np.ndarray:
    if t.dtype == BF16:
        return t.float().numpy()
    return t.detach().numpy()


def _as_float_if_bf16(x: np.ndarray) -> np.ndarray:
    if x.dtype.name == "bfloat16":
        return x.astype(np.float32)
    return x


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_matches_eager(case: Case) -> None:
    inputs = _inputs(case)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = _fn(case, case.ref)(*inputs)
    buf = _export(case, inputs)

    program = rt.load_program(buf)
    ops = program.metadata("forward").operators
    assert case.op in ops, f"{case.id}: the program calls {ops}, not {case.op}"

    method = program.load_method("forward")
    (got,) = method.execute(inputs)
    got = _as_float_if_bf16(np.asarray(got))
    exp = _np(want)
    assert got.shape == exp.shape, f"{case.id}: shape {got.shape}, eager {exp.shape}"
    want_np_dtype = np.float32 if want.dtype == BF16 else exp.dtype
    assert got.dtype == want_np_dtype, f"{case.id}: dtype {got.dtype}, eager {want.dtype}"
    # integers exactly; floats at TOL, Half/BFloat16 at the dtype-derived
    # tolerance (+-inf and NaN must land on the same elements, infinities
    # with the same sign)
    rtol, atol = TOL.get(want.dtype, (0.0, 0.0))
    tolerance.assert_close_to_eager(got, exp, rtol, atol, dtype=want.dtype,
                                    err_msg=f"{case.id} ({case.expr})")


def test_case_count_and_coverage() -> None:
    """Every operator this suite is about has at least one case."""
    want = {
        "aten::rsub.Scalar_out", "aten::div.out_mode", "aten::div.Scalar_mode_out",
        "aten::floor_divide.out", "aten::fmod.Tensor_out", "aten::fmod.Scalar_out",
        "aten::remainder.Tensor_out", "aten::remainder.Scalar_out", "aten::pow.Scalar_out",
        "aten::atan2.out", "aten::maximum.out", "aten::minimum.out", "aten::clamp.out",
        "aten::clamp.Tensor_out", "aten::leaky_relu.out", "aten::masked_fill.Scalar_out",
        "aten::bitwise_or.Tensor_out", "aten::bitwise_or.Scalar_out", "aten::bitwise_xor.Tensor_out",
        "aten::bitwise_xor.Scalar_out", "aten::bitwise_left_shift.Tensor_out",
        "aten::bitwise_left_shift.Tensor_Scalar_out", "aten::bitwise_right_shift.Tensor_out",
        "aten::bitwise_right_shift.Tensor_Scalar_out", "aten::isinf.out", "aten::isnan.out",
        "aten::sign.out", "aten::reciprocal.out", "aten::expm1.out", "aten::log.out",
        "aten::log10.out", "aten::log1p.out", "aten::log2.out", "aten::sin.out", "aten::cos.out",
        "aten::tan.out", "aten::asin.out", "aten::acos.out", "aten::atan.out", "aten::sinh.out",
        "aten::cosh.out", "aten::asinh.out", "aten::acosh.out", "aten::atanh.out", "aten::erf.out",
        "aten::ceil.out", "aten::floor.out", "aten::round.out", "aten::trunc.out", "aten::glu.out",
        "aten::elu.out", "aten::logit.out", "aten::bitwise_not.out", "aten::_conj_physical.out",
    }
    assert len(want) == 54
    covered: Dict[str, int] = {}
    for case in CASES:
        covered[case.op] = covered.get(case.op, 0) + 1
    assert want - set(covered) == set()
    registered = set(rt.kernel_names())
    assert want - registered == set(), "operators missing from the runtime's kernel table"


def test_integer_division_by_zero_is_an_error() -> None:
    """A zero integer divisor fails with InvalidArgument (PyTorch raises
    ZeroDivisionError) instead of dividing."""
    case = Case("floor_divide-i32-zero", "aten::floor_divide.out", "torch.floor_divide(a, b)",
                (In((4,), I32), In((4,), I32, "nz")), keep=("floor_divide.default",))
    inputs = _inputs(case)
    buf = _export(case, inputs)
    method = rt.load_program(buf).load_method("forward")
    b = inputs[1].clone()
    b[2] = 0
    with pytest.raises(rt.EdgetorchError) as ei:
        method.execute([inputs[0], b])
    assert ei.value.status == "InvalidArgument"
    assert "ZeroDivisionError" in str(ei.value)
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        torch.floor_divide(inputs[0], b)
