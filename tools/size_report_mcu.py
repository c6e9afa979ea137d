#!/usr/bin/env python3
"""`make size`, Cortex-M4 part: flash and RAM of edgetorch on a microcontroller.

Builds targets/cortex-m (cmake/toolchain-cortex-m4.cmake: thumb-2, hard
float, -Os, picolibc, --gc-sections) and prints, from arm-none-eabi-size:

- core alone: tools/size_test.c on the core (load with full verification,
  metadata, init, execute; no kernels), with the C library it pulls in;
- core + the digits CNN's kernels (a selective build), no model;
- the digits CNN firmware (targets/cortex-m/main.c): flash (code, constants
  and the .pte) and RAM (the static arena and planned buffers, stack not
  counted), next to the model's own size.

flash = text + data (initial values live in flash); RAM = data + bss.
With --markdown FILE the table is also written there (docs/size.md).
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = Path(os.environ.get("ET_MCU_BUILD_DIR", ROOT / "build-mcu"))


def sizes(elf: Path):
    out = subprocess.run(["arm-none-eabi-size", "-B", str(elf)], capture_output=True, text=True,
                         check=True).stdout.splitlines()[1].split()
    text, data, bss = (int(v) for v in out[:3])
    return text, data, bss


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--markdown", help="also write the table to this file")
    ns = p.parse_args(argv)
    sys.path.insert(0, str(ROOT / "targets" / "cortex-m"))
    import numpy as np  # noqa: F401  (model_header needs it)
    import edgetorch
    from edgetorch import models
    from model_header import write_header

    model, (x,) = models.get("digits_cnn")
    pte = edgetorch.export(model, (x,)).buffer
    gen = BUILD / "models" / "digits_cnn"
    info = write_header(pte, x.numpy(), gen, scratch=32768)  # as make test-mcu
    gen_flag = ["-G", "Ninja"] if shutil.which("ninja") else []
    subprocess.run(["cmake", "-S", str(ROOT / "targets" / "cortex-m"), "-B", str(BUILD), *gen_flag,
                    f"-DCMAKE_TOOLCHAIN_FILE={ROOT / 'cmake' / 'toolchain-cortex-m4.cmake'}",
                    "-DCMAKE_BUILD_TYPE=MinSizeRel", f"-DET_FW_MODELS={gen}"],
                   check=True, stdout=subprocess.DEVNULL)
    targets = ["size_test_core.elf", "size_test_digits_cnn.elf", "fw_digits_cnn.elf"]
    subprocess.run(["cmake", "--build", str(BUILD), "-j2", "--target",
                    *[t[:-4] for t in targets]], check=True, stdout=subprocess.DEVNULL)
    rows = []
    labels = {"size_test_core.elf": "core alone (size_test, full verification, no kernels)",
              "size_test_digits_cnn.elf": "core + the digits CNN's kernels (selective build)",
              "fw_digits_cnn.elf": "digits CNN firmware (core, kernels, .pte, static memory)"}
    for t in targets:
        text, data, bss = sizes(BUILD / t)
        rows.append((labels[t], text + data, data + bss, text, data, bss))
    gcc = subprocess.run(["arm-none-eabi-gcc", "--version"], capture_output=True,
                         text=True).stdout.splitlines()[0]
    lines = [f"Cortex-M4F (thumb-2, -Os, hard float, picolibc, --gc-sections), {gcc}", "",
             "| image | flash (B) | RAM (B) | text | data | bss |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        lines.append(f"| {r[0]} | {r[1]:,} | {r[2]:,} | {r[3]:,} | {r[4]:,} | {r[5]:,} |")
    planned = sum(info["planned"])
    lines += ["", f"digits CNN model: .pte {info['pte_bytes']:,} B (in flash, used in place), "
                  f"planned buffers {planned:,} B and method arena {info['arena_bytes']:,} B "
                  "(sized on the host, 64-bit; static arrays in the firmware's bss), "
                  "kernel scratch 32,768 B"]
    text = "\n".join(lines)
    print(text)
    if ns.markdown:
        Path(ns.markdown).write_text(
            "# Size on a Cortex-M4\n\nMeasured by `make size` (tools/size_report_mcu.py); "
            "flash = text + data, RAM = data + bss (stack not counted).\n\n" + text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
