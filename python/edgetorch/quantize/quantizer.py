"""EdgeQuantizer: a torchao PT2E Quantizer with upstream's XNNPACK patterns.

    q = EdgeQuantizer(int8_static()).set_module_name("head", None)
    prepared = prepare_pt2e(torch.export.export(m, args).module(), q)

A global config, overridden per submodule name or type (a submodule set to
None is left in float). See edgetorch/quantize/annotate.py for what is
annotated and how observers are shared.
"""

from __future__ import annotations

from typing import Callable, Dict, List, Optional, Tuple, Union

from torch.fx import GraphModule, Node

from torchao.quantization.pt2e.quantizer import Quantizer, get_module_name_filter

from . import annotate as ann
from .config import QuantConfig, QuantizeError, resolve

ConfigLike = Union[str, QuantConfig, None]


def _module_type_filter(tp: type) -> Callable[[Node], bool]:
    want = f"{tp.__module__}.{tp.__qualname__}"

    def f(n: Node) -> bool:
        for _path, t in n.meta.get("nn_module_stack", {}).values():
            if (f"{t.__module__}.{t.__qualname__}" if isinstance(t, type) else t) == want:
                return True
        return False

    return f


def _pt2e(cfg: Optional[QuantConfig]):
    if cfg is None:
        return None
    if not cfg.is_pt2e:
        raise QuantizeError(f"EdgeQuantizer takes the PT2E configs; {cfg.kind} is a torchao "
                            "source transform: use edgetorch.quantize.quantize(...)")
    return cfg.to_torchao()


class EdgeQuantizer(Quantizer):
    """Annotates the patterns upstream's XNNPACKQuantizer annotates."""

    def __init__(self, config: ConfigLike = "int8_static") -> None:
        super().__init__()
        self.global_config: Optional[QuantConfig] = resolve(config)
        self._by_name: List[Tuple[str, Optional[QuantConfig]]] = []
        self._by_type: List[Tuple[type, Optional[QuantConfig]]] = []
        _pt2e(self.global_config)

    def set_global(self, config: ConfigLike) -> "EdgeQuantizer":
        self.global_config = None if config is None else resolve(config)
        _pt2e(self.global_config)
        return self

    def set_module_name(self, name: str, config: ConfigLike) -> "EdgeQuantizer":
        """Nodes from submodule ``name`` (and below) use ``config``; None keeps them float."""
        c = None if config is None else resolve(config)
        _pt2e(c)
        self._by_name.append((name, c))
        return self

    def set_module_type(self, tp: type, config: ConfigLike) -> "EdgeQuantizer":
        c = None if config is None else resolve(config)
        _pt2e(c)
        self._by_type.append((tp, c))
        return self

    # -- torchao's Quantizer interface ---------------------------------------

    def transform_for_annotation(self, model: GraphModule) -> GraphModule:
        return ann.scalars_to_constants(model)

    def annotate(self, model: GraphModule) -> GraphModule:
        name_filters = [get_module_name_filter(n) for n, _ in self._by_name]
        type_filters = [_module_type_filter(t) for t, _ in self._by_type]
        for (_, cfg), f in zip(self._by_name, name_filters):
            ann.annotate_all(model, _pt2e(cfg), f)
        for (_, cfg), f in zip(self._by_type, type_filters):
            ann.annotate_all(model, _pt2e(cfg), f)
        others = name_filters + type_filters

        def rest(n: Node) -> bool:
            return not any(f(n) for f in others)

        ann.annotate_all(model, _pt2e(self.global_config), rest if others else None)
        ann.propagate(model)
        return model

    def validate(self, model: GraphModule) -> None:
        return None

    def describe(self) -> Dict[str, str]:
        from .config import describe

        d = {"global": describe(self.global_config) if self.global_config else "float"}
        for n, c in self._by_name:
            d[n] = describe(c) if c else "float"
        for t, c in self._by_type:
            d[t.__name__] = describe(c) if c else "float"
        return d
