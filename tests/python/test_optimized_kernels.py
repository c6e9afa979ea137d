"""The optimized kernel table (kernels/optimized) against eager and against
the portable kernels it sits in front of.

Each case is a small module exported with edgetorch's exporter whose
program calls the operator under test. It runs three times on the C
runtime: with the optimized kernels at 1 and at 2 threads, and with the
portable kernels alone (``set_optimized_kernels(False)``). Checks:

- optimized outputs match eager within float tolerance (the optimized
  kernels use FMA and vector transcendental functions: rtol 1e-4 plus an
  absolute term scaled by the sum's magnitude, as the CPU backend is judged);
- 1 and 2 threads give the same bits (work is split, never re-associated);
- the shapes hit the micro kernels' edges: M/N/K of 1, 3, 17, tile tails,
  unpacked-B tails (N not a multiple of 16), depthwise strides 1 and 2,
  dilation, padding wider than the kernel's reach, 1-D and 3-D
  convolutions (through the same GEMM); the cases the fast paths hand back
  to the portable kernels (float64, softmax over another dim, gelu "tanh")
  must give the portable kernels' result bit for bit;
- where the machine has AVX2+FMA, a long float32 product differs from the
  portable one in its last bits: proof the optimized kernel ran.
"""

from __future__ import annotations

import functools
from typing import Callable, List, Sequence, Tuple

import numpy as np
import pytest
import torch

import edgetorch
import edgetorch.runtime as rt


def _has_avx2_fma() -> bool:
    try:
        flags = open("/proc/cpuinfo").read().split()
    except OSError:
        return False
    return "avx2" in flags and "fma" in flags


class _Fn(torch.nn.Module):
    def __init__(self, fn: Callable[..., torch.Tensor]) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        return self.fn(*xs)


def _r(*shape: int, seed: int = 0, dtype=torch.float32) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=dtype)


def _conv(cin: int, cout: int, k, stride=1, padding=0, dilation=1, groups=1, dims=2,
          bias=True, dtype=torch.float32) -> torch.nn.Module:
    cls = {1: torch.nn.Conv1d, 2: torch.nn.Conv2d, 3: torch.nn.Conv3d}[dims]
    torch.manual_seed(cin * 131 + cout)
    return cls(cin, cout, k, stride=stride, padding=padding, dilation=dilation, groups=groups,
               bias=bias).to(dtype).eval()


CASES: List[Tuple[str, str, Callable[[], torch.nn.Module], Callable[[], Tuple[torch.Tensor, ...]]]] = []


def case(name: str, op: str, module, inputs) -> None:
    CASES.append((name, op, module, inputs))


# mm / addmm / bmm / linear: tile edges (6 x 16), unpacked-B tails, K of 1.
# A B of 256 KB or more takes the row-streaming path (M <= 4: (1, 768, 1000),
# (3, 257, 1001)) or the panels packed into scratch (M >= 8; (20, 160, 1000)
# packs two groups of panels, the last with a column tail).
for (m, k, n) in [(1, 1, 1), (3, 17, 5), (7, 3, 33), (17, 255, 17), (64, 100, 31), (1, 768, 1000),
                  (130, 64, 48), (3, 257, 1001), (20, 160, 1000), (33, 300, 250)]:
    case(f"mm_{m}x{k}x{n}", "aten::mm.out", lambda: _Fn(torch.mm),
         lambda m=m, k=k, n=n: (_r(m, k, seed=1), _r(k, n, seed=2)))
case("mm_float64", "aten::mm.out", lambda: _Fn(torch.mm),
     lambda: (_r(9, 20, seed=1, dtype=torch.float64), _r(20, 7, seed=2, dtype=torch.float64)))
case("addmm_bias_row", "aten::addmm.out", lambda: _Fn(lambda b, x, y: torch.addmm(b, x, y)),
     lambda: (_r(19, seed=3), _r(13, 40, seed=1), _r(40, 19, seed=2)))
case("addmm_beta_alpha", "aten::addmm.out",
     lambda: _Fn(lambda b, x, y: torch.addmm(b, x, y, beta=0.5, alpha=-2.0)),
     lambda: (_r(5, 21, seed=3), _r(5, 33, seed=1), _r(33, 21, seed=2)))
case("linear", "aten::addmm.out", lambda: torch.manual_seed(4) and torch.nn.Linear(96, 50).eval(),
     lambda: (_r(7, 96, seed=1),))
case("linear_batch1_large", "aten::addmm.out",
     lambda: torch.manual_seed(4) and torch.nn.Linear(512, 600).eval(), lambda: (_r(1, 512, seed=1),))
for (b, m, k, n) in [(1, 1, 1, 1), (3, 17, 5, 33), (12, 32, 16, 32)]:
    case(f"bmm_{b}x{m}x{k}x{n}", "aten::bmm.out", lambda: _Fn(torch.bmm),
         lambda b=b, m=m, k=k, n=n: (_r(b, m, k, seed=1), _r(b, k, n, seed=2)))

# convolution: GEMM paths (1x1, im2col), depthwise, fallbacks.
for name, mk, shape in [
    ("conv1x1", lambda: _conv(16, 24, 1), (1, 16, 9, 7)),
    ("conv3x3_pad", lambda: _conv(8, 20, 3, padding=1), (2, 8, 11, 13)),
    ("conv3x3_stride2", lambda: _conv(5, 7, 3, stride=2, padding=1), (1, 5, 15, 17)),
    ("conv7x7_rgb", lambda: _conv(3, 16, 7, stride=2, padding=3), (1, 3, 32, 30)),
    ("conv_groups", lambda: _conv(12, 18, 3, padding=1, groups=3), (1, 12, 8, 9)),
    ("conv_nobias", lambda: _conv(4, 6, 2, bias=False), (1, 4, 6, 6)),
    ("dw3x3", lambda: _conv(32, 32, 3, padding=1, groups=32), (1, 32, 14, 13)),
    ("dw3x3_stride2", lambda: _conv(24, 24, 3, stride=2, padding=1, groups=24), (2, 24, 15, 16)),
    ("dw5x5_dilated", lambda: _conv(9, 9, 5, padding=4, dilation=2, groups=9), (1, 9, 12, 11)),
    ("dw_wide_pad", lambda: _conv(3, 3, 3, padding=5, groups=3), (1, 3, 4, 5)),
    ("dw_1d", lambda: _conv(6, 6, 3, padding=1, groups=6, dims=1), (1, 6, 37)),
    ("dw_nobias_wide", lambda: _conv(40, 40, 3, padding=1, groups=40, bias=False), (1, 40, 5, 21)),
    ("conv3d", lambda: _conv(2, 3, 2, dims=3), (1, 2, 4, 5, 3)),
    ("conv_float64_fallback", lambda: _conv(3, 4, 3, dtype=torch.float64), (1, 3, 6, 6)),
]:
    dtype = torch.float64 if "float64" in name else torch.float32
    case(name, "aten::convolution.out", mk, lambda shape=shape, dtype=dtype: (_r(*shape, seed=5, dtype=dtype),))

# softmax and the activations, with the special values.
def _special(*shape: int) -> torch.Tensor:
    x = _r(*shape, seed=6) * 6
    flat = x.view(-1)
    vals = [0.0, -0.0, float("inf"), float("-inf"), float("nan"), 88.0, -88.0, 100.0, -100.0, 1e-30]
    flat[: len(vals)] = torch.tensor(vals)
    return x


for (name, dim, shape) in [("softmax_last", -1, (5, 37)), ("softmax_row1", -1, (3, 1)),
                           ("softmax_dim0_fallback", 0, (6, 9)), ("softmax_rows", 2, (2, 3, 129))]:
    case(name, "aten::_softmax.out", lambda dim=dim: _Fn(lambda x: torch.softmax(x, dim)),
         lambda shape=shape: (_r(*shape, seed=7) * 4,))
case("softmax_float64_fallback", "aten::_softmax.out", lambda: _Fn(lambda x: torch.softmax(x, -1)),
     lambda: (_r(4, 11, seed=7, dtype=torch.float64),))
for fname, fn, op in [("gelu", lambda x: torch.nn.functional.gelu(x), "aten::gelu.out"),
                      ("gelu_tanh_fallback", lambda x: torch.nn.functional.gelu(x, approximate="tanh"),
                       "aten::gelu.out"),
                      ("sigmoid", torch.sigmoid, "aten::sigmoid.out"),
                      ("tanh", torch.tanh, "aten::tanh.out"),
                      ("exp", torch.exp, "aten::exp.out")]:
    case(fname, op, lambda fn=fn: _Fn(fn), lambda: (_special(7, 53),))
    case(fname + "_float64_fallback", op, lambda fn=fn: _Fn(fn),
         lambda: (_r(3, 5, seed=8, dtype=torch.float64),))


@functools.lru_cache(maxsize=None)
def _program(name: str) -> Tuple[bytes, Tuple[str, ...]]:
    """The case's program and the operators it calls."""
    _, _, mk, inputs = next(c for c in CASES if c[0] == name)
    prog = edgetorch.export(mk(), inputs())
    ops = tuple(o.name + ("." + o.overload if o.overload else "")
                for o in prog.executorch_program.execution_plan[0].operators)
    return bytes(prog.buffer), ops


def _run(buf: bytes, inputs: Sequence[torch.Tensor], *, optimized: bool, threads: int) -> List[np.ndarray]:
    old_opt, old_threads = rt.get_optimized_kernels(), rt.get_num_threads()
    try:
        rt.set_optimized_kernels(optimized)
        rt.set_num_threads(threads)
        method = rt.load_program(buf).load_method("forward")
        return [np.asarray(o) for o in method.execute([t.numpy() for t in inputs])]
    finally:
        rt.set_optimized_kernels(old_opt)
        rt.set_num_threads(old_threads)


def _assert_close(got: np.ndarray, want: np.ndarray, k: int, what: str) -> None:
    assert got.shape == want.shape and got.dtype == want.dtype, (what, got.shape, want.shape)
    nan = np.isnan(want)
    assert np.array_equal(np.isnan(got), nan), f"{what}: NaN positions differ"
    g, w = got[~nan].astype(np.float64), want[~nan].astype(np.float64)
    inf = np.isinf(w)
    assert np.array_equal(g[inf], w[inf]), f"{what}: infinities differ"
    g, w = g[~inf], w[~inf]
    # a sum of k products: FMA and another order move it by a few ulp of
    # the terms' magnitude, not of the (possibly cancelled) result's
    atol = 1e-5 * max(1.0, np.sqrt(k))
    np.testing.assert_allclose(g, w, rtol=1e-4, atol=atol, err_msg=what)


@pytest.mark.parametrize("name", [c[0] for c in CASES])
def test_optimized_kernel_matches_eager_and_threads(name: str) -> None:
    _, op, mk, inputs_fn = next(c for c in CASES if c[0] == name)
    inputs = inputs_fn()
    buf, ops = _program(name)
    assert op in ops, f"the program lacks {op}: {ops}"
    with torch.no_grad():
        want = mk()(*[t.clone() for t in inputs]).numpy()
    k = int(np.prod(inputs[0].shape[1:])) if inputs[0].dim() > 1 else 1
    one = _run(buf, inputs, optimized=True, threads=1)
    two = _run(buf, inputs, optimized=True, threads=2)
    portable = _run(buf, inputs, optimized=False, threads=1)
    assert len(one) == 1
    _assert_close(one[0], want, k, f"{name}: optimized vs eager")
    _assert_close(portable[0], want, k, f"{name}: portable vs eager")
    assert np.array_equal(one[0], two[0], equal_nan=True), f"{name}: 1 and 2 threads differ"
    if "fallback" in name:
        assert np.array_equal(one[0], portable[0], equal_nan=True), \
            f"{name}: the fallback must be the portable kernel's result"


def test_the_optimized_table_runs() -> None:
    """A long float32 product on the FMA micro kernels rounds differently from
    the portable kernel's sequential sum (on a CPU with AVX2+FMA; without it
    the plain-C tile may give the same bits, so nothing can be concluded)."""
    if not _has_avx2_fma():
        pytest.skip("this CPU has no AVX2+FMA: the plain-C tile may equal the portable sum")
    m = _Fn(torch.mm)
    inputs = (_r(40, 4096, seed=11), _r(4096, 40, seed=12))
    buf = bytes(edgetorch.export(m, inputs).buffer)
    opt = _run(buf, inputs, optimized=True, threads=1)[0]
    port = _run(buf, inputs, optimized=False, threads=1)[0]
    assert not np.array_equal(opt, port)
    np.testing.assert_allclose(opt, port, rtol=1e-4, atol=1e-3)


def test_set_optimized_kernels_round_trip() -> None:
    assert rt.get_optimized_kernels() is True
    rt.set_optimized_kernels(False)
    try:
        assert rt.get_optimized_kernels() is False
    finally:
        rt.set_optimized_kernels(True)
    assert rt.get_optimized_kernels() is True
