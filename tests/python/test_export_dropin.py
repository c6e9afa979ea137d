"""The exporter as upstream users call it: graphs already captured
(``ep.module()``, PT2E-converted graphs), upstream's ``EdgeCompileConfig``,
and errors that name the input dimension or the operator and say what to do.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

import edgetorch
from edgetorch import EdgeCompileConfig, to_edge
from edgetorch.export import CompileConfigError, ExportError, UnsupportedOperatorError
from edgetorch.runtime import load_program


class Net(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3)
        self.bn = torch.nn.BatchNorm2d(4)
        self.drop = torch.nn.Dropout(0.5)
        self.fc = torch.nn.Linear(4 * 6 * 6, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.drop(torch.relu(self.bn(self.conv(x))))
        return self.fc(y.flatten(1))


def _args() -> tuple:
    return (torch.randn(2, 3, 8, 8, generator=torch.Generator().manual_seed(1)),)


def _run(pte: bytes, args: tuple) -> np.ndarray:
    return load_program(pte).load_method().execute(list(args))[0]


def test_ep_module_graph_exports() -> None:
    torch.manual_seed(0)
    model = Net().eval()
    args = _args()
    gm = torch.export.export(model, args).module()
    with pytest.raises(Exception, match="eval"):  # the graph refuses .eval() itself
        gm.eval()
    pte = edgetorch.export(gm, args).buffer
    np.testing.assert_allclose(_run(pte, args), gm(*args).detach().numpy(), rtol=1e-4,
                               atol=1e-5)


def test_training_module_is_exported_in_inference_mode_and_restored() -> None:
    torch.manual_seed(0)
    model = Net().train()
    args = _args()
    pte = edgetorch.export(model, args).buffer
    assert model.training and all(m.training for m in model.modules())
    with torch.no_grad():
        expected = model.eval()(*args).numpy()
    np.testing.assert_allclose(_run(pte, args), expected, rtol=1e-4, atol=1e-5)


def test_pt2e_converted_graph_exports_or_names_the_missing_operator() -> None:
    from executorch.backends.xnnpack.quantizer.xnnpack_quantizer import (
        XNNPACKQuantizer, get_symmetric_quantization_config)
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

    torch.manual_seed(0)
    args = _args()
    gm = torch.export.export(Net().eval(), args).module()
    quantizer = XNNPACKQuantizer().set_global(get_symmetric_quantization_config())
    prepared = prepare_pt2e(gm, quantizer)
    prepared(*args)
    converted = convert_pt2e(prepared)
    try:
        pte = edgetorch.export(converted, args).buffer
    except UnsupportedOperatorError as e:
        # Only a missing operator may stop it, and the message names it and
        # says what to do; nothing about eval()/train().
        assert e.operators and all("quantize" in op for op in e.operators), e.operators
        assert "docs/adding-a-kernel.md" in str(e) and "eval" not in str(e)
        return
    np.testing.assert_allclose(_run(pte, args), converted(*args).detach().numpy(),
                               rtol=1e-3, atol=1e-3)


# ---- compile_config -------------------------------------------------------------


class Small(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.hardswish(x) * 2


def test_compile_config_fields_that_apply() -> None:
    x = torch.randn(3, 4)
    ep = torch.export.export(Small(), (x,))
    for cfg in (EdgeCompileConfig(), EdgeCompileConfig(_check_ir_validity=False),
                EdgeCompileConfig(_core_aten_ops_exception_list=[torch.ops.aten.hardswish.default])):
        pte = to_edge(ep, compile_config=cfg).to_executorch().buffer
        np.testing.assert_allclose(_run(pte, (x,)), Small()(x).numpy(), rtol=1e-5, atol=1e-6)


def test_preserve_ops_keeps_the_operator() -> None:
    x = torch.randn(3, 4)
    ep = torch.export.export(Small(), (x,))
    plain = to_edge(ep).operators()
    assert not any("hardswish" in k for k in plain)  # decomposed by default
    kept = to_edge(ep, compile_config=EdgeCompileConfig(
        preserve_ops=[torch.ops.aten.hardswish.default])).operators()
    assert any("hardswish" in k for k in kept), kept


def test_upstream_config_object_is_accepted() -> None:
    from executorch.exir import EdgeCompileConfig as UpstreamConfig

    x = torch.randn(3, 4)
    ep = torch.export.export(Small(), (x,))
    pte = to_edge(ep, compile_config=UpstreamConfig(_check_ir_validity=False)).to_executorch()
    np.testing.assert_allclose(_run(pte.buffer, (x,)), Small()(x).numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(CompileConfigError, match=r"_skip_dim_order=True is not supported.*leave"):
        to_edge(ep, compile_config=UpstreamConfig(_skip_dim_order=True))


def test_unsupported_fields_are_refused_by_name() -> None:
    ep = torch.export.export(Small(), (torch.randn(3, 4),))
    with pytest.raises(CompileConfigError, match=r"_skip_dim_order=True is not supported"):
        to_edge(ep, compile_config=EdgeCompileConfig(_skip_dim_order=True))
    with pytest.raises(CompileConfigError, match=r"EdgeCompileConfig._use_magic is not supported"
                                                 r".*remove it"):
        to_edge(ep, compile_config={"_use_magic": True})
    with pytest.raises(CompileConfigError, match="preserve_ops.*not an operator overload"):
        to_edge(ep, compile_config=EdgeCompileConfig(preserve_ops=["aten::hardswish"]))
    with pytest.raises(ExportError, match="constant method 'n' returns a object"):
        to_edge(ep, constant_methods={"n": object()})
    with pytest.raises(ExportError, match="forward is both a method and a constant method"):
        to_edge(ep, constant_methods={"forward": 1})
    with pytest.raises(ExportError, match="generate_etrecord"):
        to_edge(ep, generate_etrecord=True)


def test_constant_methods_run_on_both_runtimes() -> None:
    """to_edge(constant_methods=...) writes methods with no inputs whose
    outputs are the values, as upstream's emitter does: both runtimes
    return them, and upstream's own export of the same values has the same
    execution plans."""
    from executorch.exir import to_edge as upstream_to_edge
    from executorch.runtime import Runtime

    from edgetorch.pte.program import read_pte

    consts = {"get_max_seq_len": 128, "use_kv_cache": True, "get_eos_ids": [7, 9],
              "scale": 0.5, "name": "tiny"}
    ep = torch.export.export(Small(), (torch.randn(3, 4),))
    buf = to_edge(ep, constant_methods=consts).to_executorch().buffer
    prog = load_program(buf)
    ups = Runtime.get().load_program(buf)
    for name, value in consts.items():
        want = value if isinstance(value, list) else [value]
        assert list(prog.load_method(name).execute([])) == want, name
        assert list(ups.load_method(name).execute([])) == want, name
    ref = upstream_to_edge(torch.export.export(Small(), (torch.randn(3, 4),)),
                           constant_methods=consts).to_executorch().buffer
    ours = {p.name: p for p in read_pte(buf).program.execution_plan}
    theirs = {p.name: p for p in read_pte(ref).program.execution_plan}
    for name in consts:
        assert ours[name] == theirs[name], name


# ---- error messages ----------------------------------------------------------------


class Seq(torch.nn.Module):
    def forward(self, tokens: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
        return tokens * scale


def test_unbounded_dynamic_dim_names_the_input_and_dim() -> None:
    from torch.export import Dim

    args = (torch.randn(4, 8), torch.randn(1, 8))
    ep = torch.export.export(Seq(), args, dynamic_shapes={"tokens": {0: Dim("n")},
                                                          "scale": None})
    with pytest.raises(ExportError) as e:
        to_edge(ep).to_executorch()
    msg = str(e.value)
    assert "input 'tokens' dim 0" in msg, msg
    assert "Dim" in msg and "max" in msg  # what to do
    assert not re.match(r"^symbolic size s\d+", msg)


class Unsupported(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.ops.aten._fft_r2c(x, [0], 0, True)  # no kernel, no decomposition


def test_missing_operator_names_the_library_and_what_to_do() -> None:
    with pytest.raises(UnsupportedOperatorError) as e:
        edgetorch.export(Unsupported(), (torch.randn(8),))
    msg = str(e.value)
    assert "_fft_r2c" in msg
    assert "edgetorch kernel library (kernels/portable/ops.def and kernels/quantized/ops.def)" in msg
    assert "docs/adding-a-kernel.md" in msg and "ops_def_add.py" in msg
    assert "test_export_dropin.py" in msg  # the user's line
    from edgetorch.export import oplib

    cfg = edgetorch.ExportConfig(operators=oplib.kernel_library() - {"aten::mul.out"})
    with pytest.raises(UnsupportedOperatorError,
                       match=r"(?s)kernel library given in ExportConfig.operators.*aten::mul.out"):
        edgetorch.export(Small(), (torch.randn(8),), config=cfg)
