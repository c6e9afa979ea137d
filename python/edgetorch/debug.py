"""``edgetorch.debug.compare``: see edgetorch.devtools.debug."""

from edgetorch.devtools.debug import Comparison, OpError, compare

__all__ = ["compare", "Comparison", "OpError"]
