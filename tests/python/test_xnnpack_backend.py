"""The CPU backend (id "XnnpackBackend") runs upstream's XNNPACK-delegated
programs on edgetorch's own kernels.

The programs are exported by upstream's own flow with XnnpackPartitioner
(tests/python/xnnpack_corpus.py, cached under build/testdata); eager PyTorch
is the numerical oracle, at the float tolerance the backend is judged by
(rtol 1e-3, atol 1e-4: the backend may use FMA and other summation orders).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import runtime_harness as H
import xnnpack_corpus

RTOL, ATOL = 1e-3, 1e-4


@pytest.fixture(scope="module")
def corpus():
    return xnnpack_corpus.corpus_dir()


def _manifest(corpus):
    return json.loads((corpus / "manifest.json").read_text())


def _calls(d, n):
    for c in range(n):
        z = np.load(d / f"call{c}.npz")
        ins = [z[f"in_{k}"] for k in range(sum(1 for f in z.files if f.startswith("in_")))]
        outs = [z[f"out_{k}"] for k in range(sum(1 for f in z.files if f.startswith("out_")))]
        yield ins, outs


MODELS = ["mlp", "cnn", "block", "lstm", "several", "elementwise", "shapes",
          "dynamic_mlp", "dynamic_block", "wide", "edges"]


@pytest.mark.parametrize("name", MODELS)
def test_matches_eager(corpus, name):
    info = _manifest(corpus)[name]
    d = corpus / name
    rt = H.et_runtime()
    prog = rt.load_program(str(d / "model.pte"))
    meta = prog.metadata("forward")
    # The program really is delegated: every delegate is XNNPACK's.
    assert meta.delegates and set(meta.delegates) == {"XnnpackBackend"}
    if name == "several":
        assert len(meta.delegates) >= 2, meta.delegates
    m = prog.load_method("forward")
    # One loaded method runs every call in turn: with dynamic shapes the
    # calls differ in size and shapes propagate again on each.
    for ins, expected in _calls(d, info["calls"]):
        outs = m.execute(ins)
        assert len(outs) == len(expected)
        for k, (o, e) in enumerate(zip(outs, expected)):
            o = np.asarray(o)
            assert o.shape == e.shape, (name, k, o.shape, e.shape)
            np.testing.assert_allclose(o, e, rtol=RTOL, atol=ATOL,
                                       err_msg=f"{name} output {k}")


def test_dynamic_inputs_beyond_bounds_fail(corpus):
    """An input larger than the exported bound is refused with a message,
    never written past the memory planned for the bound."""
    rt = H.et_runtime()
    m = rt.load_program(str(corpus / "dynamic_mlp" / "model.pte")).load_method("forward")
    with pytest.raises(rt.EdgetorchError):
        m.execute([np.zeros((9, 37), np.float32)])
    # The method still works afterwards.
    x = np.ones((2, 37), np.float32)
    assert np.asarray(m.execute([x])[0]).shape == (2, 10)


def test_quantized_payload_runs(corpus):
    """The quantized delegate (static int8 linear) runs and agrees with
    upstream's runtime; test_xnnpack_quantized.py has the full set."""
    from quantized_corpus import assert_agree, upstream_isolated

    rt = H.et_runtime()
    buf = (corpus / "quantized.pte").read_bytes()
    x = np.random.default_rng(0).standard_normal((2, 16)).astype(np.float32)
    ours = [np.asarray(o) for o in rt.load_program(buf).load_method("forward").execute([x])]
    assert_agree(ours, upstream_isolated(buf, [x]), "quantized.pte")


def _save_inputs(ins, tmp_path):
    """The inputs as in_<k>.npy files for edgetorch-run; their paths."""
    paths = []
    for k, a in enumerate(ins):
        paths.append(tmp_path / f"in_{k}.npy")
        np.save(paths[-1], a)
    return paths


def test_cli_runs_delegated_program(corpus, tmp_path):
    d = corpus / "cnn"
    ins, expected = next(_calls(d, 1))
    paths = _save_inputs(ins, tmp_path)
    res = H.run_cli(d / "model.pte", "forward", paths, tmp_path / "out")
    assert res.returncode == 0, res.stderr
    np.testing.assert_allclose(res.outputs[0], expected[0], rtol=RTOL, atol=ATOL)


def test_info_counts_backend_memory(corpus):
    """Method metadata's arena figure includes the backend's memory (packed
    weights, intermediate tensors): it exceeds the weights' own bytes."""
    exe = H.build_dir() / "bin" / "edgetorch-run"
    if not exe.exists():
        pytest.fail(f"{exe} missing")
    rt = H.et_runtime()
    pte = corpus / "cnn" / "model.pte"
    meta = rt.load_program(str(pte)).metadata("forward")
    # Nearly all of the file is weights; they are repacked into the arena.
    assert meta.arena_bytes > 0.9 * pte.stat().st_size, meta.arena_bytes
    proc = subprocess.run([str(exe), str(pte), "--info"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "XnnpackBackend" in proc.stdout


PAYLOAD_COUNT = int(os.environ.get("ET_XNN_MUTATION_COUNT", "400"))


@pytest.mark.parametrize("name", ["cnn", "block", "dynamic_mlp"])
def test_damaged_payloads_never_crash(corpus, name):
    """Variants damaged inside the XNNPACK payload (header, graph, constant
    table) go through arena sizing, init and execute under ASan+UBSan
    (tests/tools/mutate.c --payload): refusals with a message, no crash, no
    overrun, no hang. ET_XNN_MUTATION_COUNT sets the variants per file (the
    acceptance run uses 10000)."""
    d = Path(os.environ.get("ET_ASAN_BUILD_DIR", H.REPO_ROOT / "build-asan"))
    exe = d / "bin" / "mutate"
    if not exe.exists():
        pytest.fail(f"{exe} does not exist: make build-asan")
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0:allocator_may_return_null=1")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    proc = subprocess.run([str(exe), "--payload", "--count", str(PAYLOAD_COUNT),
                           str(corpus / name / "model.pte")],
                          capture_output=True, text=True, timeout=1800, env=env)
    report = f"exit {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
    assert proc.returncode == 0, report
    assert "original executed ok" in proc.stdout, report
    m = re.search(r"^(\d+) passed, (\d+) failed$", proc.stdout, re.MULTILINE)
    assert m and int(m.group(2)) == 0 and int(m.group(1)) == PAYLOAD_COUNT + 1, report
    # The damage reached the backend: some variants were refused by it.
    assert "init failed" in proc.stdout, report


# ---- threads ----------------------------------------------------------------


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


@pytest.fixture
def threads_restored():
    rt = H.et_runtime()
    before = rt.get_num_threads()
    yield rt
    rt.set_num_threads(before)


@pytest.mark.parametrize("name", MODELS)
def test_threads_match_eager_and_each_other(corpus, name, threads_restored):
    """Every delegated program at 1 and at 2 threads: both match eager, and
    the two runs give the same bits (the backend splits only over outputs,
    never over a reduction). "wide" is sized so that its convolutions,
    depthwise, pooling, deconvolution, linear and element-wise nodes are
    really split at 2 threads."""
    rt = threads_restored
    info = _manifest(corpus)[name]
    d = corpus / name
    runs = {}
    for t in (1, 2):
        rt.set_num_threads(t)
        assert rt.get_num_threads() == t
        m = rt.load_program(str(d / "model.pte")).load_method("forward")
        runs[t] = []
        for ins, expected in _calls(d, info["calls"]):
            outs = [np.array(o) for o in m.execute(ins)]
            for k, (o, e) in enumerate(zip(outs, expected)):
                np.testing.assert_allclose(o, e, rtol=RTOL, atol=ATOL,
                                           err_msg=f"{name} output {k}, {t} thread(s)")
            runs[t].append(outs)
    for c, (one, two) in enumerate(zip(runs[1], runs[2])):
        for k, (a, b) in enumerate(zip(one, two)):
            assert _same_bits(a, b), f"{name} call {c} output {k}: 1 and 2 threads differ"


def test_thread_count_changes_between_executes(corpus, threads_restored):
    """One loaded method keeps working while the thread count changes under
    it (the pool is attached per execute), with the same bits."""
    rt = threads_restored
    d = corpus / "wide"
    ins, _ = next(_calls(d, 1))
    m = rt.load_program(str(d / "model.pte")).load_method("forward")
    rt.set_num_threads(2)
    ref = [np.array(o) for o in m.execute(ins)]
    for t in (1, 3, 2, 1):
        rt.set_num_threads(t)
        outs = [np.array(o) for o in m.execute(ins)]
        assert all(_same_bits(a, b) for a, b in zip(ref, outs)), t


def test_set_num_threads_rejects_bad_counts(threads_restored):
    rt = threads_restored
    for bad in (0, -1, 100000):
        with pytest.raises(ValueError):
            rt.set_num_threads(bad)
    with pytest.raises(TypeError):
        rt.set_num_threads("2")


def test_default_threads_follow_the_affinity_mask():
    """Without set_num_threads, the count is the CPUs the process may run
    on: a child restricted to one CPU gets 1; an unrestricted one gets its
    whole mask."""
    if not hasattr(os, "sched_setaffinity"):
        pytest.skip("no sched_setaffinity on this platform")
    code = "import edgetorch.runtime as r; print(r.get_num_threads())"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(H.REPO_ROOT / "python")] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    mask = sorted(os.sched_getaffinity(0))
    full = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=120)
    assert full.returncode == 0, full.stderr
    assert int(full.stdout.strip()) == len(mask)
    one = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, timeout=120,
                         preexec_fn=lambda: os.sched_setaffinity(0, {mask[0]}))
    assert one.returncode == 0, one.stderr
    assert int(one.stdout.strip()) == 1


def test_upstream_api_uses_the_thread_setting(corpus, threads_restored):
    """The upstream-compatible API (Runtime.get()) runs on the same pool:
    same bits at 1 and 2 threads, matching eager."""
    torch = pytest.importorskip("torch")
    rt = threads_restored
    from edgetorch.runtime import Runtime

    d = corpus / "wide"
    ins, expected = next(_calls(d, 1))
    outs = {}
    for t in (1, 2):
        rt.set_num_threads(t)
        prog = Runtime.get().load_program(d / "model.pte")
        res = prog.load_method("forward").execute([torch.from_numpy(x) for x in ins])
        outs[t] = [r.numpy().copy() for r in res]
    for k, (a, b, e) in enumerate(zip(outs[1], outs[2], expected)):
        np.testing.assert_allclose(a, e, rtol=RTOL, atol=ATOL)
        assert _same_bits(a, b), k


def test_cli_threads(corpus, tmp_path):
    """edgetorch-run --threads N: reports N, same bits for 1 and 2; the
    default is the affinity mask's CPU count; bad counts are usage errors."""
    d = corpus / "wide"
    ins, expected = next(_calls(d, 1))
    paths = _save_inputs(ins, tmp_path)
    res = {}
    for t in (1, 2):
        r = H.run_cli(d / "model.pte", "forward", paths, tmp_path / f"out{t}",
                      extra=["--threads", str(t)])
        assert r.returncode == 0, r.stderr
        assert f"{t} thread(s)" in r.stdout, r.stdout
        res[t] = r.outputs
    assert len(res[1]) == len(expected)
    for a, b, e in zip(res[1], res[2], expected):
        np.testing.assert_allclose(a, e, rtol=RTOL, atol=ATOL)
        assert _same_bits(a, b)
    r = H.run_cli(d / "model.pte", "forward", paths, tmp_path / "default")
    assert r.returncode == 0, r.stderr
    assert f"{len(os.sched_getaffinity(0))} thread(s)" in r.stdout, r.stdout
    for bad in ("0", "-2", "x", "100000"):
        r = H.run_cli(d / "model.pte", "forward", paths, tmp_path / "bad",
                      extra=["--threads", bad])
        assert r.returncode == 2, (bad, r.stdout, r.stderr)
        assert "--threads wants an integer" in r.stderr
    help_text = subprocess.run([str(H.cli_path()), "--help"], capture_output=True,
                               text=True, timeout=60).stdout
    assert "--threads N" in help_text
