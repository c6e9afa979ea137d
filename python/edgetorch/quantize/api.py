"""edgetorch.quantize(model, example_args, config, calibration=...).

PT2E recipes (int8 static, int8 dynamic, int8 weight-only):

    torch.export -> prepare_pt2e(EdgeQuantizer) -> calibration -> convert_pt2e

return the converted graph module, whose graph holds quantized_decomposed
quantize/dequantize nodes around float ops; ``edgetorch.export`` of it emits
the quantized kernels, ``XnnpackPartitioner`` folds them into quantized
XNNPACK values.

8da4w is torchao's source transform (``quantize_`` with
Int8DynamicActivationIntxWeightConfig(int4, PerGroup(g))); its linear
layers are then written in ops every runtime has: per-token dynamic int8
activations (quantized_decomposed choose_qparams_per_token_asymmetric /
quantize_per_token / dequantize_per_token) and the int4 values (stored one per
int8) dequantized per group with plain tensor ops.
"""

from __future__ import annotations

import copy
from typing import Any, Iterable, Optional, Tuple, Union

import torch
import torch.nn.functional as F

from .config import NotExportableError, QuantConfig, QuantizeError, resolve
from .quantizer import EdgeQuantizer

def is_quantized(model: Any) -> bool:
    """True for a graph module that already holds quantize/dequantize nodes
    (e.g. converted with upstream's XNNPACKQuantizer) or an 8da4w module."""
    if isinstance(model, torch.nn.Module) and any(isinstance(m, Linear8da4w) for m in model.modules()):
        return True
    if not isinstance(model, torch.fx.GraphModule):
        return False
    for n in model.graph.nodes:
        if n.op == "call_function" and isinstance(n.target, torch._ops.OpOverload) \
                and n.target.namespace in ("quantized_decomposed", "torchao"):
            return True
    return False


def _as_args(x: Any) -> Tuple[Any, ...]:
    return x if isinstance(x, tuple) else tuple(x) if isinstance(x, list) else (x,)


def _capture(model: torch.nn.Module, example_args: Tuple[Any, ...], dynamic_shapes: Any
             ) -> torch.fx.GraphModule:
    try:
        return torch.export.export(model, example_args, dynamic_shapes=dynamic_shapes).module()
    except Exception as e:  # noqa: BLE001 - any capture failure is the same to the user
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise NotExportableError(
            f"torch.export could not capture {type(model).__name__} for quantization: "
            f"{type(e).__name__}: {first}") from e


def quantize(model: torch.nn.Module, example_args: Any,
             config: Union[str, QuantConfig, None] = "int8_static", *,
             calibration: Optional[Iterable[Any]] = None,
             quantizer: Optional[EdgeQuantizer] = None,
             dynamic_shapes: Any = None) -> torch.nn.Module:
    """Quantize ``model`` with one of upstream's XNNPACK recipes.

    config:       "int8_static" (default), "int8_dynamic", "int8_weight_only",
                  "8da4w" / "8da4w:<group>", or a QuantConfig
                  (edgetorch.quantize.int8_static(per_channel=...) ...)
    calibration:  an iterable of example inputs (each a tuple of arguments or a
                  single tensor) run through the observed model; the example
                  arguments when None
    quantizer:    an EdgeQuantizer with per-module settings (overrides config)

    A model that is already quantized (a graph converted with upstream's
    XNNPACKQuantizer, or our own result) is returned as it is.
    Raises UnknownConfigError, NotExportableError or QuantizeError.
    """
    example_args = _as_args(example_args)
    if is_quantized(model):
        return model
    if not isinstance(model, torch.nn.Module):
        raise QuantizeError(f"quantize takes a torch.nn.Module, not {type(model).__name__}")
    cfg = quantizer.global_config if quantizer is not None else resolve(config)
    if cfg is not None and not cfg.is_pt2e:
        return _quantize_8da4w(model, cfg, example_args)
    q = quantizer if quantizer is not None else EdgeQuantizer(cfg)

    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

    was_training = model.training
    if not isinstance(model, torch.fx.GraphModule):
        model.eval()
    try:
        gm = _capture(model, example_args, dynamic_shapes)
    finally:
        if was_training and not isinstance(model, torch.fx.GraphModule):
            model.train()
    prepared = prepare_pt2e(gm, q)
    samples = [example_args] if calibration is None else [_as_args(s) for s in calibration]
    if not samples:
        raise QuantizeError("calibration is empty: give at least one example input")
    with torch.no_grad():
        for k, s in enumerate(samples):
            try:
                prepared(*s)
            except Exception as e:  # noqa: BLE001
                shapes = [tuple(t.shape) for t in s if isinstance(t, torch.Tensor)]
                raise QuantizeError(
                    f"calibration sample {k} (tensor shapes {shapes}) does not run through the "
                    f"captured model: {type(e).__name__}: {str(e).strip()[:200]} (the graph was "
                    "captured with the example arguments' shapes; give samples of those shapes "
                    "or dynamic_shapes)") from e
    return convert_pt2e(prepared)


# ---------------------------------------------------------------------------
# 8da4w


class Linear8da4w(torch.nn.Module):
    """A linear layer with int4 groupwise weights (one value per int8) and
    int8 per-token dynamic activations, written in exportable ops."""

    def __init__(self, qdata: torch.Tensor, scale: torch.Tensor, zero_point: torch.Tensor,
                 bias: Optional[torch.Tensor], group_size: int, qmin: int = -8, qmax: int = 7) -> None:
        super().__init__()
        self.out_features, self.in_features = int(qdata.shape[0]), int(qdata.shape[1])
        self.group_size, self.qmin, self.qmax = group_size, qmin, qmax
        self.register_buffer("qdata", qdata.to(torch.int8).contiguous())
        groups = self.in_features // group_size
        self.register_buffer("scale", scale.to(torch.float32).reshape(self.out_features, groups, 1))
        self.register_buffer("zero_point",
                             zero_point.to(torch.float32).reshape(self.out_features, groups, 1))
        self.bias = None if bias is None else torch.nn.Parameter(bias.detach().clone(), requires_grad=False)

    def weight_float(self) -> torch.Tensor:
        n, k, g = self.out_features, self.in_features, self.group_size
        w = self.qdata.reshape(n, k // g, g).to(torch.float32)
        return ((w - self.zero_point) * self.scale).reshape(n, k)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        qd = torch.ops.quantized_decomposed
        s, zp = qd.choose_qparams_per_token_asymmetric(x, torch.int8)
        xq = qd.quantize_per_token(x, s, zp, -128, 127, torch.int8)
        xd = qd.dequantize_per_token(xq, s, zp, -128, 127, torch.int8, x.dtype)
        return F.linear(xd, self.weight_float(), self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"group_size={self.group_size}, int4 [{self.qmin}, {self.qmax}]")


def _quantize_8da4w(model: torch.nn.Module, cfg: QuantConfig,
                    example_args: Tuple[Any, ...]) -> torch.nn.Module:
    import torch.ao.quantization.fx._decomposed  # noqa: F401  (the quantized_decomposed ops)
    from torchao.quantization import Int8DynamicActivationIntxWeightConfig, quantize_
    from torchao.quantization.granularity import PerGroup

    g = cfg.group_size
    m = copy.deepcopy(model).eval()

    def takes(mod: torch.nn.Module, fqn: str) -> bool:
        return isinstance(mod, torch.nn.Linear) and mod.in_features % g == 0

    if not any(takes(mod, "") for mod in m.modules()):
        raise QuantizeError(f"8da4w: no nn.Linear with in_features divisible by the group "
                            f"size {g} in {type(model).__name__}")
    quantize_(m, Int8DynamicActivationIntxWeightConfig(weight_dtype=torch.int4,
                                                       weight_granularity=PerGroup(g)),
              filter_fn=takes)

    def swap(parent: torch.nn.Module) -> None:
        for name, child in parent.named_children():
            w = getattr(child, "weight", None)
            if isinstance(child, torch.nn.Linear) and hasattr(w, "qdata"):
                setattr(parent, name, Linear8da4w(w.qdata, w.scale, w.zero_point,  # type: ignore[union-attr]
                                                  child.bias, g))
            else:
                swap(child)

    swap(m)
    _capture(m, example_args, None)  # exportable as promised, or a named error now
    return m
