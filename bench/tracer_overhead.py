"""Tracing-off overhead of the event tracer hook, per executed instruction.

Builds bench/tracer_overhead.c three ways against build/lib/libedgetorch.a:
  before: runtime/core/method.c as it was before the hook (git), linked
          first so the library's method.o is not used
  off:    the current runtime, no tracer attached
  noop:   the current runtime with a tracer whose callback does nothing
  -DET_TRACING=0: the current runtime with the hook compiled out
and runs each on a program of many tiny operators (so dispatch, not
arithmetic, dominates), best of many runs, several rounds interleaved.

Run: .venv/bin/python bench/tracer_overhead.py [--rounds 5] [--runs 2000]
(after `make build`). A benchmark, not a test: figures depend on the machine.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BEFORE = "f869d47^"  # the commit that added the hook, minus one


def build(tmp: Path) -> dict:
    lib = ROOT / "build" / "lib" / "libedgetorch.a"
    if not lib.exists():
        sys.exit("build the library first: make build")
    # Both method.c versions compiled here the same way (the library's own
    # method.o is then not pulled in).
    cflags = ["gcc", "-std=c11", "-O3", "-DNDEBUG", f"-I{ROOT}/runtime/include",
              f"-I{ROOT}/extension"]
    old = tmp / "method_before.c"
    old.write_text(subprocess.run(["git", "-C", str(ROOT), "show",
                                   f"{BEFORE}:runtime/core/method.c"],
                                  check=True, capture_output=True, text=True).stdout)
    subprocess.run(cflags + [f"-I{ROOT}/runtime/core", "-c", str(old), "-o",
                             str(tmp / "method_before.o")], check=True)
    exes = {}
    exes["before"] = tmp / "before"
    subprocess.run(cflags + ["-DET_NO_TRACER_API", str(ROOT / "bench/tracer_overhead.c"),
                             str(tmp / "method_before.o"), str(lib), "-lm", "-o",
                             str(exes["before"])], check=True)
    subprocess.run(cflags + [f"-I{ROOT}/runtime/core", "-c",
                             str(ROOT / "runtime/core/method.c"), "-o",
                             str(tmp / "method_now.o")], check=True)
    subprocess.run(cflags + ["-DET_TRACING=0", f"-I{ROOT}/runtime/core", "-c",
                             str(ROOT / "runtime/core/method.c"), "-o",
                             str(tmp / "method_out.o")], check=True)
    exes["out"] = tmp / "out"
    subprocess.run(cflags + [str(ROOT / "bench/tracer_overhead.c"), str(tmp / "method_out.o"),
                             str(lib), "-lm", "-o", str(exes["out"])], check=True)
    exes["now"] = tmp / "now"
    subprocess.run(cflags + [str(ROOT / "bench/tracer_overhead.c"), str(tmp / "method_now.o"),
                             str(lib), "-lm", "-o", str(exes["now"])], check=True)
    return exes


def model(tmp: Path) -> Path:
    import torch

    import edgetorch

    class Chain(torch.nn.Module):
        def forward(self, x):
            for _ in range(200):
                x = x + 1.0
            return x

    p = tmp / "chain.pte"
    edgetorch.export(Chain(), (torch.zeros(4),)).write_to_file(p)
    return p


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--runs", type=int, default=2000)
    ns = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        exes = build(tmp)
        pte = model(tmp)
        res = {"before (no hook)": [], "off (hook, no tracer)": [],
               "-DET_TRACING=0": [], "noop tracer attached": []}
        for _ in range(ns.rounds):
            for label, exe, mode in (("before (no hook)", exes["before"], "off"),
                                     ("off (hook, no tracer)", exes["now"], "off"),
                                     ("-DET_TRACING=0", exes["out"], "off"),
                                     ("noop tracer attached", exes["now"], "noop")):
                out = subprocess.run([str(exe), str(pte), str(ns.runs), mode], check=True,
                                     capture_output=True, text=True).stdout
                res[label].append(float(out))
        print(f"ns per executed instruction (200 x aten::add.out on float[4]; best of "
              f"{ns.runs} runs per round, {ns.rounds} rounds interleaved)")
        print(f"  {'':<24} {'min':>7} {'median':>7}   rounds")
        for label, v in res.items():
            print(f"  {label:<24} {min(v):7.2f} {statistics.median(v):7.2f}   "
                  + " ".join(f"{x:.2f}" for x in v))


if __name__ == "__main__":
    main()
