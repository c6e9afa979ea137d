"""One model, two runtimes, interleaved in one process: the edgetorch C
runtime (Python binding) on one of the model's cached files against upstream
ExecuTorch + XNNPACK on upstream's XNNPACK file (xnn.pte), at one thread
count. A quick check between full `make bench` runs, not a replacement.

    .venv/bin/python bench/pair.py resnet18 --threads 1 [--ours et.pte] [--rounds 20] [--cpu-time]

The model's files come from the bench cache (bench/.cache/<model>-*/, made
by `bench/run.py --export-only`). Prints the medians of alternating calls
and their ratio (edgetorch / upstream: below 1 is faster).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model", help="model name (mobilenet_v2, resnet18, bert_base, gpt2_small, "
                                  "lstm, digits_cnn)")
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
    args = ap.parse_args()
    if args.cpu_time and args.threads != 1:
        ap.error("--cpu-time measures the calling thread: use it with --threads 1")
    clock = time.thread_time if args.cpu_time else time.perf_counter
    dirs = sorted((REPO / "bench" / ".cache").glob(f"{args.model}-*"))
    if not dirs:
        print(f"no cached files for {args.model}: run bench/run.py --export-only", file=sys.stderr)
        return 2
    d = dirs[-1]
    import torch
    from executorch.runtime import Runtime

    import edgetorch.runtime as etr
    from bench.runtimes import upstream_set_threads

    ins = [np.load(p) for p in sorted(d.glob("input_*.npy"))]
    upstream_set_threads(args.threads)
    etr.set_num_threads(args.threads)
    up = Runtime.get().load_program(str(d / "xnn.pte")).load_method("forward")
    ours = etr.load_program(str(d / args.ours)).load_method("forward")
    tins = [torch.from_numpy(x) for x in ins]
    for _ in range(2):
        up.execute(tins)
        ours.execute(ins)
    a, b = [], []
    end = time.time() + args.budget_s
    for i in range(args.rounds):
        t = clock()
        up.execute(tins)
        a.append(clock() - t)
        t = clock()
        ours.execute(ins)
        b.append(clock() - t)
        if time.time() > end and i >= 2:
            break
    med = lambda v: sorted(v)[len(v) // 2] * 1e3  # noqa: E731
    how = "CPU time" if args.cpu_time else "wall clock"
    print(f"{args.model} ({args.ours}, {args.threads} thread(s), {len(a)} rounds, {how}): "
          f"upstream+XNNPACK {med(a):.2f} ms, edgetorch {med(b):.2f} ms, "
          f"ratio {med(b) / med(a):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
