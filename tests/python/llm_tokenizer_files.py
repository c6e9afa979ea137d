"""Tokenizer files for the tokenizer tests, trained here (nothing is
downloaded) with the `tokenizers` and `sentencepiece` packages on text that
ships with Python and scikit-learn, plus multilingual strings written below.

Each kind mirrors a real model family's file:

  gpt2         ByteLevel pre-tokenizer (GPT-2 regex), ByteLevel decoder
  gpt2_prefix  the same with add_prefix_space
  llama3       Split(Llama 3 regex) + ByteLevel(use_regex=False), ignore_merges,
               a BOS template, special tokens
  qwen2        NFC normalizer, Split(Qwen2 regex) + ByteLevel
  llama2_json  SentencePiece-style BPE in tokenizer.json: Prepend("▁") +
               Replace(" " -> "▁"), byte_fallback <0xNN>, fuse_unk, decoder
               Replace / ByteFallback / Fuse / Strip (Llama 2, Mistral)
  metaspace    the same model with the Metaspace pre-tokenizer and decoder
  spm_bpe      SentencePiece tokenizer.model, BPE, byte_fallback
  spm_unigram  SentencePiece tokenizer.model, Unigram, byte_fallback
  spm_unigram_nofallback  Unigram without byte fallback (unknowns)
  spm_unigram_nfkc, spm_bpe_nfkc  the trainer's default normalization
               (nmt_nfkc: a precompiled character map in the file)

Files are cached under $ET_BUILD_DIR/testdata/tokenizers/<key>/ (key: this
file and the package versions), so only the first run trains (~20 s).
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import json
import os
import random
import shutil
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

LLAMA3_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)
QWEN2_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)

MULTILINGUAL = [
    "日本語のテキストです。東京は日本の首都です。",
    "中文字符和标点符号，还有一些数字１２３。",
    "한국어 텍스트와 한글 자모 각",
    "Emoji: 😀🎉👍🏽 👨‍👩‍👧‍👦 🇫🇷 ❤️",
    "Café naïve résumé coöperate façade — “quotes” ‘single’ …",
    "Combining: e\u0301 a\u0300 o\u0308\u0304 n\u0303 A\u030a \u1e9b\u0323",
    "Ünïcödé straße ΑΒΓ αβγ Привет, мир! Ελληνικά",
    "مرحبا بالعالم — שלום עולם — 123 ابجد",
    "हिन्दी पाठ और देवनागरी ०१२३",
    "ไทย ภาษาไทย ลาว ພາສາລາວ",
    "Numbers: 1234567 3.14159 10,000 ١٢٣ ⅷ ½ ² ₃",
    "whitespace   runs\t\ttabs\n\nnewlines\r\n crlf \u00a0nbsp \u3000ideographic \u2009thin",
    "I'm sure it's what we'LL do; they'VE said 'd and 'S",
    "code: def f(x):\n    return x ** 2  # comment\n\tindented",
    "URL https://example.com/path?q=1&r=2#frag email a.b@c.de",
    "math ∑∫√∞≠≤≥ ∀x∈ℝ → ℕ",
]


def _stdlib_text() -> list[str]:
    out = []
    for name in ["os", "json", "re", "collections", "argparse", "inspect",
                 "subprocess", "email.message", "http.client", "unittest", "logging",
                 "pathlib", "functools", "itertools", "textwrap", "string", "decimal",
                 "fractions", "statistics", "datetime", "calendar", "csv", "zipfile",
                 "tarfile", "shutil", "tempfile", "threading", "asyncio", "socket"]:
        try:
            m = importlib.import_module(name)
        except ImportError:
            continue
        docs = [inspect.getdoc(m) or ""]
        for _, obj in sorted(vars(m).items()):
            if inspect.isfunction(obj) or inspect.isclass(obj):
                docs.append(inspect.getdoc(obj) or "")
        out += [d for d in docs if d]
    return out


def _sklearn_text() -> list[str]:
    try:
        import sklearn
    except ImportError:
        return []
    d = Path(sklearn.__file__).parent / "datasets" / "descr"
    return [p.read_text(encoding="utf-8") for p in sorted(d.glob("*.rst"))]


def corpus() -> list[str]:
    docs = _stdlib_text() + _sklearn_text()
    return docs + MULTILINGUAL * 30


def corpus_lines() -> list[str]:
    lines = []
    for d in corpus():
        lines += [ln for ln in d.split("\n") if ln.strip()]
    return lines


KINDS = ["gpt2", "gpt2_prefix", "llama3", "qwen2", "llama2_json", "metaspace",
         "spm_bpe", "spm_unigram", "spm_unigram_nofallback", "spm_unigram_nfkc", "spm_bpe_nfkc"]
SPECIALS = {
    "gpt2": ["<|endoftext|>", "<|im_start|>"],
    "gpt2_prefix": ["<|endoftext|>"],
    "llama3": ["<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>",
               "<|start_header_id|>", "<|end_header_id|>"],
    "qwen2": ["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
    "llama2_json": ["<unk>", "<s>", "</s>"],
    "metaspace": ["<unk>", "<s>", "</s>"],
    "spm_bpe": ["<s>", "</s>"],
    "spm_unigram": ["<s>", "</s>"],
    "spm_unigram_nofallback": ["<s>", "</s>"],
    "spm_unigram_nfkc": ["<s>", "</s>"],
    "spm_bpe_nfkc": ["<s>", "</s>"],
}
FILE = {k: ("tokenizer.model" if k.startswith("spm") else "tokenizer.json") for k in KINDS}


def _key() -> str:
    import sentencepiece
    import tokenizers

    h = hashlib.sha256(Path(__file__).read_bytes())
    h.update(tokenizers.__version__.encode() + sentencepiece.__version__.encode())
    return h.hexdigest()[:12]


def cache_dir() -> Path:
    base = Path(os.environ.get("ET_BUILD_DIR", REPO / "build"))
    return base / "testdata" / "tokenizers" / _key()


def _byte_level(kind: str, texts: list[str], path: Path) -> None:
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers
    from tokenizers import processors, trainers

    tok = Tokenizer(models.BPE(ignore_merges=(kind == "llama3")))
    if kind == "gpt2":
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    elif kind == "gpt2_prefix":
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    else:
        pattern = LLAMA3_PATTERN if kind == "llama3" else QWEN2_PATTERN
        tok.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(pattern), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ])
    if kind == "qwen2":
        tok.normalizer = normalizers.NFC()
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=4000, special_tokens=SPECIALS[kind][:1],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator(texts, trainer)
    tok.add_special_tokens(SPECIALS[kind][1:])
    if kind == "llama3":
        tok.post_processor = processors.TemplateProcessing(
            single="<|begin_of_text|> $A", special_tokens=[("<|begin_of_text|>", 0)])
    tok.save(str(path))


def _sp_style_json(kind: str, texts: list[str], path: Path) -> None:
    """Llama 2's layout: <unk> <s> </s>, then the 256 byte tokens, then the
    trained pieces; merges as trained."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

    base = Tokenizer(models.BPE())
    base.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    trainer = trainers.BpeTrainer(vocab_size=3000, show_progress=False)
    base.train_from_iterator(texts, trainer)
    model = json.loads(base.to_str())["model"]
    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
    for b in range(256):
        vocab[f"<0x{b:02X}>"] = len(vocab)
    for tok_str, _ in sorted(model["vocab"].items(), key=lambda kv: kv[1]):
        if tok_str not in vocab:
            vocab[tok_str] = len(vocab)
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in model["merges"]]
    bpe = models.BPE(vocab=vocab, merges=merges, unk_token="<unk>", byte_fallback=True,
                     fuse_unk=True)
    tok = Tokenizer(bpe)
    if kind == "llama2_json":
        tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"),
                                               normalizers.Replace(" ", "▁")])
        tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(),
                                         decoders.Fuse(), decoders.Strip(" ", 1, 0)])
    else:
        tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first",
                                                     split=False)
        tok.decoder = decoders.Sequence([decoders.Metaspace(replacement="▁", prepend_scheme="first",
                                                            split=False),
                                         decoders.ByteFallback(), decoders.Fuse()])
    tok.add_special_tokens(["<unk>", "<s>", "</s>"])
    from tokenizers import processors

    tok.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", 1)])
    tok.save(str(path))


def _spm(kind: str, text_file: Path, path: Path) -> None:
    import sentencepiece as spm

    prefix = path.parent / "spm"
    bpe = kind.startswith("spm_bpe")
    spm.SentencePieceTrainer.train(
        input=str(text_file), model_prefix=str(prefix),
        vocab_size=2000 if bpe else 1500,
        model_type="bpe" if bpe else "unigram",
        byte_fallback=(kind != "spm_unigram_nofallback"),
        normalization_rule_name="nmt_nfkc" if kind.endswith("nfkc") else "identity",
        character_coverage=0.9995, num_threads=1, minloglevel=2,
        user_defined_symbols=["<sep>", "[MASK]"] if kind == "spm_unigram" else [],
        remove_extra_whitespaces=(kind != "spm_bpe"),
    )
    prefix.with_suffix(".model").rename(path)
    prefix.with_suffix(".vocab").unlink()


def build(kind: str) -> Path:
    """The tokenizer file of `kind`, trained on first use. Each process
    trains in its own scratch directory and renames the result into place,
    so parallel test workers never see a half-written file."""
    d = cache_dir() / kind
    path = d / FILE[kind]
    if path.exists():
        return path
    d.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{kind}-", dir=d))
    try:
        tmp = work / FILE[kind]
        texts = corpus()
        if kind.startswith("spm"):
            text_file = work / "corpus.txt"
            text_file.write_text("\n".join(corpus_lines()) + "\n", encoding="utf-8")
            _spm(kind, text_file, tmp)
        elif kind in ("llama2_json", "metaspace"):
            _sp_style_json(kind, texts, tmp)
        else:
            _byte_level(kind, texts, tmp)
        os.replace(tmp, path)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return path


def oracle(kind: str):
    """(encode(str) -> ids, decode(ids) -> str) from the reference package."""
    path = build(kind)
    if kind.startswith("spm"):
        import sentencepiece as spm

        sp = spm.SentencePieceProcessor(model_file=str(path))
        return (lambda s: sp.encode(s)), (lambda ids: sp.decode(ids))
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(path))
    return ((lambda s: tok.encode(s, add_special_tokens=False).ids),
            (lambda ids: tok.decode(ids, skip_special_tokens=False)))


# ---- test strings ----------------------------------------------------------

_BLOCKS = [
    (0x20, 0x7E), (0x00, 0x1F), (0x80, 0xFF), (0x100, 0x24F), (0x300, 0x36F),
    (0x370, 0x3FF), (0x400, 0x4FF), (0x590, 0x5FF), (0x600, 0x6FF), (0x900, 0x97F),
    (0xE00, 0xE7F), (0x1100, 0x11FF), (0x2000, 0x206F), (0x2070, 0x218F), (0x2190, 0x22FF),
    (0x3000, 0x303F), (0x3040, 0x30FF), (0x4E00, 0x4FFF), (0xAC00, 0xAD00), (0xFF00, 0xFFEF),
    (0x1F300, 0x1F6FF), (0x1F900, 0x1F9FF), (0x10000, 0x1007F), (0xE000, 0xE010),
    (0x1D400, 0x1D4FF),
]
_WS = [" ", "  ", "\t", "\n", "\r\n", "\u00a0", "\u3000", "\u2009", "\u0085", "\u000b"]


def random_unicode(rng: random.Random, n: int) -> str:
    out = []
    for _ in range(n):
        r = rng.random()
        if r < 0.15:
            out.append(rng.choice(_WS))
        elif r < 0.2:
            out.append(rng.choice(["'s", "'LL", "'t", "'re", "'ſ", "'"]))
        else:
            lo, hi = rng.choice(_BLOCKS)
            cp = rng.randint(lo, hi)
            if 0xD800 <= cp <= 0xDFFF:
                cp = 0x41
            out.append(chr(cp))
    return "".join(out)


def random_byteish(rng: random.Random, n: int) -> str:
    """Latin-1 range characters, controls included: what arbitrary bytes
    look like once read as Latin-1."""
    return "".join(chr(rng.randrange(256)) for _ in range(n))


def test_strings(kind: str, count: int = 2500, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    lines = corpus_lines()
    out = list(MULTILINGUAL)
    out += ["", " ", "  ", "\n", "a", " a", "a ", "  leading", "trailing  ", "\t\tx\n\n\ny",
            "x" * 300, "😀" * 50, "1" * 40 + " " + "12 345 6789", "''''s", "\r\n\r\n  \n x"]
    specials = [s for s in SPECIALS[kind] if not kind.startswith("spm")]
    for s in specials:
        out += [f"before{s}after", f"a {s} b", f"{s}{s}", f"  {s}\n", s]
    out += rng.sample(lines, min(len(lines), count // 2))
    while len(out) < count:
        r = rng.random()
        if r < 0.4:
            s = random_unicode(rng, rng.randint(1, 40))
        elif r < 0.6:
            s = random_byteish(rng, rng.randint(1, 40))
        else:
            a, b = rng.sample(lines, 2)
            s = a + rng.choice(_WS) + b
        if specials and rng.random() < 0.2:
            k = rng.randint(0, len(s))
            s = s[:k] + rng.choice(specials) + s[k:]
        out.append(s)
    return out
