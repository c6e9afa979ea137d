"""Errors of the LLM exporter (``edgetorch.llm.export``)."""

from __future__ import annotations

from ..export.errors import ExportError


class LlmExportError(ExportError):
    """The model cannot be exported as a decoder with a KV cache; the
    message says why."""


class UnsupportedModelError(LlmExportError):
    """The checkpoint's architecture (``model_type``) or one of its features
    (a RoPE scaling, an activation, sliding-window attention) is not one
    edgetorch.llm exports."""


class QuantizationNotImplementedError(LlmExportError, NotImplementedError):
    """``quantize="int8"`` / ``"8da4w"``: not available in this build of the
    LLM exporter yet (fp32, fp16 and bf16 only)."""
