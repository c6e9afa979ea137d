"""Quantization configurations: what edgetorch.quantize does to a model.

A :class:`QuantConfig` names one of upstream's XNNPACK recipes and carries its
few knobs. ``to_torchao()`` turns the PT2E ones into torchao's
``QuantizationConfig`` (observers and quantization specs per tensor role);
the numbers are upstream's ``get_symmetric_quantization_config`` choices, so
the same model calibrated on the same data gets the same scales:

* activations int8 [-128, 127], per tensor, affine; a histogram observer
  (static) or none (dynamic: choose_qparams at run time);
* weights int8 [-127, 127], symmetric, per output channel (axis 0) or per
  tensor, min/max observers; eps 2^-12 everywhere;
* bias stays float (the backend folds it into int32 from the two scales).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Dict, Optional, Union

import torch

#: The recipes, by the name the CLI and ``quantize(config="...")`` take.
KINDS = ("int8_static", "int8_dynamic", "int8_weight_only", "8da4w")

_ALIASES: Dict[str, str] = {
    "int8": "int8_static", "static": "int8_static", "int8-static": "int8_static",
    "dynamic": "int8_dynamic", "int8-dynamic": "int8_dynamic",
    "weight_only": "int8_weight_only", "int8-weight-only": "int8_weight_only",
    "int8_dynamic_int4_weight": "8da4w", "8da4w": "8da4w",
}

_EPS = 2.0 ** -12


class QuantizeError(RuntimeError):
    """edgetorch.quantize could not quantize the model; the message says why."""


class UnknownConfigError(QuantizeError, ValueError):
    """The configuration is not one edgetorch knows (the message lists them)."""


class NotExportableError(QuantizeError):
    """torch.export could not capture the model, so PT2E cannot quantize it."""


@dataclass(frozen=True)
class QuantConfig:
    """One quantization recipe.

    kind:         "int8_static" | "int8_dynamic" | "int8_weight_only" | "8da4w"
    per_channel:  per-output-channel weight scales (else one per tensor)
    group_size:   8da4w: weights share a scale per this many input channels
    act_qmin/max, weight_qmin/max: the integer ranges (upstream's defaults)
    """

    kind: str = "int8_static"
    per_channel: bool = True
    group_size: int = 32
    act_qmin: int = -128
    act_qmax: int = 127
    weight_qmin: int = -127
    weight_qmax: int = 127

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise UnknownConfigError(
                f"unknown quantization config kind {self.kind!r}; known: {', '.join(KINDS)}")
        if self.kind == "8da4w" and self.group_size <= 0:
            raise UnknownConfigError(f"8da4w: group_size must be positive, got {self.group_size}")
        if not (self.act_qmin < self.act_qmax and self.weight_qmin < self.weight_qmax):
            raise UnknownConfigError(f"empty integer range in {self}")

    @property
    def is_pt2e(self) -> bool:
        """Quantized by prepare_pt2e/convert_pt2e (else a torchao source transform)."""
        return self.kind != "8da4w"

    @property
    def is_dynamic(self) -> bool:
        return self.kind in ("int8_dynamic", "8da4w")

    def to_torchao(self):  # -> torchao QuantizationConfig
        """torchao's QuantizationConfig for the PT2E recipes."""
        from torchao.quantization.pt2e import (HistogramObserver, MinMaxObserver,
                                               PerChannelMinMaxObserver, PlaceholderObserver)
        from torchao.quantization.pt2e.quantizer import QuantizationConfig, QuantizationSpec

        if not self.is_pt2e:
            raise QuantizeError(f"{self.kind} is a torchao source transform, not a PT2E config")
        weight = QuantizationSpec(
            dtype=torch.int8, quant_min=self.weight_qmin, quant_max=self.weight_qmax,
            qscheme=torch.per_channel_symmetric if self.per_channel else torch.per_tensor_symmetric,
            ch_axis=0, is_dynamic=False,
            observer_or_fake_quant_ctr=(PerChannelMinMaxObserver if self.per_channel
                                        else MinMaxObserver).with_args(eps=_EPS))
        if self.kind == "int8_weight_only":
            return QuantizationConfig(None, None, weight, None, False)
        dynamic = self.kind == "int8_dynamic"
        act = QuantizationSpec(
            dtype=torch.int8, quant_min=self.act_qmin, quant_max=self.act_qmax,
            qscheme=torch.per_tensor_affine, is_dynamic=dynamic,
            observer_or_fake_quant_ctr=(PlaceholderObserver if dynamic
                                        else HistogramObserver).with_args(eps=_EPS))
        return QuantizationConfig(act, None if dynamic else act, weight, None, False)


def int8_static(per_channel: bool = True) -> QuantConfig:
    """Static int8: calibrated per-tensor activations, symmetric int8 weights."""
    return QuantConfig("int8_static", per_channel=per_channel)


def int8_dynamic(per_channel: bool = True) -> QuantConfig:
    """Dynamic int8: activations quantized at run time (choose_qparams), int8 weights;
    linear and 2-D non-depthwise convolutions only, as upstream."""
    return QuantConfig("int8_dynamic", per_channel=per_channel)


def int8_weight_only(per_channel: bool = True) -> QuantConfig:
    """int8 weights stored and dequantized at run time; float activations."""
    return QuantConfig("int8_weight_only", per_channel=per_channel)


def int8_dynamic_int4_weight(group_size: int = 32) -> QuantConfig:
    """"8da4w": 4-bit symmetric groupwise weights, per-token int8 dynamic activations
    (torchao's Int8DynamicActivationIntxWeightConfig; linear layers)."""
    return QuantConfig("8da4w", group_size=group_size)


def resolve(config: Union[str, QuantConfig, None], **overrides) -> QuantConfig:
    """A QuantConfig from a QuantConfig, a name ("int8", "int8_dynamic",
    "int8_weight_only", "8da4w", "8da4w:64" for a group size) or None (int8 static)."""
    if config is None:
        cfg = QuantConfig()
    elif isinstance(config, QuantConfig):
        cfg = config
    elif isinstance(config, str):
        name, _, arg = config.partition(":")
        kind = _ALIASES.get(name.strip().lower(), name.strip().lower())
        if kind not in KINDS:
            raise UnknownConfigError(
                f"unknown quantization config {config!r}; known: "
                f"{', '.join(KINDS)} (aliases: {', '.join(sorted(_ALIASES))})")
        extra: Dict[str, object] = {}
        if arg:
            if kind != "8da4w" or not arg.isdigit():
                raise UnknownConfigError(f"quantization config {config!r}: only 8da4w takes "
                                         "a group size (\"8da4w:32\")")
            extra["group_size"] = int(arg)
        cfg = QuantConfig(kind, **extra)  # type: ignore[arg-type]
    else:
        raise UnknownConfigError(
            f"quantization config must be a name or an edgetorch.quantize.QuantConfig, "
            f"not {type(config).__name__}")
    return replace(cfg, **overrides) if overrides else cfg


def describe(config: Optional[QuantConfig]) -> str:
    c = config or QuantConfig()
    if c.kind == "8da4w":
        return f"8da4w (int4 weights, groups of {c.group_size}; int8 dynamic per-token activations)"
    w = "per-channel" if c.per_channel else "per-tensor"
    return {"int8_static": f"int8 static ({w} weights, per-tensor activations)",
            "int8_dynamic": f"int8 dynamic ({w} weights, per-tensor dynamic activations)",
            "int8_weight_only": f"int8 weight-only ({w})"}[c.kind]
