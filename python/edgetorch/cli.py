"""The ``edgetorch`` command: export, run, inspect.

    edgetorch export MODEL -o out.pte      MODEL: a built-in name (edgetorch.models)
                                           or path/to/file.py:attribute
    edgetorch run out.pte [--input x.npy]...
    edgetorch inspect out.pte [--memory-plot plan.png]
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect as _inspect
import os
import sys
import time
from pathlib import Path
from typing import Any, List, Optional, Sequence, Tuple


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------
# loading a model


_DTYPES = {"float32": "float32", "f32": "float32", "float": "float32", "float16": "float16",
           "f16": "float16", "bfloat16": "bfloat16", "int64": "int64", "long": "int64",
           "int32": "int32", "int": "int32", "int8": "int8", "uint8": "uint8", "bool": "bool"}


def parse_example_shape(spec: str) -> Any:
    """``1x3x32x32`` or ``int64:1x16`` -> a tensor of ones (random for floats)."""
    import torch

    dtype = "float32"
    if ":" in spec:
        dtype, spec = spec.split(":", 1)
        dtype = _DTYPES.get(dtype, dtype)
    shape = [int(s) for s in spec.replace(",", "x").split("x") if s]
    dt = getattr(torch, dtype)
    g = torch.Generator().manual_seed(0)
    if dt.is_floating_point:
        return torch.randn(*shape, generator=g).to(dt)
    if dt == torch.bool:
        return torch.ones(*shape, dtype=dt)
    return torch.zeros(*shape, dtype=dt)


def load_model(spec: str, example_shapes: Sequence[str] = ()) -> Tuple[Any, Tuple[Any, ...], str]:
    """Resolve MODEL into (module, example_args, display name)."""
    import torch

    from . import models

    shapes = tuple(parse_example_shape(s) for s in example_shapes)
    if ":" not in spec or (spec in models.MODELS):
        if spec not in models.MODELS:
            raise SystemExit(f"error: unknown model {spec!r}; built-in models: "
                             f"{', '.join(models.names())}; or give path/to/file.py:attribute")
        model, args = models.get(spec)
        return model, (shapes or args), spec
    path, _, attr = spec.rpartition(":")
    p = Path(path)
    if not p.is_file():
        raise SystemExit(f"error: {path} is not a file")
    modname = f"_edgetorch_user_{p.stem}"
    mspec = importlib.util.spec_from_file_location(modname, p)
    mod = importlib.util.module_from_spec(mspec)
    sys.modules[modname] = mod
    sys.path.insert(0, str(p.resolve().parent))
    try:
        mspec.loader.exec_module(mod)
    finally:
        sys.path.pop(0)
    if not hasattr(mod, attr):
        raise SystemExit(f"error: {path} has no attribute {attr!r}")
    obj = getattr(mod, attr)
    args: Optional[Tuple[Any, ...]] = None
    if isinstance(obj, torch.nn.Module):
        model = obj
    elif _inspect.isclass(obj) and issubclass(obj, torch.nn.Module):
        model = obj()
    elif callable(obj):
        res = obj()
        if isinstance(res, torch.nn.Module):
            model = res
        elif isinstance(res, tuple) and len(res) == 2 and isinstance(res[0], torch.nn.Module):
            model, args = res
            if not isinstance(args, tuple):
                args = (args,)
        else:
            raise SystemExit(f"error: {attr}() must return an nn.Module or (model, example_args)")
    else:
        raise SystemExit(f"error: {attr} is not an nn.Module, a class or a function")
    if shapes:
        args = shapes
    if args is None:
        for holder in (model, mod):
            for name in ("example_args", "example_inputs", "EXAMPLE_ARGS", "EXAMPLE_INPUTS"):
                v = getattr(holder, name, None)
                if v is not None:
                    args = v() if callable(v) else v
                    break
            if args is not None:
                break
    if args is None:
        raise SystemExit("error: no example inputs: pass --example-shape (e.g. 1x3x32x32, "
                         "int64:1x16) or define example_args in the file or on the model")
    if not isinstance(args, tuple):
        args = tuple(args) if isinstance(args, list) else (args,)
    return model, args, attr


# ---------------------------------------------------------------------------
# commands


def cmd_export(ns: argparse.Namespace) -> int:
    from . import export as et_export
    from .export import ExportConfig, ExportError

    t0 = time.monotonic()
    _say(f"loading {ns.model} ...")
    model, args, name = load_model(ns.model, ns.example_shape or ())
    out = Path(ns.output or f"{Path(name).stem}.pte")
    cfg = ExportConfig(memory_planning=ns.memory_planning,
                       external_constants=ns.external_constants,
                       plan_inputs=not ns.no_plan_inputs, plan_outputs=not ns.no_plan_outputs)
    if ns.target == "upstream":
        from .export import oplib
        cfg.operators = oplib.upstream_portable()
    _say(f"exporting {name} with example inputs "
         f"{[tuple(a.shape) if hasattr(a, 'shape') else a for a in args]} ...")
    try:
        prog = et_export(model, args, config=cfg, progress=_say)
    except ExportError as e:
        _say(f"export failed: {e}")
        _say(f"no file written ({out})")
        return 1
    prog.write_to_file(out)
    _say(f"wrote {out} ({len(prog.buffer)} bytes; planned memory {prog.planned_bytes} bytes; "
         f"constants {prog.constant_bytes} bytes) in {time.monotonic() - t0:.1f}s")
    if ns.external_constants:
        for p in prog.write_tensor_data_to_file(out.parent):
            _say(f"wrote {p}")
    if ns.report:
        print(prog.plan_report())
    return 0


def _input_arrays(meta: Any, paths: Sequence[str]) -> List[Any]:
    import numpy as np

    if paths:
        return [np.load(p, allow_pickle=False) for p in paths]
    arrays = []
    for info in meta.inputs:
        if info.tag == "Tensor":
            dt = info.dtype if info.dtype is not None else np.float32
            arrays.append(np.ones(info.sizes, dtype=dt))
        else:
            arrays.append(info.value)
    return arrays


def cmd_run(ns: argparse.Namespace) -> int:
    import numpy as np

    from . import runtime

    prog = runtime.load_program(ns.program)
    method = prog.load_method(ns.method)
    inputs = _input_arrays(method.metadata, ns.input or [])
    if not ns.input:
        _say("no --input given: using ones for every tensor input")
    t0 = time.perf_counter()
    for _ in range(max(1, ns.repeat)):
        outs = method.execute(inputs)
    dt = (time.perf_counter() - t0) / max(1, ns.repeat)
    for i, o in enumerate(outs):
        if isinstance(o, np.ndarray):
            flat = o.reshape(-1)
            head = np.array2string(flat[:8], precision=5, separator=", ")
            print(f"output {i}: {o.dtype}{list(o.shape)} {head}{' ...' if flat.size > 8 else ''}")
            if ns.save:
                Path(ns.save).mkdir(parents=True, exist_ok=True)
                np.save(Path(ns.save) / f"output_{i}.npy", o)
        else:
            print(f"output {i}: {o!r}")
    _say(f"{ns.method}: {dt * 1e3:.3f} ms per run")
    return 0


def cmd_inspect(ns: argparse.Namespace) -> int:
    import json

    from .pte import read_pte
    from .pte.inspect import format_summary, plot_memory, summarize

    data = Path(ns.program).read_bytes()
    pte = read_pte(data)
    s = summarize(pte)
    if ns.json:
        print(json.dumps(s, indent=2))
    else:
        print(format_summary(s))
    if ns.memory_plot:
        boxes = plot_memory(pte, ns.memory_plot, ns.method)
        _say(f"wrote {ns.memory_plot} ({len(boxes)} planned tensors)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="edgetorch",
                                description="Export PyTorch models to .pte and run them.")
    sub = p.add_subparsers(dest="command", required=True)

    e = sub.add_parser("export", help="export a model to a .pte file")
    e.add_argument("model", help="built-in model name, or path/to/file.py:attribute "
                                 "(an nn.Module, a class, or a function returning "
                                 "(model, example_args))")
    e.add_argument("-o", "--output", help="output .pte path")
    e.add_argument("--example-shape", action="append",
                   help="example input shape, e.g. 1x3x32x32 or int64:1x16 (repeatable)")
    e.add_argument("--memory-planning", default="edgetorch",
                   choices=["edgetorch", "greedy", "naive"])
    e.add_argument("--external-constants", action="store_true",
                   help="write constants to a .ptd beside the .pte")
    e.add_argument("--no-plan-inputs", action="store_true")
    e.add_argument("--no-plan-outputs", action="store_true")
    e.add_argument("--target", default="edgetorch", choices=["edgetorch", "upstream"],
                   help="kernel library to check operators against")
    e.add_argument("--report", action="store_true", help="print the memory plan")
    e.set_defaults(fn=cmd_export)

    r = sub.add_parser("run", help="run a .pte with the edgetorch C runtime")
    r.add_argument("program")
    r.add_argument("--input", action="append", help=".npy file per input (in order)")
    r.add_argument("--method", default="forward")
    r.add_argument("--repeat", type=int, default=1)
    r.add_argument("--save", help="directory to save outputs as .npy")
    r.set_defaults(fn=cmd_run)

    i = sub.add_parser("inspect", help="describe a .pte")
    i.add_argument("program")
    i.add_argument("--memory-plot", help="write a PNG of the memory plan")
    i.add_argument("--method", help="only this method in the plot")
    i.add_argument("--json", action="store_true")
    i.set_defaults(fn=cmd_inspect)

    from .devtools.cli import add_commands as add_devtools_commands

    add_devtools_commands(sub)  # profile, debug, verify-bundle
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    import warnings

    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    ns = build_parser().parse_args(argv)
    try:
        return ns.fn(ns) or 0
    except BrokenPipeError:  # pragma: no cover
        return 0
    except FileNotFoundError as e:
        _say(f"error: {e}")
        return 2
    except Exception as e:  # edgetorch.runtime errors and friends
        if type(e).__name__ in ("EdgetorchError", "FlatbufferError"):
            _say(f"error: {e}")
            return 1
        raise


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
