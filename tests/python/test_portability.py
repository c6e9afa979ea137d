"""Portability rules that a 64-bit x86 build cannot catch by running.

The core's formatter (et_format, used by every message of runtime/core,
kernels/ and backends/) has no floating-point conversions. A %g given to it
does not consume its double: on x86-64 the double travels in an SSE register
and nothing shows, but on 32-bit Arm the next %s reads the double's words as
a pointer (a crash that `make test-32bit` found). Doubles go through
et_double_str (kernels/util/scalar_util.h) and %s instead.
"""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')
FLOAT_CONV = re.compile(r"%[-+ #0-9.*]*[lL]?[fFeEgGaA]")
# comments and character literals (a '"' would pair strings up wrongly)
NOISE = re.compile(r"/\*.*?\*/|//[^\n]*|'(?:[^'\\\n]|\\.)+'", re.S)


def test_no_float_conversions_in_core_formatter_strings():
    bad = []
    for d in ("runtime/core", "kernels", "backends"):
        for src in sorted((ROOT / d).rglob("*.[ch]")):
            text = NOISE.sub(lambda m: "\n" * m.group(0).count("\n"),
                             src.read_text(errors="replace"))
            for m in STRING.finditer(text):
                if FLOAT_CONV.search(m.group(0).replace("%%", "")):
                    line = text.count("\n", 0, m.start()) + 1
                    bad.append(f"{src.relative_to(ROOT)}:{line}: {m.group(0)}")
    assert not bad, "float conversions et_format cannot print:\n" + "\n".join(bad)
