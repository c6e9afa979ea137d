"""Quantization: PT2E on torchao with upstream's XNNPACK recipes.

    qmodel = edgetorch.quantize(model, example_args, "int8_static", calibration=batches)
    edgetorch.export(qmodel, example_args)                       # quantized kernels
    edgetorch.export(qmodel, example_args,
                     partitioner=[edgetorch.XnnpackPartitioner()])  # XNNPACK

Configs: int8_static() (per-channel symmetric int8 weights, calibrated
per-tensor activations), int8_dynamic(), int8_weight_only(),
int8_dynamic_int4_weight(group_size) ("8da4w"). EdgeQuantizer is the
torchao Quantizer behind them, for prepare_pt2e users.
"""

from __future__ import annotations

import sys
import types

try:
    import torchao  # noqa: F401
except ImportError as e:  # pragma: no cover - depends on the installation
    raise ImportError("edgetorch.quantize needs torchao 0.18 (pip install 'edgetorch[quantize]', "
                      "or torchao==0.18.0 beside torch)") from e

from .api import Linear8da4w, is_quantized, quantize
from .config import (KINDS, NotExportableError, QuantConfig, QuantizeError, UnknownConfigError,
                     describe, int8_dynamic, int8_dynamic_int4_weight, int8_static,
                     int8_weight_only, resolve)
from .quantizer import EdgeQuantizer

__all__ = ["EdgeQuantizer", "KINDS", "Linear8da4w", "NotExportableError", "QuantConfig",
           "QuantizeError", "UnknownConfigError", "describe", "int8_dynamic",
           "int8_dynamic_int4_weight", "int8_static", "int8_weight_only", "is_quantized",
           "quantize", "resolve"]


class _CallableModule(types.ModuleType):
    """``edgetorch.quantize(...)`` calls quantize(), as ``edgetorch.export(...)`` does."""

    def __call__(self, *args, **kwargs):
        return quantize(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
