"""numpy arrays from the C binding -> torch tensors (imported only when torch is)."""

from __future__ import annotations

from typing import Any

import numpy as np

# ml_dtypes types torch.from_numpy cannot read: (numpy dtype name, view as,
# torch dtype attribute).
_VIEWED = {
    "bfloat16": (np.uint16, "bfloat16"),
    "float8_e5m2": (np.uint8, "float8_e5m2"),
    "float8_e4m3fn": (np.uint8, "float8_e4m3fn"),
    "float8_e5m2fnuz": (np.uint8, "float8_e5m2fnuz"),
    "float8_e4m3fnuz": (np.uint8, "float8_e4m3fnuz"),
}


def numpy_to_torch(a: np.ndarray, torch: Any) -> Any:
    """A torch tensor over the array's memory (the array is a copy the
    binding made for the caller, so nothing else holds it)."""
    viewed = _VIEWED.get(a.dtype.name)
    if viewed is not None:
        raw, name = viewed
        return torch.from_numpy(np.ascontiguousarray(a).view(raw)).view(getattr(torch, name))
    if a.ndim and not a.flags.writeable:  # torch warns on read-only arrays
        a = a.copy()
    return torch.from_numpy(a)
