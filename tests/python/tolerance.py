"""How every test compares a result with PyTorch eager: one rule, one function.

Eager is the numerical oracle, but eager's reduced-precision results depend
on the CPU: on a CPU with AVX512-BF16, oneDNN's bfloat16 convolution rounds
differently from its AVX2 path (42% of a transposed convolution's elements
one bfloat16 step apart), and ATen's vectorized kernels accumulate in another
order at another vector width. No test may depend on which path eager takes,
so:

* bfloat16 and float16 results are compared at a tolerance derived from the
  dtype: ``ULPS`` units in the last place of the output, that is
  rtol = ULPS * eps(dtype), and, for outputs that are sums (convolution,
  matrix products, reductions, normalization), atol = ULPS * eps(dtype) times
  the largest magnitude of eager's output, since a sum rounded once to the
  dtype can differ by a step of the accumulation's magnitude where terms
  cancel. The caller's own rtol/atol only ever raise these.
* integer and bool results are compared exactly (eager has no CPU-dependent
  integer paths: wrapping and truncation are defined);
* float32 and float64 results are compared at the caller's rtol/atol (0 and
  0 for exactly), which each suite chooses per operator.

Bit-exact comparisons of reduced precision remain only where both sides are
deterministic: our kernels against each other (the C tests, the no-SIMD
build), our runtime against upstream's portable kernels, integers.

``assert_close_to_eager`` is the one function the eager-comparison suites
call (tests/python/test_kernels_*_vs_torch.py, test_cli.py, the export and
upstream suites, tests/conformance/run.py); ``eager_tolerance`` gives the
(rtol, atol) pair to code that compares in its own way.
"""

from __future__ import annotations

from typing import Any, Optional, Tuple

import numpy as np

# Units in the last place allowed between our reduced-precision result and
# eager's: one for a rounding step taken on another path, one for slack.
ULPS = 2

# eps (the step above 1.0) of the reduced-precision dtypes, by name
_EPS = {"float16": 2.0 ** -10, "bfloat16": 2.0 ** -7}


def dtype_name(dtype: Any) -> str:
    """'float16', 'bfloat16', 'float32', ... for a torch dtype, a numpy dtype
    (ml_dtypes' bfloat16 included) or an array."""
    if hasattr(dtype, "dtype") and not isinstance(dtype, type):  # an array or a tensor
        dtype = dtype.dtype
    s = str(dtype)
    return s[len("torch."):] if s.startswith("torch.") else np.dtype(dtype).name


def is_reduced(dtype: Any) -> bool:
    """bfloat16 or float16: the dtypes whose eager results depend on the CPU."""
    return dtype_name(dtype) in _EPS


def eager_tolerance(dtype: Any, rtol: float = 0.0, atol: float = 0.0, *,
                    magnitude: Optional[float] = None, ulps: float = ULPS
                    ) -> Tuple[float, float]:
    """(rtol, atol) to compare a ``dtype`` result with eager's.

    For bfloat16/float16, at least ``ulps`` units in the last place of the
    output (rtol) and, when ``magnitude`` (the scale of the accumulation: the
    largest |value| of eager's output) is given, ``ulps`` steps at that
    magnitude (atol). Other dtypes keep the caller's rtol/atol.
    """
    name = dtype_name(dtype)
    if name not in _EPS:
        return rtol, atol
    eps = _EPS[name]
    rtol = max(rtol, ulps * eps)
    if magnitude:
        atol = max(atol, ulps * eps * magnitude)
    return rtol, atol


def _as_f64(x: Any) -> np.ndarray:
    if hasattr(x, "detach"):  # a torch tensor
        x = x.detach()
        if str(x.dtype) == "torch.bfloat16":
            x = x.float()
        x = x.cpu().numpy()
    x = np.asarray(x)
    if x.dtype.name == "bfloat16":  # ml_dtypes
        x = x.astype(np.float32)
    return x


def max_magnitude(want: Any) -> float:
    """The largest finite |value| of an output (0.0 when it has none)."""
    w = _as_f64(want)
    if w.dtype.kind not in "fc" or w.size == 0:
        return 0.0
    w = np.abs(w[np.isfinite(w)])
    return float(w.max()) if w.size else 0.0


def assert_close_to_eager(got: Any, want: Any, rtol: float = 0.0, atol: float = 0.0, *,
                          dtype: Any = None, accumulates: bool = False,
                          ulps: float = ULPS, err_msg: str = "") -> None:
    """Assert our output ``got`` matches eager's ``want`` (arrays or tensors).

    ``dtype`` is the output's dtype (default: ``want``'s). Integers and bools
    must be equal; floating values within ``eager_tolerance`` (NaN where
    eager has NaN, infinities of the same sign). ``accumulates``: the output
    is a sum of products (convolution, matmul, reduction, normalization), so
    reduced precision also allows ``ulps`` steps at the output's largest
    magnitude.
    """
    dtype = want if dtype is None else dtype
    g, w = _as_f64(got), _as_f64(want)
    assert g.shape == w.shape, f"{err_msg}: shape {g.shape}, eager {w.shape}"
    if w.dtype.kind not in "fc":
        np.testing.assert_array_equal(g, w, err_msg=err_msg)
        return
    mag = max_magnitude(w) if accumulates else None
    rtol, atol = eager_tolerance(dtype, rtol, atol, magnitude=mag, ulps=ulps)
    if rtol == 0.0 and atol == 0.0:
        np.testing.assert_array_equal(g, w, err_msg=err_msg)
        return
    np.testing.assert_allclose(g.astype(np.float64), w.astype(np.float64), rtol=rtol, atol=atol,
                               equal_nan=True, err_msg=err_msg)
