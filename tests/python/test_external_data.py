"""Programs whose constants live in a .ptd file (external constants).

Our exporter's and upstream's (ExecutorchBackendConfig(external_constants=
True)) programs run on our runtime with their .ptd, through the Python
binding (path, bytes, mmap) and edgetorch-run --data, equal to eager and to
upstream's runtime. Missing, mismatched and damaged .ptd files give named
errors; 10,000 damaged variants of each program and of each .ptd go through
load, init and execute under ASan and UBSan (tests/tools/mutate.c).
"""

from __future__ import annotations

import os
import re
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

import edgetorch
from edgetorch import runtime
from edgetorch.export import oplib
from edgetorch.pte import read_pte, read_ptd, schema as S
from edgetorch.pte.program import serialize_flat_tensor, serialize_ptd

from _export_util import run_ours, run_upstream

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("ET_BUILD_DIR", REPO / "build"))
ASAN_BUILD = Path(os.environ.get("ET_ASAN_BUILD_DIR", REPO / "build-asan"))
RTOL, ATOL = 1e-5, 1e-6
COUNT = int(os.environ.get("ET_MUTATION_COUNT", "10000"))


class Net(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.conv = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.bn = torch.nn.BatchNorm2d(8).eval()
        with torch.no_grad():
            self.bn.running_mean.uniform_(-0.5, 0.5)
            self.bn.running_var.uniform_(0.5, 2.0)
        self.fc = torch.nn.Linear(8, 5)
        self.register_buffer("offset", torch.linspace(-1, 1, 5))

    def forward(self, x):
        y = torch.relu(self.bn(self.conv(x)))
        y = torch.nn.functional.adaptive_avg_pool2d(y, 1).flatten(1)
        return self.fc(y) + self.offset


def _inputs():
    torch.manual_seed(1)
    return (torch.randn(2, 3, 6, 6),)


@pytest.fixture(scope="module")
def programs(tmp_path_factory):
    """{"ours"|"upstream": (pte path, ptd path)} for Net."""
    from executorch.exir import ExecutorchBackendConfig, to_edge

    model, x = Net().eval(), _inputs()
    out = {}
    d = tmp_path_factory.mktemp("ours")
    prog = edgetorch.export(model, x, config=edgetorch.ExportConfig(
        operators=oplib.upstream_portable(), external_constants=True))
    prog.write_to_file(d / "model.pte")
    (ptd,) = prog.write_tensor_data_to_file(d)
    out["ours"] = (d / "model.pte", ptd)

    d = tmp_path_factory.mktemp("upstream")
    ep = torch.export.export(model, x, strict=False)
    et = to_edge(ep).to_executorch(ExecutorchBackendConfig(external_constants=True))
    (d / "model.pte").write_bytes(et.buffer)
    et.write_tensor_data_to_file(str(d))
    (ptd,) = sorted(d.glob("*.ptd"))
    out["upstream"] = (d / "model.pte", ptd)
    return out


def _eager():
    with torch.no_grad():
        return Net().eval()(*_inputs()).numpy()


WHO = ["ours", "upstream"]


@pytest.mark.parametrize("who", WHO)
def test_program_keeps_its_constants_outside(programs, who):
    pte, ptd = programs[who]
    f = read_pte(pte.read_bytes())
    external = {v.val.extra_tensor_info.fully_qualified_name
                for v in f.program.execution_plan[0].values
                if isinstance(v.val, S.Tensor) and v.val.extra_tensor_info is not None
                and v.val.extra_tensor_info.location == S.TensorDataLocation.EXTERNAL}
    assert len(external) >= 4 and f.constant_segment_size == 0
    assert external == set(read_ptd(ptd.read_bytes()).keys())
    with pytest.raises(runtime.EdgetorchError) as e:
        runtime.load_program(pte).load_method("forward")
    assert e.value.status == "NotFound"
    assert re.search(r"external tensor '[\w.]+' not found", str(e.value)), str(e.value)


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("how", ["path", "bytes", "mmap", "list"])
def test_runs_with_its_ptd(programs, who, how):
    pte, ptd = programs[who]
    if how == "path":
        prog = runtime.load_program(pte, data_files=ptd)
    elif how == "bytes":
        prog = runtime.load_program(pte.read_bytes(), data_files=ptd.read_bytes())
    elif how == "mmap":
        prog = runtime.load_program(pte, mmap=True, data_files=[str(ptd)])
    else:
        # An unrelated file first: lookups go through the files in order.
        other = serialize_ptd({"unrelated": (b"\0" * 4, S.TensorLayout(6, [1], [0]))})
        prog = runtime.load_program(pte, data_files=[other, ptd])
    (got,) = prog.load_method("forward").execute(list(_inputs()))
    np.testing.assert_allclose(got, _eager(), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("who", WHO)
def test_equal_to_upstream_runtime(programs, who):
    pte, ptd = programs[who]
    ups = run_upstream(pte.read_bytes(), [_inputs()], data_path=str(ptd))[0][0]
    ours = run_ours(pte.read_bytes(), [_inputs()], data_files=[ptd])[0][0]
    np.testing.assert_allclose(ours, ups, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("who", WHO)
def test_cli_data(programs, who, tmp_path):
    pte, ptd = programs[who]
    runner = BUILD / "bin" / "edgetorch-run"
    assert runner.is_file(), f"{runner} is not built"
    np.save(tmp_path / "x.npy", _inputs()[0].numpy())
    ok = subprocess.run([str(runner), str(pte), "--data", str(ptd), "--input",
                         str(tmp_path / "x.npy"), "--output-dir", str(tmp_path)],
                        capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    np.testing.assert_allclose(np.load(tmp_path / "output_0.npy"), _eager(), rtol=RTOL,
                               atol=ATOL)
    missing = subprocess.run([str(runner), str(pte)], capture_output=True, text=True,
                             timeout=120)
    assert missing.returncode == 1
    assert "error: NotFound: value" in missing.stderr and "external tensor" in missing.stderr


def _entries(ptd: Path):
    f = read_ptd(ptd.read_bytes())
    return {k: f.get(k) for k in f.keys()}


def test_mismatched_data_is_refused(programs):
    pte, ptd = programs["ours"]
    good = _entries(ptd)

    def attempt(entries):
        with pytest.raises(runtime.EdgetorchError) as e:
            runtime.load_program(pte, data_files=serialize_ptd(entries)).load_method("forward")
        return e.value

    # A 2-D weight with unequal dimensions, and another key.
    key = next(k for k, (_, lay) in good.items()
               if len(lay.sizes) == 2 and lay.sizes[0] != lay.sizes[1])
    other = next(k for k in good if k != key)
    raw, lay = good[key]
    # Same bytes, another dtype (int32 for float32): the layout check catches it.
    bad = dict(good)
    bad[key] = (raw, S.TensorLayout(3, list(lay.sizes), list(lay.dim_order)))
    e = attempt(bad)
    assert e.status == "InvalidExternalData" and f"'{key}'" in str(e)
    # Same layout, another byte count.
    bad = dict(good)
    bad[key] = (raw[:-4], lay)
    assert attempt(bad).status == "InvalidExternalData"
    # Another shape with the same element count.
    bad = dict(good)
    bad[key] = (raw, S.TensorLayout(lay.scalar_type, list(reversed(lay.sizes)),
                                    list(lay.dim_order)))
    assert attempt(bad).status == "InvalidExternalData"
    # A key missing.
    bad = {k: v for k, v in good.items() if k != other}
    e = attempt(bad)
    assert e.status == "NotFound" and f"'{other}'" in str(e)
    # A file without layouts: only the byte count is checked, so it runs.
    f = read_ptd(ptd.read_bytes())
    for n in f.flat_tensor.named_data:
        n.tensor_layout = None
    blob = ptd.read_bytes()[f.segment_base_offset:]
    plain = serialize_flat_tensor(f.flat_tensor, blob)
    (got,) = runtime.load_program(pte, data_files=plain).load_method("forward").execute(
        list(_inputs()))
    np.testing.assert_allclose(got, _eager(), rtol=RTOL, atol=ATOL)


def _damaged(ptd: bytes):
    """(name, bytes, statuses it may give) for hand-made damage."""
    f = read_ptd(ptd)
    blob = ptd[f.segment_base_offset:]
    out = [
        ("empty", b"", {"InvalidExternalData"}),
        ("truncated header", ptd[:40], {"InvalidExternalData"}),
        ("truncated flatbuffer", ptd[:100], {"InvalidExternalData"}),
        ("truncated segments", ptd[:len(ptd) - 8], {"InvalidExternalData"}),
        ("identifier", ptd[:4] + b"FT02" + ptd[8:], {"InvalidExternalData"}),
        ("header magic", ptd[:8] + b"FH02" + ptd[12:], {"InvalidExternalData"}),
        ("a .pte instead", b"\0\0\0\0ET12" + bytes(64), {"InvalidExternalData"}),
    ]
    for name, off, value in [("header length", 12, struct.pack("<I", 1 << 30)),
                             ("flatbuffer size", 24, struct.pack("<Q", 1 << 62)),
                             ("segment base", 32, struct.pack("<Q", len(ptd) + 128)),
                             ("segment size", 40, struct.pack("<Q", (1 << 64) - 1))]:
        out.append((name, ptd[:off] + value + ptd[off + len(value):], {"InvalidExternalData"}))
    ft = read_ptd(ptd).flat_tensor

    def variant(name, edit, statuses):
        t = read_ptd(ptd).flat_tensor
        edit(t)
        out.append((name, serialize_flat_tensor(t, blob), statuses))

    variant("version 1", lambda t: setattr(t, "version", 1), {"NotSupported"})
    variant("segment past the data",
            lambda t: setattr(t.segments[0], "offset", len(blob)), {"InvalidExternalData"})
    variant("segment size overflow",
            lambda t: setattr(t.segments[0], "size", (1 << 64) - 1), {"InvalidExternalData"})
    variant("segment index", lambda t: setattr(t.named_data[0], "segment_index",
                                               len(ft.segments)), {"InvalidExternalData"})
    variant("no key", lambda t: setattr(t.named_data[0], "key", None), {"InvalidExternalData"})
    variant("unknown dtype", lambda t: setattr(t.named_data[0].tensor_layout, "scalar_type", 99),
            {"InvalidExternalData"})
    variant("rank 17", lambda t: setattr(t.named_data[0], "tensor_layout",
                                         S.TensorLayout(6, [1] * 17, list(range(17)))),
            {"InvalidExternalData"})
    variant("dim_order length", lambda t: setattr(t.named_data[0].tensor_layout, "dim_order", []),
            {"InvalidExternalData"})
    return out


@pytest.mark.parametrize("who", WHO)
def test_damaged_ptd_gives_a_named_error(programs, who):
    pte, ptd = programs[who]
    cases = _damaged(ptd.read_bytes())
    assert len(cases) >= 18
    for name, data, statuses in cases:
        with pytest.raises(runtime.EdgetorchError) as e:
            runtime.load_program(pte, data_files=data)
        assert e.value.status in statuses, (name, str(e.value))
        assert ".ptd" in str(e.value), (name, str(e.value))


SUMMARY = re.compile(r"^(\d+) passed, (\d+) failed$", re.MULTILINE)


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("target", ["pte", "ptd"])
def test_mutation_with_external_data(programs, who, target):
    pte, ptd = programs[who]
    exe = ASAN_BUILD / "bin" / "mutate"
    assert exe.is_file(), f"{exe} is not built (make build-asan)"
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    args = [str(exe), "--count", str(COUNT), "--data", str(ptd)]
    if target == "ptd":
        args.append("--mutate-data")
    proc = subprocess.run(args + [str(pte)], capture_output=True, text=True, timeout=1200,
                          env=env)
    report = f"exit {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
    assert proc.returncode == 0, report
    assert "original executed ok" in proc.stdout, report
    m = SUMMARY.search(proc.stdout)
    assert m and int(m.group(1)) == COUNT + 1 and int(m.group(2)) == 0, report
    # The variants reached every stage, so the run proves something.
    assert re.search(r"executed ok\s+[1-9]", proc.stdout), report
    assert re.search(r"init failed\s+[1-9]", proc.stdout), report
