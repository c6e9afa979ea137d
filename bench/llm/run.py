"""`make bench-llm`: edgetorch-llm against llama.cpp (llama-cpp-python) on
the same Llama architecture and the same random weights.

    .venv/bin/python bench/llm/run.py                      # stories110M shape (default)
    BENCH_LLM_LARGE=1 .venv/bin/python bench/llm/run.py    # + the ~1B Llama 3.2 shape at 4 bits
    .venv/bin/python bench/llm/run.py --models llama3_2_1b --large-f32   # + its 5 GB F32 row

Per model (cached in bench/.cache/llm/<model>-<key>/): the transformers
checkpoint (random init, fixed seed), a Llama-2-layout tokenizer.json with
the model's vocabulary size, a prompt of exactly 128 tokens, edgetorch's
fp32 export (and 8da4w g32 when ``edgetorch.llm.export`` implements it),
and GGUF files written by bench/llm/gguf_convert.py (F32, Q4_0).

Correctness first: the greedy tokens of llama.cpp (F32), edgetorch (fp32)
and transformers' eager model on the same prompt ids are compared and the
length of the common prefix reported; a row whose fp32 sides disagree from
the first token is not timed.

Timing: every measurement is a fresh process (edgetorch-llm --json, or
bench/llm/llamacpp_worker.py), 128 prompt tokens then 128 greedy tokens
with EOS ignored, at 1 and 2 threads; the two runtimes alternate, rounds
repeat, medians are reported. Writes bench/results/llm-<date>.{json,md} and
the LLM section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO))

from bench.llm import gguf_convert  # noqa: E402
from bench.llm.models import CACHE, SPECS, LlamaSpec, build_hf_dir, build_tokenizer, \
    make_prompt, model_dir  # noqa: E402

PY = sys.executable
PROMPT_TOKENS = 128
NEW_TOKENS = 128
CHECK_TOKENS = 32
DOCS_BEGIN = "<!-- bench-llm:begin -->"
DOCS_END = "<!-- bench-llm:end -->"


def log(msg: str) -> None:
    print(f"[bench-llm {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def build_dir() -> Path:
    return Path(os.environ.get("ET_BUILD_DIR", REPO / "build"))


def exe() -> Path:
    return build_dir() / "bin" / "edgetorch-llm"


def _env() -> Dict[str, str]:
    env = dict(os.environ)
    env.setdefault("PYTHONPATH", str(REPO / "python"))
    env["PYTHONUNBUFFERED"] = "1"
    return env


# ------------------------------------------------------------------ preparation

@dataclass
class Prepared:
    spec: LlamaSpec
    dir: Path
    hf: Path
    tokenizer: Path
    prompt_file: Path
    ids: List[int]
    files: Dict[str, Path] = field(default_factory=dict)     # kind -> file
    missing: Dict[str, str] = field(default_factory=dict)    # kind -> reason


# Linux carries a process's peak RSS across fork + exec (ru_maxrss of the
# new program starts at the RSS of the process that forked it), so a child
# of this orchestrator, which holds torch, would report at least its size.
# Every measured process is therefore started by a small launcher (Python
# without site: ~8 MiB), whose own child starts from that.
_LAUNCH = "import subprocess, sys; sys.exit(subprocess.call(sys.argv[1:]))"


def _run(cmd: List[str], timeout: float, **kw: Any) -> subprocess.CompletedProcess:
    return subprocess.run([PY, "-S", "-c", _LAUNCH] + cmd, capture_output=True, text=True,
                          timeout=timeout, env=_env(), **kw)


def _last_line(s: str) -> str:
    lines = [ln for ln in s.strip().splitlines() if ln.strip()]
    return lines[-1][:200] if lines else ""


def _exporter_stamp() -> str:
    """A hash of edgetorch's Python sources: a cached edgetorch export is
    redone when the exporter changed (its defaults included)."""
    import hashlib
    h = hashlib.sha256()
    for f in sorted((HERE.parents[1] / "python" / "edgetorch").rglob("*.py")):
        h.update(f.read_bytes())
    return h.hexdigest()[:20]


def prepare(spec: LlamaSpec, *, f32_gguf: bool, fp32_et: bool, upstream: bool) -> Prepared:
    d = model_dir(spec)
    d.mkdir(parents=True, exist_ok=True)
    log(f"{spec.name}: {spec.params() / 1e6:.0f}M parameters, cache {d}")
    hf = build_hf_dir(spec, d / "hf")
    tok = build_tokenizer(spec.vocab, d / "tokenizer.json")
    text, ids = make_prompt(tok, PROMPT_TOKENS)
    pf = d / "prompt.txt"
    pf.write_text(text)
    p = Prepared(spec, d, hf, tok, pf, ids)
    vocab = json.loads(tok.read_text())["model"]["vocab"]
    pieces = [s for s, _ in sorted(vocab.items(), key=lambda kv: kv[1])]

    exports = [("et_8da4w", ["--quantize", "8da4w", "--group-size", "32"])]
    if fp32_et:
        exports.insert(0, ("et_fp32", []))
    src = _exporter_stamp()
    for kind, extra in exports:
        out = d / f"{kind}.pte"
        na = d / f"{kind}.na"
        stamp = d / f"{kind}.exporter"   # the exporter that wrote out
        if out.exists() and stamp.exists() and stamp.read_text() == src:
            p.files[kind] = out
            continue
        if na.exists() and na.read_text().startswith("n/a: not implemented"):
            # re-check: the exporter may have gained the mode since
            na.unlink()
        log(f"{spec.name}: edgetorch export {kind}")
        r = _run([PY, str(HERE / "export_et.py"), str(hf), str(out), "--max-seq-len",
                  str(PROMPT_TOKENS), "--max-context-len", str(spec.context)] + extra, 7200)
        if r.returncode == 0 and out.exists():
            p.files[kind] = out
            stamp.write_text(src)
        elif r.returncode == 3:
            p.missing[kind] = "n/a: not implemented"
            na.write_text(p.missing[kind] + "\n" + _last_line(r.stderr))
        else:
            p.missing[kind] = f"export failed: {_last_line(r.stderr)}"
            log(f"{spec.name}: {kind}: {r.stderr[-2000:]}")
    if upstream:
        ups = [("up_8da4w", ["--quantize", "8da4w"])]
        if fp32_et:
            ups.insert(0, ("up_fp32", []))
        for kind, extra in ups:
            out = d / f"{kind}.pte"
            if out.exists():
                p.files[kind] = out
                continue
            log(f"{spec.name}: upstream export_llama {kind} (XNNPACK)")
            # export_llama bounds the dynamic sequence length at max_seq_length - 1
            # while its runner prefills chunks of max_seq_length: one more so the
            # 128-token prompt is one chunk
            r = _run([PY, str(HERE / "upstream.py"), "export", str(hf), str(out),
                      "--max-seq-len", str(PROMPT_TOKENS + 1), "--max-context-len",
                      str(spec.context)] + extra, 7200)
            if r.returncode == 0 and out.exists():
                p.files[kind] = out
            else:
                p.missing[kind] = f"upstream export failed: {_last_line(r.stderr)}"
                log(f"{spec.name}: {kind}: {r.stderr[-2000:]}")
    else:
        p.missing["up_fp32"] = p.missing["up_8da4w"] = "not run (--no-upstream)"
    ggufs = [("gguf_q4_0", "q4_0")]
    if f32_gguf:
        ggufs.insert(0, ("gguf_f32", "f32"))
    for kind, outtype in ggufs:
        out = d / f"{kind}.gguf"
        if not out.exists():
            log(f"{spec.name}: GGUF {outtype}")
            gguf_convert.convert(hf, out, outtype, pieces)
        p.files[kind] = out
    return p


# ------------------------------------------------------------------ one run each

def llama_cpp_available() -> Optional[str]:
    r = _run([PY, "-c", "import llama_cpp; print(llama_cpp.__version__)"], 120)
    return r.stdout.strip() if r.returncode == 0 else None


def run_llamacpp(gguf: Path, ids: List[int], threads: int, n_new: int, n_ctx: int) -> Dict[str, Any]:
    r = _run([PY, str(HERE / "llamacpp_worker.py"), "--model", str(gguf), "--ids",
              ",".join(map(str, ids)), "--max-new-tokens", str(n_new), "--threads",
              str(threads), "--n-ctx", str(n_ctx)], 3600)
    if r.returncode != 0:
        raise RuntimeError(f"llama.cpp worker failed: {_last_line(r.stderr)}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def run_edgetorch(p: Prepared, pte: Path, threads: int, n_new: int) -> Dict[str, Any]:
    r = _run([str(exe()), "--model", str(pte), "--tokenizer", str(p.tokenizer), "--prompt-file",
              str(p.prompt_file), "--max-new-tokens", str(n_new), "--temperature", "0",
              "--threads", str(threads), "--ignore-eos", "--json"], 3600)
    if r.returncode != 0:
        raise RuntimeError(f"edgetorch-llm failed ({r.returncode}): {_last_line(r.stderr)}")
    out = json.loads(r.stdout.strip().splitlines()[-1])
    if out["prompt_tokens"] != len(p.ids):
        raise RuntimeError(f"edgetorch-llm encoded {out['prompt_tokens']} prompt tokens, "
                           f"expected {len(p.ids)}")
    return out


def run_upstream(p: Prepared, pte: Path, threads: int, n_new: int) -> Dict[str, Any]:
    r = _run([PY, str(HERE / "upstream.py"), "run", str(pte), str(p.tokenizer), str(p.prompt_file),
              "--max-new-tokens", str(n_new), "--threads", str(threads)], 3600)
    if r.returncode != 0:
        raise RuntimeError(f"upstream TextLLMRunner failed: {_last_line(r.stderr)}")
    out = json.loads(r.stdout.strip().splitlines()[-1])
    if out["prompt_tokens"] != len(p.ids):
        out["note"] = f"upstream's tokenizer gave {out['prompt_tokens']} prompt tokens"
    return out


_ET_IDS = r"""
import json, sys
from edgetorch.llm import Generator
pte, tok, prompt, want, n = sys.argv[1], sys.argv[2], open(sys.argv[3]).read(), json.loads(sys.argv[4]), int(sys.argv[5])
g = Generator(pte, tok, threads=2)
enc = g.encode(prompt)
if enc != want:
    print(json.dumps({"error": "prompt ids differ", "ids": enc})); sys.exit(0)
out = g.generate(prompt, max_new_tokens=n, stop_at_eos=False)
print(json.dumps({"ids": out.ids}))
"""

_HF_IDS = r"""
import json, sys, torch, transformers
torch.manual_seed(0)
m = transformers.LlamaForCausalLM.from_pretrained(sys.argv[1], torch_dtype=torch.float32).eval()
ids = torch.tensor([json.loads(sys.argv[2])])
n = int(sys.argv[3])
with torch.no_grad():
    last = m(ids).logits[0, -1]
    v, i = torch.topk(last, 20)
    out = m.generate(ids, max_new_tokens=n, min_new_tokens=n, do_sample=False, eos_token_id=None,
                     pad_token_id=0)
print(json.dumps({"ids": out[0, ids.shape[1]:].tolist(),
                  "first_logits_top": [[int(a), float(b)] for a, b in zip(i, v)]}))
"""


def edgetorch_ids(p: Prepared, pte: Path, n: int) -> List[int]:
    r = _run([PY, "-c", _ET_IDS, str(pte), str(p.tokenizer), str(p.prompt_file),
              json.dumps(p.ids), str(n)], 3600)
    if r.returncode != 0:
        raise RuntimeError(f"edgetorch Generator failed: {_last_line(r.stderr)}")
    out = json.loads(r.stdout.strip().splitlines()[-1])
    if "error" in out:
        raise RuntimeError(f"edgetorch's prompt encoding differs from the tokenizers package: "
                           f"{out['ids'][:12]}... vs {p.ids[:12]}...")
    return out["ids"]


def hf_ids(hf_dir: Path, ids: List[int], n: int) -> Dict[str, Any]:
    """transformers' greedy ids and the top-20 logits after the prompt."""
    r = _run([PY, "-c", _HF_IDS, str(hf_dir), json.dumps(ids), str(n)], 3600)
    if r.returncode != 0:
        raise RuntimeError(f"transformers generate failed: {_last_line(r.stderr)}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def compare_top(ref: List[List[float]], got: List[List[float]], k: int = 10) -> Dict[str, Any]:
    """Same top-k ids in the same order, and the largest logit difference
    over the reference's top k."""
    got_d = {int(i): v for i, v in got}
    same_order = [int(i) for i, _ in ref[:k]] == [int(i) for i, _ in got[:k]]
    diffs = [abs(v - got_d[int(i)]) for i, v in ref[:k] if int(i) in got_d]
    return {"k": k, "same_top_k": same_order,
            "max_abs_diff": max(diffs) if len(diffs) == k else None,
            "logit_range": ref[0][1] - ref[k - 1][1]}


def common_prefix(a: List[int], b: List[int]) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


# ------------------------------------------------------------------ the benchmark

# (row label, edgetorch kind, llama.cpp kind, upstream ExecuTorch kind)
PAIRS = [("fp32 / F32", "et_fp32", "gguf_f32", "up_fp32"),
         ("8da4w g32 / Q4_0", "et_8da4w", "gguf_q4_0", "up_8da4w")]
SIDES = ("edgetorch", "llama.cpp", "upstream ET")
METRICS = ["prefill_tokens_per_s", "decode_tokens_per_s", "ttft_ms", "peak_rss_bytes"]


def check(p: Prepared, have_llama: bool) -> Dict[str, Any]:
    """Greedy agreement at fp32 (and, for information, at 4 bits)."""
    res: Dict[str, Any] = {"tokens": CHECK_TOKENS}
    if "gguf_f32" in p.files and "et_fp32" in p.files:
        log(f"{p.spec.name}: transformers greedy reference")
        h = hf_ids(p.hf, p.ids, CHECK_TOKENS)
        res["transformers"] = h["ids"]
        res["transformers_top"] = h["first_logits_top"]
    if "et_fp32" in p.files:
        res["edgetorch_fp32"] = edgetorch_ids(p, p.files["et_fp32"], CHECK_TOKENS)
    if have_llama and "gguf_f32" in p.files:
        lc = run_llamacpp(p.files["gguf_f32"], p.ids, 2, CHECK_TOKENS, p.spec.context)
        res["llamacpp_f32"] = lc["ids"]
        if "transformers_top" in res:
            res["logits_llamacpp_f32_vs_transformers"] = c = compare_top(
                res["transformers_top"], lc["first_logits_top"])
            log(f"{p.spec.name}: first-token logits, llama.cpp F32 vs transformers: {c}")
    if have_llama and "gguf_q4_0" in p.files:
        res["llamacpp_q4_0"] = run_llamacpp(p.files["gguf_q4_0"], p.ids, 2, CHECK_TOKENS,
                                            p.spec.context)["ids"]
    if "et_8da4w" in p.files:
        res["edgetorch_8da4w"] = edgetorch_ids(p, p.files["et_8da4w"], CHECK_TOKENS)
    agree: Dict[str, int] = {}
    names = [k for k in ("transformers", "edgetorch_fp32", "llamacpp_f32", "edgetorch_8da4w",
                         "llamacpp_q4_0") if k in res]
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            agree[f"{a} vs {b}"] = common_prefix(res[a], res[b])
    res["agreement"] = agree
    for k, v in agree.items():
        log(f"{p.spec.name}: greedy agreement {k}: {v}/{CHECK_TOKENS}")
    fp32_ok = agree.get("edgetorch_fp32 vs llamacpp_f32")
    lg = res.get("logits_llamacpp_f32_vs_transformers")
    res["fp32_ok"] = (fp32_ok is None or fp32_ok > 0) and (lg is None or lg["same_top_k"])
    return res


def bench_model(p: Prepared, threads: List[int], rounds: int, have_llama: bool,
                fp32_ok: bool, sides_wanted: Tuple[str, ...] = SIDES) -> Dict[str, Any]:
    """{row: {threads: {side: {metric: [values]}}}}, plus reasons for cells
    not measured."""
    runs: Dict[str, Any] = {}
    for label, et_kind, gg_kind, up_kind in PAIRS:
        sides: List[Tuple[str, Any]] = []
        row: Dict[str, Any] = {"edgetorch": {}, "llama.cpp": {}, "upstream ET": {},
                               "missing": {}}
        if et_kind in p.files and (fp32_ok or et_kind != "et_fp32"):
            sides.append(("edgetorch", lambda t, k=et_kind: run_edgetorch(p, p.files[k], t,
                                                                           NEW_TOKENS)))
        else:
            row["missing"]["edgetorch"] = p.missing.get(
                et_kind, "not run (fp32 tokens disagree)" if et_kind in p.files else
                "not exported (--large-f32 for the 1B F32 row)")
        if have_llama and gg_kind in p.files:
            sides.append(("llama.cpp", lambda t, k=gg_kind: run_llamacpp(
                p.files[k], p.ids, t, NEW_TOKENS, p.spec.context)))
        else:
            row["missing"]["llama.cpp"] = ("llama_cpp not installed" if not have_llama else
                                           "not converted (--large-f32 for the 1B F32 row)")
        if up_kind in p.files:
            sides.append(("upstream ET", lambda t, k=up_kind: run_upstream(p, p.files[k], t,
                                                                         NEW_TOKENS)))
        else:
            row["missing"]["upstream ET"] = p.missing.get(up_kind, "not exported")
        sides = [sd for sd in sides if sd[0] in sides_wanted]
        for t in threads:
            for name, _ in sides:
                row[name].setdefault(str(t), [])
        for rnd in range(rounds):
            order = sides[rnd % len(sides):] + sides[:rnd % len(sides)] if sides else []
            for t in threads:
                for name, fn in order:
                    try:
                        out = fn(t)
                    except Exception as e:  # noqa: BLE001 - recorded, reported
                        row["missing"][f"{name} {t}t"] = str(e)[:200]
                        log(f"{p.spec.name} {label} {name} {t}t: {e}")
                        continue
                    out.pop("ids", None)
                    out.pop("system_info", None)
                    row[name][str(t)].append(out)
                    log(f"{p.spec.name} {label} {name} {t}t round {rnd + 1}: prefill "
                        f"{out['prefill_tokens_per_s']:.1f} tok/s, decode "
                        f"{out['decode_tokens_per_s']:.2f} tok/s, ttft {out['ttft_ms']:.0f} ms, "
                        f"rss {out['peak_rss_bytes'] / 2**20:.0f} MiB")
        runs[label] = row
    return runs


def median_of(samples: List[Dict[str, Any]], key: str) -> Optional[float]:
    vals = [s[key] for s in samples if key in s]
    return statistics.median(vals) if vals else None


# ------------------------------------------------------------------ report

def _fmt(v: Optional[float], kind: str) -> str:
    if v is None:
        return "—"
    if kind == "peak_rss_bytes" or kind == "baseline_rss_bytes":
        return f"{v / 2**20:,.0f} MiB"
    if kind == "ttft_ms":
        return f"{v:,.0f} ms"
    return f"{v:,.1f}"


def _ratio(a: Optional[float], b: Optional[float], higher_better: bool) -> str:
    if a is None or b is None or b == 0:
        return "—"
    return f"×{a / b:.2f}"


def upstream_runner_note() -> str:
    try:
        import importlib.util
        spec = importlib.util.find_spec("executorch.extension.llm.runner")
    except Exception:  # noqa: BLE001
        spec = None
    if spec is None:
        return ("upstream ExecuTorch: the installed wheel has no Python LLM runner; no row.")
    return ("upstream ET rows: upstream ExecuTorch's own path from its pip wheel: the same "
            "weights as a Meta-layout checkpoint, `executorch.examples.models.llama.export_llama` "
            "(KV cache, custom SDPA, XNNPACK; `-qmode 8da4w -G 32` for the 4-bit row) and "
            "`executorch.extension.llm.runner.TextLLMRunner` in a fresh Python process, its "
            "own Stats for the timings (it has no ignore-EOS option; its count of generated "
            "tokens is shown when it is not the budget). Every run is a cold process on all "
            "sides, so whatever a runtime does at its first call (XNNPACK's weight packing "
            "for upstream) is in its TTFT.")


def markdown(results: Dict[str, Any]) -> str:
    L: List[str] = []
    m = results["machine"]
    L.append(f"Run {results['date']} on {m['cpu']} ({m['cores']} cores; AVX2+FMA, no AVX-512 "
             f"used by either side's build), load average {m['load_start']} at start and "
             f"{m['load_end']} at end: the machine was shared with other work, so the figures "
             "are noisy (medians of interleaved fresh-process runs; rerun on a quiet machine).")
    L.append("")
    L.append(f"Each run: {PROMPT_TOKENS} prompt tokens (the same ids on both sides), then "
             f"{NEW_TOKENS} greedy tokens with EOS ignored; a fresh process per run "
             f"(`edgetorch-llm --json`, or `bench/llm/llamacpp_worker.py` on llama-cpp-python "
             f"{results.get('llama_cpp_python', '?')}), {results['rounds']} rounds alternating "
             "the two runtimes; medians. Prefill and TTFT: the prompt's forward pass(es) plus "
             "the first token; decode: tokens after the first / their time. Peak RSS: "
             "ru_maxrss of that process (started from a small launcher, since Linux carries "
             "the forking process's RSS into a child's ru_maxrss); llama.cpp and upstream run "
             "in a Python interpreter, whose resident size just before the model loads "
             "(interpreter, numpy, the runtime's libraries) is in the 'Python baseline' "
             "column. Ratios are "
             "edgetorch / llama.cpp (above 1 is better for tok/s, below 1 for TTFT and RSS).")
    L.append("")
    L.append(upstream_runner_note())
    L.append("")
    for name, mr in results["models"].items():
        s = mr["spec"]
        L.append(f"### {name}: dim {s['dim']}, {s['n_layers']} layers, {s['n_heads']} heads "
                 f"({s['n_kv_heads']} kv), ffn {s['ffn']}, vocab {s['vocab']}, context "
                 f"{s['context']} ({mr['params_m']:.0f}M parameters)")
        L.append("")
        if mr.get("merged_from"):
            L.append(f"(Figures of this model partly or wholly from the run of "
                     f"{mr['merged_from']}.)")
            L.append("")
        if mr.get("note"):
            L.append(mr["note"])
            L.append("")
        ag = mr.get("check", {}).get("agreement", {})
        if ag:
            L.append("Greedy agreement (common prefix of the first "
                     f"{mr['check']['tokens']} generated tokens): " +
                     "; ".join(f"{k} {v}" for k, v in ag.items()) + ".")
            L.append("")
        lg = mr.get("check", {}).get("logits_llamacpp_f32_vs_transformers")
        if lg:
            L.append(f"GGUF conversion check, logits after the prompt, llama.cpp F32 against "
                     f"transformers: top-{lg['k']} ids "
                     f"{'in the same order' if lg['same_top_k'] else 'DIFFER'}, largest "
                     f"difference {lg['max_abs_diff']:.2g} (the top {lg['k']} span "
                     f"{lg['logit_range']:.2g}).")
            L.append("")
        L.append("| weights | threads | side | prefill tok/s | decode tok/s | TTFT | peak RSS | "
                 "Python baseline |")
        L.append("|---|---|---|---|---|---|---|---|")
        ratios: List[str] = []
        for label, row in mr["runs"].items():
            threads = sorted({t for side in SIDES for t in row.get(side, {})} or
                             {str(t) for t in results["threads"]}, key=int)
            for t in threads:
                med: Dict[str, Dict[str, Optional[float]]] = {}
                for side in SIDES:
                    if side not in row:
                        continue
                    samples = row[side].get(t, [])
                    reason = row["missing"].get(side) or row["missing"].get(f"{side} {t}t")
                    if not samples:
                        L.append(f"| {label} | {t} | {side} | {reason or '—'} | | | | |")
                        med[side] = {}
                        continue
                    med[side] = {k: median_of(samples, k) for k in METRICS + ["baseline_rss_bytes"]}
                    base = _fmt(med[side]["baseline_rss_bytes"], "peak_rss_bytes") \
                        if side != "edgetorch" else ""
                    gen = [x["generated_tokens"] for x in samples]
                    if min(gen) != NEW_TOKENS:
                        base += f" (counted {min(gen)} generated)"
                    L.append(f"| {label} | {t} | {side} | "
                             + " | ".join(_fmt(med[side][k], k) for k in METRICS)
                             + f" | {base} |")
                e, c = med.get("edgetorch", {}), med.get("llama.cpp", {})
                if e and c:
                    ratios.append(f"| {label} | {t} | "
                                  + " | ".join(_ratio(e[k], c[k], k.endswith("per_s"))
                                               for k in METRICS) + " |")
        L.append("")
        if ratios:
            L.append("edgetorch / llama.cpp:")
            L.append("")
            L.append("| weights | threads | prefill | decode | TTFT | peak RSS |")
            L.append("|---|---|---|---|---|---|")
            L += ratios
            L.append("")
    return "\n".join(L) + "\n"


def write_docs(md: str) -> Path:
    path = REPO / "docs" / "benchmarks.md"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    block = (f"{DOCS_BEGIN}\n## LLM generation: edgetorch-llm against llama.cpp\n\n"
             "`make bench-llm` (bench/llm/, `BENCH_LLM_LARGE=1` adds the 1B model). "
             "Machine: 2 cores of an AMD EPYC (Zen 4), AVX2 + FMA only (no AVX-512 in "
             "either build).\n\n"
             "Reading these figures: on a machine shared with other work, llama.cpp's "
             "2-thread runs can collapse (decode at a fraction of its 1-thread speed): ggml's "
             "worker threads wait for each other at every graph node by spinning, so while "
             "another process holds one of the two cores the other thread burns its time "
             "slice. edgetorch's 2-thread figures suffer less from the same load. Compare "
             "the 1-thread rows when the load average was high, and rerun quiet.\n\n"
             + md + DOCS_END)
    if DOCS_BEGIN in text and DOCS_END in text:
        a = text.index(DOCS_BEGIN)
        b = text.index(DOCS_END) + len(DOCS_END)
        text = text[:a] + block + text[b:]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text)
    return path


def machine() -> Dict[str, Any]:
    cpu = "?"
    try:
        for ln in Path("/proc/cpuinfo").read_text().splitlines():
            if ln.startswith("model name"):
                cpu = ln.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(),
            "load_start": " ".join(f"{x:.1f}" for x in os.getloadavg())}


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default=None,
                    help="comma-separated: stories110m, llama3_2_1b (default: stories110m; "
                         "with BENCH_LLM_LARGE=1 both)")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--large-f32", action="store_true",
                    help="also the 1B model at fp32/F32 (5 GB files)")
    ap.add_argument("--no-docs", action="store_true", help="do not touch docs/benchmarks.md")
    ap.add_argument("--prepare-only", action="store_true")
    ap.add_argument("--report", type=Path, default=None,
                    help="only re-render a results .json (bench/results/llm-*.md and docs)")
    ap.add_argument("--sides", default=",".join(SIDES),
                    help="runtimes to time (default all: " + ",".join(SIDES) + ")")
    ap.add_argument("--merge", type=Path, default=None,
                    help="an earlier results .json whose figures fill the sides not run now")
    ap.add_argument("--no-upstream", action="store_true",
                    help="skip upstream ExecuTorch's export_llama + TextLLMRunner rows")
    a = ap.parse_args(argv)
    names = (a.models.split(",") if a.models else
             ["stories110m", "llama3_2_1b"] if os.environ.get("BENCH_LLM_LARGE") == "1"
             else ["stories110m"])
    threads = [int(t) for t in a.threads.split(",")]
    if a.report:
        results = json.loads(a.report.read_text())
        md = markdown(results)
        a.report.with_suffix(".md").write_text(
            "# LLM generation: edgetorch-llm against llama.cpp\n\n" + md)
        if not a.no_docs:
            log(f"wrote {write_docs(md)}")
        return 0
    prev = json.loads(a.merge.read_text()) if a.merge else None
    if not exe().exists():
        print(f"{exe()} is missing: build first (make build)", file=sys.stderr)
        return 2
    lcp = llama_cpp_available()
    if lcp is None:
        log("llama_cpp is not importable: llama.cpp rows will say so "
            "(make bench-llm installs llama-cpp-python)")
    results: Dict[str, Any] = {"date": _dt.datetime.now(_dt.timezone.utc).strftime(
        "%Y-%m-%d %H:%M UTC"), "machine": machine(), "threads": threads, "rounds": a.rounds,
        "llama_cpp_python": lcp, "models": {}}
    for name in names:
        spec = SPECS[name]
        large = spec.name == "llama3_2_1b"
        p = prepare(spec, f32_gguf=not large or a.large_f32, fp32_et=not large or a.large_f32,
                    upstream=not a.no_upstream)
        if a.prepare_only:
            continue
        mr: Dict[str, Any] = {"spec": spec.__dict__, "params_m": spec.params() / 1e6,
                              "files": {k: str(v) for k, v in p.files.items()},
                              "missing": p.missing}
        if spec.vocab > 32000:
            mr["note"] = (f"Vocabulary: {spec.vocab} ids, of which the first "
                          f"{min(spec.vocab, 6259)} are a tokenizer trained here and the rest "
                          "unused padding pieces (a synthetic vocabulary of Llama 3.2's size). "
                          "RoPE base 500000 without Llama 3's frequency scaling; tied "
                          "embeddings.")
        mr["check"] = check(p, lcp is not None)
        mr["runs"] = bench_model(p, threads, a.rounds, lcp is not None, mr["check"]["fp32_ok"],
                                 tuple(a.sides.split(",")))
        if prev and name in prev.get("models", {}):
            # sides not run now keep the earlier run's figures
            for label, row in mr["runs"].items():
                old = prev["models"][name].get("runs", {}).get(label, {})
                for side in SIDES:
                    if not any(row.get(side, {}).values()) and any(old.get(side, {}).values()):
                        row[side] = old[side]
                        row["missing"].pop(side, None)
                        mr.setdefault("merged_from", prev.get("date"))
        results["models"][name] = mr
    if a.prepare_only:
        return 0
    for name, mr in (prev or {}).get("models", {}).items():
        if name not in results["models"]:  # a model not run now: the earlier run's
            mr.setdefault("merged_from", prev.get("date"))
            results["models"][name] = mr
    results["machine"]["load_end"] = " ".join(f"{x:.1f}" for x in os.getloadavg())
    md = markdown(results)
    out_dir = REPO / "bench" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = out_dir / f"llm-{_dt.datetime.now(_dt.timezone.utc).strftime('%Y-%m-%d')}"
    stem.with_suffix(".json").write_text(json.dumps(results, indent=1, default=str))
    stem.with_suffix(".md").write_text("# LLM generation: edgetorch-llm against llama.cpp\n\n"
                                       + md)
    log(f"wrote {stem}.json, {stem}.md")
    if not a.no_docs:
        log(f"wrote {write_docs(md)}")
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
