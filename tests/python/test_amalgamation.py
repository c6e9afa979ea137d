"""`make amalgamation`: dist/edgetorch.c + dist/edgetorch.h build with one
`cc -c` and run a program.

The amalgamation here holds the core and the kernels of one small model (a
selective build); a user's main.c, compiled against edgetorch.h alone, runs
the model, and the numbers must be eager's.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import edgetorch
from edgetorch import selective

ROOT = Path(__file__).resolve().parents[2]

MAIN_C = r"""
#include "edgetorch.h"
#include <stdio.h>
#include <stdlib.h>

static _Alignas(16) unsigned char pte[1 << 16];
static _Alignas(16) unsigned char arena[1 << 16];
static _Alignas(16) unsigned char planned0[1 << 16];

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  FILE *f = fopen(argv[1], "rb");
  if (!f) return 2;
  size_t n = fread(pte, 1, sizeof pte, f);
  fclose(f);
  static const et_kernel_table *const tables[] = {&et_portable_kernels};
  static const et_registry reg = {tables, 1, NULL, 0};
  et_program p;
  et_diag d;
  et_method *m;
  if (et_program_load(&p, pte, n, ET_LOAD_DEFAULT)) {
    fprintf(stderr, "%s\n", et_program_message(&p));
    return 1;
  }
  void *bufs[1] = {planned0};
  size_t sizes[1] = {sizeof planned0};
  et_method_memory mem = {arena, sizeof arena, bufs, sizes, 1, NULL, 0, NULL};
  if (et_method_init(&p, "forward", &reg, &mem, &m, &d)) {
    fprintf(stderr, "%s\n", d.message);
    return 1;
  }
  float x[8];
  for (int i = 0; i < 8; i++) x[i] = (float)(i - 3) * 0.25f;
  int64_t shape[2] = {2, 4};
  if (et_method_set_input_tensor(m, 0, ET_FLOAT, 2, shape, x, sizeof x) ||
      et_method_execute(m)) {
    fprintf(stderr, "%s\n", et_method_message(m));
    return 1;
  }
  const et_tensor *t = et_method_output(m, 0)->u.t;
  const float *y = (const float *)t->data;
  for (size_t i = 0; i < et_tensor_nbytes(t) / sizeof(float); i++) printf("%.9g\n", y[i]);
  return 0;
}
"""


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(4, 3)

    def forward(self, x):
        return torch.sigmoid(self.fc(x)) - 0.5


def test_amalgamation_compiles_with_one_command_and_runs(tmp_path):
    cc = shutil.which("gcc") or shutil.which("cc")
    torch.manual_seed(0)
    model = Net().eval()
    x = ((torch.arange(8, dtype=torch.float32) - 3) * 0.25).reshape(2, 4)
    pte = tmp_path / "net.pte"
    edgetorch.export(model, (x,)).write_to_file(str(pte))
    sel = selective.selective_build([str(pte)], str(tmp_path / "sel"))
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, str(ROOT / "tools" / "amalgamate.py"), "-o", str(dist),
                    "--ops-def", str(sel.ops_def)], check=True)
    assert sorted(p.name for p in dist.iterdir()) == ["edgetorch.c", "edgetorch.h"]
    # one cc -c, nothing else: no -I, no -D
    subprocess.run([cc, "-std=c11", "-Wall", "-Wextra", "-Wpedantic", "-Werror", "-O1",
                    "-c", "edgetorch.c", "-o", "edgetorch.o"], cwd=dist, check=True)
    (dist / "main.c").write_text(MAIN_C)
    subprocess.run([cc, "-std=c11", "-D_POSIX_C_SOURCE=200809L", "-Wall", "-Werror",
                    "main.c", "edgetorch.o", "-lm", "-o", "run"], cwd=dist, check=True)
    r = subprocess.run([str(dist / "run"), str(pte)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    got = np.array([float(v) for v in r.stdout.split()], dtype=np.float32).reshape(2, 3)
    with torch.no_grad():
        want = model(x).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_core_amalgamation_has_no_os(tmp_path):
    """The core alone: no malloc, no stdio (as runtime/core)."""
    subprocess.run([sys.executable, str(ROOT / "tools" / "amalgamate.py"), "-o", str(tmp_path)],
                   check=True)
    text = (tmp_path / "edgetorch.c").read_text()
    for word in ("malloc(", "printf(", "fopen(", "abort("):
        assert word not in text, word
    cc = shutil.which("gcc") or shutil.which("cc")
    subprocess.run([cc, "-std=c11", "-Wall", "-Wextra", "-Wpedantic", "-Werror", "-c",
                    "edgetorch.c", "-o", "edgetorch.o"], cwd=tmp_path, check=True)
    nm = subprocess.run(["nm", "-u", str(tmp_path / "edgetorch.o")], capture_output=True,
                        text=True, check=True).stdout.split()
    assert "malloc" not in nm and "free" not in nm
