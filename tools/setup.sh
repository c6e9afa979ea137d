#!/usr/bin/env bash
# Installs what building and testing edgetorch needs on a fresh Debian machine:
# compilers and libraries from apt, Python packages into .venv. Idempotent and
# quick when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
for pkg in build-essential cmake ninja-build clang llvm libcmocka-dev libclang-rt-14-dev; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PY" -m venv .venv
fi
VPY=.venv/bin/python
stamp=.venv/.edgetorch-deps
want="$(cat pyproject.toml tools/setup.sh | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: installing Python packages into .venv"
  $VPY -m pip install -q --upgrade pip
  # torch first and pinned, so nothing later can pull another build of it.
  $VPY -m pip install -q torch==2.13.0
  # torchao (PT2E quantization) pinned to the release executorch 1.5.1 pulls.
  $VPY -m pip install -q "executorch==1.5.1" "torch==2.13.0" "torchao==0.18.0" numpy ml_dtypes \
    pytest pytest-xdist \
    scikit-learn "transformers" matplotlib scikit-build-core flatbuffers \
    onnxruntime onnx onnxscript tokenizers sentencepiece "gguf==0.19.0"
  echo "$want" > "$stamp"
fi
