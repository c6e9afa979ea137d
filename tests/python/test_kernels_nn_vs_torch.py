"""Reduction, normalization, resampling, padding and backward kernels against
PyTorch eager, through programs exported by upstream ExecuTorch.

Each case is a small module whose exported program contains the operator
under test (checked in the program's operator table), exported with
upstream's ``to_edge(torch.export.export(m, args)).to_executorch()``; where
torch.export or to_edge would decompose the operator the case keeps it with
``EdgeCompileConfig(preserve_ops=...)`` or ``_core_aten_ops_exception_list``.
The program runs on edgetorch through the Python binding and its outputs are
compared with eager PyTorch on the same inputs.

Exports are cached under build/testdata/nn_vs_torch/, keyed by the case's
source, its input specs and the torch/executorch versions, so only new or
changed cases are exported again (the first run takes a few minutes).

Tolerances (float32): exact for operators that only select or move elements
(max/min/argmax/topk/padding/shuffles/nearest/max-pool backward);
rtol 1.3e-6, atol 1e-5 for simple arithmetic; looser where the order of
accumulation legitimately differs from PyTorch's vectorized kernels, noted
per case (variance and norms: both sides accumulate in double or with
cascades; distances; bilinear interpolation formulas; convolution
gradients summed in another order). Half/BFloat16 outputs, whatever the
case's tolerance, are compared at the dtype-derived tolerance of
tests/python/tolerance.py (a few units in the last place, at the output's
magnitude): eager's reduced-precision paths depend on the CPU (oneDNN's
AVX512-BF16 convolution rounds differently from its AVX2 one). Integers and
Bool are compared exactly.

Operators upstream's exporter never emits, tested by the C suites only:
aten::var.out (torch.var and aten.var.dim become var.correction) and
aten::_native_batch_norm_legit.out (functionalization turns training batch
norm into _native_batch_norm_legit_functional, which has no out variant).

Run: .venv/bin/python -m pytest -q tests/python/test_kernels_nn_vs_torch.py
(after ``.venv/bin/pip install --no-build-isolation --no-deps -e .``).
"""

from __future__ import annotations

import hashlib
import inspect
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, List, Optional, Sequence, Tuple

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import edgetorch.runtime as rt
import tolerance

REPO = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("ET_TESTDATA_DIR", REPO / "build" / "testdata")) / "nn_vs_torch"
aten = torch.ops.aten

EXACT = dict(rtol=0.0, atol=0.0)
F32 = dict(rtol=1.3e-6, atol=1e-5)
F32_ACC = dict(rtol=1e-5, atol=1e-5)  # accumulation order differs
F64 = dict(rtol=1e-12, atol=1e-12)
F16 = dict(rtol=2e-3, atol=2e-3)
BF16 = dict(rtol=1.6e-2, atol=1.6e-2)


@dataclass
class Case:
    name: str
    fn: Callable[..., object]
    inputs: Callable[[], Sequence[torch.Tensor]]
    op: str  # the operator the program must contain
    tol: dict = field(default_factory=lambda: dict(F32))
    exception_list: Tuple[object, ...] = ()
    preserve: Tuple[object, ...] = ()
    check: Optional[Callable[[Sequence[torch.Tensor], List[np.ndarray]], None]] = None
    module: Optional[Callable[[], torch.nn.Module]] = None  # instead of fn
    # compute the reference in float32 and round it to the input dtype (for
    # PyTorch Half kernels that round every intermediate to Half)
    ref_in_float: bool = False


class _Fn(torch.nn.Module):
    def __init__(self, fn: Callable[..., object]) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, *args: torch.Tensor):  # noqa: D401
        out = self.fn(*args)
        return tuple(out) if isinstance(out, (tuple, list)) else out


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def rnd(*shape: int, dtype=torch.float32, seed: int = 0, scale: float = 1.0) -> torch.Tensor:
    return (torch.randn(*shape, generator=_gen(seed)) * scale).to(dtype)


def rint(*shape: int, lo: int = -20, hi: int = 20, dtype=torch.int32, seed: int = 0) -> torch.Tensor:
    return torch.randint(lo, hi, shape, generator=_gen(seed)).to(dtype)


def with_nans(t: torch.Tensor, every: int = 7) -> torch.Tensor:
    t = t.clone()
    flat = t.view(-1)
    flat[3::every] = float("nan")
    return t


def ftol(dtype: torch.dtype, f32: dict = F32) -> dict:
    return {torch.float16: F16, torch.bfloat16: BF16, torch.float64: F64}.get(dtype, f32)


# ---------------------------------------------------------------------------
# Cases


def _topk_values_only(k: int, dim: int, largest: bool):
    """topk with sorted=False: compare as sorted sets, indices by lookup."""

    def check(inputs: Sequence[torch.Tensor], outs: List[np.ndarray]) -> None:
        x = inputs[0]
        vals, idx = outs
        ref = torch.topk(x, k, dim, largest, True).values.numpy()
        np.testing.assert_array_equal(np.sort(vals, axis=dim), np.sort(ref, axis=dim))
        picked = np.take_along_axis(x.numpy(), idx, axis=dim)
        np.testing.assert_array_equal(picked, vals)

    return check


def _dropout_train(p: float):
    def check(inputs: Sequence[torch.Tensor], outs: List[np.ndarray]) -> None:
        x = inputs[0].numpy()
        out, mask = outs
        assert mask.dtype == np.bool_ and mask.shape == x.shape
        kept = mask.mean()
        assert abs(kept - (1 - p)) < 0.03, kept
        np.testing.assert_allclose(out[mask], x[mask] / (1 - p), rtol=1.3e-6, atol=1e-6)
        assert np.all(out[~mask] == 0)

    return check


def _max_pool_indices(x: torch.Tensor, k, s, p, d, ceil) -> torch.Tensor:
    return aten.max_pool2d_with_indices(x, k, s, p, d, ceil)[1]


def _cases() -> List[Case]:  # noqa: C901 - one table of every case
    cs: List[Case] = []
    add = cs.append
    # ---- mean.dtype_out, prod --------------------------------------------------
    add(Case("mean_dtype_f64", lambda x: torch.mean(x, dtype=torch.float64), lambda: [rnd(3, 4, 5)],
             "aten::mean.dtype_out", F64))
    add(Case("mean_dtype_int", lambda x: torch.mean(x, dtype=torch.float32), lambda: [rint(4, 6)],
             "aten::mean.dtype_out", F32))
    add(Case("mean_dtype_half", lambda x: torch.mean(x, dtype=torch.float16), lambda: [rnd(2, 8, dtype=torch.float16)],
             "aten::mean.dtype_out", F16))
    add(Case("prod_all_f32", lambda x: torch.prod(x), lambda: [rnd(2, 3, 4, scale=0.5) + 1],
             "aten::prod.out", F32_ACC))
    add(Case("prod_all_int", lambda x: torch.prod(x), lambda: [rint(7, lo=-3, hi=4)], "aten::prod.out", EXACT))
    add(Case("prod_all_bool", lambda x: torch.prod(x), lambda: [rint(5, lo=0, hi=2, dtype=torch.bool)],
             "aten::prod.out", EXACT))
    add(Case("prod_dim", lambda x: torch.prod(x, 1), lambda: [rnd(3, 5, 2)], "aten::prod.int_out", F32))
    add(Case("prod_dim_keep_neg", lambda x: torch.prod(x, -1, keepdim=True), lambda: [rnd(4, 3)],
             "aten::prod.int_out", F32))
    add(Case("prod_dim_int8", lambda x: torch.prod(x, 0), lambda: [rint(3, 4, lo=-9, hi=9, dtype=torch.int8)],
             "aten::prod.int_out", EXACT))
    add(Case("prod_dim_dtype", lambda x: torch.prod(x, 1, dtype=torch.float64), lambda: [rnd(3, 4)],
             "aten::prod.int_out", F64))
    add(Case("prod_half", lambda x: torch.prod(x, 1), lambda: [rnd(3, 4, dtype=torch.float16)],
             "aten::prod.int_out", F16))
    # ---- amax / amin -------------------------------------------------------------
    for dt, tag in [(torch.float32, "f32"), (torch.float16, "f16"), (torch.bfloat16, "bf16"), (torch.float64, "f64")]:
        add(Case(f"amax_{tag}", lambda x: torch.amax(x, (1, 2)), lambda dt=dt: [with_nans(rnd(2, 3, 4, 5, dtype=dt), 11)],
                 "aten::amax.out", EXACT))
    add(Case("amax_keep_neg", lambda x: torch.amax(x, -1, True), lambda: [rnd(3, 4, 5)], "aten::amax.out", EXACT))
    add(Case("amax_all", lambda x: torch.amax(x), lambda: [rnd(3, 4)], "aten::amax.out", EXACT))
    add(Case("amax_int8", lambda x: torch.amax(x, 0), lambda: [rint(5, 3, lo=-128, hi=127, dtype=torch.int8)],
             "aten::amax.out", EXACT))
    add(Case("amax_bool", lambda x: torch.amax(x, 1), lambda: [rint(3, 4, lo=0, hi=2, dtype=torch.bool)],
             "aten::amax.out", EXACT))
    add(Case("amin_f32_nan", lambda x: torch.amin(x, (0, 2)), lambda: [with_nans(rnd(3, 4, 5), 13)],
             "aten::amin.out", EXACT))
    add(Case("amin_keep", lambda x: torch.amin(x, 1, True), lambda: [rnd(2, 6, 3, dtype=torch.float16)],
             "aten::amin.out", EXACT))
    add(Case("amin_int64", lambda x: torch.amin(x, -1), lambda: [rint(4, 5, dtype=torch.int64)], "aten::amin.out", EXACT))
    # ---- max / min ---------------------------------------------------------------
    ties = lambda: [torch.tensor([[3.0, 9.0, 9.0, 1.0], [2.0, -5.0, 0.0, -5.0], [1.0, float("nan"), 4.0, float("nan")]])]
    add(Case("max_dim", lambda x: torch.max(x, 1), lambda: [rnd(3, 5, 4)], "aten::max.dim_max", EXACT))
    add(Case("max_dim_keep_ties_nan", lambda x: torch.max(x, -1, True), ties, "aten::max.dim_max", EXACT))
    add(Case("max_dim_int", lambda x: torch.max(x, 0), lambda: [rint(6, 3, lo=-3, hi=3)], "aten::max.dim_max", EXACT))
    add(Case("max_dim_half", lambda x: torch.max(x, 2), lambda: [rnd(2, 3, 7, dtype=torch.float16)],
             "aten::max.dim_max", EXACT))
    add(Case("min_dim_ties_nan", lambda x: torch.min(x, 1), ties, "aten::min.dim_min", EXACT))
    add(Case("min_dim_keep", lambda x: torch.min(x, 0, True), lambda: [rnd(5, 4)], "aten::min.dim_min", EXACT))
    add(Case("min_dim_bool", lambda x: torch.min(x, 1), lambda: [rint(3, 4, lo=0, hi=2, dtype=torch.bool)],
             "aten::min.dim_min", EXACT))
    add(Case("max_all", lambda x: torch.max(x), lambda: [rnd(4, 5)], "aten::max.unary_out", EXACT))
    add(Case("max_all_nan", lambda x: torch.max(x), lambda: [with_nans(rnd(4, 5))], "aten::max.unary_out", EXACT))
    add(Case("max_all_int16", lambda x: torch.max(x), lambda: [rint(9, dtype=torch.int16)], "aten::max.unary_out", EXACT))
    add(Case("min_all_bf16", lambda x: torch.min(x), lambda: [rnd(3, 7, dtype=torch.bfloat16)], "aten::min.unary_out", EXACT))
    add(Case("min_all_uint8", lambda x: torch.min(x), lambda: [rint(11, lo=0, hi=255, dtype=torch.uint8)],
             "aten::min.unary_out", EXACT))
    # ---- argmax / argmin ---------------------------------------------------------------
    add(Case("argmax_dim", lambda x: torch.argmax(x, 1), lambda: [rnd(3, 6, 2)], "aten::argmax.out", EXACT))
    add(Case("argmax_all", lambda x: torch.argmax(x), lambda: [rnd(4, 5)], "aten::argmax.out", EXACT))
    add(Case("argmax_all_keep", lambda x: torch.argmax(x, None, True), lambda: [rnd(2, 3, 4)], "aten::argmax.out", EXACT))
    add(Case("argmax_ties_nan", lambda x: torch.argmax(x, -1), ties, "aten::argmax.out", EXACT))
    add(Case("argmax_half", lambda x: torch.argmax(x, 0), lambda: [rnd(5, 3, dtype=torch.float16)], "aten::argmax.out", EXACT))
    add(Case("argmin_dim_keep", lambda x: torch.argmin(x, 0, True), lambda: [rint(5, 4, lo=-2, hi=2)],
             "aten::argmin.out", EXACT))
    add(Case("argmin_all_nan", lambda x: torch.argmin(x), lambda: [with_nans(rnd(4, 6), 9)], "aten::argmin.out", EXACT))
    add(Case("argmin_ties", lambda x: torch.argmin(x, 1), ties, "aten::argmin.out", EXACT))
    # ---- var / var_mean: both sides accumulate in double ------------------------------------
    add(Case("var_dim", lambda x: torch.var(x, 1), lambda: [rnd(3, 7, 4)], "aten::var.correction_out", F32))
    add(Case("var_biased_keep", lambda x: torch.var(x, (0, 2), unbiased=False, keepdim=True),
             lambda: [rnd(3, 4, 5, scale=3)], "aten::var.correction_out", F32))
    add(Case("var_all", lambda x: torch.var(x), lambda: [rnd(6, 5) + 10], "aten::var.correction_out", F32))
    add(Case("var_correction2", lambda x: torch.var(x, -1, correction=2), lambda: [rnd(4, 3)],
             "aten::var.correction_out", F32))
    add(Case("var_divisor0", lambda x: torch.var(x, 1, correction=3), lambda: [rnd(4, 3)],
             "aten::var.correction_out", F32))
    add(Case("var_f64", lambda x: torch.var(x, 0), lambda: [rnd(9, 4, dtype=torch.float64)],
             "aten::var.correction_out", F64))
    add(Case("var_half", lambda x: torch.var(x, 1), lambda: [rnd(3, 16, dtype=torch.float16)],
             "aten::var.correction_out", F16))
    vm_exc = (aten.var_mean.correction,)
    add(Case("var_mean_dim", lambda x: torch.var_mean(x, 1), lambda: [rnd(4, 6, 3)],
             "aten::var_mean.correction_out", F32, exception_list=vm_exc))
    add(Case("var_mean_all_corr0", lambda x: torch.var_mean(x, correction=0), lambda: [rnd(5, 7)],
             "aten::var_mean.correction_out", F32, exception_list=vm_exc))
    add(Case("var_mean_keep_f64", lambda x: torch.var_mean(x, (0, 1), keepdim=True),
             lambda: [rnd(3, 4, 2, dtype=torch.float64)], "aten::var_mean.correction_out", F64,
             exception_list=vm_exc))
    # ---- topk ---------------------------------------------------------------------------
    add(Case("topk_last", lambda x: torch.topk(x, 3), lambda: [rnd(4, 10)], "aten::topk.values", EXACT))
    add(Case("topk_smallest_dim0", lambda x: torch.topk(x, 2, 0, largest=False), lambda: [rnd(7, 3, 2)],
             "aten::topk.values", EXACT))
    add(Case("topk_mid_dim", lambda x: torch.topk(x, 4, 1), lambda: [rnd(2, 50, 3)], "aten::topk.values", EXACT))
    add(Case("topk_nan", lambda x: torch.topk(x, 2, 1), lambda: [torch.tensor([[1.0, float("nan"), 3.0, -1.0]])],
             "aten::topk.values", EXACT))
    add(Case("topk_nan_smallest", lambda x: torch.topk(x, 3, 1, largest=False),
             lambda: [torch.tensor([[1.0, float("nan"), 3.0, -1.0]])], "aten::topk.values", EXACT))
    add(Case("topk_int", lambda x: torch.topk(x, 3), lambda: [torch.randperm(40, generator=_gen(3)).reshape(4, 10).int()],
             "aten::topk.values", EXACT))
    add(Case("topk_half", lambda x: torch.topk(x, 5, 0), lambda: [torch.randperm(64, generator=_gen(4)).reshape(16, 4).half()],
             "aten::topk.values", EXACT))
    add(Case("topk_unsorted", lambda x: torch.topk(x, 3, 1, True, False), lambda: [rnd(3, 9)], "aten::topk.values",
             EXACT, check=_topk_values_only(3, 1, True)))
    # ---- cdist / pdist: float accumulation, coordinate order ----------------------------
    for p in [2.0, 1.0, 0.0, 3.0, float("inf"), 0.5]:
        add(Case(f"cdist_p{p}", lambda a, b, p=p: torch.cdist(a, b, p=p),
                 lambda: [rnd(2, 5, 3, seed=1), rnd(2, 4, 3, seed=2)], "aten::_cdist_forward.out", F32_ACC))
    add(Case("cdist_broadcast", lambda a, b: torch.cdist(a, b), lambda: [rnd(3, 1, 4, 6, seed=1), rnd(2, 5, 6, seed=2)],
             "aten::_cdist_forward.out", F32_ACC))
    add(Case("cdist_f64_nomm", lambda a, b: torch.cdist(a, b, compute_mode="donot_use_mm_for_euclid_dist"),
             lambda: [rnd(30, 3, dtype=torch.float64, seed=1), rnd(27, 3, dtype=torch.float64, seed=2)],
             "aten::_cdist_forward.out", F64))
    # with more than 25 rows PyTorch's kernel switches to a matrix-product
    # formula, less accurate than the direct sums edgetorch always computes
    # (torch.cdist would decompose it at export, so the op is called directly)
    add(Case("cdist_mm_mode", lambda a, b: aten._cdist_forward(a, b, 2.0, None),
             lambda: [rnd(30, 8, seed=1), rnd(28, 8, seed=2)],
             "aten::_cdist_forward.out", dict(rtol=1e-4, atol=1e-4)))
    for p in [2.0, 1.0, float("inf"), 0.5]:
        add(Case(f"pdist_p{p}", lambda a, p=p: F.pdist(a, p), lambda: [rnd(6, 4)], "aten::_pdist_forward.out", F32_ACC))
    add(Case("pdist_f64", lambda a: F.pdist(a), lambda: [rnd(7, 3, dtype=torch.float64)], "aten::_pdist_forward.out", F64))
    # ---- group norm, batch norm (training statistics) -------------------------------------
    def gn(groups, channels, affine=True):
        def make():
            torch.manual_seed(5)
            m = torch.nn.GroupNorm(groups, channels, affine=affine)
            if affine:
                with torch.no_grad():
                    m.weight.uniform_(0.5, 1.5)
                    m.bias.uniform_(-0.5, 0.5)
            return m
        return make
    add(Case("group_norm", None, lambda: [rnd(2, 6, 4, 5)], "aten::native_group_norm.out", F32_ACC, module=gn(3, 6)))
    add(Case("group_norm_noaffine_3d", None, lambda: [rnd(3, 4, 7, scale=4) + 2], "aten::native_group_norm.out",
             F32_ACC, module=gn(2, 4, False)))
    add(Case("group_norm_5d_f64", None, lambda: [rnd(2, 4, 2, 3, 3, dtype=torch.float64)], "aten::native_group_norm.out",
             F64, module=lambda: gn(4, 4)().double()))
    add(Case("group_norm_outputs", lambda x: aten.native_group_norm(x, None, None, 2, 6, 12, 3, 1e-5),
             lambda: [rnd(2, 6, 3, 4)], "aten::native_group_norm.out", F32_ACC))
    add(Case("bn_no_stats", lambda x: aten._native_batch_norm_legit.no_stats(x, None, None, True, 0.1, 1e-5),
             lambda: [rnd(4, 3, 5, 2)], "aten::_native_batch_norm_legit.no_stats_out", F32_ACC))
    add(Case("bn_no_stats_affine", lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True, eps=1e-3),
             lambda: [rnd(3, 5, 7) * 3 + 1, rnd(5, seed=1), rnd(5, seed=2)],
             "aten::_native_batch_norm_legit.no_stats_out", F32_ACC))
    add(Case("bn_no_stats_f64", lambda x: aten._native_batch_norm_legit.no_stats(x, None, None, True, 0.1, 1e-5),
             lambda: [rnd(2, 3, 4, dtype=torch.float64)], "aten::_native_batch_norm_legit.no_stats_out", F64))
    # Half/BFloat16 statistics round where PyTorch's reduced-type kernel rounds
    for dt, tag in [(torch.bfloat16, "bf16"), (torch.float16, "f16")]:
        add(Case(f"bn_no_stats_{tag}", lambda x: aten._native_batch_norm_legit.no_stats(x, None, None, True, 0.1, 1e-5),
                 lambda dt=dt: [rnd(4, 3, 5, 2, dtype=dt, scale=3)], "aten::_native_batch_norm_legit.no_stats_out",
                 EXACT))
        add(Case(f"bn_no_stats_affine_{tag}", lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
                 lambda dt=dt: [rnd(3, 5, 33, dtype=dt, scale=2), rnd(5, dtype=dt, seed=1), rnd(5, dtype=dt, seed=2)],
                 "aten::_native_batch_norm_legit.no_stats_out", EXACT))
    # ---- dropout ---------------------------------------------------------------------------
    add(Case("dropout_eval", lambda x: aten.native_dropout(x, 0.4, False), lambda: [rnd(5, 6)],
             "aten::native_dropout.out", EXACT))
    add(Case("dropout_train", lambda x: aten.native_dropout(x, 0.25, True), lambda: [rnd(100, 100) + 3],
             "aten::native_dropout.out", EXACT, check=_dropout_train(0.25)))
    add(Case("dropout_train_none", lambda x: aten.native_dropout(x, 0.6, None), lambda: [rnd(80, 50) - 3],
             "aten::native_dropout.out", EXACT, check=_dropout_train(0.6)))
    add(Case("dropout_train_p0", lambda x: aten.native_dropout(x, 0.0, True), lambda: [rnd(4, 4)],
             "aten::native_dropout.out", EXACT))
    # ---- upsampling: PyTorch picks between two bilinear formulas by size --------------------
    for dt in [torch.float32, torch.float16]:
        t = "f16" if dt == torch.float16 else "f32"
        add(Case(f"bilinear_x2_{t}", lambda x: F.interpolate(x, scale_factor=2, mode="bilinear"),
                 lambda dt=dt: [rnd(1, 2, 4, 5, dtype=dt)], "aten::upsample_bilinear2d.vec_out", ftol(dt, F32_ACC)))
    add(Case("bilinear_x1.5_align", lambda x: F.interpolate(x, scale_factor=1.5, mode="bilinear", align_corners=True),
             lambda: [rnd(2, 3, 4, 6)], "aten::upsample_bilinear2d.vec_out", F32_ACC))
    add(Case("bilinear_size", lambda x: F.interpolate(x, size=(7, 3), mode="bilinear"), lambda: [rnd(1, 3, 5, 4)],
             "aten::upsample_bilinear2d.vec_out", F32_ACC))
    add(Case("bilinear_size_align", lambda x: F.interpolate(x, size=(2, 9), mode="bilinear", align_corners=True),
             lambda: [rnd(1, 2, 5, 4)], "aten::upsample_bilinear2d.vec_out", F32_ACC))
    add(Case("bilinear_scale_0.6", lambda x: F.interpolate(x, scale_factor=(0.6, 1.3), mode="bilinear"),
             lambda: [rnd(2, 2, 9, 7)], "aten::upsample_bilinear2d.vec_out", F32_ACC))
    add(Case("bilinear_big", lambda x: F.interpolate(x, size=(70, 90), mode="bilinear"), lambda: [rnd(1, 2, 13, 17)],
             "aten::upsample_bilinear2d.vec_out", F32_ACC))
    add(Case("bilinear_f64", lambda x: F.interpolate(x, scale_factor=2.5, mode="bilinear"),
             lambda: [rnd(1, 1, 3, 4, dtype=torch.float64)], "aten::upsample_bilinear2d.vec_out", F64))
    add(Case("aa_down", lambda x: F.interpolate(x, size=(3, 5), mode="bilinear", antialias=True),
             lambda: [rnd(1, 2, 9, 14)], "aten::_upsample_bilinear2d_aa.out", F32_ACC))
    add(Case("aa_down_align", lambda x: F.interpolate(x, size=(4, 2), mode="bilinear", antialias=True, align_corners=True),
             lambda: [rnd(2, 1, 11, 7)], "aten::_upsample_bilinear2d_aa.out", F32_ACC))
    add(Case("aa_up", lambda x: F.interpolate(x, size=(8, 9), mode="bilinear", antialias=True),
             lambda: [rnd(1, 3, 4, 5)], "aten::_upsample_bilinear2d_aa.out", F32_ACC))
    add(Case("aa_mixed", lambda x: F.interpolate(x, size=(10, 3), mode="bilinear", antialias=True),
             lambda: [rnd(1, 2, 6, 10)], "aten::_upsample_bilinear2d_aa.out", F32_ACC))
    add(Case("aa_f64", lambda x: F.interpolate(x, size=(5, 4), mode="bilinear", antialias=True),
             lambda: [rnd(1, 2, 17, 13, dtype=torch.float64)], "aten::_upsample_bilinear2d_aa.out", F64))
    # uint8: PyTorch's fixed-point path, exactly
    add(Case("bilinear_uint8_down", lambda x: F.interpolate(x, size=(13, 17), mode="bilinear"),
             lambda: [rint(2, 3, 40, 45, lo=0, hi=256, dtype=torch.uint8)], "aten::upsample_bilinear2d.vec_out", EXACT))
    add(Case("bilinear_uint8_scale_align", lambda x: F.interpolate(x, scale_factor=(1.7, 0.6), mode="bilinear",
                                                                   align_corners=True),
             lambda: [rint(1, 2, 9, 11, lo=0, hi=256, dtype=torch.uint8)], "aten::upsample_bilinear2d.vec_out", EXACT))
    add(Case("aa_uint8", lambda x: F.interpolate(x, size=(5, 31), mode="bilinear", antialias=True),
             lambda: [rint(2, 3, 23, 12, lo=0, hi=256, dtype=torch.uint8)], "aten::_upsample_bilinear2d_aa.out", EXACT))
    add(Case("nearest_x2", lambda x: F.interpolate(x, scale_factor=2, mode="nearest"), lambda: [rnd(1, 2, 3, 4)],
             "aten::upsample_nearest2d.vec_out", EXACT))
    add(Case("nearest_size", lambda x: F.interpolate(x, size=(5, 7), mode="nearest"), lambda: [rnd(2, 1, 3, 4)],
             "aten::upsample_nearest2d.vec_out", EXACT))
    add(Case("nearest_scale_1.7", lambda x: F.interpolate(x, scale_factor=(1.7, 0.7), mode="nearest"),
             lambda: [rnd(1, 2, 5, 6)], "aten::upsample_nearest2d.vec_out", EXACT))
    add(Case("nearest_uint8", lambda x: F.interpolate(x, scale_factor=3, mode="nearest"),
             lambda: [rint(1, 3, 2, 2, lo=0, hi=255, dtype=torch.uint8)], "aten::upsample_nearest2d.vec_out", EXACT))
    add(Case("nearest_down_half", lambda x: F.interpolate(x, size=(2, 3), mode="nearest"),
             lambda: [rnd(1, 2, 7, 8, dtype=torch.float16)], "aten::upsample_nearest2d.vec_out", EXACT))
    # ---- grid_sampler_2d: every mode x padding x align_corners ------------------------------
    def grid_all(mode):
        def f(x, g):
            return tuple(F.grid_sample(x, g, mode=mode, padding_mode=pm, align_corners=ac)
                         for pm in ("zeros", "border", "reflection") for ac in (False, True))
        return f
    grid_in = lambda dt=torch.float32: [rnd(2, 3, 5, 6, dtype=dt, seed=1), (rnd(2, 4, 7, 2, seed=2) * 0.8).to(dt)]
    for mode in ["bilinear", "nearest", "bicubic"]:
        tol = F32_ACC if mode != "nearest" else F32
        add(Case(f"grid_{mode}", grid_all(mode), grid_in, "aten::grid_sampler_2d.out", tol))
        add(Case(f"grid_{mode}_f64", grid_all(mode), lambda: grid_in(torch.float64), "aten::grid_sampler_2d.out", F64))
    # PyTorch's Half/BFloat16 grid sampler rounds every step to the dtype; so does the kernel
    for mode in ["bilinear", "bicubic"]:
        add(Case(f"grid_{mode}_half", grid_all(mode), lambda: grid_in(torch.float16), "aten::grid_sampler_2d.out",
                 EXACT))
        add(Case(f"grid_{mode}_bf16", grid_all(mode), lambda: grid_in(torch.bfloat16), "aten::grid_sampler_2d.out",
                 EXACT))
    # ---- padding ----------------------------------------------------------------------------
    add(Case("cpad_last", lambda x: F.pad(x, (1, 2), value=3.5), lambda: [rnd(2, 3, 4)], "aten::constant_pad_nd.out", EXACT))
    add(Case("cpad_3dims_neg", lambda x: F.pad(x, (1, -1, 0, 2, -1, 1)), lambda: [rnd(3, 4, 5)],
             "aten::constant_pad_nd.out", EXACT))
    add(Case("cpad_int", lambda x: F.pad(x, (2, 0, 1, 1), value=-7), lambda: [rint(2, 3)], "aten::constant_pad_nd.out", EXACT))
    add(Case("cpad_bool", lambda x: F.pad(x, (1, 1), value=True), lambda: [rint(2, 2, lo=0, hi=2, dtype=torch.bool)],
             "aten::constant_pad_nd.out", EXACT))
    add(Case("cpad_half", lambda x: F.pad(x, (0, 1, 2, 0), value=-0.5), lambda: [rnd(2, 2, 3, dtype=torch.float16)],
             "aten::constant_pad_nd.out", EXACT))
    pads = {
        1: [(2, 3), (-1, 2)],
        2: [(1, 2, 2, 0), (0, -1, 1, 1)],
        3: [(1, 1, 2, 0, 1, 2)],
    }
    for mode, opname in [("reflect", "reflection"), ("replicate", "replication")]:
        for nd, plist in pads.items():
            op = getattr(aten, f"{opname}_pad{nd}d").default
            for i, pad in enumerate(plist):
                shape = {1: (2, 3, 5), 2: (2, 3, 4, 5), 3: (1, 2, 3, 4, 5)}[nd]
                add(Case(f"{opname}{nd}d_{i}", lambda x, pad=pad, mode=mode: F.pad(x, pad, mode=mode),
                         lambda shape=shape: [rnd(*shape)], f"aten::{opname}_pad{nd}d.out", EXACT, preserve=(op,)))
        op = getattr(aten, f"{opname}_pad2d").default
        add(Case(f"{opname}2d_unbatched_int", lambda x, mode=mode: F.pad(x, (2, 1, 1, 2), mode=mode),
                 lambda: [rint(3, 4, 4, dtype=torch.int32)], f"aten::{opname}_pad2d.out", EXACT, preserve=(op,)))
    # ---- pixel shuffle ------------------------------------------------------------------------
    ps, pu = (aten.pixel_shuffle.default,), (aten.pixel_unshuffle.default,)
    add(Case("pixel_shuffle", lambda x: F.pixel_shuffle(x, 2), lambda: [rnd(2, 8, 3, 5)], "aten::pixel_shuffle.out",
             EXACT, preserve=ps))
    add(Case("pixel_shuffle_r3_int", lambda x: F.pixel_shuffle(x, 3), lambda: [rint(1, 9, 2, 2)],
             "aten::pixel_shuffle.out", EXACT, preserve=ps))
    add(Case("pixel_shuffle_5d", lambda x: F.pixel_shuffle(x, 2), lambda: [rnd(2, 2, 4, 3, 3)], "aten::pixel_shuffle.out",
             EXACT, preserve=ps))
    add(Case("pixel_unshuffle", lambda x: F.pixel_unshuffle(x, 2), lambda: [rnd(2, 3, 4, 6)], "aten::pixel_unshuffle.out",
             EXACT, preserve=pu))
    add(Case("pixel_unshuffle_r3", lambda x: F.pixel_unshuffle(x, 3), lambda: [rnd(1, 2, 6, 9, dtype=torch.float16)],
             "aten::pixel_unshuffle.out", EXACT, preserve=pu))
    # ---- convolution: 3-D, Half/BFloat16 as PyTorch's CPU kernels round, Long exactly ---------
    def conv(fn, **kw):
        return lambda x, w, b=None: fn(x, w, b, **kw)

    conv_fw = [
        ("conv3d", F.conv3d, dict(stride=(2, 1, 1), padding=(1, 0, 2), dilation=(1, 2, 1), groups=2),
         (2, 4, 5, 6, 7), (6, 2, 3, 2, 3)),
        ("conv3d_pointwise", F.conv3d, dict(), (1, 3, 2, 3, 4), (5, 3, 1, 1, 1)),
        ("convt3d", F.conv_transpose3d, dict(stride=(2, 1, 2), padding=(1, 0, 1), output_padding=(1, 0, 0),
                                             groups=2, dilation=(1, 2, 1)),
         (2, 4, 3, 4, 3), (4, 3, 2, 3, 2)),
        ("convt2d", F.conv_transpose2d, dict(stride=2, padding=1, output_padding=1), (2, 8, 4, 5), (8, 3, 3, 3)),
        ("conv2d_depthwise", F.conv2d, dict(padding=1, groups=4), (2, 4, 6, 6), (4, 1, 3, 3)),
        ("conv1d_wide", F.conv1d, dict(stride=2, padding=2), (2, 20, 9), (3, 20, 3)),
    ]
    for name, fn, kw, xs, ws in conv_fw:
        tr = fn in (F.conv_transpose2d, F.conv_transpose3d)
        cout = ws[1] * kw.get("groups", 1) if tr else ws[0]
        add(Case(f"{name}_f32", conv(fn, **kw),
                 lambda xs=xs, ws=ws, cout=cout: [rnd(*xs, seed=1), rnd(*ws, seed=2), rnd(cout, seed=3)],
                 "aten::convolution.out", F32_ACC))
        for dt, tag in [(torch.float16, "f16"), (torch.bfloat16, "bf16")]:
            add(Case(f"{name}_{tag}", conv(fn, **kw),
                     lambda xs=xs, ws=ws, cout=cout, dt=dt: [rnd(*xs, dtype=dt, seed=1), rnd(*ws, dtype=dt, seed=2),
                                                            rnd(cout, dtype=dt, seed=3)],
                     "aten::convolution.out", EXACT))
        add(Case(f"{name}_i64", conv(fn, **kw),
                 lambda xs=xs, ws=ws, cout=cout: [rint(*xs, dtype=torch.int64, seed=1),
                                                  rint(*ws, dtype=torch.int64, seed=2),
                                                  rint(cout, dtype=torch.int64, seed=3)],
                 "aten::convolution.out", EXACT))
    add(Case("conv2d_u8_wraps", conv(F.conv2d, padding=1), lambda: [rint(1, 3, 5, 5, lo=0, hi=256, dtype=torch.uint8),
                                                                   rint(2, 3, 3, 3, lo=0, hi=256, dtype=torch.uint8, seed=1)],
             "aten::convolution.out", EXACT))
    # ---- avg_pool2d on Long: wrapping sum, truncating division ------------------------------------
    add(Case("avg_pool_i64", lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
             lambda: [rint(2, 3, 9, 8, lo=-100, hi=100, dtype=torch.int64)], "aten::avg_pool2d.out", EXACT))
    add(Case("avg_pool_i64_divisor", lambda x: F.avg_pool2d(x, (2, 3), 1, 1, divisor_override=4),
             lambda: [rint(1, 2, 5, 6, lo=-50, hi=50, dtype=torch.int64)], "aten::avg_pool2d.out", EXACT))
    # ---- convolution_backward: gradients summed in another order ------------------------------
    def conv_bw(stride, pad, dil, transposed, opad, groups, mask=(True, True, True)):
        def f(g, x, w):
            cout = g.shape[1]
            return aten.convolution_backward(g, x, w, [cout], stride, pad, dil, transposed, opad, groups, list(mask))
        return f

    def conv_inputs(n, cin, hw, cout, k, stride, pad, dil, transposed, opad, groups, dt=torch.float32):
        x = rnd(n, cin, *hw, dtype=dt, seed=1)
        wshape = (cin, cout // groups, *k) if transposed else (cout, cin // groups, *k)
        w = rnd(*wshape, dtype=dt, seed=2)
        y = aten.convolution(x, w, None, stride, pad, dil, transposed, opad, groups)
        return [rnd(*y.shape, dtype=dt, seed=3), x, w]

    conv_specs = [
        ("conv_bw_3x3", 2, 3, (6, 5), 4, (3, 3), [1, 1], [1, 1], [1, 1], False, [0, 0], 1),
        ("conv_bw_stride_dil", 1, 4, (9, 8), 6, (3, 2), [2, 3], [1, 0], [2, 1], False, [0, 0], 2),
        ("conv_bw_depthwise", 2, 4, (5, 5), 4, (3, 3), [1, 1], [1, 1], [1, 1], False, [0, 0], 4),
        ("conv_bw_1d", 2, 3, (11,), 4, (3,), [2], [1], [1], False, [0], 1),
        ("conv_bw_transposed", 2, 3, (4, 3), 4, (3, 3), [2, 1], [1, 1], [1, 1], True, [1, 0], 1),
        ("conv_bw_transposed_groups", 1, 4, (3, 4), 6, (2, 3), [2, 2], [0, 1], [1, 1], True, [0, 1], 2),
    ]
    for name, n, cin, hw, cout, k, s, p, d, tr, op_, g in conv_specs:
        add(Case(name, conv_bw(s, p, d, tr, op_, g),
                 lambda n=n, cin=cin, hw=hw, cout=cout, k=k, s=s, p=p, d=d, tr=tr, op_=op_, g=g:
                 conv_inputs(n, cin, hw, cout, k, s, p, d, tr, op_, g),
                 "aten::convolution_backward.out", dict(rtol=1e-5, atol=2e-5)))
    add(Case("conv_bw_f64", conv_bw([1, 2], [0, 1], [1, 1], False, [0, 0], 1),
             lambda: conv_inputs(2, 2, (5, 6), 3, (2, 3), [1, 2], [0, 1], [1, 1], False, [0, 0], 1, torch.float64),
             "aten::convolution_backward.out", F64))
    # ---- max_pool2d_with_indices_backward ---------------------------------------------------------
    def mp_bw(k, s, p, d, ceil):
        return lambda g, x, i: aten.max_pool2d_with_indices_backward(g, x, k, s, p, d, ceil, i)

    def mp_inputs(shape, k, s, p, d, ceil, dt=torch.float32):
        x = rnd(*shape, dtype=dt, seed=1)
        i = _max_pool_indices(x, k, s, p, d, ceil)
        return [rnd(*i.shape, dtype=dt, seed=2), x, i]

    for name, shape, k, s, p, d, ceil in [
        ("mp_bw_2x2", (2, 3, 6, 8), [2, 2], [2, 2], [0, 0], [1, 1], False),
        ("mp_bw_overlap", (1, 2, 7, 7), [3, 3], [2, 2], [1, 1], [1, 1], True),
        ("mp_bw_dilated_3d", (3, 9, 8), [2, 3], [1, 2], [1, 0], [2, 1], False),
    ]:
        add(Case(name, mp_bw(k, s, p, d, ceil), lambda shape=shape, k=k, s=s, p=p, d=d, ceil=ceil:
                 mp_inputs(shape, k, s, p, d, ceil), "aten::max_pool2d_with_indices_backward.grad_input", F32))
    return cs


CASES = _cases()


# ---------------------------------------------------------------------------
# Export (cached) and run


def _versions() -> str:
    import executorch.version as ev

    return f"torch={torch.__version__};executorch={getattr(ev, '__version__', '?')}"


def _simple(v: object) -> bool:
    if isinstance(v, (list, tuple)):
        return all(_simple(x) for x in v)
    return v is None or isinstance(v, (bool, int, float, str))


def _case_key(case: Case, inputs: Sequence[torch.Tensor]) -> str:
    """The case's source, the plain values its function closes over or takes
    as defaults, its input specs and the versions."""
    fn = case.module or case.fn
    src = inspect.getsource(fn)
    bound = [c.cell_contents for c in (fn.__closure__ or ()) if _simple(c.cell_contents)]
    bound += [v for v in (fn.__defaults__ or ()) if _simple(v)]
    specs = [(tuple(t.shape), str(t.dtype)) for t in inputs]
    h = hashlib.sha256(repr((case.name, src, bound, specs, [str(o) for o in case.exception_list],
                             [str(o) for o in case.preserve], _versions())).encode())
    return h.hexdigest()[:16]


def _module(case: Case) -> torch.nn.Module:
    return case.module() if case.module else _Fn(case.fn)


def _operators(buf: bytes) -> List[str]:
    from executorch.exir._serialize._program import deserialize_pte_binary

    prog = deserialize_pte_binary(buf)
    prog = getattr(prog, "program", prog)
    return [o.name + (("." + o.overload) if o.overload else "") for o in prog.execution_plan[0].operators]


def _export(case: Case, inputs: Sequence[torch.Tensor]) -> bytes:
    path = CACHE / f"{case.name}-{_case_key(case, inputs)}.pte"
    if path.exists():
        return path.read_bytes()
    from executorch.exir import EdgeCompileConfig, to_edge

    ep = torch.export.export(_module(case), tuple(inputs))
    cfg = EdgeCompileConfig(
        _core_aten_ops_exception_list=list(case.exception_list), preserve_ops=list(case.preserve)
    )
    buf = to_edge(ep, compile_config=cfg).to_executorch().buffer
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_bytes(buf)
    tmp.replace(path)
    return buf


def _np(t: torch.Tensor) -> np.ndarray:
    if t.dtype == torch.bfloat16:
        return t.float().numpy()
    return t.detach().numpy()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_kernel_matches_eager(case: Case) -> None:
    inputs = list(case.inputs())
    buf = _export(case, inputs)
    ops = _operators(buf)
    assert case.op in ops, f"the exported program lacks {case.op}: {ops}"
    outs = rt.load_program(buf).load_method("forward").execute(inputs)
    if case.check is not None:
        case.check(inputs, [np.asarray(o) for o in outs])
        return
    with torch.no_grad():
        if case.ref_in_float:
            ref = _module(case)(*[t.float() for t in inputs])
            ref = tuple(r.to(inputs[0].dtype) for r in ref) if isinstance(ref, tuple) else ref.to(inputs[0].dtype)
        else:
            ref = _module(case)(*[t.clone() for t in inputs])
    refs = list(ref) if isinstance(ref, (tuple, list)) else [ref]
    assert len(outs) == len(refs), (len(outs), len(refs))
    for k, (got, want) in enumerate(zip(outs, refs)):
        got = np.asarray(got)
        want_dtype = "bfloat16" if want.dtype == torch.bfloat16 else _np(want).dtype.name
        assert tolerance.dtype_name(got) == want_dtype, (k, got.dtype, want.dtype)
        # Half/BFloat16: a dtype-derived tolerance whatever the case's (eager's
        # reduced-precision path depends on the CPU); these outputs are sums or
        # O(1) values, so the steps are taken at the output's magnitude.
        tolerance.assert_close_to_eager(got, want, accumulates=True, err_msg=f"output {k}",
                                        **case.tol)


def test_case_count_is_modest() -> None:
    assert 100 <= len(CASES) <= 200, len(CASES)
