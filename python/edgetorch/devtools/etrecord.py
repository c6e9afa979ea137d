"""ETRecord: what upstream's Inspector needs to map ETDump events to graph
nodes (devtools/etrecord/_etrecord.py's zip layout).

Entries written: ``ETRECORD_V0``; ``edge_dialect_exported_program/<method>``
with its ``_state_dict``, ``_constants`` and ``_example_inputs`` (torch's
export serialization, with each call_function node's ``debug_handle`` in
its metadata as upstream's serializer stores it); ``debug_handle_map``
({method: {instruction id: [debug handles]}}); ``delegate_map`` and
``instruction_id_to_num_outs_map``.

``map_delegate_nodes`` completes an ETRecord of an XNNPACK-delegated program
(upstream's, whose XNNPACK preprocess leaves each delegate's map empty) so
that the Inspector maps the CPU backend's node events (by debug handle) to
graph nodes.

Debug handles are 1, 2, ... over the call_function nodes of the decomposed
graph; an instruction maps to the handle of the node it was emitted from
(``PteProgram.instruction_nodes``).
"""

from __future__ import annotations

import copy
import json
import os
import struct
import tempfile
import zipfile
from dataclasses import dataclass, field
from typing import Any, ClassVar, Dict, List, Union


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


# ---------------------------------------------------------------------------
# Delegate maps for XNNPACK-delegated programs


@dataclass
class _XNode:
    debug_handle: int = 0
    _fb: ClassVar = [("debug_handle", 2, "u32")]


@dataclass
class _XNNGraph:
    xnodes: List[_XNode] = field(default_factory=list)
    _fb: ClassVar = [("xnodes", 1, ("vec", ("table", _XNode)))]


def xnnpack_node_handles(payload: bytes) -> List[int]:
    """XNode.debug_handle of every node of an XNNPACK delegate payload, in
    execution order (upstream's backends/xnnpack/serialization/schema.fbs:
    XNNGraph.xnodes is field 1, XNode.debug_handle field 2; an XNNHeader
    "XH00" may precede the flatbuffer)."""
    from edgetorch.pte import flatbuffer as fb

    payload = bytes(payload)
    graph = payload
    if len(payload) >= 30 and payload[4:8] == b"XH00":
        off, size = struct.unpack_from("<II", payload, 10)
        if off + size > len(payload):
            raise fb.FlatbufferError("XNNPACK header: the flatbuffer runs past the payload")
        graph = payload[off:off + size]
    if graph[4:8] not in (b"XN00", b"XN01"):
        raise fb.FlatbufferError(f"not an XNNPACK graph: identifier {graph[4:8]!r}")
    return [n.debug_handle for n in fb.decode(graph, _XNNGraph).xnodes]


def xnnpack_delegate_handles(pte_bytes: bytes) -> Dict[str, Dict[int, List[int]]]:
    """{method: {instruction index: node debug handles}} for every DelegateCall
    to XnnpackBackend (the instruction index in chain 0, what ETDump events
    and an ETRecord's maps use)."""
    from edgetorch.pte import schema as S
    from edgetorch.pte.program import read_pte

    pte = read_pte(pte_bytes)
    prog = pte.program
    out: Dict[str, Dict[int, List[int]]] = {}
    for plan in prog.execution_plan:
        for i, ins in enumerate(plan.chains[0].instructions if plan.chains else []):
            call = ins.instr_args
            if not isinstance(call, S.DelegateCall):
                continue
            d = plan.delegates[call.delegate_index]
            if d.id != "XnnpackBackend" or d.processed is None:
                continue
            ref = d.processed
            payload = (prog.backend_delegate_data[ref.index].data
                       if ref.location == S.DataLocation.INLINE else pte.segment(ref.index))
            out.setdefault(plan.name, {})[i] = xnnpack_node_handles(payload)
    return out


def map_delegate_nodes(etrecord: Union[str, "os.PathLike[str]"], program: Any,
                       out: Union[str, "os.PathLike[str]", None] = None) -> int:
    """Fill the ``delegate_map`` of an ETRecord for the XNNPACK delegates of
    ``program`` (a .pte path, its bytes, or an object with ``.buffer``).

    The CPU backend reports each node it runs under the node's debug handle
    (XNode.debug_handle, the handle of the graph node it was lowered from),
    but upstream's XNNPACK preprocess returns an empty debug handle map, so
    upstream's ETRecord maps no delegate event to a node. This adds
    {handle: [handle]} for each handle a delegate's nodes carry that the
    ETRecord's debug_handle_map lists for that delegate call, and
    {handle: []} for the others (nodes the lowering added carry 65535, no
    graph node's handle). Writes ``out`` (default: in place) and returns the
    number of handles mapped to a node.
    """
    if hasattr(program, "buffer") and not isinstance(program, (bytes, bytearray)):
        program = program.buffer
    if not isinstance(program, (bytes, bytearray)):
        with open(program, "rb") as f:
            program = f.read()
    handles = xnnpack_delegate_handles(bytes(program))
    with zipfile.ZipFile(etrecord) as z:
        entries = {i.filename: z.read(i) for i in z.infolist()}
    if "debug_handle_map" not in entries:
        raise ValueError(f"{etrecord} has no debug_handle_map: not an ETRecord")
    handle_map = json.loads(entries["debug_handle_map"])
    dmap = json.loads(entries["delegate_map"]) if "delegate_map" in entries else {}
    mapped = 0
    for method, calls in handles.items():
        for instr, hs in calls.items():
            known = set(handle_map.get(method, {}).get(str(instr), []))
            entry = dmap.setdefault(method, {}).setdefault(
                str(instr), {"name": "XnnpackBackend", "delegate_map": {}})
            m = entry.get("delegate_map") or {}
            for h in dict.fromkeys(hs):
                if h in known:
                    m[str(h)] = [h]
                    mapped += 1
                else:
                    m.setdefault(str(h), [])
            # Ascending: the Inspector also takes every key that is a
            # substring of an event's id ("6" of "65535") and keeps the last
            # one it meets, which is then the exact key.
            entry["delegate_map"] = dict(sorted(
                m.items(), key=lambda kv: (not kv[0].isdigit(),
                                           int(kv[0]) if kv[0].isdigit() else 0, kv[0])))
    entries["delegate_map"] = json.dumps(dmap).encode()
    dest = os.fspath(out if out is not None else etrecord)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(dest)) or ".",
                               suffix=".etrecord")
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w") as z:
            for name, data in entries.items():
                z.writestr(name, data)
        os.replace(tmp, dest)
    except BaseException:
        os.unlink(tmp)
        raise
    return mapped
