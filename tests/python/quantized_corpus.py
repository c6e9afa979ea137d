"""Quantized programs without delegates, exported by upstream and by us.

Each model is quantized the PT2E way with torchao (``prepare_pt2e``,
calibration, ``convert_pt2e``) and upstream's ``XNNPACKQuantizer``
(executorch.backends.xnnpack.quantizer), static (per-channel symmetric
weights, per-tensor activations) or dynamic (per-channel weights, activations
quantized at run time by choose_qparams), then exported twice without a
partitioner, so the quantized_decomposed operators stay in the program:

    upstream.pte   upstream's to_edge(...).to_executorch()
    ours.pte       edgetorch.export(...) of the same converted module

with two calls of inputs (``call<C>.npz``: in_<k>, and out_<k> from the
converted module in eager). Built once and cached under
build/testdata/quantized-<hash>/ (the hash covers this file and the torch
and executorch versions), as tests/python/xnnpack_corpus.py does.

Also the acceptance bar shared by the quantized tests (assert_agree) and a
way to run upstream's runtime that survives its aborting kernels
(upstream_isolated).
"""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path
from typing import Any, Callable, Dict, List, Sequence, Tuple

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------------------
# Models


def _models() -> Dict[str, Tuple[Callable[[], Any], Callable[[int], Tuple[Any, ...]], str, bool]]:
    """name -> (module factory, inputs(seed), quantization, int8 output)."""
    import torch
    from torch import nn

    class ConvNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.c1 = nn.Conv2d(3, 8, 3, padding=1)
            self.c2 = nn.Conv2d(8, 8, 3, padding=1, groups=2)
            self.c3 = nn.Conv2d(8, 16, 3, stride=2)
            self.pool = nn.MaxPool2d(2)
            self.fc = nn.Linear(16 * 3 * 3, 10)

        def forward(self, x):
            y = torch.relu(self.c1(x))
            y = y + torch.relu(self.c2(y))
            y = self.pool(torch.relu(self.c3(y)))
            return self.fc(y.flatten(1))

    class Block(nn.Module):
        """A pre-norm transformer block: attention and an MLP with residuals."""

        def __init__(self, d: int = 32, heads: int = 4) -> None:
            super().__init__()
            self.h = heads
            self.n1 = nn.LayerNorm(d)
            self.qkv = nn.Linear(d, 3 * d)
            self.proj = nn.Linear(d, d)
            self.n2 = nn.LayerNorm(d)
            self.up = nn.Linear(d, 2 * d)
            self.down = nn.Linear(2 * d, d)

        def forward(self, x):
            b, t, d = x.shape
            q, k, v = self.qkv(self.n1(x)).split(d, dim=-1)
            q = q.reshape(b, t, self.h, d // self.h).transpose(1, 2)
            k = k.reshape(b, t, self.h, d // self.h).transpose(1, 2)
            v = v.reshape(b, t, self.h, d // self.h).transpose(1, 2)
            a = torch.softmax(q @ k.transpose(-1, -2) / (d // self.h) ** 0.5, dim=-1) @ v
            x = x + self.proj(a.transpose(1, 2).reshape(b, t, d))
            return x + self.down(torch.nn.functional.gelu(self.up(self.n2(x))))

    def img(seed: int):
        g = torch.Generator().manual_seed(seed)
        return (torch.randn(2, 3, 14, 14, generator=g),)

    def seq(seed: int):
        g = torch.Generator().manual_seed(seed)
        return (torch.randn(2, 7, 32, generator=g),)

    return {
        "cnn_static": (ConvNet, img, "static", False),
        "cnn_dynamic": (ConvNet, img, "dynamic", False),
        "block_static": (Block, seq, "static", False),
        "block_dynamic": (Block, seq, "dynamic", False),
        "block_static_int8_out": (Block, seq, "static", True),
    }


def names() -> List[str]:
    return list(_models())


def _convert(factory, inputs, mode: str):
    import torch
    from executorch.backends.xnnpack.quantizer.xnnpack_quantizer import (
        XNNPACKQuantizer,
        get_symmetric_quantization_config,
    )
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

    torch.manual_seed(0)
    m = factory().eval()
    ex = inputs(0)
    q = XNNPACKQuantizer().set_global(
        get_symmetric_quantization_config(is_per_channel=True, is_dynamic=(mode == "dynamic")))
    pm = prepare_pt2e(torch.export.export(m, ex).module(), q)
    for s in range(8):  # calibration
        pm(*inputs(100 + s))
    return convert_pt2e(pm), ex


# The int8 output of the *_int8_out programs: quantized per tensor with these.
INT8_OUT_SCALE, INT8_OUT_ZERO_POINT = 0.05, -3


def _int8_wrapper(converted):
    """The converted module with its output quantized to int8, so that the
    program returns int8."""
    import torch
    import torch.ao.quantization.fx._decomposed  # noqa: F401

    class Q(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = converted

        def forward(self, x):
            return torch.ops.quantized_decomposed.quantize_per_tensor(
                self.inner(x), INT8_OUT_SCALE, INT8_OUT_ZERO_POINT, -128, 127, torch.int8)

    return Q()


def build(out: Path) -> None:
    import torch
    import executorch.kernels.quantized  # noqa: F401  (upstream's out variants)
    from executorch.exir import to_edge

    import edgetorch

    manifest: Dict[str, Any] = {}
    for name, (factory, inputs, mode, int8_out) in _models().items():
        model, ex = _convert(factory, inputs, mode)
        if int8_out:
            model = _int8_wrapper(model)
        d = out / name
        d.mkdir(parents=True)
        ep = torch.export.export(model, ex)
        (d / "upstream.pte").write_bytes(bytes(to_edge(ep).to_executorch().buffer))
        (d / "ours.pte").write_bytes(bytes(edgetorch.export(model, ex).buffer))
        calls = [inputs(1), inputs(2)]
        for c, args in enumerate(calls):
            with torch.no_grad():
                res = model(*args)
            res = res if isinstance(res, tuple) else (res,)
            arrays = {f"in_{k}": t.numpy() for k, t in enumerate(args)}
            arrays.update({f"out_{k}": t.numpy() for k, t in enumerate(res)})
            np.savez(d / f"call{c}.npz", **arrays)
        manifest[name] = {"calls": len(calls), "mode": mode, "int8_out": int8_out}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))


def corpus_dir() -> Path:
    from upstream_corpus import cached_build, source_hash

    return cached_build(f"quantized-{source_hash(Path(__file__))}", build)


def load_calls(d: Path) -> List[Tuple[List[np.ndarray], List[np.ndarray]]]:
    """[(inputs, eager outputs)] of a program directory."""
    calls = []
    for f in sorted(d.glob("call*.npz")):
        z = np.load(f)
        ins = [z[k] for k in sorted((k for k in z.files if k.startswith("in_")), key=lambda s: int(s[3:]))]
        outs = [z[k] for k in sorted((k for k in z.files if k.startswith("out_")), key=lambda s: int(s[4:]))]
        calls.append((ins, outs))
    return calls


# ---------------------------------------------------------------------------
# Comparing and running upstream


def assert_agree(got: Sequence[np.ndarray], want: Sequence[np.ndarray], what: str = "") -> None:
    """The acceptance bar for quantized programs: integer outputs within one
    quantization step per element, float outputs within 2% of the output's
    range (of `want`; at least 1e-6)."""
    assert len(got) == len(want), (what, len(got), len(want))
    for k, (g, w) in enumerate(zip(got, want)):
        g, w = np.asarray(g), np.asarray(w)
        assert g.shape == w.shape, (what, k, g.shape, w.shape)
        assert g.dtype == w.dtype, (what, k, g.dtype, w.dtype)
        if g.size == 0:
            continue
        if np.issubdtype(w.dtype, np.integer):
            d = np.abs(g.astype(np.int64) - w.astype(np.int64))
            assert d.max() <= 1, f"{what} output {k}: integer outputs differ by {d.max()} steps"
        else:
            w64, g64 = w.astype(np.float64), g.astype(np.float64)
            rng = max(float(np.ptp(w64)), float(np.abs(w64).max()) * 1e-3, 1e-6)
            d = float(np.abs(g64 - w64).max())
            assert d <= 0.02 * rng, f"{what} output {k}: max difference {d} > 2% of the range {rng}"


def run_upstream(buf: bytes, args: Sequence[Any]) -> List[np.ndarray]:
    """One call on upstream's runtime, with its quantized kernels registered."""
    import torch
    import executorch.kernels.quantized  # noqa: F401  (registers the kernels)
    from executorch.runtime import Runtime

    m = Runtime.get().load_program(buf).load_method("forward")
    outs = m.execute([torch.as_tensor(a) for a in args])
    return [o.detach().numpy().copy() for o in outs]


def upstream_isolated(buf: bytes, args: Sequence[Any]) -> List[np.ndarray]:
    """run_upstream in a forked child: upstream's kernels abort the process
    on arguments they refuse, which must fail one test, not the session.
    Raises RuntimeError with what went wrong."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(r)
        try:
            data = pickle.dumps(("ok", run_upstream(buf, args)))
        except BaseException as e:  # noqa: BLE001
            data = pickle.dumps(("error", f"{type(e).__name__}: {e}"))
        with os.fdopen(w, "wb") as f:
            f.write(data)
        os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        data = f.read()
    _, status = os.waitpid(pid, 0)
    if not data:
        raise RuntimeError(f"upstream's runtime died (wait status {status}) running the program")
    kind, value = pickle.loads(data)
    if kind != "ok":
        raise RuntimeError(f"upstream's runtime refused the program: {value}")
    return value


if __name__ == "__main__":
    print(corpus_dir())
