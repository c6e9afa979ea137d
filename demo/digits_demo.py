"""edgetorch demo: train a small CNN on sklearn's 8x8 digits, export it to a
.pte, and run the whole test split on edgetorch's C runtime.

    python demo/digits_demo.py [--epochs 30] [--out build/digits.pte] [--upstream] [--no-int8]

Prints accuracy from the C runtime beside eager PyTorch, per-image latency of
both, and the program's planned memory. Then quantizes the model to int8
(edgetorch.quantize: PT2E, per-channel int8 weights, per-tensor activations
calibrated on training images), exports it with the quantized kernels, and
prints float against int8 on the C runtime: accuracy, file size, latency;
then lowers the int8 model to quantized XNNPACK payloads (with --upstream,
all three files also run on upstream's runtime).
Seeds are fixed; training takes a few seconds on two cores.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import edgetorch
from edgetorch import runtime
from edgetorch.models import DigitsCNN


def load_data():
    digits = load_digits()
    x = (digits.images.astype(np.float32) / 16.0)[:, None, :, :]  # N,1,8,8 in [0,1]
    y = digits.target.astype(np.int64)
    return train_test_split(x, y, test_size=0.25, random_state=0, stratify=y)


def train(model: torch.nn.Module, x: np.ndarray, y: np.ndarray, epochs: int) -> None:
    torch.manual_seed(0)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    g = torch.Generator().manual_seed(0)
    model.train()
    for epoch in range(epochs):
        perm = torch.randperm(len(xt), generator=g)
        total = 0.0
        for i in range(0, len(xt), 64):
            idx = perm[i:i + 64]
            opt.zero_grad()
            loss = F.cross_entropy(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
            total += float(loss) * len(idx)
        if epoch % 10 == 0 or epoch == epochs - 1:
            print(f"  epoch {epoch + 1:>3}/{epochs}: loss {total / len(xt):.4f}", flush=True)
    model.eval()


def evaluate(path: Path, x: np.ndarray) -> tuple:
    """(predictions, logits, seconds per image) of the .pte at `path` on the C
    runtime, one image a call."""
    method = runtime.load_program(str(path)).load_method("forward")
    method.execute([x[:1]])  # warm-up
    t0 = time.perf_counter()
    logits = [method.execute([x[i:i + 1]])[0] for i in range(len(x))]
    sec = (time.perf_counter() - t0) / len(x)
    return np.array([l.argmax() for l in logits]), logits, sec


_UPSTREAM_RUN = r"""
import json, sys, time
import numpy as np, torch
import executorch.kernels.quantized  # noqa: F401  (registers the quantized kernels)
from executorch.runtime import Runtime
x = np.load(sys.argv[2])
data = open(sys.argv[1], "rb").read()  # the program and its bytes must outlive the method
prog = Runtime.get().load_program(data)
m = prog.load_method("forward")
m.execute([torch.from_numpy(x[:1])])
t0 = time.perf_counter()
pred = [int(m.execute([torch.from_numpy(x[i:i + 1])])[0].argmax()) for i in range(len(x))]
print(json.dumps({"pred": pred, "sec": (time.perf_counter() - t0) / len(x)}))
"""


def evaluate_upstream(path: Path, x: np.ndarray) -> tuple:
    """(predictions, seconds per image) of the .pte on upstream ExecuTorch's
    runtime (its quantized kernels and XNNPACK), in a child process, as the
    tests run it (upstream's kernels abort the process on what they refuse)."""
    import json
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        xs = Path(d) / "x.npy"
        np.save(xs, x)
        proc = subprocess.run([sys.executable, "-c", _UPSTREAM_RUN, str(path), str(xs)],
                              capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"upstream's runtime failed on {path}: "
                           f"{proc.stderr.strip().splitlines()[-1:] or proc.returncode}")
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    return np.array(r["pred"]), float(r["sec"])


def quantize_int8(model: torch.nn.Module, x_tr: np.ndarray, example: tuple,
                  calibration_images: int = 128) -> torch.nn.Module:
    """The int8 model: edgetorch.quantize (static int8, upstream's XNNPACK
    recipe), calibrated on the first training images, one a call (the
    program's input shape)."""
    calib = [(torch.from_numpy(x_tr[i:i + 1]),) for i in range(calibration_images)]
    return edgetorch.quantize(model, example, "int8_static", calibration=calib)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--out", default="build/digits.pte")
    ap.add_argument("--no-int8", action="store_true", help="skip the int8 part")
    ap.add_argument("--upstream", action="store_true",
                    help="also run the .pte on upstream ExecuTorch's runtime (if installed)")
    ns = ap.parse_args()
    torch.set_num_threads(1)

    print("1. data: sklearn load_digits (8x8 grey images, 10 classes)")
    x_tr, x_te, y_tr, y_te = load_data()
    print(f"   {len(x_tr)} training and {len(x_te)} test images")

    print("2. training DigitsCNN (fixed seed)")
    torch.manual_seed(0)
    model = DigitsCNN()
    t0 = time.perf_counter()
    train(model, x_tr, y_tr, ns.epochs)
    print(f"   trained in {time.perf_counter() - t0:.1f} s")

    print("3. export with edgetorch.export")
    example = (torch.from_numpy(x_te[:1]),)
    prog = edgetorch.export(model, example)
    out = Path(ns.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    prog.write_to_file(out)
    plan = prog.memory_plan["forward"]
    print(f"   wrote {out}: {len(prog.buffer)} bytes, constants {prog.constant_bytes} bytes")
    print(f"   planned memory {plan.total_bytes} bytes "
          f"(upstream-style greedy plan: {plan.alternatives.get('greedy')} bytes, "
          f"no reuse: {plan.alternatives.get('naive')} bytes)")

    print("4. eager PyTorch on the test split (one image at a time)")
    with torch.no_grad():
        t0 = time.perf_counter()
        eager_logits = [model(torch.from_numpy(x_te[i:i + 1])).numpy() for i in range(len(x_te))]
        eager_s = (time.perf_counter() - t0) / len(x_te)
    eager_pred = np.array([l.argmax() for l in eager_logits])

    print("5. edgetorch C runtime on the test split")
    method = runtime.load_program(str(out)).load_method("forward")
    t0 = time.perf_counter()
    et_logits = [method.execute([x_te[i:i + 1]])[0] for i in range(len(x_te))]
    et_s = (time.perf_counter() - t0) / len(x_te)
    et_pred = np.array([l.argmax() for l in et_logits])
    max_diff = max(float(np.abs(a - b).max()) for a, b in zip(et_logits, eager_logits))

    print()
    print(f"   {'':<22}{'accuracy':>10}{'latency / image':>18}")
    print(f"   {'eager PyTorch':<22}{(eager_pred == y_te).mean():>10.4f}"
          f"{eager_s * 1e6:>15.1f} us")
    print(f"   {'edgetorch C runtime':<22}{(et_pred == y_te).mean():>10.4f}"
          f"{et_s * 1e6:>15.1f} us")
    if ns.upstream:
        try:
            up_pred, up_s = evaluate_upstream(out, x_te)
            print(f"   {'upstream ExecuTorch':<22}{(up_pred == y_te).mean():>10.4f}"
                  f"{up_s * 1e6:>15.1f} us")
        except (RuntimeError, ImportError) as e:
            print(f"   (upstream ExecuTorch: {e})")
    print()
    print(f"   predictions identical to eager: {bool((et_pred == eager_pred).all())}; "
          f"max |logit difference| {max_diff:.2e}")
    print(f"   planned memory: {plan.total_bytes} bytes in one arena; "
          f"{len(plan.tensors)} tensors share it")
    ok = (et_pred == eager_pred).mean() > 0.99
    if ns.no_int8:
        return 0 if ok else 1

    print()
    print("6. int8: edgetorch.quantize (PT2E static int8, per-channel weights), "
          "calibrated on 128 training images")
    t0 = time.perf_counter()
    qmodel = quantize_int8(model, x_tr, example)
    qout = out.with_name(out.stem + "_int8.pte")
    qprog = edgetorch.export(qmodel, example)
    qprog.write_to_file(qout)
    print(f"   quantized and exported in {time.perf_counter() - t0:.1f} s: wrote {qout}")
    q_pred, _, q_s = evaluate(qout, x_te)
    f_pred, _, f_s = evaluate(out, x_te)
    f_acc, q_acc = float((f_pred == y_te).mean()), float((q_pred == y_te).mean())
    print()
    print(f"   {'C runtime':<12}{'accuracy':>10}{'file bytes':>12}{'constants':>11}"
          f"{'latency / image':>18}")
    print(f"   {'float32':<12}{f_acc:>10.4f}{len(prog.buffer):>12}{prog.constant_bytes:>11}"
          f"{f_s * 1e6:>15.1f} us")
    print(f"   {'int8':<12}{q_acc:>10.4f}{len(qprog.buffer):>12}{qprog.constant_bytes:>11}"
          f"{q_s * 1e6:>15.1f} us")
    print(f"   accuracy change {100 * (q_acc - f_acc):+.2f} points; file "
          f"{len(qprog.buffer) / len(prog.buffer):.2f}x the float one; int8 predictions equal "
          f"float ones on {(q_pred == f_pred).mean() * 100:.1f}% of images")
    print("   (non-delegated: quantized_decomposed kernels around float conv/linear, "
          "as upstream's portable build runs it)")

    print()
    print("7. int8 through edgetorch.XnnpackPartitioner (quantized XNNPACK payloads: "
          "qint8 activations, qcint8 weights, qcint32 biases)")
    xout = out.with_name(out.stem + "_int8_xnnpack.pte")
    xprog = edgetorch.export(qmodel, example, partitioner=[edgetorch.XnnpackPartitioner()])
    xprog.write_to_file(xout)
    print(f"   wrote {xout}: {len(xprog.buffer)} bytes")
    rows = [("float32", out), ("int8", qout), ("int8 XNNPACK", xout)]
    try:
        x_pred, _, x_s = evaluate(xout, x_te)
        print(f"   edgetorch C runtime: accuracy {(x_pred == y_te).mean():.4f}, "
              f"{x_s * 1e6:.1f} us / image")
    except Exception as e:  # noqa: BLE001 - the CPU backend may not take quantized values yet
        print(f"   edgetorch C runtime: not yet ({str(e).splitlines()[0][:120]})")
    if ns.upstream:
        print(f"   {'upstream runtime':<16}{'accuracy':>10}{'latency / image':>18}")
        for label, path in rows:
            try:
                u_pred, u_s = evaluate_upstream(path, x_te)
                print(f"   {label:<16}{(u_pred == y_te).mean():>10.4f}{u_s * 1e6:>15.1f} us")
            except RuntimeError as e:
                print(f"   {label:<16}{str(e)[:100]}")
    return 0 if ok and abs(q_acc - f_acc) <= 0.01 else 1


if __name__ == "__main__":
    sys.exit(main())
