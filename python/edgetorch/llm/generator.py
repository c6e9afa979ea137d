"""Generator: text generation on the C runner (extension/llm/runner.h), the
same loop as ``edgetorch-llm``."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable, List, Optional, Union

from edgetorch.llm import _llm

GeneratorError = _llm.GeneratorError

PathLike = Union[str, "os.PathLike[str]"]


@dataclass
class Generation:
    """One generation: the text, the generated ids and the figures
    ``edgetorch-llm --json`` prints."""

    text: str
    ids: List[int]
    prompt_tokens: int
    generated_tokens: int
    ttft_s: float
    prefill_tokens_per_s: float
    decode_tokens_per_s: float
    peak_rss_bytes: int
    stopped_on_eos: bool
    extra: dict = field(default_factory=dict)


class Generator:
    """Load an LLM program (``edgetorch llm export``, or upstream's llama
    export) and its tokenizer (``tokenizer.json`` or a SentencePiece
    ``tokenizer.model``), then generate:

        >>> g = Generator("model.pte", "tokenizer.json", threads=2)
        >>> out = g.generate("Once upon a time", max_new_tokens=32)
        >>> out.text, out.decode_tokens_per_s

    Greedy at ``temperature=0`` (the default); otherwise softmax sampling
    with ``top_k``/``top_p`` and a ``seed``. The prompt is prefilled in
    chunks of the program's ``get_max_seq_len`` when it has a dynamic
    sequence length, then decoding runs token by token until an EOS id, the
    budget or the end of the context; each generation starts the KV cache
    over. ``on_text(piece)`` receives the text as it is produced (whole
    characters); returning ``False`` stops. Failures raise
    :class:`GeneratorError` (``.status``, ``.code``)."""

    def __init__(self, model: PathLike, tokenizer: PathLike, threads: Optional[int] = None):
        self._g = _llm.Generator(os.fspath(model), os.fspath(tokenizer), threads or 0)

    @property
    def info(self) -> dict:
        """max_seq_len, max_context_len, vocab_size, bos_id, eos_ids,
        dynamic_shape, full_logits: what the program says about itself."""
        return self._g.info

    def encode(self, prompt: str, bos: Optional[bool] = None) -> List[int]:
        """The ids the runner feeds for ``prompt`` (BOS first by default when
        the program or tokenizer names one)."""
        return self._g.encode(prompt, -1 if bos is None else int(bool(bos)))

    def generate(self, prompt: str, max_new_tokens: int = -1, temperature: float = 0.0,
                 top_k: int = 0, top_p: float = 0.0, seed: int = 0, bos: Optional[bool] = None,
                 stop_at_eos: bool = True,
                 on_text: Optional[Callable[[str], Optional[bool]]] = None) -> Generation:
        pieces: List[str] = []

        def collect(piece: str) -> Optional[bool]:
            pieces.append(piece)
            return on_text(piece) if on_text is not None else None

        r = self._g.generate(prompt, max_new_tokens, temperature, top_k, top_p, seed, bos,
                             stop_at_eos, collect)
        return Generation(text="".join(pieces), ids=r["ids"], prompt_tokens=r["prompt_tokens"],
                          generated_tokens=r["generated_tokens"], ttft_s=r["ttft_s"],
                          prefill_tokens_per_s=r["prefill_tokens_per_s"],
                          decode_tokens_per_s=r["decode_tokens_per_s"],
                          peak_rss_bytes=r["peak_rss_bytes"], stopped_on_eos=r["stopped_on_eos"],
                          extra={"decode_s": r["decode_s"]})
