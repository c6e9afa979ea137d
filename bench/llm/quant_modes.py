"""File size, CPU time per token and peak RSS of edgetorch.llm.export's
quantization modes on one benchmark model (bench/llm/models.py; default the
stories110M shape):

    PYTHONPATH=python python bench/llm/quant_modes.py [--model stories110m] [--out DIR]

Each mode is exported by ``edgetorch llm export`` (--max-seq-len 128
--max-context-len 512) in its own process, then measured in a fresh
process on one thread through edgetorch's Python runtime: a 128-token
prefill and 64 greedy decode steps, twice, the faster of the two; rates are
tokens per CPU second (``time.process_time``), so a loaded machine slows
them less than wall-clock rates. Peak RSS: that process's VmHWM (Python and
numpy included; not ru_maxrss, which a child inherits from its parent's
fork), and the export's.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "bench"))

MODES = {
    "fp32": [],
    "int8": ["--quantize", "int8"],
    "int8, float embeddings": ["--quantize", "int8", "-E", "none"],
    "8da4w g32, float embeddings": ["--quantize", "8da4w", "--group-size", "32", "-E", "none"],
    "8da4w g32, 4-bit embeddings": ["--quantize", "8da4w", "--group-size", "32"],
}

MEASURE = r'''
import json, resource, sys, time
import numpy as np
from edgetorch import runtime as rt
m = rt.load_program(sys.argv[1]).load_method("forward")
prompt = np.random.default_rng(0).integers(3, int(sys.argv[2]), size=(1, 128), dtype=np.int64)
best_pre = best_dec = 1e9
for _ in range(2):
    t = time.process_time()
    logits = np.asarray(m.execute([prompt, np.array([0], dtype=np.int64)])[0])
    best_pre = min(best_pre, time.process_time() - t)
    pos, tok = 128, int(np.argmax(logits[0]))
    t = time.process_time()
    for _ in range(64):
        logits = np.asarray(m.execute([np.array([[tok]], dtype=np.int64),
                                       np.array([pos], dtype=np.int64)])[0])
        tok, pos = int(np.argmax(logits[0])), pos + 1
    best_dec = min(best_dec, time.process_time() - t)
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")]
print(json.dumps({"prefill": 128 / best_pre, "decode": 64 / best_dec,
                  "rss": int(hwm[0].split()[1]) * 1024 if hwm else
                  resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
'''


def main() -> int:
    from llm.models import SPECS, build_hf_dir, model_dir

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="stories110m", choices=sorted(SPECS))
    ap.add_argument("--out", type=Path, help="where the .pte files go (default: the "
                                              "model's bench cache)")
    a = ap.parse_args()
    spec = SPECS[a.model]
    d = model_dir(spec)
    hf = build_hf_dir(spec, d / "hf")
    out = a.out or d / "quant_modes"
    out.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    rows = []
    for name, flags in MODES.items():
        pte = out / (name.replace(", ", "_").replace(" ", "_").replace("-", "") + ".pte")
        t0 = time.monotonic()
        r = subprocess.run([sys.executable, "-c",
                            "import sys; from edgetorch.cli import main; rc = main(sys.argv[1:]); "
                            "print('RSS', [l.split()[1] for l in open('/proc/self/status') "
                            "if l.startswith('VmHWM:')][0]); sys.exit(rc)",
                            "llm", "export", "--hf-dir", str(hf), "--max-seq-len", "128",
                            "--max-context-len", str(spec.context), *flags, "-o", str(pte)],
                           capture_output=True, text=True, env=env)
        if r.returncode != 0:
            print(f"{name}: export failed: {r.stderr.strip().splitlines()[-1:]}")
            continue
        export_rss = int(r.stdout.split("RSS")[-1]) * 1024
        export_s = time.monotonic() - t0
        m = subprocess.run([sys.executable, "-c", MEASURE, str(pte), str(spec.vocab)],
                           capture_output=True, text=True, env=env)
        if m.returncode != 0:
            print(f"{name}: run failed: {m.stderr.strip().splitlines()[-1:]}")
            continue
        res = json.loads(m.stdout.strip().splitlines()[-1])
        rows.append((name, pte.stat().st_size, res, export_rss, export_s))
        print(f"{name}: {pte.stat().st_size / 1e6:.1f} MB, prefill {res['prefill']:.0f} "
              f"tok/CPU-s, decode {res['decode']:.1f} tok/CPU-s, peak RSS "
              f"{res['rss'] / 2**20:.0f} MiB (export {export_rss / 2**20:.0f} MiB, "
              f"{export_s:.0f} s)", flush=True)
    print()
    print("| mode | .pte | prefill tok/CPU-s | decode tok/CPU-s | peak RSS (run) "
          "| peak RSS (export) |")
    print("|---|---|---|---|---|---|")
    for name, size, res, ex_rss, _ in rows:
        print(f"| {name} | {size / 1e6:.1f} MB | {res['prefill']:.0f} | {res['decode']:.1f} | "
              f"{res['rss'] / 2**20:.0f} MiB | {ex_rss / 2**20:.0f} MiB |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
