"""Models and helpers shared by the devtools tests."""

from __future__ import annotations

from typing import Dict, List, Tuple

import torch


class CNN(torch.nn.Module):
    """conv, relu, conv, `act` (relu by default), max pool, mean, linear."""

    def __init__(self, act=torch.relu) -> None:
        super().__init__()
        self.c1 = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.c2 = torch.nn.Conv2d(8, 8, 3)
        self.fc = torch.nn.Linear(8, 4)
        self.act = act

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.c1(x))
        x = torch.nn.functional.max_pool2d(self.act(self.c2(x)), 2)
        return self.fc(x.mean((2, 3)))


class Block(torch.nn.Module):
    """A pre-norm transformer block: attention + MLP."""

    def __init__(self, d: int = 16, heads: int = 2) -> None:
        super().__init__()
        self.ln1 = torch.nn.LayerNorm(d)
        self.qkv = torch.nn.Linear(d, 3 * d)
        self.proj = torch.nn.Linear(d, d)
        self.ln2 = torch.nn.LayerNorm(d)
        self.fc1 = torch.nn.Linear(d, 4 * d)
        self.fc2 = torch.nn.Linear(4 * d, d)
        self.heads = heads

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(d, dim=-1)
        h = self.heads
        q, k, v = (z.reshape(b, t, h, d // h).transpose(1, 2) for z in (q, k, v))
        att = torch.softmax(q @ k.transpose(-1, -2) / (d // h) ** 0.5, dim=-1)
        y = (att @ v).transpose(1, 2).reshape(b, t, d)
        x = x + self.proj(y)
        return x + self.fc2(torch.nn.functional.gelu(self.fc1(self.ln2(x))))


MODELS = {"cnn": (CNN, (1, 3, 16, 16)), "transformer": (Block, (1, 8, 16))}


def kernel_instructions(pte) -> List[str]:
    """Operator names ("aten::add.out") of chain 0's kernel calls, in order."""
    plan = pte.program.execution_plan[0]
    out = []
    for ins in plan.chains[0].instructions:
        a = ins.instr_args
        if hasattr(a, "op_index"):
            op = plan.operators[a.op_index]
            out.append(f"{op.name}.{op.overload}" if op.overload else op.name)
    return out


def xnnpack_delegate_nodes(pte_bytes: bytes) -> Dict[int, List[Tuple[str, int]]]:
    """{instruction id of each DelegateCall to XnnpackBackend: [(node type,
    debug handle) per XNode in execution order]}, read with upstream's own
    tools (its .pte deserializer, its XNNPACK schema and flatc), so that the
    expectation does not come from our parser."""
    import json
    import os
    import re
    import tempfile

    from executorch.backends.xnnpack.serialization.xnnpack_graph_serialize import (
        XNNHeader,
        _get_schema_bytes,
    )
    from executorch.exir._serialize._flatbuffer import _flatc_decompile
    from executorch.exir._serialize._program import deserialize_pte_binary
    from executorch.exir.schema import DataLocation, DelegateCall

    pte = deserialize_pte_binary(pte_bytes)
    program = getattr(pte, "program", pte)
    (plan,) = program.execution_plan
    out: Dict[int, List[Tuple[str, int]]] = {}
    for chain in plan.chains:
        for i, ins in enumerate(chain.instructions):
            call = ins.instr_args
            if not isinstance(call, DelegateCall):
                continue
            d = plan.delegates[call.delegate_index]
            assert d.id == "XnnpackBackend", d.id
            # deserialize_pte_binary moves segment payloads back inline.
            assert d.processed.location == DataLocation.INLINE
            payload = bytes(program.backend_delegate_data[d.processed.index].data)
            h = XNNHeader.from_bytes(payload[:XNNHeader.EXPECTED_LENGTH])
            fb = payload[h.flatbuffer_offset:h.flatbuffer_offset + h.flatbuffer_size]
            with tempfile.TemporaryDirectory() as tmp:
                schema = os.path.join(tmp, "schema.fbs")
                with open(schema, "wb") as f:
                    f.write(_get_schema_bytes())
                with open(os.path.join(tmp, "graph.bin"), "wb") as f:
                    f.write(fb)
                _flatc_decompile(tmp, schema, os.path.join(tmp, "graph.bin"))
                with open(os.path.join(tmp, "graph.json")) as f:
                    text = f.read()
            # flatc writes the output clamp's infinities as bare inf.
            text = re.sub(r'(?<![\w"])(-?)inf(?![\w"])', r"\1Infinity", text)
            nodes = json.loads(text)["xnodes"]
            out[i] = [(n["xnode_union_type"], n["debug_handle"]) for n in nodes]
    return out
