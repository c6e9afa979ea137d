"""The benchmark's models: architectures in code, random weights, fixed seeds.

Nothing is downloaded. Each entry of ``SPECS`` (full mode) and ``QUICK_SPECS``
(``--quick``: the same families at small sizes) builds an eval-mode
``nn.Module`` and the inputs it is timed on. Convolutional nets get their
BatchNorm statistics from two training-mode passes over random data, so
activations keep a sane scale through the depth of the network (with the
default running statistics a random 50-layer net drifts towards 0 or inf,
and then every runtime "agrees" on garbage).

This module imports only torch (and transformers for the two transformer
models, lazily); it does not import edgetorch, so the benchmark can build its
models even while the exporter is broken.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

# The zoo's building blocks; the ImageNet-layout ResNet-18 and MobileNetV2
# below are bench-only (the zoo's are the small-image variants).
from edgetorch.models import BasicBlock, DigitsCNN, LSTMClassifier


# ---------------------------------------------------------------------------
# ResNet-18 (ImageNet layout: 7x7/2 stem, 3x3/2 max pool, four stages)


class ResNet18(nn.Module):
    def __init__(self, classes: int = 1000, width: int = 64) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, width, 7, 2, 3, bias=False),
                                  nn.BatchNorm2d(width), nn.ReLU(), nn.MaxPool2d(3, 2, 1))
        blocks: List[nn.Module] = []
        cin = width
        for i, cout in enumerate([width, 2 * width, 4 * width, 8 * width]):
            stride = 1 if i == 0 else 2
            blocks += [BasicBlock(cin, cout, stride), BasicBlock(cout, cout, 1)]
            cin = cout
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(cin, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.blocks(self.stem(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


# ---------------------------------------------------------------------------
# MobileNetV2 (inverted residuals, ReLU6, width multiplier)


def _round8(v: float) -> int:
    r = max(8, int(v + 4) // 8 * 8)
    return r + 8 if r < 0.9 * v else r


def _cbr(cin: int, cout: int, k: int, stride: int = 1, groups: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU6())


class _Inverted(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int, expand: int) -> None:
        super().__init__()
        mid = cin * expand
        layers: List[nn.Module] = [] if expand == 1 else [_cbr(cin, mid, 1)]
        layers += [_cbr(mid, mid, 3, stride, groups=mid),
                   nn.Conv2d(mid, cout, 1, bias=False), nn.BatchNorm2d(cout)]
        self.body = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        return x + y if self.residual else y


class MobileNetV2(nn.Module):
    # (expansion, channels, repeats, first stride)
    STAGES = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
              (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]

    def __init__(self, classes: int = 1000, width: float = 1.0) -> None:
        super().__init__()
        cin = _round8(32 * width)
        last = _round8(1280 * max(1.0, width))
        layers: List[nn.Module] = [_cbr(3, cin, 3, 2)]
        for t, c, n, s in self.STAGES:
            cout = _round8(c * width)
            for i in range(n):
                layers.append(_Inverted(cin, cout, s if i == 0 else 1, t))
                cin = cout
        layers.append(_cbr(cin, last, 1))
        self.features = nn.Sequential(*layers)
        self.dropout = nn.Dropout(0.2)
        self.fc = nn.Linear(last, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.adaptive_avg_pool2d(self.features(x), 1).flatten(1)
        return self.fc(self.dropout(x))


# ---------------------------------------------------------------------------
# transformers encoder / decoder (random init). The wrappers return the last
# hidden state only: a plain tensor that every exporter handles the same way.


class BertEncoder(nn.Module):
    def __init__(self, layers: int, hidden: int, heads: int, ffn: int, vocab: int,
                 max_len: int) -> None:
        super().__init__()
        from transformers import BertConfig, BertModel

        cfg = BertConfig(vocab_size=vocab, hidden_size=hidden, num_hidden_layers=layers,
                         num_attention_heads=heads, intermediate_size=ffn,
                         max_position_embeddings=max_len, hidden_dropout_prob=0.0,
                         attention_probs_dropout_prob=0.0)
        cfg._attn_implementation = "eager"
        self.bert = BertModel(cfg, add_pooling_layer=False)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.bert(input_ids=ids, return_dict=False)[0]


class GPT2Decoder(nn.Module):
    """GPT-2 transformer stack (token + position embeddings, causal blocks,
    final LayerNorm), no LM head: the output is the last hidden state."""

    def __init__(self, layers: int, dim: int, heads: int, vocab: int, max_len: int) -> None:
        super().__init__()
        from transformers import GPT2Config, GPT2Model

        cfg = GPT2Config(vocab_size=vocab, n_positions=max_len, n_embd=dim, n_layer=layers,
                         n_head=heads, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
                         use_cache=False, bos_token_id=vocab - 1, eos_token_id=vocab - 1)
        cfg._attn_implementation = "eager"
        self.gpt2 = GPT2Model(cfg)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.gpt2(input_ids=ids, use_cache=False, return_dict=False)[0]


# ---------------------------------------------------------------------------


@dataclass
class Spec:
    """One benchmark model: how to build it and what to feed it."""

    name: str
    family: str
    description: str
    make: Callable[[], nn.Module]
    make_inputs: Callable[[torch.Generator], Tuple[torch.Tensor, ...]]
    # Correctness: |out - eager| <= atol + rtol * |eager| elementwise.
    rtol: float = 1e-3
    atol: float = 1e-4
    calibrate_bn: bool = False
    params: Dict[str, Any] = field(default_factory=dict)
    # The code this model's file depends on (hashed into the export cache key).
    code: Tuple[Any, ...] = ()
    # Quantized specs: the edgetorch.quantize config ("int8_static",
    # "int8_dynamic") every exporter applies at the same settings (upstream's
    # XNNPACKQuantizer for up/xnn and the eager reference, ONNX Runtime's
    # quantize_static for onnx), calibrated on `calibration` extra inputs.
    quant: Optional[str] = None
    calibration: int = 0
    # Quantized specs: atol = steps x the output's quantization step (read
    # from the reference output), rtol 0. Integer kernels (XNNPACK's
    # requantization) round differently from the reference's dequantize ->
    # float op -> quantize at every layer, and the differences add up through
    # a deep random-weight net: upstream's own XNNPACK file is ~40 steps off
    # at the output of the small MobileNetV2. A broken file (wrong scales,
    # layouts, axes) is off by the order of the whole output range. ONNX
    # Runtime quantizes with its own calibration (its own scales): its own
    # looser bound, quant_steps_other.
    quant_steps: float = 64.0
    quant_steps_other: float = 128.0

    def atol_for(self, runtime: str, ref: List[Any]) -> float:
        """The absolute tolerance for one runtime's outputs."""
        if not self.quant:
            return self.atol
        import numpy as np
        steps = self.quant_steps_other if runtime == "ort" else self.quant_steps
        step = 0.0
        for r in ref:
            r = np.asarray(r, dtype=np.float64)
            if self.quant == "int8_dynamic":  # float output: int8 steps over its range
                step = max(step, float(r.max() - r.min()) / 255.0)
                continue
            u = np.unique(r)
            if u.size > 1:
                step = max(step, float(np.diff(u).min()))
        return steps * step if step > 0 else self.atol

    def fingerprint(self) -> str:
        import hashlib
        import inspect
        h = hashlib.sha1()
        extra = (Spec.calibration_inputs,) if self.quant else ()
        for obj in (Spec.build, _calibrate_batchnorm) + extra + tuple(self.code):
            h.update(inspect.getsource(obj).encode())
        return h.hexdigest()

    def calibration_inputs(self) -> List[Tuple[torch.Tensor, ...]]:
        """Deterministic random calibration batches (seeds 100, 101, ...)."""
        return [self.make_inputs(torch.Generator().manual_seed(100 + i))
                for i in range(self.calibration)]

    def build(self) -> Tuple[nn.Module, Tuple[torch.Tensor, ...]]:
        torch.manual_seed(0)
        model = self.make()
        g = torch.Generator().manual_seed(1)
        inputs = self.make_inputs(g)
        if self.calibrate_bn:
            _calibrate_batchnorm(model, inputs, torch.Generator().manual_seed(2))
        model.eval()
        return model, inputs


def _calibrate_batchnorm(model: nn.Module, inputs: Tuple[torch.Tensor, ...],
                         g: torch.Generator) -> None:
    """Running statistics from two random batches (cumulative average)."""
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    model.train()
    x = inputs[0]
    with torch.no_grad():
        for _ in range(2):
            model(torch.randn((2,) + tuple(x.shape[1:]), generator=g))
    for m in bns:
        m.momentum = 0.1
        # Non-trivial affine parameters, so folding BN into conv is exercised.
        with torch.no_grad():
            m.weight.copy_(torch.rand(m.num_features, generator=g) * 0.5 + 0.75)
            m.bias.copy_(torch.randn(m.num_features, generator=g) * 0.1)
    model.eval()


def _image(c: int, hw: int) -> Callable[[torch.Generator], Tuple[torch.Tensor, ...]]:
    return lambda g: (torch.randn(1, c, hw, hw, generator=g),)


def _ids(vocab: int, seq: int) -> Callable[[torch.Generator], Tuple[torch.Tensor, ...]]:
    return lambda g: (torch.randint(0, vocab, (1, seq), generator=g),)


def _seq(seq: int, feat: int) -> Callable[[torch.Generator], Tuple[torch.Tensor, ...]]:
    return lambda g: (torch.randn(1, seq, feat, generator=g),)


_MV2 = (MobileNetV2, _Inverted, _cbr, _round8)


def _quantized(base: Spec, quant: str, calibration: int = 4) -> Spec:
    """The same model (definition, weights, inputs) quantized with `quant`.

    The correctness oracle is the quantized torch model (upstream
    XNNPACKQuantizer + torchao convert_pt2e) in eager; the tolerance is in
    output quantization steps (Spec.quant_steps, run.py turns it into atol)."""
    import dataclasses
    tag = {"int8_static": "int8", "int8_dynamic": "int8dyn"}[quant]
    return dataclasses.replace(
        base, name=f"{base.name}_{tag}", description=f"{base.description}; {quant} "
        f"(calibration: {calibration} random inputs)", quant=quant, calibration=calibration,
        params=dict(base.params, quant=quant, calibration=calibration), rtol=0.0,
        # dynamic: float output (no output grid), steps of range/255, and
        # only the linears are quantized: a tighter bound
        **({"quant_steps": 8.0, "quant_steps_other": 16.0} if quant == "int8_dynamic" else {}))


def _specs(quick: bool) -> List[Spec]:
    if quick:
        specs = [
            Spec("digits_cnn", "digits_cnn", "digits CNN, 1x1x8x8",
                 DigitsCNN, _image(1, 8), calibrate_bn=True, code=(DigitsCNN,)),
            Spec("mobilenet_v2", "mobilenet_v2", "MobileNetV2 x0.35, 1x3x64x64, 100 classes",
                 lambda: MobileNetV2(classes=100, width=0.35), _image(3, 64),
                 calibrate_bn=True, params={"width": 0.35, "hw": 64}, code=_MV2),
            Spec("lstm", "lstm", "LSTM 2 layers, hidden 64, 1x16x32 input",
                 lambda: LSTMClassifier(32, 64, 2, classes=10), _seq(16, 32),
                 params={"hidden": 64, "seq": 16}, code=(LSTMClassifier,)),
            Spec("gpt2", "gpt2", "GPT-2 decoder 2 layers, dim 128, 4 heads, seq 32, vocab 1000",
                 lambda: GPT2Decoder(2, 128, 4, 1000, 64), _ids(1000, 32),
                 params={"layers": 2, "dim": 128, "seq": 32}, code=(GPT2Decoder,)),
        ]
        by = {s.name: s for s in specs}
        # No int8_dynamic GPT-2 yet: upstream's XNNPACKQuantizer flow
        # (prepare_pt2e on the exported transformers GPT2Model) fails at
        # calibration with float position indices into the embedding.
        return specs + [_quantized(by["mobilenet_v2"], "int8_static")]
    specs = [
        Spec("mobilenet_v2", "mobilenet_v2", "MobileNetV2 x1.0, 1x3x224x224, 1000 classes",
             MobileNetV2, _image(3, 224), calibrate_bn=True, code=_MV2, atol=1e-3),
        Spec("resnet18", "resnet18", "ResNet-18, 1x3x224x224, 1000 classes",
             ResNet18, _image(3, 224), calibrate_bn=True, code=(ResNet18, BasicBlock), atol=1e-3),
        Spec("bert_base", "bert", "BERT-base encoder: 12 layers, hidden 768, 12 heads, "
             "FFN 3072, vocab 30522, seq 128",
             lambda: BertEncoder(12, 768, 12, 3072, 30522, 512), _ids(30522, 128),
             code=(BertEncoder,), atol=1e-3),
        Spec("gpt2_small", "gpt2", "GPT-2 small decoder (no LM head): 12 layers, dim 768, "
             "12 heads, vocab 50257, seq 128",
             lambda: GPT2Decoder(12, 768, 12, 50257, 1024), _ids(50257, 128),
             code=(GPT2Decoder,), atol=1e-3),
        Spec("lstm", "lstm", "LSTM 2 layers, hidden 256, 1x64x64 input, 10 classes",
             lambda: LSTMClassifier(64, 256, 2, classes=10), _seq(64, 64), code=(LSTMClassifier,)),
        Spec("digits_cnn", "digits_cnn", "digits CNN, 1x1x8x8",
             DigitsCNN, _image(1, 8), calibrate_bn=True, code=(DigitsCNN,)),
    ]
    by = {s.name: s for s in specs}
    return specs + [
        _quantized(by["mobilenet_v2"], "int8_static"),
        _quantized(by["resnet18"], "int8_static"),
    ]


SPECS: Dict[str, Spec] = {s.name: s for s in _specs(False)}
QUICK_SPECS: Dict[str, Spec] = {s.name: s for s in _specs(True)}


# ---------------------------------------------------------------------------
# Micro-benchmark programs


class AddChain(nn.Module):
    """``n`` dependent ``x + 1`` on a tiny tensor: pure dispatch overhead."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.n = n

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for _ in range(self.n):
            x = x + 1.0
        return x


class LinearStack(nn.Module):
    """``layers`` x Linear(dim, dim): a program that is almost all weights."""

    def __init__(self, layers: int, dim: int) -> None:
        super().__init__()
        self.layers = nn.Sequential(*[nn.Linear(dim, dim) for _ in range(layers)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class OneOp(nn.Module):
    """A single operator, with any weights as parameters (constants in the .pte)."""

    def __init__(self, fn: Callable[..., torch.Tensor], **params: torch.Tensor) -> None:
        super().__init__()
        self.fn = fn
        for k, v in params.items():
            self.register_parameter(k, nn.Parameter(v, requires_grad=False))
        self.names = list(params)

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        return self.fn(*xs, *[getattr(self, k) for k in self.names])


def _op_add(a, b): return a + b            # noqa: E704
def _op_mul(a, b): return a * b            # noqa: E704
def _op_relu(a): return torch.relu(a)      # noqa: E704
def _op_linear(x, w, b): return F.linear(x, w, b)                       # noqa: E704
def _op_addmm(x, b, w): return torch.addmm(b, x, w)                     # noqa: E704
def _op_conv(x, w, b): return F.conv2d(x, w, b, padding=1)              # noqa: E704
def _op_dwconv(x, w, b): return F.conv2d(x, w, b, padding=1, groups=w.shape[0])  # noqa: E704
def _op_softmax(x): return torch.softmax(x, -1)                         # noqa: E704
def _op_layer_norm(x, w, b): return F.layer_norm(x, (x.shape[-1],), w, b)  # noqa: E704
def _op_bmm(a, b): return torch.bmm(a, b)  # noqa: E704
def _op_maxpool(x): return F.max_pool2d(x, 3, 2, 1)                     # noqa: E704


OpBuild = Callable[[torch.Generator], Tuple[nn.Module, Tuple[torch.Tensor, ...]]]


def op_cases(quick: bool) -> List[Tuple[str, str, OpBuild]]:
    """(name, shape description, build(g) -> (module, inputs)) per operator."""
    c, hw = (32, 28) if quick else (64, 56)
    s, d = (64, 256) if quick else (128, 768)
    h = 4 if quick else 12

    def r(g, *shape):
        return torch.randn(*shape, generator=g)

    return [
        ("add", f"[1,{c},{hw},{hw}] + same",
         lambda g: (OneOp(_op_add), (r(g, 1, c, hw, hw), r(g, 1, c, hw, hw)))),
        ("mul", f"[1,{c},{hw},{hw}] * same",
         lambda g: (OneOp(_op_mul), (r(g, 1, c, hw, hw), r(g, 1, c, hw, hw)))),
        ("relu", f"[1,{c},{hw},{hw}]",
         lambda g: (OneOp(_op_relu), (r(g, 1, c, hw, hw),))),
        ("linear", f"[1,{s},{d}] x W[{d},{d}] + b",
         lambda g: (OneOp(_op_linear, w=r(g, d, d) * d ** -0.5, b=r(g, d)), (r(g, 1, s, d),))),
        ("addmm", f"b[{d}] + [{s},{d}] @ [{d},{d}]",
         lambda g: (OneOp(_op_addmm, b=r(g, d), w=r(g, d, d) * d ** -0.5), (r(g, s, d),))),
        ("conv2d 3x3", f"[1,{c},{hw},{hw}], {c}->{c}, pad 1",
         lambda g: (OneOp(_op_conv, w=r(g, c, c, 3, 3) * 0.05, b=r(g, c)),
                    (r(g, 1, c, hw, hw),))),
        ("conv2d depthwise 3x3", f"[1,{c * 2},{hw},{hw}], groups {c * 2}",
         lambda g: (OneOp(_op_dwconv, w=r(g, c * 2, 1, 3, 3) * 0.3, b=r(g, c * 2)),
                    (r(g, 1, c * 2, hw, hw),))),
        ("max_pool2d 3x3/2", f"[1,{c},{hw},{hw}]",
         lambda g: (OneOp(_op_maxpool), (r(g, 1, c, hw, hw),))),
        ("softmax", f"[{h},{s},{s}] over last dim",
         lambda g: (OneOp(_op_softmax), (r(g, h, s, s),))),
        ("layer_norm", f"[1,{s},{d}] over {d}",
         lambda g: (OneOp(_op_layer_norm, w=r(g, d), b=r(g, d)), (r(g, 1, s, d),))),
        ("bmm", f"[{h},{s},64] @ [{h},64,{s}]",
         lambda g: (OneOp(_op_bmm), (r(g, h, s, 64), r(g, h, 64, s)))),
    ]
