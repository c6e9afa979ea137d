"""The exporter's model zoo: architectures in code, random weights, fixed seeds.

Each case builds ``(model, example_args)`` plus the inputs to run with
(several calls for dynamic shapes and stateful models).  Sizes are small so
that the whole suite runs in a few minutes on two cores.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from edgetorch import models


@dataclass
class Case:
    name: str
    build: Callable[[], Tuple[nn.Module, Tuple[Any, ...]]]
    # Inputs for each call; None = just the example args once.
    calls: Optional[Callable[[Tuple[Any, ...]], List[Tuple[Any, ...]]]] = None
    dynamic_shapes: Any = None
    stateful: bool = False           # run all calls on one loaded method
    rtol: float = 1e-5
    atol: float = 1e-6
    tags: List[str] = field(default_factory=list)

    def inputs(self, example: Tuple[Any, ...]) -> List[Tuple[Any, ...]]:
        return self.calls(example) if self.calls else [example]


# ---------------------------------------------------------------------------
# transformers-based


def _gpt2() -> Tuple[nn.Module, Tuple[Any, ...]]:
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    cfg = GPT2Config(n_layer=2, n_embd=64, n_head=4, vocab_size=128, n_positions=64,
                     resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, use_cache=False)
    cfg._attn_implementation = "eager"
    inner = GPT2LMHeadModel(cfg).eval()

    class GPT2(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.m = inner

        def forward(self, ids: torch.Tensor) -> torch.Tensor:
            return self.m(input_ids=ids, use_cache=False, return_dict=False)[0]

    ids = torch.randint(0, 128, (1, 16), generator=torch.Generator().manual_seed(1))
    return GPT2().eval(), (ids,)


def _bert() -> Tuple[nn.Module, Tuple[Any, ...]]:
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    cfg = BertConfig(hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                     intermediate_size=128, vocab_size=128, max_position_embeddings=64,
                     hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    cfg._attn_implementation = "eager"
    inner = BertModel(cfg).eval()

    class Bert(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.m = inner

        def forward(self, ids: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
            out = self.m(input_ids=ids, return_dict=False)
            return out[0], out[1]

    ids = torch.randint(0, 128, (1, 16), generator=torch.Generator().manual_seed(1))
    return Bert().eval(), (ids,)


# ---------------------------------------------------------------------------
# control flow, dynamic shapes, state


class CondModel(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(8, 8)
        self.b = nn.Linear(8, 8)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        def yes(x: torch.Tensor) -> torch.Tensor:
            return torch.relu(self.a(x)) * 2.0

        def no(x: torch.Tensor) -> torch.Tensor:
            return torch.tanh(self.b(x)) - 1.0

        return torch.cond(x.sum() > 0, yes, no, (x,)) + x


def _cond() -> Tuple[nn.Module, Tuple[Any, ...]]:
    torch.manual_seed(0)
    return CondModel().eval(), (torch.randn(2, 8),)


def _cond_calls(example: Tuple[Any, ...]) -> List[Tuple[Any, ...]]:
    x = example[0]
    return [(x.abs() + 0.1,), (-x.abs() - 0.1,), (x,)]


class TinyTransformer(nn.Module):
    """A causal decoder with hand-written attention (dynamic sequence length)."""

    def __init__(self, vocab: int = 64, dim: int = 32, heads: int = 4, layers: int = 2,
                 max_len: int = 32) -> None:
        super().__init__()
        self.heads = heads
        self.emb = nn.Embedding(vocab, dim)
        self.pos = nn.Embedding(max_len, dim)
        self.blocks = nn.ModuleList()
        for _ in range(layers):
            self.blocks.append(nn.ModuleDict({
                "ln1": nn.LayerNorm(dim), "qkv": nn.Linear(dim, 3 * dim),
                "proj": nn.Linear(dim, dim), "ln2": nn.LayerNorm(dim),
                "fc1": nn.Linear(dim, 4 * dim), "fc2": nn.Linear(4 * dim, dim)}))
        self.ln = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, vocab)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        b, t = ids.shape
        x = self.emb(ids) + self.pos(torch.arange(t))
        mask = torch.ones(t, t, dtype=torch.bool).triu(1)
        for blk in self.blocks:
            h = blk["ln1"](x)
            q, k, v = blk["qkv"](h).chunk(3, dim=-1)
            d = q.shape[-1] // self.heads
            q = q.view(b, t, self.heads, d).transpose(1, 2)
            k = k.view(b, t, self.heads, d).transpose(1, 2)
            v = v.view(b, t, self.heads, d).transpose(1, 2)
            att = (q @ k.transpose(-2, -1)) * (d ** -0.5)
            att = att.masked_fill(mask, float("-inf")).softmax(-1)
            y = (att @ v).transpose(1, 2).reshape(b, t, -1)
            x = x + blk["proj"](y)
            x = x + blk["fc2"](F.gelu(blk["fc1"](blk["ln2"](x))))
        return self.head(self.ln(x))


def _dyn() -> Tuple[nn.Module, Tuple[Any, ...]]:
    torch.manual_seed(0)
    ids = torch.randint(0, 64, (1, 16), generator=torch.Generator().manual_seed(1))
    return TinyTransformer().eval(), (ids,)


def _dyn_shapes() -> Any:
    return ({1: torch.export.Dim("seq", min=2, max=32)},)


def _dyn_calls(example: Tuple[Any, ...]) -> List[Tuple[Any, ...]]:
    g = torch.Generator().manual_seed(2)
    return [(torch.randint(0, 64, (1, n), generator=g),) for n in (5, 17, 32)]


class Accumulator(nn.Module):
    """Running mean of everything it has seen: state in mutated buffers."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("total", torch.zeros(4))
        self.register_buffer("count", torch.zeros(1))
        self.scale = nn.Parameter(torch.linspace(0.5, 2.0, 4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.total.add_(x.sum(0) * self.scale)
        self.count.add_(x.shape[0])
        return self.total / self.count


def _acc() -> Tuple[nn.Module, Tuple[Any, ...]]:
    return Accumulator().eval(), (torch.randn(3, 4, generator=torch.Generator().manual_seed(1)),)


def _acc_calls(example: Tuple[Any, ...]) -> List[Tuple[Any, ...]]:
    g = torch.Generator().manual_seed(3)
    return [(torch.randn(3, 4, generator=g),) for _ in range(4)]


CASES: Dict[str, Case] = {c.name: c for c in [
    Case("mlp", lambda: models.get("mlp")),
    Case("digits_cnn", lambda: models.get("digits_cnn")),
    Case("resnet18", lambda: models.get("resnet18")),
    Case("mobilenet_v2", lambda: models.get("mobilenet_v2")),
    Case("lstm", lambda: models.get("lstm")),
    Case("gpt2", _gpt2, rtol=1e-4, atol=1e-5),
    Case("bert", _bert),
    Case("cond", _cond, calls=_cond_calls),
    Case("dynamic_transformer", _dyn, calls=_dyn_calls, dynamic_shapes=_dyn_shapes(),
         rtol=1e-4, atol=1e-5),
    Case("mutable_buffer", _acc, calls=_acc_calls, stateful=True),
]}


def eager_outputs(case: Case, model: nn.Module, calls: List[Tuple[Any, ...]]
                  ) -> List[List[torch.Tensor]]:
    """Eager results per call (stateful models run on a private copy)."""
    m = copy.deepcopy(model) if case.stateful else model
    outs = []
    with torch.no_grad():
        for args in calls:
            r = m(*args)
            outs.append(list(r) if isinstance(r, (tuple, list)) else [r])
    return outs
