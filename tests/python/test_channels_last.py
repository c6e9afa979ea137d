"""Channels-last tensors through our runtime's kernels, against eager.

Models and inputs in torch.channels_last are exported two ways: by
edgetorch's exporter with ``ExportConfig(preserve_channels_last=True)`` and,
for the operators upstream's portable library takes channels-last (and a
MobileNetV2), by upstream ExecuTorch with ``EdgeCompileConfig(
_skip_dim_order=False)``, which keeps dim orders. Each program must really
carry the channels-last dim order (its input is (0, 2, 3, 1)) and call the
operator under test, and its output must match eager on the same inputs
(float32 at rtol 1e-5, atol 1e-5). Shapes are not symmetric (N, C, H and W
all differ) so a kernel that reads NCHW as NHWC cannot pass.

Operators whose kernels take only the contiguous dim order are refused by
our exporter, naming the node and the operator (layouts.CONTIGUOUS_ONLY;
checked here against the kernel sources).

Exports are cached in build/testdata/channels-last/ (ET_TESTDATA_DIR
overrides build/testdata): upstream's under a hash of the case and the
torch/executorch versions, ours under a hash of the case and the exporter's
sources, so an exporter change re-exports.

Run: .venv/bin/python -m pytest -q tests/python/test_channels_last.py
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Tuple

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import edgetorch.runtime as rt
from edgetorch.models import MobileNetV2
from edgetorch.export import ChannelsLastError, ExportConfig, export
from edgetorch.export import layouts

REPO = Path(__file__).resolve().parents[2]
RTOL, ATOL = 1e-5, 1e-5
CL = torch.channels_last


def _versions() -> str:
    import importlib.metadata as md

    return ",".join(f"{p}={md.version(p)}" for p in ("torch", "executorch"))


@functools.lru_cache(maxsize=None)
def _exporter_hash() -> str:
    h = hashlib.sha256()
    for p in sorted((REPO / "python" / "edgetorch").rglob("*.py")):
        h.update(p.read_bytes())
    h.update((REPO / "kernels" / "portable" / "ops.def").read_bytes())
    return h.hexdigest()[:16]


def _cache_dir() -> Path:
    env = os.environ.get("ET_TESTDATA_DIR")
    return (Path(env) if env else REPO / "build" / "testdata") / "channels-last"


def _case_source(name: str) -> str:
    """The text that defines case `name` in this file (so that editing a case
    re-exports it); the whole file for the models defined outside CASES."""
    text = Path(__file__).read_text()
    m = re.search(r'\n    Case\("' + re.escape(name) + r'",.*?(?=\n    Case\(|\n    # |\n\])', text,
                  re.S)
    return m.group(0) if m else text


def _cached(name: str, key: str, build: Callable[[], bytes]) -> bytes:
    key += _case_source(name.split("-", 1)[1])
    path = _cache_dir() / f"{name}-{hashlib.sha256(key.encode()).hexdigest()[:20]}.pte"
    if path.exists():
        return path.read_bytes()
    buf = build()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "wb") as f:
        f.write(buf)
    os.replace(tmp, path)
    return buf


def _export_ours(name: str, model: nn.Module, inputs: Tuple[torch.Tensor, ...]) -> bytes:
    def build() -> bytes:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return export(model, inputs, config=ExportConfig(preserve_channels_last=True)).buffer
    return _cached(f"ours-{name}", name + _exporter_hash(), build)


def _export_upstream(name: str, model: nn.Module, inputs: Tuple[torch.Tensor, ...],
                     keep: Tuple = ()) -> bytes:
    def build() -> bytes:
        from executorch.exir import EdgeCompileConfig, to_edge

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ep = torch.export.export(model, inputs)
            cfg = EdgeCompileConfig(_skip_dim_order=False, _check_ir_validity=False,
                                    preserve_ops=list(keep))
            return to_edge(ep, compile_config=cfg).to_executorch().buffer
    return _cached(f"upstream-{name}", name + _versions(), build)


def _run(buf: bytes, inputs: Tuple[torch.Tensor, ...]) -> Tuple[List[np.ndarray], object]:
    program = rt.load_program(buf)
    meta = program.metadata("forward")
    outs = program.load_method("forward").execute(list(inputs))
    return [np.asarray(o) for o in outs], meta


def _check(case_id: str, buf: bytes, model: nn.Module, inputs: Tuple[torch.Tensor, ...],
           op: str) -> None:
    with torch.no_grad():
        want = model(*inputs)
    wants = list(want) if isinstance(want, (tuple, list)) else [want]
    got, meta = _run(buf, inputs)
    assert op in meta.operators, f"{case_id}: the program calls {meta.operators}, not {op}"
    cl_in = [i for i, (t, m) in enumerate(zip(inputs, meta.inputs))
             if t.dim() == 4 and not t.is_contiguous()]
    assert cl_in, f"{case_id}: no channels-last input"
    for i in cl_in:
        assert tuple(meta.inputs[i].dim_order) == (0, 2, 3, 1), \
            f"{case_id}: input {i} has dim order {meta.inputs[i].dim_order}"
    assert len(got) == len(wants)
    for g, w in zip(got, wants):
        w = w.detach().contiguous().numpy()
        assert g.shape == w.shape, f"{case_id}: shape {g.shape}, eager {w.shape}"
        if np.issubdtype(w.dtype, np.floating):
            np.testing.assert_allclose(g, w, rtol=RTOL, atol=ATOL, err_msg=case_id)
        else:
            np.testing.assert_array_equal(g, w, err_msg=case_id)


# ---------------------------------------------------------------------------
# One-operator cases


class Fn(nn.Module):
    def __init__(self, fn: Callable) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, *args):
        return self.fn(*args)


def _seeded(make: Callable[[], nn.Module]) -> Callable[[], nn.Module]:
    def build() -> nn.Module:
        torch.manual_seed(1234)
        m = make().eval()
        for mod in m.modules():
            if isinstance(mod, nn.BatchNorm2d):
                mod.running_mean.uniform_(-0.5, 0.5)
                mod.running_var.uniform_(0.5, 1.5)
                mod.weight.data.uniform_(0.5, 1.5)
                mod.bias.data.uniform_(-0.5, 0.5)
        return m.to(memory_format=CL)
    return build


@dataclass(frozen=True)
class Case:
    id: str
    op: str                                   # an operator the program must call
    make: Callable[[], nn.Module]
    shapes: Tuple[Tuple[Tuple[int, ...], bool], ...]  # (shape, channels-last)
    upstream: bool = False                    # also export with upstream
    keep: Tuple[str, ...] = ()                # upstream preserve_ops ("gelu.default")
    up_op: str = ""                           # upstream's operator, when not `op`

    def inputs(self) -> Tuple[torch.Tensor, ...]:
        g = torch.Generator().manual_seed(zlib_crc(self.id))
        out = []
        for shape, cl in self.shapes:
            t = torch.randn(shape, generator=g)
            out.append(t.contiguous(memory_format=CL) if cl else t)
        return tuple(out)


def zlib_crc(s: str) -> int:
    import zlib

    return zlib.crc32(s.encode())


X = ((2, 3, 5, 4), True)            # N, C, H, W all different
Y = ((2, 3, 5, 4), True)
def _f(fn):  # noqa: E302
    return lambda: Fn(fn)


CASES: List[Case] = [
    # elementwise: unary and activations
    Case("relu", "aten::relu.out", _f(torch.relu), (X,), upstream=True),
    Case("sigmoid", "aten::sigmoid.out", _f(torch.sigmoid), (X,)),
    Case("tanh", "aten::tanh.out", _f(torch.tanh), (X,)),
    Case("hardtanh", "aten::hardtanh.out", _f(F.relu6), (X,), upstream=True),
    Case("gelu", "aten::gelu.out", _f(F.gelu), (X,), upstream=True, keep=("gelu.default",)),
    Case("silu", "aten::mul.out", _f(F.silu), (X,)),
    Case("hardswish", "aten::clamp.out", _f(F.hardswish), (X,)),
    Case("leaky_relu", "aten::leaky_relu.out", _f(lambda a: F.leaky_relu(a, 0.1)), (X,)),
    Case("elu", "aten::elu.out", _f(F.elu), (X,)),
    Case("abs", "aten::abs.out", _f(torch.abs), (X,)),
    Case("exp", "aten::exp.out", _f(torch.exp), (X,)),
    Case("clamp", "aten::clamp.out", _f(lambda a: torch.clamp(a, -0.5, 0.7)), (X,),
         upstream=True),
    # binary, with broadcasting against contiguous and channels-last operands
    Case("add", "aten::add.out", _f(lambda a, b: a + b), (X, Y), upstream=True),
    Case("add-bcast-c11", "aten::add.out", _f(lambda a, b: a + b), (X, ((3, 1, 1), False)),
         upstream=True),
    Case("mul-bcast-hw", "aten::mul.out", _f(lambda a, b: a * b), (X, ((5, 4), False))),
    Case("sub-mixed", "aten::sub.out", _f(lambda a, b: a - b), (X, ((2, 3, 5, 4), False)),
         upstream=True),
    Case("div-bcast-n1c11", "aten::div.out", _f(lambda a, b: a / (b.abs() + 1)),
         (X, ((1, 3, 1, 1), False))),
    Case("maximum", "aten::maximum.out", _f(torch.maximum), (X, Y)),
    Case("where", "aten::where.self_out", _f(lambda a, b: torch.where(a > 0, a, b)), (X, Y),
         upstream=True),
    Case("pow", "aten::pow.Tensor_Scalar_out", _f(lambda a: a ** 2), (X,)),
    # reductions, softmax, scans
    Case("mean-hw", "aten::mean.out", _f(lambda a: a.mean((2, 3), keepdim=True)), (X,),
         upstream=True),
    Case("sum-c", "aten::sum.IntList_out", _f(lambda a: a.sum(1)), (X,), upstream=True),
    Case("amax-w", "aten::amax.out", _f(lambda a: a.amax(3)), (X,), upstream=True),
    Case("argmax-c", "aten::argmax.out", _f(lambda a: a.argmax(1)), (X,), upstream=True),
    Case("softmax-c", "aten::_softmax.out", _f(lambda a: torch.softmax(a, 1)), (X,),
         upstream=True),
    Case("log_softmax-w", "aten::_log_softmax.out", _f(lambda a: torch.log_softmax(a, -1)),
         (X,), upstream=True),
    Case("cumsum-h", "aten::cumsum.out", _f(lambda a: torch.cumsum(a, 2)), (X,),
         upstream=True),
    Case("var-c", "aten::var.correction_out", _f(lambda a: a.var(1)), (X,), upstream=True),
    # copies and layout changes
    Case("contiguous", "dim_order_ops::_clone_dim_order.out",
         _f(lambda a: a.contiguous() * 2), (X,), upstream=True),
    Case("to-channels-last", "dim_order_ops::_to_dim_order_copy.out",
         _f(lambda a, b: a.to(memory_format=CL) + b), (((2, 3, 5, 4), False), Y)),
    Case("to-double", "dim_order_ops::_to_dim_order_copy.out",
         _f(lambda a: a.to(torch.float64)), (X,), upstream=True),
    Case("cat-c", "aten::cat.out", _f(lambda a, b: torch.cat([a, b], 1)), (X, Y),
         upstream=True),
    Case("permute", "aten::permute_copy.out", _f(lambda a: a.permute(0, 3, 1, 2) + 1), (X,),
         upstream=True),
    Case("flatten", "dim_order_ops::_clone_dim_order.out", _f(lambda a: a.flatten(1) + 1), (X,)),
    Case("slice", "aten::slice_copy.Tensor_out", _f(lambda a: a[:, 1:, :, 1:3] * 2), (X,)),
    Case("select", "aten::select_copy.int_out", _f(lambda a: a[:, 1] * 2), (X,)),
    Case("flip", "aten::flip.out", _f(lambda a: torch.flip(a, (1, 3))), (X,), upstream=True),
    Case("pad", "aten::constant_pad_nd.out", _f(lambda a: F.pad(a, (1, 2, 0, 1), value=0.5)),
         (X,), upstream=True),
    Case("upsample-nearest", "aten::upsample_nearest2d.vec_out",
         _f(lambda a: F.interpolate(a, scale_factor=2, mode="nearest")), (X,), upstream=True),
    Case("upsample-bilinear", "aten::upsample_bilinear2d.vec_out",
         _f(lambda a: F.interpolate(a, size=(7, 9), mode="bilinear", align_corners=False)),
         (X,), upstream=True),
    Case("pixel_shuffle", "aten::view_copy.out", _f(lambda a: F.pixel_shuffle(a, 2)),
         (((2, 8, 5, 3), True),), upstream=True, keep=("pixel_shuffle.default",),
         up_op="aten::pixel_shuffle.out"),
    Case("roll", "aten::index_select.out", _f(lambda a: torch.roll(a, (1, -2), (1, 3))), (X,)),
    Case("expand", "aten::expand_copy.out", _f(lambda a: a[:, :1].expand(2, 4, 5, 4) + 1),
         (X,)),
    Case("repeat", "aten::repeat.out", _f(lambda a: a.repeat(1, 2, 1, 1)), (X,)),
    Case("tril", "aten::where.self_out", _f(lambda a: torch.tril(a, -1)), (X,)),
    Case("masked_fill", "aten::where.self_out",
         _f(lambda a: a.masked_fill(a > 0.3, 0.5)), (X,)),
    Case("index_select", "aten::index_select.out",
         _f(lambda a: torch.index_select(a, 2, torch.tensor([4, 0, 2]))), (X,),
         upstream=True),
    Case("reflection_pad", "aten::index.Tensor_out",
         _f(lambda a: F.pad(a, (1, 2, 2, 1), mode="reflect")), (X,), upstream=True,
         keep=("reflection_pad2d.default",), up_op="aten::reflection_pad2d.out"),
    Case("replication_pad", "aten::index.Tensor_out",
         _f(lambda a: F.pad(a, (2, 1, 0, 1), mode="replicate")), (X,), upstream=True,
         keep=("replication_pad2d.default",), up_op="aten::replication_pad2d.out"),
    Case("split", "aten::split_with_sizes_copy.out",
         _f(lambda a: tuple(t * 2 for t in torch.split(a, [1, 2], 1))), (X,)),
    Case("unbind", "aten::squeeze_copy.dims_out", _f(lambda a: tuple(torch.unbind(a, 3))), (X,)),
    Case("transpose", "aten::permute_copy.out", _f(lambda a: a.transpose(1, 2) * 2), (X,)),
    Case("fmod", "aten::fmod.Tensor_out", _f(lambda a, b: torch.fmod(a, b.abs() + 0.5)),
         (X, Y)),
    Case("floor_divide", "aten::div.out_mode",
         _f(lambda a, b: torch.floor_divide(a, b.abs() + 0.5)), (X, Y)),
    Case("round", "aten::round.out", _f(lambda a: torch.round(a * 3)), (X,)),
    Case("sign", "aten::sign.out", _f(torch.sign), (X,)),
    Case("atan2", "aten::atan2.out", _f(torch.atan2), (X, Y)),
    Case("glu-c", "aten::sigmoid.out", _f(lambda a: F.glu(torch.cat([a, a * 2], 1), 1)), (X,)),
    Case("amin-c", "aten::amin.out", _f(lambda a: a.amin(1)), (X,)),
    Case("min-dim-h", "aten::min.dim_min", _f(lambda a: torch.min(a, 2)), (X,)),
    Case("any-c", "aten::any.out", _f(lambda a: (a > 1).any(1)), (X,)),
    Case("eq", "aten::eq.Tensor_out", _f(lambda a, b: (a > 0) == (b > 0)), (X, Y)),
    Case("logical_not", "aten::logical_not.out", _f(lambda a: torch.logical_not(a > 0)), (X,)),
    Case("slice_scatter", "aten::slice_scatter.out",
         _f(lambda a, b: torch.slice_scatter(a, b[:, :, 1:3], 2, 1, 3)), (X, Y),
         upstream=True),
    Case("select_scatter", "aten::where.self_out",
         _f(lambda a, b: torch.select_scatter(a, b[:, 1], 1, 2)), (X, Y)),
    Case("scatter_add", "aten::scatter_add.out",
         _f(lambda a, b: torch.scatter_add(a, 1, (b.abs() * 2).long().clamp(max=2), b)),
         (X, Y), upstream=True),
    # convolution, pooling, batch norm
    Case("conv2d", "aten::convolution.out", _seeded(lambda: nn.Conv2d(3, 6, (3, 2), (2, 1),
                                                                    (1, 0), (1, 2))),
         (X,), upstream=True),
    Case("conv2d-1x1", "aten::convolution.out", _seeded(lambda: nn.Conv2d(3, 7, 1)), (X,),
         upstream=True),
    Case("conv2d-depthwise", "aten::convolution.out",
         _seeded(lambda: nn.Conv2d(3, 3, 3, 2, 1, groups=3)), (X,), upstream=True),
    Case("conv_transpose2d", "aten::convolution.out",
         _seeded(lambda: nn.ConvTranspose2d(3, 4, (3, 2), (2, 1), (1, 0), (1, 0))), (X,),
         upstream=True),
    Case("max_pool2d", "aten::max_pool2d_with_indices.out",
         _f(lambda a: F.max_pool2d(a, (3, 2), 2, 1)), (X,), upstream=True),
    Case("avg_pool2d", "aten::avg_pool2d.out",
         _f(lambda a: F.avg_pool2d(a, (3, 2), (2, 1), (1, 0), ceil_mode=True,
                                   count_include_pad=False)), (X,), upstream=True),
    Case("adaptive_avg_pool2d", "aten::_adaptive_avg_pool2d.out",
         _f(lambda a: F.adaptive_avg_pool2d(a, (3, 2))), (X,), upstream=True),
    Case("batch_norm", "aten::_native_batch_norm_legit_no_training.out",
         _seeded(lambda: nn.BatchNorm2d(3)), (X,), upstream=True),
]
IDS = [c.id for c in CASES]
BY_ID = {c.id: c for c in CASES}


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_ours_matches_eager(case: Case) -> None:
    model, inputs = case.make(), case.inputs()
    buf = _export_ours(case.id, model, inputs)
    _check(case.id, buf, model, inputs, case.op)


UPSTREAM = [c for c in CASES if c.upstream]


@pytest.mark.parametrize("case", UPSTREAM, ids=[c.id for c in UPSTREAM])
def test_upstream_matches_eager(case: Case) -> None:
    model, inputs = case.make(), case.inputs()
    keep = tuple(getattr(getattr(torch.ops.aten, k.split(".")[0]), k.split(".")[1])
                 for k in case.keep)
    buf = _export_upstream(case.id, model, inputs, keep)
    _check(case.id, buf, model, inputs, case.up_op or case.op)


def test_cases_are_channels_last_sensitive() -> None:
    """The inputs would give other results if read in the wrong layout: a
    guard that the shapes really tell NCHW from NHWC."""
    for case in CASES:
        for t in case.inputs():
            if t.dim() == 4 and not t.is_contiguous():
                nhwc = t.permute(0, 2, 3, 1).contiguous().reshape(t.shape)
                assert not torch.equal(nhwc, t.contiguous()), case.id
                assert len(set(t.shape)) == 4, case.id


# ---------------------------------------------------------------------------
# MobileNetV2 (the zoo's, x0.35, random weights), channels-last, both exporters


def _mobilenet() -> Tuple[nn.Module, Tuple[torch.Tensor]]:
    model = _seeded(lambda: MobileNetV2(num_classes=10, width_mult=0.35))()
    x = torch.randn(1, 3, 40, 48, generator=torch.Generator().manual_seed(7))
    return model, (x.contiguous(memory_format=CL),)


@pytest.mark.parametrize("exporter", ["ours", "upstream"])
def test_mobilenet_v2_channels_last(exporter: str) -> None:
    model, inputs = _mobilenet()
    if exporter == "ours":
        buf = _export_ours("mobilenet_v2", model, inputs)
    else:
        buf = _export_upstream("mobilenet_v2", model, inputs)
    _check(f"mobilenet_v2-{exporter}", buf, model, inputs, "aten::convolution.out")


# ---------------------------------------------------------------------------
# Refusal at export


class LayerNormAfterConv(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 1)
        self.norm = nn.LayerNorm(4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(self.conv(x))


def test_contiguous_only_kernel_is_refused_at_export() -> None:
    model, (x,) = _seeded(LayerNormAfterConv)(), BY_ID["relu"].inputs()
    with pytest.raises(ChannelsLastError) as e:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            export(model, (x,), config=ExportConfig(preserve_channels_last=True))
    msg = str(e.value)
    assert "aten::native_layer_norm.out" in msg
    assert "node native_layer_norm" in msg
    assert "channels-last" in msg
    assert e.value.operators == ["aten::native_layer_norm.out"]
    assert "test_channels_last.py" in msg  # the user's source line
    # without preserve_channels_last the same model exports and runs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        buf = export(model, (x,), config=ExportConfig(preserve_channels_last=False)).buffer
    (got,), _ = _run(buf, (x,))
    with torch.no_grad():
        np.testing.assert_allclose(got, model(x).numpy(), rtol=RTOL, atol=ATOL)


def test_contiguous_only_list_matches_kernels() -> None:
    """layouts.CONTIGUOUS_ONLY is exactly the operators whose kernels insist
    on the contiguous dim order (et_k_check_contiguous / et_matmul_check)."""
    ops_def = (REPO / "kernels" / "portable" / "ops.def").read_text()
    by_fn: Dict[str, List[str]] = {}
    for name, fn in re.findall(r'ET_OP\("([^"]+)",\s*"[^"]*",\s*(\w+)\)', ops_def):
        by_fn.setdefault(fn, []).append(name)
    want = set()
    for src in (REPO / "kernels" / "portable").glob("op_*.c"):
        text = src.read_text()
        if "et_k_check_contiguous(" not in text and "et_matmul_check(" not in text:
            continue
        for fn in re.findall(r"^et_status (et_op_\w+)\(", text, re.M):
            want.update(by_fn.get(fn, []))
    assert want, "no kernel checks for the contiguous dim order: the scan is broken"
    assert set(layouts.CONTIGUOUS_ONLY) == want
