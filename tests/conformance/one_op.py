"""One-operator programs exported by upstream ExecuTorch, for the format oracle.

tests/python/test_upstream_one_op.py runs each program here on upstream's
runtime and on ours and requires the same results. The programs come from
two places:

* ``one_op_cases.json``: OpInfo samples (operator, dtype, index of the sample
  among those generated under the conformance harness's seed), chosen by
  make_one_op_cases.py so that together they reach every operator of
  kernels/portable/ops.def that upstream's exporter emits for some OpInfo
  sample, with as few operators per program as possible;
* ``HAND`` below: small modules for the operators no OpInfo sample reaches
  (prim ops of dynamic shapes, inference batch norm, ...).

Upstream's export of each case is cached in build/testdata/one-op/ under a
hash of the case and the versions of torch and executorch, together with
the inputs and the operators the program calls.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CASES_JSON = HERE / "one_op_cases.json"
CACHE = REPO / "build" / "testdata" / "one-op"
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

# Results must agree within this relative error for floating outputs (relative
# to the largest magnitude of upstream's output), exactly otherwise.
RTOL = 1e-6


@dataclass
class OneOpCase:
    id: str
    targets: List[str]                 # ops.def operators the case is meant to reach
    op: str = ""                       # OpInfo name (OpInfo cases)
    dtype: str = ""
    gen: int = 0
    build: Optional[Callable[[], Tuple[Any, Tuple[Any, ...], Any]]] = None  # hand cases
    values: bool = True                # False: random outputs, compare dtype and shape
    upstream_kernels: List[str] = field(default_factory=list)  # as recorded when chosen

    def key(self) -> str:
        import importlib.metadata

        import torch
        h = hashlib.sha256()
        h.update(torch.__version__.encode())
        h.update(importlib.metadata.version("executorch").encode())
        if self.build is not None:
            src = getattr(self.build, "source", None) or inspect.getsource(self.build)
            h.update(src.encode())
        h.update(f"{self.id}|{self.op}|{self.dtype}|{self.gen}".encode())
        return h.hexdigest()[:20]


# ---------------------------------------------------------------------------
# hand-written cases


def _hand_cases() -> Dict[str, Tuple[List[str], Callable, bool]]:
    """id -> (target operators, builder, compare values)."""

    def batch_norm_eval():
        import torch

        m = torch.nn.BatchNorm2d(3).eval()
        with torch.no_grad():
            m.running_mean.copy_(torch.tensor([0.1, -0.2, 0.3]))
            m.running_var.copy_(torch.tensor([1.5, 0.5, 2.0]))
            m.weight.copy_(torch.tensor([1.0, 2.0, 0.5]))
            m.bias.copy_(torch.tensor([0.0, 0.1, -0.1]))
        torch.manual_seed(0)
        return m, (torch.randn(2, 3, 4, 4),), None

    def dynamic_view():
        import torch

        class M(torch.nn.Module):
            def forward(self, x):
                n = x.shape[0]
                return x.view(n * 2, -1) + 1.0, torch.ones(n // 2 + 1)

        torch.manual_seed(0)
        x = torch.randn(4, 6)
        return M(), (x,), ({0: torch.export.Dim("n", min=2, max=16)},)

    def dynamic_arith():
        import torch

        class M(torch.nn.Module):
            def forward(self, x):
                n = x.shape[0]
                return torch.ones(n - 1), torch.ones(n * 2 - 3), x[: n - 2] * 2.0

        torch.manual_seed(0)
        return M(), (torch.randn(5, 3),), ({0: torch.export.Dim("n", min=4, max=16)},)

    def randn_shape():
        import torch

        class M(torch.nn.Module):
            def forward(self, x):
                return x + torch.randn(3, 4), x + torch.rand(3, 4)

        return M(), (torch.zeros(3, 4),), None

    def lam(fn, *make):
        """A builder for ``fn`` on inputs made by ``make`` (seeded)."""
        def builder():
            import torch

            class M(torch.nn.Module):
                def forward(self, *a):
                    return fn(*a)

            torch.manual_seed(0)
            return M(), tuple(m() for m in make), None
        builder.source = inspect.getsource(fn)  # type: ignore[attr-defined]
        return builder

    def f(*shape):
        import torch
        return lambda: torch.randn(*shape)

    def i(*shape):
        import torch
        return lambda: torch.randint(-50, 50, shape)

    import torch
    cases = {
        "hand/batch_norm_eval": (["aten::_native_batch_norm_legit_no_training.out"],
                                 batch_norm_eval, True),
        "hand/dynamic_view": (["aten::sym_size.int", "executorch_prim::mul.Scalar",
                               "executorch_prim::floordiv.Scalar",
                               "executorch_prim::add.Scalar"], dynamic_view, True),
        "hand/dynamic_arith": (["aten::sym_size.int", "executorch_prim::sub.Scalar"],
                               dynamic_arith, True),
        "hand/bitwise_and_scalar": (["aten::bitwise_and.Scalar_out"],
                                    lam(lambda a: torch.bitwise_and(a, 6), i(3, 4)), True),
        "hand/bitwise_or_scalar": (["aten::bitwise_or.Scalar_out"],
                                   lam(lambda a: torch.bitwise_or(a, 6), i(3, 4)), True),
        "hand/bitwise_xor_scalar": (["aten::bitwise_xor.Scalar_out"],
                                    lam(lambda a: torch.bitwise_xor(a, 6), i(3, 4)), True),
        "hand/fmod_scalar": (["aten::fmod.Scalar_out"],
                             lam(lambda a: torch.fmod(a, 1.5), f(6, 4)), True),
        "hand/div_floor_scalar": (["aten::div.out_mode"],
                                  lam(lambda a: torch.div(a, 2.5, rounding_mode="floor"),
                                      f(6, 4)), True),
        "hand/scatter_value": (["aten::scatter.value_out"],
                               lam(lambda a, idx: torch.scatter(a, 1, idx % 4, 1.5),
                                   f(6, 4), lambda: torch.randint(0, 4, (6, 2))), True),
        "hand/split_copy": (["aten::split_copy.Tensor_out"],
                            lam(lambda a: torch.split_copy(a, 2), f(6, 4)), True),
        "hand/alias_copy": (["aten::alias_copy.out"],
                            lam(lambda a: torch.alias_copy(a), f(6, 4)), True),
        "hand/detach_copy": (["aten::detach_copy.out"],
                             lam(lambda a: torch.detach_copy(a), f(6, 4)), True),
        "hand/copy_inplace": (["aten::copy_", "aten::copy.out"],
                              lam(lambda a, b: a.copy_(b), f(6, 4), f(6, 4)), True),
        "hand/full": (["aten::full.out"], lam(lambda a: a + torch.ones(6, 4), f(6, 4)), True),
        "hand/full_like": (["aten::full_like.out"],
                           lam(lambda a: torch.fill(a, 3.0), f(6, 4)), True),
        "hand/empty_dim_order": (["dim_order_ops::_empty_dim_order.out"],
                                 lam(lambda a: torch.empty(3, 4).fill_(1) + a, f(3, 4)), True),
        "hand/scalar_tensor": (["aten::scalar_tensor.out"],
                               lam(lambda a: a + torch.scalar_tensor(3.0), f(6, 4)), True),
        "hand/var_correction": (["aten::var.correction_out"],
                                lam(lambda a: torch.var(a, 1, unbiased=True), f(6, 4)), True),
        "hand/random": (["aten::randn.out", "aten::rand.out"], randn_shape, False),
    }
    return cases


def load_cases() -> List[OneOpCase]:
    cases = []
    if CASES_JSON.is_file():
        for d in json.loads(CASES_JSON.read_text())["cases"]:
            cases.append(OneOpCase(id=d["id"], targets=d["targets"], op=d["op"],
                                   dtype=d["dtype"], gen=d["gen"],
                                   values=d.get("values", True),
                                   upstream_kernels=d.get("upstream_kernels", [])))
    for cid, (targets, build, values) in _hand_cases().items():
        cases.append(OneOpCase(id=cid, targets=targets, build=build, values=values))
    return cases


# ---------------------------------------------------------------------------
# building and exporting


def opinfo_module(op_name: str, dtype: str, gen: int) -> Tuple[Any, Tuple[Any, ...]]:
    """The conformance harness's one-call module for sample ``gen`` of an OpInfo."""
    import itertools

    import torch  # noqa: F401

    import programs as P
    import run as R

    ops = R.select_opinfos([op_name])
    op = next(o for o in ops if R.opinfo_name(o) == op_name)
    dt = R.DTYPES[dtype]
    R._seed(op_name, dt)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        samples = list(itertools.islice(op.sample_inputs("cpu", dt, requires_grad=False),
                                        gen + 1))
    c = P.make_case(op_name, op.op, dt, 0, samples[gen], "")
    c.expected = list(c.call([t.clone() for t in c.tensors]))
    c.n_outputs = len(c.expected)
    return P.OneCall(c), tuple(c.tensors)


def upstream_export(module: Any, inputs: Tuple[Any, ...], dynamic_shapes: Any = None) -> bytes:
    import torch
    from executorch.exir import to_edge

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ep = torch.export.export(module, inputs, dynamic_shapes=dynamic_shapes, strict=False)
        return to_edge(ep).to_executorch().buffer


def kernels_of(pte: bytes) -> List[str]:
    from edgetorch.pte.program import read_pte

    names = set()
    for plan in read_pte(pte).program.execution_plan:
        for op in plan.operators:
            names.add(f"{op.name}.{op.overload}" if op.overload else op.name)
    return sorted(names)


@dataclass
class Built:
    pte: bytes
    inputs: List[Any]     # torch tensors
    kernels: List[str]


def build(case: OneOpCase) -> Built:
    """Upstream's program for a case and its inputs (cached)."""
    import torch

    d = CACHE / case.key()
    meta = d / "meta.json"
    if meta.is_file():
        m = json.loads(meta.read_text())
        inputs = torch.load(d / "inputs.pt")
        return Built((d / "model.pte").read_bytes(), list(inputs), m["kernels"])
    if case.build is not None:
        module, inputs, dyn = case.build()
    else:
        module, inputs = opinfo_module(case.op, case.dtype, case.gen)
        dyn = None
    pte = upstream_export(module, tuple(inputs), dyn)
    kernels = kernels_of(pte)
    d.mkdir(parents=True, exist_ok=True)
    (d / "model.pte").write_bytes(pte)
    torch.save([t.clone() for t in inputs], d / "inputs.pt")
    meta.write_text(json.dumps({"id": case.id, "kernels": kernels}))
    return Built(pte, list(inputs), kernels)


# ---------------------------------------------------------------------------
# running


def run_upstream(pte: bytes, inputs: Sequence[Any]) -> List[Any]:
    from executorch.runtime import Runtime

    m = Runtime.get().load_program(pte).load_method("forward")
    return [_np(o) for o in m.execute([t.clone() for t in inputs])]


def run_ours(pte: bytes, inputs: Sequence[Any]) -> List[Any]:
    import edgetorch.runtime as rt

    import run as R
    m = rt.load_program(pte).load_method("forward")
    return [_np(o) for o in m.execute([R.to_numpy(t) for t in inputs])]


def _np(x: Any) -> Any:
    import numpy as np
    import torch

    if isinstance(x, torch.Tensor):
        import run as R
        return R.to_numpy(x)
    if isinstance(x, np.ndarray):
        return x
    return np.asarray(x)


def differences(ours: Sequence[Any], ups: Sequence[Any], values: bool = True) -> List[str]:
    """What differs between our outputs and upstream's (empty when they agree)."""
    import numpy as np

    out = []
    if len(ours) != len(ups):
        return [f"{len(ours)} outputs, upstream has {len(ups)}"]
    for i, (a, b) in enumerate(zip(ours, ups)):
        a, b = np.asarray(a), np.asarray(b)
        if a.dtype != b.dtype:
            out.append(f"output {i}: dtype {a.dtype}, upstream {b.dtype}")
            continue
        if a.shape != b.shape:
            out.append(f"output {i}: shape {a.shape}, upstream {b.shape}")
            continue
        if not values or a.size == 0:
            continue
        if a.dtype.kind == "f" or a.dtype.name == "bfloat16":
            x, y = a.astype(np.float64), b.astype(np.float64)
            nan = np.isnan(x) != np.isnan(y)
            fin = ~(np.isnan(x) | np.isnan(y))
            scale = float(np.max(np.abs(y[np.isfinite(y)]), initial=0.0)) or 1.0
            inf_mismatch = np.isinf(x[fin]) | np.isinf(y[fin])
            diff = np.abs(x[fin] - y[fin])
            diff[inf_mismatch] = np.where(x[fin][inf_mismatch] == y[fin][inf_mismatch], 0, np.inf)
            bad = int(nan.sum()) + int((diff > RTOL * scale).sum())
            if bad:
                out.append(f"output {i}: {bad} of {a.size} elements differ "
                           f"(max abs diff {float(diff.max(initial=0)):.3g}, "
                           f"scale {scale:.3g}, NaN mismatches {int(nan.sum())})")
        else:
            if not np.array_equal(a, b):
                n = int((a != b).sum())
                out.append(f"output {i}: {n} of {a.size} elements differ (exact match required)")
    return out
