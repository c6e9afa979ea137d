"""ETRecord: what upstream's Inspector needs to map ETDump events to graph
nodes (devtools/etrecord/_etrecord.py's zip layout).

Entries written: ``ETRECORD_V0``; ``edge_dialect_exported_program/<method>``
with its ``_state_dict``, ``_constants`` and ``_example_inputs`` (torch's
export serialization, with each call_function node's ``debug_handle`` in
its metadata as upstream's serializer stores it); ``debug_handle_map``
({method: {instruction id: [debug handles]}}); ``delegate_map`` and
``instruction_id_to_num_outs_map``.

Debug handles are 1, 2, ... over the call_function nodes of the decomposed
graph; an instruction maps to the handle of the node it was emitted from
(``PteProgram.instruction_nodes``).
"""

from __future__ import annotations

import copy
import json
import os
import zipfile
from typing import Any, Dict, List, Union


def _serialize_with_debug_handles(ep: Any) -> Any:
    from torch._export.serde import serialize as tser

    cls = tser.GraphModuleSerializer
    original = cls.serialize_metadata

    def serialize_metadata(self: Any, node: Any) -> Dict[str, str]:
        meta = original(self, node)
        if "debug_handle" in node.meta:
            meta["debug_handle"] = str(node.meta["debug_handle"])
        return meta

    cls.serialize_metadata = serialize_metadata
    try:
        return tser.serialize(ep)
    finally:
        cls.serialize_metadata = original


UPSTREAM_SCHEMA = (5, 4)  # executorch 1.5.1's exir/serde/schema.py


def _strip_newer_fields(obj: Any) -> Any:
    """Drop the fields torch's serializer writes that upstream's vendored
    copy of the schema (executorch 1.5.1's exir/serde) does not know; its
    reader rejects unknown fields. Every one of them is optional."""
    if isinstance(obj, list):
        return [_strip_newer_fields(x) for x in obj]
    if not isinstance(obj, dict):
        return obj
    keys = set(obj)
    drop = set()
    if {"graph_module", "opset_version"} <= keys:  # ExportedProgram
        drop |= {"torch_version", "guards_code"}
        # The version of the schema upstream reads (its exir/serde copy);
        # what remains after the drops is in that schema.
        obj = dict(obj, schema_version={"major": UPSTREAM_SCHEMA[0],
                                        "minor": UPSTREAM_SCHEMA[1]})
    if {"graph", "signature"} <= keys:  # GraphModule
        drop |= {"treespec_namedtuple_fields", "metadata"}
    if {"nodes", "tensor_values"} <= keys:  # Graph
        drop |= {"sym_float_values"}
    if {"target", "inputs", "outputs", "metadata"} <= keys:  # Node
        drop |= {"is_hop_single_tensor_return"}
    if {"in_spec", "out_spec"} <= keys:  # ModuleCallSignature
        drop |= {"forward_arg_names"}
    if keys <= {"name", "arg", "kind"} and {"name", "arg"} <= keys:  # NamedArgument
        drop |= {"kind"}
    return {k: _strip_newer_fields(v) for k, v in obj.items() if k not in drop}


def write_etrecord(program: Any, path: Union[str, "os.PathLike[str]"]) -> None:
    """Write the ETRecord of ``program`` (a PteProgram from edgetorch.export)."""
    edge = getattr(program, "edge_program", None)
    nodes_of = getattr(program, "instruction_nodes", None)
    if edge is None or not nodes_of:
        raise ValueError("write_etrecord needs a program made by edgetorch.export")
    handle_map: Dict[str, Dict[str, List[int]]] = {}
    num_outs: Dict[str, Dict[str, int]] = {}
    entries: Dict[str, bytes] = {"ETRECORD_V0": b""}
    for method, nodes in nodes_of.items():
        ep = copy.deepcopy(edge.exported_program(method))
        handle_of: Dict[str, int] = {}
        outs_of: Dict[str, int] = {}
        for n in ep.graph.nodes:
            if n.op == "call_function":
                handle_of[n.name] = n.meta["debug_handle"] = len(handle_of) + 1
                v = n.meta.get("val")
                outs_of[n.name] = len(v) if isinstance(v, (tuple, list)) else 1
        handle_map[method] = {str(i): [handle_of[name]] for i, name in enumerate(nodes)
                              if name in handle_of}
        num_outs[method] = {str(i): outs_of[name] for i, name in enumerate(nodes)
                            if name in outs_of}
        art = _serialize_with_debug_handles(ep)
        base = f"edge_dialect_exported_program/{method}"
        entries[base] = json.dumps(_strip_newer_fields(
            json.loads(art.exported_program))).encode()
        entries[base + "_state_dict"] = art.state_dict
        entries[base + "_constants"] = art.constants
        entries[base + "_example_inputs"] = art.example_inputs
    entries["debug_handle_map"] = json.dumps(handle_map).encode()
    entries["delegate_map"] = json.dumps({m: {} for m in nodes_of}).encode()
    entries["instruction_id_to_num_outs_map"] = json.dumps(num_outs).encode()
    with zipfile.ZipFile(path, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)
