"""Acceptance: programs exported by upstream ExecuTorch run on edgetorch.

Every corpus program (tests/python/upstream_corpus.py) runs through both the
command-line runner and the Python binding and must match PyTorch eager
within rtol 1e-5 / atol 1e-6. Each is also run on upstream's own runtime, as
a check of the corpus itself.
"""

from __future__ import annotations


import numpy as np
import pytest

import upstream_corpus as uc
from runtime_harness import Failure, cli_error, run_binding, run_cli
from upstream_corpus import corpus  # noqa: F401  (session fixture)

NAMES = uc.program_names()


def _demo(prog: uc.Program) -> bool:
    """Programs delegated to upstream's test-only BackendWithCompilerDemo:
    neither upstream's Python runtime nor edgetorch's hosted builds register
    that backend (edgetorch's C tests, mutation tool and fuzzer do, and check
    the numbers: tests/c/test_delegates.c), so the hosted interfaces must
    refuse them by naming the backend."""
    return "demo-backend" in prog.tags


def _assert_backend_refused(failure, what: str) -> None:
    assert isinstance(failure, Failure), f"{what}: ran without its backend"
    assert failure.status == "NotFound", f"{what}: {failure}"
    assert "BackendWithCompilerDemo" in failure.message and "not registered" in failure.message, failure


def _calls_by_method(prog: uc.Program):
    for method in prog.methods:
        calls = prog.calls_for(method)
        if calls:
            yield method, calls


def test_corpus_is_complete(corpus):  # noqa: F811
    """The corpus holds what the acceptance suite promises."""
    assert set(corpus) == set(NAMES)
    tags = {t for p in corpus.values() for t in p.tags}
    for needed in ("linear", "conv", "attention", "multi-method", "mutable-buffer", "dynamic", "control-flow",
                   "delegate"):
        assert needed in tags
    assert corpus["two_methods"].methods == ["forward", "other"]
    assert [np.load(c.inputs[0]).shape[0] for c in corpus["dynamic"].calls] == [1, 3, 8]
    st = corpus["stateful"]
    assert st.stateful and len(st.calls) == 3 and st.repeat_iterations == 3
    # The three expected outputs differ: the state really changes.
    e = [c.load_expected()[0] for c in st.calls]
    assert not np.allclose(e[0], e[1]) and not np.allclose(e[1], e[2])
    # cond: one input per branch.
    sums = [float(c.load_inputs()[0].sum()) for c in corpus["cond"].calls]
    assert min(sums) < 0 < max(sums)
    for p in corpus.values():
        assert p.pte.read_bytes()[4:8] == b"ET12"


@pytest.mark.parametrize("name", NAMES)
def test_upstream_runtime(corpus, name):  # noqa: F811
    """Upstream's runtime runs the corpus and agrees with eager (checks the
    corpus, not edgetorch)."""
    import torch
    from executorch.runtime import Runtime

    prog = corpus[name]
    program = Runtime.get().load_program(prog.pte)
    assert set(program.method_names) == set(prog.methods)
    if _demo(prog):
        with pytest.raises(RuntimeError, match="0x:?20"):
            program.load_method("forward")
        return
    for method, calls in _calls_by_method(prog):
        m = program.load_method(method)
        for call in calls:
            if not prog.stateful:
                m = program.load_method(method)
            outs = m.execute([torch.from_numpy(a) for a in call.load_inputs()])
            uc.assert_outputs_close([o.numpy() for o in outs], call.load_expected(), f"upstream {name} {call.dir.name}")


@pytest.mark.parametrize("name", NAMES)
def test_binding(corpus, name):  # noqa: F811
    """The Python binding: one loaded method per method name, calls in order
    (state carries over for stateful programs; a dynamic program resizes
    between calls)."""
    prog = corpus[name]
    for method, calls in _calls_by_method(prog):
        res = run_binding(prog.pte, method, [c.load_inputs() for c in calls])
        if _demo(prog):
            _assert_backend_refused(res, f"binding {name}")
            continue
        assert not isinstance(res, Failure), f"{name}.{method}: {res}"
        for call, outs in zip(calls, res):
            uc.assert_outputs_close(outs, call.load_expected(), f"binding {name}.{method} {call.dir.name}")


@pytest.mark.parametrize("name", NAMES)
def test_binding_from_bytes(corpus, name):  # noqa: F811
    """Loading from bytes instead of a path gives the same results."""
    prog = corpus[name]
    data = prog.pte.read_bytes()
    method, calls = next(_calls_by_method(prog))
    res = run_binding(data, method, [calls[0].load_inputs()])
    if _demo(prog):
        _assert_backend_refused(res, f"binding(bytes) {name}")
        return
    assert not isinstance(res, Failure), f"{name}.{method}: {res}"
    uc.assert_outputs_close(res[0], calls[0].load_expected(), f"binding(bytes) {name}.{method}")


@pytest.mark.parametrize("name", ["stateful", "stateful_init"])
def test_binding_state_is_per_method_instance(corpus, name):  # noqa: F811
    """Loading the method again starts from the initial state."""
    prog = corpus[name]
    first = prog.calls[0]
    for _ in range(2):
        res = run_binding(prog.pte, first.method, [first.load_inputs()])
        assert not isinstance(res, Failure), res
        uc.assert_outputs_close(res[0], first.load_expected(), f"{name} first call")


@pytest.mark.parametrize("name", NAMES)
def test_cli(corpus, name, tmp_path):  # noqa: F811
    """edgetorch-run: one process per call (stateless programs), or one
    process running the repeated call N times (stateful programs)."""
    prog = corpus[name]
    ran = 0
    if prog.stateful:
        assert prog.repeat is not None
        call = prog.repeat
        res = run_cli(prog.pte, call.method, call.inputs, tmp_path / "repeat", iterations=prog.repeat_iterations)
        assert res.returncode == 0, f"{name}: exit {res.returncode}\n{res.stderr}"
        uc.assert_outputs_close(res.outputs, call.load_expected(), f"cli {name} x{prog.repeat_iterations}")
        ran += 1
        # A single iteration gives the first call's result.
        first = prog.calls[0]
        res = run_cli(prog.pte, first.method, first.inputs, tmp_path / "once")
        assert res.returncode == 0, f"{name}: exit {res.returncode}\n{res.stderr}"
        uc.assert_outputs_close(res.outputs, first.load_expected(), f"cli {name} x1")
    else:
        for i, call in enumerate(prog.calls):
            res = run_cli(prog.pte, call.method, call.inputs, tmp_path / f"call{i}")
            if _demo(prog):
                assert res.returncode == 1, res.stderr
                _assert_backend_refused(cli_error(res), f"cli {name}")
                ran += 1
                continue
            assert res.returncode == 0, f"{name} {call.method} {call.dir.name}: exit {res.returncode}\n{res.stderr}"
            assert cli_error(res) is None
            uc.assert_outputs_close(res.outputs, call.load_expected(), f"cli {name}.{call.method} {call.dir.name}")
            ran += 1
    assert ran > 0


def test_cli_iterations_stateless(corpus, tmp_path):  # noqa: F811
    """--iterations on a stateless program leaves the answer unchanged."""
    prog = corpus["mlp"]
    call = prog.calls[0]
    res = run_cli(prog.pte, call.method, call.inputs, tmp_path, iterations=3)
    assert res.returncode == 0, res.stderr
    uc.assert_outputs_close(res.outputs, call.load_expected(), "cli mlp x3")


def test_assert_outputs_close_can_fail(corpus):  # noqa: F811
    """The comparison used above rejects a wrong answer."""
    e = corpus["mlp"].calls[0].load_expected()
    bad = [e[0] + np.float32(1e-3)]
    with pytest.raises(AssertionError):
        uc.assert_outputs_close(bad, e, "perturbed")
    with pytest.raises(AssertionError):
        uc.assert_outputs_close([e[0].astype(np.float64)], e, "dtype")
    with pytest.raises(AssertionError):
        uc.assert_outputs_close([], e, "count")
