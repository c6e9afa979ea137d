#!/usr/bin/env python3
"""Host step of the Cortex-M firmware build: a `.pte` and an input -> model.h.

    model_header.py MODEL.pte INPUT.npy -o DIR [--method forward] [--scratch N]

Writes DIR/model.h with
- the program bytes as a 16-byte aligned const array (it stays in flash),
- the method arena size and each planned buffer's size, read from the
  method's metadata (the Python binding of the C runtime), so that
  main.c declares them as static arrays: no heap,
- the input tensor (float32) and its shape.

and DIR/ops.def, DIR/kernel_sources.txt: the selective build of the program
(edgetorch selective-build), so the firmware links only the kernels the
model uses.

The arena size comes from this host's metadata; the firmware prints the
target's own figure (32-bit pointers need fewer bytes) and fails if the
static arena is short.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np


def write_header(pte: bytes, x: np.ndarray, out: Path, method: str = "forward",
                 scratch: int = 0) -> dict:
    from edgetorch import runtime
    from edgetorch.selective import selective_build

    meta = runtime.load_program(pte).metadata(method)
    sizes = list(meta.planned_buffer_sizes)
    x = np.ascontiguousarray(x, dtype=np.float32)
    out.mkdir(parents=True, exist_ok=True)
    lines = [
        "/* Written by targets/cortex-m/model_header.py: do not edit. */",
        "#ifndef ET_FW_MODEL_H",
        "#define ET_FW_MODEL_H",
        "#include <stdint.h>",
        f'#define ET_FW_METHOD "{method}"',
        f"#define ET_FW_ARENA_BYTES {meta.arena_bytes}",
        f"#define ET_FW_SCRATCH_BYTES {scratch}",
        "#define ET_FW_PLANNED(X) " + " ".join(f"X({i}, {n})" for i, n in enumerate(sizes)),
        "#define ET_FW_INPUT_SHAPE " + ", ".join(str(d) for d in x.shape),
        f"/* {len(pte)} bytes of program, in flash */",
        "static const _Alignas(16) uint8_t et_fw_pte[] = {",
    ]
    for i in range(0, len(pte), 24):
        lines.append("  " + ",".join(str(b) for b in pte[i:i + 24]) + ",")
    lines.append("};")
    vals = x.reshape(-1).astype(np.float64)  # exact: hex literals are exact
    lines.append("static const _Alignas(16) float et_fw_input[] = {")
    for i in range(0, len(vals), 8):
        lines.append("  " + ",".join(f"{float(v).hex()}f" for v in vals[i:i + 8]) + ",")
    lines.append("};")
    lines.append("#endif")
    header = "\n".join(lines) + "\n"
    # Unchanged files keep their time stamps: the firmware is not rebuilt.
    if not (out / "model.h").is_file() or (out / "model.h").read_text() != header:
        (out / "model.h").write_text(header)
    if not (out / "model.pte").is_file() or (out / "model.pte").read_bytes() != pte:
        (out / "model.pte").write_bytes(pte)
    selective_build([str(out / "model.pte")], str(out))
    return {"arena_bytes": meta.arena_bytes, "planned": sizes, "pte_bytes": len(pte)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("pte")
    p.add_argument("input", help=".npy float32 input")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--method", default="forward")
    p.add_argument("--scratch", type=int, default=0)
    ns = p.parse_args(argv)
    info = write_header(Path(ns.pte).read_bytes(), np.load(ns.input), Path(ns.output),
                        ns.method, ns.scratch)
    print(info, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
