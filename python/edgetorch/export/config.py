"""Export options."""

from __future__ import annotations

from dataclasses import dataclass
from typing import FrozenSet, Optional


@dataclass
class ExportConfig:
    """Options of ``to_executorch`` / ``edgetorch.export``.

    constant_tensor_alignment: byte alignment of each constant in the
        constant segment (and of mutable initial state).
    segment_alignment: alignment of each segment after the flatbuffer.
    memory_planning: "edgetorch" (lifetime-aware offset packing, several
        orderings, in-place reuse), "greedy" (upstream-style shared objects)
        or "naive" (every tensor its own bytes).
    plan_inputs / plan_outputs: place user inputs / outputs in planned memory
        (set_input copies into it).  When False the caller supplies pointers.
    external_constants: put constants in a .ptd file (see
        ``PteProgram.write_tensor_data_to_file``) instead of the .pte.
    inplace: let an elementwise kernel's output share its input's bytes when
        the input dies at that kernel ("edgetorch" planning only).
    fold_constants: evaluate ops whose inputs are all constants at export time.
    init_mutable_buffers: store the initial value of mutated buffers so the
        runtime fills them at load (otherwise they start uninitialized).
    preserve_channels_last: keep channels-last dim orders that torch's
        strides show (otherwise every tensor is contiguous, which is always
        correct and what most kernels support).
    operators: the operator names the target kernel library implements;
        None reads kernels/portable/ops.def.
    """

    constant_tensor_alignment: int = 16
    segment_alignment: int = 128
    memory_planning: str = "edgetorch"
    plan_inputs: bool = True
    plan_outputs: bool = True
    external_constants: bool = False
    inplace: bool = True
    fold_constants: bool = True
    init_mutable_buffers: bool = True
    operators: Optional[FrozenSet[str]] = None
    preserve_channels_last: bool = False
    fuse_batch_norm: bool = True
    alignment: int = 16  # planned tensor alignment
    verbose: bool = False

    def __post_init__(self) -> None:
        if self.memory_planning not in ("edgetorch", "greedy", "naive"):
            raise ValueError(f"unknown memory_planning {self.memory_planning!r}")
        for name in ("constant_tensor_alignment", "segment_alignment", "alignment"):
            v = getattr(self, name)
            if v <= 0 or v & (v - 1):
                raise ValueError(f"{name} must be a power of two, got {v}")
