"""torch.export -> edge -> passes -> memory plan -> `.pte`."""

import sys
import types

from .compile_config import CompileConfigError, EdgeCompileConfig
from .config import ExportConfig
from .errors import ExportError, UnsupportedOperatorError
from .layouts import ChannelsLastError
from .program import EdgeProgram, PteProgram, export, to_edge, to_edge_transform_and_lower
from .xnnpack import XnnpackPartitioner

__all__ = ["ChannelsLastError", "CompileConfigError", "EdgeCompileConfig", "ExportConfig", "ExportError",
           "UnsupportedOperatorError", "EdgeProgram", "PteProgram", "export", "to_edge",
           "to_edge_transform_and_lower", "XnnpackPartitioner"]


class _ExportPackage(types.ModuleType):
    """``edgetorch.export`` is both this package and the one-call function.

    Importing any submodule (``edgetorch.export.oplib``) makes the attribute
    ``edgetorch.export`` this package, so the package itself forwards calls:
    ``edgetorch.export(model, example_args)`` works however it was reached.
    """

    def __call__(self, *args, **kwargs):
        return export(*args, **kwargs)


sys.modules[__name__].__class__ = _ExportPackage
