"""Tables (markdown and terminal) and the latency-ratio chart from a results dict."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from bench.runtimes import BY_KEY, RUNTIMES

HEADER = Path(__file__).resolve().parent / "header.md"
MIB = 2 ** 20


def fmt_ms(v: Optional[float]) -> str:
    if v is None:
        return "—"
    if v >= 100:
        return f"{v:,.0f}"
    if v >= 10:
        return f"{v:.1f}"
    if v >= 1:
        return f"{v:.2f}"
    return f"{v:.3f}"


def fmt_ratio(v: Optional[float]) -> str:
    if v is None or v != v:
        return "—"
    if v >= 100:
        return f"×{v:,.0f}"
    if v >= 10:
        return f"×{v:.1f}"
    return f"×{v:.2f}"


def fmt_bytes(n: Optional[int]) -> str:
    if n is None:
        return "—"
    if n >= MIB:
        return f"{n / MIB:,.1f} MiB"
    if n >= 1024:
        return f"{n / 1024:,.1f} KiB"
    return f"{n} B"


def _mib(n: Optional[int]) -> str:
    if n is None:
        return "—"
    v = n / MIB
    return f"{v:,.0f}" if abs(v) >= 10 else f"{v:.1f}"


def _esc(s: str) -> str:
    return s.replace("|", "\\|")


def cell_text(cell: Dict[str, Any]) -> str:
    if cell.get("status") == "ok":
        return f"{fmt_ms(cell['median_ms'])} ms"
    return _esc(cell.get("reason") or cell.get("status") or "not run")


def reference(model: Dict[str, Any]) -> Tuple[Optional[str], str]:
    """Which row the ratios are against, and a note when it is not edgetorch's own."""
    cells = model.get("cells", {})
    if cells.get("edgetorch", {}).get("1", {}).get("status") == "ok":
        return "edgetorch", ""
    if cells.get("edgetorch_up", {}).get("1", {}).get("status") == "ok":
        return "edgetorch_up", ("ratios against edgetorch's runtime on upstream's .pte "
                                "(edgetorch's exporter cannot export this model yet)")
    return None, "no edgetorch figure to compare with"


def _ratio(a: Optional[float], b: Optional[float]) -> Optional[float]:
    if a is None or b is None or b == 0:
        return None
    return a / b


def _mem(model: Dict[str, Any], key: str) -> Tuple[Optional[int], Optional[int], str]:
    m = model.get("memory", {}).get(key)
    if not m:
        return None, None, ""
    if "peak_kib" not in m:
        return None, None, m.get("error", "failed")
    peak = m["peak_kib"] * 1024
    base = m.get("baseline_kib")
    return peak, (peak - base * 1024) if base is not None else None, ""


def _runtime_rows(model: Dict[str, Any]) -> List[Tuple[str, str]]:
    rows = []
    for rdef in RUNTIMES:
        for t in rdef.threads:
            c = model["cells"].get(rdef.key, {}).get(str(t), {})
            if c.get("status") == "skip":
                continue
            rows.append((rdef.key, str(t)))
    return rows


def model_table(model: Dict[str, Any]) -> List[str]:
    ref_key, note = reference(model)
    cells = model["cells"]
    ref = cells.get(ref_key, {}).get("1", {}) if ref_key else {}
    ref_lat, ref_load = ref.get("median_ms"), ref.get("load_s")
    ref_peak, ref_delta, _ = _mem(model, ref_key) if ref_key else (None, None, "")
    arts = model.get("artifacts", {})
    ref_art = BY_KEY[ref_key].artifact if ref_key else None
    ref_size = arts.get(ref_art, {}).get("bytes") if ref_art else None

    out = [f"### {model['name']}", "", f"{model['description']}. Inputs: "
           + ", ".join(f"{i['dtype']}{i['shape']}" for i in model.get("inputs", []))
           + f". Checked against eager with rtol {model['rtol']:g}, atol {model['atol']:g}"
           + (f" ({model['quant']}: eager is the quantized torch model; ONNX Runtime, "
              f"quantized with its own calibration, atol {model['atol_ort']:g})"
              if model.get("quant") else "") + "."]
    if note:
        out += ["", f"*{note}.*"]
    if not model.get("memory"):
        out += ["", "*Memory not probed for this model (`--quick` probes its first model "
                "only; `--no-memory` none).*"]
    out += ["", "| runtime | threads | median ms | p10 | p90 | ×edgetorch | load + init ms "
            "| ×edgetorch | peak RSS MiB (model Δ) | ×edgetorch (Δ) | file | ×edgetorch "
            "| max abs err |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for key, t in _runtime_rows(model):
        rdef = BY_KEY[key]
        c = cells.get(key, {}).get(t, {})
        label = rdef.label
        if c.get("status") != "ok":
            out.append(f"| {label} | {t} | {cell_text(c)} |  |  |  |  |  |  |  |  |  |  |")
            continue
        lat = c["median_ms"]
        row = [label, t, fmt_ms(lat) + (f" (n={c['n']})" if c.get("capped") else ""),
               fmt_ms(c["p10_ms"]), fmt_ms(c["p90_ms"]),
               fmt_ratio(_ratio(lat, ref_lat))]
        if t == "1":
            load = c.get("load_s")
            peak, delta, err = _mem(model, key)
            art = arts.get(rdef.artifact, {}) if rdef.artifact != "eager" else {
                "bytes": model.get("eager_pickle_bytes")}
            size = art.get("bytes")
            row += [fmt_ms(load * 1e3 if load is not None else None),
                    fmt_ratio(_ratio(load, ref_load)),
                    (f"{_mib(peak)} ({_mib(delta)})" if peak is not None
                     else _esc(err) or "—"),
                    (f"{fmt_ratio(_ratio(peak, ref_peak))} ({fmt_ratio(_ratio(delta, ref_delta))})"
                     if peak is not None else "—"),
                    fmt_bytes(size) + (" (pickle)" if rdef.artifact == "eager" else ""),
                    fmt_ratio(_ratio(size, ref_size))]
        else:
            row += ["", "", "", "", "", ""]
        row.append(f"{c.get('max_abs_err', float('nan')):.2g}")
        out.append("| " + " | ".join(row) + " |")
    cli = model.get("memory", {}).get("edgetorch_cli")
    if cli:
        if "peak_kib" in cli:
            peak = cli["peak_kib"] * 1024
            src = "our" if cli.get("pte") == "edgetorch" else "upstream"
            out.append(f"| edgetorch-run (C CLI, {src} .pte) "
                       f"| 1 |  |  |  |  |  |  | {_mib(peak)} | "
                       f"{fmt_ratio(_ratio(peak, ref_peak))} |  |  |  |")
        else:
            out.append(f"| edgetorch-run (C CLI) | 1 | {_esc(cli.get('error', ''))} |"
                       "  |  |  |  |  |  |  |  |  |  |")
    xinfo = arts.get("onnx", {}).get("info") or {}
    if xinfo.get("onnx_exporter"):
        out += ["", f"ONNX file from the {xinfo['onnx_exporter']} exporter"
                + (f" (TorchScript exporter failed: {_esc(xinfo['onnx_fallback_reason'])})"
                   if xinfo.get("onnx_fallback_reason") else "") + "."]
    return out + [""]


def summary_rows(results: Dict[str, Any], threads: str) -> List[List[str]]:
    rows = []
    for m in results.get("models", []):
        if m.get("fatal"):
            rows.append([m["name"]] + [f"benchmark failed: {m['fatal']}"] + [""] * 5)
            continue
        ref_key, _ = reference(m)
        ref_lat = m["cells"].get(ref_key, {}).get("1", {}).get("median_ms") if ref_key else None
        row = [m["name"]]
        for rdef in RUNTIMES:
            c = m["cells"].get(rdef.key, {}).get(threads, {})
            if c.get("status") == "ok":
                txt = (f"{fmt_ms(c['median_ms'])}{'†' if c.get('capped') else ''} "
                       f"({fmt_ratio(_ratio(c['median_ms'], ref_lat))})")
            else:
                txt = c.get("reason") or c.get("status") or "—"
                if c.get("status") == "skip":
                    txt = "—"
            row.append(txt)
        rows.append(row)
    return rows


def _md_table(head: List[str], rows: List[List[str]]) -> List[str]:
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(_esc(c) for c in r) + " |" for r in rows]
    return out


def markdown(results: Dict[str, Any], png: Optional[Path], md_dir: Path) -> str:
    mi = results["machine"]
    out = [HEADER.read_text().rstrip(), "", "## This run", ""]
    v = mi["versions"]
    out += [f"- Date {results['date']}, {results['mode']} mode, {results['wall_s'] / 60:.1f} min "
            f"wall; repository {mi.get('git_commit') or '?'}.",
            f"- {mi['cpu']}, {mi['usable_cpus']} usable CPUs ({', '.join(mi['simd'])}), "
            f"{mi['mem_gib']} GiB, Linux {mi['kernel']}, Python {mi['python']}.",
            f"- Load average (1/5/15 min) at start {results.get('load_average_start')}, at end "
            f"{results.get('load_average_end')}: other work shared the machine when the first "
            f"number is well above 0.",
            "- Versions: " + ", ".join(f"{k} {v[k]}" for k in v) + ".", ""]
    a, b = results.get("edgetorch_extension_start"), results.get("edgetorch_extension_end")
    if a and b and a != b:
        out += ["**The edgetorch runtime extension was rebuilt during this run**: the timing "
                "process kept the build it started with, fresh-process probes may have used "
                "the new one.", ""]
    la = results.get("load_average_start") or [0.0]
    cpus = mi.get("usable_cpus") or 1
    if la and la[0] > 0.25 * cpus:
        out += [f"**The machine was busy during this run** (load average {la[0]} on {cpus} "
                "CPUs): every figure carries that noise, and the 2-thread figures most, since a "
                "worker thread that loses its core stalls every barrier of its runtime. Compare "
                "runtimes within this run only.", ""]
    for t in ("1", "2"):
        head = ["model"] + [r.label for r in RUNTIMES]
        title = ("## Median latency at 1 thread, ms (×edgetorch)" if t == "1" else
                 "## Median latency at 2 threads, ms (×edgetorch at 1 thread)")
        out += [title, ""] + _md_table(head, summary_rows(results, t)) + [""]
    st = results.get("settings", {})
    out += ["\"—\" in the upstream-.pte column: not needed, edgetorch's own exporter handled "
            "the model. † fewer timed calls than the usual "
            f"{st.get('runs', 20)}: a runtime gets at most {st.get('cell_budget_s', 60):g} s of "
            "timed calls per model and thread count (`--cell-budget-s`)"
            + (f"; edgetorch's own rows, the reference of every ratio, get "
               f"{st['ref_budget_factor']:g}× that" if st.get("ref_budget_factor", 1) != 1
               else "") + ", so very slow cells "
            "have n below 20 (n is in the per-model tables; n=1 when one call exceeds the "
            "budget: then the figure is the checked call itself); a runtime slower than "
            f"{st.get('slow_s', 10):g} s per call at 1 thread is not timed at 2 threads "
            "(`--slow-s`). Details, load times, memory and file sizes per model below.", ""]
    if png is not None:
        rel = os.path.relpath(png, md_dir)
        out += [f"![latency relative to edgetorch]({rel})", ""]
    if results.get("models"):
        out += ["## Per model", ""]
        for m in results["models"]:
            if m.get("fatal"):
                out += [f"### {m['name']}", "", f"Benchmark failed: {_esc(m['fatal'])}", ""]
                continue
            out += model_table(m)
    out += library_section(results)
    out += baseline_section(results)
    out += micro_sections(results)
    return "\n".join(out).rstrip() + "\n"


def library_section(results: Dict[str, Any]) -> List[str]:
    rows = results.get("library_sizes") or []
    if not rows:
        return []
    ref = rows[0].get("bytes")
    out = ["## Runtime library sizes", "",
           "File sizes as installed and linked here (the stripped size is `strip -s` of a "
           "copy). ×edgetorch is against the edgetorch Python extension.", "",
           "| library | size | stripped | ×edgetorch | note |", "|---|---|---|---|---|"]
    for r in rows:
        out.append(f"| {_esc(r['label'])} | {fmt_bytes(r.get('bytes'))} | "
                   f"{fmt_bytes(r.get('stripped'))} | {fmt_ratio(_ratio(r.get('bytes'), ref))} | "
                   f"{_esc(r.get('note') or '')} |")
    return out + [""]


def baselines(results: Dict[str, Any]) -> Dict[str, Dict[str, Any]]:
    """Per runtime: the smallest pre-load peak over all its memory probes."""
    out: Dict[str, Dict[str, Any]] = {}
    for m in results.get("models", []):
        for k, p in (m.get("memory") or {}).items():
            kib = p.get("baseline_kib")
            if kib is not None and (k not in out or kib < out[k]["baseline_kib"]):
                out[k] = {"baseline_kib": kib, "torch_imported": p.get("torch_imported")}
    for k, p in (results.get("baselines") or {}).items():
        if p.get("baseline_kib") is not None:
            out[k] = p
    return out


def baseline_section(results: Dict[str, Any]) -> List[str]:
    b = baselines(results)
    if not b:
        return []
    labels = {"edgetorch": "numpy + `edgetorch.runtime`",
              "et_portable": "torch + upstream `executorch.runtime`",
              "et_xnnpack": "torch + upstream `executorch.runtime` (XNNPACK probe)",
              "eager": "torch (+ the model's Python modules, e.g. transformers)",
              "ort": "numpy + onnxruntime"}
    ref = b.get("edgetorch", {}).get("baseline_kib")
    out = ["## Import baselines", "",
           "Peak RSS of a fresh process after importing a runtime's libraries, before "
           "touching a model (the smallest over this run's probes): the part of every "
           "memory figure above that no model causes.", "",
           "| process imports | peak RSS | ×edgetorch | torch loaded |", "|---|---|---|---|"]
    for k, lab in labels.items():
        r = b.get(k)
        if not r:
            continue
        kib = r.get("baseline_kib")
        out.append(f"| {lab} | {fmt_bytes(kib * 1024)} | {fmt_ratio(_ratio(kib, ref))} | "
                   f"{r.get('torch_imported', '—')} |")
    cli = next((m["memory"]["edgetorch_cli"] for m in results.get("models", [])
                if "peak_kib" in (m.get("memory") or {}).get("edgetorch_cli", {})), None)
    if cli:
        out += ["", f"`edgetorch-run` is measured through {cli.get('launcher')}; a process "
                "started by another inherits that process's peak as a floor of its own "
                "`ru_maxrss` on Linux"
                + (f" (here {cli['floor_kib'] / 1024:.0f} MiB)" if cli.get("floor_kib") else
                   " (GNU time: about 1 MiB)") + ". The Python probes read `VmHWM`, which has "
                "no such floor."]
    return out + [""]


def micro_sections(results: Dict[str, Any]) -> List[str]:
    micro = results.get("micro") or {}
    out: List[str] = []
    d = micro.get("dispatch")
    if d:
        out += ["## Dispatch overhead", "",
                f"A chain of {d['n']} dependent `x + 1` on a one-element float tensor, minus a "
                "one-add program, divided by the difference in instruction count (from the "
                f"program's metadata): the cost of one instruction. Medians of {d['runs']} "
                "interleaved calls at 1 thread. Both exporters' files run on both runtimes.",
                "", "| runtime | .pte from | instructions (1 / n) | call, 1 add (µs) "
                "| call, n adds (µs) | ns per instruction | ×edgetorch |",
                "|---|---|---|---|---|---|---|"]
        ref = next((r.get("per_instruction_ns") for r in d["rows"]
                    if r["runtime"] == "edgetorch" and r["pte"] == "et"
                    and "per_instruction_ns" in r), None)
        for r in d["rows"]:
            src = "edgetorch" if r["pte"] == "et" else "upstream"
            if "per_instruction_ns" not in r:
                out.append(f"| {r['runtime']} | {src} | {_esc(r.get('reason', ''))} |  |  |  |  |")
                continue
            ins = r.get("instructions") or [None, None]
            out.append(f"| {r['runtime']} | {src} | {ins[0]} / {ins[1]} | {r['call_1_us']:.1f} | "
                       f"{r['call_n_us']:.1f} | {r['per_instruction_ns']:.0f} | "
                       f"{fmt_ratio(_ratio(r['per_instruction_ns'], ref))} |")
        out.append("")
    ll = micro.get("large_load")
    if ll:
        mib = ll["layers"] * (ll["dim"] ** 2 + ll["dim"]) * 4 / MIB
        out += ["## Loading a large program", "",
                f"{ll['layers']} × Linear({ll['dim']}, {ll['dim']}): {mib:.0f} MiB of float32 "
                f"weights (upstream's .pte is {fmt_bytes(ll['files']['up']['bytes'])}). Load + "
                "method init, median of "
                f"{ll['repeats']} interleaved repeats, page cache warm; then the first execute "
                "(which for a mapped file also pages the weights in). For the bytes loaders the "
                "file is read beforehand and not counted"
                + (f" (reading it takes {ll['read_file_s'] * 1e3:.0f} ms)" if ll.get(
                    "read_file_s") else "") + ". ×edgetorch compares like with like: bytes with "
                "bytes, and upstream's path loader (mmap) with edgetorch's mmap loader.", ""]
        if ll.get("reason"):
            out += [_esc(ll["reason"]), ""]
        else:
            out += ["| runtime | file | loader | load + init ms | ×edgetorch | first execute ms |",
                    "|---|---|---|---|---|---|"]
            refs = {}
            for r in ll["rows"]:
                if r["runtime"] == "edgetorch" and r["file"] == "upstream .pte" and "load_s" in r:
                    refs["bytes" if r["loader"].startswith("bytes") else
                         "mmap" if r["loader"] == "mmap" else "file"] = r["load_s"]
            for r in ll["rows"]:
                kind = "bytes" if r["loader"].startswith("bytes") else (
                    "mmap" if ("mmap" in r["loader"]) else "file")
                if "load_s" not in r:
                    out.append(f"| {r['runtime']} | {r['file']} | {r['loader']} | "
                               f"{_esc(r.get('reason', ''))} |  |  |")
                    continue
                ratio = fmt_ratio(_ratio(r["load_s"], refs.get(kind)))
                out.append(f"| {r['runtime']} | {r['file']} | {r['loader']} | "
                           f"{r['load_s'] * 1e3:,.1f} | {ratio}"
                           f" | {r['first_execute_s'] * 1e3:,.1f}"
                           + (f" ({_esc(r['reason'])})" if r.get("reason") else "") + " |")
            mem = ll.get("memory") or {}
            if mem:
                ref = mem.get("edgetorch file", {}).get("peak_kib")
                out += ["", "Peak RSS of a fresh process that loads it and runs it once "
                        "(upstream's .pte):", "",
                        "| process | peak RSS | model Δ | ×edgetorch file |", "|---|---|---|---|"]
                for k, m in mem.items():
                    if "peak_kib" not in m:
                        out.append(f"| {k} | {_esc(m.get('error', ''))} |  |  |")
                        continue
                    base = m.get("baseline_kib")
                    out.append(f"| {k} | {m['peak_kib'] / 1024:,.0f} MiB | "
                               + (f"{(m['peak_kib'] - base) / 1024:,.0f} MiB" if base else "—")
                               + f" | {fmt_ratio(_ratio(m['peak_kib'], ref))} |")
        out.append("")
    gm = micro.get("gemm")
    if gm:
        out += ["## GEMM and GEMV", "",
                "The CPU backend's packed fp32 GEMM (`backends/xnnpack/xnn_gemm.c`, weights "
                "packed once, bias added, 1 thread; built from `bench/gemm_micro.c`) against "
                "the fp32 FMA peak of one core measured in the same run with a loop of "
                "independent FMAs, next to PyTorch's `addmm` (its sgemm) at 1 and 2 threads. "
                "Best of 9 runs of at least 20 ms each.", ""]
        if gm.get("reason"):
            out += [_esc(gm["reason"]), ""]
        else:
            pk = gm["peak_gflops"]
            out += [f"FMA peak of one core: **{pk:.1f} GFLOP/s** ({gm['peak_isa']}).", "",
                    "| shape | M×N×K | edgetorch GFLOP/s | % of peak | PyTorch 1t GFLOP/s "
                    "| % of peak | PyTorch 2t GFLOP/s | edgetorch ÷ PyTorch 1t |",
                    "|---|---|---|---|---|---|---|---|"]
            for r in gm["rows"]:
                et, t1, t2 = r["edgetorch_gflops"], r["torch_1t_gflops"], r["torch_2t_gflops"]
                out.append(f"| {r['label']} | {r['m']}×{r['n']}×{r['k']} | {et:.1f} | "
                           f"{100 * et / pk:.0f}% | {t1:.1f} | {100 * t1 / pk:.0f}% | "
                           f"{t2:.1f} | {et / t1:.2f} |")
        out.append("")
    out += tracer_section(micro.get("tracer"))
    po = micro.get("per_op")
    if po:
        out += ["## Single operators", "",
                "One-operator programs exported by upstream's `to_edge().to_executorch()`, run on "
                f"both runtimes at 1 thread: median of {po['runs']} interleaved calls, fewer (n) "
                "when a call is slow: at most ~15 s of calls per op and runtime. A call includes "
                "each binding's input/output handling. Upstream kernel: "
                + po["note"] + ".", "",
                "| op | shape | program | upstream kernel | edgetorch µs | upstream µs | "
                "upstream ×edgetorch |", "|---|---|---|---|---|---|---|"]
        for r in po["rows"]:
            ops = ", ".join(o.replace("aten::", "") for o in r.get("operators", []))
            kinds = ", ".join(sorted(set((r.get("upstream_kernels") or {}).values())))
            def n(k: str) -> str:
                return f" (n={r[k + '_n']})" if r.get(k + "_n", po["runs"]) < po["runs"] else ""
            et = (f"{r['edgetorch_us']:,.1f}{n('edgetorch')}" if "edgetorch_us" in r else
                  _esc(r.get("edgetorch_reason", r.get("reason", ""))))
            up = (f"{r['upstream_us']:,.1f}{n('upstream')}" if "upstream_us" in r else
                  _esc(r.get("upstream_reason", r.get("reason", ""))))
            out.append(f"| {r['op']} | {_esc(r['shape'])} | {_esc(ops)} | {kinds} | {et} | {up} | "
                       f"{fmt_ratio(r.get('upstream_over_edgetorch'))} |")
        g = per_op_summary(po)
        if g:
            out += ["", f"Geometric mean of upstream ×edgetorch over the {g['n']} operators: "
                        f"**{fmt_ratio(g['geomean'])}**; lowest {fmt_ratio(g['min'])} "
                        f"({g['min_op']})."]
        out.append("")
    return out


def tracer_section(tr: Optional[Dict[str, Any]]) -> List[str]:
    """edgetorch's event tracer hook: what it costs when off (and a no-op
    tracer's cost), from bench/tracer_overhead.py."""
    if not tr:
        return []
    out = ["## Tracer overhead", "",
           "edgetorch's event tracer hook (ETDump, `edgetorch profile`) when no tracer is "
           "attached, against the same runtime built with the hook compiled out "
           "(`-DET_TRACING=0`), and with a tracer whose callback does nothing: ns per "
           "executed instruction on a program of "
           f"{tr.get('instructions', '?')} × {tr.get('op', '?')}. Only the instruction loop "
           "(`runtime/core/method_execute.c`) differs between builds. Best of "
           f"{tr.get('runs', '?')} runs, median of {tr.get('rounds', '?')} interleaved "
           f"rounds, for each of {tr.get('pads', '?')} code placements (the same binary "
           "behind 0, 16, 32, … bytes of padding: where code lands moves these figures by "
           "a few ns either way); \"vs compiled out\" is the median over placements of "
           "the difference at equal placement. A benchmark, not a test: "
           "`bench/tracer_overhead.py` runs it alone.", ""]
    if tr.get("reason"):
        return out + [_esc(tr["reason"]), ""]
    out += ["| build | ns per instruction | fastest placement | slowest placement "
            "| vs compiled out (ns) |", "|---|---|---|---|---|"]
    for r in tr["rows"]:
        out.append(f"| {r['variant']} | {r['median']:.1f} | {min(r['by_pad']):.1f} | "
                   f"{max(r['by_pad']):.1f} | {r['minus_compiled_out']:+.1f} |")
    return out + [""]


def per_op_summary(po: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """Geometric mean and minimum of the per-operator speedups."""
    rows = [r for r in po.get("rows", []) if r.get("upstream_over_edgetorch")]
    if not rows:
        return None
    logs = [math.log(r["upstream_over_edgetorch"]) for r in rows]
    low = min(rows, key=lambda r: r["upstream_over_edgetorch"])
    return {"n": len(rows), "geomean": math.exp(sum(logs) / len(logs)),
            "min": low["upstream_over_edgetorch"], "min_op": low["op"]}


# ---------------------------------------------------------------------------


def summary_text(results: Dict[str, Any]) -> str:
    """The short table printed at the end of a run."""
    short = {"edgetorch": "edgetorch", "edgetorch_up": "et-rt(up.pte)",
             "edgetorch_xnn": "et-rt(xnn.pte)", "edgetorch_etx": "edgetorch(xnn)",
             "et_portable": "ET portable*", "et_xnnpack": "ET XNNPACK", "eager": "eager",
             "ort": "ORT"}
    lines = []
    for t in ("1", "2"):
        lines.append(f"median latency, {t} thread{'s' if t != '1' else ''}: ms (×edgetorch"
                     + (" at 1 thread)" if t != "1" else ")"))
        head = ["model"] + [short[r.key] for r in RUNTIMES]
        rows = summary_rows(results, t)
        rows = [[c if len(c) <= 32 else c[:29] + "..." for c in r] for r in rows]
        widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
                  for i, h in enumerate(head)]
        lines.append("  ".join(h.ljust(w) for h, w in zip(head, widths)))
        for r in rows:
            lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths)))
        lines.append("")
    d = (results.get("micro") or {}).get("dispatch")
    if d:
        lines.append("dispatch overhead (ns per instruction): " + ", ".join(
            f"{r['runtime']} on {'our' if r['pte'] == 'et' else 'upstream'} .pte "
            + (f"{r['per_instruction_ns']:.0f}" if "per_instruction_ns" in r else "n/a")
            for r in d["rows"]))
    tr = (results.get("micro") or {}).get("tracer")
    if tr and tr.get("rows"):
        lines.append("tracer hook, ns per instruction (vs compiled out): " + ", ".join(
            f"{r['variant']} {r['median']:.1f} ({r['minus_compiled_out']:+.1f})"
            for r in tr["rows"]))
    po = (results.get("micro") or {}).get("per_op")
    if po:
        lines.append("single ops, upstream ×edgetorch: " + ", ".join(
            f"{r['op']} {fmt_ratio(r.get('upstream_over_edgetorch'))}" for r in po["rows"]))
        g = per_op_summary(po)
        if g:
            lines.append(f"single ops: geometric mean {fmt_ratio(g['geomean'])}, lowest "
                         f"{fmt_ratio(g['min'])} ({g['min_op']})")
    return "\n".join(lines)


def chart(results: Dict[str, Any], png: Path) -> bool:
    """Grouped bars: each runtime's median latency divided by edgetorch's (log scale)."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except Exception:
        return False
    models = [m for m in results.get("models", []) if not m.get("fatal")]
    if not models:
        return False
    series = []
    for rdef in RUNTIMES:
        if rdef.key == "edgetorch_up":
            continue
        for t in rdef.threads:
            series.append((rdef, str(t)))
    fig, ax = plt.subplots(figsize=(max(7, 1.6 * len(models) + 3), 5.6))
    width = 0.8 / len(series)
    colors = plt.get_cmap("tab10")
    for si, (rdef, t) in enumerate(series):
        xs, ys = [], []
        for mi, m in enumerate(models):
            ref_key, _ = reference(m)
            ref = m["cells"].get(ref_key, {}).get("1", {}).get("median_ms") if ref_key else None
            c = m["cells"].get(rdef.key, {}).get(t, {})
            x = mi + (si - (len(series) - 1) / 2) * width
            if c.get("status") == "ok" and ref:
                xs.append(x)
                ys.append(c["median_ms"] / ref)
            else:
                ax.text(x, 1.0, "×", ha="center", va="center", fontsize=8, color="grey")
        hatch = "//" if t == "2" else None
        ax.bar(xs, ys, width, label=f"{rdef.label} @{t}t", color=colors(RUNTIMES.index(rdef)),
               hatch=hatch, edgecolor="black", linewidth=0.4)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_yscale("log")
    ax.set_xticks(range(len(models)))
    ax.set_xticklabels([m["name"] for m in models])
    ax.set_ylabel("median latency / edgetorch's (log)")
    ax.set_title(f"Latency relative to edgetorch (below 1 = faster), {results['date']} "
                 f"{results['mode']}")
    ax.legend(fontsize=7, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.1))
    ax.grid(axis="y", which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    plt.close(fig)
    return True
