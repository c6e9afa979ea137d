"""A fast slice of the operator conformance harness (tests/conformance/run.py).

A fixed, representative set of OpInfos (elementwise, comparison, reduction,
shape, indexing, linear algebra, convolution, pooling, normalization,
activation) at float32, int32 and float16, at most two samples per
(OpInfo, float32) and one per other dtype, exported with edgetorch's exporter
and run on the edgetorch runtime in a worker process. The pass rate over
applicable samples must be at least 97% and the runtime must never crash;
every failure is printed with its class and input. The full run is
``make conformance`` (docs/conformance.md).

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

SUBSET = [
    # elementwise arithmetic and math
    "add", "sub", "mul", "div.no_rounding_mode", "div.floor_rounding", "remainder", "pow",
    "abs", "neg", "exp", "log", "sqrt", "rsqrt", "sin", "tanh", "sigmoid", "floor", "round",
    "clamp", "where", "maximum",
    # comparison and logic
    "eq", "lt", "ge", "logical_not", "logical_and", "bitwise_and", "isnan",
    # reductions, scans, softmax
    "sum", "mean", "amax", "argmax", "cumsum", "softmax", "log_softmax", "var",
    # shape and copies
    "cat", "stack", "permute", "transpose", "reshape", "expand", "squeeze", "unsqueeze",
    "flip", "narrow", "split", "repeat", "tril",
    # indexing
    "index_select", "gather", "scatter", "masked_fill", "nn.functional.embedding",
    # linear algebra, nn
    "mm", "bmm", "addmm", "nn.functional.linear", "nn.functional.conv2d",
    "nn.functional.max_pool2d", "nn.functional.avg_pool2d",
    "nn.functional.adaptive_avg_pool2d", "nn.functional.layer_norm",
    "nn.functional.relu", "nn.functional.gelu", "nn.functional.hardtanh",
    "nn.functional.leaky_relu", "constant_pad_nd", "nn.functional.pixel_shuffle",
    # factories and conversions
    "full_like", "zeros_like", "arange", "to",
]
DTYPES = ("float32", "int32", "float16")
MIN_PASS_RATE = 97.0


@pytest.fixture(scope="module")
def report():
    import run  # tests/conformance/run.py

    opts = run.Options(ops=SUBSET, dtypes=DTYPES, max_samples=2, max_samples_other=1,
                       quiet=True)
    if os.environ.get("ET_CONFORMANCE_CACHE"):  # another cache (a cold run, say)
        opts.cache_dir = Path(os.environ["ET_CONFORMANCE_CACHE"])
    rep = run.run(opts)
    run.write_json(rep, REPO / "build" / "conformance" / "subset.json")
    print(f"\nconformance subset: {run.summary_line(rep)}")
    run.print_failures(rep, limit=1000)
    return rep


def test_subset_covers_every_opinfo(report):
    """Every OpInfo of the subset exists and produced samples."""
    assert sorted(report.opinfos) == sorted(SUBSET)
    tried = {r["op"] for r in report.results}
    assert tried == set(SUBSET), sorted(set(SUBSET) - tried)


def test_subset_is_mostly_applicable(report):
    """The subset exercises the kernels: most samples export."""
    assert report.applicable >= 0.8 * len(report.results), (
        f"only {report.applicable} of {len(report.results)} samples are applicable")


def test_subset_no_crashes(report):
    crashes = report.crashes()
    lines = [f"{r['op']} [{r['dtype']} #{r['sample']}]: {r['detail']} (input {r['input']})"
             for r in crashes]
    assert not crashes, "runtime crashes:\n" + "\n".join(lines)


def test_subset_pass_rate(report):
    fails = report.failures()
    lines = [f"{r['op']} [{r['dtype']} #{r['sample']}] {r['class']}: {r['detail']}\n"
             f"    input: {r['input']}" for r in fails]
    assert report.pass_rate >= MIN_PASS_RATE, (
        f"pass rate {report.pass_rate:.1f}% < {MIN_PASS_RATE}% "
        f"({len(fails)} failures of {report.applicable} applicable samples):\n"
        + "\n".join(lines))
