"""The one rule for comparing with eager (tests/python/tolerance.py) can fail."""

from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest
import torch

import tolerance as T


def _steps(x: torch.Tensor, n: int) -> torch.Tensor:
    """x moved n representable steps up (same dtype)."""
    bits = {torch.bfloat16: torch.int16, torch.float16: torch.int16}[x.dtype]
    return (x.view(bits) + n).view(x.dtype)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_reduced_precision_allows_a_few_steps_and_no_more(dtype):
    x = torch.linspace(0.5, 3.0, 64).to(dtype)
    T.assert_close_to_eager(_steps(x, 1), x)                  # another rounding path
    T.assert_close_to_eager(_steps(x, T.ULPS - 1), x)
    with pytest.raises(AssertionError):
        T.assert_close_to_eager(_steps(x, 3 * T.ULPS), x)    # a real difference


def test_accumulation_scale_covers_cancellation_only_when_asked():
    want = torch.tensor([64.0, 0.0078125], dtype=torch.bfloat16)   # a cancelled sum
    got = torch.tensor([64.0, 0.25], dtype=torch.bfloat16)
    with pytest.raises(AssertionError):
        T.assert_close_to_eager(got, want)
    T.assert_close_to_eager(got, want, accumulates=True)   # 0.25 < 2 steps at 64 (1.0)
    with pytest.raises(AssertionError):
        T.assert_close_to_eager(torch.tensor([64.0, 2.0], dtype=torch.bfloat16), want,
                                accumulates=True)


def test_numpy_bfloat16_and_float16_are_reduced():
    assert T.is_reduced(np.dtype(ml_dtypes.bfloat16)) and T.is_reduced(np.float16)
    assert T.is_reduced(torch.bfloat16) and not T.is_reduced(torch.float32)
    a = np.array([1.0, 2.0], dtype=ml_dtypes.bfloat16)
    T.assert_close_to_eager(a, torch.tensor([1.0, 2.0], dtype=torch.bfloat16))


def test_float32_keeps_the_callers_tolerance_and_exactness():
    x = torch.tensor([1.0, 2.0])
    y = x + 1e-6
    with pytest.raises(AssertionError):
        T.assert_close_to_eager(y, x)                      # 0, 0: exact
    T.assert_close_to_eager(y, x, rtol=1e-5)
    assert T.eager_tolerance(torch.float32, 1e-6, 1e-5, magnitude=100.0) == (1e-6, 1e-5)


def test_integers_are_exact_and_nan_inf_must_match():
    with pytest.raises(AssertionError):
        T.assert_close_to_eager(np.array([1, 2]), torch.tensor([1, 3]), rtol=1.0, atol=1.0)
    nan_inf = torch.tensor([float("nan"), float("inf")], dtype=torch.float16)
    T.assert_close_to_eager(nan_inf.clone(), nan_inf)
    with pytest.raises(AssertionError):
        T.assert_close_to_eager(torch.tensor([0.0, float("inf")], dtype=torch.float16), nan_inf)
    with pytest.raises(AssertionError):
        T.assert_close_to_eager(-nan_inf, nan_inf)
