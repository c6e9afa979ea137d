"""Upstream's documented ``executorch.runtime`` usage runs on edgetorch with
only the import line changed, and returns what upstream returns.

The same source text (USAGE) is executed twice, once importing from
``executorch.runtime`` (upstream 1.5.1, the oracle) and once from
``edgetorch.runtime``, on the same ``.pte`` files (exported by upstream and by
edgetorch, with and without mutable state); everything it records (types,
metadata, outputs, state across ``load_method`` calls and across programs,
the exceptions it meets) must be equal.
"""

from __future__ import annotations

import pathlib
import textwrap
from typing import Any, Callable, Dict, List, Tuple

import pytest
import torch

USAGE = textwrap.dedent('''
    from {module} import Runtime, Verification

    runtime = Runtime.get()
    program = runtime.load_program(PATH, verification=Verification.Minimal)
    record["method_names"] = program.method_names
    meta = program.metadata("forward")
    record["meta"] = (meta.name(), meta.num_inputs(), meta.num_outputs(), repr(meta))
    record["inputs"] = [
        (meta.input_tensor_meta(i).sizes(), meta.input_tensor_meta(i).dtype(),
         meta.input_tensor_meta(i).nbytes(), meta.input_tensor_meta(i).is_memory_planned(),
         repr(meta.input_tensor_meta(i)))
        for i in range(meta.num_inputs())]
    record["outputs"] = [
        (meta.output_tensor_meta(i).sizes(), meta.output_tensor_meta(i).dtype(),
         meta.output_tensor_meta(i).nbytes(), repr(meta.output_tensor_meta(i)))
        for i in range(meta.num_outputs())]

    forward = program.load_method("forward")
    record["loaded_meta"] = repr(forward.metadata)
    record["run1"] = forward.execute(INPUTS)
    record["run2"] = forward.execute(INPUTS)
    # A second load_method of the same name: the same method, the same state.
    again = program.load_method("forward")
    record["same_object"] = again is forward
    record["run3"] = again.execute(INPUTS)
    # A new program (from bytes this time) starts from the initial state.
    fresh = runtime.load_program(PATH.read_bytes(),
                                 verification=Verification.InternalConsistency)
    record["fresh"] = fresh.load_method("forward").execute(INPUTS)
    with open(PATH, "rb") as f:
        # Kept in a variable: upstream's Method does not keep the bytes of a
        # Program loaded from bytes alive, so a temporary Program would leave
        # it reading freed memory (edgetorch's keeps them).
        from_file = runtime.load_program(f)
    record["from_file_object"] = from_file.load_method("forward").execute(INPUTS)
    # ...while the first program's method goes on from where it was.
    record["run4"] = forward.execute(INPUTS)

    for name, call in [
            ("unknown_method", lambda: program.load_method("no_such_method")),
            ("wrong_input_count", lambda: forward.execute(INPUTS[:-1])),
            ("input_meta_out_of_range", lambda: meta.input_tensor_meta(meta.num_inputs())),
            ("output_meta_out_of_range",
             lambda: meta.output_tensor_meta(meta.num_outputs())),
            ("bad_data", lambda: runtime.load_program(12345))]:
        try:
            call()
            record[name] = None
        except Exception as e:  # the kind of failure must match upstream's
            record[name] = [c for c in (KeyError, IndexError, TypeError, RuntimeError)
                            if isinstance(e, c)]
''')


def run_usage(module: str, path: pathlib.Path, inputs: Tuple[torch.Tensor, ...]) -> Dict[str, Any]:
    record: Dict[str, Any] = {}
    exec(USAGE.format(module=module), {"PATH": path, "INPUTS": inputs, "record": record})
    return record


# ---- programs ---------------------------------------------------------------


class Add(torch.nn.Module):
    """The module of upstream's docstring example."""

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return x + y


class Counter(torch.nn.Module):
    """Mutable state: a float accumulator and an int64 step count."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("acc", torch.full((2, 2), 3.0))
        self.register_buffer("steps", torch.zeros(1, dtype=torch.int64))

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        self.acc.add_(x)
        self.steps.add_(1)
        return self.acc * 2.0, self.steps + 0


class Mixed(torch.nn.Module):
    """Outputs of several dtypes: float, bool, int64 and bfloat16."""

    def forward(self, x: torch.Tensor, idx: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        return x * 2.0, x > 0, idx * 3, (x + 1.0).to(torch.bfloat16)


def _cases() -> Dict[str, Tuple[Callable[[], torch.nn.Module], Tuple[torch.Tensor, ...]]]:
    g = torch.Generator().manual_seed(0)
    return {
        "add": (Add, (torch.ones(2, 2), torch.ones(2, 2))),
        "counter": (Counter, (torch.randn(2, 2, generator=g),)),
        "mixed": (Mixed, (torch.randn(3, 4, generator=g),
                          torch.arange(6, dtype=torch.int64).reshape(2, 3))),
    }


CASES = _cases()


def _export_upstream(model: torch.nn.Module, args: Tuple[torch.Tensor, ...]) -> bytes:
    from executorch.exir import to_edge

    return to_edge(torch.export.export(model, args)).to_executorch().buffer


def _export_edgetorch(model: torch.nn.Module, args: Tuple[torch.Tensor, ...]) -> bytes:
    import edgetorch

    return edgetorch.export(model, args).buffer


@pytest.fixture(scope="module", params=["upstream", "edgetorch"])
def exporter(request: pytest.FixtureRequest) -> Tuple[str, Callable[..., bytes]]:
    return request.param, {"upstream": _export_upstream, "edgetorch": _export_edgetorch}[
        request.param]


def _same(a: Any, b: Any, where: str) -> None:
    """Equal values of equal types, tensors compared by dtype, shape and value."""
    assert type(a) is type(b), f"{where}: {type(a).__name__} vs {type(b).__name__}"
    if isinstance(a, torch.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape, f"{where}: {a} vs {b}"
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=f"{where}: {a} vs {b}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), f"{where}: {a} vs {b}"
        for k, (x, y) in enumerate(zip(a, b)):
            _same(x, y, f"{where}[{k}]")
    else:
        assert a == b, f"{where}: {a!r} vs {b!r}"


@pytest.mark.parametrize("case", sorted(CASES))
def test_documented_usage_matches_upstream(case: str, exporter: Tuple[str, Callable[..., bytes]],
                                           tmp_path: pathlib.Path) -> None:
    make, inputs = CASES[case]
    path = tmp_path / f"{case}.pte"
    path.write_bytes(exporter[1](make(), inputs))
    theirs = run_usage("executorch.runtime", path, inputs)
    ours = run_usage("edgetorch.runtime", path, inputs)
    assert set(ours) == set(theirs)
    for key in theirs:
        _same(ours[key], theirs[key], key)
    # The usage met every failure it provokes, on both runtimes.
    for key in ("unknown_method", "wrong_input_count", "input_meta_out_of_range",
                "output_meta_out_of_range", "bad_data"):
        assert theirs[key], key


def test_state_carries_over_as_upstream_says(tmp_path: pathlib.Path) -> None:
    """What the comparison above relies on, stated plainly for one program:
    the outputs follow the module's own arithmetic in eager PyTorch."""
    make, (x,) = CASES["counter"]
    path = tmp_path / "counter.pte"
    path.write_bytes(_export_edgetorch(make(), (x,)))
    rec = run_usage("edgetorch.runtime", path, (x,))
    eager = make()
    runs = [eager(x) for _ in range(3)]
    for k, key in enumerate(("run1", "run2", "run3")):
        torch.testing.assert_close(rec[key][0], runs[k][0])
        assert rec[key][1].tolist() == runs[k][1].tolist() == [k + 1]
    assert rec["same_object"] is True
    assert rec["fresh"][1].tolist() == [1] and rec["from_file_object"][1].tolist() == [1]
    assert rec["run4"][1].tolist() == [4]


def test_registries_and_extras(tmp_path: pathlib.Path) -> None:
    from edgetorch.runtime import Runtime

    rt = Runtime.get()
    assert rt is Runtime.get()
    ops = rt.operator_registry.operator_names
    assert isinstance(ops, set) and "aten::add.out" in ops
    names = rt.backend_registry.registered_backend_names
    assert isinstance(names, list)
    for n in names:
        assert rt.backend_registry.is_available(n)
    assert not rt.backend_registry.is_available("NoSuchBackend")
    make, inputs = CASES["counter"]
    path = tmp_path / "counter.pte"
    path.write_bytes(_export_edgetorch(make(), inputs))
    meta = rt.load_program(str(path)).metadata("forward")
    assert meta.num_memory_planned_buffers() >= 1
    assert meta.memory_planned_buffer_size(0) > 0
    assert meta.memory_bytes() >= meta.memory_planned_buffer_size(0)
    assert meta.num_backends() == 0 and not meta.uses_backend("XnnpackBackend")
    assert meta.input_tensor_meta(0).dim_order() == (0, 1)
    with pytest.raises(TypeError):
        rt.load_program(str(path), verification="Minimal")
    with pytest.raises(RuntimeError, match="enable_etdump"):
        rt.load_program(str(path), enable_etdump=True)


def test_wrong_file_kind_is_named(tmp_path: pathlib.Path) -> None:
    from edgetorch.runtime import EdgetorchError, Runtime

    ptd = tmp_path / "weights.ptd"
    ptd.write_bytes(b"\x00\x00\x00\x00FT01FH01" + bytes(40))
    with pytest.raises(EdgetorchError, match=r"tensor data \(\.ptd.*not a program \(\.pte\).*data"):
        Runtime.get().load_program(ptd)


# ---- state shared between methods ---------------------------------------------

TWO_METHODS = textwrap.dedent('''
    from {module} import Runtime

    program = Runtime.get().load_program(PATH)
    record["method_names"] = program.method_names
    forward, peek = program.load_method("forward"), program.load_method("peek")
    record["runs"] = [forward.execute(INPUTS) for _ in range(3)]
    record["peek"] = peek.execute(INPUTS)       # sees forward's state
    record["again"] = forward.execute(INPUTS)
    other = Runtime.get().load_program(PATH)    # another program: its own state
    record["other_peek"] = other.load_method("peek").execute(INPUTS)
''')


class Accumulate(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("state", torch.zeros(2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.state.add_(x)
        return self.state * 1.0


class Peek(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("state", torch.zeros(2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.state.mul_(1.0)  # a mutation, so the buffer is the shared state
        return self.state + x


def test_methods_share_mutable_state_as_upstream(tmp_path: pathlib.Path) -> None:
    """A program exported with upstream's share_mutable_buffers=True keeps one
    state for all its methods; upstream's runtime gives every method of a
    program the same planned buffers, and so must ours."""
    from executorch.exir import ExecutorchBackendConfig, to_edge
    from executorch.exir.passes import MemoryPlanningPass

    x = torch.tensor([1.0, 2.0])
    eps = {"forward": torch.export.export(Accumulate(), (x,)),
           "peek": torch.export.export(Peek(), (x,))}
    cfg = ExecutorchBackendConfig(
        memory_planning_pass=MemoryPlanningPass(share_mutable_buffers=True),
        emit_mutable_buffer_names=True)
    path = tmp_path / "shared.pte"
    path.write_bytes(to_edge(eps).to_executorch(cfg).buffer)
    theirs, ours = {}, {}
    exec(TWO_METHODS.format(module="executorch.runtime"),
         {"PATH": path, "INPUTS": (x,), "record": theirs})
    exec(TWO_METHODS.format(module="edgetorch.runtime"),
         {"PATH": path, "INPUTS": (x,), "record": ours})
    for key in theirs:
        _same(ours[key], theirs[key], key)
    assert theirs["peek"][0].tolist() == [4.0, 8.0]  # 3 x plus x: the state is shared
    assert theirs["other_peek"][0].tolist() == [1.0, 2.0]


def test_a_lone_tensor_input_as_upstream(tmp_path: pathlib.Path) -> None:
    """Upstream's method also takes one tensor instead of a sequence."""
    import executorch.runtime as up
    import edgetorch.runtime as ours

    make, (x,) = CASES["counter"]
    path = tmp_path / "counter.pte"
    path.write_bytes(_export_upstream(make(), (x,)))
    got = [rt.Runtime.get().load_program(path).load_method("forward").execute(x)
           for rt in (up, ours)]
    _same(got[1], got[0], "lone tensor")
