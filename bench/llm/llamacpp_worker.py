"""One llama.cpp generation in its own process, through llama-cpp-python's
low-level API (ctypes over libllama): load the GGUF, decode the prompt ids
as one batch, then greedy single-token decodes, and print one JSON line.

    python bench/llm/llamacpp_worker.py --model M.gguf --ids 1,2,3 --max-new-tokens 128 --threads 2

The figures are defined as edgetorch-llm's (extension/llm/runner.c): time to
first token = prefill = from the start of the prompt's decode to the first
token sampled; decode tokens/s = (generated - 1) / the time after it;
peak_rss_bytes = getrusage ru_maxrss of this process. ``baseline_rss_bytes``
is the resident size just before the model is loaded (the interpreter,
numpy, libllama), so the runtime's own share is about peak - baseline. EOS is ignored (the budget
always runs out), as with edgetorch-llm --ignore-eos.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import resource
import sys
import time
from typing import List


def _rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _vmrss() -> int:
    """Resident size now (not the peak)."""
    try:
        for ln in open("/proc/self/status"):
            if ln.startswith("VmRSS:"):
                return int(ln.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _argmax(ptr, n: int) -> int:
    import numpy as np

    return int(np.argmax(np.ctypeslib.as_array(ptr, shape=(n,))))


def _top(ptr, n: int, k: int = 20) -> List[List[float]]:
    """[[id, logit], ...] of the k largest logits."""
    import numpy as np

    a = np.ctypeslib.as_array(ptr, shape=(n,)).copy()
    idx = np.argsort(-a)[:k]
    return [[int(i), float(a[i])] for i in idx]


def generate(model_path: str, ids: List[int], max_new_tokens: int, threads: int,
             n_ctx: int) -> dict:
    import llama_cpp as L

    baseline = _vmrss()
    L.llama_backend_init()
    mp = L.llama_model_default_params()
    model = L.llama_model_load_from_file(model_path.encode(), mp)
    if not model:
        raise RuntimeError(f"llama.cpp could not load {model_path}")
    cp = L.llama_context_default_params()
    cp.n_ctx = n_ctx
    cp.n_batch = max(len(ids), 1)
    cp.n_ubatch = max(len(ids), 1)
    cp.n_seq_max = 1
    cp.n_threads = threads
    cp.n_threads_batch = threads
    cp.no_perf = False
    ctx = L.llama_init_from_model(model, cp)
    if not ctx:
        raise RuntimeError("llama.cpp could not create a context")
    n_vocab = L.llama_vocab_n_tokens(L.llama_model_get_vocab(model))
    loaded_rss = _rss()

    prompt = (L.llama_token * len(ids))(*ids)
    one = (L.llama_token * 1)()
    gen: List[int] = []
    t0 = time.perf_counter()
    if L.llama_decode(ctx, L.llama_batch_get_one(prompt, len(ids))) != 0:
        raise RuntimeError("llama_decode failed on the prompt")
    nxt = _argmax(L.llama_get_logits_ith(ctx, -1), n_vocab) if max_new_tokens > 0 else -1
    t1 = time.perf_counter()
    top = _top(L.llama_get_logits_ith(ctx, -1), n_vocab)
    while len(gen) < max_new_tokens:
        gen.append(nxt)
        if len(gen) == max_new_tokens:
            break
        one[0] = nxt
        if L.llama_decode(ctx, L.llama_batch_get_one(one, 1)) != 0:
            raise RuntimeError(f"llama_decode failed at token {len(gen)}")
        nxt = _argmax(L.llama_get_logits_ith(ctx, -1), n_vocab)
    t2 = time.perf_counter()
    perf = L.llama_perf_context(ctx)
    out = {
        "ids": gen,
        "first_logits_top": top,
        "prompt_tokens": len(ids),
        "generated_tokens": len(gen),
        "ttft_ms": (t1 - t0) * 1e3,
        "prefill_tokens_per_s": len(ids) / (t1 - t0) if t1 > t0 else 0.0,
        "decode_tokens_per_s": (len(gen) - 1) / (t2 - t1) if len(gen) > 1 and t2 > t1 else 0.0,
        "peak_rss_bytes": _rss(),
        "baseline_rss_bytes": baseline,
        "loaded_rss_bytes": loaded_rss,
        "perf": {"t_p_eval_ms": perf.t_p_eval_ms, "n_p_eval": perf.n_p_eval,
                 "t_eval_ms": perf.t_eval_ms, "n_eval": perf.n_eval},
        "system_info": L.llama_print_system_info().decode(errors="replace"),
        "llama_cpp_python": L.__version__,
    }
    L.llama_free(ctx)
    L.llama_model_free(model)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--ids", required=True, help="comma-separated prompt token ids")
    ap.add_argument("--max-new-tokens", type=int, default=128)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--n-ctx", type=int, default=512)
    a = ap.parse_args()
    ids = [int(x) for x in a.ids.split(",") if x]
    out = generate(a.model, ids, a.max_new_tokens, a.threads, a.n_ctx)
    sys.stdout.write(json.dumps(out) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
