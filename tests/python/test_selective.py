"""Selective build: `edgetorch selective-build` and the filtered kernel table.

The runtime half links a runner (tools/edgetorch_run.c) against the kernel
table of one program and checks that the program runs on it while another
program, needing an operator the table lacks, fails at method init with
OperatorMissing and the missing names.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import edgetorch
from edgetorch import selective

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("ET_BUILD_DIR", ROOT / "build"))


class Lin(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(4, 3)

    def forward(self, x):
        return torch.relu(self.fc(x))


class Sig(torch.nn.Module):
    def forward(self, x):
        return torch.sigmoid(x) * 2.0


@pytest.fixture(scope="module")
def programs(tmp_path_factory):
    d = tmp_path_factory.mktemp("sel")
    torch.manual_seed(0)
    x = torch.randn(2, 4)
    out = {}
    for name, m in (("lin", Lin().eval()), ("sig", Sig())):
        path = d / f"{name}.pte"
        edgetorch.export(m, (x,)).write_to_file(str(path))
        with torch.no_grad():
            out[name] = (path, x.numpy(), m(x).numpy())
    return d, out


def test_table_has_only_the_programs_operators(programs):
    d, progs = programs
    sel = selective.selective_build([str(progs["lin"][0])], str(d / "lin_sel"))
    needs = selective.program_needs(progs["lin"][0].read_bytes())
    assert set(sel.operators) == needs.operators and not sel.missing
    assert "aten::relu.out" in needs.operators
    table = selective.parse_ops_def(sel.ops_def.read_text())
    assert sorted(table) == sorted(needs.operators)
    full = selective.parse_ops_def(selective.default_ops_def().read_text())
    # same lines as the full table, in its (strcmp) order
    assert list(table) == [k for k in full if k in table]
    assert all(table[k] == full[k] for k in table)
    assert (d / "lin_sel" / "selected_ops.txt").read_text().split() == sorted(table)
    srcs = (d / "lin_sel" / "kernel_sources.txt").read_text().split()
    assert any(s.endswith("op_relu.c") for s in srcs)
    assert not any(s.endswith("op_sigmoid.c") for s in srcs)


def test_union_of_programs(programs):
    d, progs = programs
    sel = selective.selective_build([str(progs["lin"][0]), str(progs["sig"][0])], str(d / "both"))
    assert "aten::sigmoid.out" in sel.operators and "aten::relu.out" in sel.operators


def test_cli_reports_operators_the_library_lacks(programs, tmp_path):
    d, progs = programs
    # A library without sigmoid: the command names the missing operator, fails.
    full = selective.default_ops_def().read_text()
    small = "\n".join(l for l in full.splitlines() if "aten::sigmoid.out" not in l)
    lib = tmp_path / "ops.def"
    lib.write_text(small)
    r = subprocess.run([sys.executable, "-m", "edgetorch", "selective-build",
                        str(progs["sig"][0]), "-o", str(tmp_path / "o"), "--ops-def", str(lib)],
                       capture_output=True, text=True)
    assert r.returncode == 1, r.stderr
    assert "aten::sigmoid.out" in r.stderr and "missing" in r.stderr
    r = subprocess.run([sys.executable, "-m", "edgetorch", "selective-build",
                        str(progs["lin"][0]), "-o", str(tmp_path / "o2")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "o2" / "ops.def").is_file()


def _selective_runner(ops_def: Path, out: Path) -> Path:
    lib = BUILD / "lib" / "libedgetorch.a"
    if not lib.is_file():
        pytest.fail(f"{lib} not found: run `make build` (ET_BUILD_DIR names the build)")
    cc = shutil.which("gcc") or shutil.which("cc")
    exe = out / "edgetorch-run-selective"
    # both tables filtered: the portable one and the optimized one before it
    opt_def = ops_def.parent / "optimized_ops.def"
    q_def = ops_def.parent / "quantized_ops.def"
    assert opt_def.is_file() and q_def.is_file(), "selective-build filters every table"
    subprocess.run([cc, "-std=c11", "-O1", "-D_POSIX_C_SOURCE=200809L",
                    f'-DET_OPS_DEF_FILE="{ops_def}"', f'-DET_OPT_OPS_DEF_FILE="{opt_def}"',
                    f'-DET_QUANTIZED_OPS_DEF_FILE="{q_def}"',
                    f"-I{ROOT / 'runtime' / 'include'}",
                    f"-I{ROOT / 'kernels'}", f"-I{ROOT / 'extension'}", f"-I{ROOT / 'backends'}",
                    str(ROOT / "kernels" / "portable" / "registry.c"),
                    str(ROOT / "kernels" / "optimized" / "registry.c"),
                    str(ROOT / "kernels" / "quantized" / "registry.c"),
                    str(ROOT / "tools" / "edgetorch_run.c"), str(lib), "-lm", "-lpthread",
                    "-o", str(exe)], check=True)
    return exe


def test_missing_operator_fails_with_names(programs, tmp_path):
    d, progs = programs
    sel = selective.selective_build([str(progs["lin"][0])], str(tmp_path / "sel"))
    exe = _selective_runner(sel.ops_def, tmp_path)
    # the selected program runs, and gives eager's numbers
    path, x, want = progs["lin"]
    np.save(tmp_path / "x.npy", x)
    r = subprocess.run([str(exe), str(path), "--input", str(tmp_path / "x.npy"),
                        "--output-dir", str(tmp_path / "out")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    np.testing.assert_allclose(np.load(tmp_path / "out" / "output_0.npy"), want,
                               rtol=1e-5, atol=1e-6)
    # the other one fails at init, naming what the table lacks
    r = subprocess.run([str(exe), str(progs["sig"][0])], capture_output=True, text=True)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "OperatorMissing" in r.stderr
    missing = selective.program_needs(progs["sig"][0].read_bytes()).operators - set(sel.operators)
    assert "aten::sigmoid.out" in missing
    # the list ends where the runner's hint on what to do begins
    listed = r.stderr.rsplit("lacks:", 1)[-1].split(";", 1)[0]
    assert {n.strip() for n in listed.split(",")} == missing, r.stderr
    assert "docs/adding-a-kernel.md" in r.stderr


def test_quantized_operators_are_selected_not_missing(tmp_path):
    """A program calling quantized_decomposed:: operators: they come from the
    quantized table (quantized_ops.def keeps exactly them), not reported
    missing; the portable ops.def keeps the rest."""
    import torch
    import edgetorch

    qd = torch.ops.quantized_decomposed

    class Q(torch.nn.Module):
        def forward(self, x):
            q = qd.quantize_per_tensor(x, 0.05, 3, -128, 127, torch.int8)
            return qd.dequantize_per_tensor(q, 0.05, 3, -128, 127, torch.int8) * 2.0

    import torch.ao.quantization.fx._decomposed  # noqa: F401  (registers the ops)

    path = tmp_path / "q.pte"
    edgetorch.export(Q(), (torch.randn(3, 5),)).write_to_file(path)
    sel = selective.selective_build([str(path)], str(tmp_path / "sel"))
    assert sel.missing == {}
    q = selective.parse_ops_def((tmp_path / "sel" / "quantized_ops.def").read_text())
    assert set(q) == {"quantized_decomposed::quantize_per_tensor.out",
                      "quantized_decomposed::dequantize_per_tensor.out"}
    portable = selective.parse_ops_def((tmp_path / "sel" / "ops.def").read_text())
    assert not any(n.startswith("quantized_decomposed::") for n in portable)
    assert set(portable) | set(q) == set(sel.operators)
    # and the runner built from these tables runs the program like eager
    exe = _selective_runner(sel.ops_def, tmp_path)
    x = torch.randn(3, 5)
    np.save(tmp_path / "x.npy", x.numpy())
    r = subprocess.run([str(exe), str(path), "--input", str(tmp_path / "x.npy"),
                        "--output-dir", str(tmp_path / "out")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    np.testing.assert_allclose(np.load(tmp_path / "out" / "output_0.npy"), Q()(x).numpy(),
                               rtol=0, atol=1e-6)
