"""Robustness: thousands of damaged corpus programs, zero crashes.

Runs tests/tools/mutate.c, built with AddressSanitizer and
UndefinedBehaviorSanitizer (cmake -DET_SANITIZE=ON, default directory
build-asan, override with ET_ASAN_BUILD_DIR), over every corpus program.
Any sanitizer report or crash ends mutate abnormally, a hang trips its
per-variant alarm, and broken invariants (a failure without a message, an
unknown status) are counted as failures; all of them fail this test.

Environment: ET_MUTATION_COUNT (variants per file, default 10000),
ET_MUTATION_SEED (default 1).
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

import upstream_corpus as uc
from upstream_corpus import corpus  # noqa: F401  (session fixture)

REPO_ROOT = Path(__file__).resolve().parents[2]
COUNT = int(os.environ.get("ET_MUTATION_COUNT", "10000"))
SEED = int(os.environ.get("ET_MUTATION_SEED", "1"))
SUMMARY = re.compile(r"^(\d+) passed, (\d+) failed$", re.MULTILINE)


def mutate_exe() -> Path:
    d = Path(os.environ.get("ET_ASAN_BUILD_DIR", REPO_ROOT / "build-asan"))
    exe = d / "bin" / "mutate"
    if not exe.exists():
        pytest.fail(
            f"{exe} does not exist: build it with\n"
            f"  cmake -S {REPO_ROOT} -B {d} -DET_SANITIZE=ON -DCMAKE_C_COMPILER=clang && cmake --build {d} -j2 --target mutate\n"
            "or set ET_ASAN_BUILD_DIR"
        )
    return exe


def run_mutate(args, timeout=1800):
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0:allocator_may_return_null=1")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    return subprocess.run([str(mutate_exe())] + [str(a) for a in args], capture_output=True, text=True, timeout=timeout, env=env)


@pytest.mark.parametrize("name", uc.program_names())
def test_mutation(corpus, name):  # noqa: F811
    pte = corpus[name].pte
    proc = run_mutate(["--count", COUNT, "--seed", SEED, pte])
    report = f"exit {proc.returncode}\n--- stdout (tail)\n{proc.stdout[-4000:]}\n--- stderr (tail)\n{proc.stderr[-8000:]}"
    assert proc.returncode == 0, report
    assert "original executed ok" in proc.stdout, report
    m = SUMMARY.search(proc.stdout)
    assert m, report
    passed, failed = int(m.group(1)), int(m.group(2))
    assert failed == 0, report
    assert passed == COUNT + 1, report  # the variants and the original
    print(proc.stdout)


def test_mutate_reports_failure(tmp_path):
    """mutate can fail: a file that is not a program is reported, not passed."""
    junk = tmp_path / "junk.pte"
    junk.write_bytes(b"\x00" * 64)
    proc = run_mutate(["--count", 5, junk])
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "original did NOT execute" in proc.stdout
    assert SUMMARY.search(proc.stdout).group(2) == "1"


def test_mutate_reproduces_a_variant(corpus, tmp_path):  # noqa: F811
    """--only I --write PATH rebuilds variant I byte for byte, so a finding
    can be replayed."""
    pte = corpus["mlp"].pte
    a, b = tmp_path / "a.pte", tmp_path / "b.pte"
    for out in (a, b):
        proc = run_mutate(["--seed", 7, "--only", 3, "--write", out, pte])
        assert proc.returncode == 0, proc.stdout + proc.stderr
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != pte.read_bytes()


def test_mutate_hang_guard(corpus, tmp_path):  # noqa: F811
    """A program that never ends trips mutate's per-variant alarm: the run
    fails (exit 3) and names the culprit. The program jumps from its first
    JumpFalse back to instruction 0 on a constant False, so it loops until
    the instruction limit given here (the runtime's default, the method's
    length times 1024, would stop it at once), far longer than the 1 s
    alarm under the sanitizers."""
    from test_bad_files import _schema, plan_of, reserialize

    def loop(program):
        S = _schema()
        plan = plan_of(program)
        const_false = next(i for i, v in enumerate(plan.values) if isinstance(v.val, S.Bool) and not v.val.bool_val)
        for ins in plan.chains[0].instructions:
            if isinstance(ins.instr_args, S.JumpFalseCall):
                ins.instr_args.cond_value_index = const_false
                ins.instr_args.destination_instruction = 0
                return
        raise LookupError("no JumpFalseCall")

    pte = tmp_path / "loop.pte"
    pte.write_bytes(reserialize(corpus["cond"].pte.read_bytes(), pre=loop))
    proc = run_mutate(["--count", 0, "--timeout", 1, "--max-instructions", 10**12, pte], timeout=300)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "HANG" in proc.stderr and "loop.pte" in proc.stderr


# --- structured mutation: extreme scalar arguments ----------------------------

INT_EXTREMES = [2**63 - 1, -(2**63), 2**31, -(2**31) - 1, -1, 0]
DOUBLE_EXTREMES = [float("nan"), "inf", "-inf", 1e308, -0.0]


def _extreme_variants(data: bytes):
    """Every Int value of every method set to each extreme, every Double to
    each extreme, every Bool flipped: the values kernels read as sizes,
    dims, strides, paddings, epsilons and flags. Yields (label, bytes)."""
    import copy

    from test_bad_files import _schema, _ser

    S, P = _schema(), _ser()
    pte = P.deserialize_pte_binary(data)
    for plan in pte.program.execution_plan:
        for i, ev in enumerate(plan.values):
            v = ev.val
            if isinstance(v, S.Int):
                choices = [(f"int{x}", S.Int(int_val=x)) for x in INT_EXTREMES if x != v.int_val]
            elif isinstance(v, S.Double):
                choices = [(f"double{x}", S.Double(double_val=float(x)) if not isinstance(x, str) else S.Double(float(x))) for x in DOUBLE_EXTREMES]
            elif isinstance(v, S.Bool):
                choices = [("flip", S.Bool(bool_val=not v.bool_val))]
            else:
                continue
            for label, new in choices:
                ev.val = new
                yield f"{plan.name}-v{i}-{label}", bytes(P.serialize_pte_binary(copy.copy(pte)))
            ev.val = v


@pytest.mark.parametrize("name", uc.program_names())
def test_argument_extremes(corpus, name, tmp_path):  # noqa: F811
    """No scalar argument value, however extreme, crashes a kernel: each
    variant may be refused (any status, with a message) but must not trip a
    sanitizer."""
    files = []
    for label, data in _extreme_variants(corpus[name].pte.read_bytes()):
        p = tmp_path / f"{name}-{label}.pte"
        p.write_bytes(data)
        files.append(p)
    if not files:
        # Nothing to vary: the program must really have no scalar values.
        from test_bad_files import _schema, _ser

        S = _schema()
        pte = _ser().deserialize_pte_binary(corpus[name].pte.read_bytes())
        kinds = {type(v.val) for plan in pte.program.execution_plan for v in plan.values}
        assert not kinds & {S.Int, S.Double, S.Bool}, f"{name}: scalar values but no variants"
        return
    proc = run_mutate(["--count", 0, "--any-outcome", "--timeout", 60] + files, timeout=1800)
    report = f"exit {proc.returncode}\n--- stdout (tail)\n{proc.stdout[-3000:]}\n--- stderr (tail)\n{proc.stderr[-8000:]}"
    assert proc.returncode == 0, report
    m = SUMMARY.search(proc.stdout)
    assert m and int(m.group(2)) == 0 and int(m.group(1)) == len(files), report
