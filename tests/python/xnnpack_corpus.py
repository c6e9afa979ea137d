"""Programs lowered by upstream's XnnpackPartitioner, for the CPU backend tests.

Each model is exported with upstream's own flow,
``to_edge_transform_and_lower(ep, partitioner=[XnnpackPartitioner()])``, then
``to_executorch()``, and saved with deterministic inputs and PyTorch eager's
outputs (the numerical oracle). Building takes a minute, so the directory is
cached under ``build/testdata/xnnpack-<hash>/`` where the hash covers this
file and the versions of torch and executorch.

Layout::

    manifest.json                  {name: {"calls": n, "dynamic": bool}}
    <name>/model.pte
    <name>/call<C>.npz             in_<K> and out_<K> arrays
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List, Tuple

import numpy as np



def _models() -> Dict[str, Tuple[Any, List[tuple], Any]]:  # noqa: C901
    """name -> (module, list of input tuples (first one traces), dynamic_shapes)."""
    import torch
    from torch import nn
    import torch.nn.functional as F

    torch.manual_seed(0)

    class MLP(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.l1 = nn.Linear(37, 64)
            self.l2 = nn.Linear(64, 33)
            self.l3 = nn.Linear(33, 10, bias=False)

        def forward(self, x):
            return self.l3(F.relu(self.l2(torch.sigmoid(self.l1(x)))))

    class CNN(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.c1 = nn.Conv2d(3, 16, 3, stride=1, padding=1)
            self.bn = nn.BatchNorm2d(16)
            self.dw = nn.Conv2d(16, 16, 3, stride=2, padding=1, groups=16)
            self.dw2 = nn.Conv2d(16, 32, 5, padding=2, groups=16)  # multiplier 2
            self.g = nn.Conv2d(32, 24, 3, padding=1, groups=4)
            self.pw = nn.Conv2d(24, 20, 1)
            self.dil = nn.Conv2d(20, 20, 3, padding=2, dilation=2)
            self.up = nn.ConvTranspose2d(20, 12, 4, stride=2, padding=1)
            self.up_g = nn.ConvTranspose2d(12, 8, 3, stride=2, padding=1,
                                           output_padding=1, groups=2)
            self.fc = nn.Linear(8, 5)
            self.bn.eval()
            with torch.no_grad():
                self.bn.running_mean.uniform_(-0.5, 0.5)
                self.bn.running_var.uniform_(0.5, 1.5)

        def forward(self, x):
            x = F.relu6(self.bn(self.c1(x)))
            x = F.hardswish(self.dw(x))
            x = F.relu(self.dw2(x))
            x = F.max_pool2d(self.g(x), 2, stride=1, padding=1)
            x = F.avg_pool2d(self.pw(x), 3, stride=1)
            x = torch.clamp(self.dil(x), -0.5, 2.0)
            x = F.leaky_relu(self.up(x), 0.1)
            x = self.up_g(x)
            x = x.mean(dim=(2, 3), keepdim=True)
            return self.fc(torch.flatten(x, 1))

    class Block(nn.Module):
        """A pre-norm transformer block written out (MHA, GELU MLP)."""

        def __init__(self, d=48, heads=4) -> None:
            super().__init__()
            self.h = heads
            self.d = d
            self.ln1 = nn.LayerNorm(d)
            self.qkv = nn.Linear(d, 3 * d)
            self.proj = nn.Linear(d, d)
            self.ln2 = nn.LayerNorm(d)
            self.fc1 = nn.Linear(d, 4 * d)
            self.fc2 = nn.Linear(4 * d, d)

        def forward(self, x):
            B, T, D = x.shape
            q, k, v = self.qkv(self.ln1(x)).split(D, dim=-1)
            q = q.reshape(B, T, self.h, D // self.h).permute(0, 2, 1, 3)
            k = k.reshape(B, T, self.h, D // self.h).permute(0, 2, 3, 1)
            v = v.reshape(B, T, self.h, D // self.h).permute(0, 2, 1, 3)
            att = torch.softmax((q @ k) * (1.0 / (D // self.h) ** 0.5), dim=-1)
            y = (att @ v).permute(0, 2, 1, 3).reshape(B, T, D)
            x = x + self.proj(y)
            return x + self.fc2(F.gelu(self.fc1(self.ln2(x))))

    class LSTMModel(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lstm = nn.LSTM(12, 20, num_layers=1, batch_first=True)
            self.head = nn.Linear(20, 3)

        def forward(self, x):
            y, _ = self.lstm(x)
            return self.head(y)

    class Several(nn.Module):
        """Portable operators (cumsum, argmax-free sort) between delegates."""

        def __init__(self) -> None:
            super().__init__()
            self.a = nn.Linear(16, 16)
            self.b = nn.Linear(16, 16)

        def forward(self, x):
            y = torch.tanh(self.a(x))
            y = torch.cumsum(y, dim=-1)
            z = self.b(y) * 2.0
            z = torch.flip(z, dims=[-1])
            return torch.exp(z - 1.0) + y

    class Elementwise(nn.Module):
        def forward(self, x, y):
            a = torch.sqrt(torch.abs(x)) + torch.rsqrt(torch.abs(y) + 0.5)
            b = torch.floor(x * 3) - torch.ceil(y * 2) + torch.neg(x)
            c = torch.maximum(x, y) / (torch.minimum(x, y).abs() + 1.0)
            d = torch.log(torch.abs(x) + 1.0) * torch.exp(y * 0.5)
            e = torch.sin(x) + torch.cos(y) + F.elu(x) + x**2
            f = F.hardtanh(x - y) + F.gelu(y) + torch.sigmoid(x)
            return torch.cat([a, b, c, d, e, f], dim=-1)

    class Shapes(nn.Module):
        """PReLU, constant pad, slice, bilinear resize, permute, softmax.

        (A permute of the output of a channels-last node (conv, resize)
        gives wrong numbers on upstream's own XNNPACK runtime too, executorch
        1.5.1: the lowering's layout bookkeeping, not the runtime. So the
        permute here reads the input.)
        """

        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(4, 6, 3, padding=1)
            self.prelu = nn.PReLU(6)

        def forward(self, x):
            y = self.prelu(self.conv(x))
            p = F.pad(y, (1, 2, 0, 1), value=0.25)
            s = y[:, 1:5, 2:7, :] * 2.0
            u = F.interpolate(y, scale_factor=2, mode="bilinear",
                              align_corners=False)
            v = F.interpolate(y, size=(5, 7), mode="bilinear", align_corners=True)
            w = torch.softmax(x.permute(0, 2, 3, 1) * 3.0, dim=-1)
            return p, s, u, w, v.sum(dim=1, keepdim=True) + 1.0

    class Wide(nn.Module):
        """Nodes large enough that the backend splits them over 2 threads:
        im2col and 1x1 convolutions, depthwise, element-wise, pooling,
        deconvolution, a K=2304 linear (so the thread tests compare real
        splits, not serial runs)."""

        def __init__(self) -> None:
            super().__init__()
            self.c1 = nn.Conv2d(16, 48, 3, padding=1)
            self.dw = nn.Conv2d(48, 48, 3, padding=1, groups=48)
            self.pw = nn.Conv2d(48, 64, 1)
            self.up = nn.ConvTranspose2d(64, 16, 2, stride=2)
            self.fc = nn.Linear(2304, 256)

        def forward(self, x):
            y = F.relu(self.c1(x))
            y = F.hardswish(self.dw(y))
            y = self.pw(y)
            y = y + torch.sigmoid(y) * y
            u = self.up(F.max_pool2d(y, 2))
            f = self.fc(x.reshape(16, 2304))
            q = f.reshape(16, 4, 64).transpose(0, 1)
            att = torch.softmax(q @ q.transpose(1, 2) * 0.125, dim=-1) @ q
            return torch.tanh(u), F.gelu(f), att

    class Edges(nn.Module):
        """The kernels' edge cases: depthwise windows whose interior run is
        empty, one pixel or the whole row (dilation, stride, padding past
        the kernel, odd sizes), a 3-channel strided stem convolution (im2col
        rows clipped on both sides), and permutations that merge into one
        batched 2-D transpose or do not."""

        def __init__(self) -> None:
            super().__init__()
            self.stem = nn.Conv2d(3, 16, 3, stride=2, padding=1)
            self.dw_dil = nn.Conv2d(16, 16, 3, stride=2, padding=3, dilation=2, groups=16)
            self.dw_valid = nn.Conv2d(16, 16, 5, groups=16)
            self.dw_wide = nn.Conv2d(16, 16, (1, 7), padding=(0, 4), groups=16)
            self.c_pad = nn.Conv2d(16, 8, (3, 5), stride=(1, 3), padding=(2, 4))

        def forward(self, x):
            y = F.relu(self.stem(x))
            a = self.dw_dil(y)
            b = self.dw_valid(y)
            c = self.dw_wide(y)
            d = self.c_pad(y)
            return (a, b, c, d, y.permute(0, 3, 1, 2), y.permute(3, 1, 0, 2),
                    y.permute(1, 0, 2, 3), x.reshape(3, -1).t())

    g = torch.Generator().manual_seed(1)

    def r(*s):
        return (torch.randn(*s, generator=g),)

    batch = torch.export.Dim("batch", min=1, max=8)
    seq = torch.export.Dim("seq", min=2, max=16)
    models = {
        "mlp": (MLP(), [r(5, 37)], None),
        "cnn": (CNN(), [r(2, 3, 20, 20)], None),
        "block": (Block(), [r(2, 9, 48)], None),
        "lstm": (LSTMModel(), [r(2, 6, 12)], None),
        "several": (Several(), [r(3, 16)], None),
        "elementwise": (
            Elementwise(),
            [(torch.randn(4, 7, generator=g), torch.randn(4, 7, generator=g))],
            None,
        ),
        "shapes": (Shapes(), [r(2, 4, 8, 10)], None),
        "dynamic_mlp": (
            MLP(),
            [r(8, 37), r(3, 37), r(1, 37)],
            ({0: batch},),
        ),
        "dynamic_block": (Block(), [r(1, 16, 48), r(1, 5, 48)], ({1: seq},)),
        "wide": (Wide(), [r(1, 16, 48, 48)], None),
        "edges": (Edges(), [r(1, 3, 23, 21)], None),
    }
    for m, _, _ in models.values():
        m.eval()
    return models


def _quantized(out: Path) -> None:
    """A program whose delegate holds quantized values: the backend must
    refuse it by name (quantization is another issue's)."""
    import torch
    from torch import nn
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import (
        XnnpackPartitioner,
    )
    from executorch.backends.xnnpack.quantizer.xnnpack_quantizer import (
        XNNPACKQuantizer,
        get_symmetric_quantization_config,
    )
    from executorch.exir import to_edge_transform_and_lower
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

    torch.manual_seed(0)
    m = nn.Sequential(nn.Linear(16, 8)).eval()
    x = (torch.randn(2, 16),)
    q = XNNPACKQuantizer().set_global(get_symmetric_quantization_config())
    pm = prepare_pt2e(torch.export.export(m, x).module(), q)
    pm(*x)
    cm = convert_pt2e(pm)
    prog = to_edge_transform_and_lower(
        torch.export.export(cm, x), partitioner=[XnnpackPartitioner()]
    ).to_executorch()
    (out / "quantized.pte").write_bytes(prog.buffer)


def build(out: Path) -> None:
    import torch
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import (
        XnnpackPartitioner,
    )
    from executorch.exir import to_edge_transform_and_lower

    manifest = {}
    for name, (model, calls, dyn) in _models().items():
        with torch.no_grad():
            ep = torch.export.export(model, calls[0], dynamic_shapes=dyn)
            prog = to_edge_transform_and_lower(
                ep, partitioner=[XnnpackPartitioner()]
            ).to_executorch()
        d = out / name
        d.mkdir(parents=True)
        (d / "model.pte").write_bytes(prog.buffer)
        for c, inputs in enumerate(calls):
            with torch.no_grad():
                res = model(*inputs)
            res = res if isinstance(res, tuple) else (res,)
            arrays = {f"in_{k}": t.numpy() for k, t in enumerate(inputs)}
            arrays.update({f"out_{k}": t.numpy() for k, t in enumerate(res)})
            np.savez(d / f"call{c}.npz", **arrays)
        manifest[name] = {"calls": len(calls), "dynamic": dyn is not None}
    _quantized(out)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))


def corpus_dir() -> Path:
    from upstream_corpus import cached_build, source_hash

    return cached_build(f"xnnpack-{source_hash(Path(__file__))}", build)


if __name__ == "__main__":
    print(corpus_dir())
