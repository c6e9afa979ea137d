"""Tokenizer: a thin wrapper over the C tokenizers (edgetorch.llm._llm)."""

from __future__ import annotations

import os
from typing import Iterable, Union

from edgetorch.llm import _llm

TokenizerError = _llm.TokenizerError

PathLike = Union[str, "os.PathLike[str]"]


class StreamDecoder:
    """Decodes ids one at a time into whole characters.

    ``push(id)`` returns the text that is complete so far; a character split
    across tokens comes out with its last byte. ``flush()`` ends the stream
    (an incomplete character becomes U+FFFD). Concatenated, the pieces equal
    ``Tokenizer.decode(ids)``.
    """

    def __init__(self, stream: _llm.StreamDecoder) -> None:
        self._s = stream

    def push(self, token_id: int) -> str:
        return self._s.push(token_id).decode("utf-8")

    def flush(self) -> str:
        return self._s.flush().decode("utf-8")


class Tokenizer:
    """A tokenizer loaded from ``tokenizer.json`` or ``tokenizer.model``."""

    def __init__(self, handle: _llm.Tokenizer) -> None:
        self._t = handle

    @classmethod
    def from_file(cls, path: PathLike) -> "Tokenizer":
        """Load a file; the format is detected from its bytes. A
        ``tokenizer_config.json`` beside a ``tokenizer.json`` supplies its
        bos/eos tokens. Raises TokenizerError naming what is wrong."""
        return cls(_llm.load_file(os.fspath(path)))

    @classmethod
    def from_buffer(cls, data: bytes) -> "Tokenizer":
        return cls(_llm.load_buffer(data))

    @property
    def kind(self) -> str:
        """``hf_bpe``, ``sentencepiece_bpe`` or ``sentencepiece_unigram``."""
        return self._t.kind

    @property
    def vocab_size(self) -> int:
        return self._t.vocab_size

    @property
    def bos_id(self) -> int:
        """The BOS id, or -1."""
        return self._t.bos_id

    @property
    def eos_id(self) -> int:
        """The EOS id, or -1."""
        return self._t.eos_id

    def set_bos_eos(self, bos: int, eos: int) -> None:
        """Override the BOS / EOS ids (-1: none), as the runner does with the
        ids a program reports."""
        self._t.set_bos_eos(bos, eos)

    def encode(self, text: Union[str, bytes], bos: bool = False) -> list[int]:
        """Token ids of ``text``; special tokens written in the text are
        matched. ``bos`` puts the BOS id first."""
        return self._t.encode(text, bos)

    def decode_bytes(self, ids: Iterable[int], skip_special_tokens: bool = False) -> bytes:
        """The exact bytes the ids decode to (possibly ending mid-character)."""
        return self._t.decode(list(ids), skip_special_tokens)

    def decode(self, ids: Iterable[int], skip_special_tokens: bool = False) -> str:
        """The text of the ids; bytes that are not UTF-8 read as U+FFFD."""
        return self.decode_bytes(ids, skip_special_tokens).decode("utf-8", errors="replace")

    def token_bytes(self, token_id: int) -> bytes:
        """The bytes one token decodes to on its own."""
        return self._t.token_bytes(token_id)

    def token_to_id(self, token: str) -> int:
        """The id of a token given as its text (as stored in the file), or -1."""
        return self._t.token_id(token)

    def is_special(self, token_id: int) -> bool:
        return self._t.is_special(token_id)

    def stream(self, skip_special_tokens: bool = False) -> StreamDecoder:
        return StreamDecoder(self._t.stream(skip_special_tokens))
