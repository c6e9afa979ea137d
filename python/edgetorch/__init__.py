"""edgetorch: PyTorch models on small devices.

``edgetorch.export(model, example_args)`` writes an ExecuTorch-compatible
`.pte`; ``edgetorch.runtime`` runs it on the C runtime;
``edgetorch.quantize(model, example_args, config)`` quantizes a model first.

The exporter needs torch and is imported on first use, so that
``import edgetorch.runtime`` works with numpy alone.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORT_NAMES = ("CompileConfigError", "EdgeCompileConfig", "EdgeProgram", "ExportConfig", "ExportError", "PteProgram",
                 "UnsupportedOperatorError", "XnnpackPartitioner", "export", "to_edge",
                "to_edge_transform_and_lower")

__all__ = list(_EXPORT_NAMES) + ["models", "quantize", "__version__"]


def __getattr__(name: str) -> Any:
    if name == "export":
        # The package is callable (see edgetorch/export/__init__.py), so the
        # name means the same whether or not a submodule was imported first.
        return importlib.import_module(".export", __name__)
    if name in _EXPORT_NAMES:
        return getattr(importlib.import_module(".export", __name__), name)
    if name == "quantize":
        # callable package, like export: edgetorch.quantize(model, args, "int8_static")
        return importlib.import_module(".quantize", __name__)
    if name == "models":
        return importlib.import_module(".models", __name__)
    if name in ("debug", "devtools"):
        return importlib.import_module("." + name, __name__)
    if name == "bundle":
        return importlib.import_module(".devtools.bundle", __name__).bundle
    raise AttributeError(f"module 'edgetorch' has no attribute {name!r}")
