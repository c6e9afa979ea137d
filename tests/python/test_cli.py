"""End-to-end tests of the command-line runner, build/bin/edgetorch-run.

Programs are exported by upstream ExecuTorch (a test-only dependency) and the
runner's outputs are compared with PyTorch eager on the same inputs.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

REPO = Path(__file__).resolve().parents[2]
BUILD_DIR = Path(os.environ.get("ET_BUILD_DIR", REPO / "build"))
RUNNER = BUILD_DIR / "bin" / "edgetorch-run"


@pytest.fixture(autouse=True, scope="module")
def _runner_is_built():
    """The runner is what this file tests: not built is a failure, not a skip."""
    assert RUNNER.is_file(), (f"{RUNNER} is not built: make build (or cmake --build "
                              f"{BUILD_DIR} --target edgetorch-run; ET_BUILD_DIR picks the build)")

RTOL, ATOL = 1e-5, 1e-6


# ---- models -----------------------------------------------------------------


class MLP(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = torch.nn.Linear(4, 8)
        self.fc2 = torch.nn.Linear(8, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.relu(self.fc1(x)))


class Scale(torch.nn.Module):
    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return x * y + x


class Shift(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x - 0.5


class IntArith(torch.nn.Module):
    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        return idx * 3 + idx


class Scalars(torch.nn.Module):
    def forward(self, x: torch.Tensor, k: int, f: float, b: bool) -> torch.Tensor:
        # k only checks that an Int input is set; using it would add a
        # dtype conversion operator to the program.
        return x * f + 1.0 if b and k == 3 else x


class ChannelsLast(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        c = torch.arange(24.0).reshape(1, 3, 2, 4)
        self.register_buffer("c", c.to(memory_format=torch.channels_last))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.c


def _export(programs) -> tuple[bytes, object]:
    from executorch.exir import to_edge

    et = to_edge(programs).to_executorch()
    return et.buffer, et


def _operator_names(et_program_manager, method: str) -> list[tuple[str, int]]:
    """Each operator of `method` with the number of KernelCalls that use it."""
    prog = et_program_manager.executorch_program
    for plan in prog.execution_plan:
        if plan.name == method:
            uses = [0] * len(plan.operators)
            for chain in plan.chains:
                for instr in chain.instructions:
                    op_index = getattr(instr.instr_args, "op_index", None)
                    if op_index is not None:
                        uses[op_index] += 1
            return [
                (f"{op.name}.{op.overload}" if op.overload else op.name, n)
                for op, n in zip(plan.operators, uses)
            ]
    raise KeyError(method)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    import executorch.exir  # noqa: F401  (the exporter of the test models: required)
    torch.manual_seed(0)
    out = tmp_path_factory.mktemp("models")
    found = {}

    mlp = MLP().eval()
    x = torch.randn(2, 4)
    buf, mgr = _export(torch.export.export(mlp, (x,)))
    (out / "mlp.pte").write_bytes(buf)
    found["mlp"] = (out / "mlp.pte", mlp, _operator_names(mgr, "forward"))

    a, b = torch.randn(3, 5), torch.randn(3, 5)
    buf, mgr = _export(
        {
            "forward": torch.export.export(Scale(), (a, b)),
            "shift": torch.export.export(Shift(), (a,)),
        }
    )
    (out / "two.pte").write_bytes(buf)
    found["two"] = (
        out / "two.pte",
        {"forward": Scale(), "shift": Shift()},
        {m: _operator_names(mgr, m) for m in ("forward", "shift")},
    )

    batch = torch.export.Dim("batch", max=8)
    buf, mgr = _export(
        torch.export.export(Shift(), (a,), dynamic_shapes={"x": {0: batch}})
    )
    (out / "dynamic.pte").write_bytes(buf)
    found["dynamic"] = (out / "dynamic.pte", Shift(), _operator_names(mgr, "forward"))

    buf, mgr = _export(torch.export.export(Scalars(), (a, 3, 0.5, True)))
    (out / "scalars.pte").write_bytes(buf)
    found["scalars"] = (out / "scalars.pte", Scalars(), _operator_names(mgr, "forward"))

    nhwc = torch.randn(1, 3, 2, 4).to(memory_format=torch.channels_last)
    buf, mgr = _export(torch.export.export(ChannelsLast(), (nhwc,)))
    (out / "nhwc.pte").write_bytes(buf)
    found["nhwc"] = (out / "nhwc.pte", ChannelsLast(), _operator_names(mgr, "forward"))

    idx = torch.tensor([1, 5, -7, 2**40], dtype=torch.int64)
    buf, mgr = _export(torch.export.export(IntArith(), (idx,)))
    (out / "int.pte").write_bytes(buf)
    found["int"] = (out / "int.pte", IntArith(), _operator_names(mgr, "forward"))
    return found


# ---- helpers ------------------------------------------------------------------


def run(*args, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [str(RUNNER), *map(str, args)], capture_output=True, text=True, timeout=120
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"edgetorch-run {' '.join(map(str, args))} exited {proc.returncode}\n"
            f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
        )
    return proc


def save(path: Path, array: np.ndarray) -> Path:
    np.save(path, array)
    return path


def xorshift_floats(n: int, state: int = 0x9E3779B97F4A7C15):
    """The generator --help documents, for float inputs."""
    mask = (1 << 64) - 1
    values = []
    for _ in range(n):
        state ^= (state << 13) & mask
        state ^= state >> 7
        state ^= (state << 17) & mask
        values.append(np.float32((state >> 40) / 16777216.0 * 2.0 - 1.0))
    return np.array(values, dtype=np.float32), state


# ---- running ---------------------------------------------------------------------


@pytest.mark.parametrize("mmap", [False, True])
def test_mlp_matches_eager(models, tmp_path, mmap):
    pte, mlp, _ = models["mlp"]
    x = np.random.default_rng(1).standard_normal((2, 4)).astype(np.float32)
    args = [pte, "--input", save(tmp_path / "x.npy", x), "--output-dir", tmp_path / "out"]
    if mmap:
        args.append("--mmap")
    run(*args)
    got = np.load(tmp_path / "out" / "output_0.npy")
    want = mlp(torch.from_numpy(x)).detach().numpy()
    assert got.dtype == np.float32 and got.shape == (2, 3)
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL)


def test_generated_inputs_are_documented_and_deterministic(models, tmp_path):
    pte, mlp, _ = models["mlp"]
    run(pte, "--output-dir", tmp_path / "a")
    run(pte, "--output-dir", tmp_path / "b")
    x = np.load(tmp_path / "a" / "input_0.npy")
    assert x.dtype == np.float32 and x.shape == (2, 4)
    expected, _ = xorshift_floats(8)
    np.testing.assert_array_equal(x.reshape(-1), expected)
    assert (x >= -1).all() and (x < 1).all()
    out_a = np.load(tmp_path / "a" / "output_0.npy")
    np.testing.assert_array_equal(out_a, np.load(tmp_path / "b" / "output_0.npy"))
    want = mlp(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(out_a, want, rtol=RTOL, atol=ATOL)


def test_two_methods(models, tmp_path):
    pte, eager, _ = models["two"]
    rng = np.random.default_rng(2)
    a = rng.standard_normal((3, 5)).astype(np.float32)
    b = rng.standard_normal((3, 5)).astype(np.float32)
    fa, fb = save(tmp_path / "a.npy", a), save(tmp_path / "b.npy", b)

    run(pte, "--input", fa, "--input", fb, "--output-dir", tmp_path / "fwd")
    want = eager["forward"](torch.from_numpy(a), torch.from_numpy(b)).numpy()
    np.testing.assert_allclose(
        np.load(tmp_path / "fwd" / "output_0.npy"), want, rtol=RTOL, atol=ATOL
    )

    run(pte, "--method", "shift", "--input", fa, "--output-dir", tmp_path / "shift")
    want = eager["shift"](torch.from_numpy(a)).numpy()
    np.testing.assert_allclose(
        np.load(tmp_path / "shift" / "output_0.npy"), want, rtol=RTOL, atol=ATOL
    )


def test_int64_input(models, tmp_path):
    pte, eager, _ = models["int"]
    idx = np.array([3, -4, 0, 2**40 + 1], dtype=np.int64)
    run(pte, "--input", save(tmp_path / "i.npy", idx), "--output-dir", tmp_path)
    got = np.load(tmp_path / "output_0.npy")
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, eager(torch.from_numpy(idx)).numpy())
    # Generated integers are small and non-negative.
    run(pte, "--output-dir", tmp_path / "gen")
    idx = np.load(tmp_path / "gen" / "input_0.npy")
    assert idx.dtype == np.int64 and idx.shape == (4,)
    assert ((idx >= 0) & (idx < 4)).all()
    got = np.load(tmp_path / "gen" / "output_0.npy")
    np.testing.assert_array_equal(got, eager(torch.from_numpy(idx)).numpy())


def test_dynamic_batch(models, tmp_path):
    pte, eager, _ = models["dynamic"]
    info = run(pte, "--info").stdout
    assert "Tensor Float [8, 5] dim_order (0, 1) dynamic (bound)" in info
    # A smaller batch than the bound: the output takes the input's size.
    x = np.random.default_rng(3).standard_normal((2, 5)).astype(np.float32)
    run(pte, "--input", save(tmp_path / "x.npy", x), "--output-dir", tmp_path / "a")
    got = np.load(tmp_path / "a" / "output_0.npy")
    assert got.shape == (2, 5)
    np.testing.assert_allclose(got, eager(torch.from_numpy(x)).numpy(), rtol=RTOL, atol=ATOL)
    # Generated inputs use the upper bound.
    run(pte, "--output-dir", tmp_path / "b")
    x = np.load(tmp_path / "b" / "input_0.npy")
    assert x.shape == (8, 5)
    got = np.load(tmp_path / "b" / "output_0.npy")
    np.testing.assert_allclose(got, eager(torch.from_numpy(x)).numpy(), rtol=RTOL, atol=ATOL)
    # Beyond the bound is refused.
    big = save(tmp_path / "big.npy", np.zeros((9, 5), np.float32))
    proc = run(pte, "--input", big, check=False)
    assert proc.returncode != 0 and proc.stderr.startswith("error: ")


def test_scalar_inputs_take_traced_values(models, tmp_path):
    pte, eager, _ = models["scalars"]
    info = run(pte, "--info").stdout
    assert "[1] Int = 3" in info and "[2] Double = 0.5" in info and "[3] Bool = True" in info
    # --input files cover the Tensor inputs only.
    x = np.random.default_rng(4).standard_normal((3, 5)).astype(np.float32)
    run(pte, "--input", save(tmp_path / "x.npy", x), "--output-dir", tmp_path)
    want = eager(torch.from_numpy(x), 3, 0.5, True).numpy()
    np.testing.assert_allclose(np.load(tmp_path / "output_0.npy"), want, rtol=RTOL, atol=ATOL)


def test_channels_last_layout(models, tmp_path):
    """.npy files are C order; the runner lays them out in the tensor's dim
    order and writes outputs back in C order."""
    pte, eager, _ = models["nhwc"]
    assert "dim_order (0, 2, 3, 1)" in run(pte, "--info").stdout
    x = np.random.default_rng(5).standard_normal((1, 3, 2, 4)).astype(np.float32)
    run(pte, "--input", save(tmp_path / "x.npy", x), "--output-dir", tmp_path)
    got = np.load(tmp_path / "output_0.npy")
    assert got.shape == (1, 3, 2, 4)
    want = eager(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL)


def test_iterations_print_timing(models):
    pte, _, _ = models["mlp"]
    out = run(pte, "--iterations", "3").stdout
    assert len(re.findall(r"^iteration \d+: [0-9.]+ ms$", out, re.M)) == 3
    assert re.search(r"min [0-9.]+ ms, median [0-9.]+ ms", out)


# ---- --info -------------------------------------------------------------------------


def test_info_lists_methods_operators_and_memory(models):
    pte, _, ops = models["two"]
    out = run(pte, "--info").stdout
    assert "method forward" in out and "method shift" in out
    for method in ("forward", "shift"):
        section = out.split(f"method {method}\n", 1)[1].split("\nmethod ", 1)[0]
        assert ops[method], "upstream exported no operators?"
        for i, (op, uses) in enumerate(ops[method]):
            line = f"[{i}] {op} ({uses} call{'' if uses == 1 else 's'})"
            assert line in section, f"{line!r} missing from --info of {method}:\n{section}"
        assert re.search(r"arena bytes: \d+", section)
        assert re.search(r"planned buffers: \d+", section)
        assert "Tensor Float [3, 5] dim_order (0, 1) static" in section
    assert re.search(r"constant bytes: \d+", out)


def test_info_mlp_operators_and_constants(models):
    pte, _, ops = models["mlp"]
    out = run(pte, "--info").stdout
    for i, (op, uses) in enumerate(ops):
        assert f"[{i}] {op} ({uses} call" in out
    # permute_copy and addmm serve both Linear layers.
    assert sum(uses for _, uses in ops) == 5
    # Two weights and two biases: 4*8 + 8 + 8*3 + 3 floats.
    consts = int(re.search(r"constant bytes: (\d+)", out).group(1))
    assert consts >= (32 + 8 + 24 + 3) * 4


# ---- failures -------------------------------------------------------------------------


def assert_fails(proc: subprocess.CompletedProcess, status: str) -> None:
    assert proc.returncode != 0, proc.stdout
    assert re.search(rf"^error: {status}: \S", proc.stderr, re.M), proc.stderr


def test_missing_model(tmp_path):
    proc = run(tmp_path / "nope.pte", check=False)
    assert_fails(proc, "NotFound")
    assert "nope.pte" in proc.stderr


def test_not_a_program(tmp_path):
    bad = tmp_path / "bad.pte"
    bad.write_bytes(b"\0" * 64)
    assert_fails(run(bad, check=False), "InvalidProgram")


def test_bad_input_dtype(models, tmp_path):
    pte, _, _ = models["mlp"]
    x = np.zeros((2, 4), dtype=np.int64)
    proc = run(pte, "--input", save(tmp_path / "x.npy", x), check=False)
    assert_fails(proc, "InvalidArgument")
    assert "Long" in proc.stderr and "Float" in proc.stderr


def test_bad_input_shape(models, tmp_path):
    pte, _, _ = models["mlp"]
    x = np.zeros((3, 4), dtype=np.float32)
    proc = run(pte, "--input", save(tmp_path / "x.npy", x), check=False)
    assert proc.returncode != 0
    assert proc.stderr.startswith("error: ")


def test_wrong_number_of_inputs(models, tmp_path):
    pte, _, _ = models["two"]
    x = save(tmp_path / "x.npy", np.zeros((3, 5), dtype=np.float32))
    assert_fails(run(pte, "--input", x, check=False), "InvalidArgument")


def test_missing_and_malformed_input_files(models, tmp_path):
    pte, _, _ = models["mlp"]
    assert_fails(run(pte, "--input", tmp_path / "none.npy", check=False), "NotFound")
    broken = tmp_path / "broken.npy"
    broken.write_bytes(b"\x93NUMPY\x01\x00\x10\x00{'descr': '<f4'")
    assert_fails(run(pte, "--input", broken, check=False), "InvalidArgument")
    fortran = save(tmp_path / "f.npy", np.asfortranarray(np.zeros((2, 4), np.float32)))
    proc = run(pte, "--input", fortran, check=False)
    assert_fails(proc, "NotSupported")
    assert "Fortran" in proc.stderr


def test_output_dir_is_a_file(models, tmp_path):
    pte, _, _ = models["mlp"]
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert_fails(run(pte, "--output-dir", blocker / "sub", check=False), "AccessFailed")
    # Missing parents are created.
    run(pte, "--output-dir", tmp_path / "p" / "q")
    assert (tmp_path / "p" / "q" / "output_0.npy").is_file()


def test_unknown_method(models):
    pte, _, _ = models["two"]
    proc = run(pte, "--method", "backward", check=False)
    assert_fails(proc, "NotFound")
    assert "forward" in proc.stderr and "shift" in proc.stderr


def test_usage_errors():
    assert_fails(run(check=False), "InvalidArgument")
    assert_fails(run("m.pte", "--bogus", check=False), "InvalidArgument")
    assert_fails(run("m.pte", "--iterations", "0", check=False), "InvalidArgument")
    assert_fails(run("m.pte", "--input", check=False), "InvalidArgument")


def test_help():
    proc = run("--help")
    assert proc.stdout.startswith("usage: edgetorch-run")
    for opt in ("--method", "--input", "--output-dir", "--iterations", "--info", "--mmap"):
        assert opt in proc.stdout
    assert "xorshift" in proc.stdout


# ---- sanitizers ------------------------------------------------------------------------

ASAN_DIR = os.environ.get("ET_ASAN_BUILD_DIR")
ASAN_RUNNER = Path(ASAN_DIR or "/nonexistent") / "bin" / "edgetorch-run"


# Without ET_ASAN_BUILD_DIR (a plain pytest run) there is no sanitizer build to
# test: skipped, with the reason in the summary (make test sets it; then a
# missing runner fails).
@pytest.mark.skipif(
    not ASAN_DIR,
    reason="no ASan build given (set ET_ASAN_BUILD_DIR to a -DET_SANITIZE=ON build; make test does)",
)
def test_asan_runner_is_clean_and_agrees(models, tmp_path):
    assert ASAN_RUNNER.is_file(), f"ET_ASAN_BUILD_DIR is set but {ASAN_RUNNER} is not built"
    def asan(*args):
        return subprocess.run(
            [str(ASAN_RUNNER), *map(str, args)], capture_output=True, text=True, timeout=300
        )

    for key in ("mlp", "two", "int", "dynamic", "scalars", "nhwc"):
        pte = models[key][0]
        for args in (["--info"], ["--iterations", "2", "--output-dir", tmp_path / key / "asan"]):
            proc = asan(pte, *args)
            assert proc.returncode == 0, proc.stderr
            assert "Sanitizer" not in proc.stderr and "runtime error" not in proc.stderr
        run(pte, "--output-dir", tmp_path / key / "plain")
        for f in sorted((tmp_path / key / "plain").glob("*.npy")):
            np.testing.assert_array_equal(np.load(f), np.load(tmp_path / key / "asan" / f.name))
    bad = save(tmp_path / "bad.npy", np.zeros((2, 4), np.int64))
    proc = asan(models["mlp"][0], "--input", bad)
    assert proc.returncode == 1 and proc.stderr.startswith("error: InvalidArgument: ")
    assert "Sanitizer" not in proc.stderr
