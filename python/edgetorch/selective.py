"""Selective build: a kernel table holding only the operators some programs use.

    edgetorch selective-build MODEL.pte [MORE.pte ...] -o DIR

reads every method of every program and writes into DIR

- ``ops.def``: a filtered copy of ``kernels/portable/ops.def`` (the X-macro
  table the portable registry is built from) with only the operators used.
  Build with it: ``cmake -DET_OPS_DEF=DIR/ops.def``, or let CMake run this
  step itself: ``cmake -DET_SELECT_PTE="a.pte;b.pte"``. With
  ``-ffunction-sections -Wl,--gc-sections`` (as the Cortex-M firmware
  builds) the unused kernels drop out of the image.
- ``quantized_ops.def``, ``llm_ops.def`` and ``optimized_ops.def``: the
  same filter over ``kernels/quantized/ops.def`` (``quantized_decomposed::``
  operators, a table of their own), ``kernels/llm/ops.def`` (``llama::``
  operators) and ``kernels/optimized/ops.def`` (searched first); CMake
  takes them from beside ``-DET_OPS_DEF``.
- ``selected_ops.txt``: the operator names, one a line.
- ``backends.txt``: the delegate backend ids the programs call, one a line
  (link those backends; none other is needed).
- ``kernel_sources.txt``: the ``kernels/portable`` source files that define
  the selected kernels, for builds that compile only those.

A program needing an operator that the library does not have is reported
(and makes the command fail unless ``--allow-missing``). A program run on a
selective build that lacks one of its operators fails at method init with
OperatorMissing and the list of missing names, as on a full build.

Needs numpy only (the `.pte` reader), not torch, so that CMake can run it.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Set

ENTRY = re.compile(r'^ET_OP\("([^"]+)",\s*"([^"]*)",\s*([A-Za-z_][A-Za-z0-9_]*)\)\s*$')


def default_ops_def() -> Path:
    """The full table: the source tree's, else the one installed with the package."""
    here = Path(__file__).resolve().parent
    for cand in (here.parents[1] / "kernels" / "portable" / "ops.def", here / "_data" / "ops.def"):
        if cand.is_file():
            return cand
    raise FileNotFoundError("kernels/portable/ops.def not found (pass --ops-def)")


@dataclass
class ProgramNeeds:
    """What one `.pte` asks of the runtime."""

    path: str
    operators: Set[str] = field(default_factory=set)
    backends: Set[str] = field(default_factory=set)


def program_needs(data: bytes, path: str = "<bytes>") -> ProgramNeeds:
    """Operators (``aten::add.out`` style) and backend ids of every method."""
    from .pte import read_pte

    pte = read_pte(data)
    needs = ProgramNeeds(path)
    for plan in pte.program.execution_plan:
        for op in plan.operators:
            needs.operators.add(op.full_name)
        for d in plan.delegates:
            needs.backends.add(d.id)
    return needs


def parse_ops_def(text: str) -> Dict[str, str]:
    """name -> the ET_OP line, for every entry of an ops.def file."""
    out = {}
    for line in text.splitlines():
        m = ENTRY.match(line.strip())
        if m:
            out[m.group(1)] = line.strip()
    return out


def filter_ops_def(text: str, keep: Iterable[str]) -> str:
    """The table with only the entries named in `keep`; comments stay, order stays."""
    keep = set(keep)
    lines = [
        "/* Selective build (edgetorch selective-build): the operators the given",
        " * programs use, filtered from the full table below this note. */",
    ]
    for line in text.splitlines():
        m = ENTRY.match(line.strip())
        if m is None:
            lines.append(line)
        elif m.group(1) in keep:
            lines.append(line.strip())
    return "\n".join(lines) + "\n"


def kernel_sources(ops_def_lines: Iterable[str], kernels_dir: Path) -> List[Path]:
    """kernels/portable/*.c files defining the functions of the given ET_OP lines."""
    funcs = set()
    for line in ops_def_lines:
        m = ENTRY.match(line)
        if m:
            funcs.add(m.group(3))
    found = []
    pattern = re.compile(r"\bet_status\s+(\w+)\s*\(")
    for src in sorted(kernels_dir.glob("*.c")):
        defined = set(pattern.findall(src.read_text(errors="replace")))
        if defined & funcs:
            found.append(src)
    return found


def _write(path: Path, text: str) -> None:
    """Write unless unchanged, so that builds depending on the file stay built."""
    if not path.is_file() or path.read_text() != text:
        path.write_text(text)


@dataclass
class Selection:
    operators: List[str]
    backends: List[str]
    missing: Dict[str, List[str]]  # operator -> programs that need it
    ops_def: Path
    sources: List[Path]


def selective_build(programs: Sequence[str], out_dir: str, ops_def: Optional[str] = None) -> Selection:
    """Write DIR/ops.def and friends for `programs`; returns what was selected."""
    full_path = Path(ops_def) if ops_def else default_ops_def()
    full_text = full_path.read_text()
    table = parse_ops_def(full_text)
    # the other tables: the source tree's, else the installed copies
    here = Path(__file__).resolve().parent
    others = {}
    for name in ("quantized", "optimized", "llm"):
        for cand in (full_path.parent.parent / name / "ops.def", here / "_data" / f"{name}_ops.def"):
            if cand.is_file():
                others[name] = cand.read_text()
                break
    # operators of the tables besides portable that the module registers
    quantized = (parse_ops_def(others.get("quantized", ""))
                 | parse_ops_def(others.get("llm", "")))
    used: Dict[str, List[str]] = {}
    backends: Set[str] = set()
    for p in programs:
        needs = program_needs(Path(p).read_bytes(), p)
        for op in needs.operators:
            used.setdefault(op, []).append(p)
        backends |= needs.backends
    selected = sorted(op for op in used if op in table or op in quantized)
    missing = {op: progs for op, progs in sorted(used.items())
               if op not in table and op not in quantized}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    filtered = filter_ops_def(full_text, selected)
    _write(out / "ops.def", filtered)
    for name, text in others.items():
        _write(out / f"{name}_ops.def", filter_ops_def(text, selected))
    _write(out / "selected_ops.txt", "".join(op + "\n" for op in selected))
    _write(out / "backends.txt", "".join(b + "\n" for b in sorted(backends)))
    kdir = full_path.parent
    sources = kernel_sources((table[op] for op in selected if op in table), kdir) \
        if kdir.is_dir() else []
    _write(out / "kernel_sources.txt", "".join(f"{s}\n" for s in sources))
    return Selection(selected, sorted(backends), missing, out / "ops.def", sources)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("programs", nargs="+", metavar="MODEL.pte",
                   help="the programs whose operators the table keeps")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="output directory")
    p.add_argument("--ops-def", help="the full table to filter (default: kernels/portable/ops.def)")
    p.add_argument("--allow-missing", action="store_true",
                   help="succeed even if a program needs an operator the library lacks")


def run(ns: argparse.Namespace) -> int:
    sel = selective_build(ns.programs, ns.output, ns.ops_def)
    print(f"selective build: {len(sel.operators)} operators from {len(ns.programs)} "
          f"program(s) -> {sel.ops_def}", file=sys.stderr)
    if sel.backends:
        print(f"  backends: {', '.join(sel.backends)}", file=sys.stderr)
    if sel.missing:
        print(f"  missing from the kernel library ({len(sel.missing)}): "
              + ", ".join(f"{op} (in {', '.join(ps)})" for op, ps in sel.missing.items()),
              file=sys.stderr)
        return 0 if ns.allow_missing else 1
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="edgetorch selective-build",
                                description="kernel table with only the operators of some programs")
    add_arguments(p)
    return run(p.parse_args(argv))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
