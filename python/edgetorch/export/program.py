"""The user-facing pipeline: ``to_edge`` -> ``EdgeProgram.to_executorch`` -> ``PteProgram``."""

from __future__ import annotations

import copy
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple, Union

import torch

from ..pte import schema as S
from ..pte.program import serialize_pte_chunks, serialize_ptd
from . import memory_planning as mp
from . import compile_config as compile_config_mod
from . import decompositions, kernel_selection, layouts, oplib, partition, passes
from .config import ExportConfig
from .emit import MethodEmitter, ProgramState, check_constant_method, emit_constant_method
from .errors import ExportError

ProgressFn = Optional[Callable[[str], None]]


def _decomposition_table(library: Optional[frozenset] = None) -> Dict[Any, Any]:
    return decompositions.decomposition_table(library)


class EdgeProgram:
    """Methods in the edge dialect: core ATen ops plus dim-order ops.

    ``methods`` maps a name to its ``EdgeMethod`` (graph + signature facts).
    """

    def __init__(self, methods: Dict[str, passes.EdgeMethod],
                 exported: Dict[str, torch.export.ExportedProgram],
                 library: frozenset,
                 constant_methods: Optional[Mapping[str, Any]] = None) -> None:
        self.methods = methods
        self._exported = exported
        self.library = library
        # name -> value: methods that return constants (get_max_seq_len ...)
        self.constant_methods: Dict[str, Any] = dict(constant_methods or {})
        # method -> the delegates lowered into it (to_backend)
        self.delegates: Dict[str, List[partition.LoweredDelegate]] = {}

    def exported_program(self, name: str = "forward") -> torch.export.ExportedProgram:
        """The decomposed (core ATen) ExportedProgram of a method."""
        return self._exported[name]

    @property
    def method_names(self) -> List[str]:
        return sorted(self.methods)

    def operators(self) -> Dict[str, int]:
        """Count of each op target over all methods (before out variants)."""
        counts: Dict[str, int] = {}
        for m in self.methods.values():
            for sub in passes.subgraphs(m.gm):
                for n in sub.graph.nodes:
                    if n.op == "call_function":
                        k = kernel_selection.display_name(n.target)
                        counts[k] = counts.get(k, 0) + 1
        return counts

    def to_backend(self, partitioner: Any) -> "EdgeProgram":
        """Delegate what ``partitioner`` takes (one partitioner, a list, or a
        dict from method name to a list), in place; returns self.

        Each partitioner in turn finds the subgraphs its backend runs and
        replaces each by a delegate call (``export/partition.py``); what none
        takes stays on the kernel library."""
        for name in sorted(self.methods):
            if isinstance(partitioner, Mapping):
                todo = partitioner.get(name) or []
            else:
                todo = partitioner
            if not isinstance(todo, (list, tuple)):
                todo = [todo]
            m = self.methods[name]
            for p in todo:
                if not isinstance(p, partition.Partitioner):
                    raise ExportError(
                        f"partitioner {p!r} is not an edgetorch partitioner; use "
                        "edgetorch.XnnpackPartitioner() (upstream's partitioner objects "
                        "lower with upstream's own flow)")
                p.channels_last = getattr(self, "_channels_last", False)
                done = sum(len(d) for d in self.delegates.values())
                found = partition.lower_method(m.gm, p, first_index=done)
                self.delegates.setdefault(name, []).extend(found)
        return self

    def to_executorch(self, config: Optional[ExportConfig] = None, *,
                      progress: ProgressFn = None) -> "PteProgram":
        config = config or ExportConfig()
        library = config.operators if config.operators is not None else self.library
        say = progress or (lambda s: None)
        methods = {k: _copy_method(v) for k, v in self.methods.items()}
        state = ProgramState(config.external_constants)
        plans: List[S.ExecutionPlan] = []
        reports: Dict[str, mp.MethodMemoryPlan] = {}
        instr_nodes: Dict[str, List[Optional[str]]] = {}
        for name in sorted(methods):
            m = methods[name]
            t0 = time.monotonic()
            stats = passes.executorch_passes(m, library, fold=config.fold_constants,
                                             plan_inputs=config.plan_inputs,
                                             fuse_bn=config.fuse_batch_norm)
            kernel_selection.select_kernels(m.gm, library)
            if config.preserve_channels_last:
                layouts.check_channels_last(m.gm, lambda t: passes.dim_order_of(t, True))
            say(f"[{name}] passes: {stats}")
            em = MethodEmitter(m, state, plan_inputs=config.plan_inputs,
                               plan_outputs=config.plan_outputs,
                               init_mutable_buffers=config.init_mutable_buffers,
                               library=library,
                               inplace=config.inplace and config.memory_planning == "edgetorch",
                               channels_last=config.preserve_channels_last)
            roots = em.run()
            say(f"[{name}] emitted {len(em.instructions)} instructions, "
                f"{len(em.values)} values")
            blocks = [mp.Block(key=r.id, size=mp.align_up(max(r.nbytes, 0), config.alignment),
                               first=r.first, last=r.last) for r in roots if r.planned]
            res = mp.plan_blocks(blocks, config.memory_planning)
            alternatives = {}
            for alg in ("greedy", "naive"):
                if alg != config.memory_planning:
                    alternatives[alg] = mp.ALGORITHMS[alg](blocks).total
            by_id = {r.id: r for r in roots}
            for key, off in res.offsets.items():
                by_id[key].offset = off
            sizes = [0, res.total]
            emitted = em.build_plan(roots, sizes)
            plans.append(emitted.plan)
            instr_nodes[name] = [n.name if n is not None else None
                                 for n in emitted.instr_nodes]
            tensors = []
            for b in blocks:
                r = by_id[b.key]
                tensors.append(mp.PlannedTensor(
                    name=r.name, kind=r.kind, nbytes=b.size, first=b.first, last=b.last,
                    offset=r.offset, values=sorted(set(r.values)), ops=list(r.ops)))
            reports[name] = mp.MethodMemoryPlan(
                method=name, algorithm=config.memory_planning, total_bytes=res.total,
                lower_bound=res.lower_bound, num_instructions=emitted.num_instructions,
                tensors=tensors, instructions=list(emitted.instr_names),
                alternatives=alternatives)
            say(f"[{name}] planned memory {res.total} bytes ({config.memory_planning}; "
                f"lower bound {res.lower_bound}; "
                + ", ".join(f"{k} {v}" for k, v in alternatives.items())
                + f") in {time.monotonic() - t0:.2f}s")
        for name in sorted(self.constant_methods):
            plans.append(emit_constant_method(name, self.constant_methods[name], state))
        program = S.Program(version=0, execution_plan=plans)
        buf = serialize_pte_chunks(program, state.constant_buffers,
                            mutable_buffers=state.mutable_buffers,
                            named_data=state.named_data,
                            delegate_data=state.delegate_data,
                            constant_tensor_alignment=config.constant_tensor_alignment,
                            segment_alignment=config.segment_alignment)
        say(f"serialized {sum(memoryview(c).nbytes for c in buf)} bytes")
        pte = PteProgram(buf, program, reports, state, config)
        # Debug handles: instruction i of chain 0 came from graph node
        # instruction_nodes[method][i] of edge_program (edgetorch.devtools).
        pte.instruction_nodes = instr_nodes
        pte.edge_program = self
        return pte


def _shared_tensors(obj: Any) -> Dict[int, Any]:
    """A deepcopy memo under which the real tensors of an ExportedProgram or
    a graph module (weights, constants, buffers) are shared, not copied: the
    passes replace constants rather than write into them, and copying them
    would hold a model's weights twice."""
    tensors: List[torch.Tensor] = []
    if isinstance(obj, torch.export.ExportedProgram):
        tensors += list(obj.state_dict.values())
        tensors += [v for v in obj.constants.values() if isinstance(v, torch.Tensor)]
        obj = obj.graph_module
    tensors += [t for _, t in obj.named_parameters(remove_duplicate=False)]
    tensors += [t for _, t in obj.named_buffers(remove_duplicate=False)]
    for sub in passes.subgraphs(obj):
        for n in sub.graph.nodes:
            v = n.meta.get("val")
            if passes.is_const(n):
                tensors.append(v)
    return {id(t): t for t in tensors}


def _copy_method(m: passes.EdgeMethod) -> passes.EdgeMethod:
    """to_executorch mutates graphs; keep the EdgeProgram reusable (its
    constant tensors are shared with the copy)."""
    gm = copy.deepcopy(m.gm, _shared_tensors(m.gm))
    old = [n for n in m.gm.graph.nodes if n.op == "placeholder"]
    new = [n for n in gm.graph.nodes if n.op == "placeholder"]
    mapping = dict(zip(old, new))
    for o, n in zip(old, new):
        for k in ("et_kind", "et_fqn", "et_init"):
            if k in o.meta:
                n.meta[k] = o.meta[k]
    return passes.EdgeMethod(
        name=m.name, gm=gm, in_spec=m.in_spec, out_spec=m.out_spec,
        user_outputs=list(m.user_outputs),
        mutations=[(p, mapping[ph]) for p, ph in m.mutations],
        range_constraints=m.range_constraints, size_bounds=dict(m.size_bounds))


class PteProgram:
    """A serialized program: ``.buffer`` holds the `.pte` bytes.

    The file is kept as the pieces the serializer laid out (the constants
    among them are the model's own tensor memory) until ``.buffer`` is first
    read; ``write_to_file`` writes the pieces one after another, so a large
    model is written without a second copy of its weights in memory."""

    def __init__(self, buffer: Union[bytes, List[Any]], program: S.Program,
                 memory_plan: Dict[str, mp.MethodMemoryPlan], state: ProgramState,
                 config: ExportConfig) -> None:
        if isinstance(buffer, (bytes, bytearray, memoryview)):
            self._buffer: Optional[bytes] = bytes(buffer)
            self._chunks: List[Any] = []
        else:
            self._buffer = None
            self._chunks = list(buffer)
        self.program = program
        self.memory_plan = memory_plan
        self._state = state
        self.config = config
        self.instruction_nodes: Dict[str, List[Optional[str]]] = {}
        self.edge_program: Optional[EdgeProgram] = None

    @property
    def buffer(self) -> bytes:
        if self._buffer is None:
            self._buffer = b"".join(self._chunks)
            self._chunks = []
        return self._buffer

    @property
    def nbytes(self) -> int:
        """Size of the `.pte` file."""
        if self._buffer is not None:
            return len(self._buffer)
        return sum(memoryview(c).nbytes for c in self._chunks)

    @property
    def executorch_program(self) -> S.Program:
        return self.program

    @property
    def planned_bytes(self) -> int:
        return sum(sum(p.non_const_buffer_sizes) for p in self.program.execution_plan)

    @property
    def constant_bytes(self) -> int:
        return sum(memoryview(b).nbytes for b in self._state.constant_buffers)

    def write_to_file(self, path: Union[str, os.PathLike, Any]) -> None:
        """Write the `.pte` (a path or a binary file object)."""
        pieces = [self._buffer] if self._buffer is not None else self._chunks
        if hasattr(path, "write"):
            for p in pieces:
                path.write(p)
            return
        _atomic_write(Path(path), pieces)

    def save(self, path: Union[str, os.PathLike]) -> None:
        self.write_to_file(path)

    @property
    def tensor_data(self) -> Dict[str, bytes]:
        """External tensor files (name -> bytes), when external_constants is on."""
        if not self._state.external:
            return {}
        return {"_default_external_constant.ptd": serialize_ptd(
            self._state.external, tensor_alignment=self.config.constant_tensor_alignment,
            segment_alignment=self.config.segment_alignment)}

    def write_tensor_data_to_file(self, outdir: Union[str, os.PathLike]) -> List[Path]:
        """Write the `.ptd` file(s) into ``outdir``; returns their paths."""
        out = []
        for name, data in self.tensor_data.items():
            p = Path(outdir) / name
            p.parent.mkdir(parents=True, exist_ok=True)
            _atomic_write(p, data)
            out.append(p)
        return out

    def plan_report(self) -> str:
        return "\n\n".join(self.memory_plan[k].table() for k in sorted(self.memory_plan))


def _atomic_write(path: Path, data: Union[bytes, List[Any]]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        for piece in ([data] if isinstance(data, (bytes, bytearray)) else data):
            f.write(piece)
    os.replace(tmp, path)


# ---------------------------------------------------------------------------


def to_edge(programs: Union[torch.export.ExportedProgram,
                            Mapping[str, torch.export.ExportedProgram]],
            constant_methods: Optional[Mapping[str, Any]] = None,
            compile_config: Any = None,
            generate_etrecord: bool = False, *,
            config: Optional[ExportConfig] = None,
            progress: ProgressFn = None) -> EdgeProgram:
    """Decompose to the core ATen op set and lift to the edge form.

    The positional arguments are upstream's (``executorch.exir.to_edge``):
    ``compile_config`` takes an ``EdgeCompileConfig`` (edgetorch's or
    upstream's; see ``edgetorch.export.compile_config`` for what each field
    does). ``constant_methods`` maps a method name to the value it returns
    (bool, int, float, str, dtype or tensor, or lists/tuples/dicts of them),
    emitted as upstream emits them: a method with no inputs and no
    instructions whose outputs are those values (LLM metadata such as
    ``get_max_seq_len`` is read this way). ``generate_etrecord=True`` is not
    supported and says so."""
    for cname, value in (constant_methods or {}).items():
        if not isinstance(cname, str) or not cname:
            raise ExportError(f"to_edge: constant method name {cname!r} is not a string")
        check_constant_method(cname, value)
    if generate_etrecord:
        raise ExportError("to_edge: generate_etrecord=True is not supported by edgetorch "
                          "(it writes no ETRecord); call to_edge without it")
    resolved = compile_config_mod.resolve(compile_config)
    if isinstance(programs, torch.export.ExportedProgram):
        programs = {"forward": programs}
    if not programs:
        raise ExportError("no methods to export")
    config = config or ExportConfig()
    library = config.operators if config.operators is not None else oplib.kernel_library()
    say = progress or (lambda s: None)
    table = _decomposition_table(library)
    for op in resolved.preserve_ops:
        for key in _overloads(op):
            table.pop(key, None)
    clash = sorted(set(programs) & set(constant_methods or {}))
    if clash:
        raise ExportError(f"to_edge: {', '.join(clash)} is both a method and a constant method")
    methods, exported = {}, {}
    for name in sorted(programs):
        ep = programs[name]
        if not isinstance(ep, torch.export.ExportedProgram):
            raise TypeError(f"method {name!r}: expected an ExportedProgram, got {type(ep)}")
        t0 = time.monotonic()
        ep = ep.run_decompositions(table)
        exported[name] = ep
        lifted = passes.remove_effect_tokens(copy.deepcopy(ep, _shared_tensors(ep)))
        lifted = passes.remove_auto_functionalized(lifted)
        m = passes.lift(lifted, name)
        passes.edge_passes(m, library, config.preserve_channels_last)
        methods[name] = m
        say(f"[{name}] decomposed to core ATen in {time.monotonic() - t0:.2f}s")
    edge = EdgeProgram(methods, exported, library, constant_methods)
    edge._channels_last = config.preserve_channels_last
    return edge


def to_edge_transform_and_lower(
        programs: Union[torch.export.ExportedProgram,
                        Mapping[str, torch.export.ExportedProgram]],
        transform_passes: Any = None,
        partitioner: Any = None,
        constant_methods: Optional[Mapping[str, Any]] = None,
        compile_config: Any = None,
        generate_etrecord: bool = False, *,
        config: Optional[ExportConfig] = None,
        progress: ProgressFn = None) -> EdgeProgram:
    """``to_edge``, then the transform passes, then delegation, with
    upstream's argument names (``executorch.exir.to_edge_transform_and_lower``):

        edge = edgetorch.to_edge_transform_and_lower(
            ep, partitioner=[edgetorch.XnnpackPartitioner()])
        edge.to_executorch().write_to_file("model.pte")

    ``partitioner`` is a list of edgetorch partitioners (or a dict from
    method name to such a list); ``transform_passes`` callables run on each
    method's graph module before partitioning."""
    edge = to_edge(programs, constant_methods, compile_config, generate_etrecord,
                   config=config, progress=progress)
    if transform_passes:
        for name in sorted(edge.methods):
            todo = transform_passes.get(name, []) if isinstance(transform_passes, Mapping) \
                else transform_passes
            gm = edge.methods[name].gm
            for fn in todo:
                fn(gm)
                gm.recompile()
    if partitioner:
        say = progress or (lambda s: None)
        edge.to_backend(partitioner)
        for name, ds in sorted(edge.delegates.items()):
            say(f"[{name}] {len(ds)} delegate(s): "
                + "; ".join(f"{d.backend_id} {len(d.ops)} ops" for d in ds))
    return edge


def _overloads(op: Any) -> List[Any]:
    """The OpOverloads an entry of preserve_ops stands for (an OpOverload,
    or an OpOverloadPacket meaning every overload)."""
    if isinstance(op, torch._ops.OpOverloadPacket):
        return [getattr(op, o) for o in op.overloads()]
    if isinstance(op, torch._ops.OpOverload):
        return [op]
    raise compile_config_mod.CompileConfigError(
        f"EdgeCompileConfig.preserve_ops: {op!r} is not an operator overload; give "
        "torch.ops.aten.<name>.<overload> (e.g. torch.ops.aten.linear.default)")


def _inference_mode(model: Any) -> List[torch.nn.Module]:
    """Put the modules of `model` that are in training mode into inference
    mode (dropout off, batch norm on running statistics) and return them, so
    the caller can switch them back.

    The flag is set directly rather than through ``.eval()``: a graph module
    (``ep.module()``, a PT2E graph from torchao's ``convert_pt2e``) refuses
    ``.eval()`` and ``.train()``, and its mode is already part of its graph,
    so graph modules are left alone."""
    switched: List[torch.nn.Module] = []
    if not isinstance(model, torch.nn.Module):
        return switched
    for m in model.modules():
        if isinstance(m, torch.fx.GraphModule) or not m.training:
            continue
        m.training = False
        switched.append(m)
    return switched


def export(model: torch.nn.Module, example_args: Tuple[Any, ...], *,
           example_kwargs: Optional[Dict[str, Any]] = None,
           dynamic_shapes: Any = None, config: Optional[ExportConfig] = None,
           strict: bool = False, progress: ProgressFn = None,
           etrecord: Optional[Union[str, os.PathLike]] = None,
           partitioner: Any = None) -> PteProgram:
    """nn.Module -> `.pte` in one call (torch.export, to_edge, to_executorch).

    ``partitioner``: delegate what it takes first, as
    ``to_edge_transform_and_lower`` does (``[edgetorch.XnnpackPartitioner()]``).

    ``etrecord``: also write an ETRecord there (upstream's Inspector maps
    ETDump events to graph nodes with it; edgetorch.devtools.etrecord)."""
    if not isinstance(example_args, tuple):
        example_args = (example_args,)
    say = progress or (lambda s: None)
    t0 = time.monotonic()
    switched = _inference_mode(model)
    try:
        ep = torch.export.export(model, example_args, kwargs=example_kwargs,
                                 dynamic_shapes=dynamic_shapes, strict=strict)
    finally:
        for m in switched:
            m.training = True
    say(f"torch.export done in {time.monotonic() - t0:.2f}s")
    if partitioner:
        edge = to_edge_transform_and_lower(ep, partitioner=partitioner, config=config,
                                           progress=progress)
    else:
        edge = to_edge(ep, config=config, progress=progress)
    pte = edge.to_executorch(config, progress=progress)
    if etrecord is not None:
        from ..devtools.etrecord import write_etrecord

        write_etrecord(pte, etrecord)
    return pte


def stderr_progress(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)
