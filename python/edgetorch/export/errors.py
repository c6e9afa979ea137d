"""Export errors that name the operator and the user's source line."""

from __future__ import annotations

import os
import re
import sysconfig
from typing import Iterable, List, Optional, Tuple

import torch
import torch.fx

_FRAME = re.compile(r'File "([^"]+)", line (\d+), in (\S+)')
_LIBRARY_DIRS = tuple(os.path.realpath(p) + os.sep for p in {
    os.path.dirname(torch.__file__), sysconfig.get_paths()["stdlib"],
    sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"],
    os.path.dirname(os.path.abspath(__file__)),
    os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "pte")} if p)


def _is_library(filename: str) -> bool:
    f = os.path.realpath(filename)
    if f.startswith(_LIBRARY_DIRS) or filename.startswith("<"):
        return True
    return "site-packages" in f and f"{os.sep}edgetorch{os.sep}models.py" not in f


def source_location(node: Optional[torch.fx.Node]) -> str:
    """``file:line in func: code`` of the innermost user frame of a node."""
    if node is None:
        return "<unknown source>"
    st = node.meta.get("stack_trace") or ""
    frames = list(_FRAME.finditer(st))
    if not frames:
        return "<no source location recorded>"
    user = [f for f in frames if not _is_library(f.group(1))]
    m = (user or frames)[-1]
    code = st[m.end():].strip().splitlines()
    code_line = code[0].strip() if code else ""
    loc = f"{m.group(1)}:{m.group(2)} in {m.group(3)}"
    text = f"{loc}: {code_line}" if code_line else loc
    inner = frames[-1]
    if inner is not m:
        text += f" (inside {os.path.basename(inner.group(1))}:{inner.group(2)})"
    return text


class ExportError(RuntimeError):
    """The model cannot be exported; the message says which nodes and why."""


ADD_KERNEL_HELP = (
    "What to do: rewrite the line shown with operators the library has "
    "(edgetorch.runtime.kernel_names() lists them), delegate that part of the "
    "model to a backend, or add a kernel: kernels/portable/op_<name>.c plus an "
    "ET_OP line in kernels/portable/ops.def (tools/ops_def_add.py); see "
    "docs/adding-a-kernel.md.")


class UnsupportedOperatorError(ExportError):
    def __init__(self, missing: List[Tuple[str, str, List[str]]],
                 library: str = "the edgetorch kernel library "
                                "(kernels/portable/ops.def)") -> None:
        # missing: (operator, reason, [source locations])
        self.operators = [m[0] for m in missing]
        self.library = library
        lines = [f"{len(missing)} operator(s) not supported by {library}:"]
        for op, reason, locs in missing:
            lines.append(f"  {op}" + (f" ({reason})" if reason else ""))
            for loc in locs[:5]:
                lines.append(f"      at {loc}")
            if len(locs) > 5:
                lines.append(f"      ... and {len(locs) - 5} more")
        lines.append(ADD_KERNEL_HELP)
        super().__init__("\n".join(lines))


def collect(problems: Iterable[Tuple[str, str, torch.fx.Node]],
            library: Optional[str] = None) -> None:
    """Raise one UnsupportedOperatorError listing every problem, if any."""
    grouped: dict = {}
    for op, reason, node in problems:
        key = (op, reason)
        grouped.setdefault(key, [])
        loc = source_location(node)
        if loc not in grouped[key]:
            grouped[key].append(loc)
    if grouped:
        found = [(op, reason, locs) for (op, reason), locs in grouped.items()]
        raise (UnsupportedOperatorError(found, library) if library
               else UnsupportedOperatorError(found))
