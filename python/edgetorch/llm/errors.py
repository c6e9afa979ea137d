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
    """A quantization mode this build of the LLM exporter does not implement
    (kept for callers that catch it: "int8" and "8da4w" are implemented)."""
