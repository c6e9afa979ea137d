"""The ``edgetorch`` command: export, inspect (with the memory plot), run,
and ``python -m edgetorch``; plus the operator-table sync check."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from edgetorch import cli
from edgetorch.export import oplib
from edgetorch.pte import read_pte

REPO = Path(__file__).resolve().parents[2]


def test_export_builtin_inspect_and_plot(tmp_path, capsys):
    out = tmp_path / "mlp.pte"
    assert cli.main(["export", "mlp", "-o", str(out), "--report"]) == 0
    cap = capsys.readouterr()
    assert "planned memory" in cap.err and "wrote" in cap.err      # progress
    assert "planned bytes" in cap.out                               # --report
    assert read_pte(out.read_bytes()).program.execution_plan[0].name == "forward"
    png = tmp_path / "plan.png"
    assert cli.main(["inspect", str(out), "--memory-plot", str(png)]) == 0
    text = capsys.readouterr().out
    assert "method forward" in text and "aten::addmm.out" in text
    assert "input  0: tensor float[4, 32]" in text and "planned memory" in text
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000


def test_inspect_reads_upstream_files(tmp_path, capsys):
    import torch
    from executorch.exir import to_edge

    class M(torch.nn.Module):
        def forward(self, x):
            return x.sin() + 1

    et = to_edge(torch.export.export(M(), (torch.randn(3),))).to_executorch()
    p = tmp_path / "up.pte"
    p.write_bytes(et.buffer)
    assert cli.main(["inspect", str(p), "--memory-plot", str(tmp_path / "u.png")]) == 0
    assert "aten::sin.out" in capsys.readouterr().out


def _user_file(tmp_path: Path, body: str) -> Path:
    f = tmp_path / "user_model.py"
    f.write_text(textwrap.dedent(body))
    return f


def test_export_from_file_forms(tmp_path):
    f = _user_file(tmp_path, """
        import torch

        class Net(torch.nn.Module):
            def forward(self, x):
                return torch.relu(x) * 2

        example_args = (torch.randn(2, 3),)
        net = Net()

        def make():
            return Net(), (torch.randn(5),)
    """)
    for attr, extra, shape in (("Net", [], [2, 3]), ("net", [], [2, 3]), ("make", [], [5]),
                               ("Net", ["--example-shape", "4x4"], [4, 4])):
        out = tmp_path / f"{attr}.pte"
        assert cli.main(["export", f"{f}:{attr}", "-o", str(out), *extra]) == 0
        plan = read_pte(out.read_bytes()).program.execution_plan[0]
        assert plan.values[plan.inputs[0]].val.sizes == shape


def test_failed_export_names_op_and_line_and_writes_nothing(tmp_path, capsys):
    f = _user_file(tmp_path, """
        import torch

        class Bad(torch.nn.Module):
            def forward(self, x):
                return torch.special.bessel_j0(x) + 1  # BAD-LINE

        example_args = (torch.randn(3),)
    """)
    out = tmp_path / "bad.pte"
    assert cli.main(["export", f"{f}:Bad", "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert "aten::special_bessel_j0" in err and "BAD-LINE" in err and "user_model.py:6" in err
    assert not out.exists() and not list(tmp_path.glob("*.pte*"))


def test_run_with_edgetorch_runtime(tmp_path, capsys):
    """OUR runtime via `edgetorch run` (MLP: addmm + relu)."""
    out = tmp_path / "mlp.pte"
    assert cli.main(["export", "mlp", "-o", str(out)]) == 0
    x = np.random.default_rng(0).standard_normal((4, 32)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    capsys.readouterr()
    assert cli.main(["run", str(out), "--input", str(tmp_path / "x.npy"),
                     "--save", str(tmp_path / "o")]) == 0
    assert "output 0: float32[4, 10]" in capsys.readouterr().out
    import torch
    from edgetorch import models
    model, _ = models.get("mlp")
    want = model(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(np.load(tmp_path / "o" / "output_0.npy"), want,
                               rtol=1e-5, atol=1e-6)


def test_python_dash_m(tmp_path):
    r = subprocess.run([sys.executable, "-m", "edgetorch", "inspect", "--help"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "--memory-plot" in r.stdout


def test_unknown_model_is_a_clear_error(tmp_path):
    with pytest.raises(SystemExit, match="built-in models"):
        cli.main(["export", "no_such_model", "-o", str(tmp_path / "x.pte")])


def test_exporter_reads_the_kernel_table():
    """The exporter checks models against kernels/portable/ops.def and
    kernels/quantized/ops.def themselves (package data in a wheel), so the
    tables and the exporter can never disagree."""
    ops_def = REPO / "kernels" / "portable" / "ops.def"
    q_def = REPO / "kernels" / "quantized" / "ops.def"
    assert oplib.find_ops_def().resolve() == ops_def.resolve()
    assert oplib.find_quantized_ops_def().resolve() == q_def.resolve()
    llm_def = REPO / "kernels" / "llm" / "ops.def"
    assert oplib.find_llm_ops_def().resolve() == llm_def.resolve()
    assert oplib.kernel_library() == (oplib.parse_ops_def(ops_def.read_text())
                                      | oplib.parse_ops_def(q_def.read_text())
                                      | oplib.parse_ops_def(llm_def.read_text()))
    assert "llama::custom_sdpa.out" in oplib.kernel_library()
    assert "aten::add.out" in oplib.kernel_library()
    assert "quantized_decomposed::quantize_per_tensor.out" in oplib.kernel_library()