"""One model, two runtimes, interleaved in one process: the edgetorch C
runtime (Python binding) on one of the model's cached files against upstream
ExecuTorch + XNNPACK on upstream's XNNPACK file (xnn.pte), at one thread
count. A quick check between full `make bench` runs, not a replacement.

    .venv/bin/python bench/pair.py resnet18 --threads 1 [--ours et.pte] [--rounds 20] [--cpu-time]
    .venv/bin/python bench/pair.py --table [--docs]   # every model and file, 1 thread CPU time

The model's files come from the bench cache (bench/.cache/<model>-*/, made
by `bench/run.py --export-only`). Prints the medians of alternating calls
and their ratio (edgetorch / upstream: below 1 is faster). `--table` runs
every model on each of edgetorch's files (xnn.pte: upstream's XNNPACK file,
etx.pte: edgetorch's own XNNPACK-delegated export, et.pte: edgetorch's own
non-delegated export) at 1 thread by CPU time, and with `--docs` writes the
table into docs/benchmarks.md between markers that `make bench` keeps.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import time
from pathlib import Path
from typing import List, Optional, Tuple

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

MODELS = ("mobilenet_v2", "resnet18", "bert_base", "gpt2_small", "lstm", "digits_cnn",
          "mobilenet_v2_int8", "resnet18_int8")
FILES = ("xnn.pte", "etx.pte", "et.pte")


def measure(model: str, ours: str, threads: int, rounds: int, budget_s: float,
            cpu_time: bool) -> Optional[Tuple[float, float, int]]:
    """(upstream ms, edgetorch ms, rounds) medians, or None without cached files."""
    dirs = sorted((REPO / "bench" / ".cache").glob(f"{model}-*"))
    if not dirs or not (dirs[-1] / ours).exists():
        return None
    d = dirs[-1]
    import torch
    from executorch.runtime import Runtime

    import edgetorch.runtime as etr
    from bench.runtimes import upstream_set_threads

    clock = time.thread_time if cpu_time else time.perf_counter
    ins = [np.load(p) for p in sorted(d.glob("input_*.npy"))]
    upstream_set_threads(threads)
    etr.set_num_threads(threads)
    up = Runtime.get().load_program(str(d / "xnn.pte")).load_method("forward")
    mine = etr.load_program(str(d / ours)).load_method("forward")
    tins = [torch.from_numpy(x) for x in ins]
    for _ in range(2):
        up.execute(tins)
        mine.execute(ins)
    a: List[float] = []
    b: List[float] = []
    end = time.time() + budget_s
    for i in range(rounds):
        t = clock()
        up.execute(tins)
        a.append(clock() - t)
        t = clock()
        mine.execute(ins)
        b.append(clock() - t)
        if time.time() > end and i >= 2:
            break
    med = lambda v: sorted(v)[len(v) // 2] * 1e3  # noqa: E731
    return med(a), med(b), len(a)


def table(rounds: int, budget_s: float) -> str:
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = ["<!-- pair-cpu:begin -->",
             "## edgetorch / upstream + XNNPACK by CPU time (bench/pair.py --table)", "",
             f"{when}, load average {load:.1f} at the start. Each cell: the median of "
             "alternating calls in one process, each timed by the calling thread's CPU time "
             "at 1 thread (robust to other work on a shared machine, not to its cache and "
             "memory traffic); the ratio edgetorch / upstream ExecuTorch 1.5.1 + XNNPACK on "
             "upstream's XNNPACK file. Below 1: edgetorch is faster.", "",
             "| model | upstream + XNNPACK (ms) | edgetorch on xnn.pte | on etx.pte "
             "(own XNNPACK export) | on et.pte (own export) |",
             "|---|---|---|---|---|"]
    for m in MODELS:
        cells, ref = [], None
        for f in FILES:
            r = measure(m, f, 1, rounds, budget_s, cpu_time=True)
            if r is None:
                cells.append("n/a (not cached)")
                continue
            ref = r[0] if ref is None else ref
            cells.append(f"{r[1]:.3g} ms (×{r[1] / r[0]:.2f})")
            print(f"{m} {f}: upstream {r[0]:.3g} ms, edgetorch {r[1]:.3g} ms, "
                  f"ratio {r[1] / r[0]:.2f} ({r[2]} rounds)", flush=True)
        lines.append(f"| {m} | {ref:.3g} | " + " | ".join(cells) + " |"
                     if ref is not None else f"| {m} | n/a | " + " | ".join(cells) + " |")
    lines += ["", "<!-- pair-cpu:end -->"]
    return "\n".join(lines) + "\n"


def write_docs(section: str) -> None:
    p = REPO / "docs" / "benchmarks.md"
    old = p.read_text() if p.exists() else "# Benchmarks\n"
    a, b = old.find("<!-- pair-cpu:begin -->"), old.find("<!-- pair-cpu:end -->")
    if 0 <= a < b:
        new = old[:a] + section.rstrip("\n") + old[b + len("<!-- pair-cpu:end -->"):]
    else:
        new = old.rstrip("\n") + "\n\n" + section
    p.write_text(new)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model", nargs="?", help="model name (" + ", ".join(MODELS) + ")")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--ours", default="xnn.pte",
                    help="the file edgetorch runs: xnn.pte (upstream's XNNPACK export, the "
                         "default), et.pte (edgetorch's own export) or etx.pte (edgetorch's "
                         "own XNNPACK-delegated export)")
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--budget-s", type=float, default=60.0, help="stop after this long")
    ap.add_argument("--cpu-time", action="store_true",
                    help="time each call by the calling thread's CPU time instead of the "
                         "wall clock (1 thread only): robust to other work on a shared "
                         "machine, blind to time the call spends waiting")
    ap.add_argument("--table", action="store_true",
                    help="every model on each of edgetorch's files, 1 thread, CPU time")
    ap.add_argument("--docs", action="store_true",
                    help="with --table: write it into docs/benchmarks.md")
    args = ap.parse_args()
    if args.table:
        section = table(args.rounds, args.budget_s)
        print(section)
        if args.docs:
            write_docs(section)
        return 0
    if not args.model:
        ap.error("give a model, or --table")
    if args.cpu_time and args.threads != 1:
        ap.error("--cpu-time measures the calling thread: use it with --threads 1")
    r = measure(args.model, args.ours, args.threads, args.rounds, args.budget_s, args.cpu_time)
    if r is None:
        print(f"no cached {args.ours} for {args.model}: run bench/run.py --export-only",
              file=sys.stderr)
        return 2
    how = "CPU time" if args.cpu_time else "wall clock"
    print(f"{args.model} ({args.ours}, {args.threads} thread(s), {r[2]} rounds, {how}): "
          f"upstream+XNNPACK {r[0]:.2f} ms, edgetorch {r[1]:.2f} ms, ratio {r[1] / r[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
