#!/usr/bin/env python3
"""edgetorch side-by-side benchmark.

    .venv/bin/python bench/run.py            # full suite (~20 min on 2 cores, cold cache)
    .venv/bin/python bench/run.py --quick    # small models, a couple of minutes

Compares, on the same models and inputs: edgetorch (our exporter, our C
runtime), upstream ExecuTorch 1.5.1 without a delegate and with XNNPACK,
PyTorch eager and ONNX Runtime. See bench/README.md for the method; results go
to bench/results/ and (full mode) docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import gc
import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Dict, List, Optional

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import artifacts as A  # noqa: E402
from bench import runtimes as R  # noqa: E402
from bench import sysinfo, timing  # noqa: E402

T0 = time.monotonic()


def log(msg: str) -> None:
    print(f"[{time.monotonic() - T0:6.1f}s] {msg}", flush=True)


# ---------------------------------------------------------------------------
# memory probes (fresh processes)


def run_probe(cmd: List[str], timeout: float = 900) -> Dict[str, Any]:
    """Run a Python probe to completion; it reports its own ru_maxrss."""
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONWARNINGS="ignore")
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                         cwd=str(REPO))
    t0 = time.monotonic()
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        return {"error": f"timed out after {timeout:.0f}s"}
    res: Dict[str, Any] = {"wall_s": time.monotonic() - t0, "returncode": p.returncode}
    lines = [ln for ln in out.decode(errors="replace").splitlines() if ln.startswith("{")]
    if p.returncode != 0 or not lines:
        tail = err.decode(errors="replace").strip().splitlines()[-3:]
        res["error"] = f"exit {p.returncode}: " + " | ".join(tail)[-300:]
        return res
    res.update(json.loads(lines[-1]))
    return res


def run_cli_probe(cmd: List[str], timeout: float = 900) -> Dict[str, Any]:
    """Peak RSS of a non-Python command (edgetorch-run).

    Linux carries a parent's peak RSS across fork + exec into the child's
    ru_maxrss, so the command must be started by a small process: GNU time
    (a floor of about 1 MiB), else the Python probe launcher (a floor of
    about 10 MiB, reported as floor_kib)."""
    gnu_time = "/usr/bin/time"
    if os.path.exists(gnu_time):
        full = [gnu_time, "-f", "ETBENCH_MAXRSS_KIB=%M"] + cmd
    else:
        full = [sys.executable, str(REPO / "bench" / "probe.py"), "--exec"] + cmd
    t0 = time.monotonic()
    try:
        p = subprocess.run(full, capture_output=True, timeout=timeout, cwd=str(REPO))
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f}s"}
    res: Dict[str, Any] = {"wall_s": time.monotonic() - t0}
    err = p.stderr.decode(errors="replace")
    if os.path.exists(gnu_time):
        import re
        m = re.search(r"ETBENCH_MAXRSS_KIB=(\d+)", err)
        rc = p.returncode
        if m:
            res.update(peak_kib=int(m.group(1)), launcher="GNU time")
        tail = [ln for ln in err.splitlines() if "ETBENCH_MAXRSS" not in ln][-2:]
    else:
        lines = [ln for ln in p.stdout.decode().splitlines() if ln.startswith("{")]
        rec = json.loads(lines[-1]) if lines else {}
        rc = rec.get("returncode", p.returncode)
        if "peak_kib" in rec:
            res.update(peak_kib=rec["peak_kib"], floor_kib=rec["floor_kib"],
                       launcher="python probe")
        tail = rec.get("stderr_tail", [])
    res["returncode"] = rc
    if rc != 0 or "peak_kib" not in res:
        res.pop("peak_kib", None)
        res["error"] = f"exit {rc}: " + " | ".join(tail)[-300:]
    return res


def probe(key: str, path: str, arts: Optional[A.ModelArtifacts], rtol: float, atol: float,
          *, mmap: bool = False, imports_only: bool = False) -> Dict[str, Any]:
    spec = {"key": key, "path": path, "mmap": mmap, "imports_only": imports_only,
            "rtol": rtol, "atol": atol}
    if arts is not None:
        spec.update(inputs=[str(p) for p in arts.input_paths], ref=str(arts.dir / "ref.npz"),
                    eager_modules=arts.eager_modules)
    return run_probe([sys.executable, str(REPO / "bench" / "probe.py"), json.dumps(spec)])


def cli_path(args: argparse.Namespace) -> Path:
    return Path(args.et_build_dir) / "bin" / "edgetorch-run"


def cli_probe(args: argparse.Namespace, pte: str, inputs: List[Path], mmap: bool = False
              ) -> Dict[str, Any]:
    cli = cli_path(args)
    if not cli.exists():
        return {"error": f"not built ({cli})"}
    cmd = [str(cli), pte, "--threads", "1"] + [
        a for p in inputs for a in ("--input", str(p))]
    if mmap:
        cmd.append("--mmap")
    return run_cli_probe(cmd)


# ---------------------------------------------------------------------------
# one model


def artifact_for(rdef: R.RuntimeDef, arts: A.ModelArtifacts) -> A.Artifact:
    if rdef.artifact == "eager":
        return A.Artifact("eager", arts.eager_path)
    return arts.arts[rdef.artifact]


def export_failure_text(art: A.Artifact, rdef: R.RuntimeDef) -> str:
    who = {"et": "edgetorch export", "etx": "edgetorch XNNPACK lowering",
           "up": "upstream export", "xnn": "XNNPACK lowering",
           "onnx": "ONNX export"}.get(art.kind, "export")
    return f"{who} failed: {art.error}"


def bench_model(spec: Any, args: argparse.Namespace, do_memory: bool) -> Dict[str, Any]:
    log(f"model {spec.name}: {spec.description}")
    arts = A.prepare(spec, quick=args.quick, use_cache=not args.no_cache,
                     log=lambda m: log(m))
    res: Dict[str, Any] = {
        "name": spec.name, "family": spec.family, "description": spec.description,
        "rtol": spec.rtol, "atol": spec.atol,
        "quant": getattr(spec, "quant", None),
        "inputs": [{"shape": list(x.shape), "dtype": str(x.dtype)} for x in arts.inputs],
        "artifacts": {k: {"file": a.path.name if a.path else None, "bytes": a.size,
                          "error": a.error, "detail": a.detail, "export_s": a.export_s,
                          "info": a.info} for k, a in arts.arts.items()},
        "eager_pickle_bytes": arts.eager_path.stat().st_size,
        "cells": {}, "memory": {},
    }
    if res["quant"]:  # tolerances in output quantization steps (models.Spec.atol_for)
        res["atol"] = spec.atol_for("edgetorch", arts.ref)
        res["atol_ort"] = spec.atol_for("ort", arts.ref)
    runs = args.runs
    for threads in (1, 2):
        active: Dict[str, Any] = {}
        counts: Dict[str, int] = {}
        for rdef in R.RUNTIMES:
            cell: Dict[str, Any] = {}
            res["cells"].setdefault(rdef.key, {})[str(threads)] = cell
            if threads not in rdef.threads:
                cell.update(status="n/a", reason="n/a (single-threaded)")
                continue
            if args.runtimes and rdef.key not in args.runtimes.split(","):
                cell.update(status="skip", reason="not selected (--runtimes)")
                continue
            if rdef.conditional:
                if res["cells"]["edgetorch"]["1"].get("status") == "ok":
                    cell.update(status="skip", reason="edgetorch's own .pte runs")
                    continue
            one = res["cells"][rdef.key].get("1", {})
            if threads > 1 and one.get("status") == "ok" and one["first_run_s"] > args.slow_s:
                cell.update(status="skipped", reason=(
                    f"not timed: {one['first_run_s']:.0f} s per call at 1 thread "
                    f"(over --slow-s {args.slow_s:g})"))
                continue
            art = artifact_for(rdef, arts)
            if not art.ok:
                cell.update(status="export failed", reason=export_failure_text(art, rdef))
                continue
            try:
                R.set_global_threads(rdef.key, threads)
                runner = R.make_runner(rdef.key, str(art.path), threads, arts.eager_modules)
                loads = timing.median_time(runner.load, args.load_repeats if threads == 1 else 1)
                cell.update(load_s=loads["median_s"], load_samples_s=loads["samples_s"])
            except Exception as e:
                cell.update(status="load failed", reason="load failed: " + A.short_reason(e))
                log(f"  {rdef.label} @{threads}: {cell['reason']}")
                continue
            try:
                runner.prepare(arts.inputs)
                t0 = time.perf_counter()
                out = runner.run()
                first = time.perf_counter() - t0
                outs = runner.to_numpy(out)
            except Exception as e:
                cell.update(status="run failed", reason="run failed: " + A.short_reason(e))
                log(f"  {rdef.label} @{threads}: {cell['reason']}")
                runner.close()
                continue
            atol = spec.atol_for(rdef.key, arts.ref) if hasattr(spec, "atol_for") else spec.atol
            ok, err, why = R.compare(outs, arts.ref, spec.rtol, atol)
            cell.update(first_run_s=first, max_abs_err=err, atol=atol)
            del out, outs
            if not ok:
                cell.update(status="wrong result",
                            reason=f"wrong result ({why})" if why else
                            f"wrong result (max abs err {err:.3g})")
                log(f"  {rdef.label} @{threads}: {cell['reason']}")
                runner.close()
                continue
            cell["status"] = "ok"
            if first > args.cell_budget_s * (
                    args.ref_budget_factor if rdef.key in ("edgetorch", "edgetorch_up") else 1):
                # One call takes longer than the whole per-cell budget: the
                # checked call is the only sample (its first-call effects are
                # small against its length), marked n=1 in the tables.
                cell.update(timing.stats([first * 1e3]), samples_ms=[first * 1e3],
                            capped=True, only_checked_call=True)
                runner.close()
                continue
            cell["warmup_runs"] = timing.warm_up(runner, first)
            active[rdef.key] = runner
            # edgetorch's rows are the reference of every ratio: a larger budget
            budget = args.cell_budget_s * (
                args.ref_budget_factor if rdef.key in ("edgetorch", "edgetorch_up") else 1)
            counts[rdef.key] = runs if first * runs <= budget else max(1, int(budget // first))
            cell["capped"] = counts[rdef.key] < runs
        if active:
            log(f"  timing {len(active)} runtimes at {threads} thread(s), {runs} rounds")
        # Re-warm multi-threaded runtimes before each timed call (see
        # timing.round_robin), unless one call is long enough to make a
        # pool's wake-up irrelevant.
        rewarm = {k: threads > 1 and res["cells"][k][str(threads)]["first_run_s"] < 0.5
                  for k in active}
        samples = timing.round_robin(active, runs, gap_s=args.gap_ms / 1000, rewarm=rewarm,
                                     counts=counts)
        for key, s in samples.items():
            res["cells"][key][str(threads)].update(timing.stats(s), samples_ms=s)
        for r in active.values():
            r.close()
        active.clear()
        gc.collect()
    # memory: a fresh process per runtime (after timing, so they never overlap it)
    if do_memory:
        from concurrent.futures import ThreadPoolExecutor
        jobs: Dict[str, Any] = {}
        with ThreadPoolExecutor(max_workers=max(1, args.probe_jobs)) as pool:
            for rdef in R.RUNTIMES:
                if res["cells"][rdef.key]["1"].get("status") != "ok":
                    continue
                art = artifact_for(rdef, arts)
                jobs[rdef.key] = pool.submit(probe, rdef.key, str(art.path), arts, spec.rtol,
                                             res["cells"][rdef.key]["1"].get("atol", spec.atol))
            et_key = "edgetorch" if res["cells"]["edgetorch"]["1"].get("status") == "ok" else (
                "edgetorch_up" if res["cells"]["edgetorch_up"]["1"].get("status") == "ok"
                else None)
            if et_key:
                pte = artifact_for(R.BY_KEY[et_key], arts).path
                jobs["edgetorch_cli"] = pool.submit(cli_probe, args, str(pte), arts.input_paths)
        for k, fut in jobs.items():
            res["memory"][k] = fut.result()
        if "edgetorch_cli" in res["memory"]:
            res["memory"]["edgetorch_cli"]["pte"] = et_key
        log("  memory: " + ", ".join(
            f"{k} {v['peak_kib'] / 1024:.0f} MiB" if "peak_kib" in v else f"{k} {v.get('error')}"
            for k, v in res["memory"].items()))
    line = []
    for rdef in R.RUNTIMES:
        c = res["cells"][rdef.key]["1"]
        if c.get("status") == "ok":
            line.append(f"{rdef.key} {c['median_ms']:.3g} ms")
        elif c.get("status") not in ("skip",):
            line.append(f"{rdef.key} [{c.get('reason')}]")
    log("  1 thread: " + "; ".join(line))
    return res


# ---------------------------------------------------------------------------


def write_outputs(results: Dict[str, Any], stem: Path, write_docs: bool) -> None:
    from bench import report
    json_path = stem.with_suffix(".json")
    if not json_path.exists() or json.loads(json_path.read_text()) != results:
        json_path.write_text(json.dumps(results, indent=1, default=str))
    png = stem.parent / (stem.name + "-latency.png")
    chart = report.chart(results, png)
    md_path = REPO / "docs" / "benchmarks.md" if write_docs else stem.parent / (
        stem.name + ".md")
    md_path.parent.mkdir(parents=True, exist_ok=True)
    md = report.markdown(results, png if chart else None, md_path.parent)
    # keep the sections other tools write between markers: `make bench-llm`'s
    # (bench/llm/run.py) and the CPU-time pair ratios (bench/pair.py --table)
    old = md_path.read_text() if md_path.exists() else ""
    for name in ("bench-llm", "pair-cpu"):
        begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
        a, b = old.find(begin), old.find(end)
        if 0 <= a < b:
            md = md.rstrip("\n") + "\n\n" + old[a:b + len(end)] + "\n"
    md_path.write_text(md)
    print()
    print(report.summary_text(results))
    log(f"wrote {json_path}, {md_path}" + (f", {png}" if chart else ""))


def rewrite_report(path: Path, args: argparse.Namespace) -> int:
    results = json.loads(path.read_text())
    full = results.get("mode") == "full" and "--models" not in results.get("argv", []) \
        and "--only-micro" not in results.get("argv", [])
    write_outputs(results, path.with_suffix(""),
                  args.docs == "yes" or (args.docs == "auto" and full))
    return 0


# Relative cold-export cost of each model (all four exports, measured once
# on 2 cores), for splitting the exports between processes.
EXPORT_WEIGHT = {"lstm": 830, "gpt2_small": 580, "bert_base": 290, "mobilenet_v2": 200,
                 "resnet18": 80, "digits_cnn": 10, "mobilenet_v2_int8": 300, "resnet18_int8": 230}


def export_ahead(chosen: List[str], specs: Dict[str, Any], args: argparse.Namespace) -> None:
    """On a cold cache, export the models in --export-jobs processes at once
    (this one and `run.py --export-only` children) before anything is timed,
    so no timing overlaps an export."""
    if args.no_cache or args.export_jobs < 2:
        return
    todo = [n for n in chosen if not A.is_cached(specs[n], quick=args.quick)]
    if len(todo) < 2:
        return
    groups: List[List[str]] = [[] for _ in range(min(args.export_jobs, len(todo)))]
    load = [0.0] * len(groups)
    for n in sorted(todo, key=lambda n: -EXPORT_WEIGHT.get(n, 100)):
        g = load.index(min(load))
        groups[g].append(n)
        load[g] += EXPORT_WEIGHT.get(n, 100)
    log(f"exporting {len(todo)} models in {len(groups)} processes: "
        + " | ".join(",".join(g) for g in groups))
    t0 = time.monotonic()
    procs = [subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--export-only",
                               "--models", ",".join(g)] + (["--quick"] if args.quick else []),
                              cwd=str(REPO))
             for g in groups[1:]]
    for name in groups[0]:
        A.prepare(specs[name], quick=args.quick, use_cache=True, log=log)
    for p in procs:
        if p.wait() != 0:
            log(f"an export process exited with status {p.returncode}; its models are "
                "exported (or their failure recorded) when they are benchmarked")
    log(f"exports done in {time.monotonic() - t0:.0f} s")


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="small models, fewer micro-benchmark runs, no large-weights load")
    ap.add_argument("--models", help="comma-separated subset of the models")
    ap.add_argument("--runs", type=int, default=20, help="timed rounds per model (default 20)")
    ap.add_argument("--runtimes", help="comma-separated subset of runtime keys: "
                    + ", ".join(r.key for r in R.RUNTIMES))
    ap.add_argument("--load-repeats", type=int, default=3)
    ap.add_argument("--cell-budget-s", type=float, default=60.0,
                    help="most seconds of timed calls per model, runtime and thread count; "
                         "a slower runtime gets fewer rounds (at least 1; marked)")
    ap.add_argument("--ref-budget-factor", type=float, default=4.0,
                    help="edgetorch's own rows (the reference of every ratio) get this many "
                         "times the cell budget (default 4)")
    ap.add_argument("--slow-s", type=float, default=10.0,
                    help="skip the 2-thread timing of a runtime whose 1-thread call takes "
                         "longer (marked)")
    ap.add_argument("--export-only", action="store_true",
                    help="export every model into the cache and stop")
    ap.add_argument("--gap-ms", type=float, default=0.0,
                    help="pause between timed calls (default none)")
    ap.add_argument("--export-jobs", type=int, default=2,
                    help="processes exporting models that are not cached yet, at once "
                         "(default 2; exports are mostly single-threaded Python)")
    ap.add_argument("--probe-jobs", type=int, default=2,
                    help="memory probes run at once (after timing; default 2)")
    ap.add_argument("--no-memory", dest="memory", action="store_false",
                    help="skip the fresh-process memory probes")
    ap.add_argument("--no-micro", dest="micro", action="store_false",
                    help="skip the micro-benchmarks")
    ap.add_argument("--only-micro", action="store_true")
    ap.add_argument("--large-load", choices=("auto", "yes", "no"), default="auto",
                    help="the ~300 MB weights load benchmark (auto: full mode only)")
    ap.add_argument("--no-cache", action="store_true", help="re-export everything")
    ap.add_argument("--et-build-dir", default=os.environ.get("ET_BUILD_DIR", str(REPO / "build")),
                    help="CMake build dir holding bin/edgetorch-run (default: build)")
    ap.add_argument("--out", help="results stem (default bench/results/<date>[-quick])")
    ap.add_argument("--docs", choices=("auto", "yes", "no"), default="auto",
                    help="write docs/benchmarks.md (auto: full mode with all models)")
    ap.add_argument("--from-json", metavar="RESULTS.json",
                    help="only rewrite the tables and chart from an earlier run's results")
    args = ap.parse_args(argv)
    if args.from_json:
        return rewrite_report(Path(args.from_json), args)

    warnings.filterwarnings("ignore")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from bench import models as M
    from bench import micro

    specs = M.QUICK_SPECS if args.quick else M.SPECS
    chosen = list(specs)
    if args.models:
        chosen = [m.strip() for m in args.models.split(",") if m.strip()]
        unknown = [m for m in chosen if m not in specs]
        if unknown:
            ap.error(f"unknown model(s) {unknown}; choose from {list(specs)}")
    if args.only_micro:
        chosen = []

    date = _dt.date.today().isoformat()
    stem = Path(args.out) if args.out else (
        REPO / "bench" / "results" / (date + ("-quick" if args.quick else "")))
    stem.parent.mkdir(parents=True, exist_ok=True)

    info = sysinfo.machine()
    log(f"{info['cpu']}, {info['usable_cpus']} usable CPUs, load {sysinfo.load_average()}; "
        f"mode {'quick' if args.quick else 'full'}")
    results: Dict[str, Any] = {
        "date": date, "mode": "quick" if args.quick else "full",
        "argv": sys.argv[1:], "machine": info,
        "load_average_start": sysinfo.load_average(),
        "edgetorch_extension_start": sysinfo.extension_stamp(),
        "runtimes": [{"key": r.key, "label": r.label, "artifact": r.artifact,
                      "threads": list(r.threads), "conditional": r.conditional}
                     for r in R.RUNTIMES],
        "settings": {"runs": args.runs, "load_repeats": args.load_repeats,
                     "cell_budget_s": args.cell_budget_s, "slow_s": args.slow_s,
                     "ref_budget_factor": args.ref_budget_factor,
                     "gap_ms": args.gap_ms, "memory": args.memory},
        "models": [], "micro": {},
    }
    import torch  # noqa: F401  (imported here so that import time is not in any figure)
    import edgetorch.runtime  # noqa: F401
    results["library_sizes"] = sysinfo.library_sizes(Path(args.et_build_dir))

    if args.export_only:
        for name in chosen:
            log(f"exporting {name}")
            arts = A.prepare(specs[name], quick=args.quick, use_cache=not args.no_cache, log=log)
            for k, a in arts.arts.items():
                log(f"  {k}: " + (f"{a.size} bytes" if a.ok else f"failed: {a.error}"))
        return 0

    export_ahead(chosen, specs, args)
    for i, name in enumerate(chosen):
        # --quick probes memory on its first model only (each probe imports torch)
        do_memory = args.memory and (i == 0 or not args.quick)
        try:
            results["models"].append(bench_model(specs[name], args, do_memory))
        except Exception as e:  # one model's trouble must not lose the others
            import traceback
            traceback.print_exc()
            results["models"].append({"name": name, "description": specs[name].description,
                                      "fatal": A.short_reason(e), "cells": {}})
        gc.collect()

    if args.micro:
        results["micro"]["dispatch"] = micro.dispatch_overhead(args, log)
        results["micro"]["per_op"] = micro.per_op(args, log)
        results["micro"]["gemm"] = micro.gemm(args, log)
        results["micro"]["tracer"] = micro.tracer_overhead(args, log)
        if args.large_load == "yes" or (args.large_load == "auto" and not args.quick):
            results["micro"]["large_load"] = micro.large_load(args, log, probe, cli_probe)

    results["load_average_end"] = sysinfo.load_average()
    results["edgetorch_extension_end"] = sysinfo.extension_stamp()
    results["wall_s"] = time.monotonic() - T0
    write_docs = args.docs == "yes" or (args.docs == "auto" and not args.quick
                                        and not args.models and not args.only_micro
                                        and not args.runtimes)
    write_outputs(results, stem, write_docs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
