"""The C LLM runner (`edgetorch-llm`, extension/llm/runner.c) end to end.

A byte-level BPE tokenizer is trained with `tokenizers` on text that ships
with Python; a tiny random Llama (grouped-query attention) whose vocabulary is
that tokenizer's is exported with `edgetorch.llm.export` (max_seq_len 8, so
the 53-token prompt is prefilled in seven chunks). The oracle is the same
transformers model in eager, fed the same ids (the tokenizer's encoding of
the prompt after BOS) and decoded greedily without a cache; its ids are
turned into text by the `tokenizers` library. Checks: greedy text and counts
equal the oracle's; a seeded sampled run is reproducible; the prompt that
does not fit the context, a program that is not an LLM, a damaged tokenizer
and a tokenizer larger than the program's vocabulary are refused with named
errors and exit status 1; usage errors exit 2.
"""

from __future__ import annotations

import json
import os
import subprocess
import warnings
from pathlib import Path

import pytest
import torch

transformers = pytest.importorskip("transformers")
tokenizers = pytest.importorskip("tokenizers")

import edgetorch  # noqa: E402
import edgetorch.llm as llm  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("ET_BUILD_DIR", REPO / "build"))
EXE = BUILD / "bin" / "edgetorch-llm"
PROMPT = "The quick brown fox jumps over the lazy dog, and then the dog sleeps."
NEW = 20


def _exe() -> Path:
    if not EXE.is_file():
        pytest.fail(f"{EXE} not found: run `make build` (ET_BUILD_DIR names the build)")
    return EXE


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("llm_runner")
    import textwrap

    # docstrings: text that ships with Python (the prompt is not in it, so
    # it takes more than two prefill chunks)
    corpus = [textwrap.dedent(m.__doc__ or "") for m in (json, os, subprocess, warnings, textwrap)]
    tok = tokenizers.Tokenizer(tokenizers.models.BPE())
    tok.pre_tokenizer = tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = tokenizers.decoders.ByteLevel()
    trainer = tokenizers.trainers.BpeTrainer(
        vocab_size=320, special_tokens=["<s>", "</s>"],
        initial_alphabet=tokenizers.pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(corpus, trainer)
    tok_path = d / "tokenizer.json"
    tok.save(str(tok_path))
    vocab = tok.get_vocab_size()
    bos, eos = tok.token_to_id("<s>"), tok.token_to_id("</s>")

    torch.manual_seed(7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = transformers.LlamaForCausalLM(transformers.LlamaConfig(
            vocab_size=vocab, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
            num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
            tie_word_embeddings=False, bos_token_id=bos, eos_token_id=eos))
    with torch.no_grad():  # wide weights: well separated argmaxes
        g = torch.Generator().manual_seed(3)
        for p in model.parameters():
            if p.dim() >= 2:
                p.copy_(torch.randn(p.shape, generator=g) * 0.2)
    model.eval()
    pte = d / "model.pte"
    llm.export(model, 8, max_context_len=128, bos_id=bos, eos_ids=[eos]).write_to_file(pte)
    return {"dir": d, "tok": tok, "tok_path": tok_path, "pte": pte, "model": model,
            "bos": bos, "eos": eos, "vocab": vocab}


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(_exe()), *args], capture_output=True, text=True, timeout=300)


def _greedy_oracle(files, prompt: str, n: int):
    ids = [files["bos"]] + files["tok"].encode(prompt).ids
    seq = torch.tensor([ids])
    out = []
    with torch.no_grad():
        for _ in range(n):
            nxt = int(files["model"](seq).logits[0, -1].argmax())
            out.append(nxt)
            seq = torch.cat([seq, torch.tensor([[nxt]])], dim=1)
    return ids, out


def test_greedy_generation_equals_eager(files):
    ids, want = _greedy_oracle(files, PROMPT, NEW)
    assert len(ids) > 16, "the prompt must take more than two prefill chunks"
    r = _run("--model", str(files["pte"]), "--tokenizer", str(files["tok_path"]),
             "--prompt", PROMPT, "--max-new-tokens", str(NEW), "--ignore-eos",
             "--threads", "2", "--json")
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert got["prompt_tokens"] == len(ids)
    assert got["generated_tokens"] == NEW
    assert got["text"] == files["tok"].decode(want, skip_special_tokens=True)
    assert got["ttft_ms"] > 0 and got["prefill_tokens_per_s"] > 0
    assert got["decode_tokens_per_s"] > 0 and got["peak_rss_bytes"] > 0
    assert got["stopped_on_eos"] is False


def test_stops_on_eos_and_streams_text(files):
    """Without --json the text streams to stdout and the figures go to
    stderr; generation ends at the first EOS id the oracle produces (or the
    budget)."""
    ids, want = _greedy_oracle(files, "dog", 40)
    cut = want.index(files["eos"]) if files["eos"] in want else len(want)
    r = _run("--model", str(files["pte"]), "--tokenizer", str(files["tok_path"]),
             "--prompt", "dog", "--max-new-tokens", "40")
    assert r.returncode == 0, r.stderr
    assert r.stdout == files["tok"].decode(want[:cut], skip_special_tokens=True) + "\n"
    assert "tokens/s" in r.stderr


def test_sampling_is_reproducible(files):
    args = ["--model", str(files["pte"]), "--tokenizer", str(files["tok_path"]),
            "--prompt", PROMPT, "--max-new-tokens", "15", "--temperature", "0.9",
            "--top-k", "40", "--top-p", "0.95", "--seed", "1234", "--ignore-eos", "--json"]
    a, b = _run(*args), _run(*args)
    assert a.returncode == 0 and b.returncode == 0, (a.stderr, b.stderr)
    assert json.loads(a.stdout)["text"] == json.loads(b.stdout)["text"]
    assert json.loads(a.stdout)["generated_tokens"] == 15


def test_prompt_longer_than_the_context_is_refused(files):
    r = _run("--model", str(files["pte"]), "--tokenizer", str(files["tok_path"]),
             "--prompt", PROMPT * 8)
    assert r.returncode == 1
    assert "InvalidArgument" in r.stderr and "context holds 128" in r.stderr


def test_not_an_llm_program_is_refused(files, tmp_path):
    m = torch.nn.Linear(4, 3).eval()
    p = tmp_path / "linear.pte"
    edgetorch.export(m, (torch.randn(2, 4),)).write_to_file(p)
    r = _run("--model", str(p), "--tokenizer", str(files["tok_path"]), "--prompt", "x")
    assert r.returncode == 1
    assert "not an LLM program" in r.stderr


def test_bad_tokenizers_are_refused(files, tmp_path):
    bad = tmp_path / "tokenizer.json"
    bad.write_text(files["tok_path"].read_text()[:500])
    r = _run("--model", str(files["pte"]), "--tokenizer", str(bad), "--prompt", "x")
    assert r.returncode == 1 and "error:" in r.stderr, r.stderr
    # a tokenizer with more tokens than the program has logits
    big = tokenizers.Tokenizer(tokenizers.models.BPE())
    big.pre_tokenizer = tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False)
    big.train_from_iterator([PROMPT * 50, json.__doc__ or ""], tokenizers.trainers.BpeTrainer(
        vocab_size=files["vocab"] + 200,
        initial_alphabet=tokenizers.pre_tokenizers.ByteLevel.alphabet()))
    if big.get_vocab_size() <= files["vocab"]:
        pytest.fail("the bigger tokenizer did not grow past the program's vocabulary")
    big_path = tmp_path / "big.json"
    big.save(str(big_path))
    r = _run("--model", str(files["pte"]), "--tokenizer", str(big_path), "--prompt", "x")
    assert r.returncode == 1 and "do not belong together" in r.stderr, r.stderr


def test_usage_errors_exit_2(files):
    assert _run("--model", str(files["pte"])).returncode == 2
    r = _run("--model", str(files["pte"]), "--tokenizer", str(files["tok_path"]),
             "--prompt", "x", "--temperature", "-1")
    assert r.returncode == 2 and "--temperature" in r.stderr
    assert _run("--help").returncode == 0


def test_python_generator_equals_the_cli_and_eager(files):
    """edgetorch.llm.Generator runs the same C loop: its ids are the eager
    oracle's, its text the tokenizer's decoding of them, and streamed pieces
    join to that text; returning False from on_text stops early."""
    ids, want = _greedy_oracle(files, PROMPT, NEW)
    g = llm.Generator(files["pte"], files["tok_path"], threads=1)
    assert g.info["max_seq_len"] == 8 and g.info["max_context_len"] == 128
    assert g.info["vocab_size"] == files["vocab"] and g.info["eos_ids"] == [files["eos"]]
    assert g.encode(PROMPT) == ids
    pieces = []
    out = g.generate(PROMPT, max_new_tokens=NEW, stop_at_eos=False, on_text=pieces.append)
    assert out.ids == want
    assert out.text == "".join(pieces) == files["tok"].decode(want, skip_special_tokens=True)
    assert out.prompt_tokens == len(ids) and out.generated_tokens == NEW
    # the cache starts over: the same call gives the same ids
    assert g.generate(PROMPT, max_new_tokens=NEW, stop_at_eos=False).ids == want
    seen = []
    short = g.generate(PROMPT, max_new_tokens=NEW, stop_at_eos=False,
                       on_text=lambda p: seen.append(p) or len(seen) < 3)
    assert len(seen) == 3 and short.generated_tokens < NEW
    with pytest.raises(llm.GeneratorError, match="context holds 128"):
        g.generate(PROMPT * 8)
    with pytest.raises(llm.GeneratorError, match="not an LLM program"):
        m = torch.nn.Linear(4, 3).eval()
        p = files["dir"] / "lin.pte"
        edgetorch.export(m, (torch.randn(2, 4),)).write_to_file(p)
        llm.Generator(p, files["tok_path"])


def test_runner_under_asan_and_ubsan(files, tmp_path):
    """The same generation and a damaged tokenizer through the ASan+UBSan
    build of edgetorch-llm (leaks included)."""
    asan = Path(os.environ.get("ET_ASAN_BUILD_DIR", REPO / "build-asan")) / "bin" / "edgetorch-llm"
    if not asan.is_file():
        pytest.fail(f"{asan} not found: run `make build-asan` (ET_ASAN_BUILD_DIR names it)")
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1", UBSAN_OPTIONS="halt_on_error=1")
    ids, want = _greedy_oracle(files, PROMPT, 6)
    r = subprocess.run([str(asan), "--model", str(files["pte"]), "--tokenizer",
                        str(files["tok_path"]), "--prompt", PROMPT, "--max-new-tokens", "6",
                        "--ignore-eos", "--json"], capture_output=True, text=True, env=env,
                       timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    assert json.loads(r.stdout)["text"] == files["tok"].decode(want, skip_special_tokens=True)
    bad = tmp_path / "t.json"
    bad.write_text(files["tok_path"].read_text()[:777])
    r = subprocess.run([str(asan), "--model", str(files["pte"]), "--tokenizer", str(bad),
                        "--prompt", "x"], capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 1 and "AddressSanitizer" not in r.stderr and "runtime error" not in r.stderr


def test_prompt_file_equals_prompt(files, tmp_path):
    f = tmp_path / "prompt.txt"
    f.write_text(PROMPT)
    base = ["--model", str(files["pte"]), "--tokenizer", str(files["tok_path"]),
            "--max-new-tokens", "5", "--ignore-eos", "--json"]
    a = _run(*base, "--prompt", PROMPT)
    b = _run(*base, "--prompt-file", str(f))
    assert a.returncode == 0 and b.returncode == 0, (a.stderr, b.stderr)
    ja, jb = json.loads(a.stdout), json.loads(b.stdout)
    assert ja["text"] == jb["text"] and ja["prompt_tokens"] == jb["prompt_tokens"]
    r = _run(*base, "--prompt-file", str(tmp_path / "missing.txt"))
    assert r.returncode == 1 and "NotFound" in r.stderr
