# edgetorch: the commands a user runs. Each installs what it needs first.
#   make test   every test: C (gcc, gcc without SIMD, clang with ASan+UBSan), Python, robustness,
#               and the cross-built suites below (make test-cross runs only those)
#   make demo   train, export and run the digits CNN on the C runtime
#   make size   stripped size of the core runtime (-Os, x86-64; Cortex-M4 thumb-2)
#   make test-32bit / test-aarch64  the C tests cross-built, run under qemu-user
#   make test-mcu  the digits CNN and a keyword-spotting DS-CNN as Cortex-M4
#               firmware (no heap) under qemu-system-arm, against eager
#   make amalgamation  dist/edgetorch.c + dist/edgetorch.h (one cc -c)
#   make fuzz   libFuzzer on program load and method init, on .ptd, .npy and .bpte files,
#               and on tokenizer files (tokenizer.json, tokenizer.model)
#   make conformance  every kernel against PyTorch's OpInfo samples -> docs/conformance.md,
#                     each sample's outcome checked against tests/conformance/baseline.json
#   make bench  edgetorch side by side with upstream, eager and ONNX Runtime
#   make bench-llm  edgetorch-llm against llama.cpp (BENCH_LLM_LARGE=1 adds the 1B model)
SHELL := /bin/bash
PY := .venv/bin/python
JOBS ?= 2
CMAKE_GEN := $(shell command -v ninja >/dev/null 2>&1 && echo "-G Ninja")

.PHONY: all setup build build-clang build-novec build-asan python test test-c test-python \
        demo size fuzz conformance conformance-baseline bench bench-llm clean test-32bit test-aarch64 test-mcu test-cross \
        amalgamation

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

# The suites that compare reduced precision with PyTorch eager. They run a
# second time with eager held to its AVX2 paths (oneDNN and ATen), since no
# test may depend on which CPU path eager takes (tests/python/tolerance.py);
# exports are cached by the first run, so the second costs little. (On a CPU
# without AVX-512 both runs take the same paths; with AVX512-BF16, oneDNN's
# bfloat16 convolution rounds differently in each.)
EAGER_SUITES := tests/python/test_kernels_elementwise_vs_torch.py \
  tests/python/test_kernels_index_vs_torch.py tests/python/test_kernels_nn_vs_torch.py \
  tests/python/test_conformance_subset.py tests/python/test_export_passes.py \
  tests/python/test_runtime_binding.py::test_float16 tests/python/test_runtime_binding.py::test_bfloat16
EAGER_AVX2 := ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2

# Two workers, one test file each at a time (files own their caches); the
# shared upstream corpus is built first so no two workers build it. -rs lists
# every skipped test with its reason.
test-python: build build-asan python
	@$(PY) tests/python/upstream_corpus.py >/dev/null 2>&1
	@ET_BUILD_DIR=$(CURDIR)/build ET_ASAN_BUILD_DIR=$(CURDIR)/build-asan \
	  $(PY) -m pytest -q -rs -n $(JOBS) --dist loadfile -p no:cacheprovider tests/python
	@echo "eager-comparison suites again, eager on its AVX2 paths ($(EAGER_AVX2)):"
	@$(EAGER_AVX2) ET_BUILD_DIR=$(CURDIR)/build \
	  $(PY) -m pytest -q -rs -n $(JOBS) --dist loadfile -p no:cacheprovider $(EAGER_SUITES)

# Cross targets: the C tests (and the corpus tests) built with Debian's cross
# compilers and run under qemu-user. 32-bit is armhf (Debian's gcc-multilib,
# needed for -m32, conflicts with its cross compilers). Packages come from
# tools/setup_cross.sh. ctest's closing line is the summary.
CORPUS = export ET_CORPUS_DIR=$$($(PY) tests/python/upstream_corpus.py 2>/dev/null | tail -n 1)
define cross_test
	@bash tools/setup_cross.sh $(2)
	@cmake -S . -B build-$(2) $(CMAKE_GEN) -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-$(1).cmake \
	  -DCMAKE_BUILD_TYPE=Release -DCMOCKA_LIB=/usr/lib/$(1)/libcmocka.so.0 >/dev/null
	@cmake --build build-$(2) -j$(JOBS)
	@$(CORPUS) && ctest --test-dir build-$(2) --output-on-failure -j$(JOBS)
endef

test-32bit: setup
	$(call cross_test,arm-linux-gnueabihf,armhf)

test-aarch64: setup
	$(call cross_test,aarch64-linux-gnu,aarch64)

# Cortex-M4 firmware (arm-none-eabi-gcc, picolibc, no malloc) under
# qemu-system-arm's mps2-an386 board, outputs compared with eager.
test-mcu: setup python
	@bash tools/setup_cross.sh mcu
	@$(PY) -m pytest -q -p no:cacheprovider targets/cortex-m/test_firmware.py

# AMALGAMATION_OPS=ops.def (the full kernels/portable/ops.def or a selective
# build's) adds the kernel utilities and those kernels with their table.
amalgamation:
	@python3 tools/amalgamate.py -o dist $(if $(AMALGAMATION_OPS),--ops-def $(AMALGAMATION_OPS))

# make test includes the cross-built suites (armhf and aarch64 under qemu-user,
# the Cortex-M4 firmware under qemu-system-arm); test-cross runs only those.
test: test-c test-python test-cross

test-cross: test-32bit test-aarch64 test-mcu

demo: build python
	@$(PY) demo/digits_demo.py

size: setup python
	@bash tools/size_report.sh
	@bash tools/setup_cross.sh mcu
	@$(PY) tools/size_report_mcu.py --markdown docs/size-cortex-m.md

fuzz: setup
	@cmake -S . -B build-fuzz $(CMAKE_GEN) -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
	  -DET_SANITIZE=ON -DET_BUILD_FUZZ=ON -DET_BUILD_TESTS=OFF >/dev/null
	@cmake --build build-fuzz -j$(JOBS) --target fuzz_program fuzz_ptd fuzz_npy fuzz_bundled fuzz_xnnpack \
	  fuzz_tokenizer_json fuzz_tokenizer_model
	@mkdir -p build-fuzz/corpus && cp -n tests/fuzz/corpus/* build-fuzz/corpus/ 2>/dev/null || true
	@build-fuzz/bin/fuzz_program -max_total_time=$${FUZZ_SECONDS:-120} -max_len=65536 build-fuzz/corpus
	@mkdir -p build-fuzz/corpus_ptd && cp -n tests/fuzz/corpus_ptd/* build-fuzz/corpus_ptd/ 2>/dev/null || true
	@build-fuzz/bin/fuzz_ptd -max_total_time=$${FUZZ_PTD_SECONDS:-30} -max_len=4096 build-fuzz/corpus_ptd
	@mkdir -p build-fuzz/corpus_npy && cp -n tests/fuzz/corpus_npy/* build-fuzz/corpus_npy/ 2>/dev/null || true
	@build-fuzz/bin/fuzz_npy -max_total_time=$${FUZZ_NPY_SECONDS:-30} -max_len=4096 build-fuzz/corpus_npy
	@mkdir -p build-fuzz/corpus_bundled && cp -n tests/fuzz/corpus_bundled/* build-fuzz/corpus_bundled/ 2>/dev/null || true
	@build-fuzz/bin/fuzz_bundled -max_total_time=$${FUZZ_BPTE_SECONDS:-30} -max_len=8192 build-fuzz/corpus_bundled
	@mkdir -p build-fuzz/corpus_xnnpack && cp -n tests/fuzz/corpus_xnnpack/* build-fuzz/corpus_xnnpack/ 2>/dev/null || true
	@build-fuzz/bin/fuzz_xnnpack -max_total_time=$${FUZZ_XNNPACK_SECONDS:-60} -max_len=16384 build-fuzz/corpus_xnnpack
	@mkdir -p build-fuzz/corpus_tokenizer_json && cp -n tests/fuzz/corpus_tokenizer_json/* build-fuzz/corpus_tokenizer_json/ 2>/dev/null || true
	@build-fuzz/bin/fuzz_tokenizer_json -max_total_time=$${FUZZ_TOKENIZER_SECONDS:-60} -max_len=65536 \
	  -dict=tests/fuzz/tokenizer_json.dict build-fuzz/corpus_tokenizer_json
	@mkdir -p build-fuzz/corpus_tokenizer_model && cp -n tests/fuzz/corpus_tokenizer_model/* build-fuzz/corpus_tokenizer_model/ 2>/dev/null || true
	@build-fuzz/bin/fuzz_tokenizer_model -max_total_time=$${FUZZ_TOKENIZER_SECONDS:-60} -max_len=16384 build-fuzz/corpus_tokenizer_model

# Side by side with upstream ExecuTorch (portable and XNNPACK), PyTorch eager
# and ONNX Runtime; writes bench/results/<date>.json and docs/benchmarks.md.
# BENCH_ARGS=--quick for a two-minute run.
# PyTorch's OpInfo samples, one-operator programs from our exporter on our
# runtime, against eager (about 10 minutes cold on 2 cores; cached after).
# Every sample's outcome must be the one tests/conformance/baseline.json
# records; `make conformance-baseline` records this run's outcomes instead
# (commit the baseline with the change that moved them).
# CONFORMANCE_ARGS="--ops add,mul" narrows it (a narrowed run leaves docs/ alone).
conformance: build python
	@$(PY) tests/conformance/run.py --check-baseline $(CONFORMANCE_ARGS)

conformance-baseline: build python
	@$(PY) tests/conformance/run.py --update-baseline $(CONFORMANCE_ARGS)

bench: build python
	@$(PY) bench/run.py $(BENCH_ARGS)

# edgetorch-llm against llama.cpp (llama-cpp-python, built from source once
# and cached in bench/.cache/llm-wheels) on the same random-weight Llama:
# stories110M's shape by default, BENCH_LLM_LARGE=1 adds a 1B Llama 3.2
# shape; writes bench/results/llm-<date>.{json,md} and a docs/benchmarks.md
# section. BENCH_LLM_ARGS="--rounds 5" etc.
bench-llm: build python
	@bash bench/llm/install_deps.sh
	@$(PY) bench/llm/run.py $(BENCH_LLM_ARGS)

clean:
	rm -rf build build-clang build-novec build-asan build-fuzz build-size build-armhf \
	  build-aarch64 build-mcu dist
