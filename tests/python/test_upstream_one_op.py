"""Upstream's one-operator programs: our runtime gives upstream's results.

For a sample of each operator of kernels/portable/ops.def that upstream
ExecuTorch's exporter emits (tests/conformance/one_op.py: OpInfo samples
chosen by make_one_op_cases.py, plus hand-written modules, some exported
with to_edge options that keep an operator from being decomposed; the
operators no upstream program can call are listed with reasons in
one_op.UNREACHABLE), the program upstream's exporter writes runs on
upstream's runtime (``executorch.runtime.Runtime``) and on ours
(``edgetorch.runtime``) with the same inputs; outputs must have the same
dtypes and shapes, floating values must agree within 1e-6 relative to the
output's largest magnitude, and integer and bool values exactly. Random
operators are compared by dtype and shape only.

Upstream's exports are cached in build/testdata/one-op/ (a cold run exports
each case once, about two seconds apiece).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = next(p for p in Path(__file__).resolve().parents
            if (p / "kernels" / "portable" / "ops.def").is_file())
sys.path.insert(0, str(REPO / "tests" / "conformance"))

import one_op  # noqa: E402

CASES = one_op.load_cases()
BY_ID = {c.id: c for c in CASES}


def test_cases_reach_the_operators():
    """Every operator of ops.def is a case's target or listed as unreachable.

    test_upstream_program_on_our_runtime checks that each case's program
    calls its targets, so together the cases reach every operator except
    those one_op.UNREACHABLE names, each with the reason upstream's exporter
    cannot produce it. A new operator in ops.def needs a case or a reason.
    """
    import re
    pat = re.compile(r'^\s*ET_OP\(\s*"([^"]+)"')
    library = {m.group(1) for m in map(
        pat.match, (REPO / "kernels" / "portable" / "ops.def").read_text().splitlines()) if m}
    targets = {t for c in CASES for t in c.targets}
    unreachable = set(one_op.UNREACHABLE)
    unknown = sorted((targets | unreachable) - library)
    assert not unknown, f"case targets or unreachable operators not in ops.def: {unknown}"
    reached = sorted(targets & unreachable)
    assert not reached, f"listed as unreachable but a case targets them: {reached}"
    missing = sorted(library - targets - unreachable)
    assert not missing, (f"operators no case targets and one_op.UNREACHABLE does not "
                         f"explain: {missing}")
    assert len(CASES) >= 100, len(CASES)
    print(f"{len(CASES)} cases target {len(targets)} of {len(library)} operators; "
          f"unreachable: {sorted(unreachable)}")


@pytest.mark.parametrize("cid", sorted(BY_ID))
def test_upstream_program_on_our_runtime(cid):
    case = BY_ID[cid]
    built = one_op.build(case)
    missing = [t for t in case.targets if t not in built.kernels]
    assert not missing, (f"upstream's program calls {built.kernels}, "
                         f"not the targeted {missing}")
    ups = one_op.run_upstream(built.pte, built.inputs)
    ours = one_op.run_ours(built.pte, built.inputs)
    diffs = one_op.differences(ours, ups, case.values)
    assert not diffs, f"{cid} ({', '.join(built.kernels)}):\n  " + "\n  ".join(diffs)
