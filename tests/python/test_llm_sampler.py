"""edgetorch.llm.Sampler (the C sampler of extension/llm/sampler.c) from
Python: greedy is numpy's argmax, a seed reproduces its ids, top-k / top-p
stay in their sets (checked against torch.topk and a sorted cumulative sum),
and draws at temperature 1 follow softmax (chi-square, fixed seed). The
statistics in depth are in tests/c/test_llm_sampler.c."""

from __future__ import annotations

import numpy as np
import pytest

from edgetorch.llm import Sampler, SamplerError


def test_greedy_is_argmax():
    rng = np.random.default_rng(0)
    for trial in range(200):
        n = int(rng.integers(1, 3000))
        logits = rng.standard_normal(n).astype(np.float32)
        if trial % 3 == 0:  # ties: the lowest index wins, as numpy's argmax
            logits[rng.integers(0, n, size=3)] = logits.max()
        assert Sampler(n).sample(logits) == int(np.argmax(logits))


def test_accepts_torch_and_lists():
    torch = pytest.importorskip("torch")
    logits = torch.tensor([0.1, 3.0, -1.0, 2.0])
    assert Sampler(4).sample(logits) == 1
    assert Sampler(4).sample(logits.to(torch.float16)) == 1
    assert Sampler(4).sample([0.0, 0.0, 5.0, 1.0]) == 2
    assert Sampler(4).sample(np.array([0, 9, 1, 2], dtype=np.float64)) == 1


def test_seed_reproduces():
    rng = np.random.default_rng(1)
    logits = rng.standard_normal(1000).astype(np.float32)

    def run(seed):
        s = Sampler(1000, temperature=0.8, top_k=50, top_p=0.9, seed=seed)
        return [s.sample(logits) for _ in range(300)]

    assert run(7) == run(7)
    assert run(7) != run(8)


def test_top_k_and_top_p_sets():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    logits = rng.standard_normal(500).astype(np.float32) * 3
    top = set(torch.topk(torch.from_numpy(logits), 10).indices.tolist())
    s = Sampler(500, temperature=1.3, top_k=10, seed=3)
    picks = {s.sample(logits) for _ in range(3000)}
    assert picks <= top and len(picks) > 5
    p = np.exp(logits - logits.max())
    p /= p.sum()
    order = np.argsort(-p, kind="stable")
    cut = int(np.searchsorted(np.cumsum(p[order]), 0.7 + 1e-4)) + 1
    allowed = set(order[:cut].tolist())
    s = Sampler(500, temperature=1.0, top_p=0.7, seed=4)
    picks = {s.sample(logits) for _ in range(3000)}
    assert picks <= allowed and len(picks) > 1


def test_temperature_one_is_softmax():
    logits = np.array([2.0, 1.0, 0.5, 0.0, -1.0, 1.5], dtype=np.float32)
    p = np.exp(logits - logits.max())
    p /= p.sum()
    s = Sampler(6, temperature=1.0, seed=11)
    draws = 60000
    counts = np.bincount([s.sample(logits) for _ in range(draws)], minlength=6)
    chi2 = float((((counts - p * draws) ** 2) / (p * draws)).sum())
    assert chi2 < 20.5  # chi-square, 5 degrees of freedom, p = 0.001


def test_bad_settings():
    with pytest.raises(SamplerError, match="vocab_size"):
        Sampler(0)
    with pytest.raises(SamplerError, match="top_k"):
        Sampler(10, temperature=1.0, top_k=-1)
    with pytest.raises(SamplerError, match="top_p"):
        Sampler(10, temperature=1.0, top_p=float("nan"))
    with pytest.raises(SamplerError, match="vocab_size elements"):
        Sampler(10).sample(np.zeros(9, dtype=np.float32))
    with pytest.raises(SamplerError, match="NaN"):
        Sampler(3).sample(np.full(3, np.nan, dtype=np.float32))
