#!/usr/bin/env python
"""Choose the OpInfo samples of tests/conformance/one_op_cases.json.

Reads the results of a full conformance run (build/conformance/results.json)
and, for every operator of kernels/portable/ops.def that some passing
sample's program calls, picks a sample whose program calls as few operators
as possible (float32 first, then the smaller input), greedily, so that the
chosen programs together reach every such operator. Each choice is exported
with upstream ExecuTorch's exporter (this also fills the test's cache,
build/testdata/one-op/); a sample upstream cannot export, or whose upstream
program does not call the targeted operator, is replaced by the next best
candidate, and so is one upstream's own runtime cannot run. Operators the
hand-written cases of tests/conformance/one_op.py reach are skipped; those
nothing reaches are written to the file's "unreached" list and printed,
with the reason where one_op.UNREACHABLE gives one (an operator without a
reason needs a hand-written case or an entry there, or
tests/python/test_upstream_one_op.py fails).

    python tests/conformance/make_one_op_cases.py [--results PATH] [--out PATH]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))

DTYPE_RANK = ["float32", "int64", "int32", "bool", "float64", "uint8", "int8", "int16",
              "float16", "bfloat16"]


def ops_def() -> List[str]:
    import re
    pat = re.compile(r'^\s*ET_OP\(\s*"([^"]+)"')
    text = (REPO / "kernels" / "portable" / "ops.def").read_text().splitlines()
    return [m.group(1) for m in map(pat.match, text) if m]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--results", type=Path, default=REPO / "build" / "conformance" / "results.json")
    ap.add_argument("--out", type=Path, default=HERE / "one_op_cases.json")
    ap.add_argument("--tries", type=int, default=4, help="candidates tried per operator")
    a = ap.parse_args()

    import one_op
    import run as R

    doc = json.loads(a.results.read_text())
    opts = doc["options"]
    library = set(ops_def())
    hand_targets = set()
    for c in one_op.load_cases():
        if c.build is not None:  # hand-written cases: what upstream's programs call
            hand_targets.update(one_op.build(c).kernels)

    cands = [r for r in doc["results"]
             if r["status"] == "pass" and r.get("compared", "values") == "values"
             and r.get("kernels")]

    def score(r: Dict[str, Any]) -> Any:
        return (len(r["kernels"]), DTYPE_RANK.index(r["dtype"]), len(r["input"]), r["op"])

    cands.sort(key=score)
    by_kernel: Dict[str, List[Dict[str, Any]]] = {}
    for r in cands:
        for k in r["kernels"]:
            by_kernel.setdefault(k, []).append(r)

    chosen: List[Dict[str, Any]] = []
    covered: set = set()
    unreached: List[str] = []
    t0 = time.monotonic()
    for kernel in sorted(library):
        if kernel in covered or kernel in hand_targets:
            continue
        options = by_kernel.get(kernel, [])
        done = False
        for r in options[:a.tries]:
            gen = r.get("gen")
            if gen is None:  # results without the index: recompute it
                op = next(o for o in R.select_opinfos([r["op"]]) if R.opinfo_name(o) == r["op"])
                n = opts["max_samples"] if r["dtype"] == "float32" else opts["max_samples_other"]
                gen = R.pick_samples(op, r["op"], R.DTYPES[r["dtype"]], n,
                                     opts["gen_limit"])[r["sample"]][0]
            cid = f"{r['op']}/{r['dtype']}/{gen}"
            case = one_op.OneOpCase(id=cid, targets=[kernel], op=r["op"], dtype=r["dtype"],
                                    gen=gen)
            try:
                built = one_op.build(case)
            except Exception as e:  # noqa: BLE001
                print(f"  {kernel}: upstream cannot export {cid}: {type(e).__name__}: "
                      f"{str(e).strip().splitlines()[0][:150] if str(e).strip() else ''}")
                continue
            if kernel not in built.kernels:
                print(f"  {kernel}: upstream's program for {cid} calls {built.kernels}")
                continue
            try:
                one_op.run_upstream(built.pte, built.inputs)
            except Exception as e:  # noqa: BLE001 - the oracle must run its own file
                print(f"  {kernel}: upstream's runtime cannot run {cid}: {type(e).__name__}: "
                      f"{str(e).strip().splitlines()[0][:150] if str(e).strip() else ''}")
                continue
            prev = next((c for c in chosen if c["id"] == cid), None)
            if prev is not None:
                prev["targets"].append(kernel)
            else:
                chosen.append({"id": cid, "targets": [kernel], "op": r["op"],
                               "dtype": r["dtype"], "gen": gen,
                               "upstream_kernels": built.kernels})
            covered.update(k for k in built.kernels if k in library)
            print(f"{kernel}: {cid} -> {built.kernels} ({time.monotonic() - t0:.0f}s)",
                  flush=True)
            done = True
            break
        if not done:
            unreached.append(kernel)
    for c in chosen:  # every ops.def operator the program calls is a target
        c["targets"] = sorted(set(c["targets"]) | (set(c["upstream_kernels"]) & library))
    out = {
        "comment": "Generated by tests/conformance/make_one_op_cases.py from a conformance "
                   "run; OpInfo samples whose upstream-exported programs reach the operators "
                   "of kernels/portable/ops.def. 'gen' is the sample's index among those the "
                   "OpInfo generates under the harness's seed.",
        "torch": opts.get("torch"),
        "cases": chosen,
        "unreached": sorted(set(unreached) - hand_targets),
    }
    a.out.write_text(json.dumps(out, indent=1) + "\n")
    covered |= hand_targets & library
    print(f"{len(chosen)} OpInfo cases and the hand-written ones reach {len(covered)} operators; "
          f"{len(out['unreached'])} operators unreached:")
    for k in out["unreached"]:
        why = one_op.UNREACHABLE.get(k, "NO REASON: add a hand-written case or a reason")
        print(f"  {k}: {why}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
