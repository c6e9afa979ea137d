#!/usr/bin/env python3
"""`make amalgamation`: the runtime as one C file and one header.

    tools/amalgamate.py [-o dist] [--ops-def FILE]

writes DIR/edgetorch.h (every public header of the core, in include order)
and DIR/edgetorch.c (the core's sources, and with --ops-def the kernel
utilities plus the portable kernels that table names, with the table
itself), which compile with one `cc -c edgetorch.c` and nothing else: for
the IDEs of microcontroller vendors, as SQLite ships sqlite3.c.

Each source file keeps its own file-scope names: its static functions and
variables are renamed with a file prefix by #define before it and #undef
after it, and the macros it defines are #undef'd after it, so two files'
helpers of the same name do not collide.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INC = ROOT / "runtime" / "include" / "edgetorch"
# The core's public headers (module.h belongs to extension/).
CORE_HEADERS = ["edgetorch.h"]
LOCAL_INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]((?:edgetorch/)?[\w/]+\.h)[>"]')
STATIC_DEF = re.compile(
    r"^static\s+(?:inline\s+)?(?:const\s+)?[\w\s\*]*?\b([A-Za-z_]\w*)\s*(?:\(|\[|=|;)", re.M)
TYPEDEF = re.compile(r"^typedef\s+(?:struct|union|enum)?\s*\w*\s*\{[^}]*\}\s*(\w+)\s*;|^typedef\s+[^;{(]*?\b(\w+)\s*;",
                     re.M)
TAG = re.compile(r"^(?:typedef\s+)?(?:struct|union|enum)\s+(\w+)\s*\{", re.M)
MACRO_DEF = re.compile(r"^\s*#\s*define\s+([A-Za-z_]\w*)", re.M)


def header_order() -> list:
    """Public headers, each after the ones it includes."""
    order, seen = [], set()

    def visit(name: str) -> None:
        if name in seen:
            return
        seen.add(name)
        for line in (INC / name).read_text().splitlines():
            m = LOCAL_INCLUDE.match(line)
            if m and m.group(1).startswith("edgetorch/"):
                visit(m.group(1).split("/", 1)[1])
        order.append(name)

    for h in CORE_HEADERS:
        visit(h)
    return order


def strip_includes(text: str, known) -> str:
    """Drop #include lines of files the amalgamation already contains."""
    out = []
    for line in text.splitlines():
        m = LOCAL_INCLUDE.match(line)
        if m and (m.group(1) in known or m.group(1).split("/")[-1] in known):
            out.append(f"/* {line.strip()} (amalgamated) */")
        else:
            out.append(line)
    return "\n".join(out) + "\n"


def private_header_order(dirs) -> list:
    """Private headers of the given folders (core: fb.h, internal.h; kernels:
    util/*.h, portable/ops.h), each after the ones it includes."""
    paths = {}
    for d, prefix in dirs:
        for h in sorted(d.glob("*.h")):
            paths[prefix + h.name] = h
    order, seen = [], set()

    def visit(key: str) -> None:
        if key in seen or key not in paths:
            return
        seen.add(key)
        for line in paths[key].read_text().splitlines():
            m = LOCAL_INCLUDE.match(line)
            if m:
                inc = m.group(1)
                for cand in (inc, key.rsplit("/", 1)[0] + "/" + inc if "/" in key else inc):
                    visit(cand)
        order.append(key)

    for key in paths:
        visit(key)
    return [(k, paths[k]) for k in order]


def wrap_source(path: Path, known, tag: str) -> str:
    text = strip_includes(path.read_text(), known)
    statics = set(STATIC_DEF.findall(text)) | set(TAG.findall(text))
    statics |= {a or b for a, b in TYPEDEF.findall(text)}
    # et_ names are public (an opaque struct a header declares is defined
    # in its .c file) and unique by convention: they keep their names.
    statics = sorted(n for n in statics if not n.startswith("et_"))
    macros = sorted(set(MACRO_DEF.findall(text)))
    head = [f"/* ---- {path.relative_to(ROOT)} ---- */"]
    head += [f"#define {s} {tag}_{s}" for s in statics]
    tail = [f"#undef {s}" for s in statics] + [f"#undef {m}" for m in macros]
    return "\n".join(head) + "\n" + text + "\n".join(tail) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-o", "--output", default=str(ROOT / "dist"))
    p.add_argument("--ops-def", help="also the portable kernels of this table "
                                     "(kernels/portable/ops.def or a selective build's)")
    ns = p.parse_args(argv)
    out = Path(ns.output)
    out.mkdir(parents=True, exist_ok=True)

    headers = header_order()
    known = {f"edgetorch/{h}" for h in headers} | set(headers)
    h = ["/* edgetorch: the core runtime's public headers in one file (tools/amalgamate.py). */",
         "#ifndef EDGETORCH_AMALGAMATION_H", "#define EDGETORCH_AMALGAMATION_H"]
    for name in headers:
        h.append(f"/* ---- runtime/include/edgetorch/{name} ---- */")
        h.append(strip_includes((INC / name).read_text(), known))
    h.append("#endif /* EDGETORCH_AMALGAMATION_H */")
    (out / "edgetorch.h").write_text("\n".join(h) + "\n")

    dirs = [(ROOT / "runtime" / "core", "")]
    sources = sorted((ROOT / "runtime" / "core").glob("*.c"))
    if ns.ops_def:
        sys.path.insert(0, str(ROOT / "python"))
        from edgetorch.selective import kernel_sources

        table = Path(ns.ops_def).read_text()
        dirs += [(ROOT / "kernels" / "util", "util/"), (ROOT / "kernels" / "portable", "portable/")]
        kern = kernel_sources(table.splitlines(), ROOT / "kernels" / "portable")
        sources += sorted((ROOT / "kernels" / "util").glob("*.c"))
        sources += [k for k in kern if k.name != "registry.c"]
    private = private_header_order(dirs)
    known |= {k for k, _ in private} | {"edgetorch.h"}
    c = ["/* edgetorch amalgamation (tools/amalgamate.py): compile with `cc -c edgetorch.c`. */",
         '#include "edgetorch.h"']
    full_table = (ROOT / "kernels" / "portable" / "ops.def").read_text()
    for key, path in private:
        c.append(f"/* ---- {path.relative_to(ROOT)} ---- */")
        text = strip_includes(path.read_text(), known)
        # portable/ops.h declares every kernel from the full table
        c.append(re.sub(r'^\s*#\s*include\s*"ops.def"\s*$', lambda m: full_table, text, flags=re.M))
    for i, src in enumerate(sources):
        c.append(wrap_source(src, known, f"et_a{i}"))
    if ns.ops_def:
        c.append("/* ---- the kernel table ---- */")
        c.append("static const et_kernel et_a_kernels[] = {")
        c.append("#define ET_OP(name, sig, fn) {name, sig, fn},")
        c.append(table)
        c.append("#undef ET_OP")
        c.append("};")
        c.append("const et_kernel_table et_portable_kernels = {\n"
                 "    et_a_kernels, sizeof et_a_kernels / sizeof et_a_kernels[0]};")
    (out / "edgetorch.c").write_text("\n".join(c) + "\n")
    print(f"amalgamation: {out / 'edgetorch.c'} ({len(sources)} sources), {out / 'edgetorch.h'}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
