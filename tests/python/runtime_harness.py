"""Ways of running a program on edgetorch, shared by the corpus tests.

Two interfaces are exercised: the command-line runner (edgetorch-run, found
in $ET_BUILD_DIR/bin, default build/bin) and the Python binding
(edgetorch.runtime). A missing interface is a test failure, not a skip: a
test must be able to fail.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence, Union

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

# Upstream's Error codes (runtime/include/edgetorch/status.h) by name.
STATUS_NAMES = {
    0x00: "Ok",
    0x01: "Internal",
    0x02: "InvalidState",
    0x03: "EndOfMethod",
    0x04: "AlreadyLoaded",
    0x10: "NotSupported",
    0x11: "NotImplemented",
    0x12: "InvalidArgument",
    0x13: "InvalidType",
    0x14: "OperatorMissing",
    0x15: "RegistrationExceedingMaxKernels",
    0x16: "RegistrationAlreadyRegistered",
    0x20: "NotFound",
    0x21: "MemoryAllocationFailed",
    0x22: "AccessFailed",
    0x23: "InvalidProgram",
    0x24: "InvalidExternalData",
    0x25: "OutOfResources",
    0x30: "DelegateInvalidCompatibility",
    0x31: "DelegateMemoryAllocationFailed",
    0x32: "DelegateInvalidHandle",
}


def build_dir() -> Path:
    return Path(os.environ.get("ET_BUILD_DIR", REPO_ROOT / "build"))


def cli_path() -> Path:
    exe = build_dir() / "bin" / "edgetorch-run"
    if not exe.exists():
        pytest.fail(f"{exe} does not exist: build it (cmake --build build) or set ET_BUILD_DIR")
    return exe


def et_runtime():
    """The edgetorch.runtime module (the Python binding)."""
    try:
        import edgetorch.runtime as rt  # noqa: F401
    except ImportError:
        sys.path.insert(0, str(REPO_ROOT / "python"))
        try:
            import edgetorch.runtime as rt  # noqa: F811
        except ImportError as e:
            pytest.fail(f"cannot import edgetorch.runtime (the Python binding): {e}")
    return rt


def status_name(status) -> str:
    """Normalize an EdgetorchError.status (name, code or enum) to a name."""
    if isinstance(status, str):
        return status
    try:
        code = int(status)
    except (TypeError, ValueError):
        return str(getattr(status, "name", status))
    return STATUS_NAMES.get(code, f"Unknown(0x{code:x})")


@dataclass
class Failure:
    stage: str  # "load", "method", "execute"
    status: str
    message: str


def run_binding(
    program: Union[bytes, Path, str], method: str, calls: Sequence[Sequence[np.ndarray]]
) -> Union[List[List[np.ndarray]], Failure]:
    """Load, load the method once, execute each call in order. Returns every
    call's outputs, or the first failure (an EdgetorchError) and its stage."""
    rt = et_runtime()
    err_type = getattr(rt, "EdgetorchError", None)
    if err_type is None:
        pytest.fail("edgetorch.runtime has no EdgetorchError")
    stage = "load"
    try:
        prog = rt.load_program(program if isinstance(program, bytes) else str(program))
        stage = "method"
        m = prog.load_method(method)
        stage = "execute"
        results = []
        for inputs in calls:
            outs = m.execute(list(inputs))
            results.append([np.asarray(o) for o in outs])
        return results
    except err_type as e:  # type: ignore[misc]
        msg = str(getattr(e, "message", "") or e)
        return Failure(stage, status_name(getattr(e, "status", None)), msg)


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str
    outputs: List[np.ndarray]


def run_cli(
    pte: Path,
    method: str,
    inputs: Sequence[Path],
    out_dir: Path,
    iterations: int = 1,
    extra: Sequence[str] = (),
    timeout: float = 120,
) -> CliResult:
    out_dir.mkdir(parents=True, exist_ok=True)
    cmd = [str(cli_path()), str(pte), "--method", method]
    for p in inputs:
        cmd += ["--input", str(p)]
    cmd += ["--output-dir", str(out_dir)]
    if iterations != 1:
        cmd += ["--iterations", str(iterations)]
    cmd += list(extra)
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    outputs: List[np.ndarray] = []
    if proc.returncode == 0:
        k = 0
        while (out_dir / f"output_{k}.npy").exists():
            outputs.append(np.load(out_dir / f"output_{k}.npy"))
            k += 1
    return CliResult(proc.returncode, proc.stdout, proc.stderr, outputs)


_ERROR_LINE = re.compile(r"^error: ([A-Za-z]+): (.+)$", re.MULTILINE)


def cli_error(res: CliResult) -> Optional[Failure]:
    """The `error: <Status>: message` line of a failed run, if any."""
    m = _ERROR_LINE.search(res.stderr)
    if not m:
        return None
    return Failure("cli", m.group(1), m.group(2).strip())
