"""One small adapter per runtime: load a file, run prepared inputs, give numpy.

Every adapter is timed the same way: ``load()`` is load + init (from the file
path), ``run()`` is one call of the runtime's own Python API on inputs that
were converted to its native type beforehand (numpy for edgetorch and ONNX
Runtime, torch tensors for upstream ExecuTorch and eager). Converting outputs
back to numpy for the correctness check is not timed.

This module imports no heavy library at import time: the memory probe imports
it in a fresh process and must pull in only what the runtime under test needs.
"""

from __future__ import annotations

import glob
import importlib.util
import os
import sys
from dataclasses import dataclass
from typing import Any, List, Optional, Sequence, Tuple

import numpy as np


@dataclass(frozen=True)
class RuntimeDef:
    key: str
    label: str
    artifact: str                 # which export it runs: et, up, xnn, onnx, eager
    threads: Tuple[int, ...]      # thread counts it is measured at
    conditional: bool = False     # only when edgetorch's own export cannot run


RUNTIMES: List[RuntimeDef] = [
    RuntimeDef("edgetorch", "edgetorch", "et", (1, 2)),
    RuntimeDef("edgetorch_up", "edgetorch runtime (upstream .pte)", "up", (1, 2),
               conditional=True),
    # Upstream's XNNPACK-delegated file on edgetorch's runtime and its
    # XnnpackBackend: runtime speed apart from exporter wins.
    RuntimeDef("edgetorch_xnn", "edgetorch runtime (upstream XNNPACK .pte)", "xnn", (1, 2)),
    # edgetorch's own export lowered with edgetorch.XnnpackPartitioner (its
    # own XnnpackBackend payloads) on edgetorch's runtime.
    RuntimeDef("edgetorch_etx", "edgetorch (own XNNPACK-delegated export)", "etx", (1, 2)),
    RuntimeDef("et_portable", "upstream ET 1.5.1 portable*", "up", (1, 2)),
    RuntimeDef("et_xnnpack", "upstream ET 1.5.1 + XNNPACK", "xnn", (1, 2)),
    RuntimeDef("eager", "PyTorch eager", "eager", (1, 2)),
    RuntimeDef("ort", "ONNX Runtime CPU EP", "onnx", (1, 2)),
]
BY_KEY = {r.key: r for r in RUNTIMES}
# The rows the edgetorch runtime runs (its Python binding).
EDGETORCH_KEYS = ("edgetorch", "edgetorch_up", "edgetorch_xnn", "edgetorch_etx")


# ---------------------------------------------------------------------------
# edgetorch


def edgetorch_extension() -> Any:
    """The edgetorch.runtime module (the C extension and its thin package).

    ``import edgetorch.runtime`` needs only numpy and ml_dtypes; the memory
    probe records whether torch ended up imported anyway."""
    import edgetorch.runtime as rt
    return rt


def extension_path() -> str:
    """File of the installed edgetorch.runtime._runtime extension."""
    spec = importlib.util.find_spec("edgetorch")
    roots = list(spec.submodule_search_locations or []) if spec else []
    for p in sys.path:
        roots.append(os.path.join(p, "edgetorch"))
    for root in roots:
        hits = glob.glob(os.path.join(root, "runtime", "_runtime*.so"))
        if hits:
            return hits[0]
    raise FileNotFoundError("edgetorch.runtime._runtime extension not found; run "
                            "`make python` (pip install --no-build-isolation -e .)")


class EdgetorchRunner:
    def __init__(self, path: str, mmap: bool = False) -> None:
        self.path, self.mmap = path, mmap
        self.rt = edgetorch_extension()
        self.method = None
        self.inputs: List[Any] = []

    def load(self) -> None:
        self.method = None
        kw = {"mmap": True} if self.mmap else {}
        self.method = self.rt.load_program(self.path, **kw).load_method("forward")

    def prepare(self, inputs: Sequence[np.ndarray]) -> None:
        self.inputs = [np.ascontiguousarray(x) for x in inputs]

    def run(self) -> Any:
        return self.method.execute(self.inputs)

    @staticmethod
    def to_numpy(out: Any) -> List[np.ndarray]:
        return [np.asarray(o) for o in out]

    def close(self) -> None:
        self.method = None


# ---------------------------------------------------------------------------
# upstream ExecuTorch (pip wheel pybindings)


def upstream_set_threads(n: int) -> None:
    """Resize upstream's process-wide threadpool (XNNPACK and the optimized
    kernels run on it). Only call with no upstream method alive: a delegate
    may hold on to the pool it was initialised with."""
    from executorch.extension.pybindings import portable_lib as pl
    if pl._threadpool_get_thread_count() != n:
        _silence_fd2(lambda: pl._unsafe_reset_threadpool(n))


def _silence_fd2(fn: Any) -> Any:
    """Run fn with C-level stderr sent to /dev/null (upstream logs from C++)."""
    sys.stderr.flush()
    saved = os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 2)
        return fn()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


class UpstreamRunner:
    def __init__(self, path: str) -> None:
        from executorch.runtime import Runtime
        self.path = path
        self.runtime = _silence_fd2(Runtime.get)
        self.method = None
        self.inputs: List[Any] = []

    def load(self) -> None:
        from pathlib import Path
        self.method = None
        self.method = self.runtime.load_program(Path(self.path)).load_method("forward")

    def prepare(self, inputs: Sequence[np.ndarray]) -> None:
        import torch
        self.inputs = [torch.from_numpy(np.ascontiguousarray(x)) for x in inputs]

    def run(self) -> Any:
        return self.method.execute(self.inputs)

    @staticmethod
    def to_numpy(out: Any) -> List[np.ndarray]:
        return [o.detach().numpy() if hasattr(o, "detach") else np.asarray(o) for o in out]

    def close(self) -> None:
        self.method = None


# ---------------------------------------------------------------------------
# PyTorch eager


class EagerRunner:
    def __init__(self, path: str, modules: Sequence[str] = ()) -> None:
        import importlib
        import torch
        self.torch = torch
        for m in modules:          # classes the pickle refers to
            try:
                importlib.import_module(m)
            except ImportError:
                pass
        self.path = path
        self.model = None
        self.inputs: List[Any] = []

    def load(self) -> None:
        self.model = None
        if self.path.endswith(".pt2"):  # a quantized model: saved ExportedProgram
            self.model = self.torch.export.load(self.path).module()
        else:
            self.model = self.torch.load(self.path, weights_only=False).eval()

    def prepare(self, inputs: Sequence[np.ndarray]) -> None:
        self.inputs = [self.torch.from_numpy(np.ascontiguousarray(x)) for x in inputs]

    def run(self) -> Any:
        with self.torch.inference_mode():
            return self.model(*self.inputs)

    @staticmethod
    def to_numpy(out: Any) -> List[np.ndarray]:
        outs = list(out) if isinstance(out, (tuple, list)) else [out]
        return [o.detach().numpy() for o in outs]

    def close(self) -> None:
        self.model = None


def eager_set_threads(n: int) -> None:
    import torch
    torch.set_num_threads(n)


# ---------------------------------------------------------------------------
# ONNX Runtime


class OrtRunner:
    def __init__(self, path: str, threads: int) -> None:
        import onnxruntime as ort
        self.ort = ort
        self.path, self.threads = path, threads
        self.sess = None
        self.feed: dict = {}

    def load(self) -> None:
        so = self.ort.SessionOptions()
        so.intra_op_num_threads = self.threads
        so.inter_op_num_threads = 1
        so.execution_mode = self.ort.ExecutionMode.ORT_SEQUENTIAL
        so.log_severity_level = 3
        self.sess = None
        self.sess = self.ort.InferenceSession(self.path, so, providers=["CPUExecutionProvider"])

    def prepare(self, inputs: Sequence[np.ndarray]) -> None:
        names = [i.name for i in self.sess.get_inputs()]
        if len(names) != len(inputs):
            raise ValueError(f"ONNX model has {len(names)} inputs, benchmark gives {len(inputs)}")
        self.feed = {n: np.ascontiguousarray(x) for n, x in zip(names, inputs)}

    def run(self) -> Any:
        return self.sess.run(None, self.feed)

    @staticmethod
    def to_numpy(out: Any) -> List[np.ndarray]:
        return [np.asarray(o) for o in out]

    def close(self) -> None:
        self.sess = None


def make_runner(key: str, path: str, threads: int, eager_modules: Sequence[str] = (),
                mmap: bool = False) -> Any:
    if key in EDGETORCH_KEYS:
        return EdgetorchRunner(path, mmap=mmap)
    if key in ("et_portable", "et_xnnpack"):
        return UpstreamRunner(path)
    if key == "eager":
        return EagerRunner(path, eager_modules)
    if key == "ort":
        return OrtRunner(path, threads)
    raise KeyError(key)


def edgetorch_set_threads(n: int) -> None:
    """edgetorch's process-wide pool (attached to a method at each execute,
    so it may change with methods loaded)."""
    edgetorch_extension().set_num_threads(n)


def set_global_threads(key: str, n: int) -> None:
    if key in EDGETORCH_KEYS:
        edgetorch_set_threads(n)
    elif key in ("et_portable", "et_xnnpack"):
        upstream_set_threads(n)
    elif key == "eager":
        eager_set_threads(n)


# ---------------------------------------------------------------------------


def compare(outs: List[np.ndarray], ref: List[np.ndarray], rtol: float, atol: float
            ) -> Tuple[bool, float, Optional[str]]:
    """(ok, max abs error, what went wrong)."""
    if len(outs) != len(ref):
        return False, float("nan"), f"{len(outs)} outputs, eager has {len(ref)}"
    worst = 0.0
    ok = True
    for o, r in zip(outs, ref):
        o = np.asarray(o)
        if o.shape != r.shape:
            return False, float("nan"), f"shape {list(o.shape)}, eager {list(r.shape)}"
        if r.dtype.kind == "f":
            of, rf = o.astype(np.float64), r.astype(np.float64)
            if not np.all(np.isfinite(of) == np.isfinite(rf)):
                return False, float("inf"), "non-finite values where eager has finite ones"
            err = np.abs(of - rf)
            err = np.where(np.isfinite(err), err, 0.0)
            worst = max(worst, float(err.max(initial=0.0)))
            ok &= bool(np.all(err <= atol + rtol * np.abs(np.nan_to_num(rf))))
        else:
            bad = int(np.count_nonzero(o != r))
            worst = max(worst, float(bad))
            ok &= bad == 0
    return ok, worst, None
