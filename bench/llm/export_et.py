"""edgetorch's export of a benchmark model, in its own process (the
exporter's memory is gone when it exits):

    python bench/llm/export_et.py HF_DIR OUT.pte --max-seq-len 128 --max-context-len 512 [--quantize 8da4w --group-size 32]

Exit 0: written. Exit 3: the quantization mode is not implemented by
``edgetorch.llm.export`` (the reason on stderr's last line). Anything else:
the export failed.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

NOT_IMPLEMENTED = 3


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("hf_dir", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--max-seq-len", type=int, default=128)
    ap.add_argument("--max-context-len", type=int, default=512)
    ap.add_argument("--quantize", choices=["8da4w"], default=None)
    ap.add_argument("--group-size", type=int, default=None)
    a = ap.parse_args()
    import edgetorch.llm as llm
    from edgetorch.llm.errors import QuantizationNotImplementedError

    kwargs = {}
    if a.quantize:
        kwargs = {"quantize": a.quantize, "group_size": a.group_size or 32}
    try:
        prog = llm.export(a.hf_dir, a.max_seq_len, max_context_len=a.max_context_len, **kwargs)
    except QuantizationNotImplementedError as e:
        print(f"not implemented: {e}", file=sys.stderr)
        return NOT_IMPLEMENTED
    tmp = a.out.with_name(a.out.name + ".tmp")
    prog.write_to_file(str(tmp))
    os.replace(tmp, a.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
