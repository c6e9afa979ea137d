#!/usr/bin/env python3
"""Insert ET_OP lines into kernels/portable/ops.def, keeping strcmp order.

    tools/ops_def_add.py 'ET_OP("aten::sin.out", "TWW", et_op_sin_out)' ...

Takes an exclusive lock on the file, so several people (or scripts) adding
operators at once cannot lose each other's lines. An entry whose name is
already present is replaced.
"""
from __future__ import annotations

import fcntl
import re
import sys
from pathlib import Path

OPS_DEF = Path(__file__).resolve().parents[1] / "kernels" / "portable" / "ops.def"
ENTRY = re.compile(r'^ET_OP\("([^"]+)",\s*"([^"]*)",\s*([A-Za-z_][A-Za-z0-9_]*)\)\s*$')


def main(argv: list[str]) -> int:
    new = {}
    for arg in argv:
        m = ENTRY.match(arg.strip())
        if not m:
            print(f"not an ET_OP line: {arg!r}", file=sys.stderr)
            return 2
        new[m.group(1)] = arg.strip()
    with open(OPS_DEF, "r+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        lines = f.read().splitlines()
        first = next((i for i, l in enumerate(lines) if ENTRY.match(l.strip())), len(lines))
        prefix = lines[:first]
        suffix = [l for l in lines[first:] if not ENTRY.match(l.strip()) and l.strip()]
        entries = {ENTRY.match(l.strip()).group(1): l.strip() for l in lines if ENTRY.match(l.strip())}
        entries.update(new)
        body = [entries[k] for k in sorted(entries, key=lambda s: s.encode())]
        f.seek(0)
        f.write("\n".join(prefix + body + suffix) + "\n")
        f.truncate()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
