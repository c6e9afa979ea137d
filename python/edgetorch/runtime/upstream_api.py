"""Upstream ExecuTorch's Python runtime API (``executorch.runtime``) on the
edgetorch C runtime.

Code written for upstream runs with only its import line changed::

    from edgetorch.runtime import Runtime, Verification   # was: executorch.runtime

    runtime = Runtime.get()
    program = runtime.load_program(Path("model.pte"), verification=Verification.Minimal)
    print(program.method_names)                  # {'forward'}
    meta = program.metadata("forward")           # meta.name(), meta.num_inputs(), ...
    forward = program.load_method("forward")
    outputs = forward.execute((torch.ones(2, 2),))   # a list of torch tensors

What matches upstream (checked by tests/python/test_upstream_api.py, which
runs the same code on both runtimes):

* ``Program.method_names`` is a set; ``Program.load_method(name)`` loads a
  method once and returns the same ``Method`` afterwards, so the state of its
  mutable buffers carries over from one ``load_method`` call to the next, as
  upstream's does; a new ``load_program`` starts from the program's initial
  state. All methods of a program use one set of planned buffers, as
  upstream's do: mutable state that several methods share (upstream's
  ``share_mutable_buffers``) is shared, and one method's run overwrites
  another's intermediate values (outputs are copies, so they stay valid).
* ``Method.execute(inputs)`` returns a list: torch tensors (copies the
  caller owns) for tensor outputs, Python int/float/bool/str for scalars.
* ``MethodMeta``: ``name()``, ``num_inputs()``, ``num_outputs()``,
  ``num_attributes()``, ``input_tensor_meta(i)``, ``output_tensor_meta(i)``;
  ``TensorInfo``: ``sizes()``, ``dtype()`` (upstream's ScalarType code, an
  int), ``is_memory_planned()``, ``nbytes()``; the same ``repr`` text. An index
  out of range, or a non-tensor value, raises IndexError as upstream's does.
  Beyond upstream: ``dim_order()``, ``num_memory_planned_buffers()``,
  ``memory_planned_buffer_size(i)``, ``num_backends()``,
  ``get_backend_name(i)``, ``uses_backend(name)``, ``memory_bytes()``.
* Errors are RuntimeError (edgetorch's ``EdgetorchError`` is one), with a
  message that names the method, input or instruction.

Threads: methods run on edgetorch's process-wide pool, sized with
``edgetorch.runtime.set_num_threads(n)`` (default: the CPUs the process may
use); upstream sizes its own pool with
``portable_lib._unsafe_reset_threadpool(n)``. Results do not depend on it.

Differences: programs are always verified completely (``Verification.Minimal``
is accepted and verifies more than it asks for); ETDump (``enable_etdump``)
is not available here.
"""

from __future__ import annotations

import enum
import functools
import os
import sys
from pathlib import Path
from typing import Any, BinaryIO, Dict, List, Optional, Sequence, Set, Union

from . import _runtime


class Verification(enum.IntEnum):
    """How much of a program to verify at load (upstream's values). edgetorch
    verifies every program completely whichever is given."""

    Minimal = 0
    InternalConsistency = 1


def _to_torch(value: Any) -> Any:
    """numpy output of the C binding -> what upstream returns."""
    import numpy as np

    if isinstance(value, np.ndarray):
        import torch

        from ._torch_dtypes import numpy_to_torch

        return numpy_to_torch(value, torch)
    if isinstance(value, list):
        return [_to_torch(v) for v in value]
    return value


def _is_torch_tensor(x: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)


class TensorInfo:
    """One tensor input or output of a method (upstream's ``TensorInfo``)."""

    __slots__ = ("_info",)

    def __init__(self, info: Any) -> None:
        self._info = info

    def sizes(self) -> tuple:
        return tuple(self._info.sizes)

    def dtype(self) -> int:
        """Upstream's ScalarType code (6 = Float), as upstream returns it."""
        return int(self._info.scalar_type)

    def is_memory_planned(self) -> bool:
        return bool(self._info.planned)

    def nbytes(self) -> int:
        return int(self._info.nbytes)

    def dim_order(self) -> tuple:
        return tuple(self._info.dim_order)

    def __repr__(self) -> str:
        return (f"TensorInfo(sizes=[{', '.join(str(s) for s in self._info.sizes)}], "
                f"dtype={_runtime.dtype_name(self._info.scalar_type)}, "
                f"is_memory_planned={self.is_memory_planned()}, nbytes={self.nbytes()})")


class MethodMeta:
    """What a method needs and returns, known before it is loaded (upstream's
    ``MethodMeta``)."""

    __slots__ = ("_meta",)

    def __init__(self, meta: Any) -> None:
        self._meta = meta

    def name(self) -> str:
        return str(self._meta.name)

    def num_inputs(self) -> int:
        return len(self._meta.inputs)

    def num_outputs(self) -> int:
        return len(self._meta.outputs)

    def num_attributes(self) -> int:
        return 0

    def _tensor(self, infos: List[Any], index: int, what: str) -> TensorInfo:
        i = int(index)
        if not 0 <= i < len(infos):
            raise IndexError(f"method '{self.name()}': {what} index {i} is out of range "
                             f"(the method has {len(infos)} {what}s)")
        info = infos[i]
        if info.tag != "Tensor":
            raise IndexError(f"method '{self.name()}': {what} {i} is a {info.tag}, not a "
                             "Tensor; it has no tensor metadata")
        return TensorInfo(info)

    def input_tensor_meta(self, index: int) -> TensorInfo:
        return self._tensor(self._meta.inputs, index, "input")

    def output_tensor_meta(self, index: int) -> TensorInfo:
        return self._tensor(self._meta.outputs, index, "output")

    def attribute_tensor_meta(self, index: int) -> TensorInfo:
        raise IndexError(f"method '{self.name()}': attribute index {index} is out of range "
                         "(edgetorch programs have no attribute tensors)")

    def num_memory_planned_buffers(self) -> int:
        return int(self._meta.num_planned_buffers)

    def memory_planned_buffer_size(self, index: int) -> int:
        sizes = self._meta.planned_buffer_sizes
        if not 0 <= int(index) < len(sizes):
            raise IndexError(f"method '{self.name()}': planned buffer {index} is out of "
                             f"range (the method has {len(sizes)})")
        return int(sizes[int(index)])

    def num_backends(self) -> int:
        return len(self._meta.delegates)

    def get_backend_name(self, index: int) -> str:
        dels = self._meta.delegates
        if not 0 <= int(index) < len(dels):
            raise IndexError(f"method '{self.name()}': backend {index} is out of range "
                             f"(the method uses {len(dels)})")
        return str(dels[int(index)])

    def uses_backend(self, name: str) -> bool:
        return name in self._meta.delegates

    def memory_bytes(self) -> int:
        """Bytes the method needs once loaded: its planned buffers and the
        runtime's arena (edgetorch's figure; upstream has none)."""
        return int(sum(self._meta.planned_buffer_sizes)) + int(self._meta.arena_bytes)

    def __repr__(self) -> str:
        ins = [repr(TensorInfo(i)) if i.tag == "Tensor" else i.tag for i in self._meta.inputs]
        outs = [repr(TensorInfo(i)) if i.tag == "Tensor" else i.tag
                for i in self._meta.outputs]
        return (f"MethodMeta(name='{self.name()}', num_inputs={self.num_inputs()}, "
                f"input_tensor_meta={ins}, num_outputs={self.num_outputs()}, "
                f"output_tensor_meta={outs})")


class Method:
    """A loaded method (upstream's ``executorch.runtime.Method``)."""

    def __init__(self, method: Any) -> None:
        self._method = method

    def execute(self, inputs: Sequence[Any]) -> List[Any]:
        """Run the method once. `inputs`: a sequence of torch tensors (numpy
        arrays and Python scalars work too). Returns a list of torch tensors
        and Python scalars."""
        if _is_torch_tensor(inputs):
            inputs = [inputs]  # upstream's method takes a lone tensor too
        elif isinstance(inputs, (str, bytes)) or hasattr(inputs, "__dlpack__"):
            raise TypeError("execute() takes a sequence of inputs (a list or tuple); "
                            "wrap a single tensor as (x,)")
        return [_to_torch(v) for v in self._method.execute(list(inputs))]

    @property
    def metadata(self) -> MethodMeta:
        return MethodMeta(self._method.metadata)


class Program:
    """A loaded program (upstream's ``executorch.runtime.Program``)."""

    def __init__(self, program: Any) -> None:
        self._program = program
        self._methods: Dict[str, Optional[Method]] = {n: None for n in program.method_names}

    @property
    def method_names(self) -> Set[str]:
        return set(self._methods)

    def load_method(self, name: str) -> Method:
        """Load method `name` the first time; later calls return the same
        Method (and so the same state), as upstream's do."""
        if name not in self._methods:
            raise KeyError(f"no method named {name!r} (the program has: "
                           f"{', '.join(sorted(self._methods)) or 'no methods'})")
        method = self._methods[name]
        if method is None:
            method = Method(self._program.load_method(name))
            self._methods[name] = method
        return method

    def metadata(self, method_name: str) -> MethodMeta:
        return MethodMeta(self._program.metadata(method_name))

    def write_etdump_result_to_file(self, etdump_path: str, debug_buffer_path: str) -> None:
        raise _runtime.EdgetorchError(
            "NotSupported: write_etdump_result_to_file: this program was loaded without "
            "ETDump; edgetorch's Runtime.load_program has no enable_etdump")


class BackendRegistry:
    """Backends this runtime has (upstream's ``Runtime.backend_registry``)."""

    @property
    def registered_backend_names(self) -> List[str]:
        return list(_runtime.backend_names())

    def is_available(self, backend_name: str) -> bool:
        return backend_name in _runtime.backend_names()


class OperatorRegistry:
    """Operators this runtime has kernels for (upstream's
    ``Runtime.operator_registry``)."""

    @property
    def operator_names(self) -> Set[str]:
        return set(_runtime.kernel_names())


_Data = Union[bytes, bytearray, memoryview, BinaryIO, Path, str, "os.PathLike[str]"]


class Runtime:
    """The runtime (upstream's ``executorch.runtime.Runtime``): get it with
    ``Runtime.get()``."""

    @staticmethod
    @functools.lru_cache(maxsize=1)
    def get() -> "Runtime":
        """The Runtime singleton."""
        return Runtime()

    def __init__(self) -> None:
        self.backend_registry = BackendRegistry()
        self.operator_registry = OperatorRegistry()

    def load_program(self, data: _Data, *,
                     verification: Any = Verification.InternalConsistency,
                     enable_etdump: bool = False, debug_buffer_size: int = 0,
                     data_path: Optional[Union[str, "os.PathLike[str]"]] = None) -> Program:
        """Load and verify a ``.pte`` program: `data` is a path (str or
        Path), bytes or bytearray, or a file object opened for binary reading.
        `data_path` names a ``.ptd`` file with the tensors the program keeps
        outside itself."""
        name = getattr(verification, "name", None)
        if name not in ("Minimal", "InternalConsistency"):
            raise TypeError(f"verification must be Verification.Minimal or "
                            f"Verification.InternalConsistency, got {verification!r}")
        if enable_etdump:
            raise _runtime.EdgetorchError(
                "NotSupported: load_program(enable_etdump=True): edgetorch's Python runtime "
                "writes no ETDump; load the program without enable_etdump")
        if isinstance(data, (str, os.PathLike)):
            source: Any = os.fspath(data)
        elif isinstance(data, (bytes, bytearray, memoryview)):
            source = bytes(data) if not isinstance(data, bytes) else data
        elif hasattr(data, "read"):
            source = data.read()
            if not isinstance(source, (bytes, bytearray)):
                raise TypeError("load_program: the file object must be opened in binary "
                                f"mode ('rb'); read() gave {type(source).__name__}")
        else:
            raise TypeError("Expected data to be bytes, bytearray, a path to a .pte file, "
                            f"or a file-like object, but got {type(data).__name__}.")
        files = None if data_path is None else [os.fspath(data_path)]
        # One set of planned buffers for all methods, as upstream's runtime
        # has: methods share the mutable state the exporter placed together.
        return Program(_runtime.load_program(source, data_files=files,
                                             share_planned_memory=True))
