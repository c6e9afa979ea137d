"""Upstream ExecuTorch's own Llama path on the benchmark's weights: the HF
checkpoint rewritten as a Meta-layout checkpoint (the names and the
interleaved rotary row order of upstream's examples/models/llama), exported
with the wheel's ``executorch.examples.models.llama.export_llama`` (KV cache,
custom SDPA, XNNPACK; fp32 or 8da4w g32) and run with the wheel's
``executorch.extension.llm.runner.TextLLMRunner`` in a fresh process.

    python bench/llm/upstream.py export HF_DIR OUT.pte [--quantize 8da4w] --max-seq-len 128 --max-context-len 512
    python bench/llm/upstream.py run M.pte TOKENIZER PROMPT_FILE --max-new-tokens 128 --threads 2
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))


def meta_checkpoint(hf_dir: Path, out_dir: Path) -> Path:
    """consolidated.pth + params.json in upstream's (Meta) layout."""
    import torch
    from safetensors.torch import load_file

    from bench.llm.gguf_convert import permute_rotary

    cfg = json.loads((hf_dir / "config.json").read_text())
    sd: Dict[str, torch.Tensor] = {}
    for f in sorted(hf_dir.glob("*.safetensors")):
        sd.update(load_file(str(f)))
    nh = cfg["num_attention_heads"]
    nkv = cfg.get("num_key_value_heads") or nh

    def perm(t: torch.Tensor, n: int) -> torch.Tensor:
        return torch.from_numpy(permute_rotary(t.numpy(), n).copy())

    m: Dict[str, torch.Tensor] = {"tok_embeddings.weight": sd["model.embed_tokens.weight"],
                                  "norm.weight": sd["model.norm.weight"],
                                  "output.weight": sd.get("lm_head.weight",
                                                          sd["model.embed_tokens.weight"])}
    for i in range(cfg["num_hidden_layers"]):
        p, q = f"model.layers.{i}.", f"layers.{i}."
        m[q + "attention.wq.weight"] = perm(sd[p + "self_attn.q_proj.weight"], nh)
        m[q + "attention.wk.weight"] = perm(sd[p + "self_attn.k_proj.weight"], nkv)
        m[q + "attention.wv.weight"] = sd[p + "self_attn.v_proj.weight"]
        m[q + "attention.wo.weight"] = sd[p + "self_attn.o_proj.weight"]
        m[q + "feed_forward.w1.weight"] = sd[p + "mlp.gate_proj.weight"]
        m[q + "feed_forward.w2.weight"] = sd[p + "mlp.down_proj.weight"]
        m[q + "feed_forward.w3.weight"] = sd[p + "mlp.up_proj.weight"]
        m[q + "attention_norm.weight"] = sd[p + "input_layernorm.weight"]
        m[q + "ffn_norm.weight"] = sd[p + "post_attention_layernorm.weight"]
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.save(m, out_dir / "consolidated.pth")
    params = {"dim": cfg["hidden_size"], "n_layers": cfg["num_hidden_layers"], "n_heads": nh,
              "n_kv_heads": nkv, "vocab_size": cfg["vocab_size"],
              "hidden_dim": cfg["intermediate_size"], "norm_eps": cfg["rms_norm_eps"],
              "rope_theta": cfg.get("rope_theta", 10000.0), "use_scaled_rope": False}
    (out_dir / "params.json").write_text(json.dumps(params))
    return out_dir


def export(hf_dir: Path, out: Path, quantize: Optional[str], max_seq_len: int,
           max_context_len: int) -> None:
    with tempfile.TemporaryDirectory() as td:
        ck = meta_checkpoint(hf_dir, Path(td))
        cmd = [sys.executable, "-m", "executorch.examples.models.llama.export_llama",
               "--model", "llama2", "-c", str(ck / "consolidated.pth"), "-p",
               str(ck / "params.json"), "-kv", "--use_sdpa_with_kv_cache", "-X", "-d", "fp32",
               "--max_seq_length", str(max_seq_len), "--max_context_length",
               str(max_context_len), "--output_name", str(out.resolve()) + ".tmp.pte"]
        if quantize:
            cmd += ["-qmode", quantize, "-G", "32"]
        r = subprocess.run(cmd, capture_output=True, text=True, cwd=td)
        if r.returncode != 0 or not Path(str(out.resolve()) + ".tmp.pte").exists():
            sys.stderr.write(r.stderr[-4000:])
            raise SystemExit(1)
        os.replace(str(out.resolve()) + ".tmp.pte", out)


def run(pte: Path, tokenizer: Path, prompt: str, max_new_tokens: int, threads: int) -> Dict[str, Any]:
    from executorch.extension.pybindings import portable_lib
    # registers llama::sdpa_with_kv_cache / update_cache with the runtime
    from executorch.extension.llm.custom_ops import custom_ops  # noqa: F401
    from executorch.extension.llm.runner import GenerationConfig, TextLLMRunner

    baseline = 0
    for ln in open("/proc/self/status"):
        if ln.startswith("VmRSS:"):
            baseline = int(ln.split()[1]) * 1024

    portable_lib._unsafe_reset_threadpool(threads)
    r = TextLLMRunner(str(pte), str(tokenizer))
    stats: List[Any] = []
    cfg = GenerationConfig(echo=False, max_new_tokens=max_new_tokens, temperature=0.0,
                           num_bos=1, seq_len=-1)
    r.generate(prompt, cfg, token_callback=lambda s: None, stats_callback=stats.append)
    s = stats[-1]
    prefill_ms = s.prompt_eval_end_ms - s.inference_start_ms
    ttft_ms = s.first_token_ms - s.inference_start_ms
    decode_ms = s.inference_end_ms - s.prompt_eval_end_ms
    n_gen = s.num_generated_tokens
    return {"prompt_tokens": s.num_prompt_tokens, "generated_tokens": n_gen,
            "ttft_ms": float(ttft_ms),
            "prefill_tokens_per_s": s.num_prompt_tokens / (prefill_ms / 1e3) if prefill_ms else 0.0,
            "decode_tokens_per_s": (n_gen - 1) / (decode_ms / 1e3) if decode_ms and n_gen > 1
            else 0.0,
            "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
            "baseline_rss_bytes": baseline}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("export")
    e.add_argument("hf_dir", type=Path)
    e.add_argument("out", type=Path)
    e.add_argument("--quantize", choices=["8da4w"])
    e.add_argument("--max-seq-len", type=int, default=128)
    e.add_argument("--max-context-len", type=int, default=512)
    r = sub.add_parser("run")
    r.add_argument("pte", type=Path)
    r.add_argument("tokenizer", type=Path)
    r.add_argument("prompt_file", type=Path)
    r.add_argument("--max-new-tokens", type=int, default=128)
    r.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    if a.cmd == "export":
        export(a.hf_dir, a.out, a.quantize, a.max_seq_len, a.max_context_len)
        return 0
    out = run(a.pte, a.tokenizer, a.prompt_file.read_text(), a.max_new_tokens, a.threads)
    sys.stdout.write(json.dumps(out) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
