"""One-operator programs exported by upstream ExecuTorch, for the format oracle.

tests/python/test_upstream_one_op.py runs each program here on upstream's
runtime and on ours and requires the same results. The programs come from
two places:

* ``one_op_cases.json``: OpInfo samples (operator, dtype, index of the sample
  among those generated under the conformance harness's seed), chosen by
  make_one_op_cases.py so that together they reach every operator of
  kernels/portable/ops.def that upstream's exporter emits for some OpInfo
  sample, with as few operators per program as possible;
* ``_hand_cases`` below: small modules for the operators no OpInfo sample
  reaches (prim ops of dynamic shapes, inference batch norm, ...), some
  exported with options that keep to_edge from decomposing the operator
  (``preserve_ops``) or switch on the upstream pass that emits it.

``UNREACHABLE`` lists the operators of ops.def no upstream program can call,
each with the reason.

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
    opts: Dict[str, Any] = field(default_factory=dict)  # export options (upstream_export)
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
        if self.opts:
            h.update(json.dumps(self.opts, sort_keys=True).encode())
        return h.hexdigest()[:20]


# ---------------------------------------------------------------------------
# hand-written cases


def _hand_cases() -> Dict[str, Tuple[Any, ...]]:
    """id -> (target operators, builder, compare values[, export options]).

    The export options (see upstream_export) keep upstream's to_edge from
    decomposing the operator a case targets (``preserve``), or switch on the
    upstream pass that emits it.
    """

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

    def lam(fn, *make, dims=None):
        """A builder for ``fn`` on inputs made by ``make`` (seeded).

        ``dims``: one torch.export dynamic-shape spec per input (a dict
        {dim: torch.export.Dim} or None), for programs with symbolic sizes.
        """
        def builder():
            import torch

            class M(torch.nn.Module):
                def forward(self, *a):
                    return fn(*a)

            torch.manual_seed(0)
            dyn = None if dims is None else (tuple(d() if callable(d) else d for d in dims),)
            return M(), tuple(m() for m in make), dyn
        builder.source = inspect.getsource(fn)  # type: ignore[attr-defined]
        return builder

    def f(*shape):
        import torch
        return lambda: torch.randn(*shape)

    def i(*shape):
        import torch
        return lambda: torch.randint(-50, 50, shape)

    def u(*shape):  # uniform in (0, 1)
        import torch
        return lambda: torch.rand(*shape) * 0.98 + 0.01

    def c(*shape):  # complex64
        import torch
        return lambda: torch.complex(torch.randn(*shape), torch.randn(*shape))

    def const(v):
        return lambda: v

    def dim_n():  # a symbolic first dimension
        import torch
        return {0: torch.export.Dim("n", min=2, max=16)}

    def dim_nm():  # symbolic first and second dimensions
        import torch
        return {0: torch.export.Dim("n", min=2, max=16), 1: torch.export.Dim("m", min=2, max=16)}

    def hop_map(body, *args):
        from torch._higher_order_ops.map import map as map_
        return map_(body, *args)

    def keep(*ops):  # export options: to_edge keeps these ATen operators
        return {"preserve": list(ops)}

    import math

    import torch
    cases = {
        "hand/batch_norm_eval": (["aten::_native_batch_norm_legit_no_training.out"],
                                 batch_norm_eval, True),
        "hand/dynamic_view": (["aten::sym_size.int", "executorch_prim::mul.Scalar",
                               "executorch_prim::floordiv.Scalar",
                               "executorch_prim::add.Scalar",
                               "executorch_prim::et_view.default"], dynamic_view, True),
        "hand/dynamic_arith": (["aten::sym_size.int", "executorch_prim::sub.Scalar",
                                "aten::slice_copy.Tensor_out"],
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
        "hand/scatter_value": (["aten::scatter.value_out", "aten::remainder.Scalar_out"],
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
    A = torch.ops.aten
    cases.update({
        # operators to_edge's default decomposition removes, kept with preserve_ops
        "hand/glu": (["aten::glu.out"],
                     lam(lambda a: torch.nn.functional.glu(a, 1), f(4, 6)), True,
                     keep("aten.glu.default")),
        "hand/stack": (["aten::stack.out"],
                       lam(lambda a, b: torch.stack([a, b], 1), f(4, 6), f(4, 6)), True,
                       keep("aten.stack.default")),
        "hand/tril": (["aten::tril.out"], lam(lambda a: torch.tril(a, 1), f(4, 6)), True,
                      keep("aten.tril.default")),
        "hand/roll": (["aten::roll.out"],
                      lam(lambda a: torch.roll(a, (1, -2), (0, 1)), f(4, 6)), True,
                      keep("aten.roll.default")),
        "hand/logit": (["aten::logit.out"], lam(lambda a: torch.logit(a, 0.1), u(4, 6)), True,
                       keep("aten.logit.default")),
        "hand/pixel_shuffle": (["aten::pixel_shuffle.out"],
                               lam(lambda a: torch.pixel_shuffle(a, 2), f(1, 8, 3, 3)), True,
                               keep("aten.pixel_shuffle.default")),
        "hand/pixel_unshuffle": (["aten::pixel_unshuffle.out"],
                                 lam(lambda a: torch.pixel_unshuffle(a, 2), f(1, 2, 4, 6)), True,
                                 keep("aten.pixel_unshuffle.default")),
        **{f"hand/{kind}_pad": (
            [f"aten::{kind}_pad{d}d.out" for d in (1, 2, 3)],
            lam(lambda a, b, c, mode=mode: (
                torch.nn.functional.pad(a, (2, 1), mode=mode),
                torch.nn.functional.pad(b, (2, 1, 1, 2), mode=mode),
                torch.nn.functional.pad(c, (2, 1, 1, 2, 1, 0), mode=mode)),
                f(2, 3, 5), f(2, 3, 5, 4), f(1, 2, 3, 5, 4)), True,
            keep(*(f"aten.{kind}_pad{d}d.default" for d in (1, 2, 3))))
            for kind, mode in (("reflection", "reflect"), ("replication", "replicate"))},
        "hand/bitwise_shift": (
            ["aten::bitwise_left_shift.Tensor_out", "aten::bitwise_right_shift.Tensor_out",
             "aten::bitwise_left_shift.Tensor_Scalar_out",
             "aten::bitwise_right_shift.Tensor_Scalar_out"],
            lam(lambda a, b: (torch.bitwise_left_shift(a, b), torch.bitwise_right_shift(a, b),
                              torch.bitwise_left_shift(a, 3), torch.bitwise_right_shift(a, 3)),
                i(4, 6), lambda: torch.randint(0, 8, (4, 6))), True,
            keep("aten.bitwise_left_shift.Tensor", "aten.bitwise_right_shift.Tensor",
                 "aten.bitwise_left_shift.Tensor_Scalar",
                 "aten.bitwise_right_shift.Tensor_Scalar")),
        "hand/div_scalar": (["aten::div.Scalar_out"],
                            lam(lambda a: A.div.Scalar(a, 2.5), f(4, 6)), True,
                            keep("aten.div.Scalar")),
        "hand/div_scalar_mode": (["aten::div.Scalar_mode_out"],
                                 lam(lambda a: (A.div.Scalar_mode(a, 0.75, rounding_mode="trunc"),
                                                A.div.Scalar_mode(a, 0.75, rounding_mode="floor")),
                                     f(4, 6)), True,
                                 keep("aten.div.Scalar_mode")),
        "hand/sub_scalar": (["aten::sub.Scalar_out"],
                            lam(lambda a: A.sub.Scalar(a, 2.5, 2), f(4, 6)), True,
                            keep("aten.sub.Scalar")),
        "hand/rsub_scalar": (["aten::rsub.Scalar_out"],
                             lam(lambda a: A.rsub.Scalar(a, 2.5, 2), f(4, 6)), True,
                             keep("aten.rsub.Scalar")),
        "hand/masked_fill_scalar": (["aten::masked_fill.Scalar_out"],
                                    lam(lambda a, m: A.masked_fill.Scalar(a, m, 2.5), f(4, 6),
                                        lambda: torch.rand(4, 6) > 0.5), True,
                                    keep("aten.masked_fill.Scalar")),
        "hand/fill_scalar": (["aten::fill.Scalar_out"],
                             lam(lambda a: torch.fill(a, 3.0), f(4, 6)), True,
                             keep("aten.fill.Scalar")),
        "hand/fill_tensor": (["aten::fill.Tensor_out"],
                             lam(lambda a, v: torch.fill(a, v), f(4, 6), const(torch.tensor(2.5))),
                             True, keep("aten.fill.Tensor")),
        "hand/floor_divide": (["aten::floor_divide.out"],
                              lam(lambda a, b: torch.floor_divide(a, b), i(4, 6),
                                  const(torch.tensor([-3, -2, -1, 1, 2, 7]).repeat(4, 1))),
                              True, keep("aten.floor_divide.default")),
        "hand/ones_zeros": (["aten::ones.out", "aten::zeros.out"],
                            lam(lambda a: (a + torch.ones(4, 6), a - torch.zeros(4, 6)), f(4, 6)),
                            True, keep("aten.ones.default", "aten.zeros.default")),
        "hand/arange": (["aten::arange.out"], lam(lambda a: a + torch.arange(6), f(4, 6)), True,
                        keep("aten.arange.default")),
        "hand/select_scatter": (["aten::select_scatter.out"],
                                lam(lambda a, b: torch.select_scatter(a, b, 1, 2), f(4, 6), f(4)),
                                True, keep("aten.select_scatter.default")),
        "hand/var_dim": (["aten::var.out"],
                         lam(lambda a: (A.var.dim(a, [1], True, False),
                                        A.var.dim(a, [0], False, True)), f(4, 6)), True,
                         keep("aten.var.dim")),
        "hand/var_mean": (["aten::var_mean.correction_out"],
                          lam(lambda a: torch.var_mean(a, 1, correction=1), f(4, 6)), True,
                          keep("aten.var_mean.correction")),
        "hand/masked_select": (["aten::masked_select.out"],
                               lam(lambda a, m: torch.masked_select(a, m), f(4, 6),
                                   lambda: torch.rand(4, 6) > 0.5), True,
                               keep("aten.masked_select.default")),
        "hand/repeat_interleave": (["aten::repeat_interleave.Tensor_out"],
                                   lam(lambda r: torch.repeat_interleave(r, output_size=10),
                                       const(torch.tensor([1, 2, 0, 3, 4]))), True,
                                   keep("aten.repeat_interleave.Tensor")),
        # view operators cannot be preserved; their *_copy forms can
        "hand/squeeze_copy_dim": (["aten::squeeze_copy.dim_out"],
                                  lam(lambda a: A.squeeze_copy.dim(a, 1), f(4, 1, 6)), True,
                                  keep("aten.squeeze_copy.dim")),
        "hand/t_copy": (["aten::t_copy.out"], lam(lambda a: torch.t_copy(a), f(4, 6)), True,
                        keep("aten.t_copy.default")),
        "hand/transpose_copy": (["aten::transpose_copy.int_out"],
                                lam(lambda a: torch.transpose_copy(a, 0, 2), f(2, 3, 4)), True,
                                keep("aten.transpose_copy.int")),
        "hand/unfold_copy": (["aten::unfold_copy.out"],
                             lam(lambda a: torch.unfold_copy(a, 1, 3, 2), f(4, 7)), True,
                             keep("aten.unfold_copy.default")),
        # complex operators (upstream's kernels take complex dtypes only)
        "hand/conj_physical": (["aten::_conj_physical.out"],
                               lam(lambda a: A._conj_physical.default(a), c(4, 6)), True,
                               keep("aten._conj_physical.default")),
        "hand/view_as_real_copy": (["aten::view_as_real_copy.out"],
                                   lam(lambda a: torch.view_as_real_copy(a), c(4, 6)), True,
                                   keep("aten.view_as_real_copy.default")),
        # EdgeCompileConfig._skip_dim_order: no dim_order_ops replacements
        "hand/to_copy": (["aten::_to_copy.out"],
                         lam(lambda a: (a * 10).to(torch.int32), f(4, 6)), True,
                         {"skip_dim_order": True}),
        "hand/clone": (["aten::clone.out"], lam(lambda a: (a + 1).clone(), f(4, 6)), True,
                       {"skip_dim_order": True}),
        "hand/empty": (["aten::empty.out"],
                       lam(lambda a: torch.empty(4, 6).fill_(2) + a, f(4, 6)), True,
                       {"skip_dim_order": True}),
        # ExecutorchBackendConfig.run_reinplace_pass: index_put becomes index_put_
        "hand/index_put_inplace": (["aten::index_put_"],
                                   lam(lambda a, idx, v: (a * 1.0).index_put((idx,), v), f(4, 6),
                                       const(torch.tensor([0, 2])), f(2, 6)), True,
                                   {"reinplace": True}),
        # aten operators called directly (export keeps them; they are core ATen)
        "hand/native_dropout": (["aten::native_dropout.out"],  # p = 0: deterministic
                                lam(lambda a: A.native_dropout.default(a, 0.0, True), f(4, 6)),
                                True),
        "hand/convolution_backward": (
            ["aten::convolution_backward.out"],
            lam(lambda g, a, w: A.convolution_backward.default(
                g, a, w, [4], [1, 1], [0, 0], [1, 1], False, [0, 0], 1, [True, True, True]),
                f(2, 4, 3, 3), f(2, 3, 5, 5), f(4, 3, 3, 3)), True),
        # The indices are an input: upstream 1.5.1's kernel adds into grad_input
        # without zeroing it first (newer upstream zeroes it), so a grad_input
        # planned over an earlier intermediate (max_pool2d_with_indices' output)
        # would hold that tensor's leftovers on upstream's runtime.
        "hand/max_pool2d_backward": (
            ["aten::max_pool2d_with_indices_backward.grad_input"],
            lam(lambda g, a, idx: A.max_pool2d_with_indices_backward.default(
                g, a, [2, 2], [2, 2], [0, 0], [1, 1], False, idx),
                f(2, 3, 2, 2), f(2, 3, 4, 4),
                lambda: A.max_pool2d_with_indices.default(torch.randn(2, 3, 4, 4), [2, 2],
                                                          [2, 2])[1]), True),
        # control flow: the emitter's loop for torch map
        "hand/map": (["executorch_prim::et_copy_index.tensor", "aten::select_copy.int_out",
                      "aten::sym_size.int", "executorch_prim::add.Scalar",
                      "executorch_prim::eq.Scalar", "executorch_prim::sub.Scalar"],
                     lam(lambda a, y: hop_map(lambda xi, yy: xi * 2.0 + yy, a, y),
                         f(3, 4), f(4)), True),
        # .item(): aten::_local_scalar_dense
        "hand/item_int": (["aten::_local_scalar_dense", "executorch_prim::mul.Scalar"],
                          lam(lambda a, b: a + torch.full((1,), b.item() * 2), f(4, 6),
                              const(torch.tensor(3))), True),
        "hand/item_float": (["aten::_local_scalar_dense"],
                            lam(lambda a, b: a * b.item(), f(4, 6), const(torch.tensor(2.5))),
                            True),
        # scalar operators on symbolic sizes (n = 5, m = 3). Python functions
        # on SymInts (torch.sym_max, ...) are outside the edge dialect until
        # to_executorch turns them into executorch_prim operators, so these
        # cases switch off to_edge's IR check.
        "hand/sym_int_ops": (
            ["executorch_prim::sym_max.Scalar", "executorch_prim::sym_min.Scalar",
             "executorch_prim::mod.Scalar", "executorch_prim::neg.Scalar",
             "aten::sym_size.int"],
            lam(lambda a: (torch.full((1,), torch.sym_max(a.shape[0], 4)),
                           torch.full((1,), torch.sym_min(a.shape[0], 4)),
                           torch.full((1,), a.shape[0] % 3), torch.full((1,), -a.shape[0])),
                f(5, 3), dims=[dim_n]), True, {"check_ir": False}),
        "hand/sym_float": (["executorch_prim::sym_float.Scalar"],
                           lam(lambda a: torch.full((2,), torch.sym_float(a.shape[0])), f(5, 3),
                               dims=[dim_n]), True, {"check_ir": False}),
        "hand/sym_truediv": (["executorch_prim::truediv.Scalar"],
                             lam(lambda a: torch.full((2,), a.shape[0] / 3), f(5, 3),
                                 dims=[dim_n]), True, {"check_ir": False}),
        "hand/sym_trunc": (["executorch_prim::trunc.Scalar"],
                           lam(lambda a: torch.full((1,), math.trunc(a.shape[0] / 3)), f(5, 3),
                               dims=[dim_n]), True, {"check_ir": False}),
        "hand/sym_ceil": (["executorch_prim::ceil.Scalar"],
                          lam(lambda a: torch.full((1,), math.ceil(a.shape[0] / 3)), f(5, 3),
                              dims=[dim_n]), True, {"check_ir": False}),
        "hand/sym_round": (["executorch_prim::round.Scalar"],
                           lam(lambda a: torch.full((1,), round(a.shape[0] / 3)), f(5, 3),
                               dims=[dim_n]), True, {"check_ir": False}),
        "hand/sym_compare": (
            ["executorch_prim::gt.Scalar", "executorch_prim::ge.Scalar",
             "executorch_prim::lt.Scalar", "executorch_prim::le.Scalar",
             "executorch_prim::eq.Scalar"],
            lam(lambda a: (torch.full((1,), a.shape[0] > 4), torch.full((1,), a.shape[0] >= 6),
                           torch.full((1,), a.shape[0] < 4), torch.full((1,), a.shape[0] <= 5),
                           torch.full((1,), a.shape[0] == 5)),
                f(5, 3), dims=[dim_n]), True, {"check_ir": False}),
        "hand/sym_not_ite": (
            ["executorch_prim::sym_not.Scalar", "executorch_prim::sym_ite.Scalar"],
            lam(lambda a: (torch.full((1,), torch.sym_not(a.shape[0] > 4)),
                           torch.full((1,), torch.sym_ite(a.shape[0] > 4, a.shape[0],
                                                          a.shape[1]))),
                f(5, 3), dims=[dim_nm]), True, {"check_ir": False}),
    })
    return cases


# Operators of kernels/portable/ops.def no case reaches: upstream ExecuTorch
# 1.5.1's exporter (with torch 2.13) never writes them into a program both
# runtimes can run.
UNREACHABLE: Dict[str, str] = {
    "aten::_native_batch_norm_legit.out":
        "training-mode batch norm updates running_mean/var in place; torch.export "
        "functionalizes that into _native_batch_norm_legit_functional, which has no out "
        "variant (to_executorch: 'Missing out variants'); the stat-less form is "
        "_native_batch_norm_legit.no_stats_out",
    "aten::lift_fresh_copy.out":
        "torch.export's functionalization (run_decompositions, even with an empty table "
        "and preserve_ops) rewrites aten.lift_fresh_copy into aten.clone",
    "aten::sym_numel":
        "torch's make_fx tracer always decomposes aten.sym_numel into a product of "
        "aten.sym_size (proxy_tensor.py adds that decomposition to every table), so no "
        "exported graph calls it",
    "executorch_prim::sym_int.Scalar":
        "torch 2.13 traces torch.sym_int of a SymFloat as math.trunc (sym_node's "
        "METHOD_TO_OPERATOR has no sym_int), which upstream emits as trunc.Scalar",
    "executorch_prim::floordiv.int":
        "registered by upstream's runtime for old programs only: the 1.5.1 exporter maps "
        "operator.floordiv to floordiv.Scalar and its emitter's loops use add/eq/sub.Scalar",
    "executorch_prim::mod.int":
        "registered by upstream's runtime for old programs only: the 1.5.1 exporter maps "
        "operator.mod to mod.Scalar",
    "et_copy::_h2d_copy.out":
        "PropagateDevicePass inserts it only at the inputs of a delegate whose compile "
        "specs name a target_device; upstream's runtime has the XNNPACK, QNN and OpenVINO "
        "backends, ours only the demo backend, so no such program runs on both",
    "et_copy::_d2h_copy.out":
        "PropagateDevicePass inserts it only at the outputs of a delegate whose compile "
        "specs name a target_device (see et_copy::_h2d_copy.out)",
}


def load_cases() -> List[OneOpCase]:
    cases = []
    if CASES_JSON.is_file():
        for d in json.loads(CASES_JSON.read_text())["cases"]:
            cases.append(OneOpCase(id=d["id"], targets=d["targets"], op=d["op"],
                                   dtype=d["dtype"], gen=d["gen"],
                                   values=d.get("values", True),
                                   upstream_kernels=d.get("upstream_kernels", [])))
    for cid, (targets, build, values, *opts) in _hand_cases().items():
        cases.append(OneOpCase(id=cid, targets=targets, build=build, values=values,
                               opts=opts[0] if opts else {}))
    return cases


# ---------------------------------------------------------------------------
# building and exporting


def opinfo_module(op_name: str, dtype: str, gen: int) -> Tuple[Any, Tuple[Any, ...]]:
    """The conformance harness's one-call module for sample ``gen`` of an OpInfo."""
    import torch  # noqa: F401

    import programs as P
    import run as R

    ops = R.select_opinfos([op_name])
    op = next(o for o in ops if R.opinfo_name(o) == op_name)
    dt = R.DTYPES[dtype]
    R._seed(op_name, dt)
    samples = R.first_samples(op, dt, gen + 1)
    c = P.make_case(op_name, op.op, dt, 0, samples[gen], "")
    c.expected = list(c.call([t.clone() for t in c.tensors]))
    c.n_outputs = len(c.expected)
    return P.OneCall(c), tuple(c.tensors)


def _aten_op(name: str) -> Any:
    """``"aten.glu.default"`` -> torch.ops.aten.glu.default."""
    import torch

    op: Any = torch.ops
    for part in name.split("."):
        op = getattr(op, part)
    return op


def upstream_export(module: Any, inputs: Tuple[Any, ...], dynamic_shapes: Any = None,
                    opts: Optional[Dict[str, Any]] = None) -> bytes:
    """Upstream's program for ``module``: torch.export, to_edge, to_executorch.

    ``opts`` (hand-written cases) changes upstream's defaults:
    ``preserve`` (operators, as "aten.glu.default", that to_edge must not
    decompose: EdgeCompileConfig.preserve_ops), ``skip_dim_order``
    (EdgeCompileConfig._skip_dim_order: _to_copy, clone, empty stay ATen
    operators), ``check_ir`` (False: EdgeCompileConfig._check_ir_validity off,
    for operators outside core ATen that upstream still lowers) and
    ``reinplace`` (ExecutorchBackendConfig.run_reinplace_pass: index_put
    becomes index_put_).
    """
    import torch
    from executorch.exir import EdgeCompileConfig, ExecutorchBackendConfig, to_edge

    opts = opts or {}
    cfg = None
    if opts.get("preserve") or "skip_dim_order" in opts or "check_ir" in opts:
        cfg = EdgeCompileConfig(
            _check_ir_validity=opts.get("check_ir", True),
            _skip_dim_order=opts.get("skip_dim_order", False),
            preserve_ops=[_aten_op(n) for n in opts.get("preserve", [])])
    backend = ExecutorchBackendConfig(run_reinplace_pass=bool(opts.get("reinplace")))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ep = torch.export.export(module, inputs, dynamic_shapes=dynamic_shapes, strict=False)
        return to_edge(ep, compile_config=cfg).to_executorch(backend).buffer


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
    pte = upstream_export(module, tuple(inputs), dyn, case.opts)
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
