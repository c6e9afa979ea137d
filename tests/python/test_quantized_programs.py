"""Quantized programs without delegates (tests/python/quantized_corpus.py):
PT2E with upstream's XNNPACKQuantizer, static and dynamic, a conv net and a
transformer block, exported by upstream and by edgetorch.

* upstream's file runs on edgetorch and on upstream's runtime with the same
  inputs: int8 outputs within one quantization step per element,
  dequantized float outputs within 2% of the output's range;
* edgetorch's export of the same converted module runs on upstream's
  runtime with the same agreement, and calls the same quantized kernels
  with the same arguments as upstream's export;
* both files go through the mutation tool under ASan+UBSan, as the
  acceptance corpus does in test_mutation.py (damaged bytes, and extreme
  values of every scalar argument: scales, zero points, quant ranges).
"""

from __future__ import annotations

import collections
from pathlib import Path
from typing import List, Tuple

import numpy as np
import pytest

import edgetorch.runtime as rt
import quantized_corpus as qc
from quantized_corpus import assert_agree, upstream_isolated

NAMES = qc.names()


@pytest.fixture(scope="session")
def qcorpus() -> Path:
    return qc.corpus_dir()


def _ours(buf: bytes, args) -> List[np.ndarray]:
    return [np.asarray(o) for o in rt.load_program(buf).load_method("forward").execute(list(args))]


def _quantized_ops(buf: bytes) -> List[str]:
    return [o for o in rt.load_program(buf).metadata("forward").operators
            if o.startswith("quantized_decomposed::")]


@pytest.mark.parametrize("name", NAMES)
def test_upstream_export_on_both_runtimes(qcorpus, name):
    d = qcorpus / name
    buf = (d / "upstream.pte").read_bytes()
    ops = _quantized_ops(buf)
    assert "quantized_decomposed::quantize_per_tensor.out" in ops or \
        "quantized_decomposed::quantize_per_tensor.Tensor_out" in ops, ops
    assert not rt.load_program(buf).metadata("forward").delegates
    for c, (args, eager) in enumerate(qc.load_calls(d)):
        ours = _ours(buf, args)
        theirs = upstream_isolated(buf, args)
        assert_agree(ours, theirs, f"{name} call {c}: edgetorch vs upstream's runtime")
        assert_agree(ours, eager, f"{name} call {c}: edgetorch vs eager")


@pytest.mark.parametrize("name", NAMES)
def test_our_export_on_upstream_runtime(qcorpus, name):
    d = qcorpus / name
    buf = (d / "ours.pte").read_bytes()
    for c, (args, eager) in enumerate(qc.load_calls(d)):
        ours = _ours(buf, args)
        theirs = upstream_isolated(buf, args)
        assert_agree(theirs, ours, f"{name} call {c}: upstream's runtime vs edgetorch")
        assert_agree(ours, eager, f"{name} call {c}: edgetorch vs eager")


def _quantized_calls(data: bytes) -> List[Tuple[str, Tuple]]:
    """(kernel, argument kinds and scalar values) of every quantized_decomposed
    KernelCall, with tensors described by dtype and sizes."""
    from test_bad_files import _schema, _ser

    S = _schema()
    pte = _ser().deserialize_pte_binary(data)
    plan = pte.program.execution_plan[0]
    names = [o.name + ("." + o.overload if o.overload else "") for o in plan.operators]
    calls = []
    for ins in plan.chains[0].instructions:
        a = ins.instr_args
        if not isinstance(a, S.KernelCall) or not names[a.op_index].startswith("quantized_decomposed::"):
            continue
        desc = []
        for i in a.args:
            v = plan.values[i].val
            if isinstance(v, S.Tensor):
                desc.append(("T", int(v.scalar_type), tuple(v.sizes)))
            elif isinstance(v, S.Int):
                desc.append(("I", v.int_val))
            elif isinstance(v, S.Double):
                desc.append(("D", v.double_val))
            elif isinstance(v, S.TensorList):
                desc.append(("V", len(v.items)))
            else:
                desc.append((type(v).__name__,))
        calls.append((names[a.op_index], tuple(desc)))
    return calls


@pytest.mark.parametrize("name", NAMES)
def test_our_export_calls_what_upstream_calls(qcorpus, name):
    """The same quantized kernels, as often, with the same argument lists
    (kinds, dtypes, sizes and scalar values) as upstream's emitter writes."""
    ours = collections.Counter(_quantized_calls((qcorpus / name / "ours.pte").read_bytes()))
    theirs = collections.Counter(_quantized_calls((qcorpus / name / "upstream.pte").read_bytes()))
    assert theirs, "upstream's program has no quantized kernel call"
    assert ours == theirs, (ours - theirs, theirs - ours)


# ---- robustness: the mutation tool over both files ---------------------------


@pytest.mark.parametrize("which", ["upstream", "ours"])
@pytest.mark.parametrize("name", NAMES)
def test_mutation(qcorpus, name, which):
    """Damaged quantized programs: thousands of variants under ASan+UBSan,
    zero crashes (test_mutation.py's tool and settings)."""
    from test_mutation import COUNT, SEED, SUMMARY, run_mutate

    pte = qcorpus / name / f"{which}.pte"
    proc = run_mutate(["--count", COUNT, "--seed", SEED, pte])
    report = f"exit {proc.returncode}\n--- stdout (tail)\n{proc.stdout[-4000:]}\n--- stderr (tail)\n{proc.stderr[-8000:]}"
    assert proc.returncode == 0, report
    assert "original executed ok" in proc.stdout, report
    m = SUMMARY.search(proc.stdout)
    assert m and int(m.group(2)) == 0 and int(m.group(1)) == COUNT + 1, report


@pytest.mark.parametrize("name", NAMES)
def test_argument_extremes(qcorpus, name, tmp_path):
    """Every Int (zero points, quant ranges, axes, dtypes) and Double (scales,
    eps) of upstream's quantized program set to extreme values, one at a
    time: refused with a message or run, never a sanitizer report."""
    from test_mutation import SUMMARY, _extreme_variants, run_mutate

    files = []
    for label, data in _extreme_variants((qcorpus / name / "upstream.pte").read_bytes()):
        p = tmp_path / f"{label}.pte"
        p.write_bytes(data)
        files.append(p)
    assert len(files) > 20, len(files)
    proc = run_mutate(["--count", 0, "--any-outcome", "--timeout", 60] + files, timeout=1800)
    report = f"exit {proc.returncode}\n--- stdout (tail)\n{proc.stdout[-3000:]}\n--- stderr (tail)\n{proc.stderr[-8000:]}"
    assert proc.returncode == 0, report
    m = SUMMARY.search(proc.stdout)
    assert m and int(m.group(2)) == 0 and int(m.group(1)) == len(files), report


def test_exporter_needs_no_executorch(tmp_path):
    """edgetorch's exporter emits the quantized out variants on its own: in a
    process that never imports executorch (torchao's copy of the
    XNNPACKQuantizer), a PT2E-quantized model exports with the
    quantized_decomposed kernels and runs."""
    import subprocess
    import sys

    code = r'''
import sys, torch
from torch import nn
from torchao.quantization.pt2e.quantize_pt2e import prepare_pt2e, convert_pt2e
from torchao.testing.pt2e._xnnpack_quantizer import XNNPACKQuantizer, get_symmetric_quantization_config
import edgetorch, edgetorch.runtime as rt
torch.manual_seed(0)
m = nn.Sequential(nn.Linear(8, 4), nn.ReLU()).eval()
x = torch.randn(2, 8)
for dyn in (False, True):
    q = XNNPACKQuantizer().set_global(get_symmetric_quantization_config(is_per_channel=True, is_dynamic=dyn))
    p = prepare_pt2e(torch.export.export(m, (x,)).module(), q); p(x); c = convert_pt2e(p)
    buf = edgetorch.export(c, (x,)).buffer
    got = rt.load_program(buf).load_method("forward").execute([x.numpy()])[0]
    err = float(abs(torch.from_numpy(got) - c(x)).max())
    print("OPS", sorted(rt.load_program(buf).metadata("forward").operators), "ERR", err)
print("EXECUTORCH", any(k == "executorch" or k.startswith("executorch.") for k in sys.modules))
'''
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "EXECUTORCH False" in proc.stdout, proc.stdout
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("OPS")]
    assert len(lines) == 2, proc.stdout
    assert "quantized_decomposed::quantize_per_tensor.out" in lines[0], lines[0]
    assert "quantized_decomposed::choose_qparams.Tensor_out" in lines[1], lines[1]
    for ln in lines:
        assert float(ln.rsplit("ERR", 1)[1]) < 1e-5, ln
