"""Indexing, scatter, view-copy and factory kernels against PyTorch eager,
through programs exported by upstream ExecuTorch.

Each case is a one-operator module; its program is exported with upstream's
``to_edge(torch.export.export(m, args)).to_executorch()`` and must contain
the operator under test (checked in the program's operator table). Where
torch.export or to_edge would decompose the operator (t, transpose,
squeeze.dim, select_scatter, split, unbind, stack, roll, tril, zeros, ones,
fill, repeat_interleave) the case keeps it with
``EdgeCompileConfig(preserve_ops=...)``; ``aten::empty.out`` needs
``_skip_dim_order=True`` (otherwise it becomes _empty_dim_order).

Operators the exporter never emits from a model are put into the edge graph
by replacing one node's target before ``to_executorch`` (the emitter then
writes the out variant exactly as for any other operator):
``lift_fresh_copy`` (export turns it into clone), ``et_copy::_h2d_copy`` and
``_d2h_copy`` (inserted only by upstream's device-placement pass for device
delegates) and ``index_put_`` (functionalization turns it into index_put +
copy_). ``aten::view_as_real_copy.out`` needs a complex input, which
edgetorch's program loader refuses, so it is tested by the C suite only.

The program runs on edgetorch through the Python binding; outputs must equal
eager exactly (these kernels move elements; accumulating cases use
integer-valued data so the order of additions cannot matter), except that
Half/BFloat16 outputs are compared, as in every eager-comparison suite, at
the dtype-derived tolerance of tests/python/tolerance.py. Programs whose
inputs break the kernels' rules (out-of-range or negative indices, too short
a source) must fail with InvalidArgument and a message naming the operator.
rand/randn are checked for shape, dtype, range and moments (their values
are not torch's, see kernels/util/random_util.h); empty for shape and dtype.

Exports are cached under build/testdata/index_vs_torch/, keyed by the case's
code, its input specs and the torch/executorch versions.

Run: .venv/bin/python -m pytest -q tests/python/test_kernels_index_vs_torch.py
(after ``.venv/bin/pip install --no-build-isolation --no-deps -e .``).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, List, Optional, Sequence, Tuple

import numpy as np
import pytest
import torch

import edgetorch.runtime as rt
import tolerance

REPO = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("ET_TESTDATA_DIR", REPO / "build" / "testdata")) / "index_vs_torch"
CACHE_VERSION = "1"
aten = torch.ops.aten


@dataclass
class Case:
    name: str
    fn: Callable[..., object]
    inputs: Callable[[], Sequence[torch.Tensor]]
    op: str  # the operator the program must contain
    preserve: Tuple[object, ...] = ()
    skip_dim_order: bool = False
    # (substring of an edge node's target, replacement op): graph surgery
    replace: Optional[Tuple[str, object]] = None
    check: Optional[Callable[[Sequence[torch.Tensor], List[np.ndarray]], None]] = None
    # more input sets run on the same program (same shapes and dtypes)
    more: Tuple[Callable[[], Sequence[torch.Tensor]], ...] = ()
    # input sets that must fail: (inputs, substring of the message)
    bad: Tuple[Tuple[Callable[[], Sequence[torch.Tensor]], str], ...] = field(default_factory=tuple)


class _Fn(torch.nn.Module):
    def __init__(self, fn: Callable[..., object]) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, *args: torch.Tensor):  # noqa: D401
        out = self.fn(*args)
        return tuple(out) if isinstance(out, (tuple, list)) else out


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def R(*shape: int, dtype=torch.float32, seed: int = 0) -> torch.Tensor:
    """Deterministic test data of any dtype (integer-valued for integers)."""
    g = _gen(seed)
    if dtype == torch.bool:
        return torch.rand(*shape, generator=g) > 0.5
    if dtype == torch.uint8:
        return torch.randint(0, 200, shape, generator=g).to(dtype)
    if not dtype.is_floating_point:
        return torch.randint(-100, 100, shape, generator=g).to(dtype)
    return torch.randn(*shape, generator=g).to(dtype)


def RI(*shape: int, dtype=torch.float32, seed: int = 0) -> torch.Tensor:
    """Small integer values in any dtype (exact sums in every order)."""
    return torch.randint(-8, 8, shape, generator=_gen(seed)).to(dtype)


def idx(*shape: int, hi: int, lo: int = 0, seed: int = 0, dtype=torch.long) -> torch.Tensor:
    return torch.randint(lo, hi, shape, generator=_gen(seed)).to(dtype)


def perm_rows(n: int, k: int, seed: int = 0) -> torch.Tensor:
    """k distinct values of [0, n)."""
    return torch.randperm(n, generator=_gen(seed))[:k]


def scatter_index(shape: Sequence[int], dim: int, size: int, seed: int = 0) -> torch.Tensor:
    """An index for scatter whose values are distinct along `dim` (scatter
    with repeated targets has no defined winner)."""
    g = _gen(seed)
    s = list(shape)
    n = s[dim]
    s[dim] = 1
    out = torch.empty(*shape, dtype=torch.long)
    for pos in np.ndindex(*s):
        p = torch.randperm(size, generator=g)[:n]
        sl = list(pos)
        sl[dim] = slice(None)
        out[tuple(sl)] = p
    return out


# ---------------------------------------------------------------------------
# Checks for cases that are not compared exactly


def _shape_dtype(shape, dtype: np.dtype):
    def check(inputs, outs):
        assert outs[0].shape == tuple(shape)
        assert np.asarray(outs[0]).dtype == dtype

    return check


def _uniform(shape, np_dtype):
    def check(inputs, outs):
        o = np.asarray(outs[0])
        assert o.shape == tuple(shape) and o.dtype == np_dtype
        v = o.astype(np.float64)
        assert v.min() >= 0 and v.max() < 1
        assert abs(v.mean() - 0.5) < 0.02 and abs(v.var() - 1 / 12) < 0.01

    return check


def _normal(shape, np_dtype):
    def check(inputs, outs):
        o = np.asarray(outs[0])
        assert o.shape == tuple(shape) and o.dtype == np_dtype
        v = o.astype(np.float64)
        assert np.isfinite(v).all()
        assert abs(v.mean()) < 0.05 and abs(v.var() - 1) < 0.06
        assert 0.66 < (np.abs(v) < 1).mean() < 0.705

    return check


# ---------------------------------------------------------------------------
# Cases

f16, bf16, f32, f64 = torch.float16, torch.bfloat16, torch.float32, torch.float64
i8, u8, i16, i32, i64, b8 = torch.int8, torch.uint8, torch.int16, torch.int32, torch.int64, torch.bool

def _mask_put(x, m, v):
    return aten.index_put(x, [m], v)


CASES: List[Case] = [
    # ---- index_put -------------------------------------------------------------
    Case("index_put_rows_f32", lambda x, i, v: aten.index_put(x, [i], v),
         lambda: (R(5, 4), perm_rows(5, 3), R(3, 4, seed=1)), "aten::index_put.out",
         more=(lambda: (R(5, 4, seed=2), torch.tensor([-1, 0, -5]), R(3, 4, seed=3)),),
         bad=((lambda: (R(5, 4), torch.tensor([0, 5, 1]), R(3, 4)), "index 5 (element 1) is out of range"),
              (lambda: (R(5, 4), torch.tensor([0, -6, 1]), R(3, 4)), "index -6"))),
    Case("index_put_acc_f16", lambda x, i, v: aten.index_put(x, [i], v, True),
         lambda: (RI(5, 4, dtype=f16), idx(7, hi=5), RI(7, 4, dtype=f16, seed=1)), "aten::index_put.out"),
    Case("index_put_two_i32", lambda x, i, j, v: aten.index_put(x, [i, j], v),
         lambda: (R(4, 6, dtype=i32), torch.tensor([0, 3, -1]), torch.tensor([5, -6, 2]),
                  R(3, dtype=i32, seed=1)), "aten::index_put.out"),
    Case("index_put_bcast_idx_f64", lambda x, i, j, v: aten.index_put(x, [i, j], v),
         lambda: (R(4, 6, dtype=f64), torch.tensor([[0], [2]]), torch.tensor([1, 3, 5], dtype=torch.int32),
                  R(3, dtype=f64, seed=1)), "aten::index_put.out"),
    Case("index_put_none_u8", lambda x, j, v: aten.index_put(x, [None, j], v),
         lambda: (R(3, 5, dtype=u8), torch.tensor([4, 0]), R(3, 2, dtype=u8, seed=1)), "aten::index_put.out"),
    Case("index_put_nonadj_i64", lambda x, i, k, v: aten.index_put(x, [i, None, k], v),
         lambda: (R(3, 2, 4, dtype=i64), torch.tensor([2, 0]), torch.tensor([-1, 1]),
                  R(2, 2, dtype=i64, seed=1)), "aten::index_put.out"),
    Case("index_put_acc_rows_bf16", lambda x, i, v: aten.index_put(x, [i], v, True),
         lambda: (RI(4, 3, dtype=bf16), torch.tensor([1, 1, 3, 1]), RI(3, dtype=bf16, seed=1)),
         "aten::index_put.out"),
    Case("index_put_mask_f32", _mask_put,
         lambda: (R(4, 5), R(4, 5, seed=1) > 0, torch.tensor(7.0)), "aten::index_put.out",
         more=(lambda: (R(4, 5), torch.zeros(4, 5, dtype=b8), torch.tensor(7.0)),
               lambda: (R(4, 5), torch.ones(4, 5, dtype=b8), torch.tensor(-1.0)))),
    Case("index_put_mask_rows_bool", lambda x, m, v: aten.index_put(x, [m], v),
         lambda: (R(4, 3, dtype=b8), torch.tensor([True, False, True, True]), torch.tensor([True, False, True])),
         "aten::index_put.out"),
    Case("index_put_inplace_f32", lambda x, i, v: aten.index_put(x, [i], v),
         lambda: (R(5, 4), perm_rows(5, 2), R(2, 4, seed=1)), "aten::index_put_",
         replace=("index_put", aten.index_put_.default)),
    # ---- index_select ----------------------------------------------------------
    Case("index_select_f32_dim1", lambda x, i: torch.index_select(x, 1, i),
         lambda: (R(3, 6), torch.tensor([5, 0, 0, 2])), "aten::index_select.out",
         bad=((lambda: (R(3, 6), torch.tensor([5, 0, -1, 2])), "index -1 (element 2) is out of range"),)),
    Case("index_select_i8_dim0_int", lambda x, i: torch.index_select(x, 0, i),
         lambda: (R(5, 2, 3, dtype=i8), torch.tensor([4, 1], dtype=torch.int32)), "aten::index_select.out"),
    Case("index_select_bool_last", lambda x, i: torch.index_select(x, -1, i),
         lambda: (R(2, 3, 4, dtype=b8), torch.tensor([3, 3, 1])), "aten::index_select.out"),
    Case("index_select_bf16_0d", lambda x, i: torch.index_select(x, 0, i),
         lambda: (R(4, 5, dtype=bf16), torch.tensor(2)), "aten::index_select.out"),
    # ---- scatter / scatter_add ------------------------------------------------
    Case("scatter_src_f32_dim0", lambda x, i, s: torch.scatter(x, 0, i, s),
         lambda: (R(5, 4), scatter_index((3, 4), 0, 5), R(4, 4, seed=1)), "aten::scatter.src_out",
         bad=((lambda: (R(5, 4), torch.full((3, 4), -1), R(4, 4)), "index -1 (element 0) is out of range"),)),
    Case("scatter_src_i64_dim1", lambda x, i, s: torch.scatter(x, 1, i, s),
         lambda: (R(3, 6, dtype=i64), scatter_index((2, 3), 1, 6), R(3, 4, dtype=i64, seed=1)),
         "aten::scatter.src_out"),
    Case("scatter_src_f16_3d", lambda x, i, s: torch.scatter(x, -1, i, s),
         lambda: (R(2, 3, 5, dtype=f16), scatter_index((2, 3, 2), 2, 5), R(2, 3, 2, dtype=f16, seed=1)),
         "aten::scatter.src_out"),
    Case("scatter_value_f32", lambda x, i: torch.scatter(x, 1, i, 2.5),
         lambda: (R(3, 4), scatter_index((3, 2), 1, 4)), "aten::scatter.value_out",
         bad=((lambda: (R(3, 4), torch.tensor([[0, 4], [1, 2], [0, 1]])), "index 4 (element 1)"),)),
    Case("scatter_value_i16", lambda x, i: torch.scatter(x, 0, i, -3),
         lambda: (R(4, 3, dtype=i16), scatter_index((2, 3), 0, 4)), "aten::scatter.value_out"),
    Case("scatter_value_bool", lambda x, i: torch.scatter(x, 0, i, True),
         lambda: (torch.zeros(4, 2, dtype=b8), scatter_index((1, 2), 0, 4)), "aten::scatter.value_out"),
    Case("scatter_add_f32", lambda x, i, s: torch.scatter_add(x, 0, i, s),
         lambda: (RI(4, 5), idx(6, 5, hi=4), RI(6, 5, seed=1)), "aten::scatter_add.out"),
    Case("scatter_add_i32_dim1", lambda x, i, s: torch.scatter_add(x, 1, i, s),
         lambda: (R(3, 4, dtype=i32), idx(3, 7, hi=4), R(3, 8, dtype=i32, seed=1)), "aten::scatter_add.out",
         bad=((lambda: (R(3, 4, dtype=i32), torch.full((3, 7), 4), R(3, 8, dtype=i32)), "index 4"),)),
    Case("scatter_add_bf16", lambda x, i, s: torch.scatter_add(x, -1, i, s),
         lambda: (RI(2, 3, dtype=bf16), idx(2, 4, hi=3), RI(2, 4, dtype=bf16, seed=1)), "aten::scatter_add.out"),
    # ---- masked_scatter / masked_select / nonzero --------------------------------
    Case("masked_scatter_f32_bcast", lambda x, m, s: x.masked_scatter(m, s),
         lambda: (R(3, 4), R(4, seed=1) > 0, R(12, seed=2)), "aten::masked_scatter.out",
         more=(lambda: (R(3, 4), torch.ones(4, dtype=b8), R(12, seed=2)),
               lambda: (R(3, 4), torch.zeros(4, dtype=b8), R(12, seed=2)))),
    Case("masked_scatter_i64", lambda x, m, s: x.masked_scatter(m, s),
         lambda: (R(2, 3, dtype=i64), torch.tensor([[True, False, True], [False, False, True]]),
                  R(2, 2, dtype=i64, seed=2)),
         "aten::masked_scatter.out",
         bad=((lambda: (R(2, 3, dtype=i64), torch.ones(2, 3, dtype=b8), R(2, 2, dtype=i64)),
               "source: has 4 elements, but the mask selects 6"),)),
    Case("masked_scatter_bool", lambda x, m, s: x.masked_scatter(m, s),
         lambda: (R(5, dtype=b8), R(5, seed=1) > 0, R(5, dtype=b8, seed=2)), "aten::masked_scatter.out"),
    Case("masked_select_f32", lambda x, m: torch.masked_select(x, m),
         lambda: (R(3, 4), R(3, 4, seed=1) > 0), "aten::masked_select.out",
         more=(lambda: (R(3, 4), torch.zeros(3, 4, dtype=b8)), lambda: (R(3, 4), torch.ones(3, 4, dtype=b8)))),
    Case("masked_select_u8_bcast", lambda x, m: torch.masked_select(x, m),
         lambda: (R(2, 3, 4, dtype=u8), R(3, 1, seed=1) > 0), "aten::masked_select.out"),
    # upstream's exporter bounds the result by self.numel(), so a mask that
    # broadcasts self up can overflow the planned out: a clean failure
    Case("masked_select_f16_self_bcast", lambda x, m: torch.masked_select(x, m),
         lambda: (R(6, dtype=f16), torch.tensor([[True], [False]])), "aten::masked_select.out",
         bad=((lambda: (R(6, dtype=f16), torch.tensor([[True], [True]])), "out: cannot resize output"),)),
    Case("masked_select_f16", lambda x, m: torch.masked_select(x, m),
         lambda: (R(2, 6, dtype=f16), R(6, seed=1) > 0), "aten::masked_select.out"),
    Case("nonzero_f32", lambda x: torch.nonzero(x),
         lambda: (torch.where(R(4, 5, seed=1) > 0, R(4, 5), torch.zeros(())),), "aten::nonzero.out",
         more=(lambda: (torch.zeros(4, 5),), lambda: (torch.tensor([[0.0, float("nan"), -0.0, 1.0, 0.0]] * 4),))),
    Case("nonzero_bool_3d", lambda x: torch.nonzero(x),
         lambda: (R(2, 3, 4, dtype=b8),), "aten::nonzero.out"),
    Case("nonzero_i8", lambda x: torch.nonzero(x),
         lambda: (torch.tensor([0, 3, 0, -1, 0, 0, 9], dtype=i8),), "aten::nonzero.out"),
    Case("repeat_interleave_i64", lambda r: torch.repeat_interleave(r, output_size=6),
         lambda: (torch.tensor([1, 2, 0, 3]),), "aten::repeat_interleave.Tensor_out",
         preserve=(aten.repeat_interleave.Tensor,),
         more=(lambda: (torch.tensor([0, 0, 6, 0]),),),
         bad=((lambda: (torch.tensor([1, 2, 0, 2]),), "output_size 6 does not match the sum of repeats 5"),
              (lambda: (torch.tensor([1, 2, -1, 4]),), "repeats: value -1 (element 2) is negative"))),
    Case("repeat_interleave_i32", lambda r: torch.repeat_interleave(r, output_size=5),
         lambda: (torch.tensor([2, 0, 3], dtype=torch.int32),), "aten::repeat_interleave.Tensor_out",
         preserve=(aten.repeat_interleave.Tensor,)),
    # ---- copies ------------------------------------------------------------------
    Case("copy_bcast_convert", lambda x, y: aten.copy(x, y),
         lambda: (R(3, 4), R(4, dtype=i32, seed=1)), "aten::copy.out"),
    Case("copy_f16", lambda x, y: aten.copy(x, y),
         lambda: (R(2, 3, dtype=f16), R(2, 3, dtype=f16, seed=1)), "aten::copy.out"),
    Case("detach_copy_f32", lambda x: aten.detach_copy(x), lambda: (R(3, 4),), "aten::detach_copy.out"),
    Case("detach_copy_i64", lambda x: aten.detach_copy(x), lambda: (R(2, 0, 3, dtype=i64),),
         "aten::detach_copy.out"),
    Case("lift_fresh_copy_bf16", lambda x: aten.detach_copy(x), lambda: (R(3, 4, dtype=bf16),),
         "aten::lift_fresh_copy.out", replace=("detach_copy", aten.lift_fresh_copy.default)),
    Case("h2d_copy_f32", lambda x: aten.detach_copy(x), lambda: (R(2, 5),), "et_copy::_h2d_copy.out",
         replace=("detach_copy", "et_copy::_h2d_copy")),
    Case("d2h_copy_i8", lambda x: aten.detach_copy(x), lambda: (R(7, dtype=i8),), "et_copy::_d2h_copy.out",
         replace=("detach_copy", "et_copy::_d2h_copy")),
    Case("as_strided_f32", lambda x: torch.as_strided(x, (2, 3), (1, 4), 1), lambda: (R(3, 4),),
         "aten::as_strided_copy.out"),
    Case("as_strided_i32_overlap", lambda x: torch.as_strided(x, (3, 3), (1, 1), 2), lambda: (R(12, dtype=i32),),
         "aten::as_strided_copy.out"),
    Case("as_strided_bool_bcast", lambda x: torch.as_strided(x, (2, 4, 2), (0, 2, 1), 0),
         lambda: (R(4, 2, dtype=b8),), "aten::as_strided_copy.out"),
    Case("t_copy_f32", lambda x: x.t(), lambda: (R(3, 5),), "aten::t_copy.out", preserve=(aten.t.default,)),
    Case("t_copy_i8_1d", lambda x: x.t(), lambda: (R(5, dtype=i8),), "aten::t_copy.out",
         preserve=(aten.t.default,)),
    Case("transpose_f32", lambda x: x.transpose(0, 2), lambda: (R(2, 3, 4),), "aten::transpose_copy.int_out",
         preserve=(aten.transpose.int,)),
    Case("transpose_bool", lambda x: x.transpose(1, -1), lambda: (R(3, 40, 33, dtype=b8),),
         "aten::transpose_copy.int_out", preserve=(aten.transpose.int,)),
    Case("squeeze_dim_f32", lambda x: x.squeeze(1), lambda: (R(3, 1, 4),), "aten::squeeze_copy.dim_out",
         preserve=(aten.squeeze.dim,)),
    Case("squeeze_dim_keep_i16", lambda x: x.squeeze(-1), lambda: (R(3, 1, 4, dtype=i16),),
         "aten::squeeze_copy.dim_out", preserve=(aten.squeeze.dim,)),
    # ---- scatters into slices; narrow / split / unbind / unfold / diagonal -------
    Case("select_scatter_f32", lambda x, s: torch.select_scatter(x, s, 0, 1),
         lambda: (R(3, 4), R(4, seed=1)), "aten::select_scatter.out", preserve=(aten.select_scatter.default,)),
    Case("select_scatter_i32_last", lambda x, s: torch.select_scatter(x, s, -1, -1),
         lambda: (R(2, 3, 4, dtype=i32), R(2, 3, dtype=i32, seed=1)), "aten::select_scatter.out",
         preserve=(aten.select_scatter.default,)),
    Case("slice_scatter_f32", lambda x, s: torch.slice_scatter(x, s, 1, 0, 4, 2),
         lambda: (R(3, 5), R(3, 2, seed=1)), "aten::slice_scatter.out"),
    Case("slice_scatter_f16_dim0", lambda x, s: torch.slice_scatter(x, s, 0, 1),
         lambda: (R(4, 3, dtype=f16), R(3, 3, dtype=f16, seed=1)), "aten::slice_scatter.out"),
    Case("slice_scatter_u8_step3", lambda x, s: torch.slice_scatter(x, s, -1, -7, None, 3),
         lambda: (R(2, 8, dtype=u8), R(2, 3, dtype=u8, seed=1)), "aten::slice_scatter.out"),
    Case("narrow_f32", lambda x: torch.narrow_copy(x, 1, 1, 2), lambda: (R(3, 5),), "aten::narrow_copy.out"),
    Case("narrow_u8_neg", lambda x: torch.narrow_copy(x, 0, -3, 2), lambda: (R(4, 3, dtype=u8),),
         "aten::narrow_copy.out"),
    Case("split_f32", lambda x: torch.split(x, 2, 1), lambda: (R(3, 5),), "aten::split_copy.Tensor_out",
         preserve=(aten.split.Tensor,)),
    Case("split_i64_dim0", lambda x: torch.split(x, 3, 0), lambda: (R(7, 2, dtype=i64),),
         "aten::split_copy.Tensor_out", preserve=(aten.split.Tensor,)),
    Case("unbind_f32", lambda x: torch.unbind(x, 1), lambda: (R(2, 3, 4),), "aten::unbind_copy.int_out",
         preserve=(aten.unbind.int,)),
    Case("unbind_bool", lambda x: torch.unbind(x, 0), lambda: (R(2, 5, dtype=b8),), "aten::unbind_copy.int_out",
         preserve=(aten.unbind.int,)),
    Case("unfold_f32", lambda x: x.unfold(1, 2, 1), lambda: (R(3, 5),), "aten::unfold_copy.out"),
    Case("unfold_i32_step", lambda x: x.unfold(0, 2, 2), lambda: (R(7, 3, dtype=i32),), "aten::unfold_copy.out"),
    Case("diagonal_f32", lambda x: torch.diagonal(x, 1), lambda: (R(4, 6),), "aten::diagonal_copy.out"),
    Case("diagonal_i64_3d", lambda x: torch.diagonal(x, -1, 2, 0), lambda: (R(4, 3, 5, dtype=i64),),
         "aten::diagonal_copy.out"),
    # ---- stack, flip, roll, repeat, tril ---------------------------------------
    Case("stack_f32_dim1", lambda a, b, c: torch.stack([a, b, c], 1),
         lambda: (R(2, 3), R(2, 3, seed=1), R(2, 3, seed=2)), "aten::stack.out", preserve=(aten.stack.default,)),
    Case("stack_i64_neg", lambda a, b: torch.stack([a, b], -1),
         lambda: (R(4, dtype=i64), R(4, dtype=i64, seed=1)), "aten::stack.out", preserve=(aten.stack.default,)),
    Case("flip_f32", lambda x: torch.flip(x, [1]), lambda: (R(3, 5),), "aten::flip.out"),
    Case("flip_bf16_two", lambda x: torch.flip(x, [0, 2]), lambda: (R(2, 3, 4, dtype=bf16),), "aten::flip.out"),
    Case("flip_bool_last", lambda x: torch.flip(x, [-1]), lambda: (R(4, 7, dtype=b8),), "aten::flip.out"),
    Case("roll_f32", lambda x: torch.roll(x, 1, 1), lambda: (R(3, 5),), "aten::roll.out",
         preserve=(aten.roll.default,)),
    Case("roll_i32_two", lambda x: torch.roll(x, (2, -1), (0, 1)), lambda: (R(3, 4, dtype=i32),),
         "aten::roll.out", preserve=(aten.roll.default,)),
    Case("roll_f16_flat", lambda x: torch.roll(x, 5), lambda: (R(3, 4, dtype=f16),), "aten::roll.out",
         preserve=(aten.roll.default,)),
    Case("repeat_f32", lambda x: x.repeat(2, 1), lambda: (R(3, 4),), "aten::repeat.out"),
    Case("repeat_i8_lead", lambda x: x.repeat(2, 2, 3), lambda: (R(3, 1, dtype=i8),), "aten::repeat.out"),
    Case("tril_f32", lambda x: torch.tril(x), lambda: (R(4, 5),), "aten::tril.out", preserve=(aten.tril.default,)),
    Case("tril_i64_diag1", lambda x: torch.tril(x, 1), lambda: (R(3, 4, dtype=i64),), "aten::tril.out",
         preserve=(aten.tril.default,)),
    Case("tril_bf16_batched", lambda x: torch.tril(x, -1), lambda: (R(2, 3, 3, dtype=bf16),), "aten::tril.out",
         preserve=(aten.tril.default,)),
    # ---- factories -----------------------------------------------------------------
    Case("empty_dim_order", lambda x: torch.empty(3, 4), lambda: (R(1),), "dim_order_ops::_empty_dim_order.out",
         check=_shape_dtype((3, 4), np.float32)),
    Case("empty_out", lambda x: torch.empty(2, 5, dtype=torch.int32), lambda: (R(1),), "aten::empty.out",
         skip_dim_order=True, check=_shape_dtype((2, 5), np.int32)),
    Case("zeros_f16", lambda x: torch.zeros(3, 4, dtype=f16) + x, lambda: (R(4, dtype=f16),), "aten::zeros.out",
         preserve=(aten.zeros.default,)),
    Case("ones_i32", lambda x: torch.ones(2, 3, dtype=i32), lambda: (R(1),), "aten::ones.out",
         preserve=(aten.ones.default,)),
    Case("ones_bool", lambda x: torch.ones(4, dtype=b8), lambda: (R(1),), "aten::ones.out",
         preserve=(aten.ones.default,)),
    Case("fill_scalar_f32", lambda x: torch.fill(x, 2.5), lambda: (R(3, 4),), "aten::fill.Scalar_out",
         preserve=(aten.fill.Scalar,)),
    Case("fill_scalar_i8", lambda x: torch.fill(x, -3), lambda: (R(5, dtype=i8),), "aten::fill.Scalar_out",
         preserve=(aten.fill.Scalar,)),
    Case("fill_tensor_f64", lambda x, v: torch.fill(x, v), lambda: (R(2, 3, dtype=f64), torch.tensor(1.25, dtype=f64)),
         "aten::fill.Tensor_out", preserve=(aten.fill.Tensor,)),
    Case("fill_tensor_i16", lambda x, v: torch.fill(x, v), lambda: (R(4, dtype=i16), torch.tensor(300, dtype=i16)),
         "aten::fill.Tensor_out", preserve=(aten.fill.Tensor,)),
    Case("rand_f32", lambda x: torch.rand(64, 64), lambda: (R(1),), "aten::rand.out",
         check=_uniform((64, 64), np.float32)),
    Case("rand_f16", lambda x: torch.rand(4096, dtype=f16), lambda: (R(1),), "aten::rand.out",
         check=_uniform((4096,), np.float16)),
    Case("randn_f32", lambda x: torch.randn(8192), lambda: (R(1),), "aten::randn.out",
         check=_normal((8192,), np.float32)),
    Case("randn_f64", lambda x: torch.randn(64, 128, dtype=f64), lambda: (R(1),), "aten::randn.out",
         check=_normal((64, 128), np.float64)),
    # ---- gather: Long or Int indices; an empty index of any dtype and rank ----
    Case("gather_i32_index", lambda x, i: torch.gather(x, 1, i),
         lambda: (R(3, 5), idx(3, 4, hi=5, dtype=i32)), "aten::gather.out",
         bad=((lambda: (R(3, 5), torch.full((3, 4), 5, dtype=i32)), "out of range"),)),
    Case("gather_empty_u8_index", lambda x, i: torch.gather(x, 0, i),
         lambda: (R(5), torch.zeros(2, 0, dtype=u8)), "aten::gather.out"),
]


# ---------------------------------------------------------------------------
# Export, cached


def _versions() -> str:
    try:
        from importlib.metadata import version

        et = version("executorch")
    except Exception:  # pragma: no cover
        et = "?"
    return f"torch {torch.__version__} executorch {et}"


def _code_key(fn: Callable) -> str:
    code = fn.__code__
    return repr((code.co_code, code.co_consts, code.co_names))


def _cache_key(case: Case, inputs: Sequence[torch.Tensor]) -> str:
    spec = [(tuple(t.shape), str(t.dtype)) for t in inputs]
    h = hashlib.sha256()
    for part in (CACHE_VERSION, _versions(), case.name, _code_key(case.fn), repr(spec),
                 repr(case.preserve), repr(case.skip_dim_order), repr(case.replace)):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()[:16]


def _replace_target(edge, what: str, new) -> None:
    if isinstance(new, str):  # a custom op registered by executorch
        import executorch.exir.passes._device_copy_ops_registry  # noqa: F401

        ns, name = new.split("::")
        new = getattr(getattr(torch.ops, ns), name).default
    gm = edge.exported_program().graph_module
    hits = 0
    for node in gm.graph.nodes:
        if node.op == "call_function" and what in str(node.target):
            node.target = new
            hits += 1
    assert hits == 1, f"expected one {what} node, found {hits}"
    gm.recompile()


def export(case: Case, inputs: Sequence[torch.Tensor]) -> bytes:
    path = CACHE / f"{case.name}-{_cache_key(case, inputs)}.pte"
    if path.exists():
        return path.read_bytes()
    from executorch.exir import EdgeCompileConfig, to_edge

    ep = torch.export.export(_Fn(case.fn), tuple(inputs))
    cfg = EdgeCompileConfig(_check_ir_validity=False, preserve_ops=list(case.preserve),
                            _skip_dim_order=case.skip_dim_order)
    edge = to_edge(ep, compile_config=cfg)
    if case.replace:
        _replace_target(edge, *case.replace)
    buf = edge.to_executorch().buffer
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_bytes(buf)
    tmp.replace(path)
    return buf


def program_operators(buf: bytes) -> List[str]:
    from executorch.exir._serialize._program import deserialize_pte_binary

    prog = deserialize_pte_binary(buf)
    prog = getattr(prog, "program", prog)
    return [o.name + (f".{o.overload}" if o.overload else "") for o in prog.execution_plan[0].operators]


# ---------------------------------------------------------------------------
# Comparison


def _eager(case: Case, inputs: Sequence[torch.Tensor]) -> List[torch.Tensor]:
    out = case.fn(*[t.clone() for t in inputs])
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _as_comparable(a) -> np.ndarray:
    a = np.asarray(a)
    if a.dtype.name == "bfloat16":  # ml_dtypes: compare as float32 (exact)
        return a.astype(np.float32)
    return a


def _torch_np(t: torch.Tensor) -> np.ndarray:
    return (t.float() if t.dtype == torch.bfloat16 else t).numpy()


def _run(buf: bytes, inputs: Sequence[torch.Tensor]) -> List[np.ndarray]:
    method = rt.load_program(buf).load_method("forward")
    return method.execute([t.contiguous() for t in inputs])


def _compare(case: Case, inputs: Sequence[torch.Tensor], outs: List[np.ndarray]) -> None:
    if case.check:
        case.check(inputs, outs)
        return
    want = _eager(case, inputs)
    assert len(outs) == len(want), (len(outs), len(want))
    for k, (got, ref) in enumerate(zip(outs, want)):
        g, r = _as_comparable(got), _torch_np(ref)
        assert g.shape == r.shape, f"output {k}: shape {g.shape}, eager {r.shape}"
        assert g.dtype == r.dtype, f"output {k}: dtype {g.dtype}, eager {r.dtype}"
        tolerance.assert_close_to_eager(g, r, dtype=ref.dtype, err_msg=f"{case.name} output {k}")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_kernel_vs_torch(case: Case) -> None:
    inputs = list(case.inputs())
    buf = export(case, inputs)
    ops = program_operators(buf)
    assert case.op in ops, f"{case.name}: program has {ops}, not {case.op}"
    _compare(case, inputs, _run(buf, inputs))
    for more in case.more:
        extra = list(more())
        _compare(case, extra, _run(buf, extra))
    for bad, needle in case.bad:
        with pytest.raises(rt.EdgetorchError) as err:
            _run(buf, list(bad()))
        assert err.value.status == "InvalidArgument", err.value
        assert case.op in str(err.value), str(err.value)
        if needle:
            assert needle in str(err.value), str(err.value)


def test_case_names_unique() -> None:
    names = [c.name for c in CASES]
    assert len(set(names)) == len(names)
