"""Helpers of the ``edgetorch`` command that match ``edgetorch-run``: file
kinds, default inputs, the missing-operator and backend report, and turning
exceptions into one-line errors that say what to do."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

# Shared with edgetorch-run (extension/host_tensor.h, ET_HOST_MAX_GENERATED_BYTES).
DEFAULT_MAX_GENERATED = 256 << 20

_KIND_DESC = {
    "pte": "a program (.pte)",
    "bpte": "a bundled program (.bpte: a program with test inputs)",
    "ptd": "tensor data (.ptd: a program's external constants)",
    "etdump": "an ETDump (.etdp: profiling results)",
}


class UserError(Exception):
    """A mistake in what the user asked for; printed as 'error: ...' (exit 2
    for usage, 1 otherwise), never as a traceback."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def parse_bytes(text: str) -> int:
    """'268435456', '256M', '1G' -> bytes (for --max-generated-bytes)."""
    t = text.strip()
    mult = 1
    if t[-1:].upper() == "B":
        t = t[:-1]
    suffix = t[-1:].upper()
    if suffix in ("K", "M", "G"):
        mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}[suffix]
        t = t[:-1]
    if not t.isdigit():
        import argparse

        raise argparse.ArgumentTypeError(
            f"wants a byte count such as 268435456 or 256M, got {text!r}")
    return int(t) * mult


def file_kind(path: str) -> Optional[str]:
    from .runtime import _runtime

    try:
        with open(path, "rb") as f:
            head = f.read(16)
    except OSError:
        return None
    return _runtime.file_kind(head)


def check_program_file(path: str, *, flag: str = "PROGRAM") -> None:
    """Refuse a file that is not there, or is another kind of ExecuTorch
    file than a .pte, with what to do."""
    p = Path(path)
    if not p.exists():
        raise UserError(f"{path}: no such file; {flag} is the .pte to use")
    if p.is_dir():
        raise UserError(f"{path} is a directory; {flag} is the .pte to use")
    kind = file_kind(path)
    if kind in (None, "pte"):
        return
    todo = {
        "ptd": "give the program's .pte, and this file with --data",
        "bpte": "use the .pte the bundle was made from (a bundle holds a program plus "
                "test inputs)",
        "etdump": "read it with a profiling tool; give the .pte",
    }[kind]
    raise UserError(f"'{path}' is {_KIND_DESC[kind]}, not {_KIND_DESC['pte']}; {todo}")


def check_data_file(path: str) -> None:
    p = Path(path)
    if not p.exists():
        raise UserError(f"{path}: no such file; --data takes the .ptd written beside the .pte")
    kind = file_kind(path)
    if kind in (None, "ptd"):
        return
    todo = ("give it as the program; --data takes the .ptd written beside it"
            if kind == "pte" else "--data takes a .ptd file")
    raise UserError(f"'{path}' is {_KIND_DESC[kind]}, not {_KIND_DESC['ptd']}; {todo}")


def input_values(method: Any, paths: Sequence[str], max_bytes: int) -> List[Any]:
    """What ``edgetorch run`` passes to a method: each --input .npy file for
    the next Tensor input, in order (all of them or none); without files,
    the inputs edgetorch-run generates. Scalar inputs take their traced
    value either way."""
    import numpy as np

    meta = method.metadata
    tensor_idx = [i for i, info in enumerate(meta.inputs) if info.tag == "Tensor"]
    if paths and len(paths) != len(tensor_idx):
        raise UserError(f"method '{method.name}' has {len(tensor_idx)} tensor input(s) but "
                        f"{len(paths)} --input file(s) were given; give one .npy per tensor "
                        "input, in order, or none to generate them", code=2)
    if not paths:
        return method.default_inputs(max_bytes=max_bytes,
                                     how_input="--input FILE.npy (one per tensor input)",
                                     how_limit="--max-generated-bytes N")
    values: List[Any] = []
    files = iter(paths)
    for i, info in enumerate(meta.inputs):
        if info.tag != "Tensor":
            values.append(info.value)
            continue
        path = next(files)
        try:
            arr = np.load(path, allow_pickle=False)
        except FileNotFoundError:
            raise UserError(f"input {i}: {path}: no such file; --input takes a .npy file "
                            "(np.save)") from None
        except (ValueError, OSError) as e:
            raise UserError(f"input {i}: {path} is not a readable .npy file ({e}); save the "
                            "input with numpy.save") from None
        if arr.dtype.kind == "V" and arr.dtype.itemsize == 2 and info.scalar_type == 15:
            import ml_dtypes

            arr = arr.view(ml_dtypes.bfloat16)  # how np.save stores bfloat16
        values.append(arr)
    return values


def report_support(methods: List[Dict[str, Any]]) -> List[str]:
    """Lines flagging, per method, operators no kernel library of this
    runtime has and delegates whose backend it lacks (as edgetorch-run
    --info does). Adds 'missing_operators' and 'unregistered_backends' to
    each method summary."""
    from .runtime import _runtime

    kernels = set(_runtime.kernel_names())
    backends = set(_runtime.backend_names())
    lines: List[str] = []
    for m in methods:
        missing = sorted(op for op in m["operators"]
                         if not op.startswith("<") and op not in kernels)
        unknown = sorted({d for d in m["delegates"] if d not in backends})
        m["missing_operators"] = missing
        m["unregistered_backends"] = unknown
        if missing:
            lines.append(f"method {m['name']}: missing operators: {len(missing)} "
                         f"({', '.join(missing)})")
            lines.append(f"  no kernel for {'it' if len(missing) == 1 else 'them'} in this "
                         f"runtime's kernel libraries (portable: {len(kernels)} operators); "
                         "the method cannot load: see docs/adding-a-kernel.md")
        for d in unknown:
            lines.append(f"method {m['name']}: delegate backend {d} is not registered: this "
                         "runtime has no such backend, so the method cannot load; build it "
                         "in or export without this delegate")
    return lines


def say_error(e: BaseException) -> int:
    """Print one line (or a few) for an exception; return the exit code."""
    if isinstance(e, UserError):
        print(f"error: {e}", file=sys.stderr)
        return e.code
    name = type(e).__name__
    if isinstance(e, FileNotFoundError):
        print(f"error: {e.filename or e}: no such file; check the path", file=sys.stderr)
        return 2
    if isinstance(e, (IsADirectoryError, PermissionError)):
        print(f"error: {e}; check the path and its permissions", file=sys.stderr)
        return 2
    if name in ("EdgetorchError", "FlatbufferError", "ExportError",
                "UnsupportedOperatorError", "CompileConfigError"):
        print(f"error: {e}{_hint(e)}", file=sys.stderr)
        return 1
    if os.environ.get("EDGETORCH_DEBUG"):
        raise e
    print(f"error: {name}: {e}\n(an unexpected failure; run with EDGETORCH_DEBUG=1 for the "
          "traceback and report it if it is not a problem with the input)", file=sys.stderr)
    return 1


def _hint(e: BaseException) -> str:
    """What to do, for runtime failures whose message says only what failed."""
    status = getattr(e, "status", None)
    text = str(e)
    if type(e).__name__ == "FlatbufferError" or status in ("InvalidProgram",
                                                           "InvalidExternalData"):
        return (" (the file is damaged, truncated or not an ExecuTorch file: export it "
                "again, or check the copy)")
    if status == "NotFound" and "no method named" in text:
        return "; choose one with --method NAME"
    if status == "InvalidArgument" and "input" in text:
        return ("; give each --input the dtype and sizes the method expects "
                "(`edgetorch inspect PROGRAM` lists them)")
    return ""
