"""Tracing-off overhead of the event tracer hook, per executed instruction.

Builds bench/tracer_overhead.c against build/lib/libedgetorch.a with
runtime/core/method_execute.c (the instruction loop) compiled here in place
of the library's copy and linked last (so that only the loop's own placement
differs between variants, not every kernel's), in variants:
  compiled out    -DET_TRACING=0: the loop never reads m->tracer
  no tracer       the default build, no tracer attached
  no-op tracer    the default build with a tracer whose callback does nothing
  loop of REV     (--rev REV, repeatable) the loop as it was at git revision
                  REV, no tracer: for before/after comparisons of the loop
and runs each on a program of 200 tiny adds (float[4]), so that dispatch,
not arithmetic, dominates: the best of --runs executions per round, rounds
interleaved (order rotated each round), in ns per executed instruction.
Where code lands moves such a figure by a few ns either way, and any change
to any code moves where it lands; so each variant is linked --pads times,
behind 0, 16, 32, ... bytes of padding, and compared with the compiled-out
build at the same padding (the -out column: the median of those
differences).

Run: .venv/bin/python bench/tracer_overhead.py [--rounds 9] [--runs 3000]
     [--rev main] (after `make build`); `make bench` runs it too (the
"Tracer overhead" table of docs/benchmarks.md). A benchmark, not a test:
figures depend on the machine and on what else it runs.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Callable, Dict, List, Optional

ROOT = Path(__file__).resolve().parent.parent
# The library's own flags for the core (CMake Release, gcc).
CFLAGS = ["gcc", "-std=c11", "-O3", "-DNDEBUG"]
N_ADDS = 200
OUT = "compiled out (-DET_TRACING=0)"
OFF = "no tracer (default build)"
NOOP = "no-op tracer attached"


def _cc(args: List[str]) -> None:
    subprocess.run(CFLAGS + args, check=True)


def build(tmp: Path, build_dir: Path, revs: List[str], pads: int) -> Dict[str, List[Path]]:
    """{variant label: one executable per code placement}."""
    lib = build_dir / "lib" / "libedgetorch.a"
    if not lib.exists():
        raise FileNotFoundError(f"{lib} is missing: make build")
    inc = [f"-I{ROOT}/runtime/include", f"-I{ROOT}/runtime/core", f"-I{ROOT}/extension"]
    # The library without its loop; each variant's loop object is linked
    # after it, so that the variants differ only in their loop.
    rest = tmp / "librest.a"
    rest.write_bytes(lib.read_bytes())
    subprocess.run(["ar", "d", str(rest), "method_execute.c.o"], check=True)
    # Code placement moves a figure by a few ns either way (loop and kernel
    # alignment); any change to the code moves it. So every variant is
    # linked `pads` times behind 0, 16, 32, ... bytes of padding that shifts
    # all code, and compared at equal padding.
    pad_objs = []
    for k in range(pads):
        src = tmp / f"pad{k}.c"
        # Cold text comes first in the linked .text (GNU ld): a cold pad
        # linked first shifts all code that follows, cold and hot.
        src.write_text(
            "void et_bench_pad(void);\n"
            "__attribute__((cold, noinline)) void et_bench_pad(void) {\n"
            + (f'  __asm__ volatile(".skip {16 * k}, 0x90");\n' if k else "") + "}\n")
        _cc(["-c", str(src), "-o", str(tmp / f"pad{k}.o")])
        pad_objs.append(tmp / f"pad{k}.o")
    main = ROOT / "bench" / "tracer_overhead.c"
    sources = {OUT: (ROOT / "runtime/core/method_execute.c", ["-DET_TRACING=0"]),
               OFF: (ROOT / "runtime/core/method_execute.c", [])}
    for rev in revs:
        src = tmp / f"method_execute_{len(sources)}.c"
        src.write_text(subprocess.run(
            ["git", "-C", str(ROOT), "show", f"{rev}:runtime/core/method_execute.c"],
            check=True, capture_output=True, text=True).stdout)
        sources[f"no tracer, loop of {rev}"] = (src, [])
    exes: Dict[str, List[Path]] = {}
    for k, (label, (src, defs)) in enumerate(sources.items()):
        obj = tmp / f"loop{k}.o"
        _cc(inc + defs + ["-c", str(src), "-o", str(obj)])
        exes[label] = []
        for j, pad in enumerate(pad_objs):
            exe = tmp / f"bench{k}_{j}"
            _cc(inc + [str(pad), str(main), str(rest), str(obj), "-lm", "-o", str(exe)])
            exes[label].append(exe)
    return exes


def model(tmp: Path) -> Path:
    import torch

    import edgetorch

    class Chain(torch.nn.Module):
        def forward(self, x):
            for _ in range(N_ADDS):
                x = x + 1.0
            return x

    p = tmp / "chain.pte"
    edgetorch.export(Chain(), (torch.zeros(4),)).write_to_file(p)
    return p


def measure(rounds: int = 9, runs: int = 3000, revs: Optional[List[str]] = None,
            pads: int = 8, build_dir: Optional[Path] = None,
            log: Callable[[str], None] = lambda s: None) -> Dict[str, object]:
    """Rows of {variant, median, min, minus_compiled_out, by_pad}: ns per
    executed instruction. by_pad[j] is the median over rounds of the best
    run at padding j; median is the median of by_pad; minus_compiled_out
    the median over paddings of (variant - compiled out) at that padding."""
    build_dir = build_dir or ROOT / "build"
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        exes = build(tmp, build_dir, list(revs or []), pads)
        pte = model(tmp)
        kinds = [(label, label, "off") for label in exes]
        kinds.insert(2, (NOOP, OFF, "noop"))
        res: Dict[str, List[List[float]]] = {k: [[] for _ in range(pads)] for k, _, _ in kinds}
        jobs = [(k, exe, mode, j) for k, exe, mode in kinds for j in range(pads)]
        for r in range(rounds):
            # Rotate the order so that no build always runs first or last.
            order = jobs[r % len(jobs):] + jobs[:r % len(jobs)]
            for label, exe, mode, j in order:
                out = subprocess.run([str(exes[exe][j]), str(pte), str(runs), mode],
                                     check=True, capture_output=True, text=True).stdout
                res[label][j].append(float(out))
            log(f"tracer overhead: round {r + 1}/{rounds}")
    base = [statistics.median(v) for v in res[OUT]]
    rows = []
    for label, per_pad in res.items():
        by_pad = [statistics.median(v) for v in per_pad]
        rows.append({"variant": label, "by_pad": by_pad, "median": statistics.median(by_pad),
                     "min": min(min(v) for v in per_pad),
                     "minus_compiled_out": statistics.median(
                         [a - b for a, b in zip(by_pad, base)])})
    return {"instructions": N_ADDS, "op": "aten::add.out on float[4]", "rounds": rounds,
            "runs": runs, "pads": pads, "rows": rows}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--runs", type=int, default=3000)
    ap.add_argument("--pads", type=int, default=8,
                    help="code placements per variant (0, 16, ... bytes of padding)")
    ap.add_argument("--rev", action="append", default=[],
                    help="also time the instruction loop of this git revision (repeatable)")
    ap.add_argument("--build-dir", type=Path, default=ROOT / "build")
    ns = ap.parse_args()
    try:
        r = measure(ns.rounds, ns.runs, ns.rev, ns.pads, ns.build_dir)
    except FileNotFoundError as e:
        sys.exit(str(e))
    print(f"ns per executed instruction ({r['instructions']} x {r['op']}; best of "
          f"{ns.runs} runs, median of {ns.rounds} interleaved rounds, per code placement)")
    w = max(len(row["variant"]) for row in r["rows"])
    print(f"  {'':<{w}} {'median':>7} {'min':>7} {'-out':>6}   by placement (0, 16, ... bytes)")
    for row in r["rows"]:
        print(f"  {row['variant']:<{w}} {row['median']:7.2f} {row['min']:7.2f} "
              f"{row['minus_compiled_out']:+6.2f}   "
              + " ".join(f"{x:.1f}" for x in row["by_pad"]))


if __name__ == "__main__":
    main()
