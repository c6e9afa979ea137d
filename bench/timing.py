"""Timing helpers shared by the model benchmark and the micro-benchmarks."""

from __future__ import annotations

import gc
import math
import time
from typing import Any, Dict, List, Optional, Sequence

import numpy as np


def stats(samples_ms: Sequence[float]) -> Dict[str, float]:
    a = np.asarray(samples_ms, dtype=np.float64)
    return {"median_ms": float(np.median(a)), "p10_ms": float(np.percentile(a, 10)),
            "p90_ms": float(np.percentile(a, 90)), "min_ms": float(a.min()),
            "mean_ms": float(a.mean()), "n": int(a.size)}


def warm_up(runner: Any, first_run_s: float, budget_s: float = 0.3, most: int = 5) -> int:
    """A few untimed runs after the (also untimed) correctness run; none
    more when one run takes over a second (the check run warmed it)."""
    if first_run_s > 1.0:
        return 1
    n = max(1, min(most, math.ceil(budget_s / max(first_run_s, 1e-6))))
    for _ in range(n):
        out = runner.run()
        del out
    return n + 1


def round_robin(runners: Dict[str, Any], runs: int, gap_s: float = 0.0,
                rewarm: Optional[Dict[str, bool]] = None,
                counts: Optional[Dict[str, int]] = None,
                batch: Optional[Dict[str, int]] = None) -> Dict[str, List[float]]:
    """``runs`` rounds; each round runs every runner once, starting one
    further along each time, so machine drift and cache effects hit every
    runtime alike. GC is off while timing.

    ``rewarm[key]``: precede each timed call by an untimed call of the same
    runner. Used for multi-threaded runtimes: between two of its calls the
    other runtimes run, its worker threads stop spinning and sleep, and the
    next call would otherwise measure how fast a sleeping pool wakes up (on
    a loaded machine, tens of milliseconds) rather than back-to-back use;
    the untimed call also absorbs the previous runtime's still-spinning
    workers.

    ``counts[key]`` < runs: that runner takes part in only that many rounds,
    spread evenly over the run (used to cap the time of very slow cells).

    ``batch[key]`` > 1: each sample times that many back-to-back calls and
    records their mean (for calls of a few microseconds, where one timed call
    is mostly timer and cache noise)."""
    keys = list(runners)
    rewarm = rewarm or {}
    counts = counts or {}
    batch = batch or {}
    rounds = {k: {min(runs - 1, int(j * runs / counts[k])) for j in range(counts[k])}
              for k in keys if counts.get(k, runs) < runs}
    samples: Dict[str, List[float]] = {k: [] for k in keys}
    if not keys:
        return samples
    gc_was = gc.isenabled()
    gc.disable()
    try:
        for i in range(runs):
            s = i % len(keys)
            for k in keys[s:] + keys[:s]:
                if k in rounds and i not in rounds[k]:
                    continue
                run = runners[k].run
                if rewarm.get(k):
                    out = run()
                    del out
                b = batch.get(k, 1)
                t0 = time.perf_counter_ns()
                for _ in range(b):
                    out = run()
                t1 = time.perf_counter_ns()
                del out
                samples[k].append((t1 - t0) / 1e6 / b)
                if gap_s:
                    time.sleep(gap_s)
            if gc_was:
                gc.collect(0)
    finally:
        if gc_was:
            gc.enable()
    return samples


def median_time(fn: Any, repeats: int) -> Dict[str, Any]:
    """Median wall time of fn() over repeats (seconds), plus every sample."""
    ts: List[float] = []
    last: Optional[Any] = None
    for _ in range(repeats):
        last = None
        gc.collect()
        t0 = time.perf_counter()
        last = fn()
        ts.append(time.perf_counter() - t0)
    return {"median_s": float(np.median(ts)), "samples_s": ts, "result": last}
