# edgetorch: the commands a user runs. Each installs what it needs first.
#   make test   every test: C (gcc, gcc without SIMD, clang with ASan+UBSan), Python, robustness
#   make demo   train, export and run the digits CNN on the C runtime
#   make size   stripped size of the core runtime (-Os, x86-64)
#   make fuzz   libFuzzer on program load and method init, and on .ptd files
#   make conformance  every kernel against PyTorch's OpInfo samples -> docs/conformance.md
#   make bench  edgetorch side by side with upstream, eager and ONNX Runtime
SHELL := /bin/bash
PY := .venv/bin/python
JOBS ?= 2
CMAKE_GEN := $(shell command -v ninja >/dev/null 2>&1 && echo "-G Ninja")

.PHONY: all setup build build-clang build-novec build-asan python test test-c test-python \
        demo size fuzz conformance bench clean

all: build

setup:
	@bash tools/setup.sh

# The Python binding compiled with warnings as errors too (pip builds it
# without -Werror, so that a user's newer compiler cannot fail an install).
BINDING := -DET_BUILD_PYTHON=ON -DPython_EXECUTABLE=$(CURDIR)/$(PY)

# Release build with gcc: the library, edgetorch-run and the C tests.
build: setup
	@cmake -S . -B build $(CMAKE_GEN) -DCMAKE_C_COMPILER=gcc -DCMAKE_BUILD_TYPE=Release $(BINDING) >/dev/null
	@cmake --build build -j$(JOBS)

# The same with clang, warnings as errors (the warning check for clang).
build-clang: setup
	@cmake -S . -B build-clang $(CMAKE_GEN) -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build build-clang -j$(JOBS)

# gcc Release as compiled for a target without SIMD registers (no SSE2 or
# NEON macros): the plain-C paths the vector kernels fall back to, which must
# give the same results bit for bit.
build-novec: setup
	@cmake -S . -B build-novec $(CMAKE_GEN) -DCMAKE_C_COMPILER=gcc -DCMAKE_BUILD_TYPE=Release \
	  -DCMAKE_C_FLAGS="-U__SSE2__ -U__ARM_NEON -U__aarch64__" >/dev/null
	@cmake --build build-novec -j$(JOBS)

# Debug build with AddressSanitizer and UndefinedBehaviorSanitizer.
build-asan: setup
	@cmake -S . -B build-asan $(CMAKE_GEN) -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DET_SANITIZE=ON $(BINDING) >/dev/null
	@cmake --build build-asan -j$(JOBS)

# The Python package (exporter + C binding), installed editable into .venv.
python: setup
	@$(PY) -m pip install -q --no-build-isolation --no-deps -e . 

# The C tests that run upstream-exported programs read them from the corpus
# (built once with upstream's exporter, cached under build/testdata).
# gcc (Release, and without SIMD vectors) and clang (ASan+UBSan) build with
# -Werror; `make build-clang` adds a clang Release build when wanted.
test-c: build build-novec build-asan
	@export ET_CORPUS_DIR=$$($(PY) tests/python/upstream_corpus.py 2>/dev/null | tail -n 1) && \
	  ctest --test-dir build --output-on-failure && \
	  ctest --test-dir build-novec --output-on-failure && \
	  ctest --test-dir build-asan --output-on-failure

# Two workers, one test file each at a time (files own their caches); the
# shared upstream corpus is built first so no two workers build it.
test-python: build build-asan python
	@$(PY) tests/python/upstream_corpus.py >/dev/null 2>&1
	@ET_BUILD_DIR=$(CURDIR)/build ET_ASAN_BUILD_DIR=$(CURDIR)/build-asan \
	  $(PY) -m pytest -q -n $(JOBS) --dist loadfile -p no:cacheprovider tests/python

test: test-c test-python

demo: build python
	@$(PY) demo/digits_demo.py

size: setup
	@bash tools/size_report.sh

fuzz: setup
	@cmake -S . -B build-fuzz $(CMAKE_GEN) -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
	  -DET_SANITIZE=ON -DET_BUILD_FUZZ=ON -DET_BUILD_TESTS=OFF >/dev/null
	@cmake --build build-fuzz -j$(JOBS) --target fuzz_program fuzz_ptd fuzz_xnnpack
	@mkdir -p build-fuzz/corpus && cp -n tests/fuzz/corpus/* build-fuzz/corpus/ 2>/dev/null || true
	@build-fuzz/bin/fuzz_program -max_total_time=$${FUZZ_SECONDS:-120} -max_len=65536 build-fuzz/corpus
	@mkdir -p build-fuzz/corpus_ptd && cp -n tests/fuzz/corpus_ptd/* build-fuzz/corpus_ptd/ 2>/dev/null || true
	@build-fuzz/bin/fuzz_ptd -max_total_time=$${FUZZ_PTD_SECONDS:-30} -max_len=4096 build-fuzz/corpus_ptd
	@mkdir -p build-fuzz/corpus_xnnpack && cp -n tests/fuzz/corpus_xnnpack/* build-fuzz/corpus_xnnpack/ 2>/dev/null || true
	@build-fuzz/bin/fuzz_xnnpack -max_total_time=$${FUZZ_XNNPACK_SECONDS:-60} -max_len=16384 build-fuzz/corpus_xnnpack

# Side by side with upstream ExecuTorch (portable and XNNPACK), PyTorch eager
# and ONNX Runtime; writes bench/results/<date>.json and docs/benchmarks.md.
# BENCH_ARGS=--quick for a two-minute run.
# PyTorch's OpInfo samples, one-operator programs from our exporter on our
# runtime, against eager (about 10 minutes cold on 2 cores; cached after).
# CONFORMANCE_ARGS="--ops add,mul" narrows it (a narrowed run leaves docs/ alone).
conformance: build python
	@$(PY) tests/conformance/run.py --min-pass-rate 97 $(CONFORMANCE_ARGS)

bench: build python
	@$(PY) bench/run.py $(BENCH_ARGS)

clean:
	rm -rf build build-clang build-novec build-asan build-fuzz build-size
