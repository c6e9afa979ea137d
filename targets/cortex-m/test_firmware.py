"""`make test-mcu`: edgetorch on a Cortex-M4 with no heap, under qemu.

For each model (the digits CNN and a keyword-spotting DS-CNN, float) the
test exports a `.pte`, writes the firmware's model.h on the host
(model_header.py: program in flash, static arena and planned buffers sized
from the method metadata, the selective kernel table), builds the firmware
with arm-none-eabi-gcc and picolibc (cmake/toolchain-cortex-m4.cmake),
checks that the link has no malloc, runs it on qemu-system-arm's MPS2 AN386
board (Cortex-M4F) and reads the outputs over semihosting. They must equal
PyTorch eager within float tolerance, and the host's edgetorch runtime on its
portable kernels bit for bit (the portable kernels are exact and compiled
without FP contraction on both).

Needs the Debian packages of tools/setup_cross.sh mcu (make test-mcu
installs them).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("ET_MCU_BUILD_DIR", ROOT / "build-mcu"))
MODELS = ("digits_cnn", "kws_dscnn")
QEMU_SECONDS = 300
# Kernel scratch (convolution unfolds its input there). The method metadata
# does not report a scratch size yet; without scratch the portable
# convolution takes its direct path, whose sums round differently (within
# float tolerance of eager, but not the host's bits).
SCRATCH = 32768


def _need(tool: str) -> str:
    path = shutil.which(tool)
    if not path:
        pytest.fail(f"{tool} not found: run `make test-mcu` (tools/setup_cross.sh mcu installs it)")
    return path


@pytest.fixture(scope="module")
def firmware():
    """Export every model, write its header, build all firmware once."""
    import edgetorch
    from edgetorch import models
    from edgetorch.runtime import load_program, set_optimized_kernels

    import sys
    sys.path.insert(0, str(Path(__file__).parent))
    from model_header import write_header

    _need("arm-none-eabi-gcc")
    gen = BUILD / "models"
    cases = {}
    for name in MODELS:
        model, (x,) = models.get(name)
        pte = edgetorch.export(model, (x,)).buffer
        with torch.no_grad():
            eager = model(x).numpy()
        # the firmware links the portable kernels alone: compare with those
        set_optimized_kernels(False)
        try:
            host = load_program(pte).load_method("forward").execute([x.numpy()])[0]
        finally:
            set_optimized_kernels(True)
        info = write_header(pte, x.numpy(), gen / name, scratch=SCRATCH)
        cases[name] = dict(x=x.numpy(), eager=eager, host=np.asarray(host), info=info,
                           ops=(gen / name / "selected_ops.txt").read_text().split())
    dirs = ";".join(str(gen / n) for n in MODELS)
    gen_flag = ["-G", "Ninja"] if shutil.which("ninja") else []
    subprocess.run(["cmake", "-S", str(ROOT / "targets" / "cortex-m"), "-B", str(BUILD), *gen_flag,
                    f"-DCMAKE_TOOLCHAIN_FILE={ROOT / 'cmake' / 'toolchain-cortex-m4.cmake'}",
                    "-DCMAKE_BUILD_TYPE=MinSizeRel", f"-DET_FW_MODELS={dirs}"],
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", str(BUILD), "-j2"], check=True, stdout=subprocess.DEVNULL)
    for name in MODELS:
        cases[name]["elf"] = BUILD / f"fw_{name}.elf"
    return cases


def _run(elf: Path) -> str:
    qemu = _need("qemu-system-arm")
    r = subprocess.run([qemu, "-M", "mps2-an386", "-nographic", "-semihosting-config",
                        "enable=on,target=native", "-kernel", str(elf)],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=QEMU_SECONDS)
    # qemu writes the semihosting console to its stderr
    assert r.returncode == 0, f"firmware exited {r.returncode}:\n{r.stdout}\n{r.stderr}"
    return r.stdout + r.stderr


def _outputs(text: str):
    outs = []
    for line in text.splitlines():
        m = re.match(r"et: output (\d+) (\d+)((?: [0-9a-f]{8})*)$", line)
        if m:
            words = np.array([int(w, 16) for w in m.group(3).split()], dtype=np.uint32)
            assert len(words) == int(m.group(2))
            outs.append(words.view(np.float32))
    return outs


@pytest.mark.parametrize("name", MODELS)
def test_firmware_matches_eager(firmware, name):
    case = firmware[name]
    text = _run(case["elf"])
    assert "et: ok" in text, text
    arena = re.search(r"et: arena (\d+) (\d+)", text)
    assert arena and int(arena.group(1)) <= int(arena.group(2)), text
    outs = _outputs(text)
    assert len(outs) == 1, text
    got = outs[0].reshape(case["eager"].shape)
    np.testing.assert_allclose(got, case["eager"], rtol=1e-4, atol=1e-5)
    # The portable kernels are exact: the same bits as on the host.
    np.testing.assert_array_equal(got.view(np.uint32), case["host"].view(np.uint32))


@pytest.mark.parametrize("name", MODELS)
def test_firmware_has_no_heap(firmware, name):
    nm = subprocess.run(["arm-none-eabi-nm", str(firmware[name]["elf"])], capture_output=True,
                        text=True, check=True).stdout
    syms = {line.split()[-1] for line in nm.splitlines() if line.strip()}
    heap = sorted(s for s in syms if s in {"malloc", "free", "calloc", "realloc", "_sbrk", "sbrk",
                                           "_malloc_r", "__malloc_lock"})
    assert not heap, f"the firmware links the heap: {heap}"
    # Only the selected kernels: their functions are in, another kernel is not.
    assert "et_op_convolution_out" in syms
    assert "et_op_sin_out" not in syms and "aten::sin.out" not in firmware[name]["ops"]


def test_selected_kernels_only(firmware):
    """The DS-CNN needs no max pooling; the digits CNN does."""
    assert "aten::max_pool2d_with_indices.out" in firmware["digits_cnn"]["ops"]
    assert "aten::max_pool2d_with_indices.out" not in firmware["kws_dscnn"]["ops"]
    nm = subprocess.run(["arm-none-eabi-nm", str(firmware["kws_dscnn"]["elf"])],
                        capture_output=True, text=True, check=True).stdout
    assert "et_op_max_pool2d_with_indices_out" not in nm
