"""Sampler: a thin wrapper over the C sampler (edgetorch.llm._llm)."""

from __future__ import annotations

from typing import Any

from edgetorch.llm import _llm

SamplerError = _llm.SamplerError


class Sampler:
    """Picks token ids from logits: greedy at temperature 0 (argmax, lowest
    index on ties), else softmax(logits / temperature) cut to ``top_k`` then
    ``top_p``, one draw from a xorshift64* stream seeded with ``seed``. The
    same seed gives the same ids. See extension/llm/sampler.h."""

    def __init__(self, vocab_size: int, temperature: float = 0.0, top_k: int = 0,
                 top_p: float = 1.0, seed: int = 0) -> None:
        self.vocab_size = vocab_size
        self._s = _llm.Sampler(vocab_size, temperature, top_k, top_p, seed)

    def sample(self, logits: Any) -> int:
        """``logits``: vocab_size float32 values (a numpy array, a torch CPU
        tensor, or any buffer); other dtypes are converted with numpy."""
        if hasattr(logits, "detach"):  # torch, without importing it
            logits = logits.detach().float().contiguous().numpy()
        try:
            return self._s.sample(logits)
        except (BufferError, TypeError, _llm.SamplerError):
            import numpy as np

            arr = np.ascontiguousarray(logits, dtype=np.float32).reshape(-1)
            return self._s.sample(arr)

    def next_double(self) -> float:
        """A draw from the sampler's RNG stream (advances it)."""
        return self._s.next_double()
