"""Language models on edgetorch: export a decoder with a KV cache, and the
C tokenizers and sampler (docs/llm.md).

    >>> from edgetorch.llm import Tokenizer, Sampler
    >>> tok = Tokenizer.from_file("tokenizer.json")     # or tokenizer.model
    >>> ids = tok.encode("Hello world", bos=True)
    >>> tok.decode(ids)
    >>> sampler = Sampler(tok.vocab_size, temperature=0.8, top_p=0.9, seed=1)
    >>> next_id = sampler.sample(logits)                 # float32, vocab_size long

Text generation runs in C (the loop of ``edgetorch-llm``):

    >>> from edgetorch.llm import Generator
    >>> g = Generator("model.pte", "tokenizer.json", threads=2)
    >>> g.generate("Once upon a time", max_new_tokens=32).text

Tokenizer formats: Hugging Face ``tokenizer.json`` (byte-level BPE as GPT-2,
Llama 3 and Qwen2 use it; SentencePiece-style BPE as Llama 2 and Mistral) and
SentencePiece ``tokenizer.model`` (BPE and Unigram).
"""

from .errors import LlmExportError, QuantizationNotImplementedError, UnsupportedModelError
from .export import export, export_hf_dir
from .generator import Generation, Generator, GeneratorError
from .models import Decoder, DecoderConfig, load_hf_dir
from .sampler import Sampler, SamplerError
from .tokenizer import StreamDecoder, Tokenizer, TokenizerError
