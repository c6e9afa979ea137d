"""Machine facts, package versions and runtime library sizes."""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional

REPO = Path(__file__).resolve().parent.parent


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def _version(mod: str) -> str:
    try:
        from importlib.metadata import version
        return version(mod)
    except Exception:
        return "absent"


def load_average() -> List[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def extension_stamp() -> Dict[str, Any]:
    """Which edgetorch runtime build this run used (path, size, mtime)."""
    try:
        from bench.runtimes import extension_path
        p = Path(extension_path())
        st = p.stat()
        return {"path": str(p), "bytes": st.st_size, "mtime": st.st_mtime}
    except Exception as e:
        return {"error": str(e)}


def machine() -> Dict[str, Any]:
    cpu = re.search(r"^model name\s*:\s*(.+)$", _read("/proc/cpuinfo"), re.M)
    mem = re.search(r"^MemTotal:\s*(\d+) kB", _read("/proc/meminfo"), re.M)
    flags = re.search(r"^flags\s*:\s*(.+)$", _read("/proc/cpuinfo"), re.M)
    simd = [f for f in ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512_vnni", "neon")
            if flags and f in flags.group(1).split()]
    try:
        commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except Exception:
        commit, dirty = "", ""
    return {
        "cpu": cpu.group(1).strip() if cpu else platform.processor(),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "simd": simd,
        "mem_gib": round(int(mem.group(1)) / 2**20, 1) if mem else None,
        "kernel": platform.release(),
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "git_commit": commit + ("+uncommitted" if dirty else ""),
        "versions": {m: _version(m) for m in ("torch", "executorch", "onnxruntime", "onnx",
                                              "onnxscript", "transformers", "numpy",
                                              "edgetorch")},
    }


def _stripped_size(path: Path) -> Optional[int]:
    strip = shutil.which("strip")
    if not strip:
        return None
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "s"
        r = subprocess.run([strip, "-s", "-o", str(out), str(path)], capture_output=True)
        return out.stat().st_size if r.returncode == 0 else None


def _ldd(path: Path) -> List[Path]:
    try:
        out = subprocess.run(["ldd", str(path)], capture_output=True, text=True,
                             timeout=20).stdout
    except Exception:
        return []
    libs = []
    for m in re.finditer(r"=>\s*(\S+)\s*\(", out):
        libs.append(Path(m.group(1)).resolve())
    return libs


def _entry(label: str, path: Optional[Path], note: str = "") -> Dict[str, Any]:
    if path is None or not path.exists():
        return {"label": label, "path": str(path) if path else None, "bytes": None,
                "stripped": None, "note": note or "not found"}
    return {"label": label, "path": str(path), "bytes": path.stat().st_size,
            "stripped": _stripped_size(path), "note": note}


def _site_libs(main: Path, site: Path) -> List[Path]:
    """Shared libraries `main` links that ship in the same site-packages."""
    return sorted({p for p in _ldd(main) if str(p).startswith(str(site))})


def library_sizes(et_build_dir: Path) -> List[Dict[str, Any]]:
    """The runtime library of each system, as it is linked on this machine."""
    import importlib.util
    rows: List[Dict[str, Any]] = []
    try:
        from bench.runtimes import extension_path
        ext: Optional[Path] = Path(extension_path())
    except Exception:
        ext = None
    rows.append(_entry("edgetorch: Python extension _runtime.so (runtime + kernels + binding)",
                       ext))
    cli = et_build_dir / "bin" / "edgetorch-run"
    rows.append(_entry("edgetorch: edgetorch-run (static C CLI, all portable kernels)", cli,
                       "" if cli.exists() else f"not built ({cli}; run `make build`)"))
    spec = importlib.util.find_spec("executorch")
    if spec and spec.submodule_search_locations:
        root = Path(list(spec.submodule_search_locations)[0])
        site = root.parent
        c_ext = next(iter(sorted((root / "extension" / "pybindings").glob("_C*.so"))), None)
        rows.append(_entry("upstream ET: pybindings _C.so (portable_lib)", c_ext))
        if c_ext:
            total = 0
            for lib in _site_libs(c_ext, site):
                if "executorch" in str(lib):
                    e = _entry(f"upstream ET: linked {lib.name}", lib)
                    total += e["bytes"] or 0
                    rows.append(e)
            rows.append({"label": "upstream ET: _C.so + linked ExecuTorch libraries",
                         "path": None, "bytes": total + (c_ext.stat().st_size),
                         "stripped": None,
                         "note": "the pybindings also link libtorch_cpu.so (for tensor "
                                 "conversion); not counted here"})
    spec = importlib.util.find_spec("onnxruntime")
    if spec and spec.submodule_search_locations:
        capi = Path(list(spec.submodule_search_locations)[0]) / "capi"
        py = next(iter(sorted(capi.glob("onnxruntime_pybind11_state*.so"))), None)
        rows.append(_entry("ONNX Runtime: onnxruntime_pybind11_state.so (Python binding, "
                           "whole runtime linked in)", py))
        lib = next(iter(sorted(capi.glob("libonnxruntime.so*"))), None)
        rows.append(_entry("ONNX Runtime: libonnxruntime.so (C API library, shipped "
                           "alongside; not loaded by the Python binding)", lib))
    spec = importlib.util.find_spec("torch")
    if spec and spec.submodule_search_locations:
        lib = Path(list(spec.submodule_search_locations)[0]) / "lib"
        rows.append(_entry("PyTorch: libtorch_cpu.so", lib / "libtorch_cpu.so"))
        rows.append(_entry("PyTorch: libtorch_python.so", lib / "libtorch_python.so"))
        rows.append(_entry("PyTorch: libc10.so", lib / "libc10.so"))
    return rows
