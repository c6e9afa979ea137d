"""Upstream's ``EdgeCompileConfig`` for ``edgetorch.to_edge``.

Code written for upstream passes ``compile_config=EdgeCompileConfig(...)`` to
``to_edge``. This module gives the same class (same field names and defaults
as ``executorch/exir/capture/_config.py``) and turns one, or upstream's own
object, into what edgetorch's exporter does:

=============================== =============================================
field                           in edgetorch
=============================== =============================================
``preserve_ops``                kept out of the decomposition table, so they
                                reach the kernel library undecomposed (a kernel
                                must exist for them, as upstream's must)
``_core_aten_ops_exception_list`` accepted: edgetorch checks operators against
                                its kernel library, not against the core ATen
                                list, so a non-core op with a kernel is allowed
                                anyway
``_check_ir_validity``          accepted (True or False): the kernel-library
                                check at ``to_executorch`` always runs, since
                                a program with an operator no kernel runs
                                cannot load
``_skip_dim_order``             only False: edgetorch always emits dim-order
                                copies (``dim_order_ops::_to_dim_order_copy``)
``_use_edge_ops``               only True (edge ops are what edgetorch emits)
``_skip_type_promotion``        only False
=============================== =============================================

Any other field, or a value edgetorch cannot honour, raises
:class:`CompileConfigError` naming the field and saying what to do.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from .errors import ExportError


class CompileConfigError(ExportError, ValueError):
    """A compile_config field edgetorch does not support (named in the message)."""


@dataclass
class EdgeCompileConfig:
    """Upstream's ``executorch.exir.EdgeCompileConfig``, for ``edgetorch.to_edge``.

    See the module documentation for what each field does here."""

    _check_ir_validity: bool = True
    _skip_dim_order: bool = False
    _core_aten_ops_exception_list: List[Any] = field(default_factory=list)
    preserve_ops: List[Any] = field(default_factory=list)


# Fields edgetorch honours only at one value: name -> (value, why).
_FIXED: Dict[str, Any] = {
    "_skip_dim_order": (False, "edgetorch always emits dim-order copies "
                               "(dim_order_ops::_to_dim_order_copy), which upstream's "
                               "runtime and edgetorch's both run"),
    "_use_edge_ops": (True, "edgetorch always emits edge-dialect operators"),
    "_skip_type_promotion": (False, "edgetorch always applies PyTorch's type promotion"),
}
_ACCEPTED = ("_check_ir_validity", "_core_aten_ops_exception_list", "preserve_ops")


@dataclass
class ResolvedCompileConfig:
    """What the exporter needs from a compile_config."""

    preserve_ops: List[Any] = field(default_factory=list)


def _default(f: "dataclasses.Field[Any]") -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
        return f.default_factory()  # type: ignore[misc]
    return dataclasses.MISSING


def _fields(cfg: Any) -> Dict[str, Any]:
    """The fields of `cfg` that were set; for a dataclass (upstream's
    EdgeCompileConfig of any release), fields left at their default are
    left out unless edgetorch knows them, so that a newer upstream field
    nobody set does not fail."""
    if dataclasses.is_dataclass(cfg) and not isinstance(cfg, type):
        out = {}
        for f in dataclasses.fields(cfg):
            v = getattr(cfg, f.name)
            if f.name in _ACCEPTED or f.name in _FIXED:
                out[f.name] = v
                continue
            try:
                same = bool(v == _default(f))
            except Exception:  # noqa: BLE001 - values without a usable ==
                same = False
            if not same:
                out[f.name] = v
        return out
    if isinstance(cfg, dict):
        return dict(cfg)
    if hasattr(cfg, "__dict__"):
        return {k: v for k, v in vars(cfg).items() if not k.startswith("__")}
    raise CompileConfigError(
        f"compile_config must be an EdgeCompileConfig (edgetorch.EdgeCompileConfig or "
        f"upstream's), got {type(cfg).__name__}")


def resolve(cfg: Optional[Any]) -> ResolvedCompileConfig:
    """Check `cfg` (edgetorch's, upstream's EdgeCompileConfig, a dict of its
    fields, or None) and return what the exporter uses."""
    out = ResolvedCompileConfig()
    if cfg is None:
        return out
    problems: List[str] = []
    for name, value in _fields(cfg).items():
        if name in _FIXED:
            want, why = _FIXED[name]
            if bool(value) != want:
                problems.append(f"EdgeCompileConfig.{name}={value!r} is not supported: {why}; "
                                f"leave {name} at {want!r}")
        elif name == "preserve_ops":
            out.preserve_ops = list(value or [])
        elif name in _ACCEPTED:
            continue
        else:
            problems.append(
                f"EdgeCompileConfig.{name} is not supported by edgetorch (it supports "
                f"{', '.join(sorted(_ACCEPTED + tuple(_FIXED)))}); remove it from the config")
    if problems:
        raise CompileConfigError("\n".join(problems))
    return out
