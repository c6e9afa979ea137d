#!/usr/bin/env bash
# bench-llm's own dependencies (not the tests'): the `gguf` package and
# llama-cpp-python, which builds llama.cpp from source. The wheel is built
# once into bench/.cache/llm-wheels/ and installed from there afterwards, so
# only the first `make bench-llm` on a machine pays for the build (~30 min on
# two busy cores, at most 2 compile jobs).
#
# Build: llama.cpp's defaults for a CPU-only x86-64 build: GGML_NATIVE
# (-march=native: AVX2, FMA, F16C here), OpenMP threads; no llava/mtmd, no
# tools, tests, examples or server.
set -euo pipefail
cd "$(dirname "$0")/../.."
VPY=${VPY:-.venv/bin/python}
LCP_VERSION=${LCP_VERSION:-0.3.36}
GGUF_VERSION=${GGUF_VERSION:-0.19.0}
WHEELS=bench/.cache/llm-wheels

if ! $VPY -c "import gguf" 2>/dev/null; then
  echo "bench-llm: installing gguf $GGUF_VERSION"
  $VPY -m pip install -q "gguf==$GGUF_VERSION"
fi
if ! $VPY -c "import llama_cpp" 2>/dev/null; then
  mkdir -p "$WHEELS"
  shopt -s nullglob
  whl=("$WHEELS"/llama_cpp_python-"$LCP_VERSION"-*.whl)
  if [ ${#whl[@]} -eq 0 ]; then
    echo "bench-llm: building llama-cpp-python $LCP_VERSION (llama.cpp from source, 2 jobs;" \
         "log in $WHEELS/build.log)"
    CMAKE_ARGS="-DGGML_NATIVE=ON -DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF \
-DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF" \
    CMAKE_BUILD_PARALLEL_LEVEL=2 \
      $VPY -m pip wheel --no-deps -w "$WHEELS" "llama-cpp-python==$LCP_VERSION" \
      >"$WHEELS/build.log" 2>&1 || { tail -30 "$WHEELS/build.log"; exit 1; }
    whl=("$WHEELS"/llama_cpp_python-"$LCP_VERSION"-*.whl)
  fi
  # its runtime requirements, without letting pip touch numpy's pin
  $VPY -m pip install -q diskcache jinja2 typing-extensions
  $VPY -m pip install -q --no-deps "${whl[0]}"
fi
