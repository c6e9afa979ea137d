"""Quantized programs lowered by upstream's XnnpackPartitioner, for the CPU
backend's quantized path (tests/python/test_xnnpack_quantized.py).

    cnn_static     PT2E static int8 (XNNPACKQuantizer, per-channel weights):
                   conv, depthwise, residual add, max/avg pooling, cat, linear
    ops_static     the same: multiply, pad, slice, hardtanh, permute, cat
    invres_static  the same: MobileNetV2's inverted residual (ReLU6 after
                   each convolution; int8 clamps the runtime folds in)
    block_static   the same on a transformer block (int8 delegate inputs
                   and outputs between partitions)
    linear_static_per_tensor  per-tensor int8 weights
    mlp_dynamic    PT2E dynamic int8 (is_dynamic=True): linears, qd8 x qc8w
    block_dynamic  the same on a transformer block
    mlp_8da4w      torchao quantize_ with Int8DynamicActivationIntxWeightConfig
                   (int4 weights, PerGroup(32)): qd8 x qb4w
    mlp_8da4w_pc   the same with per-channel int4 weights: qd8 x qc4w

Each directory holds model.pte (upstream's to_edge_transform_and_lower with
XnnpackPartitioner, then to_executorch) and call<C>.npz (in_<k>, out_<k> from
eager). Cached under build/testdata/xnnpack-quant-<hash>/ like
xnnpack_corpus.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

import numpy as np


def _models() -> Dict[str, Tuple[Callable[[], Any], Callable[[int], tuple], str]]:
    import torch
    from torch import nn
    import torch.nn.functional as F

    class ConvNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.c1 = nn.Conv2d(3, 16, 3, padding=1)
            self.dw = nn.Conv2d(16, 16, 3, padding=1, groups=16)
            self.pw = nn.Conv2d(16, 16, 1)
            self.c2 = nn.Conv2d(16, 24, 3, stride=2, padding=1)
            self.b = nn.Conv2d(16, 8, 1)
            self.fc = nn.Linear(32, 10)

        def forward(self, x):
            y = F.relu(self.c1(x))
            y = y + self.pw(F.relu(self.dw(y)))
            p = F.max_pool2d(y, 2)
            a = F.avg_pool2d(self.b(y), 2)
            z = F.relu(self.c2(y))
            c = torch.cat([z, a], dim=1)
            g = F.adaptive_avg_pool2d(c, 1).flatten(1)
            return self.fc(g), p

    class MLP(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.l1 = nn.Linear(67, 96)
            self.l2 = nn.Linear(96, 64, bias=False)
            self.l3 = nn.Linear(64, 17)

        def forward(self, x):
            return self.l3(F.relu(self.l2(F.gelu(self.l1(x)))))

    class Block(nn.Module):
        def __init__(self, d: int = 64, heads: int = 4) -> None:
            super().__init__()
            self.h = heads
            self.n1 = nn.LayerNorm(d)
            self.qkv = nn.Linear(d, 3 * d)
            self.proj = nn.Linear(d, d)
            self.n2 = nn.LayerNorm(d)
            self.up = nn.Linear(d, 4 * d)
            self.down = nn.Linear(4 * d, d)

        def forward(self, x):
            b, t, d = x.shape
            q, k, v = self.qkv(self.n1(x)).split(d, dim=-1)
            q = q.reshape(b, t, self.h, d // self.h).transpose(1, 2)
            k = k.reshape(b, t, self.h, d // self.h).transpose(1, 2)
            v = v.reshape(b, t, self.h, d // self.h).transpose(1, 2)
            a = torch.softmax(q @ k.transpose(-1, -2) / (d // self.h) ** 0.5, dim=-1) @ v
            x = x + self.proj(a.transpose(1, 2).reshape(b, t, d))
            return x + self.down(F.gelu(self.up(self.n2(x))))

    class LLMish(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a = nn.Linear(128, 256)
            self.b = nn.Linear(256, 96, bias=False)
            self.c = nn.Linear(96, 64)

        def forward(self, x):
            return self.c(F.silu(self.b(F.relu(self.a(x)))))

    class Ops(nn.Module):
        """Multiply, constant pad, slice, hardtanh (clamp), permute and cat
        between int8 convolutions."""

        def __init__(self, pad: bool = False) -> None:
            super().__init__()
            self.pad = pad
            self.c = nn.Conv2d(4, 8, 3, padding=1)
            self.d = nn.Conv2d(8, 8, 1)

        def forward(self, x):
            y = self.c(x)
            m = y * self.d(y)
            if self.pad:
                m = F.pad(m, (1, 1, 2, 0))
            s = m[:, :, 1:6, 2:7]
            h = F.hardtanh(s, -0.5, 0.5)
            return torch.cat([s, h], dim=1), F.max_pool2d(h, 2, ceil_mode=False).permute(0, 2, 3, 1)

    class InvRes(nn.Module):
        """MobileNetV2's inverted residual: convolutions each followed by an
        in-place ReLU6, which the quantizer gives the convolution's own
        parameters (negative values included) and upstream lowers to int8
        clamps right after them: the runtime folds those into the
        convolution. The last ReLU6 gets parameters of its own (a
        requantizing clamp), and its input is also read by the add, so it
        must run as its own node."""

        def __init__(self) -> None:
            super().__init__()
            self.stem = nn.Conv2d(3, 16, 3, stride=2, padding=1)
            self.exp = nn.Conv2d(16, 40, 1)   # 40: the depthwise's 16-channel
            self.dw = nn.Conv2d(40, 40, 3, padding=1, groups=40)  # blocks and a tail
            self.prj = nn.Conv2d(40, 16, 1)
            self.tail = nn.Conv2d(16, 16, 1)
            self.act = nn.ReLU6(inplace=True)

        def forward(self, x):
            y = self.act(self.stem(x))
            y = y + self.prj(self.act(self.dw(self.act(self.exp(y)))))
            t = self.tail(y)
            return F.relu6(t) + t

    class Linear(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.l = nn.Linear(40, 24)

        def forward(self, x):
            return torch.relu(self.l(x))

    def gen(*shape):
        def f(seed: int):
            g = torch.Generator().manual_seed(seed)
            return (torch.randn(*shape, generator=g),)
        return f

    return {
        "cnn_static": (ConvNet, gen(2, 3, 16, 16), "static"),
        "linear_static_per_tensor": (Linear, gen(3, 40), "static_pt"),
        "ops_static": (Ops, gen(2, 4, 9, 9), "static"),
        "invres_static": (InvRes, gen(1, 3, 18, 18), "static"),
        # Only for HOSTILE: upstream lowers the pad of the dequantized
        # product to a StaticConstantPad from fp32 to qint8, which its own
        # runtime refuses (xnn_status_invalid_parameter).
        "ops_pad_static": (lambda: Ops(pad=True), gen(2, 4, 9, 9), "static"),
        "block_static": (Block, gen(2, 9, 64), "static"),
        "mlp_dynamic": (MLP, gen(5, 67), "dynamic"),
        "block_dynamic": (Block, gen(2, 9, 64), "dynamic"),
        "mlp_8da4w": (LLMish, gen(3, 128), "8da4w"),
        "mlp_8da4w_m1": (LLMish, gen(1, 128), "8da4w"),
        "mlp_8da4w_pc": (LLMish, gen(4, 128), "8da4w_pc"),
        # Dynamic row count (traced at 5, called at 3 and 8): the per-row
        # quantization and the GEMMs at run-time shapes.
        "mlp_8da4w_dynamic_rows": (LLMish, gen(5, 128), "8da4w"),
        "mlp_dynamic_rows": (MLP, gen(5, 67), "dynamic"),
    }


def names() -> List[str]:
    return [n for n in _models() if n not in HOSTILE_ONLY]


HOSTILE_ONLY = {"ops_pad_static"}


def _quantize(factory, inputs, mode: str, shapes=None):
    import torch

    torch.manual_seed(0)
    m = factory().eval()
    ex = inputs(0)
    if mode in ("static", "dynamic", "static_pt"):
        from executorch.backends.xnnpack.quantizer.xnnpack_quantizer import (
            XNNPACKQuantizer,
            get_symmetric_quantization_config,
        )
        from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

        q = XNNPACKQuantizer().set_global(
            get_symmetric_quantization_config(is_per_channel=(mode != "static_pt"),
                                              is_dynamic=(mode == "dynamic")))
        pm = prepare_pt2e(torch.export.export(m, ex, dynamic_shapes=shapes).module(), q)
        for s in range(8):
            pm(*inputs(100 + s))
        return convert_pt2e(pm), ex
    from torchao.quantization import Int8DynamicActivationIntxWeightConfig, quantize_
    from torchao.quantization.granularity import PerAxis, PerGroup

    gran = PerGroup(32) if mode == "8da4w" else PerAxis(0)
    quantize_(m, Int8DynamicActivationIntxWeightConfig(weight_dtype=torch.int4, weight_granularity=gran))
    return m, ex


def _qvals(graph, kind: str):
    """The quantized values of an XNNGraph whose quant_params are `kind`."""
    from executorch.backends.xnnpack.serialization import xnnpack_graph_schema as S

    for v in graph.xvalues:
        u = v.xvalue_union
        if isinstance(u, S.XNNQuantizedTensorValue) and type(u.quant_params).__name__ == kind:
            yield u


def _first(kind: str, **changes):
    def patch(graph) -> None:
        u = next(_qvals(graph, kind))
        for k, v in changes.items():
            setattr(u.quant_params, k, v(getattr(u.quant_params, k)) if callable(v) else v)
    return patch


# Well-formed payloads (written by upstream's own serializer) with one
# quantization parameter made wrong: name -> (model, patch, status, message).
HOSTILE = {
    "zero_point_out_of_range": ("linear_static_per_tensor", _first("PerTensorQuant", zero_point=200),
                                "InvalidProgram", "zero point out of its datatype's range"),
    "scale_negative": ("linear_static_per_tensor", _first("PerTensorQuant", scale=-0.5),
                       "InvalidProgram", "scale is not a positive finite number"),
    "scale_nan": ("linear_static_per_tensor", _first("PerTensorQuant", scale=float("nan")),
                  "InvalidProgram", "scale is not a positive finite number"),
    "num_scales_wrong": ("mlp_dynamic", _first("PerChannelQuant", num_scales=lambda n: n + 1),
                         "InvalidProgram", "scales for channel_dim"),
    "channel_dim_beyond_rank": ("mlp_dynamic", _first("PerChannelQuant", channel_dim=4),
                                "InvalidProgram", "scales for channel_dim"),
    "scale_buffer_beyond_table": ("mlp_dynamic", _first("PerChannelQuant", scale_buffer_idx=4000),
                                  "InvalidProgram", "scale_buffer_idx 4000 beyond the constant table"),
    "group_not_dividing": ("mlp_8da4w", _first("PerChannelGroupQuant", group_size=48),
                           "InvalidProgram", "does not fit the value's dims"),
    "group_size_16": ("mlp_8da4w", _first("PerChannelGroupQuant", group_size=16,
                                          num_scales=lambda n: n * 2),
                      "NotSupported", "blockwise group size 16"),
    "group_scales_short": ("mlp_8da4w", _first("PerChannelGroupQuant", num_scales=lambda n: n - 1),
                           "InvalidProgram", "does not fit the value's dims"),
    "nonbatch_dims_2": ("mlp_dynamic", _first("PerTokenDynamicQuant", num_nonbatch_dims=2),
                        "NotSupported", "dynamic quantization with 2 non-batch dims"),
    # As upstream wrote it (no patch): refused by upstream's runtime too.
    "pad_fp32_to_qint8": ("ops_pad_static", lambda graph: None,
                          "NotSupported", "input and output must share one int8 quantization"),
}


def _build_hostile(out: Path) -> None:
    import torch
    import executorch.backends.xnnpack.xnnpack_preprocess as pp
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from executorch.exir import to_edge_transform_and_lower

    models = _models()
    d = out / "hostile"
    d.mkdir(parents=True)
    orig = pp.serialize_xnnpack_binary
    for name, (base, patch, _, _) in HOSTILE.items():
        factory, inputs, mode = models[base]
        model, ex = _quantize(factory, inputs, mode)

        def patched(graph, *a, _patch=patch, **k):
            _patch(graph)
            return orig(graph, *a, **k)

        pp.serialize_xnnpack_binary = patched
        try:
            with torch.no_grad():
                prog = to_edge_transform_and_lower(
                    torch.export.export(model, ex), partitioner=[XnnpackPartitioner()]).to_executorch()
        finally:
            pp.serialize_xnnpack_binary = orig
        (d / f"{name}.pte").write_bytes(bytes(prog.buffer))


def build(out: Path) -> None:
    import torch
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from executorch.exir import to_edge_transform_and_lower

    manifest: Dict[str, Any] = {}
    for name, (factory, inputs, mode) in _models().items():
        if name in HOSTILE_ONLY:
            continue
        dyn = name.endswith("_dynamic_rows")
        shapes = ({0: torch.export.Dim("rows", min=1, max=8)},) if dyn else None
        model, ex = _quantize(factory, inputs, mode, shapes)
        with torch.no_grad():
            ep = torch.export.export(model, ex, dynamic_shapes=shapes)
            prog = to_edge_transform_and_lower(ep, partitioner=[XnnpackPartitioner()]).to_executorch()
        d = out / name
        d.mkdir(parents=True)
        (d / "model.pte").write_bytes(bytes(prog.buffer))
        calls = [inputs(1), inputs(2)]
        if dyn:
            calls = [(c[0][:3],) for c in calls[:1]] + [(torch.cat([c[0], c[0][:3]]),) for c in calls[1:]]
        for c, args in enumerate(calls):
            with torch.no_grad():
                res = model(*args)
            res = res if isinstance(res, tuple) else (res,)
            arrays = {f"in_{k}": t.numpy() for k, t in enumerate(args)}
            arrays.update({f"out_{k}": t.numpy() for k, t in enumerate(res)})
            np.savez(d / f"call{c}.npz", **arrays)
        manifest[name] = {"calls": len(calls), "mode": mode}
    _build_hostile(out)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))


def corpus_dir() -> Path:
    from upstream_corpus import cached_build, source_hash

    return cached_build(f"xnnpack-quant-{source_hash(Path(__file__))}", build)


if __name__ == "__main__":
    print(corpus_dir())
