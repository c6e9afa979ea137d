"""The Python binding (edgetorch.runtime) on programs exported by upstream.

Programs come from upstream ExecuTorch's exporter
(``to_edge(torch.export.export(m, args)).to_executorch().buffer``). Numbers are
checked against PyTorch eager on the same inputs; metadata against what
upstream's own runtime (``executorch.runtime``) and its file reader report for
the same bytes. Error cases check the exception type, ``.status``, ``.code``
and the message format.

Run: .venv/bin/python -m pytest tests/python/test_runtime_binding.py
(after ``.venv/bin/pip install --no-build-isolation -e .``).
"""

from __future__ import annotations

import gc
import os
import pathlib
import subprocess
import sys
import threading
from dataclasses import dataclass
from typing import Callable, Dict, List, Sequence, Tuple

import ml_dtypes
import numpy as np
import pytest
import torch

import edgetorch.runtime as rt
import tolerance

# Upstream's Error codes, by name (runtime/include/edgetorch/status.h).
CODES = {
    "InvalidArgument": 0x12,
    "OperatorMissing": 0x14,
    "NotFound": 0x20,
    "AccessFailed": 0x22,
    "InvalidProgram": 0x23,
    "NotSupported": 0x10,
}

F32_TOL = dict(rtol=1e-5, atol=1e-6)
# Half/BFloat16: the dtype-derived tolerance of tolerance.py (eager's
# reduced-precision paths depend on the CPU), at the output's magnitude
F16_TOL: Dict[str, float] = {}
BF16_TOL: Dict[str, float] = {}


# ---------------------------------------------------------------------------
# Models and their programs (exported once per session).


class MLP(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = torch.nn.Linear(4, 8)
        self.fc2 = torch.nn.Linear(8, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.relu(self.fc1(x)))


class Affine(torch.nn.Module):
    """x * 2 + 1 in the input's dtype."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * 2 + 1


class MulAdd(torch.nn.Module):
    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return x * y + x


class Embed(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.emb = torch.nn.Embedding(10, 4)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        return self.emb(idx)


class AddInt(torch.nn.Module):
    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return a + b


@dataclass
class Case:
    """One exported program: its bytes, and eager models per method."""

    pte: bytes
    models: Dict[str, torch.nn.Module]
    example: Dict[str, Tuple[torch.Tensor, ...]]


def _export(methods: Dict[str, Tuple[torch.nn.Module, Tuple[torch.Tensor, ...]]]) -> Case:
    from executorch.exir import to_edge

    exported = {name: torch.export.export(m, args) for name, (m, args) in methods.items()}
    arg = exported["forward"] if list(exported) == ["forward"] else exported
    pte = to_edge(arg).to_executorch().buffer
    return Case(
        pte=bytes(pte),
        models={n: m for n, (m, _) in methods.items()},
        example={n: a for n, (_, a) in methods.items()},
    )


def _builders() -> Dict[str, Callable[[], Case]]:
    def mlp() -> Case:
        torch.manual_seed(0)
        return _export({"forward": (MLP().eval(), (torch.randn(2, 4),))})

    def two_methods() -> Case:
        return _export(
            {
                "forward": (MulAdd(), (torch.randn(2, 3), torch.randn(2, 3))),
                "affine": (Affine(), (torch.randn(5),)),
            }
        )

    def half() -> Case:
        return _export({"forward": (Affine(), (torch.randn(2, 3).half(),))})

    def bf16() -> Case:
        return _export({"forward": (Affine(), (torch.randn(2, 3).bfloat16(),))})

    def half_muladd() -> Case:
        a = torch.randn(3, 4)
        return _export({"forward": (MulAdd(), (a.half(), a.half()))})

    def bf16_muladd() -> Case:
        a = torch.randn(3, 4)
        return _export({"forward": (MulAdd(), (a.bfloat16(), a.bfloat16()))})

    def embedding() -> Case:
        torch.manual_seed(1)
        return _export({"forward": (Embed().eval(), (torch.tensor([[1, 2], [3, 9]]),))})

    def add_int64() -> Case:
        return _export(
            {"forward": (AddInt(), (torch.arange(6).reshape(2, 3), torch.ones(2, 3, dtype=torch.long)))}
        )

    return {
        "mlp": mlp,
        "two_methods": two_methods,
        "half": half,
        "bf16": bf16,
        "half_muladd": half_muladd,
        "bf16_muladd": bf16_muladd,
        "embedding": embedding,
        "add_int64": add_int64,
    }


BUILDERS = _builders()


@pytest.fixture(scope="session")
def programs() -> Dict[str, Case]:
    return {name: build() for name, build in BUILDERS.items()}


def _eager(case: Case, method: str, inputs: Sequence[torch.Tensor]) -> np.ndarray:
    with torch.no_grad():
        out = case.models[method](*inputs)
    if out.dtype == torch.bfloat16:
        return out.float().numpy().astype(ml_dtypes.bfloat16)
    return out.numpy()


def _close(actual: np.ndarray, expected: np.ndarray, **tol: float) -> None:
    assert isinstance(actual, np.ndarray)
    assert actual.dtype == expected.dtype, (actual.dtype, expected.dtype)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    tolerance.assert_close_to_eager(actual, expected, accumulates=True, **tol)


# ---------------------------------------------------------------------------
# Running programs.


def test_import_does_not_import_torch() -> None:
    """The runtime needs only numpy and ml_dtypes (torch is the `export` extra)."""
    code = (
        "import sys, edgetorch.runtime\n"
        "if 'torch' in sys.modules:\n"
        "    mods = sorted(m for m in sys.modules if m.startswith('edgetorch'))\n"
        "    sys.exit('importing edgetorch.runtime imported torch; edgetorch modules loaded: '"
        " + ', '.join(mods))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_mlp_from_bytes_numpy(programs: Dict[str, Case]) -> None:
    case = programs["mlp"]
    prog = rt.load_program(case.pte)
    assert prog.method_names == ("forward",)
    method = prog.load_method("forward")
    for seed in range(3):
        x = np.random.default_rng(seed).standard_normal((2, 4)).astype(np.float32)
        (out,) = method.execute([x])
        _close(out, _eager(case, "forward", [torch.from_numpy(x)]), **F32_TOL)


@pytest.mark.parametrize("kind", ["str", "pathlib", "mmap", "bytearray", "memoryview"])
def test_mlp_sources(programs: Dict[str, Case], tmp_path: pathlib.Path, kind: str) -> None:
    case = programs["mlp"]
    path = tmp_path / "mlp.pte"
    path.write_bytes(case.pte)
    source = {
        "str": str(path),
        "pathlib": path,
        "mmap": path,
        "bytearray": bytearray(case.pte),
        "memoryview": memoryview(case.pte),
    }[kind]
    prog = rt.load_program(source, mmap=(kind == "mmap"))
    x = torch.randn(2, 4)
    (out,) = prog.load_method().execute([x.numpy()])
    _close(out, _eager(case, "forward", [x]), **F32_TOL)


def test_mutable_source_is_copied(programs: Dict[str, Case]) -> None:
    """Changing a bytearray after loading must not reach the runtime."""
    case = programs["mlp"]
    data = bytearray(case.pte)
    prog = rt.load_program(data)
    data[:] = bytes(len(data))
    x = torch.randn(2, 4)
    (out,) = prog.load_method().execute([x.numpy()])
    _close(out, _eager(case, "forward", [x]), **F32_TOL)


def test_mlp_torch_inputs(programs: Dict[str, Case]) -> None:
    case = programs["mlp"]
    method = rt.load_program(case.pte).load_method()
    expected_for = lambda t: _eager(case, "forward", [t.detach()])  # noqa: E731

    plain = torch.randn(2, 4)
    _close(method.execute([plain])[0], expected_for(plain), **F32_TOL)

    grad = torch.randn(2, 4, requires_grad=True)
    _close(method.execute([grad])[0], expected_for(grad), **F32_TOL)

    strided = torch.randn(4, 2).t()  # (2, 4), not contiguous
    assert not strided.is_contiguous()
    _close(method.execute([strided])[0], expected_for(strided), **F32_TOL)

    sliced = torch.randn(3, 8)[1:, ::2]
    assert not sliced.is_contiguous()
    _close(method.execute([sliced])[0], expected_for(sliced), **F32_TOL)

    capsule_src = torch.randn(2, 4)
    capsule = capsule_src.__dlpack__()
    _close(method.execute([capsule])[0], expected_for(capsule_src), **F32_TOL)
    # A consumed capsule cannot be used twice (DLPack's rule).
    with pytest.raises(rt.EdgetorchError) as e:
        method.execute([capsule])
    assert e.value.status == "InvalidArgument"


def test_mlp_numpy_layouts(programs: Dict[str, Case]) -> None:
    case = programs["mlp"]
    method = rt.load_program(case.pte).load_method()
    base = np.random.default_rng(3).standard_normal((4, 8)).astype(np.float32)
    for x in (base[:2, :4], base[1:3, ::2], base[:4:2, 4:], base.T[::2, :2].T):
        assert x.shape == (2, 4)
        (out,) = method.execute([x])
        _close(out, _eager(case, "forward", [torch.from_numpy(np.ascontiguousarray(x))]), **F32_TOL)
    transposed = np.asfortranarray(base[:2, :4])
    _close(
        method.execute([transposed])[0],
        _eager(case, "forward", [torch.from_numpy(np.ascontiguousarray(transposed))]),
        **F32_TOL,
    )
    # A list is converted to the dtype the method expects.
    lst = base[:2, :4].tolist()
    _close(method.execute([lst])[0], _eager(case, "forward", [torch.tensor(lst)]), **F32_TOL)
    # Calling the method is execute(args).
    _close(method(base[:2, :4])[0], method.execute([base[:2, :4]])[0], rtol=0, atol=0)


def test_outputs_are_owned_copies(programs: Dict[str, Case]) -> None:
    method = rt.load_program(programs["mlp"].pte).load_method()
    x1 = np.ones((2, 4), np.float32)
    x2 = -np.ones((2, 4), np.float32)
    (o1,) = method.execute([x1])
    keep = o1.copy()
    (o2,) = method.execute([x2])
    np.testing.assert_array_equal(o1, keep)
    assert not np.array_equal(o1, o2)
    assert o1.flags.writeable and o1.flags.c_contiguous
    o1[...] = 0  # writing to a result must not disturb the method
    np.testing.assert_array_equal(method.execute([x1])[0], keep)


def test_method_outlives_program(programs: Dict[str, Case]) -> None:
    case = programs["mlp"]
    method = rt.load_program(bytes(bytearray(case.pte))).load_method()
    gc.collect()
    x = torch.randn(2, 4)
    _close(method.execute([x])[0], _eager(case, "forward", [x]), **F32_TOL)
    assert method.program.method_names == ("forward",)


def test_two_methods(programs: Dict[str, Case]) -> None:
    from executorch.exir._serialize._program import deserialize_pte_binary

    case = programs["two_methods"]
    prog = rt.load_program(case.pte)
    file_order = tuple(p.name for p in deserialize_pte_binary(case.pte).program.execution_plan)
    assert prog.method_names == file_order
    assert sorted(prog.method_names) == ["affine", "forward"]

    fwd = prog.load_method("forward")
    aff = prog.load_method("affine")
    assert fwd.name == "forward" and aff.name == "affine"
    assert fwd.num_inputs == 2 and aff.num_inputs == 1
    x, y = torch.randn(2, 3), torch.randn(2, 3)
    z = torch.randn(5)
    _close(fwd.execute([x, y])[0], _eager(case, "forward", [x, y]), **F32_TOL)
    _close(aff.execute([z])[0], _eager(case, "affine", [z]), **F32_TOL)
    # Interleaved runs keep their own memory.
    _close(fwd.execute([y, x])[0], _eager(case, "forward", [y, x]), **F32_TOL)
    assert prog.load_method("forward").execute([x, y])[0].shape == (2, 3)


@pytest.mark.parametrize("name", ["half", "half_muladd"])
def test_float16(programs: Dict[str, Case], name: str) -> None:
    case = programs[name]
    method = rt.load_program(case.pte).load_method()
    n_in = method.num_inputs
    shape = case.example["forward"][0].shape
    xs = [torch.randn(*shape).half() for _ in range(n_in)]
    expected = _eager(case, "forward", xs)
    assert expected.dtype == np.float16
    _close(method.execute([t.numpy() for t in xs])[0], expected, **F16_TOL)
    _close(method.execute(xs)[0], expected, **F16_TOL)  # torch through DLPack


@pytest.mark.parametrize("name", ["bf16", "bf16_muladd"])
def test_bfloat16(programs: Dict[str, Case], name: str) -> None:
    case = programs[name]
    method = rt.load_program(case.pte).load_method()
    n_in = method.num_inputs
    shape = case.example["forward"][0].shape
    xs = [torch.randn(*shape).bfloat16() for _ in range(n_in)]
    expected = _eager(case, "forward", xs)
    assert expected.dtype == ml_dtypes.bfloat16
    # torch bfloat16 through DLPack
    out = method.execute(xs)[0]
    assert out.dtype == np.dtype(ml_dtypes.bfloat16)
    _close(out, expected, **BF16_TOL)
    # numpy arrays of ml_dtypes.bfloat16, also non-contiguous
    arrays = [t.float().numpy().astype(ml_dtypes.bfloat16) for t in xs]
    _close(method.execute(arrays)[0], expected, **BF16_TOL)
    strided = [np.repeat(a, 2, axis=-1)[..., ::2] for a in arrays]
    assert not strided[0].flags.c_contiguous
    _close(method.execute(strided)[0], expected, **BF16_TOL)
    # float32 data is not silently converted
    with pytest.raises(rt.EdgetorchError) as e:
        method.execute([a.astype(np.float32) for a in arrays])
    assert e.value.status == "InvalidArgument"


def test_int64_embedding(programs: Dict[str, Case]) -> None:
    case = programs["embedding"]
    method = rt.load_program(case.pte).load_method()
    idx = torch.tensor([[0, 5], [9, 2]])
    expected = _eager(case, "forward", [idx])
    _close(method.execute([idx])[0], expected, **F32_TOL)
    _close(method.execute([idx.numpy()])[0], expected, **F32_TOL)
    _close(method.execute([[[0, 5], [9, 2]]])[0], expected, **F32_TOL)


def test_int64_add(programs: Dict[str, Case]) -> None:
    case = programs["add_int64"]
    method = rt.load_program(case.pte).load_method()
    a = torch.tensor([[1, -2, 3], [2**40, 5, -(2**40)]])
    b = torch.tensor([[7, 7, 7], [1, 1, 1]])
    out = method.execute([a.numpy(), b])[0]
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out, (a + b).numpy())
    with pytest.raises(rt.EdgetorchError) as e:
        method.execute([a.numpy().astype(np.int32), b])
    assert e.value.status == "InvalidArgument"


class ReluScale(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x) * 3.0


def test_dynamic_batch() -> None:
    from executorch.exir import to_edge

    batch = torch.export.Dim("batch", max=8)
    ep = torch.export.export(ReluScale(), (torch.randn(4, 3),), dynamic_shapes={"x": {0: batch}})
    prog = rt.load_program(to_edge(ep).to_executorch().buffer)
    info = prog.metadata().inputs[0]
    assert info.dynamism == "DYNAMIC_BOUND" and info.sizes == (8, 3)
    method = prog.load_method()
    for n in (1, 8, 3):
        x = torch.randn(n, 3)
        (out,) = method.execute([x])
        assert out.shape == (n, 3)
        _close(out, (torch.relu(x) * 3.0).numpy(), **F32_TOL)
    with pytest.raises(rt.EdgetorchError) as e:
        method.execute([torch.randn(9, 3)])
    _check_error(e, "InvalidArgument")


def test_channels_last() -> None:
    """A channels-last input is fed in its dim order whatever the caller's
    layout; the output comes back as an ordinary (row-major) array."""
    from executorch.exir import to_edge

    x = torch.randn(2, 3, 4, 5).to(memory_format=torch.channels_last)
    prog = rt.load_program(to_edge(torch.export.export(ReluScale(), (x,))).to_executorch().buffer)
    meta = prog.metadata()
    assert meta.inputs[0].dim_order == (0, 2, 3, 1)
    assert meta.outputs[0].dim_order == (0, 2, 3, 1)
    method = prog.load_method()
    expected = (torch.relu(x) * 3.0).contiguous().numpy()
    for inp in (x, x.contiguous(), x.numpy(), x.contiguous().numpy()):
        (out,) = method.execute([inp])
        assert out.flags.c_contiguous
        _close(out, expected, **F32_TOL)


class Select(torch.nn.Module):
    def forward(self, mask: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return torch.where(mask, x, y)


def test_bool_input() -> None:
    from executorch.exir import to_edge

    mask = torch.tensor([[True, False, True], [False, False, True]])
    x, y = torch.randn(2, 3), torch.randn(2, 3)
    prog = rt.load_program(
        to_edge(torch.export.export(Select(), (mask, x, y))).to_executorch().buffer
    )
    assert prog.metadata().inputs[0].dtype == np.bool_
    method = prog.load_method()
    expected = torch.where(mask, x, y).numpy()
    _close(method.execute([mask, x, y])[0], expected, **F32_TOL)  # torch bool via DLPack
    _close(method.execute([mask.numpy(), x.numpy(), y.numpy()])[0], expected, **F32_TOL)
    with pytest.raises(rt.EdgetorchError) as e:
        method.execute([mask.numpy().astype(np.uint8), x, y])
    _check_error(e, "InvalidArgument")


def test_threads_share_a_method(programs: Dict[str, Case]) -> None:
    case = programs["mlp"]
    method = rt.load_program(case.pte).load_method()
    xs = [np.full((2, 4), k, np.float32) for k in range(4)]
    expected = [_eager(case, "forward", [torch.from_numpy(x)]) for x in xs]
    bad: List[int] = []
    errors: List[BaseException] = []  # an exception in a thread fails the test

    def work(k: int) -> None:
        try:
            for _ in range(200):
                (out,) = method.execute([xs[k]])
                if not np.allclose(out, expected[k], **F32_TOL):
                    bad.append(k)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, f"{len(errors)} threads raised: {errors[0]!r}"
    assert not bad


# ---------------------------------------------------------------------------
# Metadata, against upstream's runtime and file reader.


def _upstream_program(pte: bytes):  # type: ignore[no-untyped-def]
    from executorch.runtime import Runtime

    return Runtime.get().load_program(pte)


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_metadata_matches_upstream(programs: Dict[str, Case], name: str) -> None:
    from executorch.exir._serialize._program import deserialize_pte_binary

    case = programs[name]
    ours = rt.load_program(case.pte)
    theirs = _upstream_program(case.pte)
    plans = {p.name: p for p in deserialize_pte_binary(case.pte).program.execution_plan}
    assert set(ours.method_names) == set(theirs.method_names) == set(plans)
    for method in ours.method_names:
        meta = ours.metadata(method)
        up = theirs.metadata(method)
        plan = plans[method]
        assert meta.name == method == up.name()
        assert len(meta.inputs) == up.num_inputs()
        assert len(meta.outputs) == up.num_outputs()
        for info, get in [(meta.inputs, up.input_tensor_meta), (meta.outputs, up.output_tensor_meta)]:
            for i, ti in enumerate(info):
                ut = get(i)
                assert ti.tag == "Tensor"
                assert ti.sizes == tuple(ut.sizes())
                assert ti.scalar_type == int(ut.dtype())
                assert ti.nbytes == ut.nbytes()
                assert ti.planned == ut.is_memory_planned()
                assert ti.dim_order == tuple(range(len(ti.sizes)))
                assert ti.dynamism == "STATIC"
                assert isinstance(ti.dtype, np.dtype)
                assert ti.dtype.itemsize * int(np.prod(ti.sizes)) == ti.nbytes
        # Planned buffers: the file's sizes without the reserved entry 0.
        assert meta.planned_buffer_sizes == list(plan.non_const_buffer_sizes[1:])
        assert meta.num_planned_buffers == len(meta.planned_buffer_sizes)
        assert meta.operators == [
            f"{op.name}.{op.overload}" if op.overload else op.name for op in plan.operators
        ]
        assert meta.delegates == [d.id for d in plan.delegates] == []
        assert meta.num_instructions == sum(len(c.instructions) for c in plan.chains)
        assert meta.num_values == len(plan.values)
        assert meta.arena_bytes > 0
        # A loaded method reports the same metadata.
        assert ours.load_method(method).metadata == meta


def test_metadata_dtypes(programs: Dict[str, Case]) -> None:
    assert rt.load_program(programs["half"].pte).metadata().inputs[0].dtype == np.float16
    bf = rt.load_program(programs["bf16"].pte).metadata()
    assert bf.inputs[0].dtype == np.dtype(ml_dtypes.bfloat16)
    assert bf.outputs[0].scalar_type == 15
    emb = rt.load_program(programs["embedding"].pte).metadata()
    assert emb.inputs[0].dtype == np.int64 and emb.inputs[0].sizes == (2, 2)
    assert emb.outputs[0].dtype == np.float32 and emb.outputs[0].sizes == (2, 2, 4)


# ---------------------------------------------------------------------------
# Errors.


def _check_error(e: pytest.ExceptionInfo, status: str) -> None:
    err = e.value
    assert isinstance(err, RuntimeError)
    assert err.status == status, str(err)
    assert err.code == CODES[status]
    assert rt.status_name(err.code) == status
    text = str(err)
    assert text.startswith(status + ": ") and len(text) > len(status) + 8, text


def test_error_cases(programs: Dict[str, Case], tmp_path: pathlib.Path) -> None:
    case = programs["mlp"]
    prog = rt.load_program(case.pte)
    method = prog.load_method()
    good = np.zeros((2, 4), np.float32)

    with pytest.raises(rt.EdgetorchError) as e:
        method.execute([good.astype(np.float64)])
    _check_error(e, "InvalidArgument")
    assert "Double" in str(e.value) and "Float" in str(e.value)

    with pytest.raises(rt.EdgetorchError) as e:
        method.execute([good.reshape(8)])
    _check_error(e, "InvalidArgument")

    with pytest.raises(rt.EdgetorchError) as e:
        method.execute([np.zeros((3, 4), np.float32)])
    _check_error(e, "InvalidArgument")

    with pytest.raises(rt.EdgetorchError) as e:
        method.execute([])
    _check_error(e, "InvalidArgument")

    with pytest.raises(rt.EdgetorchError) as e:
        method.execute([good, good])
    _check_error(e, "InvalidArgument")

    with pytest.raises(rt.EdgetorchError) as e:
        prog.load_method("nope")
    _check_error(e, "NotFound")
    assert "nope" in str(e.value)

    with pytest.raises(rt.EdgetorchError) as e:
        prog.metadata("nope")
    _check_error(e, "NotFound")

    # The method still works after refusals.
    x = torch.randn(2, 4)
    _close(method.execute([x])[0], _eager(case, "forward", [x]), **F32_TOL)


def test_two_input_errors(programs: Dict[str, Case]) -> None:
    method = rt.load_program(programs["two_methods"].pte).load_method("forward")
    x = np.zeros((2, 3), np.float32)
    with pytest.raises(rt.EdgetorchError) as e:
        method.execute([x])
    _check_error(e, "InvalidArgument")
    assert "2 inputs" in str(e.value)
    with pytest.raises(rt.EdgetorchError) as e:
        method.execute([x, x.astype(np.float16)])
    _check_error(e, "InvalidArgument")


@pytest.mark.parametrize(
    "mutate",
    ["garbage", "empty", "truncated", "bad_magic"],
)
def test_bad_bytes(programs: Dict[str, Case], mutate: str) -> None:
    pte = programs["mlp"].pte
    data = {
        "garbage": b"\x00\x01not a program at all" * 8,
        "empty": b"",
        "truncated": pte[: len(pte) // 2],
        "bad_magic": pte[:4] + b"XX99" + pte[8:],
    }[mutate]
    with pytest.raises(rt.EdgetorchError) as e:
        rt.load_program(data)
    _check_error(e, "InvalidProgram")


def test_missing_file(tmp_path: pathlib.Path) -> None:
    with pytest.raises(rt.EdgetorchError) as e:
        rt.load_program(tmp_path / "missing.pte")
    assert e.value.status in ("NotFound", "AccessFailed")
    _check_error(e, e.value.status)
    assert "missing.pte" in str(e.value)


def test_argument_errors(programs: Dict[str, Case]) -> None:
    with pytest.raises(TypeError):
        rt.load_program(programs["mlp"].pte, mmap=True)
    with pytest.raises(TypeError):
        rt.load_program(12345)
    method = rt.load_program(programs["mlp"].pte).load_method()
    with pytest.raises(TypeError):
        method.execute(np.zeros((2, 4), np.float32))  # not wrapped in a list
    with pytest.raises(TypeError):
        method.execute(3)
    complex_input = torch.zeros(2, 4, dtype=torch.complex64)
    with pytest.raises(rt.EdgetorchError) as e:
        method.execute([complex_input])
    assert e.value.status == "InvalidArgument"


def test_error_class() -> None:
    assert issubclass(rt.EdgetorchError, RuntimeError)
    assert rt.EdgetorchError.__module__ == "edgetorch.runtime"
    assert rt.status_name(0x23) == "InvalidProgram"
    assert rt.status_name(0x12) == "InvalidArgument"
