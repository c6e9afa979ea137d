"""`edgetorch profile`, `edgetorch debug` and `edgetorch bundle` (added to the
main parser by edgetorch.cli through ``add_commands``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _say(msg: str) -> None:
    print(msg, file=sys.stderr)


def cmd_profile(ns: argparse.Namespace) -> int:
    from .profile import profile

    prof = profile(ns.program, method=ns.method, iterations=ns.iterations,
                   warmup=ns.warmup, data_files=ns.data or None, threads=ns.threads,
                   thread_events=ns.thread_events)
    print(prof.table(top=ns.top))
    if ns.trace:
        prof.write_trace(ns.trace)
        _say(f"wrote {ns.trace} (Chrome trace: chrome://tracing or ui.perfetto.dev)")
    if ns.plot:
        prof.plot(ns.plot)
        _say(f"wrote {ns.plot}")
    return 0


def cmd_debug(ns: argparse.Namespace) -> int:
    import edgetorch
    from edgetorch.cli import load_model

    from .debug import compare

    if ns.program and not ns.etrecord:
        raise SystemExit("error: --program needs --etrecord (the ETRecord written with the "
                         "program maps its debug handles to the graph)")
    if ns.etrecord and not ns.program:
        raise SystemExit("error: --etrecord needs --program (the .pte the ETRecord describes)")
    for f in (ns.program, ns.etrecord):
        if f and not Path(f).is_file():
            raise SystemExit(f"error: {f} is not a file")
    model, args, _ = load_model(ns.model, ns.example_shape or ())
    if ns.etrecord:
        # A program exported elsewhere (upstream's XNNPACK lowering, say):
        # delegate nodes are compared through the ETRecord's handle map.
        res = compare(model, args, ns.program, etrecord=ns.etrecord, rtol=ns.rtol,
                      atol=ns.atol)
    else:
        program = edgetorch.export(model, args)
        res = compare(model, args, program, rtol=ns.rtol, atol=ns.atol)
    print(res.table())
    return 1 if res.first_divergent is not None else 0


def cmd_bundle_verify(ns: argparse.Namespace) -> int:
    from .bundle import verify

    report = verify(Path(ns.bundle).read_bytes(), rtol=ns.rtol, atol=ns.atol)
    print(report.text())
    return 0 if report.ok else 1


def add_commands(sub: "argparse._SubParsersAction") -> None:
    p = sub.add_parser("profile", help="per-operator times of a .pte on the C runtime")
    p.add_argument("program", help="the .pte to profile")
    p.add_argument("--method", help="method to run (default: forward, else the first)")
    p.add_argument("--iterations", type=int, default=10, help="timed runs (default 10)")
    p.add_argument("--warmup", type=int, default=1, help="untimed runs first (default 1)")
    p.add_argument("--threads", type=int,
                   help="runtime threads for the runs (default: the runtime's, the CPUs "
                        "this process may use); the table's times are the executing "
                        "thread's (a node's parallel work counts in its time); the trace "
                        "has a track per thread with the chunks each one ran")
    p.add_argument("--thread-events", type=int,
                   help="room for this many thread-pool events in the trace (default: "
                        "sized from the warmup runs; 0: no worker tracks)")
    p.add_argument("--data", action="append", help=".ptd file (repeatable)")
    p.add_argument("--top", type=int, help="only the N most expensive operators")
    p.add_argument("--trace", help="write a Chrome/Perfetto trace (JSON, one track per "
                                   "thread)")
    p.add_argument("--plot", help="write a PNG bar chart of the top operators")
    p.set_defaults(fn=cmd_profile)

    d = sub.add_parser("debug", help="per-operator error of the runtime against eager")
    d.add_argument("model", help="built-in model name or path/to/file.py:attribute")
    d.add_argument("--example-shape", action="append",
                   help="an example input, e.g. 1x3x32x32 or int64:1x16 (repeat per input)")
    d.add_argument("--program",
                   help="compare this .pte (with --etrecord) instead of exporting MODEL "
                        "here: e.g. one lowered to XNNPACK by upstream, compared per "
                        "delegate node")
    d.add_argument("--etrecord", help="the ETRecord written with --program")
    d.add_argument("--rtol", type=float, default=1e-4,
                   help="relative error above which an operator is reported (default 1e-4)")
    d.add_argument("--atol", type=float, default=1e-5,
                   help="absolute error above which an operator is reported (default 1e-5)")
    d.set_defaults(fn=cmd_debug)

    b = sub.add_parser("verify-bundle", help="run a .bpte's test cases on the C runtime")
    b.add_argument("bundle", help="the .bpte file")
    b.add_argument("--rtol", type=float, default=1e-5,
                   help="relative tolerance (default 1e-5, upstream's)")
    b.add_argument("--atol", type=float, default=1e-8,
                   help="absolute tolerance (default 1e-8, upstream's)")
    b.set_defaults(fn=cmd_bundle_verify)
