"""Memory probe: one fresh process loads one model on one runtime and runs it once.

    python bench/probe.py '{"key": "edgetorch", "path": ".../et.pte",
                            "inputs": [".../input_0.npy"], "ref": ".../ref.npz"}'

Prints one JSON line:

    baseline_kib   peak RSS after importing the runtime's libraries and
                   constructing its (empty) adapter, before the model is
                   touched: the peak of a process that imports the same
                   libraries without loading a model
    peak_kib       peak RSS after load + init + one inference
    load_s, run_s  first load + init and first inference in a fresh process
    ok, max_abs_err  the one inference checked against eager

Peaks are VmHWM (see _maxrss_kib). ``probe.py --exec CMD...`` runs a
non-Python command (edgetorch-run) and reports its ru_maxrss.
Single-threaded for every runtime (thread pools add only their stacks).
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _maxrss_kib() -> int:
    """Peak RSS of this process's own address space (VmHWM).

    Not ru_maxrss: Linux carries a parent's peak RSS across fork + exec into
    the child's ru_maxrss, so a probe started by a 2 GB benchmark process
    would report at least 2 GB. VmHWM belongs to the address space that exec
    created, so it counts only what this process touched."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def exec_and_measure(cmd: list) -> None:
    """Run a non-Python command and print its ru_maxrss (from wait4).

    The child is forked from this small process, so the inherited floor in
    its ru_maxrss is this process's own peak, printed as floor_kib."""
    import subprocess
    floor = _maxrss_kib()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    err = p.stderr.read().decode(errors="replace").strip().splitlines() if p.stderr else []
    print(json.dumps({"peak_kib": ru.ru_maxrss, "floor_kib": floor,
                      "returncode": p.returncode, "stderr_tail": err[-2:]}))


def main() -> None:
    if sys.argv[1] == "--exec":
        exec_and_measure(sys.argv[2:])
        return
    args = json.loads(sys.argv[1])
    sys.path.insert(0, str(REPO))
    import numpy as np

    from bench import runtimes as R

    key = args["key"]
    inputs = [np.load(p) for p in args.get("inputs", [])]
    if key in R.EDGETORCH_KEYS:
        R.edgetorch_set_threads(1)
    elif key in ("et_portable", "et_xnnpack"):
        R.upstream_set_threads(1)
    elif key == "eager":
        R.eager_set_threads(1)
    runner = R.make_runner(key, args.get("path", ""), 1, args.get("eager_modules", ()),
                           mmap=bool(args.get("mmap")))
    baseline = _maxrss_kib()
    res = {"key": key, "baseline_kib": baseline,
           "torch_imported": "torch" in sys.modules}
    if args.get("imports_only"):
        res["peak_kib"] = baseline
        print(json.dumps(res))
        return
    t0 = time.perf_counter()
    runner.load()
    t1 = time.perf_counter()
    runner.prepare(inputs)
    t2 = time.perf_counter()
    out = runner.run()
    t3 = time.perf_counter()
    res.update(peak_kib=_maxrss_kib(), load_s=t1 - t0, run_s=t3 - t2)
    if args.get("ref"):
        with np.load(args["ref"]) as z:
            ref = [z[f"arr_{i}"] for i in range(len(z.files))]
        ok, err, why = R.compare(runner.to_numpy(out), ref, args.get("rtol", 1e-3),
                                 args.get("atol", 1e-4))
        res.update(ok=ok, max_abs_err=err, why=why)
    print(json.dumps(res))


if __name__ == "__main__":
    main()
