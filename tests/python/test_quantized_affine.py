"""torchao's affine quantization ops (kernels/quantized: torchao::
quantize_affine.out, dequantize_affine.out, choose_qparams_affine.out)
against torchao's own reference, the eager ops.

* Each case is a one- or few-operator program: a module calling
  ``torch.ops.torchao.<op>`` exported with ``edgetorch.export`` (which must
  keep the op and emit its out variant: checked in the program's operator
  table), run on edgetorch's C runtime and compared bit for bit with the same
  call in eager PyTorch: every block_size granularity (per tensor, per axis,
  per group along the last dim, blocks over several dims) on odd shapes,
  zero points at the dtype's bounds, rounding ties (x / scale exactly k +
  0.5), narrow quant_min / quant_max, NaN and infinities, Half / BFloat16 /
  Double where torchao takes them, every target dtype torchao has (uint8,
  int8, int16, int32), the three mapping types.
* Upstream's exporter writes torchao-quantized models
  (Int8DynamicActivationIntxWeightConfig int4 PerGroup(32),
  IntxWeightOnlyConfig) with these ops left in the program when their out
  variants exist (torchao registers none: the test registers them, with
  the schemas upstream's gen_out_variant_schema derives); edgetorch runs the
  files and agrees with eager. Upstream's runtime has no kernels for them
  (its method load names the missing operators), so eager is the only
  oracle there; the test says so if that ever changes.
* Arguments made wrong inside a valid program are refused with the
  operator and the argument named.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List, Sequence

import numpy as np
import pytest
import torch

import torchao.quantization.quant_primitives  # noqa: F401  registers torch.ops.torchao

import edgetorch
import edgetorch.runtime as rt
from edgetorch.export import oplib
from quantized_corpus import upstream_isolated
from test_ops_def import expected_signature, parse_ops_def
from test_quantized_kernels import QOPS_DEF, _Fn, _g, _set_int_arg, rint, rnd

ta = torch.ops.torchao
Q, DQ, CQ = ("torchao::quantize_affine.out", "torchao::dequantize_affine.out",
             "torchao::choose_qparams_affine.out")
NAN, INF = float("nan"), float("inf")
BOUNDS = {torch.uint8: (0, 255), torch.int8: (-128, 127), torch.int16: (-32768, 32767),
          torch.int32: (-2**31, 2**31 - 1)}


@dataclass
class Case:
    name: str
    fn: Callable[..., object]
    inputs: Callable[[], Sequence[torch.Tensor]]
    ops: Sequence[str]  # kernels the program must call


def nblocks(shape, block) -> List[int]:
    """The shape of torchao's parameters for a block_size (keepdim form)."""
    return [s // b if b > 0 else 1 for s, b in zip(shape, block)]


def scales(shape, block, seed, dtype=torch.float32, lo=0.004, hi=0.06) -> torch.Tensor:
    return (torch.rand(nblocks(shape, block), generator=_g(seed)) * (hi - lo) + lo).to(dtype)


# (shape, block_size) for every granularity
GRANULARITIES = {
    "per_tensor": ((3, 5, 7), (3, 5, 7)),
    "per_axis0": ((5, 7), (1, 7)),
    "per_axis1": ((5, 7), (5, 1)),
    "per_axis_mid": ((3, 5, 7), (3, 1, 7)),
    "per_element": ((3, 4), (1, 1)),
    "group_last": ((4, 12), (1, 4)),
    "group_last_3d": ((2, 3, 12), (1, 1, 3)),
    "group_first": ((6, 5), (2, 5)),
    "blocks_2d": ((6, 10), (2, 5)),
    "blocks_3d": ((4, 6, 9), (2, 3, 3)),
    "mixed": ((3, 4, 6), (1, 4, 2)),
    "rank1_groups": ((15,), (5,)),
}


def _cases() -> List[Case]:  # noqa: C901 - one table of every case
    cs: List[Case] = []
    add = cs.append
    # ---- quantize_affine ---------------------------------------------------------
    for tag, (shape, block) in GRANULARITIES.items():
        for dt in (torch.int8, torch.uint8):
            lo, hi = BOUNDS[dt]
            add(Case(f"q_{tag}_{str(dt)[6:]}", lambda x, s, z, b=block, dt=dt:
                     ta.quantize_affine(x, list(b), s, z, dt),
                     lambda shape=shape, block=block, lo=lo, hi=hi: [
                         rnd(*shape, scale=3, seed=1), scales(shape, block, 2),
                         rint(*nblocks(shape, block), lo=lo, hi=hi, dtype=torch.int32, seed=3)],
                     [Q]))
    # zero points at the bounds, values beyond both ends
    add(Case("q_zp_bounds_int8", lambda x, s, z: ta.quantize_affine(x, [1, 9], s, z, torch.int8, -128, 127),
             lambda: [rnd(4, 9, scale=8, seed=4), torch.full((4, 1), 0.03),
                      torch.tensor([[-128], [127], [0], [-1]], dtype=torch.int8)], [Q]))
    add(Case("q_zp_bounds_uint8", lambda x, s, z: ta.quantize_affine(x, [2, 3], s, z, torch.uint8),
             lambda: [rnd(4, 9, scale=8, seed=5), torch.full((2, 3), 0.02),
                      torch.tensor([[0, 255, 128], [1, 254, 0]], dtype=torch.int64)], [Q]))
    # ties: x / scale is exactly k + 0.5 (scales powers of two), half to even
    ties = (torch.arange(48, dtype=torch.float32) - 24 + 0.5)

    add(Case("q_ties", lambda x, s, z: ta.quantize_affine(x, [1, 12], s, z, torch.int8),
             lambda: [ties.reshape(4, 12) * torch.tensor([[0.25], [0.5], [1.0], [0.125]]),
                      torch.tensor([[0.25], [0.5], [1.0], [0.125]]),
                      torch.tensor([[0], [3], [-2], [1]], dtype=torch.int32)], [Q]))
    add(Case("q_ties_half", lambda x, s, z: ta.quantize_affine(x, [12], s, z, torch.int8),
             lambda: [(ties[:12] * 0.5).half(), torch.tensor([0.5], dtype=torch.float16),
                      torch.tensor([5], dtype=torch.int32)], [Q]))
    # narrow ranges torchao uses for sub-byte targets held in int8 / uint8
    add(Case("q_int4_in_int8", lambda x, s, z: ta.quantize_affine(x, [1, 8], s, z, torch.int8, -8, 7),
             lambda: [rnd(3, 16, scale=2, seed=6), torch.full((3, 2), 0.2), torch.zeros(3, 2, dtype=torch.int8)], [Q]))
    add(Case("q_uint4_in_uint8", lambda x, s, z: ta.quantize_affine(x, [1, 8], s, z, torch.uint8, 0, 15),
             lambda: [rnd(3, 16, scale=2, seed=7), torch.full((3, 2), 0.2), torch.full((3, 2), 8, dtype=torch.int32)], [Q]))
    # other targets, saturating
    add(Case("q_int16", lambda x, s, z: ta.quantize_affine(x, [1, 5], s, z, torch.int16),
             lambda: [rnd(3, 5, scale=4e4, seed=8), torch.tensor([[0.5], [1.0], [2.0]]),
                      torch.tensor([[0], [-100], [100]], dtype=torch.int32)], [Q]))
    add(Case("q_int32", lambda x, s, z: ta.quantize_affine(x, [3, 1], s, z, torch.int32),
             lambda: [torch.tensor([[7.4, -1e12, 3e5], [0.5, 1.5, -2.5], [1e3, -1e3, 0.0]]),
                      torch.tensor([[0.5, 1e-3, 7.0]]), torch.tensor([[0, 2**31 - 1, -2**31]], dtype=torch.int32)], [Q]))
    # NaN and infinities as torchao's (clamp keeps NaN; the conversion gives 0 / INT32_MIN)
    special = [NAN, INF, -INF, -0.0, 0.0, 1.0, -NAN, 1e30]
    for dt in (torch.int8, torch.uint8, torch.int32):
        add(Case(f"q_nan_inf_{str(dt)[6:]}", lambda x, s, z, dt=dt: ta.quantize_affine(x, [8], s, z, dt),
                 lambda dt=dt: [torch.tensor(special), torch.tensor([0.5]),
                                torch.tensor([1 if dt != torch.uint8 else 7], dtype=torch.int32)], [Q]))
    # input / scale / zero point dtypes torchao takes
    add(Case("q_half_in", lambda x, s, z: ta.quantize_affine(x, [1, 6], s, z, torch.int8),
             lambda: [rnd(5, 6, scale=2, dtype=torch.float16, seed=9), scales((5, 6), (1, 6), 10, torch.float16),
                      rint(5, 1, lo=-20, hi=20, dtype=torch.int32, seed=11)], [Q]))
    add(Case("q_bf16_in_bf16_scale", lambda x, s, z: ta.quantize_affine(x, [1, 4], s, z, torch.int8, -8, 7),
             lambda: [rnd(3, 8, dtype=torch.bfloat16, seed=12), scales((3, 8), (1, 4), 13, torch.bfloat16, 0.05, 0.3),
                      torch.zeros(3, 2, dtype=torch.int8)], [Q]))
    add(Case("q_bf16_in_f32_scale", lambda x, s, z: ta.quantize_affine(x, [2, 2], s, z, torch.uint8),
             lambda: [rnd(4, 6, scale=3, dtype=torch.bfloat16, seed=14), scales((4, 6), (2, 2), 15),
                      rint(2, 3, lo=0, hi=255, dtype=torch.uint8, seed=16)], [Q]))
    add(Case("q_half_in_bf16_scale", lambda x, s, z: ta.quantize_affine(x, [1, 5], s, z, torch.int8),
             lambda: [rnd(3, 5, dtype=torch.float16, seed=17), scales((3, 5), (1, 5), 18, torch.bfloat16),
                      torch.tensor([[1], [2], [3]], dtype=torch.int32)], [Q]))
    add(Case("q_f64_scale", lambda x, s, z: ta.quantize_affine(x, [1, 7], s, z, torch.int8),
             lambda: [rnd(3, 7, seed=19), torch.tensor([[0.054818874155076865], [1 / 3], [0.011]], dtype=torch.float64),
                      torch.tensor([[0], [1], [-1]], dtype=torch.int64)], [Q]))
    add(Case("q_float_zero_point", lambda x, s, z: ta.quantize_affine(x, [1, 4], s, z, torch.int8),
             lambda: [rnd(3, 8, seed=20), torch.full((3, 2), 0.05),
                      torch.tensor([[0.5, -1.25], [3.0, 0.0], [-2.5, 7.75]], dtype=torch.bfloat16)], [Q]))
    add(Case("q_bf16_int16_big_zp", lambda x, s, z: ta.quantize_affine(x, [4], s, z, torch.int16),
             lambda: [torch.tensor([40000.0, -40000.0, 300.0, 7.0], dtype=torch.bfloat16),
                      torch.tensor([1.0], dtype=torch.bfloat16), torch.tensor([257], dtype=torch.int32)], [Q]))
    # (torchao takes a zero point of no elements for None, and fails: one block)
    add(Case("q_empty", lambda x, s, z: ta.quantize_affine(x, [0, 8], s, z, torch.int8),
             lambda: [torch.zeros(0, 8), torch.ones(1), torch.zeros(1, dtype=torch.int32)], [Q]))
    # ---- dequantize_affine -------------------------------------------------------
    for tag, (shape, block) in GRANULARITIES.items():
        add(Case(f"dq_{tag}", lambda q, s, z, b=block: ta.dequantize_affine(q, list(b), s, z, torch.int8),
                 lambda shape=shape, block=block: [
                     rint(*shape, lo=-128, hi=127, dtype=torch.int8, seed=21), scales(shape, block, 22),
                     rint(*nblocks(shape, block), lo=-128, hi=127, dtype=torch.int8, seed=23)], [DQ]))
    add(Case("dq_no_zero_point", lambda q, s: ta.dequantize_affine(q, [1, 8], s, None, torch.int8, -8, 7),
             lambda: [rint(3, 16, lo=-8, hi=7, dtype=torch.int8, seed=24), scales((3, 16), (1, 8), 25)], [DQ]))
    add(Case("dq_zp_bounds_uint8", lambda q, s, z: ta.dequantize_affine(q, [1, 5], s, z, torch.uint8),
             lambda: [rint(2, 5, lo=0, hi=255, dtype=torch.uint8, seed=26), torch.tensor([[0.1], [0.7]]),
                      torch.tensor([[0], [255]], dtype=torch.uint8)], [DQ]))
    for odt in (torch.float16, torch.bfloat16):
        for sdt in (torch.float32, torch.bfloat16, torch.float64):
            add(Case(f"dq_out_{str(odt)[6:]}_scale_{str(sdt)[6:]}", lambda q, s, z, odt=odt:
                     ta.dequantize_affine(q, [1, 4], s, z, torch.int8, output_dtype=odt),
                     lambda sdt=sdt: [rint(3, 8, lo=-128, hi=127, dtype=torch.int8, seed=27),
                                      scales((3, 8), (1, 4), 28, sdt, 0.01, 0.3),
                                      rint(3, 2, lo=-9, hi=9, dtype=torch.int32, seed=29)], [DQ]))
    # differences the 16-bit output dtype rounds (q - z not exact in it)
    add(Case("dq_uint8_bf16_rounded_difference", lambda q, s, z: ta.dequantize_affine(
                 q, [1, 4], s, z, torch.uint8, output_dtype=torch.bfloat16),
             lambda: [torch.tensor([[255, 254, 253, 1], [255, 250, 129, 0]], dtype=torch.uint8),
                      torch.tensor([[0.3], [0.7]]), torch.tensor([[-2], [-9]], dtype=torch.int32)], [DQ]))
    add(Case("dq_int16_half_rounded", lambda q, s, z: ta.dequantize_affine(
                 q, [6], s, z, torch.int16, output_dtype=torch.float16),
             lambda: [torch.tensor([2049, 2051, 4097, -2049, 1000, 0], dtype=torch.int16),
                      torch.tensor([0.37]), torch.tensor([-3], dtype=torch.int32)], [DQ]))
    add(Case("dq_f32_out_bf16_scale", lambda q, s, z: ta.dequantize_affine(q, [2, 3], s, z, torch.int8, -8, 7),
             lambda: [rint(4, 6, lo=-8, hi=7, dtype=torch.int8, seed=30), scales((4, 6), (2, 3), 31, torch.bfloat16),
                      torch.zeros(2, 2, dtype=torch.int8)], [DQ]))
    add(Case("dq_int16", lambda q, s, z: ta.dequantize_affine(q, [5], s, z, torch.int16),
             lambda: [rint(5, lo=-32768, hi=32767, dtype=torch.int16, seed=32), torch.tensor([0.013]),
                      torch.tensor([-32768], dtype=torch.int32)], [DQ]))
    add(Case("dq_int32_big", lambda q, s, z: ta.dequantize_affine(q, [1, 5], s, z, torch.int32, output_dtype=torch.bfloat16),
             lambda: [torch.tensor([[2**24 + 1, 2**30 + 3, -2**31, 2**31 - 1, 0]] * 2, dtype=torch.int32),
                      torch.tensor([[1.5], [1e-3]]), torch.tensor([[1], [2**31 - 1]], dtype=torch.int32)], [DQ]))
    add(Case("dq_float_zero_point", lambda q, s, z: ta.dequantize_affine(q, [1, 3], s, z, torch.uint8, output_dtype=torch.float16),
             lambda: [rint(2, 6, lo=0, hi=255, dtype=torch.uint8, seed=33), torch.full((2, 2), 0.07),
                      torch.tensor([[127.5, 3.25], [0.0, 200.0]])], [DQ]))
    add(Case("dq_empty", lambda q, s, z: ta.dequantize_affine(q, [1, 4], s, z, torch.int8),
             lambda: [torch.zeros(0, 8, dtype=torch.int8), torch.ones(0, 2), torch.zeros(0, 2, dtype=torch.int8)], [DQ]))
    # ---- choose_qparams_affine ---------------------------------------------------
    maps = ("ASYMMETRIC", "SYMMETRIC", "SYMMETRIC_NO_CLIPPING_ERR")
    for tag in ("per_tensor", "per_axis0", "per_axis_mid", "group_last", "blocks_3d", "mixed", "per_element"):
        shape, block = GRANULARITIES[tag]
        for mp in maps:
            add(Case(f"cq_{tag}_{mp.lower()}", lambda x, b=block, mp=mp:
                     ta.choose_qparams_affine(x, mp, list(b), torch.int8, -128, 127, None, None, torch.int8),
                     lambda shape=shape: [rnd(*shape, scale=2, seed=34) + 0.3], [CQ]))
    for mp in maps:
        add(Case(f"cq_keepdim_{mp.lower()}", lambda x, mp=mp:
                 ta.choose_qparams_affine(x, mp, [1, 3, 2], torch.uint8, keepdim=True),
                 lambda: [rnd(2, 6, 4, scale=5, seed=35)], [CQ]))
        add(Case(f"cq_int4_range_{mp.lower()}", lambda x, mp=mp:
                 ta.choose_qparams_affine(x, mp, [1, 8], torch.int8, -8, 7, 1e-6, torch.float32, torch.int8),
                 lambda: [rnd(5, 16, seed=36)], [CQ]))
        for dt in (torch.int16, torch.int32):
            add(Case(f"cq_{str(dt)[6:]}_{mp.lower()}", lambda x, mp=mp, dt=dt:
                     ta.choose_qparams_affine(x, mp, [1, 9], dt, zero_point_dtype=torch.int64),
                     lambda: [rnd(3, 9, scale=100, seed=37)], [CQ]))
        for idt in (torch.float16, torch.bfloat16, torch.float64):
            add(Case(f"cq_{str(idt)[6:]}_in_{mp.lower()}", lambda x, mp=mp:
                     ta.choose_qparams_affine(x, mp, [2, 4], torch.int8),
                     lambda idt=idt: [rnd(4, 8, scale=3, seed=38, dtype=idt)], [CQ]))
        # all zero, all positive, all negative, tiny, NaN, +inf, both infinities
        add(Case(f"cq_special_rows_{mp.lower()}", lambda x, mp=mp:
                 ta.choose_qparams_affine(x, mp, [1, 4], torch.uint8, 0, 255, None, None, torch.int32),
                 lambda: [torch.tensor([[0.0, 0.0, 0.0, 0.0], [0.5, 1.0, 2.0, 3.0], [-0.5, -1.0, -2.0, -3.0],
                                        [1e-30, -1e-31, 0.0, 2e-30], [NAN, 1.0, -1.0, 0.0], [INF, 1.0, -1.0, 0.0],
                                        [INF, -INF, 0.0, 1.0], [-INF, 0.5, 0.25, 0.0]])], [CQ]))
    add(Case("cq_scale_bf16_zp_f32", lambda x: ta.choose_qparams_affine(
                 x, "ASYMMETRIC", [1, 6], torch.int8, scale_dtype=torch.bfloat16, zero_point_dtype=torch.float32),
             lambda: [rnd(4, 6, scale=2, seed=39)], [CQ]))
    add(Case("cq_scale_half_zp_none_sym", lambda x: ta.choose_qparams_affine(
                 x, "SYMMETRIC", [1, 6], torch.uint8, scale_dtype=torch.float16),
             lambda: [rnd(4, 6, scale=2, seed=40)], [CQ]))
    add(Case("cq_eps_large", lambda x: ta.choose_qparams_affine(x, "ASYMMETRIC", [1, 5], torch.int8, eps=0.1),
             lambda: [rnd(3, 5, seed=41)], [CQ]))
    add(Case("cq_no_rows", lambda x: ta.choose_qparams_affine(x, "ASYMMETRIC", [1, 5], torch.int8),
             lambda: [torch.zeros(0, 5)], [CQ]))
    # ---- the dynamic-activation pattern upstream's edge programs hold -----------
    def dyn(x):
        s, z = ta.choose_qparams_affine(x, "ASYMMETRIC", [1, x.shape[1]], torch.int8, -128, 127,
                                        None, None, torch.int8)
        q = ta.quantize_affine(x, [1, x.shape[1]], s, z, torch.int8, -128, 127)
        return s, z, q, ta.dequantize_affine(q, [1, x.shape[1]], s, z, torch.int8, -128, 127)

    add(Case("dynamic_int8_per_row", dyn, lambda: [rnd(5, 33, scale=4, seed=42)], [CQ, Q, DQ]))

    def sym_group(x):
        s, z = ta.choose_qparams_affine(x, "SYMMETRIC", [1, 8], torch.int8, -8, 7, None, torch.float32, torch.int8)
        q = ta.quantize_affine(x, [1, 8], s, z, torch.int8, -8, 7)
        return q, ta.dequantize_affine(q, [1, 8], s, z, torch.int8, -8, 7, output_dtype=torch.bfloat16)

    add(Case("sym_int4_groups", sym_group, lambda: [rnd(6, 24, seed=43)], [CQ, Q, DQ]))
    return cs


CASES = _cases()


def _export(case: Case, inputs: Sequence[torch.Tensor]) -> bytes:
    return edgetorch.export(_Fn(case.fn), tuple(inputs)).buffer


def _comparable(a) -> np.ndarray:
    from tolerance import dtype_name  # bfloat16 comes back as its bits or a custom dtype

    a = np.asarray(a)
    return a.astype(np.float32) if dtype_name(a) == "bfloat16" else a


def _np(t: torch.Tensor) -> np.ndarray:
    return t.float().numpy() if t.dtype == torch.bfloat16 else t.detach().numpy()


def _check(outs, refs, what: str) -> None:
    refs = list(refs) if isinstance(refs, (tuple, list)) else [refs]
    assert len(outs) == len(refs), what
    for k, (got, want) in enumerate(zip(outs, refs)):
        got, w = _comparable(got), _np(want)
        assert got.shape == w.shape, (what, k, got.shape, w.shape)
        assert got.dtype == w.dtype or want.dtype == torch.bfloat16, (what, k, got.dtype, w.dtype)
        np.testing.assert_array_equal(got, w, err_msg=f"output {k} of {what}")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_kernel_matches_torchao(case: Case) -> None:
    inputs = list(case.inputs())
    prog = rt.load_program(_export(case, inputs))
    ops = prog.metadata("forward").operators
    for op in case.ops:
        assert op in ops, f"the program lacks {op}: {ops}"
    outs = prog.load_method("forward").execute([t.clone() for t in inputs])
    with torch.no_grad():
        refs = _Fn(case.fn)(*[t.clone() for t in inputs])
    _check(outs, refs, case.name)


def test_cases_reach_the_interesting_values() -> None:
    """The corpus does hold ties, saturation at both ends and NaN (so the
    bit-for-bit comparison above is tested where kernels go wrong)."""
    by = {c.name: c for c in CASES}
    x, s, z = by["q_ties"].inputs()
    t = x / s
    assert bool(((t - t.floor()) == 0.5).all())
    x, s, z = by["q_zp_bounds_int8"].inputs()
    q = ta.quantize_affine(x, [1, 9], s, z, torch.int8, -128, 127)
    assert int((q == -128).sum()) > 0 and int((q == 127).sum()) > 0
    (x,) = by["cq_special_rows_asymmetric"].inputs()
    sc, zp = ta.choose_qparams_affine(x, "ASYMMETRIC", [1, 4], torch.uint8, 0, 255, None, None, torch.int32)
    assert bool(sc.isnan().any()) and bool((zp == -2**31).any())


# ---------------------------------------------------------------------------
# The table and the exporter


def test_table_entries_match_upstream_out_schemas() -> None:
    """The torchao:: entries of kernels/quantized/ops.def carry the
    signature of the out schema upstream's gen_out_variant_schema derives
    from torchao's schema, and so does the exporter's out variant."""
    from executorch.exir.operator.util import gen_out_variant_schema

    entries = {e[0]: e[1] for e in parse_ops_def(QOPS_DEF) if e[0].startswith("torchao::")}
    assert set(entries) == {Q, DQ, CQ}
    for name, sig in entries.items():
        op = getattr(ta, name.split("::")[1].split(".")[0]).default
        upstream = torch._C.parse_schema(gen_out_variant_schema(str(op._schema)))
        assert sig == expected_signature(upstream), (name, sig, str(upstream))
        ours = oplib.quantized_out_variant(op)
        assert ours is not None and ours.kernel == name
        assert str(ours.schema) == str(upstream), (str(ours.schema), str(upstream))
    assert set(entries) <= set(rt.kernel_names())


def test_exporter_keeps_the_ops_only_with_kernels() -> None:
    """Against a library without the kernels (upstream's portable list) the
    ops are decomposed into ATen ops as before."""
    from edgetorch.export.config import ExportConfig

    def f(x, s, z):
        return ta.quantize_affine(x, [1, 4], s, z, torch.int8)

    args = (rnd(2, 8, seed=44), torch.full((2, 2), 0.1), torch.zeros(2, 2, dtype=torch.int32))
    ops = rt.load_program(edgetorch.export(_Fn(f), args).buffer).metadata("forward").operators
    assert Q in ops
    lib = frozenset(oplib.upstream_portable())
    prog = edgetorch.export(_Fn(f), args, config=ExportConfig(operators=lib))
    ops = rt.load_program(prog.buffer).metadata("forward").operators
    assert Q not in ops and "aten::round.out" in ops, ops


# ---------------------------------------------------------------------------
# Programs upstream's exporter writes from torchao-quantized models


_OUT_LIB = None


def _register_upstream_out_variants() -> None:
    """torchao registers no out variants of its affine ops; upstream's
    to_executorch needs them ("Missing out variants"). Register them with
    upstream's own derived schemas, each running the functional op."""
    global _OUT_LIB
    if _OUT_LIB is not None or hasattr(ta.quantize_affine, "out"):
        return
    from executorch.exir.operator.util import gen_out_variant_schema

    lib = torch.library.Library("torchao", "FRAGMENT")
    for name in ("quantize_affine", "dequantize_affine", "choose_qparams_affine"):
        op = getattr(ta, name).default
        lib.define(gen_out_variant_schema(str(op._schema)).split("::", 1)[1])
        if name == "choose_qparams_affine":
            def impl(*a, out0, out1, _op=op):
                r = _op(*a)
                out0.resize_(r[0].shape).copy_(r[0])
                out1.resize_(r[1].shape).copy_(r[1])
                return out0, out1
        else:
            def impl(*a, out, _op=op):
                r = _op(*a)
                out.resize_(r.shape).copy_(r)
                return out
        lib.impl(name + ".out", impl, "CompositeExplicitAutograd")
    _OUT_LIB = lib


def _torchao_model(kind: str) -> torch.nn.Module:
    from torchao.quantization import Int8DynamicActivationIntxWeightConfig, IntxWeightOnlyConfig, quantize_
    from torchao.quantization.granularity import PerAxis, PerGroup

    torch.manual_seed(7)
    m = torch.nn.Sequential(torch.nn.Linear(64, 96), torch.nn.ReLU(), torch.nn.Linear(96, 10)).eval()
    cfg = {
        "8da4w_g32": Int8DynamicActivationIntxWeightConfig(weight_dtype=torch.int4,
                                                           weight_granularity=PerGroup(32)),
        "8da8w_per_axis": Int8DynamicActivationIntxWeightConfig(weight_dtype=torch.int8,
                                                                weight_granularity=PerAxis(0)),
        "w4_g32": IntxWeightOnlyConfig(weight_dtype=torch.int4, granularity=PerGroup(32)),
        "w8_per_axis": IntxWeightOnlyConfig(weight_dtype=torch.int8, granularity=PerAxis(0)),
    }[kind]
    quantize_(m, cfg)
    return m


UPSTREAM_MODELS = ["8da4w_g32", "8da8w_per_axis", "w4_g32", "w8_per_axis"]


@pytest.mark.parametrize("kind", UPSTREAM_MODELS)
def test_upstream_program_runs(kind: str) -> None:
    from executorch.exir import to_edge_transform_and_lower

    _register_upstream_out_variants()
    m = _torchao_model(kind)
    x = rnd(5, 64, scale=2, seed=45)
    ep = torch.export.export(m, (x,))
    held = {str(n.target) for n in ep.graph.nodes if n.op == "call_function"}
    buf = to_edge_transform_and_lower(ep).to_executorch().buffer  # no partitioner
    prog = rt.load_program(buf)
    ops = prog.metadata("forward").operators
    want = {DQ} | ({CQ, Q} if kind.startswith("8da") else set())
    assert want <= set(ops), (ops, held)
    outs = prog.load_method("forward").execute([x])
    with torch.no_grad():
        ref = m(x)
    # the same ops in the same order as eager: equal up to the float
    # summation order of the linear layers
    np.testing.assert_allclose(np.asarray(outs[0]), ref.numpy(), rtol=1e-5, atol=1e-5)
    # and edgetorch's own export of the model keeps the same ops
    ours = edgetorch.export(m, (x,)).buffer
    assert want <= set(rt.load_program(ours).metadata("forward").operators)
    np.testing.assert_allclose(np.asarray(rt.load_program(ours).load_method("forward").execute([x])[0]),
                               ref.numpy(), rtol=1e-5, atol=1e-5)
    # Upstream's runtime has no kernels for torchao's ops: its method load
    # fails naming them. If it ever runs the file, it must agree too.
    try:
        theirs = upstream_isolated(buf, [x])
    except RuntimeError as e:
        assert "refused" in str(e) or "died" in str(e), str(e)
    else:
        np.testing.assert_allclose(theirs[0], ref.numpy(), rtol=1e-4, atol=1e-4)


def test_upstream_runtime_lacks_the_kernels() -> None:
    """What the report says about upstream: executorch's runtime (as
    installed) registers no torchao:: kernel."""
    from executorch.runtime import Runtime

    names = set(Runtime.get().operator_registry.operator_names)
    assert not any(n.startswith("torchao::") for n in names), sorted(n for n in names if "torchao" in n)


# ---------------------------------------------------------------------------
# Named errors from damaged arguments


@pytest.mark.parametrize("case_name,op,arg,value,needle", [
    ("q_int4_in_int8", Q, 4, 6, "output_dtype: Float is not a dtype of torchao's affine quantization"),
    ("q_int4_in_int8", Q, 4, 2, "out: dtype Char does not match output_dtype Short"),
    ("q_int4_in_int8", Q, 5, -129, "quant_min -129 is below the lowest Char value -128"),
    ("q_int4_in_int8", Q, 6, 128, "quant_max 128 is above the highest Char value 127"),
    ("dq_no_zero_point", DQ, 4, 0, "input: dtype Char does not match input_dtype Byte"),
    ("dq_no_zero_point", DQ, 7, 7, "output_dtype: expected Float, Half or BFloat16, got Double"),
    ("dq_no_zero_point", DQ, 4, 27, "input_dtype: UInt16 is not a dtype of torchao's affine"),
    ("cq_int4_range_asymmetric", CQ, 3, 6, "target_dtype: Float is not a dtype of torchao's affine"),
    ("cq_int4_range_asymmetric", CQ, 8, 4, "out1: dtype Char is not the zero point's dtype Long"),
    ("cq_int4_range_asymmetric", CQ, 7, 15, "out0: dtype Float is not the scale's dtype BFloat16"),
])
def test_named_errors(case_name: str, op: str, arg: int, value: int, needle: str) -> None:
    case = next(c for c in CASES if c.name == case_name)
    inputs = list(case.inputs())
    buf = _set_int_arg(_export(case, inputs), op, arg, value)
    with pytest.raises(rt.EdgetorchError) as ei:
        rt.load_program(buf).load_method("forward").execute(inputs)
    msg = str(ei.value)
    assert needle in msg, msg
    assert op in msg, msg


def test_selective_build_keeps_the_affine_kernels(tmp_path) -> None:
    """selective-build of a program holding the three ops keeps exactly them
    in quantized_ops.def and reports nothing missing."""
    from edgetorch import selective

    case = next(c for c in CASES if c.name == "dynamic_int8_per_row")
    path = tmp_path / "a.pte"
    path.write_bytes(_export(case, list(case.inputs())))
    sel = selective.selective_build([str(path)], str(tmp_path / "sel"))
    assert sel.missing == {}
    q = selective.parse_ops_def((tmp_path / "sel" / "quantized_ops.def").read_text())
    assert set(q) == {Q, DQ, CQ}


# ---------------------------------------------------------------------------
# Damaged programs under ASan + UBSan (test_mutation.py's tool)


def _upstream_8da4w_file(tmp_path) -> Path:
    from executorch.exir import to_edge_transform_and_lower

    _register_upstream_out_variants()
    m = _torchao_model("8da4w_g32")
    buf = to_edge_transform_and_lower(torch.export.export(m, (rnd(5, 64, seed=46),))).to_executorch().buffer
    path = tmp_path / "affine_8da4w.pte"
    path.write_bytes(buf)
    return path


def test_mutation(tmp_path) -> None:
    """Thousands of damaged copies of upstream's 8da4w program (all three
    affine kernels): refused or run, zero sanitizer reports."""
    from test_mutation import COUNT, SEED, SUMMARY, run_mutate

    count = max(COUNT // 4, 1)
    proc = run_mutate(["--count", count, "--seed", SEED, _upstream_8da4w_file(tmp_path)])
    report = f"exit {proc.returncode}\n--- stdout (tail)\n{proc.stdout[-4000:]}\n--- stderr (tail)\n{proc.stderr[-8000:]}"
    assert proc.returncode == 0, report
    assert "original executed ok" in proc.stdout, report
    m = SUMMARY.search(proc.stdout)
    assert m and int(m.group(2)) == 0 and int(m.group(1)) == count + 1, report


def test_argument_extremes(tmp_path) -> None:
    """Every Int and Double argument of the program (block sizes, quant
    ranges, dtypes, eps ...) set to extreme values one at a time: refused
    with a message or run, never a sanitizer report."""
    from test_mutation import SUMMARY, _extreme_variants, run_mutate

    files = []
    for label, data in _extreme_variants(_upstream_8da4w_file(tmp_path).read_bytes()):
        p = tmp_path / f"{label}.pte"
        p.write_bytes(data)
        files.append(p)
    assert len(files) > 20, len(files)
    proc = run_mutate(["--count", 0, "--any-outcome", "--timeout", 60] + files, timeout=1800)
    report = f"exit {proc.returncode}\n--- stdout (tail)\n{proc.stdout[-3000:]}\n--- stderr (tail)\n{proc.stderr[-8000:]}"
    assert proc.returncode == 0, report
    m = SUMMARY.search(proc.stdout)
    assert m and int(m.group(2)) == 0 and int(m.group(1)) == len(files), report
