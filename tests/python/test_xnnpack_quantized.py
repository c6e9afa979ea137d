"""Quantized XNNPACK payloads on the CPU backend (backends/xnnpack/xnn_q.c,
xnn_qgemm.c), programs from tests/python/xnnpack_quant_corpus.py: upstream's
PT2E static per-channel int8 (conv net with depthwise, residual add,
pooling, concatenate, linear; a transformer block; per-tensor weights),
dynamic int8 (linears, a transformer block: qd8 x qc8w) and torchao's
8da4w (Int8DynamicActivationIntxWeightConfig, int4 PerGroup(32): qd8 x qb4w;
per-channel int4), each lowered with XnnpackPartitioner by upstream; the
dynamic ones also with a dynamic row count (called at other sizes than
traced).

* each file runs on edgetorch and on upstream's runtime with the same
  inputs and agrees (int8 outputs within one step, float outputs within 2%
  of the output range), at 1 and at 2 threads; 1 and 2 threads give the
  same bits; edgetorch also agrees with eager at the same bar;
* payloads with one quantization parameter made wrong (written by upstream's
  own serializer), and one upstream writes that its own runtime refuses (a
  pad from fp32 to qint8), are refused at load with the status and message
  named;
* the payloads go through the mutation tool under ASan+UBSan (--payload:
  damage inside the XNNPACK payload only, and anywhere in the file).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import List

import numpy as np
import pytest

import runtime_harness as H
import xnnpack_quant_corpus as xq
from quantized_corpus import assert_agree, load_calls, upstream_isolated

NAMES = xq.names()


@pytest.fixture(scope="session")
def qx() -> Path:
    return xq.corpus_dir()


@pytest.fixture
def rt():
    r = H.et_runtime()
    before = r.get_num_threads()
    yield r
    r.set_num_threads(before)


def _ours(rt, buf: bytes, args) -> List[np.ndarray]:
    m = rt.load_program(buf).load_method("forward")
    return [np.asarray(o).copy() for o in m.execute([np.asarray(a) for a in args])]


@pytest.mark.parametrize("name", NAMES)
def test_agrees_with_upstream_runtime(qx, rt, name):
    d = qx / name
    buf = (d / "model.pte").read_bytes()
    meta = rt.load_program(buf).metadata("forward")
    assert meta.delegates and set(meta.delegates) == {"XnnpackBackend"}, meta.delegates
    for c, (args, eager) in enumerate(load_calls(d)):
        theirs = upstream_isolated(buf, args)
        got = {}
        for t in (1, 2):
            rt.set_num_threads(t)
            got[t] = _ours(rt, buf, args)
            assert_agree(got[t], theirs, f"{name} call {c} at {t} thread(s): edgetorch vs upstream")
            assert_agree(got[t], eager, f"{name} call {c} at {t} thread(s): edgetorch vs eager")
        for k, (a, b) in enumerate(zip(got[1], got[2])):
            assert a.tobytes() == b.tobytes(), f"{name} call {c} output {k}: 1 and 2 threads differ"


def test_corpus_covers_the_quantization_kinds(qx):
    """Static per-channel and per-tensor, dynamic, and 8da4w (blockwise and
    per-channel int4) programs are all in the corpus."""
    manifest = json.loads((qx / "manifest.json").read_text())
    modes = {v["mode"] for v in manifest.values()}
    assert {"static", "static_pt", "dynamic", "8da4w", "8da4w_pc"} <= modes


@pytest.mark.parametrize("name", sorted(xq.HOSTILE))
def test_hostile_parameters_refused_by_name(qx, rt, name):
    _, _, status, message = xq.HOSTILE[name]
    buf = (qx / "hostile" / f"{name}.pte").read_bytes()
    with pytest.raises(rt.EdgetorchError) as ei:
        rt.load_program(buf).load_method("forward")
    assert H.status_name(ei.value.status) == status, str(ei.value)
    assert "XnnpackBackend: value" in str(ei.value) or "XnnpackBackend: node" in str(ei.value), str(ei.value)
    assert message in str(ei.value), str(ei.value)


@pytest.mark.parametrize("where", ["payload", "file"])
@pytest.mark.parametrize("name", NAMES)
def test_mutation(qx, name, where):
    """Damaged quantized payloads: thousands of variants under ASan+UBSan,
    zero crashes (test_mutation.py's tool and settings)."""
    from test_mutation import COUNT, SEED, SUMMARY, run_mutate

    count = max(COUNT // 4, 1)
    pte = qx / name / "model.pte"
    args = ["--count", count, "--seed", SEED]
    if where == "payload":
        args.append("--payload")
    proc = run_mutate(args + [pte])
    report = f"exit {proc.returncode}\n--- stdout (tail)\n{proc.stdout[-4000:]}\n--- stderr (tail)\n{proc.stderr[-8000:]}"
    assert proc.returncode == 0, report
    assert "original executed ok" in proc.stdout, report
    m = SUMMARY.search(proc.stdout)
    assert m and int(m.group(2)) == 0 and int(m.group(1)) == count + 1, report
