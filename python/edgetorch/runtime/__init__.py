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

Kernels and delegates run on a thread pool shared by every program:
``set_num_threads(n)`` (1: serial) and ``get_num_threads()`` (default: the
CPUs this process may use). Results are the same for every thread count.

Programs use the optimized kernels (float32 convolution, matrix products,
softmax and activations on vector micro kernels, within float tolerance of
eager) before the portable ones; ``set_optimized_kernels(False)`` makes
programs loaded afterwards use the portable kernels alone (exact, the same
bits on every machine).

This package needs only numpy and ml_dtypes; it never imports torch.

Upstream ExecuTorch's own Python API (``executorch.runtime``: ``Runtime.get()``,
``load_program(..., verification=Verification.Minimal)``, methods returning
torch tensors) is here too: ``from edgetorch.runtime import Runtime,
Verification`` (see :mod:`edgetorch.runtime.upstream_api`). Its ``Program``
and ``Method`` are the classes of that module (``Runtime.get().load_program``
returns them), while ``edgetorch.runtime.Program`` stays the numpy API's.
"""

from edgetorch.runtime._runtime import (
    PTE_IDENTIFIER,
    EdgetorchError,
    Method,
    MethodMeta,
    Program,
    TensorInfo,
    __version__,
    backend_names,
    dtype_name,
    get_num_threads,
    get_optimized_kernels,
    kernel_names,
    load_program,
    set_num_threads,
    set_optimized_kernels,
    status_name,
)
from edgetorch.runtime.upstream_api import (
    BackendRegistry,
    OperatorRegistry,
    Runtime,
    Verification,
)

__all__ = [
    "BackendRegistry",
    "EdgetorchError",
    "OperatorRegistry",
    "Runtime",
    "Verification",
    "backend_names",
    "dtype_name",
    "Method",
    "MethodMeta",
    "PTE_IDENTIFIER",
    "Program",
    "TensorInfo",
    "__version__",
    "get_num_threads",
    "get_optimized_kernels",
    "kernel_names",
    "load_program",
    "set_num_threads",
    "set_optimized_kernels",
    "status_name",
]
