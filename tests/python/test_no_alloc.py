"""The core runtime, the portable and optimized kernels and the CPU backend never allocate,
abort, print or start threads.

Inspects the undefined symbols of the object files in the built static
libraries: any reference to the heap, to abort/exit, to stdio or to threads
fails.
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

BUILD = Path(os.environ.get("ET_BUILD_DIR", Path(__file__).resolve().parents[2] / "build"))

FORBIDDEN = {
    # heap
    "malloc", "calloc", "realloc", "free", "aligned_alloc", "posix_memalign",
    "memalign", "valloc", "strdup", "strndup",
    # process control
    "abort", "exit", "_exit", "_Exit", "__assert_fail", "quick_exit", "atexit",
    # stdio
    "printf", "fprintf", "sprintf", "snprintf", "vprintf", "vfprintf",
    "vsprintf", "vsnprintf", "puts", "putchar", "fputs", "fputc", "putc",
    "fopen", "fclose", "fread", "fwrite", "fflush", "fseek", "ftell", "rewind",
    "perror", "getc", "fgetc", "fgets", "scanf", "sscanf", "fscanf", "stdin",
    "stdout", "stderr", "__printf_chk", "__fprintf_chk", "__sprintf_chk",
    "__snprintf_chk", "__vsnprintf_chk", "__vfprintf_chk", "__fread_chk",
    "_IO_putc", "_IO_getc",
    # threads and the scheduler: only extension/threadpool.c starts threads;
    # the rest sees them through the et_parallel hook
    "pthread_create", "pthread_join", "pthread_mutex_lock", "pthread_mutex_unlock",
    "pthread_cond_wait", "pthread_cond_signal", "pthread_cond_broadcast",
    "pthread_once", "pthread_self", "thrd_create", "mtx_lock", "cnd_wait",
    "sched_yield", "sched_getaffinity", "sysconf", "syscall", "usleep", "nanosleep",
}
# The core may use only these from libc.
CORE_ALLOWED = {"memcpy", "memmove", "memset", "memcmp", "memchr", "strcmp", "strlen"}


def undefined_symbols(lib: Path) -> dict[str, set[str]]:
    out = subprocess.run(["nm", "-u", "-A", str(lib)], check=True,
                         capture_output=True, text=True).stdout
    per_object: dict[str, set[str]] = {}
    for line in out.splitlines():
        where, _, sym = line.rpartition(" ")
        obj = where.split(":")[1] if ":" in where else where
        per_object.setdefault(obj, set()).add(sym.split("@")[0])
    return per_object


def library(name: str) -> Path:
    lib = BUILD / "lib" / f"lib{name}.a"
    if not lib.exists():
        pytest.fail(f"{lib} is missing: build first with `make build`")
    return lib


@pytest.mark.parametrize("name", ["edgetorch_core", "edgetorch_portable", "edgetorch_xnnpack",
                                  "edgetorch_optimized", "edgetorch_llm_kernels"])
def test_no_heap_no_abort_no_stdio(name: str) -> None:
    syms = undefined_symbols(library(name))
    assert syms, f"no object files found in lib{name}.a"
    bad = {obj: sorted(s & FORBIDDEN) for obj, s in syms.items() if s & FORBIDDEN}
    assert not bad, f"lib{name}.a references forbidden functions: {bad}"


def test_core_uses_only_string_functions() -> None:
    syms = undefined_symbols(library("edgetorch_core"))
    own = set()
    out = subprocess.run(["nm", "--defined-only", str(library("edgetorch_core"))],
                         check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3:
            own.add(parts[2])
    # The portable kernel table is the only symbol the core expects from a
    # kernel library, and only through the public registry type.
    external = {s for ss in syms.values() for s in ss} - own
    unexpected = external - CORE_ALLOWED
    assert not unexpected, f"core references {sorted(unexpected)}"


def test_detector_catches_a_malloc(tmp_path: Path) -> None:
    """The check itself must be able to fail."""
    src = tmp_path / "bad.c"
    src.write_text("#include <stdlib.h>\nvoid *f(void){return malloc(4);}\n")
    obj = tmp_path / "bad.o"
    subprocess.run(["cc", "-c", str(src), "-o", str(obj)], check=True)
    lib = tmp_path / "libbad.a"
    subprocess.run(["ar", "rcs", str(lib), str(obj)], check=True)
    syms = undefined_symbols(lib)
    assert any("malloc" in s for s in syms.values())


def test_detector_catches_a_thread(tmp_path: Path) -> None:
    """A kernel that started a thread would be caught too."""
    src = tmp_path / "bad.c"
    src.write_text("#include <pthread.h>\nstatic void *g(void *a){return a;}\n"
                   "int f(pthread_t *t){return pthread_create(t, 0, g, 0);}\n")
    obj = tmp_path / "bad.o"
    subprocess.run(["cc", "-c", str(src), "-o", str(obj)], check=True)
    lib = tmp_path / "libbad.a"
    subprocess.run(["ar", "rcs", str(lib), str(obj)], check=True)
    syms = undefined_symbols(lib)
    assert any(s & FORBIDDEN for s in syms.values()), syms
    # And the real pool, in the extension library, is seen using threads.
    ext = undefined_symbols(library("edgetorch_extension"))
    assert any("pthread_create" in s for obj, s in ext.items() if "threadpool" in obj), ext.keys()
