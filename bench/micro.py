"""Micro-benchmarks: dispatch overhead, large-weights load, single operators,
and what edgetorch's event tracer hook costs.

The first three run programs on edgetorch's runtime and on upstream
ExecuTorch's runtime at one thread, interleaved round-robin like the model
benchmark; the tracer overhead compares builds of edgetorch's own
instruction loop (bench/tracer_overhead.py).
"""

from __future__ import annotations

import gc
import subprocess
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable, Dict, List, Optional

import numpy as np

from bench import artifacts as A
from bench import runtimes as R
from bench import timing

UPSTREAM_OPTIMIZED_NOTE = (
    "upstream's pip wheel registers its optimized CPU kernel library: an optimized "
    "kernel where one exists, the portable kernel otherwise")


def _upstream_optimized_ops() -> Optional[set]:
    """Operator base names that upstream's wheel runs with an optimized kernel
    (from the opt_*_out symbols its kernel library exports)."""
    import re
    import subprocess
    import importlib.util
    spec = importlib.util.find_spec("executorch")
    if not spec or not spec.submodule_search_locations:
        return None
    lib = Path(list(spec.submodule_search_locations)[0]) / "lib" / \
        "libexecutorch_kernels_optimized.so"
    if not lib.exists():
        return None
    try:
        out = subprocess.run(["nm", "-DC", "--defined-only", str(lib)], capture_output=True,
                             text=True, timeout=60).stdout
    except Exception:
        return None
    names = set(re.findall(r"native::opt_([a-z0-9_]+?)_out\(", out))
    return {n[:-len("_scalar")] if n.endswith("_scalar") else n for n in names}


def _kernel_kind(op: str, optimized: Optional[set]) -> str:
    base = op.split("::")[-1].split(".")[0]
    if optimized is None:
        return "?"
    return "optimized" if base in optimized else "portable"


def _et_meta(path: Path) -> Any:
    try:
        return R.edgetorch_extension().load_program(str(path)).metadata("forward")
    except Exception:
        return None


# ---------------------------------------------------------------------------


def dispatch_overhead(args: Any, log: Callable[[str], None]) -> Dict[str, Any]:
    """Time per instruction: a chain of n tiny adds minus a 1-add program."""
    import torch
    from bench.models import AddChain
    n = 300 if args.quick else 1000
    runs = 40 if args.quick else 200
    log(f"micro: dispatch overhead ({n} x (x + 1) on a 1-element tensor)")
    R.upstream_set_threads(1)
    progs = {}
    for size in (1, n):
        for kind in ("et", "up"):
            progs[(size, kind)] = A.cached_program(
                f"chain{size}", kind, lambda size=size: (AddChain(size).eval(), (torch.zeros(1),)),
                [str(size)], use_cache=not args.no_cache)
    x = [np.zeros(1, np.float32)]
    res: Dict[str, Any] = {"n": n, "runs": runs, "rows": []}
    runners: Dict[str, Any] = {}
    for rt, kind in (("edgetorch", "et"), ("edgetorch", "up"), ("upstream", "up"),
                     ("upstream", "et")):
        row: Dict[str, Any] = {"runtime": rt, "pte": kind}
        res["rows"].append(row)
        arts = [progs[(1, kind)], progs[(n, kind)]]
        bad = next((a for a in arts if not a.ok), None)
        if bad is not None:
            row["reason"] = f"{'edgetorch' if kind == 'et' else 'upstream'} export failed: " \
                            f"{bad.error}"
            continue
        metas = [_et_meta(a.path) for a in arts]
        row["instructions"] = [m.num_instructions if m else None for m in metas]
        try:
            for size, a in zip((1, n), arts):
                r = R.EdgetorchRunner(str(a.path)) if rt == "edgetorch" else \
                    R.UpstreamRunner(str(a.path))
                r.load()
                r.prepare(x)
                got = float(np.asarray(r.to_numpy(r.run())[0]).reshape(-1)[0])
                if got != float(size):
                    raise ValueError(f"wrong result ({got} instead of {size})")
                timing.warm_up(r, 1e-3, most=20)
                runners[f"{rt}/{kind}/{size}"] = r
        except Exception as e:
            row["reason"] = A.short_reason(e)
            for size in (1, n):
                runners.pop(f"{rt}/{kind}/{size}", None)
    # a 1-instruction call takes microseconds: time batches of them
    samples = timing.round_robin(runners, runs, gap_s=0,
                                 batch={k: 100 for k in runners if k.endswith("/1")})
    for row in res["rows"]:
        if "reason" in row:
            continue
        k1, kn = (f"{row['runtime']}/{row['pte']}/{s}" for s in (1, n))
        s1, sn = timing.stats(samples[k1]), timing.stats(samples[kn])
        i1, i_n = row["instructions"]
        d_instr = (i_n - i1) if (i1 is not None and i_n is not None) else n - 1
        row.update(call_1_us=s1["median_ms"] * 1e3, call_n_us=sn["median_ms"] * 1e3,
                   per_instruction_ns=(sn["median_ms"] - s1["median_ms"]) * 1e6 / d_instr,
                   p10_n_us=sn["p10_ms"] * 1e3, p90_n_us=sn["p90_ms"] * 1e3,
                   instructions_counted=d_instr)
    for r in runners.values():
        r.close()
    gc.collect()
    log("  " + "; ".join(f"{r['runtime']} on {r['pte']}.pte: "
                         + (f"{r['per_instruction_ns']:.0f} ns/instr" if "per_instruction_ns"
                            in r else r.get("reason", "?")) for r in res["rows"]))
    return res


# ---------------------------------------------------------------------------


def tracer_overhead(args: Any, log: Callable[[str], None]) -> Dict[str, Any]:
    """ns per instruction with the tracer hook compiled out, present but
    off, and a no-op tracer attached (bench/tracer_overhead.py)."""
    from bench import tracer_overhead as T

    rounds, runs, pads = (5, 1000, 4) if args.quick else (9, 3000, 8)
    log(f"micro: tracer overhead ({T.N_ADDS} tiny adds; {pads} code placements x "
        f"{rounds} rounds)")
    try:
        res = T.measure(rounds, runs, pads=pads, build_dir=Path(args.et_build_dir))
    except (OSError, subprocess.CalledProcessError) as e:
        return {"reason": A.short_reason(e)}
    log("  " + "; ".join(f"{r['variant']} {r['median']:.1f} ns/instr "
                         f"({r['minus_compiled_out']:+.1f})" for r in res["rows"]))
    return res


# ---------------------------------------------------------------------------


def per_op(args: Any, log: Callable[[str], None]) -> Dict[str, Any]:
    """1-op programs exported by upstream, run on both runtimes (1 thread)."""
    import torch
    from bench.models import op_cases
    runs = 20 if args.quick else 50
    log("micro: per-operator comparison (1-op programs from upstream's exporter)")
    R.upstream_set_threads(1)
    torch.set_num_threads(1)
    optimized = _upstream_optimized_ops()
    res: Dict[str, Any] = {"runs": runs, "note": UPSTREAM_OPTIMIZED_NOTE, "rows": [],
                           "upstream_optimized_ops": sorted(optimized) if optimized else None}
    for name, shape, build in op_cases(args.quick):
        row: Dict[str, Any] = {"op": name, "shape": shape}
        res["rows"].append(row)
        model, inputs = build(torch.Generator().manual_seed(0))
        model.eval()
        slug = name.replace(" ", "_").replace("/", "s")
        art = A.cached_program(f"op-{slug}", "up", lambda: (model, inputs), [name, shape],
                               use_cache=not args.no_cache)
        if not art.ok:
            row["reason"] = f"upstream export failed: {art.error}"
            continue
        with torch.inference_mode():
            ref = [model(*inputs).numpy()]
        xs = [t.numpy() for t in inputs]
        meta = _et_meta(art.path)
        ops = list(meta.operators) if meta is not None else []
        row.update(operators=ops, upstream_kernels={o: _kernel_kind(o, optimized) for o in ops},
                   instructions=meta.num_instructions if meta is not None else None)
        active: Dict[str, Any] = {}
        counts: Dict[str, int] = {}
        for key, cls in (("edgetorch", R.EdgetorchRunner), ("upstream", R.UpstreamRunner)):
            try:
                r = cls(str(art.path))
                r.load()
                r.prepare(xs)
                t0 = time.perf_counter()
                out = r.to_numpy(r.run())
                first = time.perf_counter() - t0
                ok, err, why = R.compare(out, ref, 1e-4, 1e-4)
                row[f"{key}_max_abs_err"] = err
                if not ok:
                    row[f"{key}_reason"] = f"wrong result ({why or f'max abs err {err:.3g}'})"
                    continue
                timing.warm_up(r, first, most=10)
                active[key] = r
                # at most ~15 s of timed calls per op and runtime (at least 5 calls)
                counts[key] = min(runs, max(5, int(15.0 // max(first, 1e-9))))
            except Exception as e:
                row[f"{key}_reason"] = A.short_reason(e)
        samples = timing.round_robin(active, runs, gap_s=0.001, counts=counts)
        for key, s in samples.items():
            st = timing.stats(s)
            row[f"{key}_us"] = st["median_ms"] * 1e3
            row[f"{key}_p10_us"] = st["p10_ms"] * 1e3
            row[f"{key}_p90_us"] = st["p90_ms"] * 1e3
            row[f"{key}_n"] = st["n"]
        for r in active.values():
            r.close()
        if "edgetorch_us" in row and "upstream_us" in row:
            row["upstream_over_edgetorch"] = row["upstream_us"] / row["edgetorch_us"]
        log(f"  {name:22s} " + "  ".join(
            f"{k} {row[k + '_us']:.1f} us" if k + "_us" in row else
            f"{k} [{row.get(k + '_reason', row.get('reason'))}]"
            for k in ("edgetorch", "upstream")))
    gc.collect()
    return res


# ---------------------------------------------------------------------------


def large_load(args: Any, log: Callable[[str], None], probe: Callable[..., Dict[str, Any]],
               cli_probe: Callable[..., Dict[str, Any]]) -> Dict[str, Any]:
    """Load + init of a program that is ~300 MB of float32 weights."""
    import torch
    from executorch.runtime import Runtime

    from bench.models import LinearStack
    layers, dim = 18, 2048
    repeats = 3
    log(f"micro: large-weights load ({layers} x Linear({dim}, {dim}), "
        f"{layers * (dim * dim + dim) * 4 / 2**20:.0f} MiB of float32)")
    R.upstream_set_threads(1)

    def build():
        torch.manual_seed(0)
        m = LinearStack(layers, dim).eval()
        with torch.no_grad():
            for lin in m.layers:
                lin.weight.mul_(1.5)   # keep activations O(1) through the stack
        return m, (torch.randn(1, dim, generator=torch.Generator().manual_seed(1)),)

    key = [str(layers), str(dim)]
    up = A.cached_program("linear-stack", "up", build, key, use_cache=not args.no_cache)
    et = A.cached_program("linear-stack", "et", build, key, use_cache=not args.no_cache)
    res: Dict[str, Any] = {"layers": layers, "dim": dim, "repeats": repeats,
                           "files": {k: {"bytes": a.size, "error": a.error}
                                     for k, a in (("up", up), ("et", et))},
                           "rows": [], "memory": {}}
    if not up.ok:
        res["reason"] = f"upstream export failed: {up.error}"
        return res
    model, inputs = build()
    with torch.inference_mode():
        ref = [model(*inputs).numpy()]
    x = [inputs[0].numpy()]
    d = up.path.parent / f"large-{up.path.stem}"
    d.mkdir(exist_ok=True)
    np.save(d / "input_0.npy", x[0])
    np.savez(d / "ref.npz", ref[0])
    del model
    gc.collect()

    rt_mod = R.edgetorch_extension()
    upstream_rt = Runtime.get()

    # Bytes loaders get the file's bytes read beforehand (timed separately).
    cases: List[Dict[str, Any]] = []
    for label, path in (("upstream .pte", up.path), ("edgetorch .pte", et.path if et.ok
                                                      else None)):
        if path is None:
            continue
        cases += [
            {"runtime": "edgetorch", "file": label, "loader": "bytes (already in memory)",
             "fn": lambda d: rt_mod.load_program(d).load_method("forward"), "path": path},
            {"runtime": "edgetorch", "file": label, "loader": "file (read into memory)",
             "fn": lambda p=path: rt_mod.load_program(str(p)).load_method("forward")},
            {"runtime": "edgetorch", "file": label, "loader": "mmap",
             "fn": lambda p=path: rt_mod.load_program(str(p), mmap=True).load_method("forward")},
        ]
        if label == "upstream .pte":
            cases += [
                {"runtime": "upstream", "file": label, "loader": "bytes (already in memory)",
                 "fn": lambda d: upstream_rt.load_program(d).load_method("forward"),
                 "path": path},
                {"runtime": "upstream", "file": label, "loader": "path (its mmap loader, mlock)",
                 "fn": lambda p=path: upstream_rt.load_program(Path(p)).load_method("forward")},
            ]
    samples: Dict[int, List[float]] = {i: [] for i in range(len(cases))}
    first_exec: Dict[int, List[float]] = {i: [] for i in range(len(cases))}
    errors: Dict[int, str] = {}
    read_s: List[float] = []
    for rep in range(repeats):                      # interleaved repeats
        for i, c in enumerate(cases):
            if i in errors:
                continue
            gc.collect()
            try:
                if "path" in c:
                    t0 = time.perf_counter()
                    data = c["path"].read_bytes()
                    read_s.append(time.perf_counter() - t0)
                    fn = (lambda data=data, f=c["fn"]: f(data))
                else:
                    fn = c["fn"]
                t0 = time.perf_counter()
                method = fn()
                samples[i].append(time.perf_counter() - t0)
                inp = x if c["runtime"] == "edgetorch" else [torch.from_numpy(x[0])]
                t0 = time.perf_counter()
                out = method.execute(inp)
                first_exec[i].append(time.perf_counter() - t0)
                got = [np.asarray(o.numpy() if hasattr(o, "numpy") else o) for o in out]
                ok, err, why = R.compare(got, ref, 1e-3, 1e-3)
                if not ok:
                    errors[i] = f"wrong result ({why or f'max abs err {err:.3g}'})"
                del method, out, fn
                data = None
            except Exception as e:
                errors[i] = A.short_reason(e)
    for i, c in enumerate(cases):
        row = {k: v for k, v in c.items() if k not in ("fn", "path")}
        if i in errors:
            row["reason"] = errors[i]
        if samples[i]:
            row.update(load_s=float(np.median(samples[i])), load_samples_s=samples[i],
                       first_execute_s=float(np.median(first_exec[i])))
        res["rows"].append(row)
    if read_s:
        res["read_file_s"] = float(np.median(read_s))
    gc.collect()
    if args.memory:
        arts = SimpleNamespace(input_paths=[d / "input_0.npy"], dir=d, eager_modules=[])
        res["memory"]["edgetorch file"] = probe("edgetorch", str(up.path), arts, 1e-3, 1e-3)
        res["memory"]["edgetorch mmap"] = probe("edgetorch", str(up.path), arts, 1e-3, 1e-3,
                                                mmap=True)
        res["memory"]["upstream path"] = probe("et_portable", str(up.path), arts, 1e-3, 1e-3)
        res["memory"]["edgetorch-run file"] = cli_probe(args, str(up.path), arts.input_paths)
        res["memory"]["edgetorch-run mmap"] = cli_probe(args, str(up.path), arts.input_paths,
                                                        mmap=True)
    for row in res["rows"]:
        log(f"  {row['runtime']:9s} {row['file']:15s} {row['loader']:32s} "
            + (f"load {row['load_s'] * 1e3:8.1f} ms, first execute "
               f"{row['first_execute_s'] * 1e3:8.1f} ms" if "load_s" in row else "")
            + (f" [{row['reason']}]" if "reason" in row else ""))
    return res


# ---------------------------------------------------------------------------
# GEMM / GEMV of the CPU backend against the machine's FMA peak

# (label, M, N, K): C[MxN] = A[MxK] * W[KxN] + bias. BERT-base and GPT-2-small
# at sequence 128 (the bench models), their batch-1 linears, and squares.
GEMM_SHAPES = [
    ("square 256", 256, 256, 256), ("square 512", 512, 512, 512),
    ("square 1024", 1024, 1024, 1024),
    ("BERT q/k/v/out", 128, 768, 768), ("BERT FFN up", 128, 3072, 768),
    ("BERT FFN down", 128, 768, 3072), ("GPT-2 c_attn", 128, 2304, 768),
    ("batch-1 768→3072", 1, 3072, 768), ("batch-1 3072→768", 1, 768, 3072),
    ("batch-1 768→2304", 1, 2304, 768),
]


def _build_gemm_micro(tmp: Path) -> Path:
    import subprocess
    root = Path(__file__).resolve().parent.parent
    lib = root / "build" / "lib" / "libedgetorch_xnnpack.a"
    if not lib.exists():
        raise FileNotFoundError(f"{lib} (make build first)")
    exe = tmp / "gemm_micro"
    subprocess.run(["cc", "-std=c11", "-O2", f"-I{root}/backends/xnnpack",
                    str(root / "bench" / "gemm_micro.c"), str(lib), "-lm", "-o", str(exe)],
                   check=True, capture_output=True, text=True)
    return exe


def _torch_gflops(m: int, n: int, k: int, threads: int) -> float:
    """PyTorch's addmm (its sgemm) on the same shape, best of 9 runs of at
    least 20 ms each."""
    import torch
    old = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        g = torch.Generator().manual_seed(0)
        a, w, b = (torch.rand(m, k, generator=g), torch.rand(k, n, generator=g),
                   torch.rand(n, generator=g))
        out = torch.empty(m, n)
        flops = 2.0 * m * n * k
        calls = int(2e9 / flops) + 1
        best = float("inf")
        with torch.inference_mode():
            torch.addmm(b, a, w, out=out)
            for _ in range(9):
                t0 = time.perf_counter()
                for _ in range(calls):
                    torch.addmm(b, a, w, out=out)
                best = min(best, (time.perf_counter() - t0) / calls)
        return flops / best * 1e-9
    finally:
        torch.set_num_threads(old)


def gemm(args: Any, log: Callable[[str], None]) -> Dict[str, Any]:
    """GFLOP/s of the backend's packed GEMM (1 thread) per shape, as a share
    of the FMA peak measured in the same run, next to PyTorch's sgemm."""
    import json
    import subprocess
    import tempfile
    log("micro: GEMM/GEMV (CPU backend vs FMA peak vs PyTorch)")
    res: Dict[str, Any] = {"rows": []}
    with tempfile.TemporaryDirectory() as td:
        try:
            exe = _build_gemm_micro(Path(td))
        except (OSError, subprocess.CalledProcessError) as e:
            res["reason"] = f"gemm_micro did not build: {getattr(e, 'stderr', '') or e}"
            return res
        peak = json.loads(subprocess.run([str(exe), "peak"], check=True, capture_output=True,
                                         text=True).stdout)
        res.update(peak_gflops=peak["peak_gflops"], peak_isa=peak["isa"])
        specs = [f"{m},{n},{k}" for _, m, n, k in GEMM_SHAPES]
        lines = subprocess.run([str(exe)] + specs, check=True, capture_output=True,
                               text=True).stdout.splitlines()
    for (label, m, n, k), line in zip(GEMM_SHAPES, lines):
        ours = json.loads(line)
        row = {"label": label, "m": m, "n": n, "k": k, "edgetorch_gflops": ours["gflops"],
               "gemm_path": ours["path"]}
        for t in (1, 2):
            row[f"torch_{t}t_gflops"] = _torch_gflops(m, n, k, t)
        res["rows"].append(row)
    return res
