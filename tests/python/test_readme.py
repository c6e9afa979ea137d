"""The README's Python examples run as written.

Every ```python block of README.md is executed, in the order it appears, in
one namespace and in an empty directory (the blocks build on each other: the
exporter's example writes the model.pte the runtime examples load). The
files they write and the values they print are then checked against what the
README says they are.
"""

from __future__ import annotations

import contextlib
import io
import pathlib
import re

import pytest
import torch

README = pathlib.Path(__file__).resolve().parents[2] / "README.md"


def python_blocks() -> list:
    return re.findall(r"^```python\n(.*?)^```", README.read_text(), flags=re.S | re.M)


def test_readme_has_the_exporter_examples() -> None:
    text = "\n".join(python_blocks())
    for needle in ("edgetorch.export(", "to_edge(", "compile_config=", "Runtime.get()",
                   "load_program("):
        assert needle in text, needle
    assert "edgetorch export " in README.read_text()
    assert "pip install ." in README.read_text()


def test_readme_python_examples_run(tmp_path: pathlib.Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    ns: dict = {"__name__": "__readme__"}
    out = io.StringIO()
    blocks = python_blocks()
    assert len(blocks) >= 4
    with contextlib.redirect_stdout(out):
        for k, block in enumerate(blocks):
            try:
                exec(compile(block, f"README.md python block {k}", "exec"), ns)
            except Exception as e:  # name the block in the failure
                raise AssertionError(f"README python block {k} failed: {e!r}\n{block}") from e
    assert (tmp_path / "model.pte").is_file() and (tmp_path / "model_dynamic.pte").is_file()
    # What the blocks computed agrees with eager PyTorch.
    x = ns["x"]
    outputs = ns["outputs"]
    assert isinstance(outputs, list) and isinstance(outputs[0], torch.Tensor)
    # The last runtime block ran the program the first block exported.
    from edgetorch.runtime import load_program

    ours = load_program(str(tmp_path / "model.pte")).load_method("forward").execute([x])[0]
    torch.testing.assert_close(outputs[0], torch.from_numpy(ours))
    dyn = load_program(str(tmp_path / "model_dynamic.pte")).load_method("forward")
    assert dyn.metadata.inputs[0].dynamism == "DYNAMIC_BOUND"
    assert dyn.metadata.inputs[0].sizes == (64, 4)
    printed = out.getvalue()
    assert "bytes of planned memory" in printed and "{'forward'}" in printed
