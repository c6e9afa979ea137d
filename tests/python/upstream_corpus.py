"""The acceptance corpus: programs exported by upstream ExecuTorch.

Every program here is exported with upstream's own exporter
(`executorch.exir.to_edge(...).to_executorch()`, portable operators, default
configuration unless the entry says otherwise) so that it is the format
oracle, and is saved with deterministic inputs and the outputs of PyTorch
eager on those inputs (the numerical oracle).

Layout of a built corpus directory::

    manifest.json
    <program>/model.pte
    <program>/<method>/call<C>/inputs_<K>.npy     (K-th input of call C)
    <program>/<method>/call<C>/expected_<K>.npy   (K-th eager output)

Calls of one program are listed in order in the manifest. For a stateful
program the calls form a sequence that must run on one loaded method, in
order; for the others every call is independent. A stateful program may also
carry a "repeat" entry: the same inputs executed `iterations` times in one
process, with the eager outputs of the last execution (what
`edgetorch-run --iterations N` reports).

Building needs torch and upstream executorch and takes a minute or two, so a
built corpus is cached in ``build/testdata/corpus-<hash>/`` where the hash
covers this file and the versions of torch and executorch. Tests get it
through the session fixture `corpus` (import it from this module) or
`corpus_dir()`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[2]

# Tolerances the acceptance tests use (float32).
RTOL = 1e-5
ATOL = 1e-6


# ---------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------


def _models():  # noqa: C901 - one place for every acceptance model
    import torch
    from torch import nn

    class MLP(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc1 = nn.Linear(16, 32)
            self.fc2 = nn.Linear(32, 32)
            self.fc3 = nn.Linear(32, 8)

        def forward(self, x):
            x = torch.relu(self.fc1(x))
            x = torch.relu(self.fc2(x))
            return self.fc3(x)

    class CNN(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(3, 8, kernel_size=3, padding=1)
            self.bn1 = nn.BatchNorm2d(8)
            self.conv2 = nn.Conv2d(8, 16, kernel_size=3, stride=1, padding=1)
            self.bn2 = nn.BatchNorm2d(16)
            self.pool = nn.MaxPool2d(2)
            self.gap = nn.AdaptiveAvgPool2d((1, 1))
            self.flatten = nn.Flatten()
            self.fc = nn.Linear(16, 10)

        def forward(self, x):
            x = self.pool(torch.relu(self.bn1(self.conv1(x))))
            x = self.pool(torch.relu(self.bn2(self.conv2(x))))
            x = self.gap(x)
            return self.fc(self.flatten(x))

    class Transformer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layer = nn.TransformerEncoderLayer(
                d_model=32,
                nhead=4,
                dim_feedforward=64,
                dropout=0.0,
                activation="gelu",
                batch_first=True,
            )

        def forward(self, x):
            return self.layer(x)

    class Forward(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.scale = nn.Parameter(torch.linspace(-1.0, 1.0, 12).reshape(3, 4))

        def forward(self, x, y):
            return x * self.scale + y

    class Other(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = nn.Parameter(torch.linspace(-0.5, 0.5, 20).reshape(4, 5))

        def forward(self, x):
            h = torch.matmul(x, self.w)
            return h, torch.tanh(h).sum(dim=1)

    class Counter(nn.Module):
        """A buffer that accumulates every input (state starts at zero)."""

        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("acc", torch.zeros(2, 4))

        def forward(self, x):
            self.acc.add_(x)
            return self.acc * 2.0 + 1.0

    class CounterInit(nn.Module):
        """Like Counter, but the buffer's initial state is stored in the file."""

        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("state", torch.arange(8, dtype=torch.float32).reshape(2, 4) / 4)

        def forward(self, x):
            self.state.mul_(0.5)
            self.state.add_(x)
            return self.state - 0.25

    class Dynamic(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(16, 8)

        def forward(self, x):
            h = torch.relu(self.fc(x))
            return h * 2.0 + x[:, :8]

    class Cond(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bias = nn.Parameter(torch.linspace(0.0, 1.0, 6).reshape(2, 3))

        def forward(self, x):
            def true_fn(t):
                return torch.relu(t) * 2.0 + self.bias

            def false_fn(t):
                return torch.abs(t) - self.bias

            return torch.cond(x.sum() > 0, true_fn, false_fn, (x,))

    class OneSin(nn.Module):
        """What the one-delegate programs compute: sin(sin(x)) in the
        delegate, then a portable multiply by 2."""

        def forward(self, x):
            return torch.sin(torch.sin(x)) * 2.0

    class TwoSin(nn.Module):
        """What the two-delegate program computes: sin(sin(x)) * 2, a
        portable multiply between the delegates, then sin(sin(.)) again."""

        def forward(self, x):
            return torch.sin(torch.sin(torch.sin(torch.sin(x)) * 2.0))

    return {
        "OneSin": OneSin,
        "TwoSin": TwoSin,
        "MLP": MLP,
        "CNN": CNN,
        "Transformer": Transformer,
        "Forward": Forward,
        "Other": Other,
        "Counter": Counter,
        "CounterInit": CounterInit,
        "Dynamic": Dynamic,
        "Cond": Cond,
    }


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _f32(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.standard_normal(shape).astype(np.float32)


@dataclass
class _Spec:
    """How to build one program: modules per method, example inputs, calls."""

    name: str
    description: str
    # method name -> (module factory, example inputs, dynamic_shapes or None)
    methods: Callable[[], Dict[str, Any]]
    # list of (method, [np inputs]); evaluated on one eager module per method,
    # in order (so state carries over for stateful programs)
    calls: Callable[[], List[Any]]
    stateful: bool = False
    repeat_iterations: int = 0  # >0: add a "repeat" entry for the CLI
    init_buffers: Sequence[str] = ()
    tags: Sequence[str] = ()
    # Build the program another way than to_edge(...).to_executorch():
    # a function of the example inputs returning the .pte bytes.
    build: Optional[Callable[[Any], bytes]] = None


def _seed_module(factory: Callable[[], Any], seed: int):
    import torch

    torch.manual_seed(seed)
    m = factory()
    # Give batch norm non-trivial running statistics so eval mode matters.
    for mod in m.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            with torch.no_grad():
                n = mod.num_features
                mod.running_mean.copy_(torch.linspace(-0.5, 0.5, n))
                mod.running_var.copy_(torch.linspace(0.5, 2.0, n))
                mod.weight.copy_(torch.linspace(0.8, 1.2, n))
                mod.bias.copy_(torch.linspace(-0.1, 0.1, n))
    return m.eval()


def _specs() -> List[_Spec]:
    M = _models()

    def one(factory, seed, example, dynamic=None):
        return lambda: {"forward": (lambda: _seed_module(factory, seed), example, dynamic)}

    specs: List[_Spec] = []

    specs.append(
        _Spec(
            name="mlp",
            description="three linear layers with relu",
            methods=one(M["MLP"], 1, lambda: (_f32(_rng(100), 4, 16),)),
            calls=lambda: [("forward", [_f32(_rng(101), 4, 16)]), ("forward", [_f32(_rng(102), 4, 16)])],
            tags=("linear",),
        )
    )
    specs.append(
        _Spec(
            name="cnn",
            description="conv2d, batch norm (eval), relu, max pool, adaptive avg pool, flatten, linear",
            methods=one(M["CNN"], 2, lambda: (_f32(_rng(200), 2, 3, 16, 16),)),
            calls=lambda: [("forward", [_f32(_rng(201), 2, 3, 16, 16)])],
            tags=("conv",),
        )
    )
    specs.append(
        _Spec(
            name="transformer",
            description="nn.TransformerEncoderLayer (batch_first, eval, dropout 0, gelu)",
            methods=one(M["Transformer"], 3, lambda: (_f32(_rng(300), 2, 5, 32),)),
            calls=lambda: [("forward", [_f32(_rng(301), 2, 5, 32)])],
            tags=("attention",),
        )
    )
    specs.append(
        _Spec(
            name="two_methods",
            description="one program with methods 'forward' (2 inputs) and 'other' (2 outputs)",
            methods=lambda: {
                "forward": (lambda: _seed_module(M["Forward"], 4), lambda: (_f32(_rng(400), 3, 4), _f32(_rng(401), 3, 4)), None),
                "other": (lambda: _seed_module(M["Other"], 5), lambda: (_f32(_rng(402), 3, 4),), None),
            },
            calls=lambda: [
                ("forward", [_f32(_rng(410), 3, 4), _f32(_rng(411), 3, 4)]),
                ("other", [_f32(_rng(412), 3, 4)]),
            ],
            tags=("multi-method",),
        )
    )
    specs.append(
        _Spec(
            name="stateful",
            description="a buffer accumulating its inputs (mutable buffer, no initial state in the file)",
            methods=one(M["Counter"], 6, lambda: (_f32(_rng(600), 2, 4),)),
            calls=lambda: [("forward", [_f32(_rng(601 + i), 2, 4)]) for i in range(3)],
            stateful=True,
            repeat_iterations=3,
            tags=("mutable-buffer",),
        )
    )
    specs.append(
        _Spec(
            name="stateful_init",
            description="a mutable buffer whose initial state is in a mutable data segment",
            methods=one(M["CounterInit"], 7, lambda: (_f32(_rng(700), 2, 4),)),
            calls=lambda: [("forward", [_f32(_rng(701 + i), 2, 4)]) for i in range(3)],
            stateful=True,
            repeat_iterations=3,
            init_buffers=("state",),
            tags=("mutable-buffer", "mutable-segment"),
        )
    )

    def dynamic_methods():
        import torch

        batch = torch.export.Dim("batch", min=1, max=8)
        return {
            "forward": (
                lambda: _seed_module(M["Dynamic"], 8),
                lambda: (_f32(_rng(800), 3, 16),),
                {"x": {0: batch}},
            )
        }

    specs.append(
        _Spec(
            name="dynamic",
            description="a batch dimension bounded by torch.export.Dim(max=8), run at 1, 3, 8",
            methods=dynamic_methods,
            calls=lambda: [("forward", [_f32(_rng(801 + b), b, 16)]) for b in (1, 3, 8)],
            tags=("dynamic",),
        )
    )

    def cond_inputs():
        r = _rng(901)
        pos = np.abs(_f32(r, 2, 3)) + 0.1
        neg = -(np.abs(_f32(r, 2, 3)) + 0.1)
        return [("forward", [pos.astype(np.float32)]), ("forward", [neg.astype(np.float32)])]

    for name, n_delegates, inline in (("delegated", 1, False), ("delegated_inline", 1, True),
                                      ("two_delegates", 2, False)):
        factory = M["OneSin"] if n_delegates == 1 else M["TwoSin"]
        specs.append(
            _Spec(
                name=name,
                description=(f"{n_delegates} delegate(s) to upstream's test backend BackendWithCompilerDemo "
                             f"(payload {'inline in the flatbuffer' if inline else 'in a segment'}), "
                             "a portable multiply after each"),
                methods=one(factory, 10, lambda: (_f32(_rng(1000), 2, 3),)),
                calls=lambda: [("forward", [_f32(_rng(1001), 2, 3)])],
                tags=("delegate", "demo-backend"),
                build=lambda example, n=n_delegates, inline=inline: _demo_delegated(example, n, inline),
            )
        )

    specs.append(
        _Spec(
            name="cond",
            description="torch.cond on the sign of the input sum (one call per branch)",
            methods=one(M["Cond"], 9, lambda: (np.abs(_f32(_rng(900), 2, 3)) + 0.1,)),
            calls=cond_inputs,
            tags=("control-flow",),
        )
    )
    return specs


# ---------------------------------------------------------------------------
# Building
# ---------------------------------------------------------------------------


def _to_numpy_outputs(out) -> List[np.ndarray]:
    import torch

    if isinstance(out, torch.Tensor):
        out = (out,)
    return [o.detach().cpu().numpy().copy() for o in out]


def _demo_delegated(example, n_delegates: int, inline: bool) -> bytes:
    """sin(sin(x)) lowered to BackendWithCompilerDemo, times 2 on the
    portable kernels; with two delegates, the result lowered again."""
    import torch
    from executorch.exir import to_edge
    from executorch.exir._serialize._program import deserialize_pte_binary, serialize_pte_binary
    from executorch.exir.backend.backend_api import to_backend
    from executorch.exir.backend.test.backend_with_compiler_demo import BackendWithCompilerDemo  # noqa: F401

    class Sin2(torch.nn.Module):
        def forward(self, x):
            return torch.sin(torch.sin(x))

    class Outer(torch.nn.Module):
        def __init__(self, lowered):
            super().__init__()
            self.lowered = torch.nn.ModuleList(lowered)

        def forward(self, x):
            y = self.lowered[0](x) * 2.0
            for low in self.lowered[1:]:
                y = low(y)
            return y

    ex = tuple(torch.from_numpy(a) for a in example())
    lowered = [to_backend("BackendWithCompilerDemo", to_edge(torch.export.export(Sin2(), ex)).exported_program(), [])
               for _ in range(n_delegates)]
    buf = bytes(to_edge(torch.export.export(Outer(lowered), ex)).to_executorch().buffer)
    if inline:
        buf = bytes(serialize_pte_binary(deserialize_pte_binary(buf), extract_delegate_segments=False))
    return buf


def _export_program(spec: _Spec, modules: Dict[str, Any]) -> bytes:
    import torch
    from executorch.exir import ExecutorchBackendConfig, to_edge

    if spec.build is not None:
        (_, example, _), = modules.values()
        return spec.build(example)

    eps = {}
    for method, (module, example, dynamic) in modules.items():
        ex = tuple(torch.from_numpy(a) for a in example())
        eps[method] = torch.export.export(module, ex, dynamic_shapes=dynamic, strict=False)
    edge = to_edge(eps if len(eps) > 1 else next(iter(eps.values())))
    if spec.init_buffers:
        from executorch.exir.passes.init_mutable_pass import InitializedMutableBufferPass

        config = ExecutorchBackendConfig(passes=[InitializedMutableBufferPass(list(spec.init_buffers))])
        et = edge.to_executorch(config)
    else:
        et = edge.to_executorch()
    return bytes(et.buffer)


def _build_one(spec: _Spec, out_dir: Path) -> Dict[str, Any]:
    import torch

    prog_dir = out_dir / spec.name
    prog_dir.mkdir(parents=True)
    factories = spec.methods()
    # Export from fresh modules: export must not see state changed by eager.
    export_modules = {m: (f(), ex, dyn) for m, (f, ex, dyn) in factories.items()}
    pte = _export_program(spec, export_modules)
    (prog_dir / "model.pte").write_bytes(pte)

    # Eager reference: one fresh module per method, calls in order.
    eager = {m: f() for m, (f, _, _) in factories.items()}
    calls = []
    counters: Dict[str, int] = {}
    for method, inputs in spec.calls():
        c = counters.get(method, 0)
        counters[method] = c + 1
        rel = Path(spec.name) / method / f"call{c}"
        cdir = out_dir / rel
        cdir.mkdir(parents=True)
        for k, a in enumerate(inputs):
            np.save(cdir / f"inputs_{k}.npy", np.ascontiguousarray(a))
        # Grad stays enabled (as during export) so that modules such as
        # TransformerEncoderLayer take the same (non fast-path) math.
        outs = _to_numpy_outputs(eager[method](*[torch.from_numpy(a.copy()) for a in inputs]))
        for k, o in enumerate(outs):
            np.save(cdir / f"expected_{k}.npy", o)
        calls.append({"method": method, "dir": str(rel), "n_inputs": len(inputs), "n_outputs": len(outs)})

    entry: Dict[str, Any] = {
        "name": spec.name,
        "description": spec.description,
        "pte": f"{spec.name}/model.pte",
        "methods": sorted(factories),
        "stateful": spec.stateful,
        "tags": list(spec.tags),
        "calls": calls,
    }
    if spec.repeat_iterations:
        method, inputs = spec.calls()[0]
        module = factories[method][0]()
        for _ in range(spec.repeat_iterations):
            outs = _to_numpy_outputs(module(*[torch.from_numpy(a.copy()) for a in inputs]))
        rel = Path(spec.name) / method / "repeat"
        rdir = out_dir / rel
        rdir.mkdir(parents=True)
        for k, a in enumerate(inputs):
            np.save(rdir / f"inputs_{k}.npy", np.ascontiguousarray(a))
        for k, o in enumerate(outs):
            np.save(rdir / f"expected_{k}.npy", o)
        entry["repeat"] = {
            "method": method,
            "dir": str(rel),
            "iterations": spec.repeat_iterations,
            "n_inputs": len(inputs),
            "n_outputs": len(outs),
        }
    return entry


def build_corpus(out_dir) -> Path:
    """Export every acceptance program into `out_dir` (created; must not exist
    or be empty) and write manifest.json. Returns the directory."""
    import torch

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    entries = [_build_one(spec, out_dir) for spec in _specs()]
    manifest = {"source_hash": corpus_hash(), "programs": entries}
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return out_dir


# ---------------------------------------------------------------------------
# Cache and access
# ---------------------------------------------------------------------------


def source_hash(path: Path) -> str:
    """A cache key: the bytes of the file that builds the data, and the
    versions of torch and executorch that export it."""
    h = hashlib.sha256(Path(path).read_bytes())
    try:
        import importlib.metadata as md

        for pkg in ("torch", "executorch"):
            h.update(f"{pkg}={md.version(pkg)}".encode())
    except Exception:  # pragma: no cover - metadata missing
        pass
    return h.hexdigest()[:16]


def corpus_hash() -> str:
    return source_hash(Path(__file__))


def testdata_root() -> Path:
    env = os.environ.get("ET_TESTDATA_DIR")
    return Path(env) if env else REPO_ROOT / "build" / "testdata"


def cached_build(name: str, build: Callable[[Path], Any]) -> Path:
    """testdata_root()/name, made by build(tmp) into a temporary directory
    renamed into place once complete (so concurrent test processes never see
    half a directory; the first to finish wins)."""
    final = testdata_root() / name
    if not (final / "manifest.json").exists():
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{name}-tmp-", dir=final.parent))
        try:
            build(tmp)
            try:
                os.rename(tmp, final)
            except OSError:
                # Another process finished first; keep its copy.
                if not (final / "manifest.json").exists():
                    raise
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    return final


_CACHED: Optional[Path] = None


def corpus_dir() -> Path:
    """The built corpus directory, building it (once) if needed."""
    global _CACHED
    if _CACHED is None:
        _CACHED = cached_build(f"corpus-{corpus_hash()}", build_corpus)
    return _CACHED


@dataclass
class Call:
    method: str
    dir: Path
    inputs: List[Path]
    expected: List[Path]

    def load_inputs(self) -> List[np.ndarray]:
        return [np.load(p) for p in self.inputs]

    def load_expected(self) -> List[np.ndarray]:
        return [np.load(p) for p in self.expected]


@dataclass
class Program:
    name: str
    pte: Path
    methods: List[str]
    stateful: bool
    tags: List[str]
    calls: List[Call]
    repeat: Optional[Call] = None
    repeat_iterations: int = 0
    description: str = ""

    def calls_for(self, method: str) -> List[Call]:
        return [c for c in self.calls if c.method == method]


def _call(root: Path, d: Dict[str, Any]) -> Call:
    cdir = root / d["dir"]
    return Call(
        method=d["method"],
        dir=cdir,
        inputs=[cdir / f"inputs_{k}.npy" for k in range(d["n_inputs"])],
        expected=[cdir / f"expected_{k}.npy" for k in range(d["n_outputs"])],
    )


def load_corpus(root: Optional[Path] = None) -> Dict[str, Program]:
    root = Path(root) if root is not None else corpus_dir()
    manifest = json.loads((root / "manifest.json").read_text())
    progs: Dict[str, Program] = {}
    for e in manifest["programs"]:
        rep = e.get("repeat")
        progs[e["name"]] = Program(
            name=e["name"],
            pte=root / e["pte"],
            methods=list(e["methods"]),
            stateful=bool(e["stateful"]),
            tags=list(e["tags"]),
            calls=[_call(root, c) for c in e["calls"]],
            repeat=_call(root, rep) if rep else None,
            repeat_iterations=rep["iterations"] if rep else 0,
            description=e.get("description", ""),
        )
    return progs


def program_names() -> List[str]:
    """Names of the corpus programs, without building anything (for
    parametrizing tests at collection time)."""
    return [s.name for s in _specs()]


def assert_outputs_close(actual: Sequence[np.ndarray], expected: Sequence[np.ndarray], what: str = "") -> None:
    assert len(actual) == len(expected), f"{what}: {len(actual)} outputs, expected {len(expected)}"
    for k, (a, e) in enumerate(zip(actual, expected)):
        a = np.asarray(a)
        assert a.dtype == e.dtype, f"{what}: output {k} dtype {a.dtype}, expected {e.dtype}"
        assert a.shape == e.shape, f"{what}: output {k} shape {a.shape}, expected {e.shape}"
        np.testing.assert_allclose(a, e, rtol=RTOL, atol=ATOL, err_msg=f"{what}: output {k}")


try:  # the fixture is only defined when pytest is importable
    import pytest

    @pytest.fixture(scope="session")
    def corpus() -> Dict[str, Program]:
        """Session fixture: name -> Program of the built (cached) corpus."""
        return load_corpus()

except ImportError:  # pragma: no cover
    pass


if __name__ == "__main__":
    import sys

    out = build_corpus(sys.argv[1]) if len(sys.argv) > 1 else corpus_dir()
    print(out)
