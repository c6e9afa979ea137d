"""What a `.pte` holds, read back from the file alone (ours or upstream's):
methods, inputs/outputs, operators, delegates, constant and planned bytes,
and the memory layout of planned tensors over the instruction stream."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from . import schema as S
from .program import PteFile


def _tensor_desc(t: S.Tensor) -> str:
    try:
        dt = S.ScalarType(t.scalar_type).name.lower()
    except ValueError:
        dt = f"dtype{t.scalar_type}"
    dyn = {1: " (dynamic, upper bound)", 2: " (unbounded)"}.get(t.shape_dynamism, "")
    return f"{dt}[{', '.join(str(s) for s in t.sizes)}]{dyn}"


def value_desc(v: S.EValue) -> str:
    x = v.val
    if isinstance(x, S.Tensor):
        return "tensor " + _tensor_desc(x)
    if isinstance(x, S.Int):
        return f"int {x.int_val}"
    if isinstance(x, S.Double):
        return f"float {x.double_val}"
    if isinstance(x, S.Bool):
        return f"bool {x.bool_val}"
    if isinstance(x, S.String):
        return f"str {x.string_val!r}"
    if x is None or isinstance(x, S.Null):
        return "none"
    return type(x).__name__


@dataclass
class LayoutBox:
    value: int
    label: str
    kind: str          # input | output | buffer | activation
    offset: int
    nbytes: int
    memory_id: int
    first: int         # positions: 0 = inputs set, i+1 = instruction i, N+1 = outputs read
    last: int


def memory_layout(pte: PteFile, plan: S.ExecutionPlan) -> List[LayoutBox]:
    """Planned tensors of one method with the lifetimes the file implies."""
    values = plan.values
    instrs = plan.chains[0].instructions if plan.chains else []
    n = len(instrs)
    first: Dict[int, int] = {}
    last: Dict[int, int] = {}
    writer: Dict[int, str] = {}

    def touch(idx: int, pos: int) -> None:
        if idx < 0 or idx >= len(values):
            return
        v = values[idx].val
        if isinstance(v, S.Tensor):
            first[idx] = min(first.get(idx, pos), pos)
            last[idx] = max(last.get(idx, pos), pos)
        elif isinstance(v, (S.TensorList, S.OptionalTensorList)):
            for it in v.items:
                touch(it, pos)

    for i in plan.inputs:
        touch(i, 0)
    for i, ins in enumerate(instrs):
        a = ins.instr_args
        if isinstance(a, S.KernelCall):
            for idx in a.args:
                touch(idx, i + 1)
            if a.args and 0 <= a.op_index < len(plan.operators):
                out = a.args[-1]
                name = plan.operators[a.op_index].full_name
                v = values[out].val if 0 <= out < len(values) else None
                items = v.items if isinstance(v, S.TensorList) else [out]
                for it in items:
                    writer.setdefault(it, name)
        elif isinstance(a, S.JumpFalseCall):
            touch(a.cond_value_index, i + 1)
        elif isinstance(a, (S.MoveCall,)):
            touch(a.move_from, i + 1)
            touch(a.move_to, i + 1)
    for o in plan.outputs:
        touch(o, n + 1)
    ins_set, out_set = set(plan.inputs), set(plan.outputs)
    boxes = []
    for idx, v in enumerate(values):
        t = v.val
        if not isinstance(t, S.Tensor) or t.allocation_info is None:
            continue
        kind = "activation"
        if t.data_buffer_idx > 0:
            kind = "buffer"
        elif idx in ins_set:
            kind = "input"
        elif idx in out_set:
            kind = "output"
        f, l = first.get(idx, 0), last.get(idx, 0)
        if kind == "buffer":
            f, l = 0, n + 1
        label = writer.get(idx, kind)
        boxes.append(LayoutBox(idx, f"v{idx} {label}", kind, t.allocation_info.offset,
                               t.nbytes, t.allocation_info.memory_id, f, l))
    return boxes


def summarize(pte: PteFile) -> Dict[str, Any]:
    prog = pte.program
    out: Dict[str, Any] = {
        "file_bytes": len(pte.data),
        "extended_header": pte.has_extended_header,
        "segments": [(s.offset, s.size) for s in prog.segments],
        "constant_bytes": pte.constant_segment_size,
        "num_constants": max(0, len(prog.constant_segment.offsets) - 1)
        if prog.constant_segment else len(prog.constant_buffer),
        "named_data": [n.key for n in (prog.named_data or [])],
        "methods": [],
    }
    for plan in prog.execution_plan:
        counts: Counter = Counter()
        for ins in (plan.chains[0].instructions if plan.chains else []):
            a = ins.instr_args
            if isinstance(a, S.KernelCall):
                counts[plan.operators[a.op_index].full_name] += 1
            elif a is not None:
                counts[f"<{type(a).__name__}>"] += 1
        external = sorted({v.val.extra_tensor_info.fully_qualified_name
                           for v in plan.values if isinstance(v.val, S.Tensor)
                           and v.val.extra_tensor_info is not None
                           and v.val.extra_tensor_info.location == S.TensorDataLocation.EXTERNAL
                           and v.val.extra_tensor_info.fully_qualified_name})
        out["methods"].append({
            "name": plan.name,
            "inputs": [value_desc(plan.values[i]) for i in plan.inputs],
            "outputs": [value_desc(plan.values[i]) for i in plan.outputs],
            "instructions": sum(len(c.instructions) for c in plan.chains),
            "values": len(plan.values),
            "operators": dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))),
            "delegates": [d.id for d in plan.delegates],
            "planned_buffer_sizes": list(plan.non_const_buffer_sizes),
            "planned_bytes": sum(plan.non_const_buffer_sizes),
            "external_tensors": external,
        })
    return out


def format_summary(s: Dict[str, Any]) -> str:
    lines = [f"file: {s['file_bytes']} bytes, constants {s['constant_bytes']} bytes "
             f"({s['num_constants']} buffers), segments {len(s['segments'])}"]
    if s["named_data"]:
        lines.append(f"named data: {', '.join(s['named_data'])}")
    for m in s["methods"]:
        lines.append("")
        lines.append(f"method {m['name']}: {m['instructions']} instructions, "
                     f"{m['values']} values, planned memory {m['planned_bytes']} bytes "
                     f"{m['planned_buffer_sizes']}")
        for i, d in enumerate(m["inputs"]):
            lines.append(f"  input  {i}: {d}")
        for i, d in enumerate(m["outputs"]):
            lines.append(f"  output {i}: {d}")
        lines.append(f"  delegates: {', '.join(m['delegates']) if m['delegates'] else 'none'}")
        if m["external_tensors"]:
            lines.append(f"  external tensors (.ptd): {len(m['external_tensors'])}")
        lines.append(f"  operators ({len(m['operators'])}):")
        for op, c in m["operators"].items():
            lines.append(f"    {c:>5}  {op}")
    return "\n".join(lines)


_COLORS = {"input": "#4c72b0", "output": "#dd8452", "buffer": "#c44e52",
           "activation": "#55a868"}


def plot_memory(pte: PteFile, path: str, method: Optional[str] = None) -> List[LayoutBox]:
    """Offset vs instruction, one box per planned tensor (matplotlib)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch, Rectangle

    plans = [p for p in pte.program.execution_plan if method is None or p.name == method]
    if not plans:
        raise ValueError(f"no method {method!r} in the program")
    fig, axes = plt.subplots(len(plans), 1, figsize=(10, 4.5 * len(plans)), squeeze=False)
    all_boxes = []
    for ax, plan in zip(axes[:, 0], plans):
        boxes = memory_layout(pte, plan)
        all_boxes += boxes
        n = len(plan.chains[0].instructions) if plan.chains else 0
        for b in boxes:
            ax.add_patch(Rectangle((b.first - 0.45, b.offset), b.last - b.first + 0.9,
                                   max(b.nbytes, 1), facecolor=_COLORS[b.kind],
                                   edgecolor="black", linewidth=0.4, alpha=0.75))
        total = sum(plan.non_const_buffer_sizes)
        ax.set_xlim(-1, n + 2)
        ax.set_ylim(0, max(total, 1) * 1.02)
        ax.axhline(total, color="grey", linestyle="--", linewidth=0.8)
        ax.set_xlabel("position (0 = inputs set, i+1 = instruction i, last = outputs read)")
        ax.set_ylabel("offset in planned arena (bytes)")
        ax.set_title(f"{plan.name}: {total} planned bytes, {len(boxes)} tensors, "
                     f"{n} instructions")
        ax.legend(handles=[Patch(color=c, label=k) for k, c in _COLORS.items()],
                  loc="upper right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return all_boxes
