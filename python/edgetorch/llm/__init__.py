"""LLM support: tokenizers and the sampler, on edgetorch's C implementation
(``extension/llm/``).

    >>> from edgetorch.llm import Tokenizer, Sampler
    >>> tok = Tokenizer.from_file("tokenizer.json")     # or tokenizer.model
    >>> ids = tok.encode("Hello world", bos=True)
    >>> tok.decode(ids)
    >>> sampler = Sampler(tok.vocab_size, temperature=0.8, top_p=0.9, seed=1)
    >>> next_id = sampler.sample(logits)                 # float32, vocab_size long

Formats: Hugging Face ``tokenizer.json`` (byte-level BPE as GPT-2, Llama 3 and
Qwen2 use it; SentencePiece-style BPE as Llama 2 and Mistral) and SentencePiece
``tokenizer.model`` (BPE and Unigram). See docs/llm.md for the limits.
"""

from edgetorch.llm.sampler import Sampler, SamplerError
from edgetorch.llm.tokenizer import StreamDecoder, Tokenizer, TokenizerError

__all__ = ["Sampler", "SamplerError", "StreamDecoder", "Tokenizer", "TokenizerError"]
