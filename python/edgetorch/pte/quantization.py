"""Quantization parameters in a `.pte`, read from the file alone.

For ``edgetorch inspect``: every quantized_decomposed kernel call (what it
quantizes or dequantizes, the integer dtype and its bounds, the scale and
zero point, or the per-channel axis with a summary of the scales, or that
the parameters are computed at run time), and every quantized value of
XNNPACK payloads (qint8 per tensor, qcint8/qcint4 per channel, qbint4
blockwise with its group size, qdint8 dynamic per token).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import numpy as np

from . import schema as S
from .program import PteFile

_INT_DTYPES = {0: "uint8", 1: "int8", 2: "int16", 3: "int32", 4: "int64", 6: "float32",
               27: "uint16"}


_TORCH_NAMES = {"byte": "uint8", "char": "int8", "short": "int16", "int": "int32",
                "long": "int64", "half": "float16", "float": "float32", "double": "float64"}


def _dtype(code: Any) -> str:
    return _INT_DTYPES.get(code, f"dtype{code}") if isinstance(code, int) else str(code)


def _num(x: float) -> str:
    return f"{x:.6g}"


def _summary(a: np.ndarray) -> str:
    a = np.asarray(a).reshape(-1)
    if a.size == 0:
        return "[]"
    if a.size <= 4:
        return "[" + ", ".join(_num(float(v)) for v in a) + "]"
    if np.all(a == a[0]):
        return f"all {_num(float(a[0]))}"
    return f"{_num(float(a.min()))} .. {_num(float(a.max()))}"


class _Args:
    """The arguments of one kernel call, described from the file."""

    def __init__(self, pte: PteFile, plan: S.ExecutionPlan, args: List[int]) -> None:
        self.pte, self.plan, self.args = pte, plan, args

    def val(self, k: int) -> Any:
        return self.plan.values[self.args[k]].val if k < len(self.args) else None

    def scalar(self, k: int) -> Any:
        v = self.val(k)
        if isinstance(v, S.Int):
            return v.int_val
        if isinstance(v, S.Double):
            return v.double_val
        if isinstance(v, S.Bool):
            return v.bool_val
        return None

    def tensor(self, k: int) -> Optional[S.Tensor]:
        v = self.val(k)
        return v if isinstance(v, S.Tensor) else None

    def const(self, k: int) -> Optional[np.ndarray]:
        t = self.tensor(k)
        return None if t is None else self.pte.tensor_array(t)

    def shape(self, k: int) -> str:
        t = self.tensor(k)
        if t is None:
            return "?"
        try:
            dt = S.ScalarType(t.scalar_type).name.lower()
        except ValueError:
            dt = f"dtype{t.scalar_type}"
        dt = _TORCH_NAMES.get(dt, dt)
        return f"{dt}[{', '.join(str(s) for s in t.sizes)}]"

    def what(self, k: int) -> str:
        """'v12 float[1, 8]' or 'weight int8[32, 16, 3, 3]' for constants."""
        t = self.tensor(k)
        kind = "constant" if t is not None and self.pte.tensor_array(t) is not None else \
            f"v{self.args[k]}"
        return f"{kind} {self.shape(k)}"


def _qparams(a: _Args, scale_k: int, zp_k: int) -> str:
    s, z = a.scalar(scale_k), a.scalar(zp_k)
    if s is not None:
        return f"scale {_num(float(s))} zero_point {z}"
    sc, zc = a.const(scale_k), a.const(zp_k)
    if sc is not None:
        return f"scale {_summary(sc)} zero_point {_summary(zc) if zc is not None else 0}"
    return "scale and zero point computed at run time"


def _describe_call(name: str, a: _Args) -> Optional[Dict[str, Any]]:
    op = name.split("::", 1)[1] if "::" in name else name
    base = op.split(".")[0]
    d: Dict[str, Any] = {"op": name}
    if base in ("quantize_per_tensor", "dequantize_per_tensor"):
        d.update(tensor=a.what(0), scheme="per tensor", qparams=_qparams(a, 1, 2),
                 dtype=_dtype(a.scalar(5)), range=(a.scalar(3), a.scalar(4)))
    elif base in ("quantize_per_channel", "dequantize_per_channel"):
        axis = a.scalar(3)
        d.update(tensor=a.what(0), scheme=f"per channel, axis {axis}",
                 qparams=_qparams(a, 1, 2), dtype=_dtype(a.scalar(6)),
                 range=(a.scalar(4), a.scalar(5)))
        sc = a.const(1)
        if sc is not None:
            d["channels"] = int(sc.size)
    elif base in ("quantize_per_token", "dequantize_per_token"):
        d.update(tensor=a.what(0), scheme="per token (dynamic)",
                 qparams="scale and zero point per token, computed at run time",
                 dtype=_dtype(a.scalar(5)), range=(a.scalar(3), a.scalar(4)))
    elif base == "choose_qparams":
        d.update(tensor=a.what(0), scheme="per tensor (dynamic)",
                 qparams=f"chosen at run time, eps {_num(float(a.scalar(3) or 0))}",
                 dtype=_dtype(a.scalar(4)), range=(a.scalar(1), a.scalar(2)))
    elif base == "choose_qparams_per_token_asymmetric":
        d.update(tensor=a.what(0), scheme="per token, asymmetric (dynamic)",
                 qparams="chosen at run time", dtype=_dtype(a.scalar(1)), range=(-128, 127))
    elif base.startswith("embedding_"):
        bits = {"embedding_byte": 8, "embedding_4bit": 4, "embedding_2bit": 2}.get(base, 8)
        w, sc = a.tensor(0), a.const(1)
        d.update(tensor=a.what(0), scheme=f"{bits}-bit embedding rows",
                 qparams=f"scale {_summary(sc)}" if sc is not None else "scales",
                 dtype=f"int{bits}", range=(a.scalar(3), a.scalar(4)))
        if w is not None and sc is not None and sc.ndim == 2 and sc.shape[1] > 0:
            dim = int(w.sizes[1]) * 8 // bits
            d["group_size"] = dim // int(sc.shape[1])
    elif base in ("mixed_linear", "mixed_mm"):
        d.update(tensor=a.what(1), scheme="int8 weight, per channel", qparams=(
            f"scale {_summary(a.const(2))}" if a.const(2) is not None else "scales"),
                 dtype=_dtype(a.tensor(1).scalar_type if a.tensor(1) else None), range=None)
    elif base == "add":
        d.update(tensor=f"{a.what(0)} + {a.what(5)}", scheme="per tensor",
                 qparams=f"a {_num(float(a.scalar(1)))}/{a.scalar(2)}, "
                         f"b {_num(float(a.scalar(6)))}/{a.scalar(7)}, "
                         f"out {_num(float(a.scalar(10)))}/{a.scalar(11)}",
                 dtype="int8", range=(a.scalar(12), a.scalar(13)))
    else:
        d.update(tensor=a.what(0), scheme="", qparams="", dtype="", range=None)
    return d


_XNN_DTYPES = {3: "qint8", 4: "quint8", 5: "qint32", 6: "qcint8", 7: "qcint32", 8: "qcint4",
               9: "qdint8", 10: "qbint4", 11: "qpint8"}


def _xnn_values(pte: PteFile, d: S.BackendDelegate) -> List[Dict[str, Any]]:
    from . import xnnpack as X

    ref = d.processed
    if ref is None:
        return []
    if ref.location == S.DataLocation.SEGMENT:
        raw = pte.segment(ref.index)
    else:
        raw = bytes(pte.program.backend_delegate_data[ref.index].data)
    try:
        payload = X.read_payload(raw)
    except Exception as e:  # noqa: BLE001 - describe, do not fail, on a damaged payload
        return [{"error": f"payload unreadable: {e}"}]
    named: Dict[str, bytes] = {}
    for nd in pte.program.named_data or []:
        try:
            named[nd.key] = pte.segment(nd.segment_index)
        except Exception:  # noqa: BLE001 - a missing segment: scales not shown
            pass

    def scales(idx: int, bf16: bool) -> Optional[np.ndarray]:
        try:
            raw = payload.constant(idx, named)
        except Exception:  # noqa: BLE001
            return None
        if bf16:
            u = np.frombuffer(raw[:len(raw) // 2 * 2], np.uint16).astype(np.uint32) << 16
            return u.view(np.float32)
        return np.frombuffer(raw[:len(raw) // 4 * 4], np.float32)

    out: List[Dict[str, Any]] = []
    for vid, xv in enumerate(payload.graph.xvalues):
        q = xv.xvalue_union
        if not isinstance(q, X.XNNQuantizedTensorValue) or q.tensor_value is None:
            continue
        tv, p = q.tensor_value, q.quant_params
        r: Dict[str, Any] = {"value": vid, "datatype": _XNN_DTYPES.get(tv.datatype, str(tv.datatype)),
                             "dims": list(tv.dims), "constant": tv.constant_buffer_idx != 0}
        if isinstance(p, X.PerTensorQuant):
            r.update(scheme="per tensor", qparams=f"scale {_num(p.scale)} zero_point {p.zero_point}")
        elif isinstance(p, (X.PerChannelQuant, X.PerChannelGroupQuant)):
            group = isinstance(p, X.PerChannelGroupQuant)
            sc = np.array(p.scale, np.float32) if p.scale else \
                scales(p.scale_buffer_idx, group) if p.scale_buffer_idx else None
            count = len(p.scale) or p.num_scales
            r.update(scheme=f"per channel{' groups' if group else ''}, axis {p.channel_dim}",
                     qparams=f"{count} scales " + (_summary(sc) if sc is not None and sc.size
                                                   else "(not readable)") + ", zero_point 0")
            if group:
                r["group_size"] = p.group_size
        elif isinstance(p, X.PerTokenDynamicQuant):
            r.update(scheme=f"per token (dynamic), {p.num_nonbatch_dims} non-batch dims",
                     qparams="computed at run time")
        else:
            r.update(scheme=type(p).__name__, qparams="")
        out.append(r)
    return out


def _group_weight(pte: PteFile, plan: S.ExecutionPlan, args: List[int]) -> Optional[Dict[str, Any]]:
    """A constant int8 [N, K] matrix viewed as [N, K/g, g]: the groupwise
    weights of an 8da4w linear written in portable ops (edgetorch.quantize)."""
    a = _Args(pte, plan, args)
    t, out = a.tensor(0), a.tensor(len(args) - 1)
    if t is None or out is None or t.scalar_type != 1 or len(out.sizes) != 3 \
            or len(t.sizes) not in (2, 3):
        return None
    w = pte.tensor_array(t)
    n, k = int(out.sizes[0]), int(out.sizes[1]) * int(out.sizes[2])
    if w is None or w.size != n * k or int(t.sizes[0]) != n:
        return None
    lo, hi = int(w.min()), int(w.max())
    bits = next(b for b in (2, 4, 8) if lo >= -(1 << (b - 1)) and hi < (1 << (b - 1)))
    return {"op": "groupwise weight (portable ops)", "tensor": a.what(0),
            "scheme": f"per channel groups, {int(out.sizes[1])} groups a row",
            "qparams": f"values {lo} .. {hi} (int{bits} range, one a byte)",
            "dtype": "int8", "range": None, "group_size": int(out.sizes[2])}


def quantization_summary(pte: PteFile) -> List[Dict[str, Any]]:
    """Per method: {"method", "calls": [...], "xnnpack": [...]} (empty lists when
    the method is not quantized)."""
    res = []
    for plan in pte.program.execution_plan:
        calls = []
        for ins in (plan.chains[0].instructions if plan.chains else []):
            a = ins.instr_args
            if not isinstance(a, S.KernelCall):
                continue
            name = plan.operators[a.op_index].full_name
            if name.startswith(("aten::view_copy", "dim_order_ops::_to_dim_order_copy")):
                g = _group_weight(pte, plan, list(a.args))
                if g is not None:
                    calls.append(g)
                continue
            if not name.startswith(("quantized_decomposed::", "torchao::")):
                continue
            try:
                calls.append(_describe_call(name, _Args(pte, plan, list(a.args))))
            except Exception as e:  # noqa: BLE001 - a damaged file still gets described
                calls.append({"op": name, "error": str(e)})
        xnn = []
        for d in plan.delegates:
            if d.id == "XnnpackBackend":
                xnn.extend(_xnn_values(pte, d))
        res.append({"method": plan.name, "calls": calls, "xnnpack": xnn})
    return res


def format_quantization(summary: List[Dict[str, Any]], limit: int = 60) -> str:
    lines: List[str] = []
    for m in summary:
        if not m["calls"] and not m["xnnpack"]:
            continue
        lines.append(f"quantization in {m['method']}: {len(m['calls'])} quantized kernel calls, "
                     f"{len(m['xnnpack'])} quantized XNNPACK values")
        for i, c in enumerate(m["calls"]):
            if i == limit:
                lines.append(f"  ... {len(m['calls']) - limit} more (--json lists all)")
                break
            if "error" in c:
                lines.append(f"  {c['op']}: {c['error']}")
                continue
            short = c["op"].split("::", 1)[-1]
            rng = f" [{c['range'][0]}, {c['range'][1]}]" if c.get("range") else ""
            extra = f", {c['channels']} channels" if "channels" in c else ""
            extra += f", group size {c['group_size']}" if "group_size" in c else ""
            lines.append(f"  {short:<42} {c['tensor']}: {c['dtype']}{rng} {c['scheme']}{extra}; "
                         f"{c['qparams']}")
        for i, v in enumerate(m["xnnpack"]):
            if i == limit:
                lines.append(f"  ... {len(m['xnnpack']) - limit} more XNNPACK values")
                break
            if "error" in v:
                lines.append(f"  XNNPACK: {v['error']}")
                continue
            gs = f", group size {v['group_size']}" if "group_size" in v else ""
            kind = "constant" if v["constant"] else "value"
            lines.append(f"  XNNPACK {kind} {v['value']:<4} {v['datatype']}{v['dims']}: "
                         f"{v['scheme']}{gs}; {v['qparams']}")
    return "\n".join(lines)
