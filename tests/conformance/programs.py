"""One-operator programs from OpInfo samples, exported with edgetorch's exporter.

A *case* is one OpInfo sample at one dtype: the operator call
``op(sample.input, *sample.args, **sample.kwargs)`` wrapped in a module whose
inputs are the sample's tensors (in pytree order) and whose non-tensor
arguments are baked in. The module returns the call's tensor results as a
flat tuple.

Exporting costs mostly a fixed ~1 s per ``run_decompositions`` call (torch
re-registers every composite op each time), so cases are exported in
batches: one ``torch.export`` + one decomposition of a module that makes all
the calls of a batch, then the decomposed graph is cut into one graph per
case (the backward closure of that case's outputs) and each piece goes
through edgetorch's own edge passes, kernel selection, memory planning and
serializer, exactly as ``edgetorch.export`` would run them on a one-call
module. ``export_single`` runs the public ``edgetorch.export.export`` instead;
the harness falls back to it whenever a batch cannot be exported, and
``--verify-batching`` checks that both give byte-identical programs.

This file is hashed into the cache key of every program (with the
exporter's sources and the operator list), so editing it invalidates the
cache.
"""

from __future__ import annotations

import copy
import hashlib
import re
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import torch
import torch.fx
import torch.utils._pytree as pytree

REPO = Path(__file__).resolve().parents[2]


class _TensorSlot:
    """Marks where a program input goes in a flattened argument list."""

    def __repr__(self) -> str:
        return "<tensor>"


TENSOR = _TensorSlot()

# ---------------------------------------------------------------------------
# cache keys


def exporter_hash(library: frozenset) -> str:
    """Everything a program's bytes depend on besides the case itself."""
    h = hashlib.sha256()
    h.update(torch.__version__.encode())
    srcs = sorted((REPO / "python" / "edgetorch" / "export").glob("*.py"))
    srcs += sorted((REPO / "python" / "edgetorch" / "pte").glob("*.py"))
    srcs.append(Path(__file__))
    for p in srcs:
        h.update(p.name.encode())
        h.update(p.read_bytes())
    h.update("\n".join(sorted(library)).encode())
    return h.hexdigest()[:16]


_ADDR = re.compile(r" at 0x[0-9a-fA-F]+")


def _leaf_repr(x: Any) -> str:
    if isinstance(x, torch.Tensor):
        return f"T({x.dtype},{tuple(x.shape)})"
    return _ADDR.sub("", repr(x))


# ---------------------------------------------------------------------------
# cases


@dataclass
class Case:
    opname: str                  # OpInfo name, ".variant" appended when there is one
    dtype: torch.dtype
    index: int                   # position among the samples chosen for (op, dtype)
    fn: Callable[..., Any]
    spec: Any                    # pytree spec of (input, args, kwargs)
    template: List[Any]          # leaves; TENSOR where an input tensor goes
    tensors: List[torch.Tensor]  # the program inputs (contiguous)
    describe: str                # short human description of the sample
    key: str = ""
    gen: int = 0                 # index of the sample among those generated
    random: bool = False         # eager's values are random: compare dtype and shape only
    n_outputs: int = 0
    expected: List[torch.Tensor] = field(default_factory=list)

    def call(self, tensors: Sequence[torch.Tensor]) -> Tuple[torch.Tensor, ...]:
        it = iter(tensors)
        leaves = [next(it) if x is TENSOR else x for x in self.template]
        inp, args, kwargs = pytree.tree_unflatten(leaves, self.spec)
        return output_tensors(self.fn(inp, *args, **kwargs))


class NonTensorOutput(Exception):
    """The call returns something other than tensors (a number, a bool, a size)."""


def output_tensors(res: Any) -> Tuple[torch.Tensor, ...]:
    leaves = pytree.tree_leaves(res)
    out = []
    for x in leaves:
        if x is None:
            continue
        if not isinstance(x, torch.Tensor):
            raise NonTensorOutput(f"returns {type(x).__name__}")
        out.append(x)
    if not out:
        raise NonTensorOutput("returns no tensor")
    return tuple(out)


def make_case(opname: str, fn: Callable[..., Any], dtype: torch.dtype, index: int,
              sample: Any, salt: str) -> Case:
    flat, spec = pytree.tree_flatten((sample.input, tuple(sample.args), dict(sample.kwargs)))
    template, tensors, parts = [], [], []
    for x in flat:
        parts.append(_leaf_repr(x))
        if isinstance(x, torch.Tensor):
            template.append(TENSOR)
            tensors.append(x.detach().clone().contiguous())
        else:
            template.append(x)
    struct = f"{opname}|{dtype}|{spec}|{'|'.join(parts)}"
    key = hashlib.sha256(f"{salt}|{struct}".encode()).hexdigest()[:24]
    describe = _describe(flat, spec)
    return Case(opname, dtype, index, fn, spec, template, tensors, describe, key)


def _describe(flat: List[Any], spec: Any) -> str:
    def short(x: Any) -> Any:
        if isinstance(x, torch.Tensor):
            return _Raw(f"T{list(x.shape)}:{str(x.dtype).replace('torch.', '')}")
        return x
    inp, args, kwargs = pytree.tree_unflatten([short(x) for x in flat], spec)
    bits = [repr(inp)] + [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
    s = _ADDR.sub("", ", ".join(bits))
    return s if len(s) <= 160 else s[:157] + "..."


class _Raw:
    def __init__(self, s: str) -> None:
        self.s = s

    def __repr__(self) -> str:
        return self.s


# ---------------------------------------------------------------------------
# modules


class OneCall(torch.nn.Module):
    def __init__(self, case: Case) -> None:
        super().__init__()
        self.case = case

    def forward(self, *tensors: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        return self.case.call(tensors)


class ManyCalls(torch.nn.Module):
    def __init__(self, cases: Sequence[Case]) -> None:
        super().__init__()
        self.cases = list(cases)

    def forward(self, *tensors: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        outs: List[torch.Tensor] = []
        i = 0
        for c in self.cases:
            n = len(c.tensors)
            res = c.call(tensors[i:i + n])
            if len(res) != c.n_outputs:
                raise RuntimeError(f"{c.opname}: {len(res)} outputs traced, "
                                   f"{c.n_outputs} in eager")
            outs.extend(res)
            i += n
        return tuple(outs)


# ---------------------------------------------------------------------------
# results of an export


@dataclass
class Exported:
    ok: bool
    pte: bytes = b""
    kernels: List[str] = field(default_factory=list)
    kind: str = ""                # failures: "needs" (operators missing), "na" or "fail"
    needs: List[str] = field(default_factory=list)
    reason: str = ""
    via: str = ""                 # "batch" or "single"

    def meta(self) -> Dict[str, Any]:
        return {"ok": self.ok, "kernels": self.kernels, "kind": self.kind,
                "needs": self.needs, "reason": self.reason, "via": self.via}


def _kernels_of(prog: Any) -> List[str]:
    names = set()
    for plan in prog.program.execution_plan:
        for op in plan.operators:
            names.add(f"{op.name}.{op.overload}" if op.overload else op.name)
    return sorted(names)


_DATA_DEP = ("data-dependent", "data dependent", "GuardOnDataDependent", "DataDependent",
             "unbacked", "DynamicOutputShape", "dynamic output shape")


def classify_failure(e: BaseException) -> Exported:
    """An export failure as "needs <operators>" (n/a), not applicable, or a
    failure of edgetorch's exporter.

    The rule is where the exception is raised (see _stage):

    * UnsupportedOperatorError: the kernel library (ops.def) lacks the
      operators the sample lowers to. Not applicable ("needs X"): a gap in
      coverage, named, that the headline's coverage counts against us.
    * Raised while torch itself runs (torch.export.export or
      run_decompositions called by the exporter, or by this harness) before
      edgetorch's own passes see the graph: torch cannot export the sample
      (no out variant, data-dependent shapes, effects torch.export refuses).
      Not applicable.
    * Anything else raised while edgetorch's own code runs: a failure,
      "exporter rejects" for a deliberate ExportError (the exporter cannot
      express something torch.export accepted) and "exporter error (<type>)"
      for an unexpected exception (a bug).
    """
    from edgetorch.export import ExportError, UnsupportedOperatorError

    name = type(e).__name__
    msg = str(e)
    first = msg.strip().splitlines()[0] if msg.strip() else ""
    if isinstance(e, UnsupportedOperatorError):
        needs, other = [], []
        for line in msg.splitlines()[1:]:
            s = line.strip()
            if not s or s.startswith("at ") or s.startswith("..."):
                continue
            why = ""
            m = re.match(r"(.*?) \((.*)\)$", s)
            if m:
                s, why = m.group(1), m.group(2)
            kern = s.split(" -> ")[-1]
            if why and why != "":
                other.append(f"{kern} ({why})")
            else:
                needs.append(kern)
        ops = needs + other
        return Exported(False, kind="needs", needs=sorted(set(ops)),
                        reason="needs " + ", ".join(sorted(set(ops))))
    if isinstance(e, NonTensorOutput):
        return Exported(False, kind="na", reason=f"non-tensor output: {msg}")
    detail = first if len(first) <= 200 else first[:197] + "..."
    stage = _stage(e)
    kind = "fail" if stage == "exporter" else "na"
    if stage == "exporter" and isinstance(e, ExportError):
        why = "exporter rejects"                # a deliberate refusal with a message
    elif stage == "exporter":
        why = f"exporter error ({name})"        # an unexpected exception in edgetorch
    elif any(s.lower() in (name + " " + msg).lower() for s in _DATA_DEP):
        why = "data-dependent shape or value"
    else:
        why = f"torch.export error ({name})"
    return Exported(False, kind=kind, reason=f"{why}: {detail}" if detail else why)


def _package_dir() -> str:
    import edgetorch
    return str(Path(edgetorch.__file__).resolve().parent)


def _stage(e: BaseException) -> str:
    """"exporter" when the exception was raised while edgetorch's own code
    ran: the innermost frame of the traceback inside the edgetorch package
    exists and is not the exporter's call into torch.export.export or
    run_decompositions. Else "torch" (torch failed before edgetorch's passes
    saw the graph, or outside edgetorch)."""
    pkg = _package_dir()
    frames = traceback.extract_tb(e.__traceback__)
    ours = [f for f in frames if str(Path(f.filename).resolve()).startswith(pkg + "/")]
    if not ours:
        return "torch"
    line = ours[-1].line or ""
    if "torch.export.export" in line or "run_decompositions" in line:
        return "torch"
    return "exporter"


# ---------------------------------------------------------------------------
# exporting

NOTES: List[str] = []


def _note(msg: str) -> None:
    NOTES.append(msg)


def export_single(case: Case, library: frozenset) -> Exported:
    """The public path: ``edgetorch.export.export`` on a one-call module."""
    from edgetorch.export import ExportConfig, export

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            prog = export(OneCall(case), tuple(case.tensors),
                          config=ExportConfig(operators=library))
        except Exception as e:  # noqa: BLE001 - every failure is classified
            r = classify_failure(e)
            r.via = "single"
            return r
    return Exported(True, pte=prog.buffer, kernels=_kernels_of(prog), via="single")


class BatchError(Exception):
    """A batch could not be traced, decomposed or cut into pieces.

    ``failed`` holds the cases known to cause it, with the error the exporter
    gives each of them; the others may be batched again."""

    def __init__(self, msg: str, failed: Optional[Dict[str, BaseException]] = None) -> None:
        super().__init__(msg)
        self.failed = failed or {}


def export_cases(cases: Sequence[Case], library: frozenset) -> Dict[str, Exported]:
    """Export every case: in batches where possible, singly where not.

    A batch that fails as a whole is first screened case by case with a bare
    ``torch.export`` (cheap: no decomposition): cases that cannot be traced get
    their failure recorded (the public path fails the same way, at the same
    step), and so do cases with effect tokens (see ``_screen``). The rest are
    batched again and, if that still fails, split in halves down to single
    cases, which take the public path.
    """
    uniq: Dict[str, Case] = {}
    for c in cases:
        uniq.setdefault(c.key, c)
    todo = list(uniq.values())
    if not todo:
        return {}
    if len(todo) == 1:
        return {todo[0].key: export_single(todo[0], library)}
    results: Dict[str, Exported] = {}
    try:
        return export_batch(todo, library)
    except BatchError as e:
        if e.failed:
            _record(e, results)
            rest = [c for c in todo if c.key not in e.failed]
            try:
                results.update(export_batch(rest, library) if len(rest) > 1 else
                               {c.key: export_single(c, library) for c in rest})
                return results
            except BatchError as e2:
                _record(e2, results)
                todo = [c for c in rest if c.key not in e2.failed]
    batchable = []
    for c in todo:
        err, alone = _screen(c)
        if err is not None:
            r = classify_failure(err)
            r.via = "trace"
            results[c.key] = r
        elif alone:
            results[c.key] = export_single(c, library)
        else:
            batchable.append(c)
    results.update(_bisect(batchable, library))
    return results


def _record(e: BatchError, results: Dict[str, Exported]) -> None:
    for key, err in e.failed.items():
        r = classify_failure(err)
        r.via = "batch"
        results[key] = r


def _bisect(cases: List[Case], library: frozenset) -> Dict[str, Exported]:
    if not cases:
        return {}
    if len(cases) == 1:
        return {cases[0].key: export_single(cases[0], library)}
    try:
        return export_batch(cases, library)
    except BatchError as e:
        out: Dict[str, Exported] = {}
        _record(e, out)
        rest = [c for c in cases if c.key not in e.failed]
        if e.failed:
            out.update(_bisect(rest, library))
            return out
        half = len(rest) // 2
        out.update(_bisect(rest[:half], library))
        out.update(_bisect(rest[half:], library))
        return out


def _screen(case: Case) -> Tuple[Optional[BaseException], bool]:
    """(trace error or None, whether the case must be exported alone).

    Cases with buffers mutations, effect tokens or other unusual graph
    inputs/outputs are exported alone."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ep = torch.export.export(OneCall(case), tuple(case.tensors), strict=False)
        except Exception as e:  # noqa: BLE001
            return e, False
    sig = ep.graph_signature
    alone = any(s.kind.name not in ("USER_INPUT", "PARAMETER", "BUFFER", "CONSTANT_TENSOR",
                                    "USER_INPUT_MUTATION")
                for s in sig.input_specs) or \
        any(s.kind.name not in ("USER_OUTPUT", "USER_INPUT_MUTATION") for s in sig.output_specs)
    return None, alone


def export_batch(cases: Sequence[Case], library: frozenset) -> Dict[str, Exported]:
    """Export many cases with one torch.export + decomposition.

    Returns {case.key: Exported}; raises BatchError when the batch as a whole
    cannot be traced, decomposed or cut (the caller then splits it).
    """
    from edgetorch.export import ExportConfig
    from edgetorch.export import passes
    from edgetorch.export.program import EdgeProgram, _decomposition_table

    flat = [t for c in cases for t in c.tensors]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ep = torch.export.export(ManyCalls(cases), tuple(flat), strict=False)
            ep = ep.run_decompositions(_decomposition_table(library))
        except Exception as e:  # noqa: BLE001
            first = str(e).strip().splitlines()[0][:200] if str(e).strip() else ""
            _note(f"batch of {len(cases)} ({cases[0].opname}) not exported: "
                  f"{type(e).__name__}: {first}")
            raise BatchError(str(e)) from e
    tokens = _token_cases(ep, cases)
    if tokens:
        # Cases with effect tokens take the public path alone: cutting the
        # batch into per-case graphs (below) would drop an effect (the
        # linalg error checks) that no output depends on.
        out = {c.key: export_single(c, library) for c in cases if c.key in tokens}
        out.update(export_cases([c for c in cases if c.key not in tokens], library))
        return out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            m = passes.lift(ep, "forward")
        except Exception as e:  # noqa: BLE001
            first = str(e).strip().splitlines()[0][:200] if str(e).strip() else ""
            _note(f"batch of {len(cases)} ({cases[0].opname}) not exported: "
                  f"{type(e).__name__}: {first}")
            raise BatchError(str(e)) from e
    g = m.gm.graph
    phs = [n for n in g.nodes if n.op == "placeholder"]
    out_node = next(n for n in g.nodes if n.op == "output")
    outs = list(out_node.args[0])
    if len(phs) != len(flat) or len(m.user_outputs) != sum(c.n_outputs for c in cases) or \
            len(m.user_outputs) + len(m.mutations) != len(outs):
        raise BatchError("inputs or outputs do not line up")
    pieces = []
    p0 = o0 = 0
    for c in cases:
        p1, o1 = p0 + len(c.tensors), o0 + c.n_outputs
        own = phs[p0:p1]
        # torch.export puts input mutations before user outputs; keep that order
        muts = [(pos, ph) for pos, ph in m.mutations if ph in own]
        mine = [outs[pos] for pos, _ in muts] + [outs[pos] for pos in m.user_outputs[o0:o1]]
        sliced = _slice(m.gm, own, mine, out_node)
        if sliced is None:
            raise BatchError("cases share nodes")
        gm, env = sliced
        mutations = [(k, env[ph]) for k, (_, ph) in enumerate(muts)]
        user = list(range(len(muts), len(muts) + c.n_outputs))
        pieces.append((gm, mutations, user))
        p0, o0 = p1, o1

    results: Dict[str, Exported] = {}
    for c, (gm, mutations, user) in zip(cases, pieces):
        in_spec = pytree.tree_flatten((tuple(c.tensors), {}))[1]
        out_spec = pytree.tree_flatten(tuple(range(c.n_outputs)))[1]
        em = passes.EdgeMethod(name="forward", gm=gm, in_spec=in_spec, out_spec=out_spec,
                               user_outputs=user, mutations=mutations,
                               range_constraints=dict(m.range_constraints))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                passes.edge_passes(em, library, False)
                prog = EdgeProgram({"forward": em}, {}, library).to_executorch(
                    ExportConfig(operators=library))
            except Exception as e:  # noqa: BLE001
                r = classify_failure(e)
                r.via = "batch"
                results[c.key] = r
                continue
        results[c.key] = Exported(True, pte=prog.buffer, kernels=_kernels_of(prog),
                                  via="batch")
    return results


def _token_cases(ep: torch.export.ExportedProgram, cases: Sequence[Case]) -> List[str]:
    """Keys of the cases whose computation uses a side-effect token."""
    g = ep.graph_module.graph
    specs = ep.graph_signature.input_specs
    phs = [n for n in g.nodes if n.op == "placeholder"]
    if len(phs) != len(specs) or not any(s.kind.name == "TOKEN" for s in specs):
        return []
    tok = {n for n, s in zip(phs, specs) if s.kind.name == "TOKEN"}
    effectful = set()
    for n in g.nodes:  # nodes reached from a token
        if n.op == "output":
            continue
        if n in tok or any(a in effectful for a in n.all_input_nodes):
            effectful.add(n)
    user = [n for n, s in zip(phs, specs) if s.kind.name == "USER_INPUT"]
    out, i = [], 0
    for c in cases:
        mine = set(user[i:i + len(c.tensors)])
        i += len(c.tensors)
        reach = set(mine)
        for n in g.nodes:
            if any(a in reach for a in n.all_input_nodes):
                reach.add(n)
        if reach & effectful - tok:
            out.append(c.key)
    return out


def _slice(gm: torch.fx.GraphModule, phs: List[torch.fx.Node], outs: List[Any],
           out_node: torch.fx.Node
           ) -> Optional[Tuple[torch.fx.GraphModule, Dict[torch.fx.Node, torch.fx.Node]]]:
    """A new GraphModule computing ``outs`` from ``phs`` (a case's piece), and
    the map from old to new nodes."""
    need = set()
    stack = [o for o in outs if isinstance(o, torch.fx.Node)]
    while stack:
        n = stack.pop()
        if n in need:
            continue
        need.add(n)
        stack.extend(n.all_input_nodes)
    own = set(phs)
    if any(n.op == "placeholder" and n not in own for n in need):
        return None  # the cases are not independent
    new = torch.fx.Graph()
    env: Dict[torch.fx.Node, torch.fx.Node] = {}
    for p in phs:
        env[p] = new.node_copy(p)
    for n in gm.graph.nodes:
        if n in need and n.op != "placeholder":
            env[n] = new.node_copy(n, lambda a: env[a])
    res = new.output(tuple(env[o] if isinstance(o, torch.fx.Node) else o for o in outs))
    res.meta = copy.copy(out_node.meta)
    return torch.fx.GraphModule(gm, new), env
