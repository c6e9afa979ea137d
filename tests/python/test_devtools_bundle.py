"""Bundled programs (.bpte) both ways with upstream, and damaged files.

* `.bpte` files written by upstream's serializer pass on edgetorch-run
  --bundled (exit 0); with one expected value changed they fail (exit 1) and
  the report names the output and its error.
* `.bpte` files from ``edgetorch.bundle`` load in upstream's reader with the
  same program bytes and test vectors, and pass on edgetorch-run too.
* Damaged files (truncated, bytes flipped) are rejected with a message,
  never crash (the parser is also fuzzed: tests/fuzz/fuzz_bundled.c).

Run: .venv/bin/python -m pytest -q tests/python/test_devtools_bundle.py
"""

from __future__ import annotations

import random
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

import edgetorch
from edgetorch.devtools.bundle import read_bundle, verify
from runtime_harness import build_dir, cli_path

warnings.filterwarnings("ignore")


class Net(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = torch.nn.Linear(6, 3)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.fc(x)) * y


def _cases(model, n=3):
    g = torch.Generator().manual_seed(1)
    out = []
    for _ in range(n):
        x, y = torch.randn(2, 6, generator=g), torch.randn(2, 3, generator=g)
        out.append(((x, y), (model(x, y).detach(),)))
    return out


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return Net().eval()


def _upstream_bpte(model, cases) -> bytes:
    from executorch.devtools import BundledProgram
    from executorch.devtools.bundled_program.config import MethodTestCase, MethodTestSuite
    from executorch.devtools.bundled_program.serialize import (
        serialize_from_bundled_program_to_flatbuffer,
    )
    from executorch.exir import to_edge

    args = cases[0][0]
    et = to_edge(torch.export.export(model, args)).to_executorch()
    suite = MethodTestSuite("forward", [MethodTestCase(list(i), list(o)) for i, o in cases])
    return serialize_from_bundled_program_to_flatbuffer(BundledProgram(et, [suite]))


def _run(path: Path, *extra: str, exe: Path = None):
    return subprocess.run([str(exe or cli_path()), "--bundled", str(path), *extra],
                          capture_output=True, text=True, timeout=120)


def test_upstream_bpte_passes(tmp_path, model):
    cases = _cases(model)
    p = tmp_path / "up.bpte"
    p.write_bytes(_upstream_bpte(model, cases))
    r = _run(p)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count("PASS") == len(cases)
    assert f"{len(cases)} passed, 0 failed" in r.stdout
    assert verify(p.read_bytes()).ok


def test_wrong_expected_value_fails_clearly(tmp_path, model):
    cases = _cases(model)
    (x, y), (z,) = cases[1]
    z = z.clone()
    z[1, 2] += 0.25
    cases[1] = ((x, y), (z,))
    p = tmp_path / "bad.bpte"
    p.write_bytes(_upstream_bpte(model, cases))
    r = _run(p)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "forward case 0: PASS" in r.stdout and "forward case 1: FAIL" in r.stdout
    # The failing output, its worst error and where it is (flat index 5).
    line = next(s for s in r.stdout.splitlines() if s.startswith("  output 0: FAIL"))
    assert "max abs error 0.25" in line and "element 5" in line, line
    # A loose enough tolerance makes it pass.
    assert _run(p, "--atol", "0.3").returncode == 0
    rep = verify(p.read_bytes())
    assert not rep.ok and [c.ok for c in rep.cases] == [True, False, True]


def test_our_bpte_loads_in_upstream(tmp_path, model):
    from executorch.devtools.bundled_program.serialize import (
        deserialize_from_flatbuffer_to_bundled_program,
    )

    cases = _cases(model, 2)
    pte = edgetorch.export(model, cases[0][0])
    data = edgetorch.bundle(pte, {"forward": cases}, path=tmp_path / "ours.bpte")
    up = deserialize_from_flatbuffer_to_bundled_program(data)
    assert up.version == 2
    assert bytes(up.program) == pte.buffer
    (suite,) = up.method_test_suites
    assert suite.method_name == "forward" and len(suite.test_cases) == 2
    for tc, (inputs, outputs) in zip(suite.test_cases, cases):
        for v, t in zip(list(tc.inputs) + list(tc.expected_outputs),
                        list(inputs) + list(outputs)):
            got = np.frombuffer(bytes(v.val.data), dtype=np.float32).reshape(v.val.sizes)
            np.testing.assert_array_equal(got, t.numpy())
            assert v.val.scalar_type == 6 and list(v.val.dim_order) == [0, 1]
    prog, back = read_bundle(data)
    assert prog == pte.buffer and len(back["forward"]) == 2
    r = _run(tmp_path / "ours.bpte")
    assert r.returncode == 0, r.stdout + r.stderr


def test_damaged_bpte_rejected(tmp_path, model):
    data = bytearray(_upstream_bpte(model, _cases(model, 1)))
    asan = build_dir().parent / "build-asan" / "bin" / "edgetorch-run"
    exe = asan if asan.exists() else None
    rng = random.Random(7)
    variants = [bytes(data[:n]) for n in (0, 7, 12, 64, len(data) // 2, len(data) - 1)]
    # Flip bytes in the flatbuffer part before the embedded program.
    start = data.find(b"BP08")
    for _ in range(40):
        d = bytearray(data)
        for _ in range(3):
            d[rng.randrange(start, min(len(d), 600))] ^= 1 << rng.randrange(8)
        variants.append(bytes(d))
    failures = 0
    for k, v in enumerate(variants):
        p = tmp_path / f"d{k}.bpte"
        p.write_bytes(v)
        r = _run(p, exe=exe)
        assert r.returncode in (0, 1), (k, r.returncode, r.stderr[-2000:])
        assert "Sanitizer" not in r.stderr and "runtime error" not in r.stderr, r.stderr
        if r.returncode == 1:
            failures += 1
            assert "error:" in r.stderr or "FAIL" in r.stdout, (k, r.stdout, r.stderr)
    assert failures >= 6  # every truncation at least
