"""The model zoo, end to end: our .pte on upstream's runtime and on ours,
compared with eager PyTorch, and our planned memory against upstream's."""

from __future__ import annotations

import pytest

from _export_util import (ZOO, max_errors, needed_tolerance, run_ours, run_upstream,
                          assert_close, upstream_planned_bytes, zoo_export, zoo_model)

_ratios = {}


@pytest.mark.parametrize("name", ZOO)
def test_zoo_on_upstream_runtime(name, record_property):
    """Format oracle: upstream ExecuTorch runs our file and matches eager."""
    case, model, example, calls, want = zoo_model(name)
    prog = zoo_export(name, "upstream")
    got = run_upstream(prog.buffer, calls, stateful=case.stateful)
    rtol, atol = needed_tolerance(got, want)
    record_property("tolerance", f"rtol={rtol} atol={atol}")
    record_property("max_abs_err", max_errors(got, want)[0])
    assert_close(got, want, rtol=case.rtol, atol=case.atol)


@pytest.mark.parametrize("name", ZOO)
def test_zoo_on_edgetorch_runtime(name, record_property):
    """OUR runtime (edgetorch.runtime, the C runtime) runs our file.

    Exported for the edgetorch kernel library (kernels/portable/ops.def):
    fails at export while the library lacks an operator the model needs.
    """
    case, model, example, calls, want = zoo_model(name)
    prog = zoo_export(name, "ours")
    got = run_ours(prog.buffer, calls, stateful=case.stateful)
    rtol, atol = needed_tolerance(got, want)
    record_property("tolerance", f"rtol={rtol} atol={atol}")
    assert_close(got, want, rtol=case.rtol, atol=case.atol)


@pytest.mark.parametrize("name", ZOO)
def test_zoo_planned_memory_not_above_upstream(name, capsys):
    prog = zoo_export(name, "upstream")
    ours = prog.planned_bytes
    theirs = upstream_planned_bytes(name)
    plan = prog.memory_plan["forward"]
    _ratios[name] = (ours, theirs)
    with capsys.disabled():
        print(f"\n[memory] {name:<20} edgetorch {ours:>9} B   upstream {theirs:>9} B   "
              f"ratio {ours / theirs:.3f}   (lower bound {plan.lower_bound})")
    assert ours <= theirs
    assert ours >= plan.lower_bound


def test_zoo_strictly_smaller_for_half():
    for name in ZOO:
        if name not in _ratios:
            ours = zoo_export(name, "upstream").planned_bytes
            _ratios[name] = (ours, upstream_planned_bytes(name))
    smaller = [n for n, (o, t) in _ratios.items() if o < t]
    assert len(smaller) * 2 >= len(ZOO), (smaller, _ratios)


@pytest.mark.parametrize("name", ZOO)
def test_zoo_plan_in_file_is_valid(name):
    """Re-derive lifetimes from the written file alone: tensors alive at the
    same time never partly share bytes (sharing is all-or-nothing: views,
    in-place kernels and cond outputs reuse exactly the same block)."""
    from edgetorch.pte import read_pte
    from edgetorch.pte.inspect import memory_layout

    prog = zoo_export(name, "upstream")
    f = read_pte(prog.buffer)
    for plan in f.program.execution_plan:
        total = plan.non_const_buffer_sizes[1]
        boxes = memory_layout(f, plan)
        assert boxes
        for b in boxes:
            assert b.memory_id == 1 and b.offset % 16 == 0
            assert b.offset + b.nbytes <= total
        boxes.sort(key=lambda b: b.offset)
        for i, a in enumerate(boxes):
            for b in boxes[i + 1:]:
                if b.offset >= a.offset + a.nbytes:
                    break
                if a.first <= b.last and b.first <= a.last and a.nbytes and b.nbytes:
                    assert (a.offset, a.nbytes) == (b.offset, b.nbytes), (a, b)
