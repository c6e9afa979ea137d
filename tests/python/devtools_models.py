"""Models and helpers shared by the devtools tests."""

from __future__ import annotations

from typing import List

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
