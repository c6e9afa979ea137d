"""Language models on edgetorch: export a decoder with a KV cache (docs/llm.md)."""

from .errors import LlmExportError, QuantizationNotImplementedError, UnsupportedModelError
from .export import export, export_hf_dir
from .models import Decoder, DecoderConfig, load_hf_dir
