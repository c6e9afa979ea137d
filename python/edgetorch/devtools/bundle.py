"""Bundled programs (`.bpte`): a program plus test vectors per method.

Upstream's format (devtools/bundled_program/schema/bundled_program_schema.fbs,
identifier "BP08", schema version 2): ``BundledProgram{version,
method_test_suites: [BundledMethodTestSuite{method_name, test_cases:
[BundledMethodTestCase{inputs: [Value], expected_outputs: [Value]}]}],
program: [ubyte] (the whole .pte, 32-byte aligned)}``.

``bundle(program, {"forward": [((x,), (y,)), ...]})`` returns the bytes;
``read_bundle(data)`` parses one; ``verify(data, rtol, atol)`` runs every test
case on the C runtime and reports the worst error per output.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, ClassVar, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from edgetorch.pte import flatbuffer as fb
from edgetorch.pte.schema import UnionSpec

BUNDLED_PROGRAM_IDENTIFIER = b"BP08"
BUNDLED_PROGRAM_SCHEMA_VERSION = 2

# ScalarType <-> numpy (the dtypes a test vector may hold).
_TO_NP = {0: np.uint8, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.int64,
          5: np.float16, 6: np.float32, 7: np.float64, 11: np.bool_}
_FROM_NP = {np.dtype(v): k for k, v in _TO_NP.items()}


@dataclass
class BPTensor:
    scalar_type: int = 6
    sizes: List[int] = field(default_factory=list)
    data: bytes = b""
    dim_order: List[int] = field(default_factory=list)
    _fb: ClassVar = [("scalar_type", 0, "i8"), ("sizes", 1, ("vec", "i32")),
                     ("data", 2, ("bytes", 16)), ("dim_order", 3, ("vec", "u8"))]


@dataclass
class BPInt:
    int_val: int = 0
    _fb: ClassVar = [("int_val", 0, "i64")]


@dataclass
class BPBool:
    bool_val: bool = False
    _fb: ClassVar = [("bool_val", 0, "bool")]


@dataclass
class BPDouble:
    double_val: float = 0.0
    _fb: ClassVar = [("double_val", 0, "f64")]


ValueUnion = UnionSpec("ValueUnion", [BPTensor, BPInt, BPBool, BPDouble])


@dataclass
class BPValue:
    val: Any = None
    _fb: ClassVar = [("val", 0, ("union", ValueUnion))]


@dataclass
class BPTestCase:
    inputs: List[BPValue] = field(default_factory=list)
    expected_outputs: List[BPValue] = field(default_factory=list)
    _fb: ClassVar = [("inputs", 0, ("vec", ("table", BPValue))),
                     ("expected_outputs", 1, ("vec", ("table", BPValue)))]


@dataclass
class BPTestSuite:
    method_name: str = ""
    test_cases: List[BPTestCase] = field(default_factory=list)
    _fb: ClassVar = [("method_name", 0, "str"),
                     ("test_cases", 1, ("vec", ("table", BPTestCase)))]


@dataclass
class BundledProgram:
    version: int = BUNDLED_PROGRAM_SCHEMA_VERSION
    method_test_suites: List[BPTestSuite] = field(default_factory=list)
    program: bytes = b""
    _fb: ClassVar = [("version", 0, "u32"),
                     ("method_test_suites", 1, ("vec", ("table", BPTestSuite))),
                     ("program", 2, ("bytes", 32))]


def _value(x: Any) -> BPValue:
    if isinstance(x, bool):
        return BPValue(BPBool(x))
    if isinstance(x, int):
        return BPValue(BPInt(x))
    if isinstance(x, float):
        return BPValue(BPDouble(x))
    if hasattr(x, "detach"):
        x = x.detach().cpu().contiguous().numpy()
    a = np.ascontiguousarray(np.asarray(x))
    if a.dtype not in _FROM_NP:
        raise TypeError(f"a bundled tensor cannot be {a.dtype}")
    return BPValue(BPTensor(scalar_type=_FROM_NP[a.dtype], sizes=list(a.shape),
                            data=a.tobytes(), dim_order=list(range(a.ndim))))


def _seq(x: Any) -> Sequence[Any]:
    return x if isinstance(x, (list, tuple)) else (x,)


def bundle(program: Any, test_cases: Mapping[str, Sequence[Tuple[Any, Any]]],
           path: Optional[Union[str, "os.PathLike[str]"]] = None) -> bytes:
    """The `.bpte` bytes of ``program`` (a PteProgram or .pte bytes) with
    ``test_cases[method] = [(inputs, expected_outputs), ...]``; written to
    ``path`` too if given."""
    pte = bytes(program.buffer if hasattr(program, "buffer") else program)
    suites = []
    for method in sorted(test_cases):
        cases = [BPTestCase([_value(v) for v in _seq(inp)],
                            [_value(v) for v in _seq(exp)])
                 for inp, exp in test_cases[method]]
        suites.append(BPTestSuite(method, cases))
    data = fb.encode(BundledProgram(BUNDLED_PROGRAM_SCHEMA_VERSION, suites, pte),
                     BUNDLED_PROGRAM_IDENTIFIER)
    if path is not None:
        with open(path, "wb") as f:
            f.write(data)
    return data


def _to_python(v: BPValue) -> Any:
    x = v.val
    if isinstance(x, BPTensor):
        dt = _TO_NP.get(x.scalar_type)
        if dt is None:
            raise fb.FlatbufferError(f"bundled tensor of unsupported scalar type {x.scalar_type}")
        n = int(np.prod(x.sizes)) if x.sizes else 1
        need = n * np.dtype(dt).itemsize
        if len(x.data) != need:
            raise fb.FlatbufferError(f"bundled tensor has {len(x.data)} bytes, sizes "
                                     f"{x.sizes} need {need}")
        return np.frombuffer(bytes(x.data), dtype=dt).reshape(x.sizes).copy()
    if isinstance(x, BPInt):
        return int(x.int_val)
    if isinstance(x, BPBool):
        return bool(x.bool_val)
    if isinstance(x, BPDouble):
        return float(x.double_val)
    raise fb.FlatbufferError("bundled value has no payload")


def read_bundle(data: bytes) -> Tuple[bytes, Dict[str, List[Tuple[List[Any], List[Any]]]]]:
    """(program bytes, {method: [(inputs, expected_outputs)]}) of a `.bpte`."""
    bp = fb.decode(bytes(data), BundledProgram, BUNDLED_PROGRAM_IDENTIFIER)
    cases = {s.method_name: [([_to_python(v) for v in c.inputs],
                              [_to_python(v) for v in c.expected_outputs])
                             for c in s.test_cases]
             for s in bp.method_test_suites}
    return bytes(bp.program), cases


@dataclass
class CaseResult:
    method: str
    case: int
    ok: bool
    outputs: List[Tuple[bool, float, float, str]]  # (ok, max abs, max rel, why)


@dataclass
class BundleReport:
    rtol: float
    atol: float
    cases: List[CaseResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.cases)

    def text(self) -> str:
        lines = [f"rtol {self.rtol:g}, atol {self.atol:g}"]
        for c in self.cases:
            lines.append(f"{c.method} case {c.case}: {'PASS' if c.ok else 'FAIL'}")
            for i, (ok, ma, mr, why) in enumerate(c.outputs):
                lines.append(f"  output {i}: " + (f"FAIL: {why}" if why else
                             f"{'ok' if ok else 'FAIL'}, max abs error {ma:.3g}, "
                             f"max rel error {mr:.3g}"))
        n_ok = sum(c.ok for c in self.cases)
        lines.append(f"{n_ok} passed, {len(self.cases) - n_ok} failed")
        return "\n".join(lines)


def verify(data: bytes, rtol: float = 1e-5, atol: float = 1e-8) -> BundleReport:
    """Run every test case of a `.bpte` on the C runtime (upstream's
    allclose rule: |got - want| <= atol + rtol * |want|)."""
    from edgetorch.runtime import load_program

    program, suites = read_bundle(data)
    prog = load_program(program)
    rep = BundleReport(rtol, atol)
    for method, cases in suites.items():
        m = prog.load_method(method)
        for k, (inputs, expected) in enumerate(cases):
            got = m.execute(inputs)
            outs = []
            for g, w in zip(got, expected):
                g, w = np.asarray(g), np.asarray(w)
                if g.shape != w.shape or g.dtype != w.dtype:
                    outs.append((False, 0.0, 0.0, f"got {g.dtype}{list(g.shape)}, expected "
                                 f"{w.dtype}{list(w.shape)}"))
                    continue
                g64, w64 = g.astype(np.float64), w.astype(np.float64)
                diff = np.abs(g64 - w64)
                both_nan = np.isnan(g64) & np.isnan(w64)
                diff[both_nan] = 0
                ma = float(diff.max()) if diff.size else 0.0
                with np.errstate(divide="ignore", invalid="ignore"):
                    rel = np.where(w64 != 0, diff / np.abs(w64), np.where(diff > 0, np.inf, 0))
                mr = float(rel.max()) if rel.size else 0.0
                ok = bool(np.all(diff <= atol + rtol * np.abs(w64)))
                outs.append((ok, ma, mr, ""))
            if len(got) != len(expected):
                outs.append((False, 0.0, 0.0, f"{len(got)} outputs, expected {len(expected)}"))
            rep.cases.append(CaseResult(method, k, all(o[0] for o in outs), outs))
    return rep
