"""Every operator of upstream ExecuTorch's portable library is registered here.

The upstream list is vendored in tests/conformance/upstream_portable_ops.txt
(functions.yaml of the pinned executorch wheel plus upstream's prim ops);
the test fails naming each operator that kernels/portable/ops.def lacks, and
each one the built runtime (edgetorch.runtime.kernel_names()) does not
register. A second test keeps the vendored list honest against the
functions.yaml installed with executorch.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import List, Set

REPO = Path(__file__).resolve().parents[2]
UPSTREAM_LIST = REPO / "tests" / "conformance" / "upstream_portable_ops.txt"
OPS_DEF = REPO / "kernels" / "portable" / "ops.def"

_ET_OP = re.compile(r'^\s*ET_OP\(\s*"([^"]+)"')


def upstream_ops() -> List[str]:
    names = []
    for line in UPSTREAM_LIST.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            names.append(line)
    return names


def ops_def_names() -> Set[str]:
    return {m.group(1) for m in map(_ET_OP.match, OPS_DEF.read_text().splitlines()) if m}


def _report(title: str, missing: List[str], total: int) -> str:
    lines = [f"{len(missing)} of {total} upstream portable operators {title}:"]
    lines += [f"  {n}" for n in missing]
    return "\n".join(lines)


def test_vendored_list_shape():
    names = upstream_ops()
    assert len(names) == len(set(names)), "duplicates in upstream_portable_ops.txt"
    # 209 functions.yaml entries + 28 prim ops (executorch 1.5.1)
    assert len(names) == 237, len(names)
    for n in names:
        assert re.fullmatch(r"[a-z_]+::[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)?", n), n


def test_every_upstream_operator_is_in_ops_def():
    names = upstream_ops()
    have = ops_def_names()
    missing = sorted(n for n in names if n not in have)
    print(_report("are missing from kernels/portable/ops.def", missing, len(names))
          if missing else f"all {len(names)} upstream portable operators are in ops.def")
    assert not missing, _report("are missing from kernels/portable/ops.def", missing, len(names))


def test_every_upstream_operator_is_registered_in_the_runtime():
    """The built runtime (the Python binding's library) resolves them all."""
    import edgetorch.runtime as rt

    names = upstream_ops()
    have = set(rt.kernel_names())
    missing = sorted(n for n in names if n not in have)
    assert not missing, _report("are not registered in the built runtime "
                                "(rebuild: pip install -e .)", missing, len(names))


def test_vendored_list_matches_installed_functions_yaml():
    """The functions.yaml part equals the file shipped with executorch."""
    import importlib.util

    spec = importlib.util.find_spec("executorch")
    assert spec is not None and spec.submodule_search_locations, \
        "executorch (a test dependency) is not installed"
    root = Path(list(spec.submodule_search_locations)[0])
    yaml_path = root / "kernels" / "portable" / "functions.yaml"
    assert yaml_path.is_file(), f"{yaml_path} not found"
    shipped = set()
    for line in yaml_path.read_text().splitlines():
        m = re.match(r"^- (?:op|func):\s*([^\s(]+)", line)
        if m:
            name = m.group(1)
            shipped.add(name if "::" in name else f"aten::{name}")
    vendored = set(upstream_ops())
    prims = {n for n in vendored if n.startswith("executorch_prim::")} | {
        "aten::_local_scalar_dense", "aten::sym_numel", "aten::sym_size.int"}
    assert len(shipped) == 209, len(shipped)
    assert sorted(shipped - vendored) == [], "functions.yaml entries not vendored"
    assert sorted(vendored - shipped - prims) == [], "vendored entries not in functions.yaml"
