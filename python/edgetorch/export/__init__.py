"""torch.export -> edge -> passes -> memory plan -> `.pte`."""

from .config import ExportConfig
from .errors import ExportError, UnsupportedOperatorError
from .program import EdgeProgram, PteProgram, export, to_edge

__all__ = ["ExportConfig", "ExportError", "UnsupportedOperatorError", "EdgeProgram",
           "PteProgram", "export", "to_edge"]
