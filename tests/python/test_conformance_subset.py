"""A fast slice of the operator conformance harness (tests/conformance/run.py),
checked sample by sample against the checked-in baseline.

A fixed, representative set of OpInfos (run.SUBSET_OPS: elementwise,
comparison, reduction, shape, indexing, linear algebra, convolution, pooling,
normalization, activation) at float32, int32 and float16, at most two samples
per (OpInfo, float32) and one per other dtype, exported with edgetorch's
exporter and run on the edgetorch runtime in a worker process. Every sample's
outcome (pass, shape-only, fail: <class>, na: <class>) must be the one
tests/conformance/baseline.json records: a sample that starts failing, stops
being applicable, or starts passing fails this test until the baseline is
updated in the same commit (the message says which samples changed and how).
The runtime must never crash. The full run, checked against the same
baseline, is ``make conformance`` (docs/conformance.md).

Exports are cached in build/conformance-cache/, shared with the full run
($ET_CONFORMANCE_CACHE picks another directory).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = next(p for p in Path(__file__).resolve().parents
            if (p / "kernels" / "portable" / "ops.def").is_file())
sys.path.insert(0, str(REPO / "tests" / "conformance"))

import run  # noqa: E402  (tests/conformance/run.py)


@pytest.fixture(scope="module")
def report():
    opts = run.subset_options(quiet=True)
    if os.environ.get("ET_CONFORMANCE_CACHE"):  # another cache (a cold run, say)
        opts.cache_dir = Path(os.environ["ET_CONFORMANCE_CACHE"])
    rep = run.run(opts)
    run.write_json(rep, REPO / "build" / "conformance" / "subset.json")
    print(f"\nconformance subset: {run.summary_line(rep)}")
    run.print_failures(rep, limit=1000)
    return rep


def test_subset_covers_every_opinfo(report):
    """Every OpInfo of the subset exists and produced samples."""
    assert sorted(report.opinfos) == sorted(run.SUBSET_OPS)
    tried = {r["op"] for r in report.results}
    assert tried == set(run.SUBSET_OPS), sorted(set(run.SUBSET_OPS) - tried)


def test_subset_is_mostly_applicable(report):
    """The subset exercises the kernels: most samples export."""
    assert report.applicable >= 0.8 * len(report.results), (
        f"only {report.applicable} of {len(report.results)} samples are applicable")


def test_subset_no_crashes(report):
    crashes = report.crashes()
    lines = [f"{r['op']} [{r['dtype']} #{r['sample']}]: {r['detail']} (input {r['input']})"
             for r in crashes]
    assert not crashes, "runtime crashes:\n" + "\n".join(lines)


def test_subset_matches_baseline(report):
    """Every sample has the outcome the baseline records (no threshold: one
    sample that changes class fails)."""
    base = run.read_baseline()
    assert base, f"no baseline at {run.BASELINE} (python tests/conformance/run.py --update-baseline)"
    changes = run.baseline_changes(report, base, full=False)
    assert not changes, run.baseline_failure_message(changes, subset=True)


def test_baseline_check_can_fail(report):
    """The comparison notices a changed sample (the check is not vacuous)."""
    base = {run.sample_id(r): run.outcome(r) for r in report.results}
    assert run.baseline_changes(report, base, full=False) == []
    r = next(r for r in report.results if r["status"] == "pass")
    base[run.sample_id(r)] = "fail: wrong values"
    changes = run.baseline_changes(report, base, full=False)
    assert len(changes) == 1 and changes[0].startswith(run.sample_id(r))
    assert "fail: wrong values -> pass" in changes[0]
