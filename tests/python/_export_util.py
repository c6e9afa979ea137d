"""Helpers for the exporter tests: running programs on both runtimes,
upstream's memory plan as the bar, cached zoo exports."""

from __future__ import annotations

import functools
import warnings
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

import edgetorch
from edgetorch.export import oplib

import tolerance
import zoo

warnings.filterwarnings("ignore", category=FutureWarning)
warnings.filterwarnings("ignore", category=DeprecationWarning)


def to_numpy(x: Any) -> Any:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return x


def run_upstream(buf: bytes, calls: Sequence[Tuple[Any, ...]], *, method: str = "forward",
                 stateful: bool = False, data_path: Optional[str] = None
                 ) -> List[List[np.ndarray]]:
    """Run with upstream ExecuTorch's runtime (the format oracle)."""
    from executorch.runtime import Runtime

    rt = Runtime.get()

    def load():
        kw = {"data_path": data_path} if data_path else {}
        return rt.load_program(buf, **kw).load_method(method)

    m = load()
    outs = []
    for i, args in enumerate(calls):
        if i and not stateful:
            m = load()
        res = m.execute([a for a in args])
        outs.append([to_numpy(r) for r in res])
    return outs


def run_ours(buf: bytes, calls: Sequence[Tuple[Any, ...]], *, method: str = "forward",
             stateful: bool = False, data_files: Any = None) -> List[List[np.ndarray]]:
    """Run with edgetorch's C runtime (edgetorch.runtime)."""
    from edgetorch import runtime

    def load():
        return runtime.load_program(buf, data_files=data_files).load_method(method)

    m = load()
    outs = []
    for i, args in enumerate(calls):
        if i and not stateful:
            m = load()
        res = m.execute([to_numpy(a) for a in args])
        outs.append([np.asarray(r) for r in res])
    return outs


def max_errors(got: List[List[np.ndarray]], want: List[List[torch.Tensor]]
               ) -> Tuple[float, float]:
    """(max abs error, max error relative to |want|) over all calls/outputs."""
    abs_err = rel = 0.0
    assert len(got) == len(want), (len(got), len(want))
    for g_call, w_call in zip(got, want):
        assert len(g_call) == len(w_call), (len(g_call), len(w_call))
        for g, w in zip(g_call, w_call):
            w = to_numpy(w)
            g = np.asarray(g)
            assert g.shape == w.shape, (g.shape, w.shape)
            d = np.abs(g.astype(np.float64) - w.astype(np.float64))
            abs_err = max(abs_err, float(d.max()) if d.size else 0.0)
            denom = np.abs(w.astype(np.float64)) + 1e-12
            rel = max(rel, float((d / denom).max()) if d.size else 0.0)
    return abs_err, rel


def assert_close(got, want, rtol: float, atol: float) -> None:
    """Every output of every call matches eager's (tolerance.py: reduced
    precision at a dtype-derived tolerance, whatever rtol/atol say)."""
    assert len(got) == len(want), (len(got), len(want))
    for g_call, w_call in zip(got, want):
        assert len(g_call) == len(w_call), (len(g_call), len(w_call))
        for g, w in zip(g_call, w_call):
            tolerance.assert_close_to_eager(np.asarray(g), w, rtol, atol, accumulates=True)


def needed_tolerance(got, want) -> Tuple[float, float]:
    """The tightest (rtol, atol) from a ladder that the results satisfy."""
    for rtol, atol in ((0, 0), (1e-7, 1e-8), (1e-6, 1e-7), (1e-5, 1e-6), (1e-4, 1e-5),
                       (1e-3, 1e-4)):
        try:
            assert_close(got, want, rtol, atol)
            return rtol, atol
        except AssertionError:
            continue
    return float("inf"), float("inf")


# ---------------------------------------------------------------------------
# cached exports of the zoo


@functools.lru_cache(maxsize=None)
def zoo_model(name: str):
    case = zoo.CASES[name]
    model, example = case.build()
    calls = case.inputs(example)
    want = zoo.eager_outputs(case, model, calls)
    return case, model, example, calls, want


@functools.lru_cache(maxsize=None)
def zoo_export(name: str, target: str) -> edgetorch.PteProgram:
    """target "upstream": for upstream's portable kernels; "ours": for the
    edgetorch kernel library (kernels/portable/ops.def)."""
    case, model, example, _, _ = zoo_model(name)
    ops = oplib.upstream_portable() if target == "upstream" else None
    cfg = edgetorch.ExportConfig(operators=ops)
    return edgetorch.export(model, example, dynamic_shapes=case.dynamic_shapes, config=cfg)


@functools.lru_cache(maxsize=None)
def upstream_planned_bytes(name: str) -> int:
    """Planned memory of upstream's default export (greedy planner)."""
    from executorch.exir import to_edge

    case, model, example, _, _ = zoo_model(name)
    import copy
    m = copy.deepcopy(model)
    for p in m.parameters():
        p.requires_grad_(False)
    ep = torch.export.export(m, example, dynamic_shapes=case.dynamic_shapes, strict=False)
    et = to_edge(ep).to_executorch()
    return sum(sum(p.non_const_buffer_sizes) for p in et.executorch_program.execution_plan)


ZOO = list(zoo.CASES)
