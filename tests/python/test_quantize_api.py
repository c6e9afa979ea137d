"""edgetorch.quantize: PT2E on torchao with upstream's XNNPACK recipes.

* each config puts the expected quantized ops in the graph and the program;
* the annotated graph equals what upstream's XNNPACKQuantizer makes of the
  same model and calibration (conv net, transformer block, and a model with
  the remaining patterns: conv+bn+relu, cat, mul, adaptive average pool,
  transposed conv, hardtanh): the same quantize/dequantize nodes with the
  same arguments (dtypes, ranges, axes, scales and zero points);
* end to end: our export of every config runs on our runtime and on
  upstream's runtime, which agree with each other and with the quantized
  model in eager (issue 12's bar: quantized_corpus.assert_agree);
* graphs already quantized with upstream's quantizer are taken as they are;
* named errors: unknown config, model not exportable, calibration that does
  not fit, 8da4w without a linear;
* the int8 digits CNN of `make demo` is within 1 percentage point of the
  float one on the C runtime.

Everything is built once per session in memory (the models are tiny);
upstream's runtime runs in a forked child (quantized_corpus.upstream_isolated).
"""

from __future__ import annotations

import collections
import functools
import sys
from pathlib import Path
from typing import Any, Callable, Counter, Dict, List, Tuple

import numpy as np
import pytest
import torch
from torch import nn

import edgetorch
import edgetorch.runtime as rt
import quantized_corpus as qc
import xnnpack_quant_corpus as xq
from edgetorch.quantize import (EdgeQuantizer, NotExportableError, QuantConfig, QuantizeError,
                                UnknownConfigError)
from quantized_corpus import assert_agree, upstream_isolated

REPO = Path(__file__).resolve().parents[2]
CALIBRATION = 4


class Zoo(nn.Module):
    """The patterns the conv net and the block leave out."""

    def __init__(self) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.c2 = nn.Conv2d(3, 8, 1)
        self.dw = nn.Conv2d(16, 16, 3, padding=1, groups=16)
        self.up = nn.ConvTranspose2d(16, 8, 2, stride=2)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 5)

    def forward(self, x):
        a = torch.relu(self.bn(self.c1(x)))
        b = nn.functional.hardtanh(self.c2(x))
        y = torch.cat([a, b], dim=1)
        y = self.dw(y) * y
        y = torch.relu(self.up(y) + 0.5)
        return torch.relu(self.fc(self.pool(y).flatten(1)))


def _zoo_inputs(seed: int):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(1, 3, 6, 6, generator=g),)


def _models() -> Dict[str, Tuple[Callable[[], nn.Module], Callable[[int], Tuple[Any, ...]]]]:
    m = {name: (fac, inp) for name, (fac, inp, _mode, _i8) in qc._models().items()
         if name in ("cnn_static", "block_static")}
    invres = xq._models()["invres_static"][:2]  # MobileNetV2's in-place ReLU6s
    return {"cnn": m["cnn_static"], "block": m["block_static"], "invres": invres,
            "zoo": (Zoo, _zoo_inputs)}


MODELS = _models()


def _model(name: str) -> Tuple[nn.Module, Tuple[Any, ...], List[Tuple[Any, ...]]]:
    fac, inputs = MODELS[name]
    torch.manual_seed(0)
    m = fac().eval()
    if name == "zoo":  # batch norm statistics that are not the identity
        with torch.no_grad():
            m.bn.running_mean.uniform_(-0.5, 0.5)
            m.bn.running_var.uniform_(0.5, 2.0)
    return m, inputs(0), [inputs(100 + s) for s in range(CALIBRATION)]


@functools.lru_cache(maxsize=None)
def ours(name: str, config: str):
    m, ex, calib = _model(name)
    return edgetorch.quantize(m, ex, config, calibration=calib)


@functools.lru_cache(maxsize=None)
def upstream_converted(name: str, dynamic: bool):
    from executorch.backends.xnnpack.quantizer.xnnpack_quantizer import (
        XNNPACKQuantizer, get_symmetric_quantization_config)
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

    m, ex, calib = _model(name)
    q = XNNPACKQuantizer().set_global(
        get_symmetric_quantization_config(is_per_channel=True, is_dynamic=dynamic))
    pm = prepare_pt2e(torch.export.export(m, ex).module(), q)
    for s in calib:
        pm(*s)
    return convert_pt2e(pm)


@functools.lru_cache(maxsize=None)
def exported(name: str, config: str) -> bytes:
    _m, ex, _ = _model(name)
    return bytes(edgetorch.export(ours(name, config), ex).buffer)


def _qd_nodes(gm: torch.fx.GraphModule) -> Counter:
    """quantized_decomposed nodes: (op, what the tensor operand is, the other
    arguments with scalars rounded to 9 significant digits)."""
    out: Counter = collections.Counter()
    for n in gm.graph.nodes:
        if n.op != "call_function" or getattr(n.target, "namespace", "") != "quantized_decomposed":
            continue
        first = n.args[0]
        src = first.op if isinstance(first, torch.fx.Node) else type(first).__name__
        rest = tuple("node" if isinstance(a, torch.fx.Node)
                     else float(f"{a:.9g}") if isinstance(a, float) else a for a in n.args[1:])
        out[(str(n.target), src, rest)] += 1
    return out


def _program_ops(buf: bytes) -> List[str]:
    return list(rt.load_program(buf).metadata("forward").operators)


def _run_ours(buf: bytes, args) -> List[np.ndarray]:
    return [np.asarray(o) for o in
            rt.load_program(buf).load_method("forward").execute([a.numpy() for a in args])]


# ---------------------------------------------------------------------------
# Configs produce the expected quantized ops


EXPECTED = {
    "int8_static": ({"quantized_decomposed::quantize_per_tensor.out",
                     "quantized_decomposed::dequantize_per_tensor.out",
                     "quantized_decomposed::dequantize_per_channel.out"},
                    {"quantized_decomposed::choose_qparams.Tensor_out"}),
    "int8_dynamic": ({"quantized_decomposed::choose_qparams.Tensor_out",
                      "quantized_decomposed::quantize_per_tensor.Tensor_out",
                      "quantized_decomposed::dequantize_per_tensor.Tensor_out",
                      "quantized_decomposed::dequantize_per_channel.out"},
                     {"quantized_decomposed::quantize_per_tensor.out"}),
    "int8_weight_only": ({"quantized_decomposed::dequantize_per_channel.out"},
                         {"quantized_decomposed::quantize_per_tensor.out",
                          "quantized_decomposed::choose_qparams.Tensor_out"}),
    "8da4w:16": ({"quantized_decomposed::choose_qparams_per_token_asymmetric.out",
                  "quantized_decomposed::quantize_per_token.out",
                  "quantized_decomposed::dequantize_per_token.out"},
                 {"quantized_decomposed::quantize_per_tensor.out"}),
}


@pytest.mark.parametrize("config", list(EXPECTED))
def test_config_emits_expected_ops(config):
    want, unwanted = EXPECTED[config]
    ops = set(_program_ops(exported("block", config)))
    assert want <= ops, (config, want - ops)
    assert not (unwanted & ops), (config, unwanted & ops)


def test_static_weights_are_int8_per_channel_constants():
    gm = ours("cnn", "int8_static")
    dq = [n for n in gm.graph.nodes
          if n.target == torch.ops.quantized_decomposed.dequantize_per_channel.default]
    assert len(dq) == 4  # 3 convs and the linear
    for n in dq:
        w = getattr(gm, n.args[0].target)
        assert w.dtype == torch.int8 and int(w.min()) >= -127 and int(w.max()) <= 127
        assert n.args[3] == 0 and (n.args[4], n.args[5]) == (-127, 127)  # axis, symmetric range
        assert int(getattr(gm, n.args[2].target).abs().max()) == 0  # symmetric: zero points 0


def test_8da4w_weights_are_4bit_groups():
    from edgetorch.quantize import Linear8da4w

    m = ours("block", "8da4w:16")
    lins = [x for x in m.modules() if isinstance(x, Linear8da4w)]
    assert len(lins) == 4
    for lin in lins:
        assert lin.group_size == 16 and lin.qdata.dtype == torch.int8
        assert int(lin.qdata.min()) >= -8 and int(lin.qdata.max()) <= 7
        assert lin.scale.shape == (lin.out_features, lin.in_features // 16, 1)


def test_config_objects_and_names():
    q = edgetorch.quantize
    assert q.resolve("int8") == q.int8_static()
    assert q.resolve("8da4w:64") == q.int8_dynamic_int4_weight(64)
    assert q.resolve("dynamic").is_dynamic and not q.resolve("int8").is_dynamic
    assert not q.int8_static(per_channel=False).per_channel
    spec = q.int8_static().to_torchao()
    assert spec.weight.qscheme == torch.per_channel_symmetric and spec.weight.ch_axis == 0
    assert (spec.input_activation.quant_min, spec.input_activation.quant_max) == (-128, 127)
    assert spec.bias is None and spec.output_activation is spec.input_activation
    dyn = q.int8_dynamic().to_torchao()
    assert dyn.input_activation.is_dynamic and dyn.output_activation is None


# ---------------------------------------------------------------------------
# The annotated graph equals upstream's XNNPACKQuantizer's


@pytest.mark.parametrize("dynamic", [False, True], ids=["static", "dynamic"])
@pytest.mark.parametrize("name", list(MODELS))
def test_same_graph_as_upstream_quantizer(name, dynamic):
    theirs = _qd_nodes(upstream_converted(name, dynamic))
    mine = _qd_nodes(ours(name, "int8_dynamic" if dynamic else "int8_static"))
    assert theirs, "upstream's quantizer quantized nothing"
    assert mine == theirs, {"only upstream": theirs - mine, "only ours": mine - theirs}


def test_per_module_settings():
    """set_module_name(..., None) leaves a submodule float; the others quantize."""
    m, ex, calib = _model("block")
    q = EdgeQuantizer("int8_static").set_module_name("down", None)
    gm = edgetorch.quantize(m, ex, quantizer=q, calibration=calib)
    lin = [n for n in gm.graph.nodes if n.target == torch.ops.aten.linear.default]
    quantized = {n.meta["nn_module_stack"][list(n.meta["nn_module_stack"])[-1]][0].split(".")[-1]
                 for n in lin if n.args[1].op == "call_function"}
    assert quantized == {"qkv", "proj", "up"}, quantized


# ---------------------------------------------------------------------------
# End to end: both runtimes, eager


E2E = [("cnn", "int8_static"), ("cnn", "int8_dynamic"), ("zoo", "int8_static"),
       ("block", "int8_static"), ("block", "int8_dynamic"), ("block", "int8_weight_only"),
       ("block", "8da4w:16")]


@pytest.mark.parametrize("name,config", E2E, ids=[f"{n}-{c}" for n, c in E2E])
def test_runs_on_both_runtimes(name, config):
    buf = exported(name, config)
    m, _ex, _ = _model(name)
    qm = ours(name, config)
    args = MODELS[name][1](7)
    with torch.no_grad():
        eager_q = [qm(*args).numpy()]
        eager_f = m(*args).numpy()
    mine = _run_ours(buf, args)
    theirs = upstream_isolated(buf, [a.numpy() for a in args])
    assert_agree(theirs, mine, f"{name} {config}: upstream's runtime vs edgetorch")
    assert_agree(mine, eager_q, f"{name} {config}: edgetorch vs the quantized model in eager")
    # and quantization did not wreck the model: within 10% of the float output's range
    rng = float(np.ptp(eager_f))
    assert float(np.abs(mine[0] - eager_f).max()) <= 0.1 * rng, (name, config)


def test_upstream_quantized_graph_taken_as_is():
    gm = upstream_converted("cnn", False)
    _m, ex, _ = _model("cnn")
    assert edgetorch.quantize(gm, ex, "int8_static") is gm
    assert edgetorch.quantize.is_quantized(gm)
    buf = bytes(edgetorch.export(gm, ex).buffer)
    args = MODELS["cnn"][1](7)
    with torch.no_grad():
        assert_agree(_run_ours(buf, args), [gm(*args).numpy()], "upstream-quantized cnn")


# ---------------------------------------------------------------------------
# XNNPACK: our partitioner's quantized lowering, and upstream's lowering of our graphs

XNN = [("cnn", "int8_static"), ("block", "int8_dynamic"), ("invres", "int8_static")]


def _xnn_quantized_values(buf: bytes) -> Counter:
    """XNNPACK datatypes of the quantized values in every payload of a program."""
    from edgetorch.pte import read_pte, schema as S, xnnpack as X

    f = read_pte(buf)
    out: Counter = collections.Counter()
    for plan in f.program.execution_plan:
        for d in plan.delegates:
            raw = f.segment(d.processed.index) if d.processed.location == S.DataLocation.SEGMENT \
                else bytes(f.program.backend_delegate_data[d.processed.index].data)
            for xv in X.read_payload(raw).graph.xvalues:
                q = xv.xvalue_union
                if isinstance(q, X.XNNQuantizedTensorValue):
                    out[X.XNNDatatype(q.tensor_value.datatype).name] += 1
    return out


@functools.lru_cache(maxsize=None)
def ours_lowered(name: str, config: str) -> bytes:
    _m, ex, _ = _model(name)
    return bytes(edgetorch.export(ours(name, config), ex,
                                  partitioner=[edgetorch.XnnpackPartitioner()]).buffer)


def _xnn_node_kinds(buf: bytes) -> Counter:
    from edgetorch.pte import read_pte, xnnpack as X

    f = read_pte(buf)
    return collections.Counter(type(n.xnode_union).__name__
                               for plan in f.program.execution_plan for d in plan.delegates
                               for n in X.read_payload(f.segment(d.processed.index)).graph.xnodes)


@pytest.mark.parametrize("name,config", XNN, ids=[f"{n}-{c}" for n, c in XNN])
def test_our_partitioner_lowers_quantized_graph(name, config):
    """edgetorch.XnnpackPartitioner folds the quantize/dequantize pairs into
    quantized XNNPACK values of the same kinds upstream's lowering writes for
    the same graph; upstream's runtime (real XNNPACK) runs our file in
    agreement with the quantized model in eager and with upstream's own
    lowering; no quantized kernel is left outside the delegates."""
    buf = ours_lowered(name, config)
    meta = rt.load_program(buf).metadata("forward")
    assert meta.delegates
    assert not [o for o in meta.operators if o.startswith("quantized_decomposed::")], meta.operators
    kinds, upstream_kinds = _xnn_quantized_values(buf), _xnn_quantized_values(upstream_lowered(name, config))
    assert set(kinds) == set(upstream_kinds), (kinds, upstream_kinds)
    if name == "cnn":   # integer from the input's Convert to the output's
        nodes = _xnn_node_kinds(buf)
        assert nodes["XNNConvert"] == 2 and nodes["XNNMaxPooling2d"] == 1, nodes
    if name == "invres":  # the ReLU6s run on int8 (folded or requantizing clamps)
        nodes = _xnn_node_kinds(buf)
        assert nodes["XNNConvert"] == 2 and nodes["XNNConv2d"] == 4, nodes
    args = MODELS[name][1](7)
    with torch.no_grad():
        eager_q = [ours(name, config)(*args).numpy()]
    np_args = [a.numpy() for a in args]
    theirs = upstream_isolated(buf, np_args)
    assert_agree(theirs, eager_q, f"{name} {config}: our XNNPACK lowering on upstream's runtime vs eager")
    assert_agree(theirs, upstream_isolated(upstream_lowered(name, config), np_args),
                 f"{name} {config}: our lowering vs upstream's lowering, both on upstream's runtime")
    mine = _run_ours(buf, args)
    assert_agree(mine, theirs, f"{name} {config}: our lowering on edgetorch vs upstream's runtime")


def test_partitioner_float_fallback_on_8da4w():
    """8da4w's groupwise weights are not lowered (no qbint4 yet): the float
    parts are delegated, the quantized kernels stay portable, both runtimes
    agree with eager."""
    buf = ours_lowered("block", "8da4w:16")
    meta = rt.load_program(buf).metadata("forward")
    assert meta.delegates
    assert "quantized_decomposed::quantize_per_token.out" in meta.operators
    args = MODELS["block"][1](7)
    with torch.no_grad():
        eager_q = [ours("block", "8da4w:16")(*args).numpy()]
    mine = _run_ours(buf, args)
    assert_agree(mine, eager_q, "8da4w XNNPACK-partitioned: edgetorch vs eager")
    assert_agree(upstream_isolated(buf, [a.numpy() for a in args]), mine,
                 "8da4w XNNPACK-partitioned: upstream's runtime vs edgetorch")


@functools.lru_cache(maxsize=None)
def upstream_lowered(name: str, config: str) -> bytes:
    """Upstream's XNNPACK lowering of the graph edgetorch.quantize made."""
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from executorch.exir import to_edge_transform_and_lower

    _m, ex, _ = _model(name)
    ep = torch.export.export(ours(name, config), ex)
    return bytes(to_edge_transform_and_lower(ep, partitioner=[XnnpackPartitioner()])
                 .to_executorch().buffer)


@pytest.mark.parametrize("name,config", XNN, ids=[f"{n}-{c}" for n, c in XNN])
def test_upstream_lowers_our_quantized_graph(name, config):
    """Our quantized graph is what upstream's XNNPACK lowering expects: it
    becomes quantized payloads (qint8 / qcint8 / qcint32 static, qdint8
    dynamic) that upstream's runtime (real XNNPACK) runs in agreement with
    the quantized model in eager; our runtime runs the same file and agrees
    with upstream's."""
    buf = upstream_lowered(name, config)
    kinds = _xnn_quantized_values(buf)
    want = {"qdint8", "qcint8"} if config == "int8_dynamic" else {"qint8", "qcint8"}
    assert want <= set(kinds), kinds
    args = MODELS[name][1](7)
    with torch.no_grad():
        eager_q = [ours(name, config)(*args).numpy()]
    theirs = upstream_isolated(buf, [a.numpy() for a in args])
    assert_agree(theirs, eager_q, f"{name} {config}: upstream lowering on upstream's runtime vs eager")
    mine = _run_ours(buf, args)
    assert_agree(mine, theirs, f"{name} {config}: edgetorch vs upstream's runtime")


# ---------------------------------------------------------------------------
# Errors


def test_unknown_config():
    m, ex, _ = _model("cnn")
    with pytest.raises(UnknownConfigError, match="unknown quantization config 'int3'"):
        edgetorch.quantize(m, ex, "int3")
    with pytest.raises(UnknownConfigError):
        QuantConfig(kind="fp8")
    with pytest.raises(UnknownConfigError, match="only 8da4w takes a group size"):
        edgetorch.quantize(m, ex, "int8:32")
    with pytest.raises(UnknownConfigError):
        edgetorch.quantize(m, ex, 8)  # type: ignore[arg-type]
    with pytest.raises(QuantizeError, match="source transform"):
        EdgeQuantizer("8da4w")


def test_not_exportable():
    class DataDependent(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(4, 4)

        def forward(self, x):
            if x.sum() > 0:  # control flow on data: torch.export refuses
                return self.fc(x)
            return x

    with pytest.raises(NotExportableError, match="torch.export could not capture DataDependent"):
        edgetorch.quantize(DataDependent().eval(), (torch.randn(2, 4),))


def test_calibration_errors():
    m, ex, _ = _model("cnn")
    with pytest.raises(QuantizeError, match="calibration sample 1"):
        edgetorch.quantize(m, ex, calibration=[ex, (torch.randn(5, 3, 14, 14),)])
    with pytest.raises(QuantizeError, match="calibration is empty"):
        edgetorch.quantize(m, ex, calibration=[])
    with pytest.raises(QuantizeError, match="8da4w: no nn.Linear"):
        edgetorch.quantize(nn.Sequential(nn.Linear(10, 4)), (torch.randn(1, 10),), "8da4w:16")


# ---------------------------------------------------------------------------
# The demo's int8 digits CNN


def _trained_digits(demo) -> nn.Module:
    """The demo's trained float DigitsCNN; its weights are cached under
    build/testdata (keyed on the demo's and the model's source) since
    training is the slow part and not what is tested."""
    import hashlib
    import json

    from edgetorch.models import DigitsCNN
    from upstream_corpus import cached_build

    key = hashlib.sha256((REPO / "demo" / "digits_demo.py").read_bytes()
                         + (REPO / "python" / "edgetorch" / "models.py").read_bytes()
                         + torch.__version__.encode()).hexdigest()[:16]

    def build(out: Path) -> None:
        x_tr, _x_te, y_tr, _y_te = demo.load_data()
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # as the demo; faster on a shared machine
        try:
            torch.manual_seed(0)
            m = DigitsCNN()
            demo.train(m, x_tr, y_tr, 30)
        finally:
            torch.set_num_threads(threads)
        torch.save(m.state_dict(), out / "digits_cnn.pt")
        (out / "manifest.json").write_text(json.dumps({"epochs": 30}))

    d = cached_build(f"digits-cnn-{key}", build)
    m = DigitsCNN()
    m.load_state_dict(torch.load(d / "digits_cnn.pt"))
    return m.eval()


def test_demo_int8_digits_accuracy(tmp_path):
    """`make demo`'s int8 model: within 1 percentage point of the float model
    on the C runtime (the whole test split)."""
    sys.path.insert(0, str(REPO / "demo"))
    try:
        import digits_demo as demo
    finally:
        sys.path.pop(0)

    x_tr, x_te, _y_tr, y_te = demo.load_data()
    model = _trained_digits(demo)
    example = (torch.from_numpy(x_te[:1]),)
    f_path, q_path = tmp_path / "digits.pte", tmp_path / "digits_int8.pte"
    edgetorch.export(model, example).write_to_file(f_path)
    qprog = edgetorch.export(demo.quantize_int8(model, x_tr, example), example)
    qprog.write_to_file(q_path)
    assert "quantized_decomposed::quantize_per_tensor.out" in _program_ops(qprog.buffer)
    f_pred, _, _ = demo.evaluate(f_path, x_te)
    q_pred, _, _ = demo.evaluate(q_path, x_te)
    f_acc, q_acc = float((f_pred == y_te).mean()), float((q_pred == y_te).mean())
    assert f_acc > 0.95, f_acc
    assert abs(q_acc - f_acc) <= 0.01, (f_acc, q_acc)
    assert q_path.stat().st_size < 0.5 * f_path.stat().st_size


# ---------------------------------------------------------------------------
# edgetorch inspect shows the quantization parameters


def _inspect(buf: bytes, tmp_path: Path, *extra: str) -> str:
    import subprocess

    p = tmp_path / "q.pte"
    p.write_bytes(buf)
    proc = subprocess.run([sys.executable, "-m", "edgetorch", "inspect", str(p), *extra],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_inspect_shows_qparams(tmp_path):
    import json
    import re

    out = _inspect(exported("cnn", "int8_static"), tmp_path)
    assert "quantization in forward:" in out, out
    w = [ln for ln in out.splitlines() if ln.startswith("  dequantize_per_channel")]
    assert len(w) == 4 and all("int8 [-127, 127] per channel, axis 0" in ln for ln in w), w
    assert all("zero_point all 0" in ln for ln in w), w
    act = [ln for ln in out.splitlines() if ln.strip().startswith("quantize_per_tensor")]
    assert act and all(re.search(r"int8 \[-128, 127\] per tensor; scale [0-9.e-]+ zero_point -?\d+",
                                 ln) for ln in act), act
    # the numbers are the graph's: the input's scale and zero point
    gm = ours("cnn", "int8_static")
    q0 = next(n for n in gm.graph.nodes
              if n.target == torch.ops.quantized_decomposed.quantize_per_tensor.default)
    assert f"scale {q0.args[1]:.6g} zero_point {q0.args[2]}" in out, out

    dyn = _inspect(exported("block", "int8_dynamic"), tmp_path)
    assert "per tensor (dynamic); chosen at run time" in dyn, dyn
    g = _inspect(exported("block", "8da4w:16"), tmp_path)
    assert "per token, asymmetric (dynamic)" in g, g
    assert g.count("group size 16") == 4 and "values -8 .. 7 (int4 range" in g, g

    xnn = _inspect(ours_lowered("cnn", "int8_static"), tmp_path)
    assert re.search(r"XNNPACK constant \d+ +qcint8\[8, 3, 3, 3\]: per channel, axis 0; "
                     r"8 scales [0-9.e-]+ \.\. [0-9.e-]+, zero_point 0", xnn), xnn
    assert re.search(r"XNNPACK value \d+ +qint8\[2, 3, 14, 14\]: per tensor; scale", xnn), xnn
    assert "qcint32[8]" in xnn, xnn
    dxnn = _inspect(ours_lowered("block", "int8_dynamic"), tmp_path)
    assert "qdint8[2, 7, 32]: per token (dynamic)" in dxnn, dxnn

    js = json.loads(_inspect(exported("cnn", "int8_static"), tmp_path, "--json"))
    calls = js["quantization"][0]["calls"]
    assert sum(c["scheme"].startswith("per channel") for c in calls) == 4
