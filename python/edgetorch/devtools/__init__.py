"""Developer tools: profiles, numeric debugging and bundled test programs.

* ``profile(pte, iterations=10)`` -> per-operator times, Chrome trace, plot
  (the runtime's event tracer; ETDump files for upstream's Inspector come
  from ``Method.write_etdump``).
* ``compare(model, example_args, program)`` -> per-operator error against
  eager and the first operator that diverges (also ``edgetorch.debug``).
* ``bundle(program, {method: [(inputs, expected_outputs), ...]})`` -> `.bpte`
  bytes upstream's BundledProgram reader loads (also ``edgetorch.bundle``).
* ``map_delegate_nodes(etrecord, program)`` completes an upstream ETRecord
  of an XNNPACK-delegated program so that the Inspector maps the CPU
  backend's node events to graph nodes.
"""

from __future__ import annotations

from typing import Any

__all__ = ["profile", "compare", "bundle", "write_etrecord", "map_delegate_nodes"]


def __getattr__(name: str) -> Any:
    import importlib

    where = {"profile": ".profile", "compare": ".debug", "bundle": ".bundle",
             "write_etrecord": ".etrecord", "map_delegate_nodes": ".etrecord"}
    if name in where:
        return getattr(importlib.import_module(where[name], __name__), name)
    raise AttributeError(f"module 'edgetorch.devtools' has no attribute {name!r}")
