"""The ``edgetorch`` command: export, run, inspect.

    edgetorch export MODEL -o out.pte      MODEL: a built-in name (edgetorch.models)
                                           or path/to/file.py:attribute
    edgetorch run out.pte [--input x.npy]...
    edgetorch inspect out.pte [--memory-plot plan.png]
    edgetorch selective-build a.pte [b.pte...] -o DIR   (see edgetorch.selective)
    edgetorch llm export --hf-dir DIR --max-seq-len N [-o model.pte]   (docs/llm.md)
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
        parts = None
        if ns.xnnpack:
            from .export import XnnpackPartitioner
            parts = [XnnpackPartitioner()]
        prog = et_export(model, args, config=cfg, progress=_say, partitioner=parts)
    except ExportError as e:
        _say(f"export failed: {e}")
        _say(f"no file written ({out})")
        return 1
    prog.write_to_file(out)
    _say(f"wrote {out} ({prog.nbytes} bytes; planned memory {prog.planned_bytes} bytes; "
         f"constants {prog.constant_bytes} bytes) in {time.monotonic() - t0:.1f}s")
    if ns.external_constants:
        for p in prog.write_tensor_data_to_file(out.parent):
            _say(f"wrote {p}")
    if ns.report:
        print(prog.plan_report())
    return 0


def cmd_run(ns: argparse.Namespace) -> int:
    import numpy as np

    from . import _cli_support as cs
    from . import runtime

    cs.check_program_file(ns.program)
    for d in ns.data or []:
        cs.check_data_file(d)
    prog = runtime.load_program(ns.program, data_files=ns.data or None)
    if ns.method is None:  # as edgetorch-run: forward if present, else the first
        names = prog.method_names
        ns.method = "forward" if "forward" in names or not names else names[0]
    method = prog.load_method(ns.method)
    inputs = cs.input_values(method, ns.input or [], ns.max_generated_bytes)
    if not ns.input:
        _say("no --input given: generating inputs as edgetorch-run does "
             "(see edgetorch-run --help)")
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
    from .pte.quantization import format_quantization, quantization_summary

    from . import _cli_support as cs

    cs.check_program_file(ns.program)
    data = Path(ns.program).read_bytes()
    pte = read_pte(data)
    s = summarize(pte)
    quant = quantization_summary(pte)
    if any(m["calls"] or m["xnnpack"] for m in quant):
        s["quantization"] = quant
    support = cs.report_support(s["methods"])
    if ns.json:
        print(json.dumps(s, indent=2))
    else:
        print(format_summary(s))
        if "quantization" in s:
            print()
            print(format_quantization(quant))
        if support:
            print()
            print("\n".join(support))
    if ns.memory_plot:
        boxes = plot_memory(pte, ns.memory_plot, ns.method)
        _say(f"wrote {ns.memory_plot} ({len(boxes)} planned tensors)")
    return 0


def cmd_llm_export(ns: argparse.Namespace) -> int:
    import torch

    from ._cli_support import UserError
    from .export import ExportError
    from .llm import export_hf_dir

    t0 = time.monotonic()
    out = Path(ns.output or "model.pte")
    dtype = {"float32": torch.float32, "fp32": torch.float32}.get(ns.dtype)
    if dtype is None:
        raise UserError(f"--dtype {ns.dtype}: only float32 is supported", code=2)
    try:
        prog = export_hf_dir(ns.hf_dir, ns.max_seq_len, max_context_len=ns.max_context_len,
                             dtype=dtype, quantize=ns.quantize, group_size=ns.group_size,
                             quantize_embedding=ns.quantize_embedding,
                             full_logits=ns.full_logits, progress=_say)
    except ExportError as e:
        _say(f"export failed: {e}")
        _say(f"no file written ({out})")
        return 1
    prog.write_to_file(out)
    _say(f"wrote {out} ({prog.nbytes} bytes; planned memory {prog.planned_bytes} "
         f"bytes) in {time.monotonic() - t0:.1f}s")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from . import __version__
    from ._cli_support import DEFAULT_MAX_GENERATED, parse_bytes

    p = argparse.ArgumentParser(prog="edgetorch",
                                description="Export PyTorch models to .pte and run them.")
    p.add_argument("--version", action="version", version=f"edgetorch {__version__}",
                   help="print the edgetorch version and exit")
    sub = p.add_subparsers(dest="command", required=True)

    e = sub.add_parser("export", help="export a model to a .pte file")
    e.add_argument("model", help="built-in model name, or path/to/file.py:attribute "
                                 "(an nn.Module, a class, or a function returning "
                                 "(model, example_args))")
    e.add_argument("-o", "--output", help="output .pte path")
    e.add_argument("--example-shape", action="append",
                   help="example input shape, e.g. 1x3x32x32 or int64:1x16 (repeatable)")
    e.add_argument("--memory-planning", default="edgetorch",
                   choices=["edgetorch", "greedy", "naive"],
                   help="how planned tensors are packed: edgetorch (lifetime-aware, "
                        "default), greedy (upstream's), naive (no reuse)")
    e.add_argument("--external-constants", action="store_true",
                   help="write constants to a .ptd beside the .pte")
    e.add_argument("--no-plan-inputs", action="store_true",
                   help="leave inputs out of planned memory (the caller's buffers are "
                        "used in place)")
    e.add_argument("--no-plan-outputs", action="store_true",
                   help="leave outputs out of planned memory")
    e.add_argument("--target", default="edgetorch", choices=["edgetorch", "upstream"],
                   help="kernel library to check operators against")
    e.add_argument("--report", action="store_true", help="print the memory plan")
    e.add_argument("--xnnpack", action="store_true",
                   help="delegate the float32 subgraphs XNNPACK runs to XnnpackBackend "
                        "(docs/delegation.md)")
    e.set_defaults(fn=cmd_export)

    r = sub.add_parser("run", help="run a .pte with the edgetorch C runtime")
    r.add_argument("program", help="the .pte file to run")
    r.add_argument("--input", action="append",
                   help=".npy file for the next tensor input, in order (all of them or "
                        "none; without any, inputs are generated as edgetorch-run does)")
    r.add_argument("--data", action="append",
                   help=".ptd file with tensors the program keeps outside itself "
                        "(repeatable)")
    r.add_argument("--method", help="method to run (default: 'forward' if the program has "
                                    "it, else its first method)")
    r.add_argument("--repeat", type=int, default=1,
                   help="run the method this many times and report the mean time")
    r.add_argument("--save", help="directory to save outputs as .npy")
    r.add_argument("--max-generated-bytes", type=parse_bytes, default=DEFAULT_MAX_GENERATED,
                   metavar="N",
                   help="refuse to generate an input larger than N bytes (suffixes K, M, "
                        "G; default 256M); give such an input with --input")
    r.set_defaults(fn=cmd_run)

    i = sub.add_parser("inspect", help="describe a .pte")
    i.add_argument("program", help="the .pte file to describe")
    i.add_argument("--memory-plot", help="write a PNG of the memory plan")
    i.add_argument("--method", help="only this method in the plot")
    i.add_argument("--json", action="store_true",
                   help="print the description as JSON")
    i.set_defaults(fn=cmd_inspect)

    from . import selective
    sb = sub.add_parser("selective-build", help="kernel table with only the operators of some .pte files")
    selective.add_arguments(sb)
    sb.set_defaults(fn=selective.run)

    llm = sub.add_parser("llm", help="language models: export with a KV cache (docs/llm.md)")
    llm_sub = llm.add_subparsers(dest="llm_command", required=True)
    le = llm_sub.add_parser("export", help="export a Hugging Face decoder (save_pretrained "
                                           "directory) with a KV cache")
    le.add_argument("--hf-dir", required=True,
                    help="directory written by transformers' save_pretrained "
                         "(config.json + *.safetensors)")
    le.add_argument("--max-seq-len", type=int, required=True,
                    help="longest chunk of tokens one forward call takes (prefill)")
    le.add_argument("--max-context-len", type=int,
                    help="KV cache length: most positions a generation uses "
                         "(default: --max-seq-len)")
    le.add_argument("-o", "--output", help="output .pte path (default model.pte)")
    le.add_argument("--dtype", default="float32", help="weights and activations (float32)")
    le.add_argument("--quantize", choices=["int8", "8da4w"],
                    help="linear weights: int8 (int8 per output channel, float activations: "
                         "quantized_decomposed::mixed_linear) or 8da4w (int4 in groups, int8 "
                         "dynamic activations, on XnnpackBackend); default float32")
    le.add_argument("--group-size", type=int,
                    help="8da4w group size (a multiple of 32; default 32)")
    le.add_argument("-E", "--quantize-embedding", metavar="MODE",
                    help="embedding tables: none (float32), int8 (8-bit, a scale per row), "
                         "4bit (4-bit in groups of --group-size) or BITS,GROUP as "
                         "export_llama's -E (8 or 4 bits, GROUP 0 = per row). Default: "
                         "int8 with --quantize int8, 4bit with --quantize 8da4w, none "
                         "without --quantize")
    le.add_argument("--full-logits", action="store_true",
                    help="return logits for every position, not only the last")
    le.set_defaults(fn=cmd_llm_export)

    from .devtools.cli import add_commands as add_devtools_commands

    add_devtools_commands(sub)  # profile, debug, verify-bundle
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    import warnings

    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    from ._cli_support import say_error

    ns = build_parser().parse_args(argv)
    try:
        return ns.fn(ns) or 0
    except BrokenPipeError:  # pragma: no cover
        return 0
    except KeyboardInterrupt:  # pragma: no cover
        return 130
    except Exception as e:  # noqa: BLE001 - one line per error, never a traceback
        return say_error(e)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
