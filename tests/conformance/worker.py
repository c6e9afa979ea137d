"""Runs programs on the edgetorch runtime for the conformance harness.

Started by run.py as ``python worker.py <fd>``: reads requests from the
connection on file descriptor <fd> and answers each one, until the
connection closes. A request is ``(pte_bytes, [numpy inputs])``; the answer
is ``("ok", [outputs])`` or ``("error", phase, status, message)`` where phase
is "load_program", "load_method" or "execute". A crash of the runtime kills
only this process; the harness notices, records a crash and starts another.

Imports numpy and the runtime only (no torch), so it starts fast.
"""

from __future__ import annotations

import sys
from multiprocessing.connection import Connection


def main() -> None:
    conn = Connection(int(sys.argv[1]))
    import numpy as np  # noqa: F401  (outputs are numpy arrays)
    import edgetorch.runtime as rt

    while True:
        try:
            req = conn.recv()
        except EOFError:
            return
        pte, inputs = req
        phase = "load_program"
        try:
            prog = rt.load_program(pte)
            phase = "load_method"
            method = prog.load_method("forward")
            phase = "execute"
            outs = method.execute(list(inputs))
            ans = ("ok", list(outs))
        except rt.EdgetorchError as e:
            ans = ("error", phase, e.status or f"code {e.code}", str(e))
        except Exception as e:  # noqa: BLE001 - reported, not hidden
            ans = ("error", phase, type(e).__name__, str(e))
        conn.send(ans)


if __name__ == "__main__":
    main()
