#!/usr/bin/env python
"""Operator conformance: PyTorch's OpInfo samples on the edgetorch runtime.

For every OpInfo of ``torch.testing._internal.common_methods_invocations.op_db``
and every dtype of {float32, float64, float16, bfloat16, uint8, int8, int16,
int32, int64, bool} it supports on CPU, a few of its sample inputs become
one-operator programs (tests/conformance/programs.py) exported with
edgetorch's exporter, run on the edgetorch runtime in a worker process, and
compared with PyTorch eager on the same inputs at the OpInfo's tolerances.

Every sample ends as one of:

  pass        the program ran and its values match eager;
  shape-only  the program ran and its outputs have eager's count, dtypes and
              shapes, but its values cannot be compared: random outputs (the
              OpInfos in UNCHECKED_VALUES, samples whose eager result changes
              with the seed, programs calling a random kernel such as
              native_dropout). Not a pass.
  fail        wrong values / wrong dtype / wrong shape / wrong output count /
              runtime error <status> (at load_program, load_method or
              execute) / crash (the runtime worker died or hung) / the
              exporter failed: an exception raised while edgetorch's own
              exporter code ran ("exporter rejects" for a deliberate
              ExportError, "exporter error (<type>)" for anything else);
  n/a         not applicable: the kernel library lacks operators the sample
              lowers to ("needs X"), torch itself cannot export the sample
              (raised inside torch.export.export or run_decompositions before
              edgetorch's passes run: "torch.export error", data-dependent
              shapes), non-tensor outputs, complex tensors, or eager itself
              rejects the sample. programs.classify_failure states the rule:
              it is where the exception is raised that decides.

Values are compared at the OpInfo's tolerances, raised for bfloat16/float16
to the dtype-derived tolerance of tests/python/tolerance.py (eager's reduced
precision results depend on the CPU path it takes).

The headline gives coverage, passes / samples tried (every sample, n/a
included), next to the pass rate, passes / (passes + failures).

Baseline: tests/conformance/baseline.json records the outcome (status and
class) of every sample of the full run. --check-baseline fails when any
sample's outcome differs from it (make conformance; the subset in make test
checks its samples), listing the changes; --update-baseline writes the
outcomes of this run into it (all of it for a full run; the samples run
otherwise), to be committed with the change that moved them.

Sampling: at most --max-samples samples per (OpInfo, float32) and
--max-samples-other per (OpInfo, other dtype), spread evenly over the first
--gen-limit samples the OpInfo generates (the first, the last, and evenly in
between). Defaults 5 / 2 / 24 keep a cold full run under 30 minutes on two
shared cores; samples are generated under a fixed seed per (OpInfo, dtype).

Batching: the uncached samples of several OpInfos (about --batch-cases) are
traced and decomposed together and cut into one program per sample
(programs.py explains why this gives the same bytes as edgetorch.export;
--verify-batching K checks it on K samples).

Caching: each exported program (or its export failure) is stored under
build/conformance-cache/<exporter hash>/ by a hash of (OpInfo, dtype, the
sample's structure: tensor dtypes and shapes, non-tensor arguments). The
exporter hash covers torch's version, the exporter's sources, programs.py and
the operator names in ops.def, so any change there re-exports. Samples that
differ only in tensor values share one program. Runtime results are never
cached.

Outputs: --json (default build/conformance/results.json) with every result,
and --md (default docs/conformance.md, only for a run over every OpInfo
unless given explicitly) with the summary.

Examples:
  python tests/conformance/run.py                       # everything
  python tests/conformance/run.py --ops add,nn.functional.conv2d --dtypes float32,int64
  python tests/conformance/run.py --ops 'linalg.*' --max-samples 1 --no-md
"""

from __future__ import annotations

import argparse
import collections
import fnmatch
import gc
import inspect
import itertools
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import warnings
import zlib
from dataclasses import dataclass, field
from multiprocessing import Pipe
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
import torch  # noqa: E402

import programs as P  # noqa: E402

sys.path.insert(0, str(REPO / "tests" / "python"))
import tolerance  # noqa: E402  (the one rule for comparing with eager)

DTYPES: Dict[str, torch.dtype] = {
    "float32": torch.float32, "float64": torch.float64, "float16": torch.float16,
    "bfloat16": torch.bfloat16, "uint8": torch.uint8, "int8": torch.int8,
    "int16": torch.int16, "int32": torch.int32, "int64": torch.int64, "bool": torch.bool,
}
DTYPE_NAMES = {v: k for k, v in DTYPES.items()}

MAX_SAMPLES = 5          # per (OpInfo, float32)
MAX_SAMPLES_OTHER = 2    # per (OpInfo, any other dtype)
GEN_LIMIT = 24           # samples generated per (OpInfo, dtype) to choose from
TIMEOUT = 60.0           # seconds per program on the runtime
BATCH_CASES = 64         # uncached samples exported together (several OpInfos)
BASELINE = HERE / "baseline.json"

# The fast slice make test runs (tests/python/test_conformance_subset.py):
# elementwise, comparison, reduction, shape, indexing, linear algebra,
# convolution, pooling, normalization, activation; float32, int32, float16;
# at most two samples per (OpInfo, float32) and one per other dtype (the
# first and last generated: samples of the full run too, so the baseline
# covers them).
SUBSET_OPS = [
    # elementwise arithmetic and math
    "add", "sub", "mul", "div.no_rounding_mode", "div.floor_rounding", "remainder", "pow",
    "abs", "neg", "exp", "log", "sqrt", "rsqrt", "sin", "tanh", "sigmoid", "floor", "round",
    "clamp", "where", "maximum",
    # comparison and logic
    "eq", "lt", "ge", "logical_not", "logical_and", "bitwise_and", "isnan",
    # reductions, scans, softmax
    "sum", "mean", "amax", "argmax", "cumsum", "softmax", "log_softmax", "var",
    # shape and copies
    "cat", "stack", "permute", "transpose", "reshape", "expand", "squeeze", "unsqueeze",
    "flip", "narrow", "split", "repeat", "tril",
    # indexing
    "index_select", "gather", "scatter", "masked_fill", "nn.functional.embedding",
    # linear algebra, nn
    "mm", "bmm", "addmm", "nn.functional.linear", "nn.functional.conv2d",
    "nn.functional.max_pool2d", "nn.functional.avg_pool2d",
    "nn.functional.adaptive_avg_pool2d", "nn.functional.layer_norm",
    "nn.functional.relu", "nn.functional.gelu", "nn.functional.hardtanh",
    "nn.functional.leaky_relu", "constant_pad_nd", "nn.functional.pixel_shuffle",
    # factories and conversions
    "full_like", "zeros_like", "arange", "to",
]
SUBSET_DTYPES = ("float32", "int32", "float16")

# Kernels whose outputs are sums of many terms: reduced precision may differ
# from eager by a step at the output's magnitude where terms cancel.
_ACCUMULATES = re.compile(r"convolution|::(mm|bmm|addmm|baddbmm|addmv|mv|dot|linear|matmul)\b|"
                          r"sum|mean|var|std|norm|softmax|cum|prod|pool|upsample|grid_sampler|"
                          r"dist|logsumexp|embedding_bag|addbmm|einsum|tensordot")

# OpInfos whose values are random or uninitialized: their programs are checked
# for output count, dtype and shape only.
UNCHECKED_VALUES = frozenset({
    "bernoulli", "cauchy", "empty", "empty_like", "empty_permuted", "empty_strided",
    "exponential", "geometric", "log_normal", "multinomial", "new_empty",
    "new_empty_strided", "normal", "normal.in_place", "normal.number_mean",
    "nn.functional.alpha_dropout", "nn.functional.dropout", "nn.functional.dropout2d",
    "nn.functional.dropout3d", "nn.functional.feature_alpha_dropout.with_train",
    "nn.functional.fractional_max_pool2d", "nn.functional.fractional_max_pool3d",
    "nn.functional.rrelu", "pca_lowrank", "rand_like", "randint", "randint_like", "randn",
    "randn_like", "svd_lowrank", "uniform",
})

# Kernels with random results: eager may be seeded (OpInfo's wrapper_set_seed)
# but the runtime's generator is not torch's.
_RANDOM_KERNEL = re.compile(r"rand|dropout|bernoulli|::normal|uniform|multinomial|exponential|"
                            r"cauchy|geometric|log_normal|poisson")

# Test classes whose OpInfo tolerance overrides apply here: the ones that
# compare an implementation with eager (or a reference) at the sample's dtype.
_TOL_CLASSES = {None, "TestCommon", "TestDecomp", "TestInductorOpInfo", "TestUnaryUfuncs",
                "TestBinaryUfuncs", "TestReductions"}


def opinfo_name(op: Any) -> str:
    return op.name + (f".{op.variant_test_name}" if op.variant_test_name else "")


# ---------------------------------------------------------------------------
# tolerances


def opinfo_tolerance(op: Any, dtype: torch.dtype, out_dtype: torch.dtype) -> Tuple[float, float]:
    """(rtol, atol): torch.testing's default for the output dtype, raised to
    the OpInfo's toleranceOverride for the sample dtype where it has one."""
    from torch.testing._comparison import default_tolerances
    from torch.testing._internal.common_device_type import toleranceOverride
    from torch.testing._internal.opinfo.core import DecorateInfo

    rtol, atol = default_tolerances(out_dtype)
    for d in getattr(op, "decorators", ()) or ():
        if not isinstance(d, DecorateInfo):
            continue
        if d.cls_name not in _TOL_CLASSES or d.device_type not in (None, "cpu"):
            continue
        if d.dtypes is not None and dtype not in d.dtypes:
            continue
        for dec in d.decorators:
            if isinstance(dec, toleranceOverride) and dtype in dec.d:
                t = dec.d[dtype]
                rtol, atol = max(rtol, t.rtol), max(atol, t.atol)
    return rtol, atol


# ---------------------------------------------------------------------------
# the runtime worker


class Runner:
    """A persistent worker process running programs; restarted after a crash."""

    def __init__(self, timeout: float = TIMEOUT) -> None:
        self.timeout = timeout
        self.proc: Optional[subprocess.Popen] = None
        self.conn: Any = None
        self.errpath = REPO / "build" / "conformance" / f"worker-{os.getpid()}.stderr"
        self.errpath.parent.mkdir(parents=True, exist_ok=True)
        self.restarts = 0

    def _start(self) -> None:
        parent, child = Pipe(duplex=True)
        self._errfile = open(self.errpath, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "worker.py"), str(child.fileno())],
            pass_fds=(child.fileno(),), stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=self._errfile, cwd=str(REPO))
        child.close()
        self.conn = parent

    def _stderr_tail(self) -> str:
        try:
            text = self.errpath.read_bytes()[-2000:].decode(errors="replace").strip()
        except OSError:
            return ""
        lines = [ln for ln in text.splitlines() if ln.strip()]
        return " | ".join(lines[-3:])

    def _died(self, why: str) -> Tuple[str, str]:
        detail = why
        if self.proc is not None:
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            rc = self.proc.returncode
            if rc is not None and rc < 0:
                try:
                    detail = f"killed by {signal.Signals(-rc).name}"
                except ValueError:
                    detail = f"killed by signal {-rc}"
            elif rc:
                detail = f"exited with status {rc}"
            tail = self._stderr_tail()
            if tail:
                detail += f" ({tail[:300]})"
        self.close()
        self.restarts += 1
        return ("crash", detail)

    def run(self, pte: bytes, inputs: List[Any]) -> Tuple[Any, ...]:
        if self.proc is None or self.proc.poll() is not None:
            if self.proc is not None:
                self.close()
            self._start()
        try:
            self.conn.send((pte, inputs))
        except (BrokenPipeError, OSError, EOFError):
            return self._died("worker gone")
        if not self.conn.poll(self.timeout):
            self.proc.kill()
            self.proc.wait()
            self.close()
            self.restarts += 1
            return ("crash", f"timeout: no answer in {self.timeout:g} s")
        try:
            return self.conn.recv()
        except (EOFError, OSError, ConnectionResetError):
            return self._died("worker died")

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            except OSError:
                pass
            self.conn = None
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self.proc = None
            try:
                self._errfile.close()
            except Exception:  # noqa: BLE001
                pass


def to_numpy(t: torch.Tensor) -> np.ndarray:
    t = t.detach().contiguous()
    if t.dtype == torch.bfloat16:
        import ml_dtypes
        return t.view(torch.int16).numpy().view(ml_dtypes.bfloat16)
    return t.numpy()


def to_torch(x: Any) -> torch.Tensor:
    if isinstance(x, np.ndarray):
        x = x if x.flags.c_contiguous else x.copy(order="C")  # keeps 0-dim arrays 0-dim
        if x.dtype.name == "bfloat16":
            return torch.from_numpy(x.view(np.int16)).view(torch.bfloat16)
        return torch.from_numpy(x)
    return torch.tensor(x)


# ---------------------------------------------------------------------------
# comparing


# Operators whose index outputs are unspecified among equal values: an index
# is right when it selects the value eager selects. Signatures (as Python
# stubs) give each sample's dim; the tuple is (position of the values output
# or None, position of the indices output).
def _topk(input, k, dim=-1, largest=True, sorted=True): return dim, True  # noqa: E704
def _sort(input, dim=-1, descending=False, stable=False): return dim, True  # noqa: E704
def _kth(input, k, dim=-1, keepdim=False): return dim, keepdim  # noqa: E704
def _mode(input, dim=-1, keepdim=False): return dim, keepdim  # noqa: E704
def _median(input, dim=None, keepdim=False): return dim, keepdim  # noqa: E704


TIES = {
    "topk": (_topk, 0, 1), "sort": (_sort, 0, 1), "argsort": (_sort, None, 0),
    "kthvalue": (_kth, 0, 1), "mode": (_mode, 0, 1), "median": (_median, 0, 1),
    "nanmedian": (_median, 0, 1),
}


def _tie_dim(case: "P.Case") -> Optional[Tuple[int, bool, Any]]:
    """(dim, keepdim, input) of a sample of a TIES operator, or None."""
    stub = TIES[case.opname][0]
    it = iter(case.tensors)
    leaves = [next(it) if x is P.TENSOR else x for x in case.template]
    inp, args, kwargs = torch.utils._pytree.tree_unflatten(leaves, case.spec)
    kwargs = {k: v for k, v in kwargs.items() if k != "stable"} if stub is _sort else kwargs
    try:
        dim, keepdim = stub(inp, *args, **kwargs)
    except TypeError:
        return None
    if dim is None or not isinstance(inp, torch.Tensor):
        return None
    if isinstance(args, tuple) and stub is _sort and kwargs.get("stable"):
        return None
    return dim, keepdim, inp


def _select(x: torch.Tensor, dim: int, keepdim: bool, idx: torch.Tensor) -> torch.Tensor:
    if x.dim() == 0:
        return x.reshape(1).gather(0, idx.reshape(-1).long()).reshape(idx.shape)
    d = dim % x.dim()
    i = idx.long()
    if i.dim() < x.dim():
        i = i.unsqueeze(d)
    g = x.gather(d, i)
    return g if idx.dim() == x.dim() else g.squeeze(d)




def compare(got: Sequence[Any], case: P.Case, op: Any, values: bool,
            kernels: Sequence[str] = ()) -> Tuple[str, str]:
    """("", "") when the outputs match eager, else (failure class, detail)."""
    accumulates = any(_ACCUMULATES.search(k) for k in kernels)
    want = case.expected
    if len(got) != len(want):
        return "wrong output count", f"{len(got)} outputs, eager has {len(want)}"
    tie = _tie_dim(case) if case.opname in TIES and values else None
    idx_pos = TIES[case.opname][2] if tie else None
    for i, (g, w) in enumerate(zip(got, want)):
        gt = to_torch(g)
        where = f"output {i}" if len(want) > 1 else "output"
        if i == idx_pos and gt.dtype == w.dtype and gt.shape == w.shape:
            dim, keepdim, x = tie
            try:
                mine, theirs = _select(x, dim, keepdim, gt), _select(x, dim, keepdim, w)
            except (RuntimeError, IndexError) as e:
                return "wrong values", f"{where}: indices out of range ({e})"[:300]
            if not torch.equal(mine.isnan(), theirs.isnan()) or not torch.equal(
                    mine.nan_to_num(0), theirs.nan_to_num(0)):
                return "wrong values", (f"{where}: indices select other values than eager's "
                                        f"({int((mine != theirs).sum())} differ)")
            continue
        if gt.dtype != w.dtype:
            return "wrong dtype", f"{where}: {gt.dtype} where eager gives {w.dtype}"
        if tuple(gt.shape) != tuple(w.shape):
            return "wrong shape", f"{where}: {list(gt.shape)} where eager gives {list(w.shape)}"
        if not values:
            continue
        rtol, atol = opinfo_tolerance(op, case.dtype, w.dtype)
        # bfloat16/float16: at least the dtype-derived tolerance (eager's
        # reduced precision depends on the CPU path it takes)
        rtol, atol = tolerance.eager_tolerance(
            w.dtype, rtol, atol,
            magnitude=tolerance.max_magnitude(w) if accumulates else None)
        try:
            torch.testing.assert_close(gt, w.detach().contiguous(), rtol=rtol, atol=atol,
                                       equal_nan=True, check_stride=False)
        except AssertionError as e:
            lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
            keep = [ln for ln in lines if ln.startswith(("Mismatched", "Greatest"))]
            msg = "; ".join(keep or lines[:2])
            return "wrong values", f"{where}: {msg} (rtol {rtol:g}, atol {atol:g})"
    return "", ""


# ---------------------------------------------------------------------------
# the run


@dataclass
class Options:
    ops: Optional[List[str]] = None            # names or fnmatch patterns; None = all
    dtypes: Sequence[str] = tuple(DTYPES)
    max_samples: int = MAX_SAMPLES
    max_samples_other: int = MAX_SAMPLES_OTHER
    gen_limit: int = GEN_LIMIT
    cache_dir: Optional[Path] = REPO / "build" / "conformance-cache"
    timeout: float = TIMEOUT
    verify_batching: int = 0
    batch_cases: int = BATCH_CASES
    quiet: bool = False


@dataclass
class Report:
    results: List[Dict[str, Any]] = field(default_factory=list)
    opinfos: List[str] = field(default_factory=list)
    seconds: float = 0.0
    export_seconds: float = 0.0
    run_seconds: float = 0.0
    exported: int = 0
    cached: int = 0
    worker_restarts: int = 0
    verify: List[str] = field(default_factory=list)
    options: Dict[str, Any] = field(default_factory=dict)
    notes: List[str] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(r["status"] == status for r in self.results)

    @property
    def applicable(self) -> int:
        return self.count("pass") + self.count("fail")

    @property
    def tried(self) -> int:
        return len(self.results)

    @property
    def pass_rate(self) -> float:
        return 100.0 * self.count("pass") / self.applicable if self.applicable else 0.0

    @property
    def coverage(self) -> float:
        """Passes out of every sample tried (n/a and shape-only included)."""
        return 100.0 * self.count("pass") / self.tried if self.tried else 0.0

    def failures(self) -> List[Dict[str, Any]]:
        return [r for r in self.results if r["status"] == "fail"]

    def crashes(self) -> List[Dict[str, Any]]:
        return [r for r in self.results if r["status"] == "fail" and r["class"] == "crash"]


def select_opinfos(patterns: Optional[Sequence[str]]) -> List[Any]:
    from torch.testing._internal.common_methods_invocations import op_db

    if not patterns:
        return list(op_db)
    chosen, seen = [], set()
    for pat in patterns:
        hit = False
        for op in op_db:
            name = opinfo_name(op)
            if fnmatch.fnmatchcase(name, pat) and id(op) not in seen:
                chosen.append(op)
                seen.add(id(op))
                hit = True
        if not hit:
            raise SystemExit(f"no OpInfo matches {pat!r}")
    return chosen


def spread(n_have: int, n_want: int) -> List[int]:
    if n_have <= n_want:
        return list(range(n_have))
    if n_want == 1:
        return [0]
    return sorted({round(i * (n_have - 1) / (n_want - 1)) for i in range(n_want)})


def _seed(name: str, dtype: torch.dtype) -> None:
    torch.manual_seed(zlib.crc32(f"{name}/{dtype}".encode()))


def pick_samples(op: Any, name: str, dtype: torch.dtype, n: int,
                 gen_limit: int = GEN_LIMIT) -> List[Tuple[int, Any]]:
    """[(index among the generated samples, sample)]: at most n, spread evenly
    over the first gen_limit samples, generated under a fixed seed."""
    _seed(name, dtype)
    samples = first_samples(op, dtype, gen_limit)
    return [(i, samples[i]) for i in spread(len(samples), n)]


def first_samples(op: Any, dtype: torch.dtype, n: int) -> List[Any]:
    """The first n of an OpInfo's sample inputs; the generator is closed here.

    OpInfo wraps sample_inputs in torch.no_grad(), so closing an unfinished
    generator sets the grad mode. Left to the garbage collector (the generator
    can sit in a reference cycle), that close can run in the middle of a later
    torch.export trace, which then records a stray _set_grad_enabled node and
    fails (KeyError: _set_grad_enabled in torch.fx's python_code).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        it = op.sample_inputs("cpu", dtype, requires_grad=False)
        try:
            return list(itertools.islice(it, n))
        finally:
            # sample_inputs returns a TrackedInputIter, which keeps the
            # generator inside an enumerate and has no close() of its own.
            inner = getattr(it, "child_iter", it)
            for g in [it, *gc.get_referents(inner)]:
                if inspect.isgenerator(g):
                    g.close()


class Cache:
    def __init__(self, root: Optional[Path], salt: str) -> None:
        self.dir = root / salt if root else None
        if self.dir is not None:
            self.dir.mkdir(parents=True, exist_ok=True)
            self._prune(root, keep=self.dir)

    @staticmethod
    def _prune(root: Path, keep: Path, n: int = 3) -> None:
        """Keep the newest few exporter versions (another run may use one)."""
        dirs = sorted((d for d in root.iterdir() if d.is_dir() and d != keep),
                      key=lambda d: d.stat().st_mtime, reverse=True)
        for d in dirs[n - 1:]:
            shutil.rmtree(d, ignore_errors=True)

    def has(self, key: str) -> bool:
        return self.dir is not None and (self.dir / key[:2] / f"{key}.json").is_file()

    def get(self, key: str) -> Optional[P.Exported]:
        if self.dir is None:
            return None
        meta = self.dir / key[:2] / f"{key}.json"
        if not meta.is_file():
            return None
        try:
            d = json.loads(meta.read_text())
            pte = (self.dir / key[:2] / f"{key}.pte").read_bytes() if d["ok"] else b""
        except (OSError, ValueError, KeyError):
            return None
        return P.Exported(d["ok"], pte=pte, kernels=d["kernels"], kind=d["kind"],
                          needs=d["needs"], reason=d["reason"], via=d.get("via", ""))

    def put(self, key: str, r: P.Exported) -> None:
        if self.dir is None:
            return
        sub = self.dir / key[:2]
        sub.mkdir(exist_ok=True)
        if r.ok:
            _atomic(sub / f"{key}.pte", r.pte)
        _atomic(sub / f"{key}.json", json.dumps(r.meta()).encode())


def _atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _result(op: str, dtype: Optional[torch.dtype], index: int, describe: str, status: str,
            cls: str = "", detail: str = "", **extra: Any) -> Dict[str, Any]:
    r = {"op": op, "dtype": DTYPE_NAMES[dtype] if dtype is not None else "none",
         "sample": index, "input": describe,
         "status": status, "class": cls, "detail": detail}
    r.update(extra)
    return r


def run(opts: Options) -> Report:
    from edgetorch.export import oplib

    t_start = time.monotonic()
    warnings.filterwarnings("ignore")
    library = oplib.kernel_library()
    salt = P.exporter_hash(library)
    cache = Cache(opts.cache_dir, salt)
    dtypes = [DTYPES[d] for d in opts.dtypes]
    ops = select_opinfos(opts.ops)
    rep = Report(options={
        "ops": opts.ops or "all", "dtypes": list(opts.dtypes),
        "max_samples": opts.max_samples, "max_samples_other": opts.max_samples_other,
        "gen_limit": opts.gen_limit, "batch_cases": opts.batch_cases,
        "exporter_hash": salt, "torch": torch.__version__,
        "operators_in_ops_def": len(library)})
    runner = Runner(opts.timeout)
    say = (lambda s: None) if opts.quiet else (lambda s: print(s, flush=True))
    done = 0
    try:
        # OpInfos are exported a chunk at a time (one torch.export and one
        # decomposition per chunk of about opts.batch_cases uncached samples)
        chunk: List[Tuple[Any, str, List[Dict[str, Any]], List[P.Case]]] = []
        pending = 0
        for i, op in enumerate(ops):
            name = opinfo_name(op)
            rep.opinfos.append(name)
            early, cases = _prepare(op, name, dtypes, opts, rep)
            chunk.append((op, name, early, cases))
            pending += sum(1 for c in cases if not cache.has(c.key))
            if pending >= opts.batch_cases or i == len(ops) - 1:
                t0 = time.monotonic()
                exported = _export(chunk, library, cache, opts, rep)
                t_exp = time.monotonic() - t0
                for op_, name_, early_, cases_ in chunk:
                    res = early_ + _execute(op_, name_, cases_, exported, runner, rep)
                    rep.results.extend(res)
                    done += 1
                    c = collections.Counter(r["status"] for r in res)
                    say(f"[{done}/{len(ops)}] {name_}: {c['pass']} pass, {c['fail']} fail, "
                        f"{c['shape-only']} shape-only, {c['na']} n/a")
                say(f"    ({pending} exported in {t_exp:.1f}s; "
                    f"{time.monotonic() - t_start:.0f}s so far)")
                chunk, pending = [], 0
    finally:
        runner.close()
    rep.worker_restarts = runner.restarts
    rep.notes = list(P.NOTES)
    rep.seconds = time.monotonic() - t_start
    return rep


def _complex(ts: Iterable[torch.Tensor]) -> bool:
    return any(t.is_complex() for t in ts)


def _same(a: Sequence[torch.Tensor], b: Sequence[torch.Tensor]) -> bool:
    return len(a) == len(b) and all(
        x.dtype == y.dtype and x.shape == y.shape and torch.equal(
            x.nan_to_num(0) if x.is_floating_point() else x,
            y.nan_to_num(0) if y.is_floating_point() else y) for x, y in zip(a, b))


def _prepare(op: Any, name: str, dtypes: Sequence[torch.dtype], opts: Options,
             rep: Report) -> Tuple[List[Dict[str, Any]], List[P.Case]]:
    """The samples of an OpInfo as cases with eager results; the samples that
    are not applicable before any export as results."""
    results: List[Dict[str, Any]] = []
    try:
        supported = op.supported_dtypes("cpu")
    except Exception as e:  # noqa: BLE001
        return [_result(name, torch.float32, 0, "", "na", "no samples",
                        f"supported_dtypes failed: {type(e).__name__}: {e}")], []
    cases: List[P.Case] = []
    if not any(dt in supported for dt in dtypes):
        shown = ", ".join(sorted(str(d).replace("torch.", "") for d in supported)) or "none"
        return [_result(name, None, 0, "", "na", "no supported dtype",
                        f"CPU dtypes: {shown}"[:300])], []
    for dt in dtypes:
        if dt not in supported:
            continue
        n = opts.max_samples if dt == torch.float32 else opts.max_samples_other
        try:
            picked = pick_samples(op, name, dt, n, opts.gen_limit)
        except Exception as e:  # noqa: BLE001
            results.append(_result(name, dt, 0, "", "na", "no samples",
                                   f"sample_inputs failed: {type(e).__name__}: {e}"[:300]))
            continue
        for k, (idx, s) in enumerate(picked):
            try:
                c = P.make_case(name, op.op, dt, k, s, rep.options["exporter_hash"])
                c.gen = idx
            except Exception as e:  # noqa: BLE001
                results.append(_result(name, dt, k, "", "na", "unusable sample",
                                       f"{type(e).__name__}: {e}"[:300], gen=idx))
                continue
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    _seed(name, dt)
                    c.expected = list(c.call([t.clone() for t in c.tensors]))
                    c.n_outputs = len(c.expected)
            except P.NonTensorOutput as e:
                results.append(_result(name, dt, k, c.describe, "na", "non-tensor output",
                                       str(e), gen=c.gen))
                continue
            except Exception as e:  # noqa: BLE001
                msg = str(e).strip().splitlines()[0][:200] if str(e).strip() else ""
                results.append(_result(name, dt, k, c.describe, "na", "eager rejects sample",
                                       f"{type(e).__name__}: {msg}", gen=c.gen))
                continue
            if _complex(c.tensors) or _complex(c.expected):
                results.append(_result(name, dt, k, c.describe, "na", "complex dtype",
                                       "complex inputs or outputs (edgetorch has no complex "
                                       "kernels)", gen=c.gen))
                continue
            if any(t.layout != torch.strided for t in list(c.tensors) + c.expected):
                results.append(_result(name, dt, k, c.describe, "na", "sparse tensor",
                                       "sparse inputs or outputs", gen=c.gen))
                continue
            # random outputs (dropout in a composite op, ...): a second run
            # under another seed differs
            c.random = name in UNCHECKED_VALUES
            if not c.random:
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        torch.manual_seed(12345)
                        again = list(c.call([t.clone() for t in c.tensors]))
                    c.random = not _same(c.expected, again)
                except Exception:  # noqa: BLE001 - ran once, fails twice: random
                    c.random = True
            cases.append(c)
    return results, cases


def _export(chunk: Sequence[Tuple[Any, str, List[Dict[str, Any]], List[P.Case]]],
            library: frozenset, cache: Cache, opts: Options,
            rep: Report) -> Dict[str, P.Exported]:
    t0 = time.monotonic()
    exported: Dict[str, P.Exported] = {}
    missing = []
    for _, _, _, cases in chunk:
        for c in cases:
            if c.key in exported:
                continue
            hit = cache.get(c.key)
            if hit is not None:
                exported[c.key] = hit
                rep.cached += 1
            else:
                exported[c.key] = None  # type: ignore[assignment]
                missing.append(c)
    if missing:
        fresh = P.export_cases(missing, library)
        for key, r in fresh.items():
            cache.put(key, r)
            exported[key] = r
        rep.exported += len(fresh)
        if opts.verify_batching:
            _verify(missing, fresh, library, opts.verify_batching, rep)
    rep.export_seconds += time.monotonic() - t0
    return exported


def _execute(op: Any, name: str, cases: Sequence[P.Case], exported: Dict[str, P.Exported],
             runner: Runner, rep: Report) -> List[Dict[str, Any]]:
    t0 = time.monotonic()
    results: List[Dict[str, Any]] = []
    for c in cases:
        e = exported[c.key]
        base = dict(kernels=e.kernels, key=c.key, gen=c.gen)
        if not e.ok:
            cls = "needs" if e.kind == "needs" else e.reason.split(":")[0]
            status = "fail" if e.kind == "fail" else "na"
            results.append(_result(name, c.dtype, c.index, c.describe, status, cls, e.reason,
                                   needs=e.needs, **base))
            continue
        values = not c.random and not any(_RANDOM_KERNEL.search(k) for k in e.kernels)
        ans = runner.run(e.pte, [to_numpy(t) for t in c.tensors])
        if ans[0] == "crash":
            results.append(_result(name, c.dtype, c.index, c.describe, "fail", "crash",
                                   ans[1], **base))
        elif ans[0] == "error":
            _, phase, status, msg = ans
            results.append(_result(name, c.dtype, c.index, c.describe, "fail",
                                   f"runtime error {status}", f"{phase}: {msg}"[:300], **base))
        else:
            cls, detail = compare(ans[1], c, op, values, e.kernels)
            if cls:
                results.append(_result(name, c.dtype, c.index, c.describe, "fail", cls,
                                       detail, **base))
            elif values:
                results.append(_result(name, c.dtype, c.index, c.describe, "pass",
                                       compared="values", **base))
            else:
                results.append(_result(name, c.dtype, c.index, c.describe, "shape-only",
                                       "random values", compared="shape+dtype", **base))
    rep.run_seconds += time.monotonic() - t0
    return results


def _verify(cases: List[P.Case], fresh: Dict[str, P.Exported], library: frozenset,
            budget: int, rep: Report) -> None:
    """Export some batch-exported cases again on the public path; compare bytes."""
    done = len(rep.verify)
    for c in cases:
        if done >= budget:
            return
        b = fresh.get(c.key)
        if b is None or b.via != "batch":
            continue
        s = P.export_single(c, library)
        same = (s.ok == b.ok and s.pte == b.pte and s.needs == b.needs and s.reason == b.reason)
        rep.verify.append(f"{'same' if same else 'DIFFERENT'}: {c.opname} {c.dtype} "
                          f"{c.describe}" + ("" if same else f" (single: {s.reason or 'ok'}; "
                                                            f"batch: {b.reason or 'ok'})"))
        done += 1


# ---------------------------------------------------------------------------
# reports


def write_json(rep: Report, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "summary": {
            "pass_rate": round(rep.pass_rate, 3), "applicable": rep.applicable,
            "pass": rep.count("pass"), "fail": rep.count("fail"), "na": rep.count("na"),
            "shape_only": rep.count("shape-only"), "tried": rep.tried,
            "coverage": round(rep.coverage, 3),
            "opinfos": len(rep.opinfos), "seconds": round(rep.seconds, 1),
            "export_seconds": round(rep.export_seconds, 1),
            "run_seconds": round(rep.run_seconds, 1), "exported": rep.exported,
            "cached": rep.cached, "worker_restarts": rep.worker_restarts,
        },
        "options": rep.options,
        "verify_batching": rep.verify,
        "notes": rep.notes,
        "opinfos": rep.opinfos,
        "results": rep.results,
    }
    _atomic(path, json.dumps(doc, indent=1).encode())


def read_json(path: Path) -> Report:
    """A Report back from write_json's file (to render it again)."""
    doc = json.loads(path.read_text())
    sm = doc["summary"]
    rep = Report(results=doc["results"], seconds=sm["seconds"],
                 export_seconds=sm["export_seconds"], run_seconds=sm["run_seconds"],
                 exported=sm["exported"], cached=sm["cached"],
                 worker_restarts=sm["worker_restarts"], verify=doc["verify_batching"],
                 options=doc["options"], notes=doc["notes"])
    rep.opinfos = doc.get("opinfos") or list(dict.fromkeys(r["op"] for r in rep.results))
    return rep


def _rate(pct: float) -> str:
    """A pass rate rounded down, with as many decimals as it takes (up to 3)
    to not read 100% while a sample fails."""
    for places in (1, 2, 3):
        scale = 10 ** places
        shown = math.floor(pct * scale) / scale
        if shown < 100 or pct >= 100:
            break
    return f"{shown:.{places}f}%"


def _fmt(n: int) -> str:
    return f"{n:,}"


def _cell(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")


def markdown(rep: Report) -> str:
    o = rep.options
    n_na = rep.count("na")
    unchecked = rep.count("shape-only")
    n_exp = sum(1 for r in rep.failures() if r["class"].startswith("exporter"))
    lines = [
        f"Conformance: coverage {_fmt(rep.count('pass'))} of {_fmt(rep.tried)} OpInfo samples "
        f"tried pass ({rep.coverage:.1f}%); pass rate {_rate(rep.pass_rate)} of "
        f"{_fmt(rep.applicable)} applicable ({_fmt(rep.count('fail'))} fail, "
        f"{_fmt(n_exp)} of them exporter errors; {_fmt(unchecked)} shape-and-dtype-only, "
        f"{_fmt(n_na)} not applicable; {len(rep.opinfos)} OpInfos x "
        f"{len(o['dtypes'])} dtypes, at most {o['max_samples']} samples per (OpInfo, float32) "
        f"and {o['max_samples_other']} per (OpInfo, other dtype); torch {o['torch']}, "
        f"{o['operators_in_ops_def']} operators in ops.def)",
        "",
        "Generated by `tests/conformance/run.py` (`make conformance`); every result is in "
        "`build/conformance/results.json`. Each sample is PyTorch OpInfo sample input "
        "(`torch.testing._internal.common_methods_invocations.op_db`) exported as a "
        "one-operator program with edgetorch's exporter, run on the edgetorch runtime and "
        "compared with eager at the OpInfo's tolerances for the dtype (bfloat16 and float16 "
        "at least at the dtype-derived tolerance of `tests/python/tolerance.py`). *Coverage* "
        "is passes out of every sample tried. A sample is *not applicable* when the kernel "
        "library lacks an operator it lowers to (named below) or torch itself cannot export "
        "it (the exception is raised inside torch.export or the decompositions, before "
        "edgetorch's passes run), or eager rejects it; an exception raised in edgetorch's "
        "own exporter code is a *failure* (\"exporter rejects\" or \"exporter error\"). "
        "*Shape-and-dtype-only* samples (random outputs) ran and have eager's dtypes and "
        "shapes but are neither passes nor failures. The pass rate is passes / (passes + "
        "failures). `make conformance` checks every sample's outcome against "
        "`tests/conformance/baseline.json`.",
        "",
        f"Run time {rep.seconds / 60:.1f} min ({rep.exported} programs exported, "
        f"{rep.cached} from the cache; export {rep.export_seconds / 60:.1f} min, "
        f"runtime and comparison {rep.run_seconds / 60:.1f} min). "
        f"{unchecked} samples have random or uninitialized outputs and are compared by "
        "dtype and shape only (shape-only, not counted as passes).",
        "",
        "## By failure class",
        "",
        "| class | samples | OpInfos |",
        "|---|---:|---|",
    ]
    by_cls: Dict[str, List[Dict[str, Any]]] = collections.defaultdict(list)
    for r in rep.failures():
        by_cls[r["class"]].append(r)
    for cls, rs in sorted(by_cls.items(), key=lambda kv: -len(kv[1])):
        names = collections.Counter(r["op"] for r in rs)
        shown = ", ".join(f"{n} ({c})" for n, c in names.most_common(12))
        if len(names) > 12:
            shown += f", ... {len(names) - 12} more"
        lines.append(f"| {cls} | {len(rs)} | {_cell(shown)} |")
    if not by_cls:
        lines.append("| (none) | 0 | |")

    lines += ["", "## By dtype", "",
              "| dtype | tried | pass | fail | shape-only | n/a | coverage | pass rate |",
              "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for dn in o["dtypes"]:
        rs = [r for r in rep.results if r["dtype"] == dn]
        c = collections.Counter(r["status"] for r in rs)
        app = c["pass"] + c["fail"]
        rate = f"{100.0 * c['pass'] / app:.1f}%" if app else "-"
        cov = f"{100.0 * c['pass'] / len(rs):.1f}%" if rs else "-"
        lines.append(f"| {dn} | {len(rs)} | {c['pass']} | {c['fail']} | {c['shape-only']} | "
                     f"{c['na']} | {cov} | {rate} |")

    lines += ["", "## Not applicable, by reason", "",
              "| reason | samples | OpInfos |", "|---|---:|---:|"]
    na_cls: Dict[str, List[Dict[str, Any]]] = collections.defaultdict(list)
    for r in rep.results:
        if r["status"] == "na":
            na_cls[r["class"]].append(r)
    for cls, rs in sorted(na_cls.items(), key=lambda kv: -len(kv[1])):
        label = "needs operators missing from ops.def" if cls == "needs" else cls
        lines.append(f"| {_cell(label)} | {len(rs)} | {len({r['op'] for r in rs})} |")

    lines += ["", "## By OpInfo", "",
              "Failures give the class, the dtypes it occurs at, and one example.", "",
              "| OpInfo | tried | pass | fail | shape-only | n/a | failures |",
              "|---|---:|---:|---:|---:|---:|---|"]
    by_op: Dict[str, List[Dict[str, Any]]] = collections.defaultdict(list)
    for r in rep.results:
        by_op[r["op"]].append(r)
    for name in rep.opinfos:
        rs = by_op.get(name, [])
        c = collections.Counter(r["status"] for r in rs)
        fails = collections.defaultdict(list)
        for r in rs:
            if r["status"] == "fail":
                fails[r["class"]].append(r)
        parts = []
        for cls, fr in fails.items():
            dts = sorted({r["dtype"] for r in fr}, key=list(DTYPES).index)
            ex = fr[0]
            parts.append(f"**{cls}** ({len(fr)}; {', '.join(dts)}): {ex['detail'][:160]} "
                         f"[input {ex['input'][:80]}]")
        lines.append(f"| {name} | {len(rs)} | {c['pass']} | {c['fail']} | {c['shape-only']} | "
                     f"{c['na']} | {_cell('<br>'.join(parts))} |")

    # operators the samples need
    needs = collections.defaultdict(set)
    for r in rep.results:
        if r["status"] == "na" and r["class"] == "needs":
            for k in r.get("needs", []):
                needs[k].add(r["op"])
    lines += ["", "## Operators the exporter needs and ops.def lacks", "",
              "Operators (out variants, as the exporter would call them) that not-applicable "
              "samples need, with the OpInfos that need them.", "",
              "| operator | OpInfos |", "|---|---|"]
    for k, names in sorted(needs.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        lines.append(f"| `{k}` | {_cell(', '.join(sorted(names)))} |")
    if not needs:
        lines.append("| (none) | |")

    lines += ["", "## Not applicable OpInfos", "",
              "OpInfos none of whose samples is applicable at any dtype, with the reason "
              "(the operators missing from ops.def, or why the exporter rejects them).", "",
              "| OpInfo | samples | reason |", "|---|---:|---|"]
    for name in rep.opinfos:
        rs = by_op.get(name, [])
        if not rs or any(r["status"] != "na" for r in rs):
            continue
        ops_needed = sorted({k for r in rs for k in r.get("needs", [])})
        other = collections.Counter(r["detail"] if r["class"] != "needs" else "" for r in rs)
        reasons = []
        if ops_needed:
            reasons.append("needs " + ", ".join(f"`{k}`" for k in ops_needed))
        for d, n in other.most_common(2):
            if d:
                reasons.append(d[:200])
        lines.append(f"| {name} | {len(rs)} | {_cell('; '.join(reasons))} |")

    errs = collections.defaultdict(set)
    for r in rep.results:
        if r["status"] == "fail" and r["class"].startswith("exporter"):
            errs[r["detail"][:200]].add(r["op"])
    if errs:
        lines += ["", "## Exporter errors", "",
                  "Failed samples whose export raised an exception inside edgetorch's own "
                  "exporter code: a deliberate refusal (\"exporter rejects\": the exporter "
                  "cannot express what torch.export accepted) or an unexpected exception "
                  "(\"exporter error\": probably a bug).", "",
                  "| error | OpInfos |", "|---|---|"]
        for d, names in sorted(errs.items(), key=lambda kv: -len(kv[1])):
            lines.append(f"| {_cell(d)} | {_cell(', '.join(sorted(names)))} |")

    lib_path = REPO / "kernels" / "portable" / "ops.def"
    if lib_path.is_file():
        pat = re.compile(r'^\s*ET_OP\(\s*"([^"]+)"')
        library = [m.group(1) for m in map(pat.match, lib_path.read_text().splitlines()) if m]
        reached = {k for r in rep.results for k in (r.get("kernels") or [])}
        passing = {k for r in rep.results if r["status"] == "pass" for k in r.get("kernels") or []}
        unreached = [k for k in library if k not in reached]
        lines += ["", "## Operators of ops.def that no sample reaches", "",
                  f"{len(library) - len(unreached)} of the {len(library)} operators in "
                  f"kernels/portable/ops.def are called by some exported sample "
                  f"({len(passing & set(library))} by a passing one). The exporter never calls "
                  "these for an OpInfo sample (torch's core ATen decompositions lower the "
                  "operator to others, the operator is a prim op of dynamic shapes, or no "
                  "OpInfo produces it); tests/python/test_upstream_one_op.py and the C kernel "
                  "tests cover some of them:", "",
                  ", ".join(f"`{k}`" for k in unreached) or "(none)"]

    partial = []
    for name in rep.opinfos:
        rs = by_op.get(name, [])
        na = [r for r in rs if r["status"] == "na"]
        if na and len(na) < len(rs):
            why = collections.Counter(
                ("needs " + ", ".join(r.get("needs", []))) if r["class"] == "needs"
                else r["class"] for r in na)
            partial.append(f"| {name} | {len(na)} of {len(rs)} | "
                           f"{_cell('; '.join(f'{w} ({n})' for w, n in why.most_common(3)))} |")
    if partial:
        lines += ["", "## Partly applicable OpInfos", "",
                  "OpInfos with some samples not applicable (other dtypes or arguments lower "
                  "differently).", "", "| OpInfo | n/a | reasons |", "|---|---|---|"] + partial
    return "\n".join(lines) + "\n"


def print_failures(rep: Report, limit: int = 200, out: Any = None) -> None:
    out = out or sys.stdout
    fs = rep.failures()
    for r in fs[:limit]:
        print(f"FAIL {r['op']} [{r['dtype']} #{r['sample']}] {r['class']}: {r['detail']}\n"
              f"     input: {r['input']}", file=out)
    if len(fs) > limit:
        print(f"... and {len(fs) - limit} more failures", file=out)


def summary_line(rep: Report) -> str:
    return (f"coverage {rep.count('pass')} of {rep.tried} tried pass ({rep.coverage:.1f}%); "
            f"pass rate {_rate(rep.pass_rate)} of {rep.applicable} applicable "
            f"({rep.count('fail')} fail, {len(rep.crashes())} crashes, "
            f"{rep.count('shape-only')} shape-only, {rep.count('na')} n/a) over "
            f"{len(rep.opinfos)} OpInfos in {rep.seconds:.0f}s ({rep.exported} exported, "
            f"{rep.cached} cached)")


# ---------------------------------------------------------------------------
# the baseline of expected outcomes


def sample_id(r: Dict[str, Any]) -> str:
    """A sample's identity across runs: OpInfo, dtype and its index among the
    samples the OpInfo generates (the same sample in the subset and the full
    run)."""
    where = r["gen"] if "gen" in r else f"#{r['sample']}"
    return f"{r['op']}|{r['dtype']}|{where}"


def outcome(r: Dict[str, Any]) -> str:
    """"pass", "shape-only", or "<status>: <class>" ("fail: wrong values",
    "na: needs", ...)."""
    if r["status"] in ("pass", "shape-only"):
        return r["status"]
    return f"{r['status']}: {r['class']}"


def is_full(opts: Options) -> bool:
    """A run of every OpInfo, dtype and sample the full run has."""
    return (opts.ops is None and list(opts.dtypes) == list(DTYPES)
            and opts.max_samples == MAX_SAMPLES and opts.max_samples_other == MAX_SAMPLES_OTHER
            and opts.gen_limit == GEN_LIMIT)


def read_baseline(path: Path = BASELINE) -> Dict[str, str]:
    if not path.is_file():
        return {}
    return dict(json.loads(path.read_text())["outcomes"])


def baseline_changes(rep: Report, base: Dict[str, str], full: bool) -> List[str]:
    """One line per sample whose outcome differs from the baseline (for a
    full run, also baseline samples the run no longer has)."""
    out, seen = [], set()
    by_id = {}
    for r in rep.results:
        sid = sample_id(r)
        seen.add(sid)
        by_id[sid] = r
        was, now = base.get(sid), outcome(r)
        if was != now:
            why = "" if now in ("pass", "shape-only") else f" ({r['detail'][:160]})"
            out.append(f"{sid}: {was or 'not in the baseline'} -> {now}{why}")
    if full:
        out += [f"{sid}: {was} -> not run" for sid, was in sorted(base.items())
                if sid not in seen]
    return out


def write_baseline(rep: Report, full: bool, path: Path = BASELINE) -> int:
    """Record this run's outcomes: the whole baseline for a full run, else
    merged into it. Returns the number of entries changed."""
    base = {} if full else read_baseline(path)
    old = read_baseline(path)
    for r in rep.results:
        base[sample_id(r)] = outcome(r)
    changed = sum(1 for k in set(base) | set(old) if base.get(k) != old.get(k))
    doc = {"about": "Expected outcome of every conformance sample (tests/conformance/run.py: "
                    "pass, shape-only, fail: <class>, na: <class>), keyed by "
                    "OpInfo|dtype|index of the generated sample. make conformance and make "
                    "test (the subset) fail when a sample's outcome differs; update with "
                    "tests/conformance/run.py --update-baseline (make conformance-baseline) "
                    "and commit it with the change.",
           "torch": rep.options.get("torch"),
           "outcomes": dict(sorted(base.items()))}
    text = json.dumps(doc, indent=0, sort_keys=False)
    _atomic(path, (text + "\n").encode())
    return changed


def baseline_failure_message(changes: List[str], subset: bool, limit: int = 200,
                              path: Path = BASELINE) -> str:
    how = ("python tests/conformance/run.py --subset --update-baseline" if subset
           else "make conformance-baseline  (python tests/conformance/run.py --update-baseline "
                "with this run's other arguments)")
    shown = changes[:limit] + ([f"... and {len(changes) - limit} more"]
                               if len(changes) > limit else [])
    rel = path.relative_to(REPO) if path.is_relative_to(REPO) else path
    return (f"{len(changes)} conformance samples changed outcome against {rel} "
            f"(sample: baseline -> now):\n  " + "\n  ".join(shown) +
            f"\nIf the changes are intended (a fix, a new kernel), record them with\n  {how}\n"
            f"and commit {rel} in the same commit.")


def subset_options(**kw: Any) -> Options:
    """The options of the make-test subset."""
    return Options(ops=list(SUBSET_OPS), dtypes=SUBSET_DTYPES, max_samples=2,
                   max_samples_other=1, **kw)


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("--ops", help="comma-separated OpInfo names or fnmatch patterns "
                    "(default: every OpInfo)")
    ap.add_argument("--dtypes", default=",".join(DTYPES),
                    help="comma-separated dtypes (default: all ten)")
    ap.add_argument("--max-samples", type=int, default=MAX_SAMPLES,
                    help=f"samples per (OpInfo, float32) (default {MAX_SAMPLES})")
    ap.add_argument("--max-samples-other", type=int, default=MAX_SAMPLES_OTHER,
                    help=f"samples per (OpInfo, other dtype) (default {MAX_SAMPLES_OTHER})")
    ap.add_argument("--gen-limit", type=int, default=GEN_LIMIT,
                    help=f"samples generated to choose from (default {GEN_LIMIT})")
    ap.add_argument("--json", type=Path, default=REPO / "build" / "conformance" / "results.json")
    ap.add_argument("--md", type=Path, default=None,
                    help="markdown summary (default docs/conformance.md for a full run)")
    ap.add_argument("--no-md", action="store_true", help="write no markdown summary")
    ap.add_argument("--cache-dir", type=Path, default=REPO / "build" / "conformance-cache")
    ap.add_argument("--no-cache", action="store_true", help="export everything afresh")
    ap.add_argument("--timeout", type=float, default=TIMEOUT,
                    help=f"seconds per program on the runtime (default {TIMEOUT:g})")
    ap.add_argument("--verify-batching", type=int, default=0, metavar="K",
                    help="export K batch-exported samples again through edgetorch.export "
                    "and require identical bytes")
    ap.add_argument("--batch-cases", type=int, default=BATCH_CASES,
                    help=f"uncached samples exported together (default {BATCH_CASES})")
    ap.add_argument("--min-pass-rate", type=float, default=None,
                    help="exit 1 when the pass rate is below this percentage")
    ap.add_argument("--show-failures", type=int, default=50, metavar="N",
                    help="print the first N failures (default 50)")
    ap.add_argument("--subset", action="store_true",
                    help="the fast slice make test runs (tests/python/test_conformance_subset.py)")
    ap.add_argument("--check-baseline", action="store_true",
                    help="exit 1 when a sample's outcome differs from the baseline")
    ap.add_argument("--update-baseline", action="store_true",
                    help="write this run's outcomes into the baseline (all of it for a full run)")
    ap.add_argument("--baseline", type=Path, default=BASELINE,
                    help="the baseline file (default tests/conformance/baseline.json)")
    ap.add_argument("--render", type=Path, metavar="JSON",
                    help="run nothing: write the markdown summary of an earlier run's JSON")
    ap.add_argument("-q", "--quiet", action="store_true")
    a = ap.parse_args(argv)
    if a.render:
        rep = read_json(a.render)
        md = a.md or REPO / "docs" / "conformance.md"
        _atomic(md, markdown(rep).encode())
        print(f"conformance: {summary_line(rep)}\nsummary: {md}")
        return 0
    for d in a.dtypes.split(","):
        if d not in DTYPES:
            ap.error(f"unknown dtype {d!r} (choose from {', '.join(DTYPES)})")
    common = dict(gen_limit=a.gen_limit, cache_dir=None if a.no_cache else a.cache_dir,
                  timeout=a.timeout, verify_batching=a.verify_batching,
                  batch_cases=a.batch_cases, quiet=a.quiet)
    if a.subset:
        opts = subset_options(**common)
    else:
        opts = Options(ops=a.ops.split(",") if a.ops else None, dtypes=a.dtypes.split(","),
                       max_samples=a.max_samples, max_samples_other=a.max_samples_other,
                       **common)
    rep = run(opts)
    write_json(rep, a.json)
    md = a.md
    if md is None and not a.no_md and opts.ops is None:
        md = REPO / "docs" / "conformance.md"
    if md is not None and not a.no_md:
        md.parent.mkdir(parents=True, exist_ok=True)
        _atomic(md, markdown(rep).encode())
    print_failures(rep, a.show_failures)
    for v in rep.verify:
        print(f"verify-batching {v}")
    print(f"conformance: {summary_line(rep)}")
    print(f"results: {a.json}" + (f"; summary: {md}" if md is not None and not a.no_md else ""))
    rc = 0
    if any(v.startswith("DIFFERENT") for v in rep.verify):
        print("verify-batching: batch and single exports differ", file=sys.stderr)
        rc = 1
    if a.min_pass_rate is not None and rep.pass_rate < a.min_pass_rate:
        print(f"pass rate {_rate(rep.pass_rate)} is below {a.min_pass_rate}%", file=sys.stderr)
        rc = 1
    full = is_full(opts)
    if a.update_baseline:
        n = write_baseline(rep, full, a.baseline)
        print(f"baseline: {n} outcomes changed in {a.baseline}"
              + ("" if full else " (merged: a partial run)"))
    elif a.check_baseline:
        changes = baseline_changes(rep, read_baseline(a.baseline), full)
        if changes:
            print(baseline_failure_message(changes, subset=a.subset, path=a.baseline),
                  file=sys.stderr)
            rc = 1
        else:
            print(f"baseline: every one of {rep.tried} samples has its expected outcome")
    return rc


if __name__ == "__main__":
    sys.exit(main())
