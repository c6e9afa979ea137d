"""Run ExecuTorch ``.pte`` programs with the edgetorch C runtime.

    >>> from edgetorch.runtime import load_program
    >>> program = load_program("model.pte")          # or the file's bytes
    >>> method = program.load_method("forward")
    >>> outputs = method.execute([x])                # numpy arrays / torch tensors

A program exported with its constants outside the ``.pte`` (a ``.ptd`` file,
upstream's FlatTensor format) needs them given at load:
``load_program("model.pte", data_files=["model.ptd"])`` (paths or bytes).

Inputs may be numpy arrays (ml_dtypes.bfloat16 included), torch tensors
(read through DLPack, so bfloat16 works), DLPack capsules, other buffers, or
Python scalars. Outputs are numpy arrays that the caller owns (bfloat16
outputs as ml_dtypes.bfloat16 arrays), or Python int/float/bool for scalar
outputs. Failures raise :class:`EdgetorchError`, whose ``status`` is upstream
ExecuTorch's name of the error ("InvalidArgument") and ``code`` its number.

This package needs only numpy and ml_dtypes; it never imports torch.
"""

from edgetorch.runtime._runtime import (
    PTE_IDENTIFIER,
    EdgetorchError,
    Method,
    MethodMeta,
    Program,
    TensorInfo,
    __version__,
    kernel_names,
    load_program,
    status_name,
)

__all__ = [
    "EdgetorchError",
    "Method",
    "MethodMeta",
    "PTE_IDENTIFIER",
    "Program",
    "TensorInfo",
    "__version__",
    "kernel_names",
    "load_program",
    "status_name",
]
