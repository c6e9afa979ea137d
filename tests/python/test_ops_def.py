"""kernels/portable/ops.def against PyTorch's own operator schemas.

Every ET_OP line names an operator as upstream ExecuTorch registers it
("<namespace>::<name>.<overload>", or without ".<overload>" when the
overload is empty) and gives one signature letter per schema argument plus
one for the return slot (see runtime/include/edgetorch/kernel.h). Here the
letters are derived from torch's schema of the same operator
(torch.ops.<ns>.<name>.<overload>._schema) and compared, the table's order is
checked (binary search needs strcmp order), and every registered function is
checked to be defined in kernels/portable/op_*.c.

aten schemas come with torch; dim_order_ops and executorch_prim schemas are
registered by upstream executorch's exir passes when it is installed. Two
operators have no schema anywhere in Python and follow upstream's emitter
instead (three arguments, no return slot): executorch_prim::et_view.default
and executorch_prim::et_copy_index.tensor. executorch_prim::floordiv.int and
mod.int exist only in upstream's C++ prim-op table ("(int, int) -> int").
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import pytest

REPO = Path(__file__).resolve().parents[2]
OPS_DEF = REPO / "kernels" / "portable" / "ops.def"
PORTABLE = REPO / "kernels" / "portable"

ENTRY = re.compile(r'^ET_OP\("([^"]+)",\s*"([^"]*)",\s*([A-Za-z_][A-Za-z0-9_]*)\)\s*$')

# Operators whose argument list is fixed by upstream's emitter/C++ table
# rather than by a Python schema.
NO_SCHEMA = {
    "executorch_prim::et_view.default": "TLP",  # self, size, out (no return slot)
    "executorch_prim::et_copy_index.tensor": "WTI",  # copy_to, copy_from, index
    "executorch_prim::floordiv.int": "III",  # (int a, int b) -> int
    "executorch_prim::mod.int": "III",
}


def parse_ops_def(path: Path = OPS_DEF) -> List[Tuple[str, str, str]]:
    entries = []
    for lineno, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not line.startswith("ET_OP"):
            continue
        m = ENTRY.match(line)
        assert m, f"ops.def:{lineno}: malformed entry: {raw!r}"
        entries.append((m.group(1), m.group(2), m.group(3)))
    return entries


def _letter(t, optional: bool = False) -> str:
    """Signature letter of a TorchScript schema type (see kernel.h)."""
    kind = t.kind()
    if kind == "OptionalType":
        return _letter(t.getElementType(), optional=True)
    if kind == "TensorType":
        return "t" if optional else "T"
    if kind in ("IntType", "SymIntType"):  # ScalarType/MemoryFormat/Layout are ints too
        return "i" if optional else "I"
    if kind == "FloatType":
        return "d" if optional else "D"
    if kind in ("BoolType", "SymBoolType"):
        return "b" if optional else "B"
    if kind == "NumberType":  # Scalar
        return "s" if optional else "S"
    if kind == "StringType":
        return "z" if optional else "Z"
    if kind == "ListType":
        elem = t.getElementType()
        ek = elem.kind()
        if ek in ("IntType", "SymIntType"):
            return "l" if optional else "L"
        if ek == "FloatType":
            return "f" if optional else "F"
        if ek == "BoolType":
            assert not optional
            return "G"
        if ek == "TensorType":
            assert not optional
            return "V"
        if ek == "OptionalType" and elem.getElementType().kind() == "TensorType":
            return "O"
    raise AssertionError(f"no signature letter for schema type {t} ({kind})")


def _arg_letter(a) -> str:
    """A written tensor (`Tensor(a!)`: out arguments, in-place self, and the
    return slot of such ops) is 'W': the runtime refuses constants there."""
    letter = _letter(a.type)
    if letter == "T" and a.alias_info is not None and a.alias_info.is_write:
        return "W"
    return letter


def expected_signature(schema) -> str:
    sig = "".join(_arg_letter(a) for a in schema.arguments)
    rets = schema.returns
    if (len(rets) == 1 and schema.name.startswith("executorch_prim::")
            and _letter(rets[0].type) in ("S", "B")):
        # A scalar prim op stores its result as a value of the result's own
        # kind, replacing the slot (as upstream's runtime does; upstream's
        # exporter declares every such slot Int): the slot is any scalar.
        return sig + "S"
    if len(rets) == 1:
        sig += _arg_letter(rets[0])
    elif len(rets) > 1:
        assert all(r.type.kind() == "TensorType" for r in rets), schema
        sig += "V"  # several outputs: the return slot is a TensorList
    else:
        # "-> ()" out variants (split_with_sizes_copy.out, unbind_copy.int_out):
        # upstream's emitter repeats the written out argument as the return slot
        outs = [a for a in schema.arguments if a.alias_info is not None and a.alias_info.is_write]
        assert len(outs) == 1, f"{schema}: no return and no single out argument"
        sig += _arg_letter(outs[0])
    return sig


def _load_executorch_schemas() -> Optional[str]:
    """Register the dim_order_ops and executorch_prim schemas; returns an
    error string if upstream executorch is not importable."""
    try:
        import executorch.exir.passes.dim_order_ops_registry  # noqa: F401
        import executorch.exir.passes.executorch_prim_ops_registry  # noqa: F401
    except Exception as e:  # pragma: no cover - depends on the environment
        return f"{type(e).__name__}: {e}"
    return None


def find_schema(name: str):
    import torch

    ns, rest = name.split("::", 1)
    opname, _, overload = rest.partition(".")
    packet = getattr(getattr(torch.ops, ns), opname)
    op = getattr(packet, overload or "default")
    return op._schema


def test_entries_well_formed_and_sorted():
    entries = parse_ops_def()
    assert len(entries) >= 90
    names = [e[0] for e in entries]
    as_bytes = [n.encode() for n in names]
    assert as_bytes == sorted(as_bytes), "ops.def must be sorted in strcmp (byte) order"
    assert len(set(names)) == len(names), "duplicate operator names"
    fns = [e[2] for e in entries]
    # one function may serve one operator only
    assert len(set(fns)) == len(fns), "duplicate kernel functions"
    for name, sig, fn in entries:
        assert re.fullmatch(r"[a-z_]+::[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)?", name), name
        assert not name.endswith(".default") or name in NO_SCHEMA, (
            f"{name}: upstream registers overload-less names without '.default'"
        )
        assert re.fullmatch(r"[TtWPIiDdBbSsLlFfGVOZzN*]+", sig), (name, sig)
        assert fn.startswith("et_op_"), fn


def test_functions_defined_in_op_files():
    defined: Dict[str, Path] = {}
    for f in sorted(PORTABLE.glob("op_*.c")):
        for m in re.finditer(r"^et_status\s+(et_op_[A-Za-z0-9_]+)\s*\(", f.read_text(), re.M):
            assert m.group(1) not in defined, f"{m.group(1)} defined twice"
            defined[m.group(1)] = f
    listed = {fn for _, _, fn in parse_ops_def()}
    assert listed - set(defined) == set(), "listed in ops.def but not defined"
    assert set(defined) - listed == set(), "defined in op_*.c but not registered"


def test_signatures_match_torch_schemas():
    import torch  # noqa: F401  (the schemas' source: required)
    ext_err = _load_executorch_schemas()
    mismatches, unchecked = [], []
    for name, sig, _ in parse_ops_def():
        if name in NO_SCHEMA:
            assert sig == NO_SCHEMA[name], f"{name}: {sig} != {NO_SCHEMA[name]}"
            continue
        try:
            schema = find_schema(name)
        except (AttributeError, RuntimeError):
            unchecked.append(name)
            continue
        want = expected_signature(schema)
        if sig != want:
            mismatches.append(f"{name}: ops.def {sig!r}, schema {want!r} ({schema})")
    assert not mismatches, "\n".join(mismatches)
    # Every aten operator must have been checked; the others only when
    # upstream executorch (which registers their schemas) is importable.
    aten_unchecked = [n for n in unchecked if n.startswith("aten::")]
    assert not aten_unchecked, f"no torch schema for {aten_unchecked}"
    # upstream executorch is a required test oracle: not importable is a failure
    assert ext_err is None, f"executorch not importable ({ext_err}); unchecked: {unchecked}"
    assert not unchecked, f"no schema for {unchecked}"


def test_signature_letters_follow_kernel_h():
    """The letter mapping itself, on schemas with known answers."""
    import torch  # noqa: F401  (the schemas' source: required)
    assert expected_signature(find_schema("aten::add.out")) == "TTSWW"
    assert expected_signature(find_schema("aten::copy_")) == "WTBW"
    assert expected_signature(find_schema("aten::sum.IntList_out")) == "TlBiWW"
    assert expected_signature(find_schema("aten::native_layer_norm.out")) == "TLttDWWWV"
    assert expected_signature(find_schema("aten::cat.out")) == "VIWW"
    assert expected_signature(find_schema("aten::index.Tensor_out")) == "TOWW"
    assert expected_signature(find_schema("aten::gelu.out")) == "TZWW"
    assert expected_signature(find_schema("aten::sym_size.int")) == "TII"
    assert expected_signature(find_schema("aten::split_with_sizes_copy.out")) == "TLIVV"


def test_optimized_table_sorted_and_signatures_match_portable():
    """kernels/optimized/ops.def: sorted like the portable table, each entry
    an operator of the portable (or, for quantized_decomposed::, the
    quantized) table with the same signature (the optimized kernels fall
    back to those, so they take the same arguments)."""
    opt = parse_ops_def(REPO / "kernels" / "optimized" / "ops.def")
    assert opt, "the optimized table is empty"
    names = [n.encode() for n, _, _ in opt]
    assert names == sorted(names) and len(set(names)) == len(names)
    portable = {n: sig for n, sig, _ in parse_ops_def()}
    portable.update((n, sig) for n, sig, _ in
                    parse_ops_def(REPO / "kernels" / "quantized" / "ops.def")
                    if n.startswith("quantized_decomposed::"))
    for name, sig, fn in opt:
        assert name in portable, f"{name} has no portable kernel to fall back to"
        assert sig == portable[name], (name, sig, portable[name])
        assert fn.startswith("et_opt_"), fn
