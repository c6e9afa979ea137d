"""What the LLM export tests share (test_llm_export.py, test_llm_8da4w.py,
test_llm_int8.py): the on-disk cache of their exports, keyed by the
exporter's sources; a program's forward on either runtime as a step
function (tokens, start position) -> logits; greedy decoding with one.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any, Callable, Dict, List, Sequence, Tuple

import numpy as np
import torch

from edgetorch import runtime

REPO = Path(__file__).resolve().parents[2]


def exporter_hash(test_file: str, extra_files: Sequence[Path] = ()) -> str:
    """The exporter's Python sources, the test file, `extra_files` and the
    versions of the libraries an export depends on."""
    h = hashlib.sha256()
    for p in sorted((REPO / "python" / "edgetorch").rglob("*.py")):
        h.update(p.read_bytes())
    for p in [Path(test_file), *extra_files]:
        h.update(Path(p).read_bytes())
    versions = [torch.__version__]
    for mod in ("transformers", "torchao"):
        try:
            versions.append(__import__(mod).__version__)
        except ImportError:
            versions.append(f"no {mod}")
    h.update(" ".join(versions).encode())
    return h.hexdigest()[:20]


_MEMO: Dict[Tuple[str, str], bytes] = {}


def cached_export(test_file: str, key: str, make: Callable[[], Any],
                  extra_files: Sequence[Path] = ()) -> bytes:
    """The bytes of the program `make()` exports for case `key`, kept in
    memory and under build/testdata/llm (or $ET_TESTDATA_DIR/llm)."""
    memo = (test_file, key)
    if memo in _MEMO:
        return _MEMO[memo]
    env = os.environ.get("ET_TESTDATA_DIR")
    path = (Path(env) if env else REPO / "build" / "testdata") / "llm" / \
        f"{key}-{exporter_hash(test_file, extra_files)}.pte"
    if path.exists():
        _MEMO[memo] = path.read_bytes()
        return _MEMO[memo]
    prog = make()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    prog.write_to_file(tmp)
    os.replace(tmp, path)
    _MEMO[memo] = bytes(prog.buffer)
    return _MEMO[memo]


class Ours:
    """forward on the edgetorch runtime."""

    def __init__(self, buf: bytes) -> None:
        self.m = runtime.load_program(buf).load_method("forward")

    def __call__(self, toks: torch.Tensor, pos: int) -> np.ndarray:
        return np.asarray(self.m.execute([toks.numpy(), np.array([pos], dtype=np.int64)])[0])


class Upstream:
    """forward on upstream's runtime, with its llama:: kernels (registered
    when its custom ops library loads) and its quantized kernels."""

    def __init__(self, buf: bytes) -> None:
        import executorch.kernels.quantized  # noqa: F401
        from executorch.extension.llm.custom_ops import custom_ops  # noqa: F401
        from executorch.runtime import Runtime

        self.m = Runtime.get().load_program(buf).load_method("forward")

    def __call__(self, toks: torch.Tensor, pos: int) -> np.ndarray:
        return self.m.execute([toks, torch.tensor([pos], dtype=torch.int64)])[0].numpy()


def greedy(run: Callable[[torch.Tensor, int], np.ndarray], prompt: torch.Tensor,
           steps: int) -> Tuple[List[int], List[np.ndarray]]:
    """Prefill the prompt, then decode `steps` tokens greedily; the tokens and
    the logits of every call."""
    logits = [run(prompt, 0)[0]]
    toks: List[int] = []
    pos = prompt.shape[1]
    for _ in range(steps):
        toks.append(int(np.argmax(logits[-1])))
        if len(toks) == steps:
            break
        logits.append(run(torch.tensor([[toks[-1]]]), pos)[0])
        pos += 1
    return toks, logits
