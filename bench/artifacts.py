"""Exported artifacts for each model, cached under ``bench/.cache``.

For every model the benchmark needs, from the same eval-mode module and the
same inputs:

    eager.pt     the pickled nn.Module (what the eager runtime loads)
    inputs/      input_K.npy
    ref.npz      eager outputs (the correctness oracle)
    et.pte       edgetorch's exporter
    up.pte       upstream ``to_edge(ep).to_executorch()``
    xnn.pte      upstream ``to_edge_transform_and_lower(ep, [XnnpackPartitioner()])``
    model.onnx   ``torch.onnx.export`` (TorchScript exporter, dynamo as fallback)

A failed export is cached too, as its error message. Cache keys hold the
versions of everything that shapes a file (torch, executorch, transformers,
onnx, the model definitions, and for ``et`` a hash of the exporter's sources),
so a changed exporter re-exports and nothing stale is ever timed. Export is
deterministic, so caching changes no measurement; ``--no-cache`` re-exports.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np

REPO = Path(__file__).resolve().parent.parent
CACHE = REPO / "bench" / ".cache"

KINDS = ("et", "etx", "up", "xnn", "onnx")
FILE_NAMES = {"et": "et.pte", "etx": "etx.pte", "up": "up.pte", "xnn": "xnn.pte",
              "onnx": "model.onnx"}


def _hash_files(paths: List[Path]) -> str:
    h = hashlib.sha1()
    for p in sorted(paths):
        h.update(str(p.relative_to(REPO)).encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def _version(mod: str) -> str:
    try:
        from importlib.metadata import version
        return version(mod)
    except Exception:
        return "absent"


def exporter_fingerprints() -> Dict[str, str]:
    """What each kind of artifact depends on, besides the model itself."""
    et_src = [p for d in ("python/edgetorch/export", "python/edgetorch/pte")
              for p in (REPO / d).glob("*.py")]
    ops_def = REPO / "kernels" / "portable" / "ops.def"
    if ops_def.exists():
        et_src.append(ops_def)
    torch_v = _version("torch")
    return {
        "et": f"torch={torch_v};src={_hash_files(et_src)[:16]}",
        "etx": f"torch={torch_v};src={_hash_files(et_src)[:16]}",
        "up": f"torch={torch_v};executorch={_version('executorch')}",
        "xnn": f"torch={torch_v};executorch={_version('executorch')}",
        "onnx": f"torch={torch_v};onnx={_version('onnx')};onnxscript={_version('onnxscript')}",
    }


def short_reason(exc: BaseException, limit: int = 110) -> str:
    """One line saying why an export failed."""
    text = str(exc)
    ops = re.findall(r"^\s*(aten::[\w.]+)\s*->", text, flags=re.M)
    if ops:
        uniq = sorted(set(ops))
        return "unsupported op" + ("s" if len(uniq) > 1 else "") + ": " + ", ".join(uniq)
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    first = lines[0] if lines else ""
    msg = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    return msg if len(msg) <= limit else msg[: limit - 3] + "..."


@dataclass
class Artifact:
    kind: str
    path: Optional[Path]              # None when the export failed
    error: Optional[str] = None       # short reason
    detail: Optional[str] = None      # full message (JSON only)
    export_s: Optional[float] = None  # None when it came from the cache
    info: Dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.path is not None

    @property
    def size(self) -> Optional[int]:
        if self.path is None:
            return None
        extra = self.path.with_name(self.path.name + ".data")
        return self.path.stat().st_size + (extra.stat().st_size if extra.exists() else 0)


@dataclass
class ModelArtifacts:
    name: str
    dir: Path
    eager_path: Path
    input_paths: List[Path]
    inputs: List[np.ndarray]
    ref: List[np.ndarray]
    eager_modules: List[str]          # modules to import before unpickling eager.pt
    arts: Dict[str, Artifact]
    build_s: Optional[float] = None


# ---------------------------------------------------------------------------
# exporters: module + inputs -> bytes (or a file for ONNX)


def _quiet() -> None:
    warnings.filterwarnings("ignore")
    import logging
    for name in ("torch.onnx", "onnxscript", "executorch", "torch._export", "root"):
        logging.getLogger(name).setLevel(logging.ERROR)


def export_et(model: Any, inputs: Tuple[Any, ...]) -> bytes:
    # Not `edgetorch.export(...)`: once the submodule edgetorch.export is
    # imported, that attribute of the package is the module, not the function.
    from edgetorch.export import export
    return bytes(export(model, inputs).buffer)


def export_etx(model: Any, inputs: Tuple[Any, ...]) -> bytes:
    """edgetorch's own lowering: its XnnpackPartitioner and serializer."""
    import torch
    from edgetorch.export import XnnpackPartitioner, to_edge_transform_and_lower
    ep = torch.export.export(model, inputs)
    return bytes(to_edge_transform_and_lower(ep, partitioner=[XnnpackPartitioner()])
                 .to_executorch().buffer)


def export_up(model: Any, inputs: Tuple[Any, ...]) -> bytes:
    import torch
    from executorch.exir import to_edge
    ep = torch.export.export(model, inputs)
    return bytes(to_edge(ep).to_executorch().buffer)


def export_xnn(model: Any, inputs: Tuple[Any, ...]) -> bytes:
    import torch
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from executorch.exir import to_edge_transform_and_lower
    ep = torch.export.export(model, inputs)
    return bytes(to_edge_transform_and_lower(ep, partitioner=[XnnpackPartitioner()])
                 .to_executorch().buffer)


def _fd_quiet(fn: Callable[[], Any]) -> Any:
    """Run fn with the process's stdout and stderr (fds 1 and 2) sent to a
    temporary file: the TorchScript ONNX exporter prints whole graphs from C++
    when it fails, which Python-level redirection does not catch."""
    import sys
    import tempfile
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            return fn()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)


def export_onnx(model: Any, inputs: Tuple[Any, ...], path: Path) -> Dict[str, Any]:
    """TorchScript-based exporter first (fast, mature), torch.export-based
    (dynamo) exporter when it fails. Returns which one produced the file."""
    import torch
    names = [f"input_{i}" for i in range(len(inputs))]
    errors = []
    for dynamo in (False, True):
        try:
            if dynamo:
                _fd_quiet(lambda: torch.onnx.export(model, inputs, str(path), dynamo=True,
                                                    input_names=names, external_data=False))
            else:
                _fd_quiet(lambda: torch.onnx.export(model, inputs, str(path), dynamo=False,
                                                    input_names=names, opset_version=17))
            return {"onnx_exporter": "dynamo" if dynamo else "torchscript",
                    "onnx_fallback_reason": errors[0] if errors else None}
        except Exception as e:  # try the other exporter
            errors.append(short_reason(e))
    raise RuntimeError("; ".join(f"{k}: {e}" for k, e in zip(("torchscript", "dynamo"), errors)))


EXPORTERS: Dict[str, Callable[..., Any]] = {"et": export_et, "etx": export_etx, "up": export_up,
                                            "xnn": export_xnn}


# ---------------------------------------------------------------------------
# quantized specs (spec.quant): every kind at the same quantization


def upstream_quantize(model: Any, inputs: Tuple[Any, ...], config: str,
                      calibration: List[Tuple[Any, ...]]) -> Any:
    """Upstream's XNNPACKQuantizer (per-channel symmetric weights) through
    torchao prepare_pt2e/convert_pt2e: the eager reference and the graph of
    the up/xnn files."""
    import copy
    import torch
    from executorch.backends.xnnpack.quantizer.xnnpack_quantizer import (
        XNNPACKQuantizer, get_symmetric_quantization_config)
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e
    dynamic = {"int8_static": False, "int8_dynamic": True}[config]
    q = XNNPACKQuantizer().set_global(
        get_symmetric_quantization_config(is_per_channel=True, is_dynamic=dynamic))
    pm = prepare_pt2e(torch.export.export(copy.deepcopy(model), inputs).module(), q)
    with torch.no_grad():
        for xs in calibration:
            pm(*xs)
    return convert_pt2e(pm)


def export_quantized(kind: str, model: Any, inputs: Tuple[Any, ...], out: Path, *,
                     config: str, calibration: List[Tuple[Any, ...]],
                     upstream_q: Callable[[], Any]) -> Dict[str, Any]:
    """et/etx: edgetorch.quantize + edgetorch's export (etx: lowered with
    edgetorch.XnnpackPartitioner); up/xnn: upstream's quantized graph without
    delegate / lowered with upstream's XnnpackPartitioner; onnx: the float
    ONNX file quantized by onnxruntime.quantization.quantize_static."""
    import copy
    import torch
    if kind == "onnx":
        return export_onnx_quantized(copy.deepcopy(model), inputs, calibration, out, config)
    if kind in ("et", "etx"):
        from edgetorch.export import XnnpackPartitioner, export
        from edgetorch.quantize import quantize
        gm = quantize(copy.deepcopy(model), inputs, config, calibration=calibration)
        kw = {"partitioner": [XnnpackPartitioner()]} if kind == "etx" else {}
        data = bytes(export(gm, inputs, **kw).buffer)
    else:
        from executorch.exir import to_edge, to_edge_transform_and_lower
        ep = torch.export.export(upstream_q(), inputs)
        if kind == "up":
            import executorch.kernels.quantized  # noqa: F401  (out variants of the q/dq ops)
            data = bytes(to_edge(ep).to_executorch().buffer)
        else:
            from executorch.backends.xnnpack.partition.xnnpack_partitioner import (
                XnnpackPartitioner)
            data = bytes(to_edge_transform_and_lower(ep, partitioner=[XnnpackPartitioner()])
                         .to_executorch().buffer)
    tmp = out.with_suffix(".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, out)
    return {"quant": config}


def export_onnx_quantized(model: Any, inputs: Tuple[Any, ...],
                          calibration: List[Tuple[Any, ...]], out: Path,
                          config: str = "int8_static") -> Dict[str, Any]:
    """ONNX Runtime's own static quantization of the float ONNX file: QDQ,
    int8 activations and per-channel int8 weights, MinMax calibration over the
    same calibration inputs."""
    from onnxruntime.quantization import (CalibrationDataReader, QuantFormat, QuantType,
                                          quantize_dynamic, quantize_static)
    fp = out.with_name(out.stem + ".float.onnx")
    info = export_onnx(model, inputs, fp)
    if config == "int8_dynamic":
        try:
            _fd_quiet(lambda: quantize_dynamic(str(fp), str(out), per_channel=True,
                                               weight_type=QuantType.QInt8))
        finally:
            for p in (fp, fp.with_name(fp.name + ".data")):
                if p.exists():
                    p.unlink()
        return dict(info, onnx_quantization="onnxruntime quantize_dynamic, per-channel int8 "
                    "weights")
    names = [f"input_{i}" for i in range(len(inputs))]

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.it = iter([{n: x.numpy() for n, x in zip(names, xs)} for xs in calibration])

        def get_next(self):
            return next(self.it, None)

    try:
        _fd_quiet(lambda: quantize_static(
            str(fp), str(out), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
            activation_type=QuantType.QInt8, weight_type=QuantType.QInt8))
    finally:
        for p in (fp, fp.with_name(fp.name + ".data")):
            if p.exists():
                p.unlink()
    return dict(info, onnx_quantization="onnxruntime quantize_static QDQ, per-channel, "
                "int8 activations (MinMax), int8 weights")


def export_kind(kind: str, model: Any, inputs: Tuple[Any, ...], out: Path,
                **quant: Any) -> Dict[str, Any]:
    """Write one artifact; raise on failure (quant: see export_quantized)."""
    import copy
    if quant.get("config"):
        return export_quantized(kind, model, inputs, out, **quant)
    m = copy.deepcopy(model)
    if kind == "onnx":
        return export_onnx(m, inputs, out)
    data = EXPORTERS[kind](m, inputs)
    tmp = out.with_suffix(".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, out)
    return {}


# ---------------------------------------------------------------------------


def _key(*parts: str) -> str:
    return hashlib.sha1("|".join(parts).encode()).hexdigest()[:12]


def _model_dir(spec: Any, quick: bool) -> Path:
    base = _key(spec.name, str(quick), spec.description, json.dumps(spec.params, sort_keys=True),
                _version("torch"), _version("transformers"), spec.fingerprint())
    return CACHE / f"{'q-' if quick else ''}{spec.name}-{base}"


def eager_name(spec: Any) -> str:
    """eager.pt (pickled module); quantized specs: eager.pt2, the quantized
    torch model as a saved ExportedProgram (a converted PT2E graph does not
    pickle)."""
    return "eager.pt2" if getattr(spec, "quant", None) else "eager.pt"


def spec_fingerprints(spec: Any) -> Dict[str, str]:
    """exporter_fingerprints(), plus for quantized specs what quantizes: the
    edgetorch.quantize sources (et, etx), torchao (all kinds but onnx),
    onnxruntime's quantizer (onnx)."""
    fps = exporter_fingerprints()
    if not getattr(spec, "quant", None):
        return fps
    q_src = _hash_files(list((REPO / "python/edgetorch/quantize").glob("*.py")))[:16]
    q = f";quant={spec.quant};torchao={_version('torchao')}"
    fps["et"] += q + f";qsrc={q_src}"
    fps["etx"] += q + f";qsrc={q_src}"
    fps["up"] += q
    fps["xnn"] += q
    fps["onnx"] += f";quant={spec.quant};onnxruntime={_version('onnxruntime')}"
    return fps


def is_cached(spec: Any, *, quick: bool, kinds=KINDS) -> bool:
    """True when prepare() would export nothing (every artifact is cached)."""
    d = _model_dir(spec, quick)
    meta_path = d / "meta.json"
    if not meta_path.exists() or not (d / eager_name(spec)).exists():
        return False
    meta = json.loads(meta_path.read_text())
    fps = spec_fingerprints(spec)
    for kind in kinds:
        rec = meta.get("artifacts", {}).get(kind)
        if not rec or rec.get("fingerprint") != fps[kind] or not (
                rec.get("error") or (d / FILE_NAMES[kind]).exists()):
            return False
    return True


def prepare(spec: Any, *, quick: bool, use_cache: bool, kinds=KINDS,
            log: Callable[[str], None] = print) -> ModelArtifacts:
    """Build (or reuse) the eager module, inputs, reference and exports."""
    import torch
    _quiet()
    d = _model_dir(spec, quick)
    d.mkdir(parents=True, exist_ok=True)
    eager_path = d / eager_name(spec)
    ref_path = d / "ref.npz"
    meta_path = d / "meta.json"
    meta = json.loads(meta_path.read_text()) if (use_cache and meta_path.exists()) else {}
    fps = spec_fingerprints(spec)

    model = None
    inputs_t: Optional[Tuple[torch.Tensor, ...]] = None
    build_s = None
    config = getattr(spec, "quant", None)
    calibration: List[Tuple[Any, ...]] = []
    upstream_q: List[Any] = []

    def get_upstream_q():
        # The quantized torch model (upstream XNNPACKQuantizer + convert_pt2e):
        # the eager reference and the graph of the up/xnn files.
        if not upstream_q:
            m, xs = get_model()
            upstream_q.append(upstream_quantize(m, xs, config, calibration))
        return upstream_q[0]

    def get_model():
        nonlocal model, inputs_t, build_s
        if model is None:
            t0 = time.perf_counter()
            model, inputs_t = spec.build()
            if config:
                calibration[:] = spec.calibration_inputs()
            build_s = time.perf_counter() - t0
        return model, inputs_t

    n_in = meta.get("n_inputs")
    input_paths = [d / f"input_{i}.npy" for i in range(n_in or 0)]
    have_base = (use_cache and eager_path.exists() and ref_path.exists() and n_in is not None
                 and all(p.exists() for p in input_paths))
    if not have_base:
        log(f"  building {spec.name} (eager module, inputs, reference outputs)")
        m, xs = get_model()
        if config:
            m = get_upstream_q()
            torch.export.save(torch.export.export(m, xs), str(eager_path))
        else:
            torch.save(m, eager_path)
        input_paths = []
        for i, x in enumerate(xs):
            p = d / f"input_{i}.npy"
            np.save(p, x.numpy())
            input_paths.append(p)
        with torch.inference_mode():
            out = m(*xs)
        outs = list(out) if isinstance(out, (tuple, list)) else [out]
        np.savez(ref_path, *[o.detach().numpy() for o in outs])
        mods = {type(mod).__module__ for mod in m.modules()}
        if config:  # registers the quantized_decomposed ops the pickled graph calls
            mods.add("torchao.quantization.pt2e.quantize_pt2e")
        meta = {"n_inputs": len(xs), "eager_modules": sorted(mods), "artifacts": {}}
        meta_path.write_text(json.dumps(meta, indent=1))
    inputs = [np.load(p) for p in input_paths]
    with np.load(ref_path) as z:
        ref = [z[f"arr_{i}"] for i in range(len(z.files))]

    arts: Dict[str, Artifact] = {}
    for kind in kinds:
        rec = meta["artifacts"].get(kind)
        path = d / FILE_NAMES[kind]
        if use_cache and rec and rec.get("fingerprint") == fps[kind] and (
                rec.get("error") or path.exists()):
            arts[kind] = Artifact(kind, None if rec.get("error") else path, rec.get("error"),
                                  rec.get("detail"), None, rec.get("info", {}))
            continue
        m, xs = get_model()
        log(f"  exporting {spec.name}: {kind}")
        t0 = time.perf_counter()
        try:
            quant = ({"config": config, "calibration": calibration,
                      "upstream_q": get_upstream_q} if config else {})
            info = export_kind(kind, m, xs, path, **quant)
            art = Artifact(kind, path, export_s=time.perf_counter() - t0, info=info)
        except Exception as e:
            if path.exists():
                path.unlink()
            art = Artifact(kind, None, short_reason(e),
                           "".join(traceback.format_exception_only(type(e), e))[-4000:],
                           time.perf_counter() - t0)
            log(f"    {kind} export failed: {art.error}")
        arts[kind] = art
        meta["artifacts"][kind] = {"fingerprint": fps[kind], "error": art.error,
                                   "detail": art.detail, "info": art.info,
                                   "export_s": art.export_s}
        meta_path.write_text(json.dumps(meta, indent=1))
    for kind, art in arts.items():
        if art.export_s is None:
            art.info = dict(art.info, export_s_when_cached=meta["artifacts"][kind].get("export_s"))
    return ModelArtifacts(spec.name, d, eager_path, input_paths, inputs, ref,
                          meta.get("eager_modules", []), arts, build_s)


def cached_program(name: str, kind: str, build: Callable[[], Tuple[Any, Tuple[Any, ...]]],
                   key_parts: List[str], *, use_cache: bool) -> Artifact:
    """One micro-benchmark program (no eager/ONNX side), cached like the models."""
    _quiet()
    fps = exporter_fingerprints()
    d = CACHE / "micro"
    d.mkdir(parents=True, exist_ok=True)
    stem = f"{name}-{kind}-{_key(fps[kind], *key_parts)}"
    path, err = d / f"{stem}.pte", d / f"{stem}.error.json"
    if use_cache and path.exists():
        return Artifact(kind, path)
    if use_cache and err.exists():
        rec = json.loads(err.read_text())
        return Artifact(kind, None, rec["error"], rec["detail"])
    model, inputs = build()
    t0 = time.perf_counter()
    try:
        export_kind(kind, model, inputs, path)
        return Artifact(kind, path, export_s=time.perf_counter() - t0)
    except Exception as e:
        rec = {"error": short_reason(e),
               "detail": "".join(traceback.format_exception_only(type(e), e))[-4000:]}
        err.write_text(json.dumps(rec))
        return Artifact(kind, None, rec["error"], rec["detail"], time.perf_counter() - t0)
