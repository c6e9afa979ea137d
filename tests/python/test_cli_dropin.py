"""The two command-line tools agree: build/bin/edgetorch-run (C) and the
Python ``edgetorch`` command generate the same default inputs, flag missing
operators and unregistered backends, have --version and help for every flag,
name a .ptd or .bpte given for a .pte, refuse to generate huge inputs, and
every error says what to do (never a Python traceback).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Callable, List, Optional

import numpy as np
import pytest
import torch

from runtime_harness import cli_path

REPO = Path(__file__).resolve().parents[2]


def c_cli(*args: object) -> subprocess.CompletedProcess:
    return subprocess.run([str(cli_path()), *map(str, args)], capture_output=True, text=True,
                          timeout=300)


def py_cli(*args: object) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "edgetorch", *map(str, args)],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "EDGETORCH_DEBUG": ""})


def both(*args: object) -> List[subprocess.CompletedProcess]:
    return [c_cli(*args), py_cli(*[a for a in args])]


def assert_error(proc: subprocess.CompletedProcess, *needles: str) -> None:
    """A failure that prints one error (no traceback) containing each needle."""
    assert proc.returncode != 0, proc.stdout
    assert "Traceback" not in proc.stderr, proc.stderr
    assert re.search(r"^error: ", proc.stderr, re.M), proc.stderr
    for n in needles:
        assert re.search(n, proc.stderr, re.S), f"{n!r} not in:\n{proc.stderr}"


# ---- programs --------------------------------------------------------------------


class Mixed(torch.nn.Module):
    def forward(self, x: torch.Tensor, idx: torch.Tensor, mask: torch.Tensor,
                h: torch.Tensor) -> tuple:
        return x * 2.0, idx + 1, mask.logical_not(), h * 2


def _upstream(model: torch.nn.Module, args: tuple) -> bytes:
    from executorch.exir import to_edge

    return to_edge(torch.export.export(model, args)).to_executorch().buffer


def _edit(data: bytes, edit: Callable) -> bytes:
    import executorch.exir._serialize._program as P

    pte = P.deserialize_pte_binary(data)
    edit(pte.program)
    return bytes(P.serialize_pte_binary(pte))


@pytest.fixture(scope="module")
def progs(tmp_path_factory: pytest.TempPathFactory) -> dict:
    import executorch.exir.schema as S

    out = tmp_path_factory.mktemp("cli_dropin")
    args = (torch.randn(2, 3), torch.arange(4, dtype=torch.int64), torch.ones(3, dtype=torch.bool),
            torch.randn(2, 2).half())
    mixed = _upstream(Mixed(), args)
    files = {"mixed": out / "mixed.pte"}
    files["mixed"].write_bytes(mixed)

    def missing_op(program) -> None:
        program.execution_plan[0].operators[0].name = "custom::no_such_op"

    files["missing_op"] = out / "missing_op.pte"
    files["missing_op"].write_bytes(_edit(mixed, missing_op))

    def foreign_backend(program) -> None:
        plan = program.execution_plan[0]
        program.backend_delegate_data.append(S.BackendDelegateInlineData(data=b"\0" * 16))
        plan.delegates.append(S.BackendDelegate(
            id="NoSuchBackend",
            processed=S.BackendDelegateDataReference(location=S.DataLocation.INLINE, index=0),
            compile_specs=[]))
        old = plan.chains[0].instructions[0].instr_args
        plan.chains[0].instructions[0] = S.Instruction(
            instr_args=S.DelegateCall(delegate_index=0, args=list(old.args)))

    files["backend"] = out / "backend.pte"
    files["backend"].write_bytes(_edit(mixed, foreign_backend))

    def huge_input(program) -> None:
        # An unplanned input of 2^31 floats (8 GiB): generating it must be refused.
        plan = program.execution_plan[0]
        t = plan.values[plan.inputs[0]].val
        t.sizes = [1 << 16, 1 << 15]
        t.allocation_info = None

    files["huge"] = out / "huge.pte"
    files["huge"].write_bytes(_edit(mixed, huge_input))

    from executorch.exir import to_edge

    files["predict"] = out / "predict.pte"
    files["predict"].write_bytes(to_edge({"predict": torch.export.export(
        Mixed(), args)}).to_executorch().buffer)

    # Other ExecuTorch files with their real identifiers.
    files["ptd"] = out / "weights.ptd"
    files["ptd"].write_bytes(b"\x18\x00\x00\x00FT01FH01" + bytes(56))
    files["bpte"] = out / "model.bpte"
    files["bpte"].write_bytes(b"\x10\x00\x00\x00BP08" + bytes(56))
    files["garbage"] = out / "garbage.pte"
    files["garbage"].write_bytes(b"hello, not a program" * 4)
    return files


# ---- agreement ---------------------------------------------------------------------


def test_same_default_inputs_and_outputs(progs: dict, tmp_path: Path) -> None:
    c_out, py_out = tmp_path / "c", tmp_path / "py"
    proc = c_cli(progs["mixed"], "--output-dir", c_out)
    assert proc.returncode == 0, proc.stderr
    proc = py_cli("run", progs["mixed"], "--save", py_out)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    # The generated inputs: the binding's default_inputs are the C runner's.
    from edgetorch.runtime import load_program

    method = load_program(str(progs["mixed"])).load_method()
    gen = method.default_inputs()
    assert [a.dtype for a in gen] == [np.float32, np.int64, np.bool_, np.float16]
    for k, a in enumerate(gen):
        np.testing.assert_array_equal(a, np.load(c_out / f"input_{k}.npy"))
    assert np.unique(gen[0]).size == gen[0].size  # not ones: the xorshift stream
    # And so the outputs.
    for k in range(4):
        np.testing.assert_array_equal(np.load(py_out / f"output_{k}.npy"),
                                      np.load(c_out / f"output_{k}.npy"))


def test_same_default_method(progs: dict, tmp_path: Path) -> None:
    """Without --method both run 'forward', or the first method if there is none."""
    c = c_cli(progs["predict"], "--output-dir", tmp_path / "c")
    py = py_cli("run", progs["predict"], "--save", tmp_path / "py")
    assert c.returncode == 0 and py.returncode == 0, (c.stderr, py.stderr)
    assert "method predict" in c.stdout and "predict:" in py.stderr
    np.testing.assert_array_equal(np.load(tmp_path / "c" / "output_0.npy"),
                                  np.load(tmp_path / "py" / "output_0.npy"))


def test_version() -> None:
    import edgetorch

    c, py = both("--version")
    assert c.returncode == 0 and c.stdout.strip() == f"edgetorch-run {edgetorch.__version__}"
    assert py.returncode == 0 and py.stdout.strip() == f"edgetorch {edgetorch.__version__}"


def test_help_for_every_flag() -> None:
    usage = c_cli("--help").stdout
    for flag in sorted(set(re.findall(r"^  (--[a-z-]+|-h, --help)", usage, re.M))):
        line = next(l for l in usage.splitlines() if l.startswith(f"  {flag}"))
        rest = line[len(f"  {flag}"):].strip()
        # The description is on the same line or (long flags) the next one.
        assert rest or usage.split(line, 1)[1].splitlines()[1].startswith(" " * 20), flag
    for flag in ("--version", "--max-generated-bytes", "--data", "--info", "--mmap"):
        assert flag in usage
    from edgetorch.cli import build_parser
    import argparse

    parser = build_parser()
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    parsers = [parser] + [p for s in subs for p in s.choices.values()]
    for p in parsers:
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                continue
            assert action.help, f"{p.prog} {action.option_strings or action.dest} has no help"


def test_inspect_and_info_flag_missing_operators(progs: dict) -> None:
    c, py = c_cli(progs["missing_op"], "--info"), py_cli("inspect", progs["missing_op"])
    assert c.returncode == 0 and py.returncode == 0, (c.stderr, py.stderr)
    for out in (c.stdout, py.stdout):
        assert re.search(r"missing operators: 1 \(custom::no_such_op", out), out
        assert "docs/adding-a-kernel.md" in out
    # Running it fails before anything runs, saying what to do.
    for proc in (c_cli(progs["missing_op"]), py_cli("run", progs["missing_op"])):
        assert_error(proc, "OperatorMissing", "no_such_op", "adding-a-kernel.md")


def test_inspect_and_info_flag_unregistered_backends(progs: dict) -> None:
    c, py = c_cli(progs["backend"], "--info"), py_cli("inspect", progs["backend"])
    assert c.returncode == 0 and py.returncode == 0, (c.stderr, py.stderr)
    assert re.search(r"NoSuchBackend \(not registered", c.stdout), c.stdout
    assert re.search(r"NoSuchBackend is not registered", py.stdout), py.stdout
    for proc in (c_cli(progs["backend"]), py_cli("run", progs["backend"])):
        assert_error(proc, "NotFound", "NoSuchBackend", "build the runtime with it|export "
                                                        "without")


# ---- errors that say what to do ------------------------------------------------------


@pytest.mark.parametrize("kind,needles", [
    ("ptd", [r"tensor data \(\.ptd", r"not a program \(\.pte\)", "--data"]),
    ("bpte", [r"bundled program \(\.bpte", r"not a program \(\.pte\)", "the bundle was made"]),
])
def test_wrong_file_kind_is_named(progs: dict, kind: str, needles: list) -> None:
    assert_error(c_cli(progs[kind]), *needles)
    assert_error(py_cli("run", progs[kind]), *needles)
    assert_error(py_cli("inspect", progs[kind]), *needles)


def test_program_given_as_data(progs: dict) -> None:
    needles = [r"a program \(\.pte\)", r"not tensor data \(\.ptd", "give it as"]
    assert_error(c_cli(progs["mixed"], "--data", progs["mixed"]), *needles)
    assert_error(py_cli("run", progs["mixed"], "--data", progs["mixed"]), *needles)


def test_damaged_file(progs: dict) -> None:
    for proc in (c_cli(progs["garbage"]), py_cli("run", progs["garbage"]),
                 py_cli("inspect", progs["garbage"])):
        assert_error(proc, "export it again")


def test_missing_file(tmp_path: Path) -> None:
    for proc in (c_cli(tmp_path / "nope.pte"), py_cli("run", tmp_path / "nope.pte"),
                 py_cli("inspect", tmp_path / "nope.pte")):
        assert_error(proc, "nope.pte", "check the path|the .pte to")


def test_huge_generated_input_is_refused(progs: dict, tmp_path: Path) -> None:
    needles = [r"input 0 \(Float \[65536, 32768\]\)", "8589934592 bytes",
               "--input FILE.npy", "--max-generated-bytes"]
    assert_error(c_cli(progs["huge"]), *needles)
    assert_error(py_cli("run", progs["huge"]), *needles)
    # The limit is the user's to change: a small one refuses a small input.
    small = [r"input 0 \(Float \[2, 3\]\)", "above the limit of 16 bytes"]
    assert_error(c_cli(progs["mixed"], "--max-generated-bytes", "16"), *small)
    assert_error(py_cli("run", progs["mixed"], "--max-generated-bytes", "16"), *small)
    ok = c_cli(progs["mixed"], "--max-generated-bytes", "1K")
    assert ok.returncode == 0, ok.stderr
    for bad in (c_cli(progs["mixed"], "--max-generated-bytes", "lots"),
                py_cli("run", progs["mixed"], "--max-generated-bytes", "lots")):
        assert bad.returncode == 2 and "Traceback" not in bad.stderr
        assert "byte count such as" in bad.stderr


def test_input_errors(progs: dict, tmp_path: Path) -> None:
    x = tmp_path / "x.npy"
    np.save(x, np.zeros((2, 3), np.float32))
    for proc in (c_cli(progs["mixed"], "--input", x), py_cli("run", progs["mixed"], "--input", x)):
        assert_error(proc, "4 tensor input", "1 --input", "give one .npy per tensor input")
    ints = tmp_path / "ints.npy"
    np.save(ints, np.zeros((2, 3), np.int64))
    assert_error(c_cli(progs["mixed"], *[a for f in (ints, ints, ints, ints)
                                        for a in ("--input", f)]),
                 "dtype Long, the method expects Float", r"astype\(float32\)")
    assert_error(py_cli("run", progs["mixed"], *[a for f in (ints, ints, ints, ints)
                                                for a in ("--input", f)]),
                 "input 0", "Long", "edgetorch inspect PROGRAM")
    bad = tmp_path / "bad.npy"
    bad.write_bytes(b"not numpy")
    files = [bad, x, x, x]
    assert_error(py_cli("run", progs["mixed"], *[a for f in files for a in ("--input", f)]),
                 "input 0", "numpy.save")
    assert_error(py_cli("run", progs["mixed"], *[a for f in [tmp_path / "none.npy"] + files[1:]
                                                  for a in ("--input", f)]),
                 "none.npy", "no such file")


def test_unknown_method(progs: dict) -> None:
    for proc in (c_cli(progs["mixed"], "--method", "backward"),
                 py_cli("run", progs["mixed"], "--method", "backward")):
        assert_error(proc, "no method named 'backward'", "forward", "--method")


def test_export_errors_say_what_to_do(tmp_path: Path) -> None:
    assert_error(py_cli("export", "no_such_model"), "built-in models", "file.py:attribute")
    assert_error(py_cli("export", tmp_path / "none.py:Net"), "not a file")
    src = tmp_path / "m.py"
    src.write_text("import torch\nclass Net(torch.nn.Module):\n"
                   "    def forward(self, x):\n"
                   "        return torch.ops.aten._fft_r2c(x, [0], 0, True)\n")
    proc = py_cli("export", f"{src}:Net", "--example-shape", "8", "-o", tmp_path / "o.pte")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "_fft_r2c" in proc.stderr and "adding-a-kernel.md" in proc.stderr
    assert "m.py:4" in proc.stderr


ASAN_RUNNER = Path(os.environ.get("ET_ASAN_BUILD_DIR", "/nonexistent")) / "bin" / "edgetorch-run"


@pytest.mark.skipif(not ASAN_RUNNER.is_file(),
                    reason="no ASan build (make test sets ET_ASAN_BUILD_DIR)")
def test_asan_runner_on_these_paths(progs: dict, tmp_path: Path) -> None:
    """The new paths of edgetorch-run (generated inputs and their cap, file
    kinds, --info with missing operators and backends) under ASan+UBSan."""
    cases = [([progs["mixed"], "--output-dir", tmp_path / "o"], 0),
             ([progs["missing_op"], "--info"], 0), ([progs["backend"], "--info"], 0),
             ([progs["missing_op"]], 1), ([progs["backend"]], 1), ([progs["huge"]], 1),
             ([progs["ptd"]], 1), ([progs["bpte"]], 1), ([progs["garbage"]], 1),
             ([progs["mixed"], "--data", progs["mixed"]], 1),
             ([progs["mixed"], "--max-generated-bytes", "16"], 1), (["--version"], 0)]
    for args, code in cases:
        proc = subprocess.run([str(ASAN_RUNNER), *map(str, args)], capture_output=True,
                              text=True, timeout=300)
        assert proc.returncode == code, (args, proc.stderr)
        assert "Sanitizer" not in proc.stderr and "runtime error" not in proc.stderr, proc.stderr
